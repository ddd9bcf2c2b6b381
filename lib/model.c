/*
 * model.c - the public model calls: load/free, metadata and tensor listing.
 * The parts of a model (model.h) are built here in order: the GGUF file,
 * then the tokenizer, then the weights.
 */
#include "model.h"

#include "encoder.h"
#include "internal.h"
#include "json.h"
#include "runtime.h"
#include "types.h"
#include "vocab.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ai_status ai_model_load(const char *path, const ai_opts *opts, ai_model **out, char *err,
                        size_t err_cap) {
    if (out) *out = NULL;
    if (!path || !out) {
        ai__set_err(err, err_cap, "ai_model_load: path and out must not be NULL");
        return AI_E_INVAL;
    }
    ai__set_err(err, err_cap, "%s", "");
    ai_model *m = calloc(1, sizeof *m);
    if (!m) return AI_E_NOMEM;
    int use_mmap = ai__opts_int(opts, AI_OPT_USE_MMAP, 1) != 0;
    ai_status st = ai__gguf_open(path, use_mmap, &m->gguf, err, err_cap);
    if (st) goto fail;
    st = AI_E_NOMEM;
    if (!(m->path = ai__strdup(path))) goto fail;
    const char *arch;
    size_t arch_len;
    if (ai__gguf_get_str(m->gguf, "general.architecture", &arch, &arch_len)) arch_len = 0;
    if (!(m->arch = ai__strndup(arch_len ? arch : "", arch_len))) goto fail;
    if ((st = ai__vocab_load(m->gguf, &m->vocab, err, err_cap))) goto fail;
    /* weights: a decoder binds its tensors now, so that a bad file fails
     * here rather than in the first forward pass.  A vocabulary-only file
     * (no tensors) has none, and neither has a file that is not a language
     * model (no token_embd.weight: single tensors, adapters); encoders bind
     * theirs in encoder.c */
    if (ai__arch_supported(m->arch)) {
        if (m->gguf->n_tensors > 0 &&
            (st = ai__weights_load(m->gguf, m->arch, &m->weights, err, err_cap)))
            goto fail;
    } else if (ai__encoder_arch(m->arch)) {
        if (m->gguf->n_tensors > 0 &&
            (st = ai__encoder_load(m->gguf, m->arch, &m->encoder, err, err_cap)))
            goto fail;
    } else if (ai__gguf_tensor_find(m->gguf, "token_embd.weight")) {
        st = AI_E_UNSUPPORTED;
        ai__set_err(err, err_cap, "%s: architecture '%s' is not supported", path,
                    m->arch);
        goto fail;
    }
    *out = m;
    return AI_OK;
fail:
    if (st == AI_E_NOMEM) ai__set_err(err, err_cap, "%s: out of memory", path);
    ai_model_free(m);
    return st;
}

void ai_model_free(ai_model *m) {
    if (!m) return;
    ai__vocab_free(m->vocab);
    ai__weights_free(m->weights);
    ai__encoder_free(m->encoder);
    ai__gguf_free(m->gguf);
    free((char *)m->arch);
    free(m->path);
    free(m);
}

/* ---- metadata --------------------------------------------------------------- */

size_t ai_model_meta_count(const ai_model *m) { return m ? m->gguf->n_kv : 0; }

ai_status ai_model_meta_key(const ai_model *m, size_t i, const char **key) {
    if (!m || !key) return AI_E_INVAL;
    if (i >= m->gguf->n_kv) return AI_E_RANGE;
    *key = m->gguf->kv[i].key;
    return AI_OK;
}

static ai_status find_kv(const ai_model *m, const char *key, const ai__gguf_kv **kv) {
    if (!m || !key) return AI_E_INVAL;
    *kv = ai__gguf_find(m->gguf, key);
    return *kv ? AI_OK : AI_E_NOT_FOUND;
}

ai_status ai_model_meta_type(const ai_model *m, const char *key, int32_t *type,
                             int32_t *elem_type, uint64_t *len) {
    const ai__gguf_kv *kv;
    ai_status st = find_kv(m, key, &kv);
    if (st) return st;
    if (type) *type = (int32_t)kv->type;
    if (elem_type) *elem_type = kv->type == AI__GGUF_ARRAY ? (int32_t)kv->arr_type : -1;
    if (len) *len = kv->n;
    return AI_OK;
}

/* Writes one scalar (not string/array) at p as text. */
static void put_scalar(ai__buf *b, uint32_t type, const uint8_t *p) {
    int64_t i;
    double d;
    if (type == AI__GGUF_BOOL) ai__buf_puts(b, p[0] ? "true" : "false");
    else if (type == AI__GGUF_U64) {
        uint64_t u;
        memcpy(&u, p, 8);
        ai__buf_printf(b, "%" PRIu64, u);
    } else if (type == AI__GGUF_F32) {
        float f;
        memcpy(&f, p, 4);
        ai__buf_printf(b, "%.9g", (double)f);
    } else if (type == AI__GGUF_F64) {
        memcpy(&d, p, 8);
        ai__buf_printf(b, "%.17g", d);
    } else if (ai__gguf_kv_int(&(ai__gguf_kv){.type = type, .data = p}, &i) == 0)
        ai__buf_printf(b, "%" PRId64, i);
}

/* Renders an array body (elem type, count, elements at p) as JSON and returns
 * the bytes it spans.  The parser validated the bounds and the nesting depth. */
static size_t put_array(ai__buf *b, uint32_t et, uint64_t n, const uint8_t *p) {
    const uint8_t *start = p;
    size_t es = ai__gguf_scalar_size(et);
    ai__buf_putc(b, '[');
    for (uint64_t i = 0; i < n; i++) {
        if (i) ai__buf_putc(b, ',');
        if (es) {
            put_scalar(b, et, p);
            p += es;
        } else if (et == AI__GGUF_STRING) {
            uint64_t len;
            memcpy(&len, p, 8);
            ai__json_write_str(b, (const char *)p + 8, (size_t)len, 0);
            p += 8 + len;
        } else {
            uint32_t et2;
            uint64_t n2;
            memcpy(&et2, p, 4);
            memcpy(&n2, p + 4, 8);
            p += 12;
            p += put_array(b, et2, n2, p);
        }
    }
    ai__buf_putc(b, ']');
    return (size_t)(p - start);
}

ai_status ai_model_meta_str(const ai_model *m, const char *key, char *buf, size_t cap,
                            size_t *needed) {
    const ai__gguf_kv *kv;
    ai_status st = find_kv(m, key, &kv);
    if (st) return st;
    const char *s;
    size_t len;
    if (ai__gguf_kv_str(kv, &s, &len) == 0) return ai__copy_out(s, len, buf, cap, needed);
    ai__buf b = {0};
    if (kv->type == AI__GGUF_ARRAY) put_array(&b, kv->arr_type, kv->n, kv->data);
    else put_scalar(&b, kv->type, kv->data);
    if (b.oom) {
        ai__buf_free(&b);
        return AI_E_NOMEM;
    }
    st = ai__copy_out(ai__buf_cstr(&b), b.len, buf, cap, needed);
    ai__buf_free(&b);
    return st;
}

ai_status ai_model_meta_int(const ai_model *m, const char *key, int64_t *value) {
    const ai__gguf_kv *kv;
    ai_status st = find_kv(m, key, &kv);
    if (st) return st;
    if (!value) return AI_E_INVAL;
    if (kv->type == AI__GGUF_U64) {
        uint64_t u;
        memcpy(&u, kv->data, 8);
        if (u > (uint64_t)INT64_MAX) return AI_E_RANGE;
    }
    return ai__gguf_kv_int(kv, value) ? AI_E_INVAL : AI_OK;
}

ai_status ai_model_meta_float(const ai_model *m, const char *key, double *value) {
    const ai__gguf_kv *kv;
    ai_status st = find_kv(m, key, &kv);
    if (st) return st;
    if (!value) return AI_E_INVAL;
    return ai__gguf_kv_float(kv, value) ? AI_E_INVAL : AI_OK;
}

ai_status ai_model_meta_arr_len(const ai_model *m, const char *key, uint64_t *len) {
    const ai__gguf_kv *kv;
    ai_status st = find_kv(m, key, &kv);
    if (st) return st;
    if (!len || kv->type != AI__GGUF_ARRAY) return AI_E_INVAL;
    *len = kv->n;
    return AI_OK;
}

/* ---- tensors ----------------------------------------------------------------- */

size_t ai_model_tensor_count(const ai_model *m) { return m ? m->gguf->n_tensors : 0; }

ai_status ai_model_tensor_info(const ai_model *m, size_t i, const char **name, int32_t *type,
                               int32_t *n_dims, int64_t dims[4]) {
    if (!m) return AI_E_INVAL;
    if (i >= m->gguf->n_tensors) return AI_E_RANGE;
    const ai__gguf_tensor *t = &m->gguf->tensors[i];
    if (name) *name = t->name;
    if (type) *type = (int32_t)t->type;
    if (n_dims) *n_dims = (int32_t)t->n_dims;
    if (dims)
        for (int d = 0; d < 4; d++) dims[d] = t->ne[d];
    return AI_OK;
}
