/*
 * gguf.c - a strict GGUF v2/v3 reader.  See gguf.h for the file layout.
 *
 * Every read goes through a cursor that checks the bounds of the image before
 * touching it, so a malformed file can only produce AI_E_FORMAT with a
 * message "GGUF <field> at byte <offset>: <reason>".  Counts read from the
 * file are checked against the bytes that remain before anything is
 * allocated for them, so memory use is bounded by the file size.  Nothing
 * recurses on file content except nested arrays, which are bounded by
 * MAX_ARRAY_DEPTH.
 */
#include "gguf.h"

#include "internal.h"
#include "types.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAGIC "GGUF"
#define MAX_ARRAY_DEPTH 8
#define MAX_KEY_LEN 65535
#define MAX_COUNT (1u << 24) /* keys or tensors; far above any real model */
/* The smallest encodings, used to bound counts by the bytes that remain. */
#define MIN_KV_BYTES 14     /* u64 len, 1-byte key, u32 type, 1-byte value */
#define MIN_TENSOR_BYTES 33 /* u64 len, 1-byte name, u32 n_dims, one u64
                               dim, u32 type, u64 offset */

/* ---- cursor ----------------------------------------------------------- */

typedef struct cursor {
    const uint8_t *p;
    size_t size;
    size_t pos;
    char *err;
    size_t err_cap;
} cursor;

static ai_status fail(cursor *c, size_t at, const char *field, const char *why) {
    ai__set_err(c->err, c->err_cap, "GGUF %s at byte %zu: %s", field, at, why);
    return AI_E_FORMAT;
}

static size_t remaining(const cursor *c) { return c->size - c->pos; }

static ai_status need(cursor *c, size_t n, const char *field) {
    if (remaining(c) < n) return fail(c, c->pos, field, "truncated file");
    return AI_OK;
}

/* Unaligned little-endian loads (the host is little-endian; see
 * ai__gguf_parse, which refuses to run elsewhere). */
static uint32_t ld_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t ld_u64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static ai_status rd_u32(cursor *c, const char *field, uint32_t *v) {
    ai_status st = need(c, 4, field);
    if (st) return st;
    *v = ld_u32(c->p + c->pos);
    c->pos += 4;
    return AI_OK;
}

static ai_status rd_u64(cursor *c, const char *field, uint64_t *v) {
    ai_status st = need(c, 8, field);
    if (st) return st;
    *v = ld_u64(c->p + c->pos);
    c->pos += 8;
    return AI_OK;
}

/* A string: u64 length then bytes.  *s points into the image. */
static ai_status rd_str(cursor *c, const char *field, const char **s, size_t *len) {
    size_t at = c->pos;
    uint64_t n;
    ai_status st = rd_u64(c, field, &n);
    if (st) return st;
    if (n > remaining(c)) return fail(c, at, field, "string length runs past the end of the file");
    *s = (const char *)c->p + c->pos;
    *len = (size_t)n;
    c->pos += (size_t)n;
    return AI_OK;
}

/* ---- values ----------------------------------------------------------- */

size_t ai__gguf_scalar_size(uint32_t type) {
    switch (type) {
    case AI__GGUF_U8: case AI__GGUF_I8: case AI__GGUF_BOOL: return 1;
    case AI__GGUF_U16: case AI__GGUF_I16: return 2;
    case AI__GGUF_U32: case AI__GGUF_I32: case AI__GGUF_F32: return 4;
    case AI__GGUF_U64: case AI__GGUF_I64: case AI__GGUF_F64: return 8;
    default: return 0;
    }
}

static int valid_type(uint32_t t) { return t <= AI__GGUF_F64; }

/* Skips (and validates) an array body: u32 elem type, u64 count, elements.
 * When str_off is not NULL and the elements are strings, records each
 * element's offset from the first element. */
static ai_status skip_array(cursor *c, const char *field, int depth, uint32_t *elem_type,
                            uint64_t *count, size_t *first, uint64_t **str_off) {
    size_t at = c->pos;
    uint32_t et;
    uint64_t n;
    ai_status st;
    if (depth > MAX_ARRAY_DEPTH) return fail(c, at, field, "arrays nested too deeply");
    if ((st = rd_u32(c, field, &et))) return st;
    if (!valid_type(et)) return fail(c, at, field, "unknown array element type");
    if ((st = rd_u64(c, field, &n))) return st;
    *elem_type = et;
    *count = n;
    *first = c->pos;
    size_t es = ai__gguf_scalar_size(et);
    if (es) {
        if (n > remaining(c) / es) return fail(c, at, field, "array length runs past the end of the file");
        if (et == AI__GGUF_BOOL) {
            for (uint64_t i = 0; i < n; i++)
                if (c->p[c->pos + i] > 1) return fail(c, c->pos + (size_t)i, field, "bool is neither 0 nor 1");
        }
        c->pos += (size_t)n * es;
        return AI_OK;
    }
    /* Strings need at least 8 bytes each, nested arrays at least 12. */
    size_t min = et == AI__GGUF_STRING ? 8 : 12;
    if (n > remaining(c) / min) return fail(c, at, field, "array length runs past the end of the file");
    uint64_t *off = NULL;
    if (et == AI__GGUF_STRING && str_off) {
        off = malloc((size_t)(n ? n : 1) * sizeof *off);
        if (!off) return AI_E_NOMEM;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (et == AI__GGUF_STRING) {
            const char *s;
            size_t len;
            if (off) off[i] = c->pos - *first;
            st = rd_str(c, field, &s, &len);
        } else {
            uint32_t t2;
            uint64_t n2;
            size_t f2;
            st = skip_array(c, field, depth + 1, &t2, &n2, &f2, NULL);
        }
        if (st) {
            free(off);
            return st;
        }
    }
    if (str_off) *str_off = off;
    return AI_OK;
}

/* ---- index of names ------------------------------------------------------- */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* Builds an open-addressing table over n names; returns -1 on a duplicate
 * (its index in *dup) or -2 on out-of-memory. */
static int build_index(char *const *names, size_t stride, size_t n, uint32_t **out,
                       size_t *out_cap, size_t *dup) {
    size_t cap = 16;
    while (cap < n * 2) cap *= 2;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t) return -2;
    for (size_t i = 0; i < n; i++) {
        const char *name = *(char *const *)((const char *)names + i * stride);
        size_t h = (size_t)hash_str(name) & (cap - 1);
        while (t[h]) {
            const char *other = *(char *const *)((const char *)names + (t[h] - 1) * stride);
            if (strcmp(other, name) == 0) {
                free(t);
                *dup = i;
                return -1;
            }
            h = (h + 1) & (cap - 1);
        }
        t[h] = (uint32_t)(i + 1);
    }
    *out = t;
    *out_cap = cap;
    return 0;
}

static size_t index_find(const uint32_t *t, size_t cap, char *const *names, size_t stride,
                         const char *name) {
    if (!t || !name) return SIZE_MAX;
    size_t h = (size_t)hash_str(name) & (cap - 1);
    while (t[h]) {
        const char *other = *(char *const *)((const char *)names + (t[h] - 1) * stride);
        if (strcmp(other, name) == 0) return t[h] - 1;
        h = (h + 1) & (cap - 1);
    }
    return SIZE_MAX;
}

/* ---- parsing ------------------------------------------------------------ */

/* A copy of a name that must be non-empty and hold no NUL byte. */
static ai_status dup_name(cursor *c, size_t at, const char *field, const char *s, size_t len,
                          size_t max, char **out) {
    if (len == 0) return fail(c, at, field, "empty name");
    if (len > max) return fail(c, at, field, "name too long");
    if (memchr(s, '\0', len)) return fail(c, at, field, "name contains a NUL byte");
    *out = ai__strndup(s, len);
    return *out ? AI_OK : AI_E_NOMEM;
}

static ai_status parse_kv(cursor *c, ai__gguf *g, ai__gguf_kv *kv) {
    size_t at = c->pos;
    const char *s;
    size_t len;
    ai_status st = rd_str(c, "metadata key", &s, &len);
    if (st) return st;
    if ((st = dup_name(c, at, "metadata key", s, len, MAX_KEY_LEN, &kv->key))) return st;
    at = c->pos;
    if ((st = rd_u32(c, "metadata value type", &kv->type))) return st;
    if (!valid_type(kv->type)) return fail(c, at, "metadata value type", "unknown value type");
    kv->n = 1;
    kv->data = c->p + c->pos;
    at = c->pos;
    if (kv->type == AI__GGUF_STRING) return rd_str(c, "metadata string value", &s, &len);
    if (kv->type == AI__GGUF_ARRAY) {
        size_t first;
        st = skip_array(c, "metadata array", 1, &kv->arr_type, &kv->n, &first, &kv->str_off);
        if (st) return st;
        kv->data = c->p + first;
        return AI_OK;
    }
    size_t sz = ai__gguf_scalar_size(kv->type);
    if ((st = need(c, sz, "metadata value"))) return st;
    if (kv->type == AI__GGUF_BOOL && c->p[c->pos] > 1)
        return fail(c, at, "metadata value", "bool is neither 0 nor 1");
    c->pos += sz;
    (void)g;
    return AI_OK;
}

static ai_status parse_tensor(cursor *c, ai__gguf_tensor *t) {
    size_t at = c->pos;
    const char *s;
    size_t len;
    ai_status st = rd_str(c, "tensor name", &s, &len);
    if (st) return st;
    if ((st = dup_name(c, at, "tensor name", s, len, AI__GGUF_MAX_NAME, &t->name))) return st;
    at = c->pos;
    if ((st = rd_u32(c, "tensor n_dims", &t->n_dims))) return st;
    if (t->n_dims < 1 || t->n_dims > AI__GGUF_MAX_DIMS)
        return fail(c, at, "tensor n_dims", "must be between 1 and 4");
    uint64_t nel = 1;
    for (uint32_t d = 0; d < AI__GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne;
        at = c->pos;
        if ((st = rd_u64(c, "tensor dimension", &ne))) return st;
        if (ne == 0) return fail(c, at, "tensor dimension", "dimension is zero");
        if (ne > (uint64_t)INT64_MAX / nel)
            return fail(c, at, "tensor dimension", "element count overflows");
        nel *= ne;
        t->ne[d] = (int64_t)ne;
    }
    at = c->pos;
    if ((st = rd_u32(c, "tensor type", &t->type))) return st;
    const ai__type_traits *tr = ai__type_get(t->type);
    if (!tr) return fail(c, at, "tensor type", "unknown tensor type");
    if (t->ne[0] % tr->block_size)
        return fail(c, at, "tensor type", "first dimension is not a multiple of the block size");
    /* bytes = row bytes * rows, with overflow checks */
    size_t row = (size_t)(t->ne[0] / tr->block_size);
    size_t rows = (size_t)(nel / (uint64_t)t->ne[0]);
    if (ai__mul_size(row, tr->type_size, &row) || ai__mul_size(row, rows, &t->nbytes))
        return fail(c, at, "tensor type", "byte size overflows");
    if ((st = rd_u64(c, "tensor offset", &t->offset))) return st;
    return AI_OK;
}

static int cmp_by_offset(const void *a, const void *b) {
    const ai__gguf_tensor *x = *(ai__gguf_tensor *const *)a, *y = *(ai__gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static ai_status parse(cursor *c, ai__gguf *g) {
    ai_status st;
    if ((st = need(c, 4, "magic"))) return st;
    if (memcmp(c->p, GGUF_MAGIC, 4) != 0) return fail(c, 0, "magic", "not a GGUF file");
    c->pos = 4;
    if ((st = rd_u32(c, "version", &g->version))) return st;
    uint32_t v = g->version;
    uint32_t swapped = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
    if (v == 1) return fail(c, 4, "version", "GGUF version 1 is not supported (only 2 and 3)");
    if (v != 2 && v != 3) {
        if (swapped >= 1 && swapped <= 3)
            return fail(c, 4, "version", "big-endian GGUF files are not supported");
        return fail(c, 4, "version", "unknown GGUF version (only 2 and 3 are supported)");
    }
    uint64_t n_tensors, n_kv;
    if ((st = rd_u64(c, "tensor count", &n_tensors))) return st;
    if ((st = rd_u64(c, "metadata count", &n_kv))) return st;
    if (n_tensors > MAX_COUNT || n_tensors > remaining(c) / MIN_TENSOR_BYTES)
        return fail(c, 8, "tensor count", "more tensors than the file can hold");
    if (n_kv > MAX_COUNT || n_kv > remaining(c) / MIN_KV_BYTES)
        return fail(c, 16, "metadata count", "more metadata entries than the file can hold");

    g->kv = calloc(n_kv ? n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(n_tensors ? n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) return AI_E_NOMEM;

    g->alignment = AI__GGUF_DEFAULT_ALIGNMENT;
    for (uint64_t i = 0; i < n_kv; i++) {
        size_t at = c->pos;
        st = parse_kv(c, g, &g->kv[i]);
        g->n_kv = (size_t)i + 1; /* so that ai__gguf_free releases it */
        if (st) return st;
        if (strcmp(g->kv[i].key, "general.alignment") == 0) {
            int64_t a;
            if (ai__gguf_kv_int(&g->kv[i], &a) || a <= 0 || a > (1 << 20) || (a & (a - 1)))
                return fail(c, at, "general.alignment", "must be a power of two integer");
            g->alignment = (uint32_t)a;
        }
    }
    size_t dup;
    int r = build_index(&g->kv[0].key, sizeof *g->kv, g->n_kv, &g->kv_index, &g->kv_index_cap, &dup);
    if (r == -2) return AI_E_NOMEM;
    if (r == -1) {
        ai__set_err(c->err, c->err_cap, "GGUF metadata key '%s' (entry %zu): duplicate key",
                    g->kv[dup].key, dup);
        return AI_E_FORMAT;
    }

    for (uint64_t i = 0; i < n_tensors; i++) {
        st = parse_tensor(c, &g->tensors[i]);
        g->n_tensors = (size_t)i + 1;
        if (st) return st;
    }
    r = build_index(&g->tensors[0].name, sizeof *g->tensors, g->n_tensors, &g->t_index,
                    &g->t_index_cap, &dup);
    if (r == -2) return AI_E_NOMEM;
    if (r == -1) {
        ai__set_err(c->err, c->err_cap, "GGUF tensor '%s' (tensor %zu): duplicate tensor name",
                    g->tensors[dup].name, dup);
        return AI_E_FORMAT;
    }

    /* The data section starts at the next multiple of the alignment. */
    size_t data = c->pos + (g->alignment - c->pos % g->alignment) % g->alignment;
    g->data_offset = data;
    if (g->n_tensors == 0) return AI_OK;
    if (data > c->size) return fail(c, c->pos, "tensor data", "the data section is missing");
    size_t avail = c->size - data;
    ai__gguf_tensor **order = malloc(g->n_tensors * sizeof *order);
    if (!order) return AI_E_NOMEM;
    for (size_t i = 0; i < g->n_tensors; i++) {
        ai__gguf_tensor *t = &g->tensors[i];
        order[i] = t;
        if (t->offset % g->alignment) {
            ai__set_err(c->err, c->err_cap, "GGUF tensor '%s': data offset %llu is not aligned to %u",
                        t->name, (unsigned long long)t->offset, g->alignment);
            free(order);
            return AI_E_FORMAT;
        }
        if (t->offset > avail || t->nbytes > avail - t->offset) {
            ai__set_err(c->err, c->err_cap,
                        "GGUF tensor '%s': data (offset %llu, %zu bytes) runs past the end of the file",
                        t->name, (unsigned long long)t->offset, t->nbytes);
            free(order);
            return AI_E_FORMAT;
        }
        t->data = c->p + data + t->offset;
    }
    qsort(order, g->n_tensors, sizeof *order, cmp_by_offset);
    for (size_t i = 1; i < g->n_tensors; i++) {
        if (order[i - 1]->offset + order[i - 1]->nbytes > order[i]->offset) {
            ai__set_err(c->err, c->err_cap, "GGUF tensors '%s' and '%s': data regions overlap",
                        order[i - 1]->name, order[i]->name);
            free(order);
            return AI_E_FORMAT;
        }
    }
    free(order);
    return AI_OK;
}

ai_status ai__gguf_parse(const void *buf, size_t size, ai__gguf **out, char *err, size_t err_cap) {
    if (!out || (!buf && size)) return AI_E_INVAL;
    *out = NULL;
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        ai__set_err(err, err_cap, "GGUF reading needs a little-endian host");
        return AI_E_UNSUPPORTED;
    }
    ai__gguf *g = calloc(1, sizeof *g);
    if (!g) return AI_E_NOMEM;
    g->base = buf;
    g->size = size;
    cursor c = {buf, size, 0, err, err_cap};
    if (size == 0) {
        ai__gguf_free(g);
        ai__set_err(err, err_cap, "GGUF magic at byte 0: empty file");
        return AI_E_FORMAT;
    }
    ai_status st = parse(&c, g);
    if (st) {
        if (st == AI_E_NOMEM) ai__set_err(err, err_cap, "out of memory while reading GGUF");
        ai__gguf_free(g);
        return st;
    }
    *out = g;
    return AI_OK;
}

ai_status ai__gguf_open(const char *path, int use_mmap, ai__gguf **out, char *err, size_t err_cap) {
    if (!path || !out) return AI_E_INVAL;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ai__set_err(err, err_cap, "%s: %s", path, strerror(errno));
        return AI_E_IO;
    }
    struct stat stt;
    if (fstat(fd, &stt) != 0) {
        ai__set_err(err, err_cap, "%s: %s", path, strerror(errno));
        close(fd);
        return AI_E_IO;
    }
    if (S_ISDIR(stt.st_mode)) {
        ai__set_err(err, err_cap, "%s: is a directory", path);
        close(fd);
        return AI_E_IO;
    }
    if (!S_ISREG(stt.st_mode)) use_mmap = 0; /* pipes and devices are read */
    void *map = NULL, *owned = NULL;
    size_t size = 0;
    if (use_mmap) {
        size = (size_t)stt.st_size;
        if (size > 0) {
            map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (map == MAP_FAILED) {
                ai__set_err(err, err_cap, "%s: mmap: %s", path, strerror(errno));
                close(fd);
                return AI_E_IO;
            }
        }
    } else {
        size_t cap = S_ISREG(stt.st_mode) ? (size_t)stt.st_size : 1 << 20;
        owned = malloc(cap ? cap : 1);
        for (;;) {
            if (!owned) {
                close(fd);
                ai__set_err(err, err_cap, "%s: out of memory", path);
                return AI_E_NOMEM;
            }
            if (size == cap) {
                if (S_ISREG(stt.st_mode)) break;
                void *p = realloc(owned, cap * 2);
                if (!p) free(owned);
                owned = p;
                cap *= 2;
                continue;
            }
            ssize_t r = read(fd, (char *)owned + size, cap - size);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                ai__set_err(err, err_cap, "%s: %s", path, strerror(errno));
                free(owned);
                close(fd);
                return AI_E_IO;
            }
            if (r == 0) break;
            size += (size_t)r;
        }
    }
    close(fd);
    const void *base = map ? map : owned;
    ai__gguf *g;
    ai_status st = ai__gguf_parse(base, size, &g, err, err_cap);
    if (st) {
        if (map) munmap(map, size);
        free(owned);
        return st;
    }
    g->map = map;
    g->map_size = size;
    g->owned = owned;
    *out = g;
    return AI_OK;
}

void ai__gguf_free(ai__gguf *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        free(g->kv[i].str_off);
    }
    for (size_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    free(g->kv_index);
    free(g->t_index);
    if (g->map) munmap(g->map, g->map_size);
    free(g->owned);
    free(g);
}

/* ---- lookups and typed reads -------------------------------------------- */

const ai__gguf_kv *ai__gguf_find(const ai__gguf *g, const char *key) {
    if (!g || !g->n_kv) return NULL;
    size_t i = index_find(g->kv_index, g->kv_index_cap, &g->kv[0].key, sizeof *g->kv, key);
    return i == SIZE_MAX ? NULL : &g->kv[i];
}

const ai__gguf_tensor *ai__gguf_tensor_find(const ai__gguf *g, const char *name) {
    if (!g || !g->n_tensors) return NULL;
    size_t i = index_find(g->t_index, g->t_index_cap, &g->tensors[0].name, sizeof *g->tensors, name);
    return i == SIZE_MAX ? NULL : &g->tensors[i];
}

/* Reads one scalar of `type` at p as int64 / double. */
static int scalar_int(uint32_t type, const uint8_t *p, int64_t *v) {
    switch (type) {
    case AI__GGUF_U8: case AI__GGUF_BOOL: *v = p[0]; return 0;
    case AI__GGUF_I8: *v = (int8_t)p[0]; return 0;
    case AI__GGUF_U16: { uint16_t x; memcpy(&x, p, 2); *v = x; return 0; }
    case AI__GGUF_I16: { int16_t x; memcpy(&x, p, 2); *v = x; return 0; }
    case AI__GGUF_U32: { uint32_t x; memcpy(&x, p, 4); *v = x; return 0; }
    case AI__GGUF_I32: { int32_t x; memcpy(&x, p, 4); *v = x; return 0; }
    case AI__GGUF_U64: {
        uint64_t x;
        memcpy(&x, p, 8);
        if (x > (uint64_t)INT64_MAX) return -1;
        *v = (int64_t)x;
        return 0;
    }
    case AI__GGUF_I64: { int64_t x; memcpy(&x, p, 8); *v = x; return 0; }
    default: return -1;
    }
}

static int scalar_float(uint32_t type, const uint8_t *p, double *v) {
    if (type == AI__GGUF_F32) {
        float x;
        memcpy(&x, p, 4);
        *v = x;
        return 0;
    }
    if (type == AI__GGUF_F64) {
        memcpy(v, p, 8);
        return 0;
    }
    if (type == AI__GGUF_BOOL) return -1;
    if (type == AI__GGUF_U64) {
        uint64_t x;
        memcpy(&x, p, 8);
        *v = (double)x;
        return 0;
    }
    int64_t i;
    if (scalar_int(type, p, &i)) return -1;
    *v = (double)i;
    return 0;
}

int ai__gguf_kv_int(const ai__gguf_kv *kv, int64_t *v) {
    return kv ? scalar_int(kv->type, kv->data, v) : -1;
}

int ai__gguf_kv_float(const ai__gguf_kv *kv, double *v) {
    return kv ? scalar_float(kv->type, kv->data, v) : -1;
}

int ai__gguf_kv_str(const ai__gguf_kv *kv, const char **s, size_t *len) {
    if (!kv || kv->type != AI__GGUF_STRING) return -1;
    *len = (size_t)ld_u64(kv->data);
    *s = (const char *)kv->data + 8;
    return 0;
}

int ai__gguf_arr_int(const ai__gguf_kv *kv, uint64_t i, int64_t *v) {
    if (!kv || kv->type != AI__GGUF_ARRAY || i >= kv->n) return -1;
    size_t es = ai__gguf_scalar_size(kv->arr_type);
    if (!es) return -1;
    return scalar_int(kv->arr_type, kv->data + i * es, v);
}

int ai__gguf_arr_float(const ai__gguf_kv *kv, uint64_t i, double *v) {
    if (!kv || kv->type != AI__GGUF_ARRAY || i >= kv->n) return -1;
    size_t es = ai__gguf_scalar_size(kv->arr_type);
    if (!es) return -1;
    return scalar_float(kv->arr_type, kv->data + i * es, v);
}

int ai__gguf_arr_str(const ai__gguf_kv *kv, uint64_t i, const char **s, size_t *len) {
    if (!kv || kv->type != AI__GGUF_ARRAY || kv->arr_type != AI__GGUF_STRING || i >= kv->n ||
        !kv->str_off)
        return -1;
    const uint8_t *p = kv->data + kv->str_off[i];
    *len = (size_t)ld_u64(p);
    *s = (const char *)p + 8;
    return 0;
}

int ai__gguf_get_int(const ai__gguf *g, const char *key, int64_t *v) {
    return ai__gguf_kv_int(ai__gguf_find(g, key), v);
}

int ai__gguf_get_float(const ai__gguf *g, const char *key, double *v) {
    return ai__gguf_kv_float(ai__gguf_find(g, key), v);
}

int ai__gguf_get_bool(const ai__gguf *g, const char *key, int *v) {
    const ai__gguf_kv *kv = ai__gguf_find(g, key);
    if (!kv || kv->type != AI__GGUF_BOOL) return -1;
    *v = kv->data[0] != 0;
    return 0;
}

int ai__gguf_get_str(const ai__gguf *g, const char *key, const char **s, size_t *len) {
    return ai__gguf_kv_str(ai__gguf_find(g, key), s, len);
}

static const ai__gguf_kv *find_arch(const ai__gguf *g, const char *arch, const char *suffix) {
    char key[256];
    int n = snprintf(key, sizeof key, "%s.%s", arch ? arch : "", suffix);
    if (n < 0 || (size_t)n >= sizeof key) return NULL;
    return ai__gguf_find(g, key);
}

int ai__gguf_get_arch_int(const ai__gguf *g, const char *arch, const char *suffix, int64_t *v) {
    return ai__gguf_kv_int(find_arch(g, arch, suffix), v);
}

int ai__gguf_get_arch_float(const ai__gguf *g, const char *arch, const char *suffix, double *v) {
    return ai__gguf_kv_float(find_arch(g, arch, suffix), v);
}
