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
#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    ai__session_state_init(s, opts);
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
    ai_detokenizer_free(s->detok);
    ai__buf_free(&s->pending);
    free(s->piece);
    ai_session_clear_stops(s);
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
    s->n_eval = (int64_t)n;
    return AI_OK;
}

/* Forgets the text state of a generation: a new one starts. */
static void gen_reset(ai_session *s) {
    s->n_gen = 0;
    s->gen_done = 0;
    s->pending.len = 0;
    if (s->detok) {
        char tmp[64];
        size_t need;
        /* drops held-back bytes; RANGE cannot leave state behind that
         * matters, as the detokenizer is recreated then */
        if (ai_detokenizer_flush(s->detok, tmp, sizeof tmp, &need) != AI_OK) {
            ai_detokenizer_free(s->detok);
            s->detok = NULL;
        }
    }
}

ai_status ai_session_eval(ai_session *s, const int32_t *tokens, size_t n,
                          int32_t flags) {
    if (!s) return AI_E_INVAL;
    s->err[0] = 0;
    gen_reset(s);
    return eval(s, tokens, n, (flags & AI_EVAL_LOGITS_ALL) != 0);
}

/* Row `row` of the last evaluation (-1: its last token), NULL when not kept. */
static const float *logits_row(const ai_session *s, int32_t row) {
    if (s->n_rows == 0) return NULL;
    if (row == -1) return s->logits + (size_t)(s->n_rows - 1) * (size_t)s->n_vocab;
    if (!s->all) return row == s->n_eval - 1 ? s->logits : NULL;
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
    gen_reset(s);
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

/* End of generation: the ids the weights found in the metadata, or what the
 * tokenizer marks as such. */
static int is_eog(const ai_session *s, int32_t t) {
    for (int i = 0; i < s->w->n_eog; i++)
        if (s->w->eog[i] == t) return 1;
    uint32_t attr = 0;
    return ai_token_attr(s->model, t, &attr) == AI_OK && (attr & AI_TOKEN_ATTR_EOG);
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
    if (is_eog(s, t)) return AI_DONE;
    if ((st = eval(s, &t, 1, 0))) return st;
    s->n_gen++;
    *token = t;
    return AI_OK;
}

/* ---- text: stop strings, step, generate ------------------------------------------ */

ai_status ai_session_add_stop(ai_session *s, const char *utf8, size_t len) {
    if (!s || (!utf8 && len) || len == 0) return AI_E_INVAL;
    char **ns = realloc(s->stops, (s->n_stops + 1) * sizeof *ns);
    if (!ns) return AI_E_NOMEM;
    s->stops = ns;
    size_t *nl = realloc(s->stop_len, (s->n_stops + 1) * sizeof *nl);
    if (!nl) return AI_E_NOMEM;
    s->stop_len = nl;
    char *c = ai__strndup(utf8, len);
    if (!c) return AI_E_NOMEM;
    s->stops[s->n_stops] = c;
    s->stop_len[s->n_stops++] = len;
    return AI_OK;
}

ai_status ai_session_clear_stops(ai_session *s) {
    if (!s) return AI_E_INVAL;
    for (size_t i = 0; i < s->n_stops; i++) free(s->stops[i]);
    free(s->stops);
    free(s->stop_len);
    s->stops = NULL;
    s->stop_len = NULL;
    s->n_stops = 0;
    return AI_OK;
}

/* Cuts pending text at the first stop string and ends the generation. */
static void cut_at_stop(ai_session *s) {
    size_t cut = SIZE_MAX;
    for (size_t i = 0; i < s->n_stops; i++) {
        size_t L = s->stop_len[i];
        if (L > s->pending.len) continue;
        for (size_t at = 0; at + L <= s->pending.len && at < cut; at++)
            if (!memcmp(s->pending.p + at, s->stops[i], L)) {
                cut = at;
                break;
            }
    }
    if (cut != SIZE_MAX) {
        s->pending.len = cut;
        s->gen_done = 1;
    }
}

/* How much of the pending text can go out now: all of it once the
 * generation is over, else all but the longest tail that a stop string
 * could still start with. */
static size_t ready(const ai_session *s) {
    size_t n = s->pending.len;
    if (s->gen_done) return n;
    size_t hold = 0;
    for (size_t i = 0; i < s->n_stops; i++) {
        size_t L = s->stop_len[i];
        for (size_t k = (L - 1 < n ? L - 1 : n); k > hold; k--)
            if (!memcmp(s->pending.p + n - k, s->stops[i], k)) {
                hold = k;
                break;
            }
    }
    return n - hold;
}

/* Appends token t's text (complete UTF-8 only) to pending. */
static ai_status push_text(ai_session *s, int32_t t) {
    size_t need = 0;
    ai_status st = ai_detokenizer_push(s->detok, t, s->piece, s->piece_cap, &need);
    if (st == AI_E_RANGE) {
        char *np = realloc(s->piece, need < 64 ? 64 : need);
        if (!np) return fail(s, AI_E_NOMEM, "out of memory for generated text");
        s->piece = np;
        s->piece_cap = need < 64 ? 64 : need;
        st = ai_detokenizer_push(s->detok, t, s->piece, s->piece_cap, &need);
    }
    if (st != AI_OK) return fail(s, st, "cannot detokenize token %d", t);
    ai__buf_put(&s->pending, s->piece, need - 1);
    if (s->pending.oom) return fail(s, AI_E_NOMEM, "out of memory for generated text");
    return AI_OK;
}

/* Ends the text: what the detokenizer still holds joins pending. */
static ai_status flush_text(ai_session *s) {
    size_t need = 0;
    char tmp[64];
    ai_status st = ai_detokenizer_flush(s->detok, tmp, sizeof tmp, &need);
    if (st == AI_E_RANGE) {
        char *big = malloc(need);
        if (!big) return fail(s, AI_E_NOMEM, "out of memory for generated text");
        st = ai_detokenizer_flush(s->detok, big, need, &need);
        if (st == AI_OK) ai__buf_put(&s->pending, big, need - 1);
        free(big);
    } else if (st == AI_OK) {
        ai__buf_put(&s->pending, tmp, need - 1);
    }
    return st;
}

ai_status ai_session_step(ai_session *s, char *buf, size_t cap, size_t *needed) {
    if (!s) return AI_E_INVAL;
    s->err[0] = 0;
    if (!s->detok) {
        /* Generated text continues the prompt: if the prompt holds any text
         * (a token that is not a control token), the first generated word
         * keeps its leading space. */
        uint32_t flags = 0;
        for (int64_t i = 0; i < s->n_past && !flags; i++) {
            uint32_t attr = 0;
            if (ai_token_attr(s->model, s->tokens[i], &attr) == AI_OK &&
                !(attr & AI_TOKEN_ATTR_CONTROL))
                flags = AI_DETOKENIZE_CONTINUE;
        }
        ai_status st = ai_detokenizer_new(s->model, flags, &s->detok);
        if (st) return fail(s, st, "the model has no tokenizer to turn tokens into text");
    }
    for (;;) {
        size_t n = ready(s);
        if (n > 0) {
            if (needed) *needed = n + 1;
            if (!buf || cap < n + 1) return AI_E_RANGE;
            memcpy(buf, s->pending.p, n);
            buf[n] = 0;
            memmove(s->pending.p, s->pending.p + n, s->pending.len - n);
            s->pending.len -= n;
            return AI_OK;
        }
        if (s->gen_done) {
            if (needed) *needed = 1;
            if (buf && cap) buf[0] = 0;
            return AI_DONE;
        }
        int32_t t;
        ai_status st = ai_session_next_token(s, &t);
        if (st == AI_DONE) {
            s->gen_done = 1;
            if ((st = flush_text(s)) != AI_OK) return fail(s, st, "cannot finish the text");
            cut_at_stop(s);
            s->gen_done = 1;
            continue;
        }
        if (st != AI_OK) return st;
        if ((st = push_text(s, t)) != AI_OK) return st;
        cut_at_stop(s);
    }
}

ai_status ai_session_generate(ai_session *s, ai_piece_fn fn, void *user_data) {
    if (!s || !fn) return AI_E_INVAL;
    char small[256];
    char *buf = small;
    size_t cap = sizeof small, need = 0;
    ai_status st;
    for (;;) {
        st = ai_session_step(s, buf, cap, &need);
        if (st == AI_E_RANGE) {
            char *nb = malloc(need);
            if (!nb) {
                st = fail(s, AI_E_NOMEM, "out of memory for generated text");
                break;
            }
            if (buf != small) free(buf);
            buf = nb;
            cap = need;
            continue;
        }
        if (st != AI_OK) break;
        if (fn(buf, need - 1, user_data)) {
            st = fail(s, AI_E_CANCELLED, "the piece callback asked to stop");
            break;
        }
    }
    if (buf != small) free(buf);
    return st == AI_DONE ? AI_OK : st;
}
