/*
 * weights.c - hyperparameters and tensor bindings of the supported decoders
 * (llama, qwen2, qwen3, phi3).  Everything is checked here, at load time, so
 * that the forward pass can trust every shape: a missing tensor, a wrong
 * shape or a type without kernels fails the load with the tensor's name.
 * Matrices are used in place in the file image; only 1-D vectors stored in a
 * type other than f32 are converted (and owned).
 */
#include "runtime.h"

#include "bind.h"
#include "internal.h"
#include "kernels.h"
#include "types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int arch;
    int rope_mode;
} archs[] = {
    {"llama", AI__ARCH_LLAMA, AI__ROPE_NORM},
    {"qwen2", AI__ARCH_QWEN2, AI__ROPE_NEOX},
    {"qwen3", AI__ARCH_QWEN3, AI__ROPE_NEOX},
    {"phi3", AI__ARCH_PHI3, AI__ROPE_NEOX},
};

int ai__arch_supported(const char *arch) {
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (arch && !strcmp(arch, archs[i].name)) return 1;
    return 0;
}

/* State of one load: the file, the result and where errors go. */
typedef struct binder {
    const ai__gguf *g;
    const char *arch;
    struct ai__weights *w;
    char *err;
    size_t err_cap;
} binder;

/* ---- metadata ------------------------------------------------------------- */

/* "<arch>.<suffix>" as a positive integer; def when absent (def < 0: required). */
static ai_status hp_int(binder *b, const char *suffix, int64_t def,
                        int64_t *out) {
    int64_t v;
    char key[128];
    snprintf(key, sizeof key, "%s.%s", b->arch, suffix);
    if (ai__gguf_get_arch_int(b->g, b->arch, suffix, &v) != 0) {
        if (ai__gguf_find(b->g, key) || def < 0) {
            ai__set_err(b->err, b->err_cap, "metadata %s is %s", key,
                        ai__gguf_find(b->g, key) ? "not an integer" : "missing");
            return AI_E_FORMAT;
        }
        v = def;
    }
    /* dimensions up to 2^24 keep every product of two or three of them
     * far from overflow; context lengths may be larger */
    int64_t max = strstr(suffix, "context_length") ? (int64_t)1 << 31 : (int64_t)1 << 24;
    if (v <= 0 || v > max) {
        ai__set_err(b->err, b->err_cap, "metadata %s = %lld is out of range",
                    key, (long long)v);
        return AI_E_FORMAT;
    }
    *out = v;
    return AI_OK;
}

static ai_status hp_float(binder *b, const char *suffix, double def,
                          float *out) {
    double v;
    char key[128];
    snprintf(key, sizeof key, "%s.%s", b->arch, suffix);
    if (ai__gguf_get_arch_float(b->g, b->arch, suffix, &v) != 0) {
        if (ai__gguf_find(b->g, key)) {
            ai__set_err(b->err, b->err_cap, "metadata %s is not a number", key);
            return AI_E_FORMAT;
        }
        v = def;
    }
    if (!isfinite(v)) {
        ai__set_err(b->err, b->err_cap, "metadata %s is not finite", key);
        return AI_E_FORMAT;
    }
    *out = (float)v;
    return AI_OK;
}

static ai_status read_hparams(binder *b, const ai__gguf_tensor *embd) {
    ai__hparams *hp = &b->w->hp;
    ai_status st;
    if ((st = hp_int(b, "embedding_length", -1, &hp->n_embd)) ||
        (st = hp_int(b, "block_count", -1, &hp->n_layer)) ||
        (st = hp_int(b, "feed_forward_length", -1, &hp->n_ff)) ||
        (st = hp_int(b, "attention.head_count", -1, &hp->n_head)) ||
        (st = hp_int(b, "attention.head_count_kv", hp->n_head, &hp->n_head_kv)) ||
        (st = hp_int(b, "context_length", 2048, &hp->n_ctx_train)))
        return st;
    if (hp->n_head % hp->n_head_kv != 0 || hp->n_embd % hp->n_head != 0) {
        ai__set_err(b->err, b->err_cap,
                    "%s: %lld heads do not divide into %lld kv heads / %lld dims",
                    b->arch, (long long)hp->n_head, (long long)hp->n_head_kv,
                    (long long)hp->n_embd);
        return AI_E_FORMAT;
    }
    int64_t hd = hp->n_embd / hp->n_head;
    if ((st = hp_int(b, "attention.key_length", hd, &hp->head_dim)) ||
        (st = hp_int(b, "attention.value_length", hp->head_dim, &hp->head_dim_v)) ||
        (st = hp_int(b, "rope.dimension_count", hp->head_dim, &hp->n_rot)))
        return st;
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2 != 0) {
        ai__set_err(b->err, b->err_cap, "%s.rope.dimension_count = %lld does "
                    "not fit a head of %lld", b->arch, (long long)hp->n_rot,
                    (long long)hp->head_dim);
        return AI_E_FORMAT;
    }
    if ((st = hp_float(b, "attention.layer_norm_rms_epsilon", 1e-5, &hp->rms_eps)) ||
        (st = hp_float(b, "rope.freq_base", 10000.0, &hp->rope_base)) ||
        (st = hp_float(b, "rope.scaling.attn_factor", 1.0, &hp->rope_attn)))
        return st;
    if (hp->rms_eps < 0 || hp->rope_base <= 0) {
        ai__set_err(b->err, b->err_cap, "%s: bad rms epsilon or rope base", b->arch);
        return AI_E_FORMAT;
    }

    /* rope scaling: none and linear are plain; LongRoPE (phi3) and Llama 3
     * come as factor tensors, bound below; YaRN is not implemented */
    hp->rope_scale = 1.0f;
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", b->arch);
    const char *type = NULL;
    size_t tlen = 0;
    if (ai__gguf_get_str(b->g, key, &type, &tlen) == 0) {
        if (tlen == 6 && !memcmp(type, "linear", 6)) {
            float f;
            if ((st = hp_float(b, "rope.scaling.factor", 1.0, &f))) return st;
            if (f <= 0) {
                ai__set_err(b->err, b->err_cap, "%s.rope.scaling.factor must be "
                            "positive", b->arch);
                return AI_E_FORMAT;
            }
            hp->rope_scale = 1.0f / f;
        } else if (!(tlen == 4 && !memcmp(type, "none", 4)) &&
                   !(tlen == 8 && !memcmp(type, "longrope", 8))) {
            ai__set_err(b->err, b->err_cap, "%s = %.*s: this rope scaling is "
                        "not supported", key, (int)(tlen > 40 ? 40 : tlen), type);
            return AI_E_UNSUPPORTED;
        }
    }
    if ((st = hp_int(b, "rope.scaling.original_context_length", hp->n_ctx_train,
                     &hp->n_ctx_orig)))
        return st;

    hp->n_vocab = embd->ne[1];
    return AI_OK;
}

/* ---- tensors ---------------------------------------------------------------- */

static ai__bind bind_of(const binder *b) {
    ai__bind c = {b->g, b->arch, b->err, b->err_cap};
    return c;
}

static const ai__gguf_tensor *find(binder *b, const char *name, int required,
                                   ai_status *st) {
    ai__bind c = bind_of(b);
    return ai__bind_find(&c, name, required, st);
}

static ai_status bad_shape(binder *b, const char *name, const ai__gguf_tensor *t, int64_t c,
                           int64_t r) {
    ai__bind cb = bind_of(b);
    return ai__bind_bad_shape(&cb, name, t, c, r);
}

static ai_status mat(binder *b, ai__mat *m, const char *name, int64_t cols, int64_t rows,
                     int required) {
    ai__bind c = bind_of(b);
    return ai__bind_mat(&c, m, name, cols, rows, required);
}

/* Binds a vector of n floats: in place when stored as f32, else converted
 * into a copy owned by the weights. */
static ai_status vec(binder *b, const float **out, const char *name,
                     int64_t n, int required) {
    ai_status st = AI_OK;
    const ai__gguf_tensor *t = find(b, name, required, &st);
    *out = NULL;
    if (!t) return st;
    if (t->ne[0] != n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1)
        return bad_shape(b, name, t, n, 1);
    if (t->type == AI_TYPE_F32 && ((uintptr_t)t->data & 3) == 0) {
        *out = t->data;
        return AI_OK;
    }
    struct ai__weights *w = b->w;
    void **no = realloc(w->owned, (w->n_owned + 1) * sizeof *no);
    if (!no) return AI_E_NOMEM;
    w->owned = no;
    float *f = malloc((size_t)n * sizeof *f);
    if (!f) return AI_E_NOMEM;
    w->owned[w->n_owned++] = f;
    if (t->type == AI_TYPE_F32) {
        memcpy(f, t->data, (size_t)n * sizeof *f);
    } else if ((st = ai__dequant_row(t->type, t->data, f, n)) != AI_OK) {
        ai__set_err(b->err, b->err_cap, "tensor %s: type %u cannot be read as "
                    "a vector", name, (unsigned)t->type);
        return st == AI_E_INVAL ? AI_E_FORMAT : st;
    }
    *out = f;
    return AI_OK;
}

static ai_status bind_layer(binder *b, int64_t il) {
    const ai__hparams *hp = &b->w->hp;
    ai__layer *L = &b->w->layers[il];
    int64_t E = hp->n_embd;
    int64_t q_dim = hp->n_head * hp->head_dim;
    int64_t k_dim = hp->n_head_kv * hp->head_dim;
    int64_t v_dim = hp->n_head_kv * hp->head_dim_v;
    int64_t o_dim = hp->n_head * hp->head_dim_v;
    int arch = hp->arch;
    char n[AI__GGUF_MAX_NAME + 32];
    ai_status st;
#define NAME(s) (snprintf(n, sizeof n, "blk.%lld." s, (long long)il), n)
    if ((st = vec(b, &L->attn_norm, NAME("attn_norm.weight"), E, 1)) ||
        (st = vec(b, &L->ffn_norm, NAME("ffn_norm.weight"), E, 1)) ||
        (st = mat(b, &L->wo, NAME("attn_output.weight"), o_dim, E, 1)) ||
        (st = mat(b, &L->w_down, NAME("ffn_down.weight"), hp->n_ff, E, 1)))
        return st;
    if (arch == AI__ARCH_PHI3) {
        if ((st = mat(b, &L->wqkv, NAME("attn_qkv.weight"), E, q_dim + k_dim + v_dim, 1)) ||
            (st = mat(b, &L->w_up, NAME("ffn_up.weight"), E, 2 * hp->n_ff, 1)))
            return st;
        return AI_OK;
    }
    if ((st = mat(b, &L->wq, NAME("attn_q.weight"), E, q_dim, 1)) ||
        (st = mat(b, &L->wk, NAME("attn_k.weight"), E, k_dim, 1)) ||
        (st = mat(b, &L->wv, NAME("attn_v.weight"), E, v_dim, 1)) ||
        (st = mat(b, &L->w_gate, NAME("ffn_gate.weight"), E, hp->n_ff, 1)) ||
        (st = mat(b, &L->w_up, NAME("ffn_up.weight"), E, hp->n_ff, 1)))
        return st;
    /* qwen2 requires the biases; llama files may carry them too */
    int need_bias = arch == AI__ARCH_QWEN2;
    if ((st = vec(b, &L->bq, NAME("attn_q.bias"), q_dim, need_bias)) ||
        (st = vec(b, &L->bk, NAME("attn_k.bias"), k_dim, need_bias)) ||
        (st = vec(b, &L->bv, NAME("attn_v.bias"), v_dim, need_bias)))
        return st;
    if (arch == AI__ARCH_QWEN3) {
        if ((st = vec(b, &L->q_norm, NAME("attn_q_norm.weight"), hp->head_dim, 1)) ||
            (st = vec(b, &L->k_norm, NAME("attn_k_norm.weight"), hp->head_dim, 1)))
            return st;
    }
#undef NAME
    return AI_OK;
}

/* End-of-generation ids: the ones the metadata names, plus tokens whose text
 * is a well-known end-of-turn marker (chat models often name only eos). */
static void find_eog(binder *b) {
    struct ai__weights *w = b->w;
    static const char *const keys[] = {"tokenizer.ggml.eos_token_id",
                                       "tokenizer.ggml.eot_token_id",
                                       "tokenizer.ggml.eom_token_id"};
    static const char *const texts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>",
                                        "<|endoftext|>", "<end_of_turn>",
                                        "<|eom_id|>", "</s>"};
    int64_t v;
    w->n_eog = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (ai__gguf_get_int(b->g, keys[i], &v) == 0 && v >= 0 && v < w->hp.n_vocab &&
            w->n_eog < AI__MAX_EOG)
            w->eog[w->n_eog++] = (int32_t)v;
    const ai__gguf_kv *toks = ai__gguf_find(b->g, "tokenizer.ggml.tokens");
    if (toks && toks->type == AI__GGUF_ARRAY && toks->arr_type == AI__GGUF_STRING) {
        uint64_t n = toks->n < (uint64_t)w->hp.n_vocab ? toks->n : (uint64_t)w->hp.n_vocab;
        for (uint64_t i = 0; i < n && w->n_eog < AI__MAX_EOG; i++) {
            const char *s = NULL;
            size_t len = 0;
            if (ai__gguf_arr_str(toks, i, &s, &len) != 0 || len < 4 || len > 14) continue;
            for (size_t j = 0; j < sizeof texts / sizeof texts[0]; j++) {
                if (strlen(texts[j]) != len || memcmp(texts[j], s, len)) continue;
                int dup = 0;
                for (int e = 0; e < w->n_eog; e++) dup |= w->eog[e] == (int32_t)i;
                if (!dup) w->eog[w->n_eog++] = (int32_t)i;
            }
        }
    }
    w->bos = -1;
    if (ai__gguf_get_int(b->g, "tokenizer.ggml.bos_token_id", &v) == 0 && v >= 0 &&
        v < w->hp.n_vocab)
        w->bos = (int32_t)v;
}

ai_status ai__weights_load(const ai__gguf *g, const char *arch,
                           struct ai__weights **out, char *err,
                           size_t err_cap) {
    if (!g || !out) return AI_E_INVAL;
    *out = NULL;
    int a = 0, mode = 0;
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (arch && !strcmp(arch, archs[i].name)) a = archs[i].arch, mode = archs[i].rope_mode;
    if (!a) {
        ai__set_err(err, err_cap, "architecture '%s' is not supported (supported "
                    "decoders: llama, qwen2, qwen3, phi3)", arch ? arch : "");
        return AI_E_UNSUPPORTED;
    }
    struct ai__weights *w = calloc(1, sizeof *w);
    if (!w) return AI_E_NOMEM;
    binder b = {g, arch, w, err, err_cap};
    ai__hparams *hp = &w->hp;
    hp->arch = a;
    hp->rope_mode = mode;
    ai_status st = AI_OK;

    const ai__gguf_tensor *embd = find(&b, "token_embd.weight", 1, &st);
    if (!embd) goto fail;
    if ((st = read_hparams(&b, embd))) goto fail;
    int64_t E = hp->n_embd;
    if ((st = mat(&b, &w->tok_embd, "token_embd.weight", E, hp->n_vocab, 1)) ||
        (st = vec(&b, &w->out_norm, "output_norm.weight", E, 1)) ||
        (st = mat(&b, &w->output, "output.weight", E, hp->n_vocab, 0)))
        goto fail;
    if (!w->output.data) w->output = w->tok_embd; /* tied embeddings */
    int64_t half = hp->n_rot / 2;
    if ((st = vec(&b, &w->rope_freqs, "rope_freqs.weight", half, 0)) ||
        (st = vec(&b, &w->rope_long, "rope_factors_long.weight", half, 0)) ||
        (st = vec(&b, &w->rope_short, "rope_factors_short.weight", half, 0)))
        goto fail;

    /* every layer has at least 6 tensors (phi3): refuse a block count the file
     * cannot hold before allocating for it */
    if ((uint64_t)hp->n_layer * 6 > (uint64_t)g->n_tensors) {
        ai__set_err(err, err_cap, "%s.block_count = %lld, but the file has only %zu "
                    "tensors", arch, (long long)hp->n_layer, g->n_tensors);
        st = AI_E_FORMAT;
        goto fail;
    }
    w->layers = calloc((size_t)hp->n_layer, sizeof *w->layers);
    if (!w->layers) {
        st = AI_E_NOMEM;
        goto fail;
    }
    for (int64_t il = 0; il < hp->n_layer; il++)
        if ((st = bind_layer(&b, il))) goto fail;
    find_eog(&b);
    *out = w;
    return AI_OK;
fail:
    if (st == AI_E_NOMEM) ai__set_err(err, err_cap, "out of memory binding tensors");
    ai__weights_free(w);
    return st;
}

void ai__weights_free(struct ai__weights *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_owned; i++) free(w->owned[i]);
    free(w->owned);
    free(w->layers);
    free(w);
}
