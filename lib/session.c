/*
 * session.c - the public session calls (section 7 of agentinfer.h): a KV
 * cache and its forward pass, the logits of the last evaluation, a sampler
 * and the generation loop.  A session belongs to one thread at a time; the
 * model it reads is shared and never written.
 */
#include "internal.h"
#include "kernels.h"
#include "model.h"
#include "runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ai_session {
    const ai_model *model;
    const struct ai__weights *w;
    ai__pool *pool;
    ai__fwd fwd;
    int64_t n_ctx, n_batch, n_vocab;
    int32_t *tokens;        /* [n_ctx] the context, tokens[0..n_past)       */
    int64_t n_past;
    float *logits;          /* [n_rows][n_vocab] of the last evaluation     */
    size_t logits_cap;      /* floats allocated                             */
    int64_t n_rows;         /* 0: no logits                                 */
    int all;                /* rows are every token of the last evaluation  */
    ai__sampler smp;
    int64_t max_tokens;     /* generation limit per ai_session_eval         */
    int64_t n_gen;          /* tokens generated since                       */
    ai_cancel_fn cancel;
    void *cancel_ud;
    char err[256];
};

static ai_status fail(ai_session *s, ai_status st, const char *fmt, ...)
    AI__PRINTF(3, 4);
static ai_status fail(ai_session *s, ai_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return st;
}

/* The sampling options of a bag, with the defaults of the header. */
static void read_sparams(const ai_opts *o, ai__sparams *p, int64_t *max_tokens) {
    p->temperature = (float)ai__opts_double(o, AI_OPT_TEMPERATURE, 0.8);
    p->top_k = (int32_t)ai__opts_int(o, AI_OPT_TOP_K, 40);
    p->top_p = (float)ai__opts_double(o, AI_OPT_TOP_P, 0.95);
    p->min_p = (float)ai__opts_double(o, AI_OPT_MIN_P, 0.05);
    p->repeat_penalty = (float)ai__opts_double(o, AI_OPT_REPEAT_PENALTY, 1.0);
    p->presence_penalty = (float)ai__opts_double(o, AI_OPT_PRESENCE_PENALTY, 0.0);
    p->frequency_penalty = (float)ai__opts_double(o, AI_OPT_FREQUENCY_PENALTY, 0.0);
    p->last_n = (int32_t)ai__opts_int(o, AI_OPT_REPEAT_LAST_N, 64);
    p->seed = (uint64_t)ai__opts_int(o, AI_OPT_SEED, 0xA6E57);
    *max_tokens = ai__opts_int(o, AI_OPT_MAX_TOKENS, 256);
}

ai_status ai_session_new(const ai_model *model, const ai_opts *opts,
                         ai_session **out, char *err, size_t err_cap) {
    if (out) *out = NULL;
    if (!model || !out) {
        ai__set_err(err, err_cap, "ai_session_new: model and out must not be NULL");
        return AI_E_INVAL;
    }
    const struct ai__weights *w = model->weights;
    if (!w) {
        ai__set_err(err, err_cap, "model '%s' (architecture '%s') has no decoder "
                    "weights to run", model->path ? model->path : "",
                    model->arch ? model->arch : "");
        return AI_E_UNSUPPORTED;
    }
    const ai__hparams *hp = &w->hp;
    int64_t n_ctx = hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
    n_ctx = ai__opts_int(opts, AI_OPT_N_CTX, n_ctx);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t n_threads = ai__opts_int(opts, AI_OPT_N_THREADS, ncpu > 0 ? ncpu : 1);
    int64_t n_batch = ai__opts_int(opts, AI_OPT_N_BATCH, 512);
    int64_t kv_type = ai__opts_int(opts, AI_OPT_KV_TYPE, AI_TYPE_F16);
    if (n_ctx <= 0 || n_ctx > INT32_MAX || n_threads <= 0 || n_batch <= 0) {
        ai__set_err(err, err_cap, "ai_session_new: bad n_ctx, n_threads or n_batch");
        return AI_E_INVAL;
    }
    if (kv_type != AI_TYPE_F16 && kv_type != AI_TYPE_F32 && kv_type != AI_TYPE_Q8_0) {
        ai__set_err(err, err_cap, "kv_type %lld: the KV cache holds f16, f32 or q8_0",
                    (long long)kv_type);
        return AI_E_UNSUPPORTED;
    }
    if (n_batch > n_ctx) n_batch = n_ctx;

    ai_session *s = calloc(1, sizeof *s);
    if (!s) return AI_E_NOMEM;
    s->model = model;
    s->w = w;
    s->n_ctx = n_ctx;
    s->n_batch = n_batch;
    s->n_vocab = hp->n_vocab;
    ai__sparams sp;
    read_sparams(opts, &sp, &s->max_tokens);
    ai_status st = ai__pool_new((int)n_threads, &s->pool);
    if (st) {
        ai__set_err(err, err_cap, "cannot start %lld threads", (long long)n_threads);
        goto out;
    }
    if ((st = ai__fwd_init(&s->fwd, w, s->pool, n_ctx, n_batch, (uint32_t)kv_type))) {
        ai__set_err(err, err_cap, "%s", s->fwd.err);
        goto out;
    }
    st = AI_E_NOMEM;
    s->tokens = malloc((size_t)n_ctx * sizeof *s->tokens);
    if (!s->tokens || ai__sampler_init(&s->smp, &sp, s->n_vocab) != AI_OK) {
        ai__set_err(err, err_cap, "out of memory for a session of %lld positions",
                    (long long)n_ctx);
        goto out;
    }
    *out = s;
    return AI_OK;
out:
    ai_session_free(s);
    return st;
}

void ai_session_free(ai_session *s) {
    if (!s) return;
    ai__fwd_free(&s->fwd);
    ai__pool_free(s->pool);
    ai__sampler_free(&s->smp);
    free(s->tokens);
    free(s->logits);
    free(s);
}

const char *ai_session_errmsg(const ai_session *s) {
    return s ? s->err : "invalid session (NULL)";
}

int32_t ai_session_n_ctx(const ai_session *s) { return s ? (int32_t)s->n_ctx : 0; }
int32_t ai_session_n_past(const ai_session *s) { return s ? (int32_t)s->n_past : 0; }
int32_t ai_session_n_vocab(const ai_session *s) { return s ? (int32_t)s->n_vocab : 0; }

/* ---- evaluation ---------------------------------------------------------------- */

/* Runs tokens through the model in batches; keeps all rows or the last. */
static ai_status eval(ai_session *s, const int32_t *tokens, size_t n, int all) {
    if (!tokens || n == 0) return fail(s, AI_E_INVAL, "no tokens to evaluate");
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= s->n_vocab)
            return fail(s, AI_E_INVAL, "token %zu is %d, outside the vocabulary "
                        "(0..%lld)", i, tokens[i], (long long)s->n_vocab - 1);
    if (n > (size_t)(s->n_ctx - s->n_past))
        return fail(s, AI_E_CONTEXT_FULL, "%zu tokens do not fit: %lld of %lld "
                    "positions are used", n, (long long)s->n_past, (long long)s->n_ctx);
    size_t rows = all ? n : 1, need;
    if (ai__mul_size(rows, (size_t)s->n_vocab, &need) != 0)
        return fail(s, AI_E_NOMEM, "logits of %zu tokens do not fit in memory", n);
    if (need > s->logits_cap) {
        float *l = realloc(s->logits, need * sizeof *l);
        if (!l) return fail(s, AI_E_NOMEM, "out of memory for the logits of %zu tokens", n);
        s->logits = l;
        s->logits_cap = need;
    }
    s->n_rows = 0;
    for (size_t i = 0; i < n; i += (size_t)s->n_batch) {
        if (s->cancel && s->cancel(s->cancel_ud))
            return fail(s, AI_E_CANCELLED, "cancelled after %zu of %zu tokens", i, n);
        size_t nb = n - i < (size_t)s->n_batch ? n - i : (size_t)s->n_batch;
        int last = i + nb == n;
        float *dst = all ? s->logits + i * (size_t)s->n_vocab : (last ? s->logits : NULL);
        ai_status st = ai__fwd_run(&s->fwd, tokens + i, (int64_t)nb, s->n_past, dst, all);
        if (st != AI_OK) return fail(s, st, "%s", s->fwd.err);
        memcpy(s->tokens + s->n_past, tokens + i, nb * sizeof *tokens);
        s->n_past += (int64_t)nb;
    }
    s->n_rows = (int64_t)rows;
    s->all = all;
    return AI_OK;
}

ai_status ai_session_eval(ai_session *s, const int32_t *tokens, size_t n,
                          int32_t flags) {
    if (!s) return AI_E_INVAL;
    s->err[0] = 0;
    s->n_gen = 0;
    return eval(s, tokens, n, (flags & AI_EVAL_LOGITS_ALL) != 0);
}

static const float *logits_row(const ai_session *s, int32_t row) {
    if (s->n_rows == 0) return NULL;
    if (row == -1) return s->logits + (size_t)(s->n_rows - 1) * (size_t)s->n_vocab;
    if (row < 0 || row >= s->n_rows) return NULL;
    return s->logits + (size_t)row * (size_t)s->n_vocab;
}

ai_status ai_session_logits(const ai_session *s, int32_t row, float *buf,
                            size_t cap, size_t *needed) {
    if (!s) return AI_E_INVAL;
    if (needed) *needed = (size_t)s->n_vocab;
    if (s->n_rows == 0) return AI_E_INVAL;
    const float *r = logits_row(s, row);
    if (!r || cap < (size_t)s->n_vocab || !buf) return AI_E_RANGE;
    memcpy(buf, r, (size_t)s->n_vocab * sizeof *buf);
    return AI_OK;
}

ai_status ai_session_rewind(ai_session *s, int32_t n_past) {
    if (!s) return AI_E_INVAL;
    if (n_past < 0 || n_past > s->n_past)
        return fail(s, AI_E_INVAL, "cannot rewind to %d: %lld positions are filled",
                    n_past, (long long)s->n_past);
    s->n_past = n_past; /* rows beyond are overwritten before they are read */
    s->n_rows = 0;
    s->n_gen = 0;
    return AI_OK;
}

ai_status ai_session_set_cancel(ai_session *s, ai_cancel_fn fn, void *user_data) {
    if (!s) return AI_E_INVAL;
    s->cancel = fn;
    s->cancel_ud = user_data;
    return AI_OK;
}

/* ---- sampling and generation ---------------------------------------------------- */

ai_status ai_session_set_sampling(ai_session *s, const ai_opts *opts) {
    if (!s) return AI_E_INVAL;
    ai__sparams sp;
    read_sparams(opts, &sp, &s->max_tokens);
    s->smp.p = sp;
    ai__sampler_reseed(&s->smp, sp.seed);
    return AI_OK;
}

ai_status ai_session_sample(ai_session *s, int32_t *token) {
    if (!s || !token) return AI_E_INVAL;
    const float *row = logits_row(s, -1);
    if (!row) return fail(s, AI_E_INVAL, "nothing evaluated yet: no logits to sample from");
    *token = ai__sampler_sample(&s->smp, row, s->tokens, (size_t)s->n_past);
    return AI_OK;
}

static int is_eog(const struct ai__weights *w, int32_t t) {
    for (int i = 0; i < w->n_eog; i++)
        if (w->eog[i] == t) return 1;
    return 0;
}

ai_status ai_session_next_token(ai_session *s, int32_t *token) {
    if (!s || !token) return AI_E_INVAL;
    *token = -1;
    s->err[0] = 0;
    if (s->n_gen >= s->max_tokens) return AI_DONE;
    if (s->n_past >= s->n_ctx)
        return fail(s, AI_E_CONTEXT_FULL, "the context of %lld positions is full",
                    (long long)s->n_ctx);
    int32_t t;
    ai_status st = ai_session_sample(s, &t);
    if (st) return st;
    if (is_eog(s->w, t)) return AI_DONE;
    if ((st = eval(s, &t, 1, 0))) return st;
    s->n_gen++;
    *token = t;
    return AI_OK;
}
