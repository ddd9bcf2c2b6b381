/*
 * embed.c - the public embedding calls (section 8a of agentinfer.h): an
 * embedder ties a shared model to a thread pool and the scratch of a forward
 * pass, tokenizes texts, packs them into passes, and pools and normalizes the
 * token vectors into the caller's buffer.
 *
 * Encoders (encoder.c) take many texts per pass.  Decoders reuse the
 * decoder's forward pass (forward.c) one text at a time, each from position
 * 0 of the KV cache, and read the residual stream after the final RMSNorm.
 */
#include "encoder.h"
#include "internal.h"
#include "model.h"
#include "runtime.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ai_embedder {
    const ai_model *model;
    const ai__encoder *enc;       /* one of enc and dec is set             */
    const struct ai__weights *dec;
    ai__pool *pool;
    ai__enc_fwd ef;
    ai__fwd df;
    int pooling;                  /* AI__POOL_*                            */
    int normalize, truncate, add_eos;
    int64_t dim, n_ctx, n_batch;
    /* the texts of the current call, tokenized */
    int32_t *tok;                 /* all tokens, text after text           */
    size_t tok_cap;
    int64_t *start, *len;         /* per text                              */
    int32_t *cut;                 /* per text: 1 when truncated            */
    size_t text_cap;
    float *row;                   /* [dim] scratch for decoder rows        */
    double *acc;                  /* [dim] pooling sums                    */
    char err[256];
};

static ai_status fail(ai_embedder *e, ai_status st, const char *fmt, ...) AI__PRINTF(3, 4);
static ai_status fail(ai_embedder *e, ai_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, sizeof e->err, fmt, ap);
    va_end(ap);
    return st;
}

int32_t ai_model_embedding_dim(const ai_model *m) {
    if (!m) return 0;
    if (m->encoder) return (int32_t)m->encoder->n_embd;
    if (m->weights) return (int32_t)m->weights->hp.n_embd;
    return 0;
}

ai_status ai_embedder_new(const ai_model *model, const ai_opts *opts, ai_embedder **out,
                          char *err, size_t err_cap) {
    if (out) *out = NULL;
    if (!model || !out) {
        ai__set_err(err, err_cap, "ai_embedder_new: model and out must not be NULL");
        return AI_E_INVAL;
    }
    if (!model->encoder && !model->weights) {
        ai__set_err(err, err_cap, "model '%s' (architecture '%s') has no weights to "
                    "embed with", model->path, model->arch);
        return AI_E_UNSUPPORTED;
    }
    if (!model->vocab) {
        ai__set_err(err, err_cap, "model '%s' has no tokenizer", model->path);
        return AI_E_UNSUPPORTED;
    }
    ai_embedder *e = calloc(1, sizeof *e);
    if (!e) return AI_E_NOMEM;
    e->model = model;
    e->enc = model->encoder;
    e->dec = e->enc ? NULL : model->weights;
    e->dim = ai_model_embedding_dim(model);

    /* pooling: the option, else the file's, else mean (encoders) or last */
    int64_t file_pool = e->enc ? e->enc->pooling : AI__POOL_LAST;
    if (!e->enc) {
        int64_t v;
        if (ai__gguf_get_arch_int(model->gguf, model->arch, "pooling_type", &v) == 0 &&
            v >= AI__POOL_NONE && v <= AI__POOL_LAST)
            file_pool = v;
    }
    int64_t pool = ai__opts_int(opts, AI_OPT_EMBD_POOLING, -1);
    e->pooling = (int)(pool < 0 ? file_pool : pool);
    e->normalize = ai__opts_int(opts, AI_OPT_EMBD_NORMALIZE, 1) != 0;
    e->truncate = ai__opts_int(opts, AI_OPT_EMBD_TRUNCATE, 0) != 0;
    e->add_eos = (int)ai__opts_int(opts, AI_OPT_EMBD_ADD_EOS, -1);

    int64_t ctx_train = e->enc ? e->enc->n_ctx_train : e->dec->hp.n_ctx_train;
    int64_t def_ctx = e->enc ? ctx_train : (ctx_train < 4096 ? ctx_train : 4096);
    e->n_ctx = ai__opts_int(opts, AI_OPT_N_CTX, def_ctx);
    if (e->enc && e->n_ctx > ctx_train) e->n_ctx = ctx_train; /* position table */
    e->n_batch = ai__opts_int(opts, AI_OPT_N_BATCH, e->enc ? 2048 : 512);
    if (e->enc && e->n_batch < e->n_ctx) e->n_batch = e->n_ctx;
    if (!e->enc && e->n_batch > e->n_ctx) e->n_batch = e->n_ctx;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t n_threads = ai__opts_int(opts, AI_OPT_N_THREADS, ncpu > 0 ? ncpu : 1);
    int64_t kv_type = ai__opts_int(opts, AI_OPT_KV_TYPE, AI_TYPE_F16);

    ai_status st = AI_E_INVAL;
    if (e->n_ctx <= 0 || e->n_ctx > INT32_MAX || e->n_batch <= 0 || n_threads <= 0) {
        ai__set_err(err, err_cap, "ai_embedder_new: bad n_ctx, n_batch or n_threads");
        goto out;
    }
    if ((st = ai__pool_new((int)n_threads, &e->pool))) {
        ai__set_err(err, err_cap, "cannot start %lld threads", (long long)n_threads);
        goto out;
    }
    if (e->enc) {
        st = ai__enc_fwd_init(&e->ef, e->enc, e->pool, e->n_batch, e->n_ctx);
        e->ef.blas_min = ai__opts_int(opts, AI_OPT_EMBD_BLAS_MIN_BATCH, -1);
    } else {
        st = ai__fwd_init(&e->df, e->dec, e->pool, e->n_ctx, e->n_batch, (uint32_t)kv_type);
    }
    if (st) {
        ai__set_err(err, err_cap, "%s", e->enc ? e->ef.err : e->df.err);
        goto out;
    }
    e->row = malloc((size_t)e->dim * sizeof *e->row);
    e->acc = malloc((size_t)e->dim * sizeof *e->acc);
    if (!e->row || !e->acc) {
        st = AI_E_NOMEM;
        ai__set_err(err, err_cap, "out of memory");
        goto out;
    }
    *out = e;
    return AI_OK;
out:
    ai_embedder_free(e);
    return st;
}

void ai_embedder_free(ai_embedder *e) {
    if (!e) return;
    ai__enc_fwd_free(&e->ef);
    ai__fwd_free(&e->df);
    ai__pool_free(e->pool);
    free(e->tok);
    free(e->start);
    free(e->len);
    free(e->cut);
    free(e->row);
    free(e->acc);
    free(e);
}

const char *ai_embedder_errmsg(const ai_embedder *e) {
    return e ? e->err : "invalid embedder (NULL)";
}

int32_t ai_embedder_pooling(const ai_embedder *e) { return e ? e->pooling : -1; }

/* ---- tokens ------------------------------------------------------------------------ */

static ai_status grow_texts(ai_embedder *e, size_t n) {
    if (n <= e->text_cap) return AI_OK;
    if (n > SIZE_MAX / sizeof(int64_t)) return AI_E_NOMEM;
    int64_t *s = realloc(e->start, n * sizeof *s);
    if (s) e->start = s;
    int64_t *l = realloc(e->len, n * sizeof *l);
    if (l) e->len = l;
    int32_t *c = realloc(e->cut, n * sizeof *c);
    if (c) e->cut = c;
    if (!s || !l || !c) return AI_E_NOMEM;
    e->text_cap = n;
    return AI_OK;
}

static ai_status grow_tokens(ai_embedder *e, size_t n) {
    if (n <= e->tok_cap) return AI_OK;
    size_t cap = e->tok_cap ? e->tok_cap : 1024;
    while (cap < n) cap = cap > SIZE_MAX / 4 ? n : cap * 2;
    size_t bytes;
    if (ai__mul_size(cap, sizeof *e->tok, &bytes)) return AI_E_NOMEM;
    int32_t *t = realloc(e->tok, bytes);
    if (!t) return AI_E_NOMEM;
    e->tok = t;
    e->tok_cap = cap;
    return AI_OK;
}

static int is_control(const ai_embedder *e, int32_t id) {
    uint32_t a = 0;
    return ai_token_attr(e->model, id, &a) == AI_OK && (a & AI_TOKEN_ATTR_CONTROL);
}

/* Tokenizes text i to the end of the token buffer (at offset at) and applies
 * the EOS and length rules.  The first try has room for n_ctx tokens only:
 * a text that needs more is either an error or cut, and only a cut needs
 * all of its tokens (3 * len + 3 at most). */
static ai_status tokenize_one(ai_embedder *e, size_t i, const char *text, size_t len,
                              size_t at) {
    size_t cap, n = 0;
    if (ai__mul_size(len, 3, &cap) || ai__add_size(cap, 4, &cap))
        return fail(e, AI_E_NOMEM, "text %zu is too long", i);
    if (cap > (size_t)e->n_ctx + 2) cap = (size_t)e->n_ctx + 2;
    for (;;) {
        if (ai__add_size(cap, at, &cap) || grow_tokens(e, cap))
            return fail(e, AI_E_NOMEM, "text %zu: out of memory for its tokens", i);
        /* one slot stays free for an EOS */
        ai_status st = ai_tokenize(e->model, text, len, AI_TOKENIZE_ADD_SPECIAL,
                                   e->tok + at, e->tok_cap - at - 1, &n);
        if (st == AI_OK) break;
        if (st != AI_E_RANGE)
            return fail(e, st, "text %zu: tokenizing failed: %s", i, ai_status_string(st));
        if (!e->truncate)
            return fail(e, AI_E_CONTEXT_FULL, "text %zu has %zu tokens, more than the "
                        "context of %lld (set embd_truncate to cut it)", i, n,
                        (long long)e->n_ctx);
        if (ai__add_size(n, 1, &cap)) return fail(e, AI_E_NOMEM, "text %zu is too long", i);
    }
    /* decoder embedders pooled at the last token are trained with EOS last */
    int want_eos = e->add_eos == 1 || (e->add_eos < 0 && !e->enc && e->pooling == AI__POOL_LAST);
    int32_t eos;
    if (want_eos && ai_vocab_special(e->model, AI_SPECIAL_EOS, &eos) == AI_OK &&
        (n == 0 || e->tok[at + n - 1] != eos))
        e->tok[at + n++] = eos;
    if (n == 0) return fail(e, AI_E_INVAL, "text %zu gives no tokens", i);
    e->cut[i] = 0;
    if ((int64_t)n > e->n_ctx) {
        if (!e->truncate)
            return fail(e, AI_E_CONTEXT_FULL, "text %zu has %zu tokens, more than the "
                        "context of %lld (set embd_truncate to cut it)", i, n,
                        (long long)e->n_ctx);
        /* keep a final [SEP]/EOS: the model expects to see it last */
        int32_t last = e->tok[at + n - 1];
        n = (size_t)e->n_ctx;
        if (is_control(e, last)) e->tok[at + n - 1] = last;
        e->cut[i] = 1;
    }
    e->start[i] = (int64_t)at;
    e->len[i] = (int64_t)n;
    return AI_OK;
}

/* ---- pooling -------------------------------------------------------------------------- */

/* Scales a vector to unit L2 norm (a zero vector stays zero). */
static void l2(float *v, int64_t n) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)v[i] * v[i];
    if (ss <= 0.0) return;
    float inv = (float)(1.0 / sqrt(ss));
    for (int64_t i = 0; i < n; i++) v[i] *= inv;
}

/* Pools rows [0, n) of x (dim apart) into out (one vector, or n rows for
 * NONE). */
static void pool_rows(const ai_embedder *e, const float *x, int64_t n, float *out) {
    int64_t d = e->dim;
    switch (e->pooling) {
    case AI__POOL_NONE:
        memcpy(out, x, (size_t)(n * d) * sizeof *out);
        if (e->normalize)
            for (int64_t t = 0; t < n; t++) l2(out + t * d, d);
        return;
    case AI__POOL_CLS:
        memcpy(out, x, (size_t)d * sizeof *out);
        break;
    case AI__POOL_LAST:
        memcpy(out, x + (n - 1) * d, (size_t)d * sizeof *out);
        break;
    default: /* mean */
        for (int64_t i = 0; i < d; i++) e->acc[i] = 0.0;
        for (int64_t t = 0; t < n; t++)
            for (int64_t i = 0; i < d; i++) e->acc[i] += x[t * d + i];
        for (int64_t i = 0; i < d; i++) out[i] = (float)(e->acc[i] / (double)n);
    }
    if (e->normalize) l2(out, d);
}

/* ---- forward passes ---------------------------------------------------------------------- */

/* Texts [first, last) of the call, packed into one encoder pass. */
static ai_status run_encoder(ai_embedder *e, size_t first, size_t last, float **out) {
    int64_t base = e->start[first];
    /* the pass wants starts relative to its first token */
    for (size_t i = first; i < last; i++) e->start[i] -= base;
    ai_status st = ai__enc_run(&e->ef, e->tok + base, e->start + first, e->len + first,
                               (int64_t)(last - first));
    for (size_t i = first; i < last; i++) e->start[i] += base;
    if (st) return fail(e, st, "%s", e->ef.err);
    for (size_t i = first; i < last; i++) {
        pool_rows(e, e->ef.x + (e->start[i] - base) * e->dim, e->len[i], *out);
        *out += e->pooling == AI__POOL_NONE ? e->len[i] * e->dim : e->dim;
    }
    return AI_OK;
}

/* One text through the decoder, in batches from position 0.  The rows it
 * pools go through the final RMSNorm; mean pooling sums batch by batch. */
static ai_status run_decoder(ai_embedder *e, size_t i, float **out) {
    const struct ai__weights *w = e->dec;
    int64_t d = e->dim, n = e->len[i];
    const int32_t *tok = e->tok + e->start[i];
    float *dst = *out;
    for (int64_t k = 0; k < d; k++) e->acc[k] = 0.0;
    for (int64_t p = 0; p < n; p += e->n_batch) {
        int64_t nb = n - p < e->n_batch ? n - p : e->n_batch;
        ai_status st = ai__fwd_run(&e->df, tok + p, nb, p, NULL, 0);
        if (st) return fail(e, st, "text %zu: %s", i, e->df.err);
        for (int64_t b = 0; b < nb; b++) {
            int64_t t = p + b;
            int want = e->pooling == AI__POOL_NONE || e->pooling == AI__POOL_MEAN ||
                       (e->pooling == AI__POOL_CLS && t == 0) ||
                       (e->pooling == AI__POOL_LAST && t == n - 1);
            if (!want) continue;
            ai__rmsnorm(e->row, e->df.x + b * d, w->out_norm, d, w->hp.rms_eps);
            if (e->pooling == AI__POOL_MEAN) {
                for (int64_t k = 0; k < d; k++) e->acc[k] += e->row[k];
            } else {
                float *o = e->pooling == AI__POOL_NONE ? dst + t * d : dst;
                memcpy(o, e->row, (size_t)d * sizeof *o);
                if (e->normalize) l2(o, d);
            }
        }
    }
    if (e->pooling == AI__POOL_MEAN) {
        for (int64_t k = 0; k < d; k++) dst[k] = (float)(e->acc[k] / (double)n);
        if (e->normalize) l2(dst, d);
    }
    *out += e->pooling == AI__POOL_NONE ? n * d : d;
    return AI_OK;
}

/* ---- the calls ------------------------------------------------------------------------------- */

ai_status ai_embed_batch(ai_embedder *e, const char *const *texts, const size_t *lens,
                         size_t n_texts, float *out, size_t cap, size_t *needed,
                         int32_t *n_tokens, int32_t *truncated) {
    if (needed) *needed = 0;
    if (!e) return AI_E_INVAL;
    e->err[0] = 0;
    if (n_texts == 0) return AI_OK;
    if (!texts) return fail(e, AI_E_INVAL, "texts is NULL");
    if (grow_texts(e, n_texts)) return fail(e, AI_E_NOMEM, "out of memory");
    size_t at = 0, total = 0;
    for (size_t i = 0; i < n_texts; i++) {
        size_t len = lens ? lens[i] : (texts[i] ? strlen(texts[i]) : 0);
        if (!texts[i] && len) return fail(e, AI_E_INVAL, "text %zu is NULL", i);
        ai_status st = tokenize_one(e, i, texts[i], len, at);
        if (st) return st;
        at += (size_t)e->len[i];
        if (n_tokens) n_tokens[i] = (int32_t)e->len[i];
        if (truncated) truncated[i] = e->cut[i];
        total += e->pooling == AI__POOL_NONE ? (size_t)e->len[i] : 1;
    }
    size_t need;
    if (ai__mul_size(total, (size_t)e->dim, &need))
        return fail(e, AI_E_NOMEM, "the embeddings do not fit in memory");
    if (needed) *needed = need;
    if (!out || cap < need)
        return fail(e, AI_E_RANGE, "the embeddings need %zu floats, the buffer has %zu",
                    need, out ? cap : 0);

    float *o = out;
    if (!e->enc) {
        for (size_t i = 0; i < n_texts; i++) {
            ai_status st = run_decoder(e, i, &o);
            if (st) return st;
        }
        return AI_OK;
    }
    /* greedy packing: as many whole texts as fit in n_batch tokens */
    for (size_t first = 0; first < n_texts;) {
        size_t last = first;
        int64_t n = 0;
        while (last < n_texts && n + e->len[last] <= e->n_batch) n += e->len[last++];
        ai_status st = run_encoder(e, first, last, &o);
        if (st) return st;
        first = last;
    }
    return AI_OK;
}

ai_status ai_embed(ai_embedder *e, const char *text, size_t len, float *out, size_t cap,
                   size_t *needed, int32_t *n_tokens, int32_t *truncated) {
    if (needed) *needed = 0;
    if (!e) return AI_E_INVAL;
    if (!text && len) return fail(e, AI_E_INVAL, "text is NULL");
    const char *texts[1] = {text ? text : ""};
    size_t lens[1] = {len};
    return ai_embed_batch(e, texts, lens, 1, out, cap, needed, n_tokens, truncated);
}
