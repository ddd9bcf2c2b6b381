/*
 * session_state.c - a session's state beyond one evaluation: prefix reuse
 * (ai_session_prompt), snapshots, forks, and save/load through state files
 * (format in state_file.c).
 *
 * The state of a session is tokens[0..n_past), the KV rows of those
 * positions and, when present, the logits after the last one.  Moving it
 * between sessions is exact because a position's keys and values depend
 * only on the tokens up to it (the forward pass computes every row the same
 * way whatever the batch it is in), provided both sides agree on the model,
 * the cache type and the RoPE variant (ai__kvgeom).
 */
#include "session.h"

#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ai_status fail(ai_session *s, ai_status st, const char *fmt, ...) AI__PRINTF(3, 4);
static ai_status fail(ai_session *s, ai_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return st;
}

void ai__session_state_init(ai_session *s, const ai_opts *opts) {
    s->prefix_reuse = ai__opts_int(opts, AI_OPT_PREFIX_REUSE, 1) != 0;
    s->zstd_level = (int)ai__opts_int(opts, AI_OPT_STATE_ZSTD_LEVEL, 1);
    s->n_reused = 0;
    s->pcache = NULL;
}

/* ---- KV geometry ---------------------------------------------------------------- */

void ai__session_kvview(const ai_session *s, ai__kvview *out) {
    const ai__hparams *hp = &s->w->hp;
    out->g.type = s->fwd.kv.type;
    out->g.n_layer = hp->n_layer;
    out->g.n_head_kv = hp->n_head_kv;
    out->g.k_row = s->fwd.kv.k_row;
    out->g.v_row = s->fwd.kv.v_row;
    /* forward.c picks phi3's long factors from the context size */
    out->g.rope_long = !s->w->rope_freqs && s->w->rope_long && s->n_ctx > hp->n_ctx_orig;
    out->stride = s->n_ctx;
    out->k = s->fwd.kv.k;
    out->v = s->fwd.kv.v;
}

void ai__kv_copy(const ai__kvview *dst, const ai__kvview *src, int64_t n) {
    if (n <= 0) return;
    int64_t segs = src->g.n_layer * src->g.n_head_kv;
    for (int64_t i = 0; i < segs; i++) {
        memcpy(dst->k + (size_t)i * (size_t)dst->stride * dst->g.k_row,
               src->k + (size_t)i * (size_t)src->stride * src->g.k_row, (size_t)n * src->g.k_row);
        memcpy(dst->v + (size_t)i * (size_t)dst->stride * dst->g.v_row,
               src->v + (size_t)i * (size_t)src->stride * src->g.v_row, (size_t)n * src->g.v_row);
    }
}

int ai__kvgeom_same(const ai__kvgeom *a, const ai__kvgeom *b) {
    return a->type == b->type && a->n_layer == b->n_layer && a->n_head_kv == b->n_head_kv &&
           a->k_row == b->k_row && a->v_row == b->v_row && a->rope_long == b->rope_long;
}

void ai__kvgeom_describe(const ai__kvgeom *g, char *buf, size_t cap) {
    const char *tn = ai_type_name((int32_t)g->type);
    snprintf(buf, cap, "%s KV cache, %lld layers x %lld kv heads, rows of %zu/%zu bytes%s",
             tn ? tn : "?", (long long)g->n_layer, (long long)g->n_head_kv, g->k_row, g->v_row,
             g->rope_long ? ", long RoPE factors" : "");
}

/* ---- model fingerprint ------------------------------------------------------------- */

uint64_t ai__model_fingerprint(const ai_model *m) {
    ai__buf b = {0};
    const char *arch = m->arch ? m->arch : "";
    ai__buf_put(&b, arch, strlen(arch) + 1);
    if (m->weights) {
        const ai__hparams *hp = &m->weights->hp;
        int64_t ints[] = {hp->arch,      hp->n_vocab,    hp->n_embd,      hp->n_layer,
                          hp->n_head,    hp->n_head_kv,  hp->head_dim,    hp->head_dim_v,
                          hp->n_ff,      hp->n_ctx_train, hp->n_rot,      hp->rope_mode,
                          hp->n_ctx_orig};
        float fl[] = {hp->rms_eps, hp->rope_base, hp->rope_scale, hp->rope_attn};
        ai__buf_put(&b, ints, sizeof ints);
        ai__buf_put(&b, fl, sizeof fl);
    }
    const ai__gguf *g = m->gguf;
    for (size_t i = 0; g && i < g->n_tensors; i++) {
        const ai__gguf_tensor *t = &g->tensors[i];
        ai__buf_put(&b, t->name, strlen(t->name) + 1);
        uint32_t ty[2] = {t->type, t->n_dims};
        ai__buf_put(&b, ty, sizeof ty);
        ai__buf_put(&b, t->ne, sizeof t->ne);
        /* a sample of the weights: the first and last bytes of each tensor */
        size_t k = t->nbytes < 32 ? t->nbytes : 32;
        if (t->data && k) {
            ai__buf_put(&b, t->data, k);
            ai__buf_put(&b, (const uint8_t *)t->data + t->nbytes - k, k);
        }
    }
    uint64_t h = b.oom ? 0 : ai__hash64(b.p, b.len, 0xF1A6E2);
    ai__buf_free(&b);
    if (h == 0) { /* out of memory: fall back on what is at hand */
        h = ai__hash64(arch, strlen(arch), g ? g->n_tensors : 0);
        if (m->weights) h = ai__hash64(&m->weights->hp, sizeof m->weights->hp, h);
    }
    return h ? h : 1;
}

/* ---- prefix reuse ---------------------------------------------------------------------- */

ai_status ai_session_prompt(ai_session *s, const int32_t *tokens, size_t n, int32_t flags) {
    if (!s) return AI_E_INVAL;
    s->err[0] = 0;
    if (!tokens || n == 0) return fail(s, AI_E_INVAL, "no tokens to evaluate");
    /* check everything before the context is touched */
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= s->n_vocab)
            return fail(s, AI_E_INVAL, "token %zu is %d, outside the vocabulary (0..%lld)", i,
                        tokens[i], (long long)s->n_vocab - 1);
    if (n > (size_t)s->n_ctx)
        return fail(s, AI_E_CONTEXT_FULL, "%zu tokens do not fit in a context of %lld", n,
                    (long long)s->n_ctx);
    /* keep the common prefix, but always evaluate the last token so that
     * its logits are fresh */
    int64_t keep = 0, limit = (int64_t)n - 1;
    if (s->prefix_reuse) {
        int64_t lim = s->n_past < limit ? s->n_past : limit;
        while (keep < lim && s->tokens[keep] == tokens[keep]) keep++;
        if (s->pcache) {
            int64_t got = ai__pcache_restore(s->pcache, s, tokens, limit, keep, limit);
            if (got > keep) keep = got;
        }
    }
    ai_status st = ai_session_rewind(s, (int32_t)keep);
    if (st) return st;
    s->n_reused = keep;
    return ai_session_eval(s, tokens + keep, n - (size_t)keep, flags);
}

int32_t ai_session_n_reused(const ai_session *s) { return s ? (int32_t)s->n_reused : 0; }

ai_status ai_session_tokens(const ai_session *s, int32_t *buf, size_t cap, size_t *needed) {
    if (!s) return AI_E_INVAL;
    if (needed) *needed = (size_t)s->n_past;
    if (cap < (size_t)s->n_past || (!buf && s->n_past > 0)) return AI_E_RANGE;
    if (s->n_past) memcpy(buf, s->tokens, (size_t)s->n_past * sizeof *buf);
    return AI_OK;
}

/* ---- snapshots ---------------------------------------------------------------------------- */

size_t ai__snapshot_bytes(const ai__kvgeom *g, int64_t n_tokens, int64_t n_vocab,
                          int with_logits) {
    size_t rows = (size_t)g->n_layer * (size_t)g->n_head_kv * (size_t)n_tokens;
    size_t b = rows * (g->k_row + g->v_row) + (size_t)n_tokens * sizeof(int32_t) +
               sizeof(struct ai_snapshot);
    if (with_logits) b += (size_t)n_vocab * sizeof(float);
    return b;
}

void ai__snapshot_free(struct ai_snapshot *snap) {
    if (!snap) return;
    free(snap->tokens);
    free(snap->k);
    free(snap->v);
    free(snap->logits);
    free(snap);
}

/* An empty snapshot with room for n tokens of geometry g. */
static struct ai_snapshot *snap_alloc(const ai__kvgeom *g, int64_t n, int64_t n_vocab,
                                      int with_logits) {
    struct ai_snapshot *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    size_t rows = (size_t)g->n_layer * (size_t)g->n_head_kv * (size_t)n, kb, vb;
    if (ai__mul_size(rows, g->k_row, &kb) || ai__mul_size(rows, g->v_row, &vb)) {
        free(p);
        return NULL;
    }
    p->g = *g;
    p->n_tokens = n;
    p->n_vocab = n_vocab;
    p->tokens = malloc((size_t)(n ? n : 1) * sizeof *p->tokens);
    p->k = malloc(kb ? kb : 1);
    p->v = malloc(vb ? vb : 1);
    if (with_logits) p->logits = malloc((size_t)n_vocab * sizeof *p->logits);
    if (!p->tokens || !p->k || !p->v || (with_logits && !p->logits)) {
        ai__snapshot_free(p);
        return NULL;
    }
    p->bytes = ai__snapshot_bytes(g, n, n_vocab, with_logits);
    return p;
}

static void snap_view(const struct ai_snapshot *p, ai__kvview *v) {
    v->g = p->g;
    v->stride = p->n_tokens;
    v->k = p->k;
    v->v = p->v;
}

/* The logits after position n_past - 1, when the session has them. */
static const float *last_logits(const ai_session *s) {
    if (s->n_rows <= 0 || s->n_past <= 0) return NULL;
    return s->logits + (size_t)(s->n_rows - 1) * (size_t)s->n_vocab;
}

struct ai_snapshot *ai__snapshot_take(const ai_session *s, int64_t n, int with_logits) {
    ai__kvview sv, dv;
    ai__session_kvview(s, &sv);
    const float *lg = with_logits && n == s->n_past ? last_logits(s) : NULL;
    struct ai_snapshot *p = snap_alloc(&sv.g, n, s->n_vocab, lg != NULL);
    if (!p) return NULL;
    p->fingerprint = ai__model_fingerprint(s->model);
    memcpy(p->tokens, s->tokens, (size_t)n * sizeof *p->tokens);
    snap_view(p, &dv);
    ai__kv_copy(&dv, &sv, n);
    if (lg) memcpy(p->logits, lg, (size_t)s->n_vocab * sizeof *lg);
    return p;
}

/* Makes room for one row of logits without changing what the session
 * holds. */
static ai_status reserve_logits(ai_session *s) {
    if (s->logits_cap >= (size_t)s->n_vocab) return AI_OK;
    float *l = realloc(s->logits, (size_t)s->n_vocab * sizeof *l);
    if (!l) return fail(s, AI_E_NOMEM, "out of memory for the logits");
    s->logits = l;
    s->logits_cap = (size_t)s->n_vocab;
    return AI_OK;
}

/* The session now holds n tokens (KV rows already in place) and, when
 * logits is not NULL, the logits after the last one. */
static void set_state(ai_session *s, const int32_t *tokens, int64_t n, const float *logits) {
    ai_session_rewind(s, 0); /* forgets logits and the generation's text */
    memmove(s->tokens, tokens, (size_t)n * sizeof *tokens);
    s->n_past = n;
    if (logits && n > 0) {
        memmove(s->logits, logits, (size_t)s->n_vocab * sizeof *logits);
        s->n_rows = 1;
        s->all = 0;
        s->n_eval = 0; /* no evaluation: only row -1 is readable */
    }
}

ai_status ai__snapshot_put(ai_session *s, const struct ai_snapshot *snap) {
    if (snap->logits && reserve_logits(s)) return AI_E_NOMEM;
    ai__kvview sv, dv;
    ai__session_kvview(s, &dv);
    snap_view(snap, &sv);
    ai__kv_copy(&dv, &sv, snap->n_tokens);
    set_state(s, snap->tokens, snap->n_tokens, snap->logits);
    return AI_OK;
}

ai_status ai__snapshot_fits(const ai_session *s, uint64_t fingerprint, const ai__kvgeom *g,
                            int64_t n_tokens, char *msg, size_t cap) {
    if (fingerprint != ai__model_fingerprint(s->model)) {
        ai__set_err(msg, cap, "the state was made with another model (fingerprint %016llx, "
                    "this model %016llx)", (unsigned long long)fingerprint,
                    (unsigned long long)ai__model_fingerprint(s->model));
        return AI_E_MISMATCH;
    }
    ai__kvview v;
    ai__session_kvview(s, &v);
    if (!ai__kvgeom_same(g, &v.g)) {
        char a[128], b[128];
        ai__kvgeom_describe(g, a, sizeof a);
        ai__kvgeom_describe(&v.g, b, sizeof b);
        ai__set_err(msg, cap, "the state holds a %s; this session has a %s", a, b);
        return AI_E_MISMATCH;
    }
    if (n_tokens > s->n_ctx) {
        ai__set_err(msg, cap, "the state holds %lld tokens; the context has %lld positions",
                    (long long)n_tokens, (long long)s->n_ctx);
        return AI_E_CONTEXT_FULL;
    }
    return AI_OK;
}

ai_status ai_session_snapshot(ai_session *s, ai_snapshot **out) {
    if (out) *out = NULL;
    if (!s || !out) return AI_E_INVAL;
    s->err[0] = 0;
    struct ai_snapshot *p = ai__snapshot_take(s, s->n_past, 1);
    if (!p)
        return fail(s, AI_E_NOMEM, "out of memory for a snapshot of %lld positions",
                    (long long)s->n_past);
    *out = p;
    return AI_OK;
}

ai_status ai_session_restore(ai_session *s, const ai_snapshot *snap) {
    if (!s || !snap) return AI_E_INVAL;
    s->err[0] = 0;
    ai_status st = ai__snapshot_fits(s, snap->fingerprint, &snap->g, snap->n_tokens, s->err,
                                     sizeof s->err);
    if (st) return st;
    if (snap->n_vocab != s->n_vocab)
        return fail(s, AI_E_MISMATCH, "the snapshot has %lld logits per row, the session %lld",
                    (long long)snap->n_vocab, (long long)s->n_vocab);
    return ai__snapshot_put(s, snap);
}

int64_t ai_session_state_size(const ai_session *s) {
    if (!s) return 0;
    ai__kvview v;
    ai__session_kvview(s, &v);
    return (int64_t)ai__snapshot_bytes(&v.g, s->n_past, s->n_vocab, last_logits(s) != NULL) -
           (int64_t)sizeof(struct ai_snapshot);
}

int32_t ai_snapshot_n_tokens(const ai_snapshot *snap) {
    return snap ? (int32_t)snap->n_tokens : 0;
}

void ai_snapshot_free(ai_snapshot *snap) { ai__snapshot_free(snap); }

ai_status ai_session_fork(ai_session *s, ai_session **out, char *err, size_t err_cap) {
    if (out) *out = NULL;
    if (!s || !out) {
        ai__set_err(err, err_cap, "ai_session_fork: session and out must not be NULL");
        return AI_E_INVAL;
    }
    /* the options the session was made with, as far as they matter */
    ai_opts *o = NULL;
    if (ai_opts_new(&o) != AI_OK) return AI_E_NOMEM;
    const ai__sparams *p = &s->smp.p;
    ai_opts_set_int(o, AI_OPT_N_CTX, s->n_ctx);
    ai_opts_set_int(o, AI_OPT_N_BATCH, s->n_batch);
    ai_opts_set_int(o, AI_OPT_N_THREADS, ai__pool_size(s->pool));
    ai_opts_set_int(o, AI_OPT_KV_TYPE, s->fwd.kv.type);
    ai_opts_set_int(o, AI_OPT_PREFIX_REUSE, s->prefix_reuse);
    ai_opts_set_int(o, AI_OPT_STATE_ZSTD_LEVEL, s->zstd_level);
    ai_opts_set_int(o, AI_OPT_MAX_TOKENS, s->max_tokens);
    ai_opts_set_int(o, AI_OPT_SEED, (int64_t)p->seed);
    ai_opts_set_int(o, AI_OPT_TOP_K, p->top_k);
    ai_opts_set_int(o, AI_OPT_REPEAT_LAST_N, p->last_n);
    ai_opts_set_double(o, AI_OPT_TEMPERATURE, p->temperature);
    ai_opts_set_double(o, AI_OPT_TOP_P, p->top_p);
    ai_opts_set_double(o, AI_OPT_MIN_P, p->min_p);
    ai_opts_set_double(o, AI_OPT_REPEAT_PENALTY, p->repeat_penalty);
    ai_opts_set_double(o, AI_OPT_PRESENCE_PENALTY, p->presence_penalty);
    ai_opts_set_double(o, AI_OPT_FREQUENCY_PENALTY, p->frequency_penalty);
    ai_session *t = NULL;
    ai_status st = ai_session_new(s->model, o, &t, err, err_cap);
    ai_opts_free(o);
    if (st) return st;
    t->smp.p = *p; /* exact values, not their round trip through the bag */
    t->smp.rng = s->smp.rng;
    for (size_t i = 0; i < s->n_stops && st == AI_OK; i++)
        st = ai_session_add_stop(t, s->stops[i], s->stop_len[i]);
    const float *lg = last_logits(s);
    if (st == AI_OK && lg) st = reserve_logits(t);
    if (st != AI_OK) {
        ai__set_err(err, err_cap, "out of memory for the fork");
        ai_session_free(t);
        return AI_E_NOMEM;
    }
    ai__kvview sv, dv;
    ai__session_kvview(s, &sv);
    ai__session_kvview(t, &dv);
    ai__kv_copy(&dv, &sv, s->n_past);
    set_state(t, s->tokens, s->n_past, lg);
    t->n_reused = s->n_reused;
    *out = t;
    return AI_OK;
}

/* ---- state files -------------------------------------------------------------------------- */

ai_status ai_session_save(ai_session *s, const char *path) {
    if (!s) return AI_E_INVAL;
    s->err[0] = 0;
    if (!path || !*path) return fail(s, AI_E_INVAL, "ai_session_save: no path");
    ai__state st = {0};
    st.fingerprint = ai__model_fingerprint(s->model);
    st.n_vocab = s->n_vocab;
    st.n_tokens = s->n_past;
    st.tokens = s->tokens;
    st.logits = last_logits(s);
    ai__session_kvview(s, &st.kv);
    return ai__state_write(path, &st, s->zstd_level, ai__pool_size(s->pool), s->err,
                           sizeof s->err);
}

ai_status ai_session_load(ai_session *s, const char *path) {
    if (!s) return AI_E_INVAL;
    s->err[0] = 0;
    if (!path || !*path) return fail(s, AI_E_INVAL, "ai_session_load: no path");
    ai__state_file f;
    int32_t *toks = NULL;
    float *lg = NULL;
    ai_status st = ai__state_open(path, &f, s->err, sizeof s->err);
    if (st) goto out;
    char why[200];
    if ((st = ai__snapshot_fits(s, f.fingerprint, &f.g, f.n_tokens, why, sizeof why))) {
        fail(s, st, "%s: %s", path, why);
        goto out;
    }
    if (f.n_vocab != s->n_vocab) {
        st = fail(s, AI_E_MISMATCH, "%s: the state has a vocabulary of %lld, the model %lld",
                  path, (long long)f.n_vocab, (long long)s->n_vocab);
        goto out;
    }
    st = AI_E_NOMEM;
    toks = malloc((size_t)(f.n_tokens ? f.n_tokens : 1) * sizeof *toks);
    if (f.has_logits) lg = malloc((size_t)s->n_vocab * sizeof *lg);
    if (!toks || (f.has_logits && !lg) || (f.has_logits && reserve_logits(s))) {
        fail(s, st, "out of memory loading %s", path);
        goto out;
    }
    /* tokens and logits go to scratch first: up to here the session is
     * untouched, so a failure leaves it as it was */
    if ((st = ai__state_decode_tokens(&f, toks, lg, why, sizeof why))) {
        fail(s, st, "%s: %s", path, why);
        goto out;
    }
    ai__kvview v;
    ai__session_kvview(s, &v);
    if ((st = ai__state_decode_kv(&f, &v, why, sizeof why))) {
        /* the checksum passed, so this is not expected; the cache rows are
         * partly overwritten, so the session cannot keep its old state */
        ai_session_rewind(s, 0);
        fail(s, st, "%s: %s (the session was cleared)", path, why);
        goto out;
    }
    set_state(s, toks, f.n_tokens, lg);
    st = AI_OK;
out:
    free(toks);
    free(lg);
    ai__state_close(&f);
    return st;
}
