/*
 * gguf_write.c - see gguf_write.h.  The layout written is the one gguf.h
 * describes: header, kvs, tensor infos, padding to the alignment, then the
 * tensors, each starting at a multiple of the alignment.
 */
#include "gguf_write.h"

#include "internal.h"
#include "types.h"

#include <stdlib.h>
#include <string.h>

typedef struct wtensor {
    char *name;
    uint32_t type, n_dims;
    int64_t ne[AI__GGUF_MAX_DIMS];
    uint64_t offset;
    size_t nbytes;
} wtensor;

struct ai__gguf_writer {
    uint32_t alignment;
    ai__buf kvs;        /* encoded kvs, in order */
    uint64_t n_kv;
    char **keys;        /* the n_kv keys, to refuse duplicates */
    size_t cap_keys;
    int has_align_kv;   /* general.alignment was given as a kv */
    wtensor *t;
    size_t n_t, cap_t;
    uint64_t data_size; /* running offset of the next tensor */
    size_t cur;         /* tensor being written */
    size_t cur_written;
    int begun;
};

static void put_u32(ai__buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ai__buf_put(b, x, 4);
}

static void put_u64(ai__buf *b, uint64_t v) {
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
    ai__buf_put(b, x, 8);
}

static void put_str(ai__buf *b, const char *s, size_t n) {
    put_u64(b, n);
    ai__buf_put(b, s, n);
}

size_t ai__gguf_tensor_bytes(uint32_t type, uint32_t n_dims, const int64_t *ne) {
    if (n_dims < 1 || n_dims > AI__GGUF_MAX_DIMS) return 0;
    size_t row = ai__row_size(type, ne[0]), total = row;
    if (row == 0) return 0;
    for (uint32_t d = 1; d < n_dims; d++)
        if (ne[d] <= 0 || ai__mul_size(total, (size_t)ne[d], &total)) return 0;
    return total;
}

ai_status ai__gguf_writer_new(uint32_t alignment, ai__gguf_writer **out) {
    if (!out || alignment == 0 || (alignment & (alignment - 1))) return AI_E_INVAL;
    *out = calloc(1, sizeof **out);
    if (!*out) return AI_E_NOMEM;
    (*out)->alignment = alignment;
    return AI_OK;
}

void ai__gguf_writer_free(ai__gguf_writer *w) {
    if (!w) return;
    ai__buf_free(&w->kvs);
    for (uint64_t i = 0; i < w->n_kv; i++) free(w->keys[i]);
    free(w->keys);
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->t);
    free(w);
}

/* Starts a kv: refuses an empty or repeated key (readers such as the
 * peer's reject a file with a duplicate key) and remembers the key. */
static ai_status kv_head(ai__gguf_writer *w, const char *key, uint32_t type) {
    if (!w || !key || !*key || w->begun) return AI_E_INVAL;
    if (!strcmp(key, "general.alignment") && type != AI__GGUF_U32) return AI_E_INVAL;
    for (uint64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->keys[i], key)) return AI_E_INVAL;
    if (w->n_kv == w->cap_keys) {
        size_t cap = w->cap_keys ? w->cap_keys * 2 : 32;
        char **nk = realloc(w->keys, cap * sizeof *nk);
        if (!nk) return AI_E_NOMEM;
        w->keys = nk;
        w->cap_keys = cap;
    }
    if (!(w->keys[w->n_kv] = ai__strdup(key))) return AI_E_NOMEM;
    put_str(&w->kvs, key, strlen(key));
    put_u32(&w->kvs, type);
    w->n_kv++;
    if (!strcmp(key, "general.alignment")) w->has_align_kv = 1;
    return AI_OK;
}

/* general.alignment as a kv must be the u32 the writer pads to. */
static int bad_align_kv(const ai__gguf_writer *w, const char *key, uint32_t type, const void *v, size_t size) {
    if (!w || !key || strcmp(key, "general.alignment")) return 0;
    uint32_t a;
    if (type != AI__GGUF_U32 || size != 4) return 1;
    memcpy(&a, v, 4); /* little-endian hosts only, as everywhere here */
    return a != w->alignment;
}

ai_status ai__gguf_w_u32(ai__gguf_writer *w, const char *key, uint32_t v) {
    if (bad_align_kv(w, key, AI__GGUF_U32, &v, 4)) return AI_E_INVAL;
    ai_status st = kv_head(w, key, AI__GGUF_U32);
    if (st) return st;
    put_u32(&w->kvs, v);
    return w->kvs.oom ? AI_E_NOMEM : AI_OK;
}

ai_status ai__gguf_w_str(ai__gguf_writer *w, const char *key, const char *s) {
    if (!s) return AI_E_INVAL;
    ai_status st = kv_head(w, key, AI__GGUF_STRING);
    if (st) return st;
    put_str(&w->kvs, s, strlen(s));
    return w->kvs.oom ? AI_E_NOMEM : AI_OK;
}

ai_status ai__gguf_w_raw(ai__gguf_writer *w, const char *key, uint32_t type, uint32_t arr_type, uint64_t n,
                         const void *data, size_t size) {
    if (type > AI__GGUF_F64 || (size && !data)) return AI_E_INVAL;
    if (bad_align_kv(w, key, type, data, size)) return AI_E_INVAL;
    ai_status st = kv_head(w, key, type);
    if (st) return st;
    if (type == AI__GGUF_ARRAY) {
        put_u32(&w->kvs, arr_type);
        put_u64(&w->kvs, n);
    }
    ai__buf_put(&w->kvs, data, size);
    return w->kvs.oom ? AI_E_NOMEM : AI_OK;
}

/* Bytes of one encoded value of type t at p (already validated by the
 * parser, so only the structure is walked). */
static size_t value_size(uint32_t t, const uint8_t *p) {
    size_t s = ai__gguf_scalar_size(t);
    if (s) return s;
    uint64_t n;
    if (t == AI__GGUF_STRING) {
        memcpy(&n, p, 8);
        return 8 + (size_t)n;
    }
    /* array: u32 element type, u64 count, elements */
    uint32_t et;
    memcpy(&et, p, 4);
    memcpy(&n, p + 4, 8);
    size_t off = 12;
    for (uint64_t i = 0; i < n; i++) off += value_size(et, p + off);
    return off;
}

ai_status ai__gguf_w_copy_kv(ai__gguf_writer *w, const ai__gguf_kv *kv) {
    if (!kv) return AI_E_INVAL;
    size_t size = 0;
    if (kv->type == AI__GGUF_ARRAY) {
        size_t es = ai__gguf_scalar_size(kv->arr_type);
        if (es) size = es * (size_t)kv->n;
        else
            for (uint64_t i = 0; i < kv->n; i++) size += value_size(kv->arr_type, kv->data + size);
    } else {
        size = value_size(kv->type, kv->data);
    }
    return ai__gguf_w_raw(w, kv->key, kv->type, kv->arr_type, kv->n, kv->data, size);
}

ai_status ai__gguf_w_tensor(ai__gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                            const int64_t *ne) {
    /* the peer keeps names in 64-byte buffers with the NUL: at most 63 */
    if (!w || !name || !*name || !ne || w->begun || strlen(name) >= AI__GGUF_MAX_NAME) return AI_E_INVAL;
    size_t nbytes = ai__gguf_tensor_bytes(type, n_dims, ne);
    if (!nbytes) return AI_E_INVAL;
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return AI_E_INVAL;
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 16;
        wtensor *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt) return AI_E_NOMEM;
        w->t = nt;
        w->cap_t = cap;
    }
    wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    if (!(t->name = ai__strdup(name))) return AI_E_NOMEM;
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < AI__GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->offset = w->data_size;
    t->nbytes = nbytes;
    w->data_size += (nbytes + w->alignment - 1) / w->alignment * w->alignment;
    w->n_t++;
    return AI_OK;
}

static ai_status put_file(FILE *f, const void *p, size_t n) {
    return n == 0 || fwrite(p, 1, n, f) == n ? AI_OK : AI_E_IO;
}

static ai_status pad(FILE *f, uint64_t at, uint32_t alignment) {
    static const uint8_t zeros[64];
    size_t n = (size_t)((alignment - at % alignment) % alignment);
    while (n) {
        size_t c = n < sizeof zeros ? n : sizeof zeros;
        if (put_file(f, zeros, c)) return AI_E_IO;
        n -= c;
    }
    return AI_OK;
}

ai_status ai__gguf_w_begin(ai__gguf_writer *w, FILE *f) {
    if (!w || !f || w->begun) return AI_E_INVAL;
    ai__buf h = {0};
    int add_align = w->alignment != AI__GGUF_DEFAULT_ALIGNMENT && !w->has_align_kv;
    ai__buf_put(&h, "GGUF", 4);
    put_u32(&h, 3);
    put_u64(&h, w->n_t);
    put_u64(&h, w->n_kv + (uint64_t)add_align);
    if (add_align) {
        static const char k[] = "general.alignment";
        put_str(&h, k, sizeof k - 1);
        put_u32(&h, AI__GGUF_U32);
        put_u32(&h, w->alignment);
    }
    ai__buf_put(&h, w->kvs.p, w->kvs.len);
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        put_str(&h, t->name, strlen(t->name));
        put_u32(&h, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(&h, (uint64_t)t->ne[d]);
        put_u32(&h, t->type);
        put_u64(&h, t->offset);
    }
    if (h.oom) {
        ai__buf_free(&h);
        return AI_E_NOMEM;
    }
    ai_status st = put_file(f, h.p, h.len);
    if (!st) st = pad(f, h.len, w->alignment);
    ai__buf_free(&h);
    w->begun = 1;
    w->cur = 0;
    w->cur_written = 0;
    return st;
}

ai_status ai__gguf_w_data(ai__gguf_writer *w, FILE *f, const void *data, size_t n) {
    if (!w || !f || !w->begun || w->cur >= w->n_t || n > w->t[w->cur].nbytes - w->cur_written)
        return AI_E_INVAL;
    w->cur_written += n;
    return put_file(f, data, n);
}

ai_status ai__gguf_w_end_tensor(ai__gguf_writer *w, FILE *f) {
    if (!w || !f || !w->begun || w->cur >= w->n_t || w->cur_written != w->t[w->cur].nbytes) return AI_E_INVAL;
    ai_status st = pad(f, w->cur_written, w->alignment);
    w->cur++;
    w->cur_written = 0;
    return st;
}
