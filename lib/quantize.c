/*
 * quantize.c - ai_model_quantize: rewrite a GGUF model with its weight
 * matrices in another type.
 *
 * The output follows what the peer's quantizer (llama.cpp's, run with
 * --pure, i.e. without its per-tensor type mixtures) writes, so that the two
 * files can be compared byte for byte and the peer's loader sees nothing
 * new:
 *  - which tensors change: matrices (two or more dimensions that are not 1)
 *    whose name ends in "weight" and is not one the peer leaves alone
 *    (norms, positional embeddings, token types, MoE gates, small conv and
 *    RWKV mixing tensors, relative position biases);
 *  - rows the target cannot hold (ne[0] not a multiple of its block) take
 *    the peer's fallback type (q4_k -> q5_0, q6_k -> q8_0, ...) or F16;
 *  - one-dimensional tensors become F32 (the peer keeps their input type:
 *    the same bytes for the usual F32 norms); integer tensors and the
 *    matrices left alone are copied unchanged;
 *  - a tensor already in its output type is copied unchanged (no second
 *    rounding);
 *  - metadata: every input kv in its order, except general.file_type,
 *    general.quantization_version and the split.* keys, then
 *    general.quantization_version = 2 and general.file_type (the peer's
 *    numbering) at the end;
 *  - tensor order: by layer number (blk.N.), tensors without one first,
 *    then by name (the order the peer's loader lists them in).
 * Conversion is row by row: dequantize to f32, quantize to the target, in
 * chunks of rows spread over a thread pool, so memory stays at one chunk.
 */
#include "gguf.h"
#include "gguf_write.h"
#include "internal.h"
#include "kernels.h"
#include "threads.h"
#include "types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* general.file_type as llama.cpp numbers it (its "ftype"); the k-quants map
 * to their "_S" variants since every matrix gets the same type here. */
static int32_t file_type_of(int32_t type) {
    switch (type) {
    case AI_TYPE_F32: return 0;
    case AI_TYPE_F16: return 1;
    case AI_TYPE_Q4_0: return 2;
    case AI_TYPE_Q4_1: return 3;
    case AI_TYPE_Q8_0: return 7;
    case AI_TYPE_Q5_0: return 8;
    case AI_TYPE_Q5_1: return 9;
    case AI_TYPE_Q2_K: return 10;
    case AI_TYPE_Q3_K: return 11;
    case AI_TYPE_Q4_K: return 14;
    case AI_TYPE_Q5_K: return 16;
    case AI_TYPE_Q6_K: return 18;
    case AI_TYPE_IQ4_NL: return 25;
    case AI_TYPE_IQ4_XS: return 30;
    case AI_TYPE_BF16: return 32;
    }
    return -1;
}

static int is_int_type(uint32_t t) {
    return t == AI_TYPE_I8 || t == AI_TYPE_I16 || t == AI_TYPE_I32 || t == AI_TYPE_I64;
}

/* Dimensions counted as the peer counts them: trailing 1s do not count, so
 * a [256, 1] tensor is one-dimensional. */
static uint32_t eff_dims(const ai__gguf_tensor *t) {
    uint32_t n = t->n_dims;
    while (n > 1 && t->ne[n - 1] == 1) n--;
    return n;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Whether a matrix's name makes it a weight the peer quantizes. */
static int quantizable_name(const char *name) {
    static const char *const never[] = {
        "_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d", "shortconv.conv.weight", "attn_rel_b.weight",
        "altup", "laurel", "per_layer_model_proj", "time_mix_first.weight", "time_mix_w0.weight",
        "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
        "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
        "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", ".position_embd", ".rel_pos", ".patch_embd",
    };
    if (!ends_with(name, "weight")) return 0;
    /* BERT-style learned positions and token types stay as they are */
    if (!strcmp(name, "position_embd.weight") || !strcmp(name, "token_types.weight")) return 0;
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strstr(name, never[i])) return 0;
    return 1;
}

/* The peer's replacement when rows do not fit the target's 256-element
 * blocks; 0 when it has none. */
static uint32_t fallback_of(uint32_t type) {
    switch (type) {
    case AI_TYPE_Q2_K:
    case AI_TYPE_Q3_K: return AI_TYPE_Q4_0;
    case AI_TYPE_Q4_K: return AI_TYPE_Q5_0;
    case AI_TYPE_Q5_K: return AI_TYPE_Q5_1;
    case AI_TYPE_Q6_K: return AI_TYPE_Q8_0;
    case AI_TYPE_IQ4_XS: return AI_TYPE_IQ4_NL;
    }
    return 0;
}

/* The type a tensor is written in. */
static uint32_t out_type(const ai__gguf_tensor *t, uint32_t target) {
    if (is_int_type(t->type)) return t->type;
    if (eff_dims(t) < 2) return AI_TYPE_F32;
    if (!quantizable_name(t->name)) return t->type;
    if (ai__row_size(target, t->ne[0])) return target;
    uint32_t fb = fallback_of(target);
    return fb && ai__row_size(fb, t->ne[0]) ? fb : AI_TYPE_F16;
}

/* The layer of "blk.N...." (what scanf's "blk.%d." reads), -1 without one. */
static long layer_of(const char *name) {
    if (strncmp(name, "blk.", 4)) return -1;
    const char *p = name + 4;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r')) p++;
    int neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    if (*p < '0' || *p > '9') return -1;
    long v = 0;
    for (; *p >= '0' && *p <= '9'; p++) v = v < 100000000 ? v * 10 + (*p - '0') : v;
    return neg ? -v : v;
}

/* Output order: layer, then name (bytewise). */
static int tensor_cmp(const void *pa, const void *pb) {
    const ai__gguf_tensor *a = *(const ai__gguf_tensor *const *)pa, *b = *(const ai__gguf_tensor *const *)pb;
    long la = layer_of(a->name), lb = layer_of(b->name);
    if (la != lb) return la < lb ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Keys not copied: written anew (file type, quantization version) or
 * meaningless in a single output file (split.*). */
static int dropped_key(const char *key) {
    return !strcmp(key, "general.file_type") || !strcmp(key, "general.quantization_version") ||
           !strcmp(key, "split.no") || !strcmp(key, "split.count") || !strcmp(key, "split.tensors.count");
}

typedef struct conv_job {
    const uint8_t *src;
    uint8_t *dst;
    uint32_t in_type, out_type;
    int64_t ne0, rows;
    size_t in_rs, out_rs;
    float *tmp;  /* ne0 floats per thread */
    ai_status st[64];
} conv_job;

static void conv_task(void *ctx, int ith, int nth) {
    conv_job *j = ctx;
    float *tmp = j->tmp + (size_t)ith * (size_t)j->ne0;
    int64_t r0 = j->rows * ith / nth, r1 = j->rows * (ith + 1) / nth;
    ai_status st = AI_OK;
    for (int64_t r = r0; r < r1 && !st; r++) {
        st = ai__dequant_row(j->in_type, j->src + (size_t)r * j->in_rs, tmp, j->ne0);
        if (!st) st = ai__quant_row(j->out_type, tmp, j->dst + (size_t)r * j->out_rs, j->ne0);
    }
    if (ith < 64) j->st[ith] = st;
}

static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (!strcmp(a, b)) return 1;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Writes the tensors ord[0..n) to f, the order they were added to w. */
static ai_status write_tensors(const ai__gguf_tensor *const *ord, size_t n, ai__gguf_writer *w, FILE *f,
                               uint32_t target, ai__pool *pool, char *err, size_t err_cap) {
    enum { CHUNK = 1 << 24 }; /* bytes of output per chunk, at most */
    int nth = ai__pool_size(pool);
    ai_status st = AI_OK;
    uint8_t *out = NULL;
    float *tmp = NULL;
    size_t out_cap = 0, tmp_cap = 0;
    for (size_t i = 0; i < n && !st; i++) {
        const ai__gguf_tensor *t = ord[i];
        uint32_t ot = out_type(t, target);
        if (ot == t->type) {
            st = ai__gguf_w_data(w, f, t->data, t->nbytes);
            if (!st) st = ai__gguf_w_end_tensor(w, f);
            continue;
        }
        size_t in_rs = ai__row_size(t->type, t->ne[0]), out_rs = ai__row_size(ot, t->ne[0]);
        int64_t rows = (int64_t)(t->nbytes / in_rs);
        int64_t chunk = (int64_t)(CHUNK / out_rs);
        if (chunk < 1) chunk = 1;
        if (chunk > rows) chunk = rows;
        if (out_cap < (size_t)chunk * out_rs) {
            free(out);
            out_cap = (size_t)chunk * out_rs;
            if (!(out = malloc(out_cap))) {
                st = AI_E_NOMEM;
                break;
            }
        }
        if (tmp_cap < (size_t)nth * (size_t)t->ne[0]) {
            free(tmp);
            tmp_cap = (size_t)nth * (size_t)t->ne[0];
            if (!(tmp = malloc(tmp_cap * sizeof(float)))) {
                st = AI_E_NOMEM;
                break;
            }
        }
        for (int64_t r0 = 0; r0 < rows && !st; r0 += chunk) {
            conv_job j = {(const uint8_t *)t->data + (size_t)r0 * in_rs, out, t->type, ot, t->ne[0],
                          rows - r0 < chunk ? rows - r0 : chunk, in_rs, out_rs, tmp, {0}};
            ai__pool_run(pool, conv_task, &j);
            for (int k = 0; k < nth && k < 64 && !st; k++) st = j.st[k];
            if (st) ai__set_err(err, err_cap, "tensor '%s': cannot convert from %s to %s", t->name,
                                ai_type_name((int32_t)t->type), ai_type_name((int32_t)ot));
            else st = ai__gguf_w_data(w, f, out, (size_t)j.rows * out_rs);
        }
        if (!st) st = ai__gguf_w_end_tensor(w, f);
    }
    free(out);
    free(tmp);
    return st;
}

ai_status ai_model_quantize(const char *in_path, const char *out_path, int32_t type, const ai_opts *opts,
                            char *err, size_t err_cap) {
    ai__set_err(err, err_cap, "%s", "");
    if (!in_path || !out_path) {
        ai__set_err(err, err_cap, "quantize: NULL path");
        return AI_E_INVAL;
    }
    if (same_file(in_path, out_path)) {
        ai__set_err(err, err_cap, "quantize: input and output are the same file: %s", out_path);
        return AI_E_INVAL;
    }
    if (type < 0 || file_type_of(type) < 0 || !ai__type_supported((uint32_t)type)) {
        ai__set_err(err, err_cap, "quantize: type %d is not a type this library can write", (int)type);
        return AI_E_UNSUPPORTED;
    }
    ai__gguf *g = NULL;
    ai_status st = ai__gguf_open(in_path, 1, &g, err, err_cap);
    if (st) return st;
    for (size_t i = 0; i < g->n_tensors; i++) {
        const ai__gguf_tensor *t = &g->tensors[i];
        if (!is_int_type(t->type) && !ai__type_supported(t->type) && out_type(t, (uint32_t)type) != t->type) {
            ai__set_err(err, err_cap, "tensor '%s' has type %s, which this library cannot read", t->name,
                        ai_type_name((int32_t)t->type) ? ai_type_name((int32_t)t->type) : "?");
            ai__gguf_free(g);
            return AI_E_UNSUPPORTED;
        }
    }
    int64_t n_split = 1;
    if (!ai__gguf_get_int(g, "split.count", &n_split) && n_split > 1) {
        ai__set_err(err, err_cap, "%s is one part of a model split in %lld files; merge the parts first", in_path,
                    (long long)n_split);
        ai__gguf_free(g);
        return AI_E_UNSUPPORTED;
    }
    ai__gguf_writer *w = NULL;
    ai__pool *pool = NULL;
    FILE *f = NULL;
    char *tmp_path = NULL;
    const ai__gguf_tensor **ord = NULL;
    if ((st = ai__gguf_writer_new(g->alignment, &w))) goto done;
    for (size_t i = 0; i < g->n_kv && !st; i++)
        if (!dropped_key(g->kv[i].key)) st = ai__gguf_w_copy_kv(w, &g->kv[i]);
    if (!st) st = ai__gguf_w_u32(w, "general.quantization_version", 2);
    if (!st) st = ai__gguf_w_u32(w, "general.file_type", (uint32_t)file_type_of(type));
    if (st) {
        if (st == AI_E_INVAL)
            ai__set_err(err, err_cap, "cannot copy the metadata (a key twice, or a bad general.alignment)");
        goto done;
    }
    if (g->n_tensors && !(ord = malloc(g->n_tensors * sizeof *ord))) {
        st = AI_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < g->n_tensors; i++) ord[i] = &g->tensors[i];
    if (g->n_tensors) qsort(ord, g->n_tensors, sizeof *ord, tensor_cmp);
    for (size_t i = 0; i < g->n_tensors && !st; i++) {
        const ai__gguf_tensor *t = ord[i];
        st = ai__gguf_w_tensor(w, t->name, out_type(t, (uint32_t)type), t->n_dims, t->ne);
        if (st) ai__set_err(err, err_cap, "tensor '%s': cannot describe it in the output", t->name);
    }
    if (st) goto done;
    int64_t nth = ai__opts_int(opts, AI_OPT_N_THREADS, 0);
    if (nth <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nth = n < 1 ? 1 : n > 64 ? 64 : n;
    }
    if ((st = ai__pool_new((int)(nth > 64 ? 64 : nth), &pool))) goto done;
    size_t pl = strlen(out_path);
    if (!(tmp_path = malloc(pl + 16))) {
        st = AI_E_NOMEM;
        goto done;
    }
    snprintf(tmp_path, pl + 16, "%s.tmp%ld", out_path, (long)getpid());
    if (!(f = fopen(tmp_path, "wb"))) {
        ai__set_err(err, err_cap, "cannot create %s", tmp_path);
        st = AI_E_IO;
        goto done;
    }
    st = ai__gguf_w_begin(w, f);
    if (!st) st = write_tensors(ord, g->n_tensors, w, f, (uint32_t)type, pool, err, err_cap);
    if (fclose(f) != 0 && !st) st = AI_E_IO;
    f = NULL;
    if (!st && rename(tmp_path, out_path) != 0) st = AI_E_IO;
    if (st) {
        if (st == AI_E_IO && err && err_cap && !*err) ai__set_err(err, err_cap, "cannot write %s", out_path);
        remove(tmp_path);
    }
done:
    if (st == AI_E_NOMEM && err && err_cap && !*err) ai__set_err(err, err_cap, "out of memory");
    if (f) {
        fclose(f);
        remove(tmp_path);
    }
    free(tmp_path);
    free(ord);
    ai__pool_free(pool);
    ai__gguf_writer_free(w);
    ai__gguf_free(g);
    return st;
}
