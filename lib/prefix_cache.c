/*
 * prefix_cache.c - a per-model cache of prefixes (tokens and their KV rows),
 * so that a session whose prompt starts with a known prefix (the system
 * prompt and tool definitions of an agent) skips evaluating it.
 *
 * Entries are snapshots without logits (ai_session_prompt always evaluates
 * the last token itself), keyed by ai__tokens_key.  Memory is bounded by a
 * budget; the least recently used entries go first.  A mutex guards
 * everything, so one cache can serve sessions on several threads; entries
 * are few (prompts, not conversations), so lookups are linear scans.
 */
#include "session.h"

#include "model.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ai_prefix_cache {
    pthread_mutex_t mu;
    const ai_model *model;
    uint64_t fingerprint;
    size_t budget, used;     /* bytes                                       */
    int level;               /* zstd level of saved files                   */
    struct ai_snapshot **e;  /* [n] entries, in no particular order         */
    size_t n, cap;
    uint64_t tick;           /* use counter for LRU                         */
};

ai_status ai_prefix_cache_new(const ai_model *model, const ai_opts *opts,
                              ai_prefix_cache **out) {
    if (out) *out = NULL;
    if (!model || !out) return AI_E_INVAL;
    if (!model->weights) return AI_E_UNSUPPORTED;
    ai_prefix_cache *c = calloc(1, sizeof *c);
    if (!c) return AI_E_NOMEM;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return AI_E_NOMEM;
    }
    c->model = model;
    c->fingerprint = ai__model_fingerprint(model);
    c->budget = (size_t)ai__opts_int(opts, AI_OPT_PREFIX_CACHE_MIB, 1024) << 20;
    c->level = (int)ai__opts_int(opts, AI_OPT_STATE_ZSTD_LEVEL, 1);
    *out = c;
    return AI_OK;
}

void ai_prefix_cache_free(ai_prefix_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) ai__snapshot_free(c->e[i]);
    free(c->e);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* The entry holding exactly these tokens in this geometry, or NULL. */
static struct ai_snapshot *find(const ai_prefix_cache *c, uint64_t key, const int32_t *tokens,
                                int64_t n, const ai__kvgeom *g) {
    for (size_t i = 0; i < c->n; i++) {
        struct ai_snapshot *e = c->e[i];
        if (e->key == key && e->n_tokens == n && ai__kvgeom_same(&e->g, g) &&
            !memcmp(e->tokens, tokens, (size_t)n * sizeof *tokens))
            return e;
    }
    return NULL;
}

static void evict_one(ai_prefix_cache *c) {
    size_t lru = 0;
    for (size_t i = 1; i < c->n; i++)
        if (c->e[i]->last_use < c->e[lru]->last_use) lru = i;
    c->used -= c->e[lru]->bytes;
    ai__snapshot_free(c->e[lru]);
    c->e[lru] = c->e[--c->n];
}

/* Takes ownership of p (freed when not kept); *added tells whether it
 * was (not when the same prefix was already there).  Caller holds the
 * lock. */
static ai_status insert(ai_prefix_cache *c, struct ai_snapshot *p, int *added) {
    *added = 0;
    p->key = ai__tokens_key(p->tokens, p->n_tokens, &p->g);
    struct ai_snapshot *old = find(c, p->key, p->tokens, p->n_tokens, &p->g);
    if (old) {
        old->last_use = ++c->tick;
        ai__snapshot_free(p);
        return AI_OK;
    }
    if (p->bytes > c->budget) {
        ai__snapshot_free(p);
        return AI_E_NOMEM;
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 8;
        struct ai_snapshot **ne = realloc(c->e, nc * sizeof *ne);
        if (!ne) {
            ai__snapshot_free(p);
            return AI_E_NOMEM;
        }
        c->e = ne;
        c->cap = nc;
    }
    while (c->n > 0 && c->used + p->bytes > c->budget) evict_one(c);
    p->last_use = ++c->tick;
    c->e[c->n++] = p;
    c->used += p->bytes;
    *added = 1;
    return AI_OK;
}

ai_status ai_prefix_cache_put(ai_prefix_cache *c, ai_session *s, int32_t n_tokens) {
    if (!s) return AI_E_INVAL;
    s->err[0] = 0;
    if (!c || n_tokens < 1 || n_tokens > s->n_past) {
        snprintf(s->err, sizeof s->err, "ai_prefix_cache_put: %d tokens of a context of %lld",
                 n_tokens, (long long)s->n_past);
        return AI_E_INVAL;
    }
    if (s->model != c->model && ai__model_fingerprint(s->model) != c->fingerprint) {
        snprintf(s->err, sizeof s->err, "the prefix cache belongs to another model");
        return AI_E_MISMATCH;
    }
    ai__kvview v;
    ai__session_kvview(s, &v);
    size_t need = ai__snapshot_bytes(&v.g, n_tokens, s->n_vocab, 0);
    if (need > c->budget) {
        snprintf(s->err, sizeof s->err, "a prefix of %d tokens needs %zu MiB, more than the "
                 "cache's budget of %zu MiB", n_tokens, need >> 20, c->budget >> 20);
        return AI_E_NOMEM;
    }
    uint64_t key = ai__tokens_key(s->tokens, n_tokens, &v.g);
    pthread_mutex_lock(&c->mu);
    struct ai_snapshot *old = find(c, key, s->tokens, n_tokens, &v.g);
    if (old) old->last_use = ++c->tick;
    pthread_mutex_unlock(&c->mu);
    if (old) return AI_OK;
    /* copy outside the lock: it is the slow part */
    struct ai_snapshot *p = ai__snapshot_take(s, n_tokens, 0);
    if (!p) {
        snprintf(s->err, sizeof s->err, "out of memory for a prefix of %d tokens", n_tokens);
        return AI_E_NOMEM;
    }
    int added;
    pthread_mutex_lock(&c->mu);
    ai_status st = insert(c, p, &added);
    pthread_mutex_unlock(&c->mu);
    if (st) snprintf(s->err, sizeof s->err, "out of memory for the prefix cache");
    return st;
}

ai_status ai_session_set_prefix_cache(ai_session *s, ai_prefix_cache *c) {
    if (!s) return AI_E_INVAL;
    s->err[0] = 0;
    if (c && s->model != c->model && ai__model_fingerprint(s->model) != c->fingerprint) {
        snprintf(s->err, sizeof s->err, "the prefix cache belongs to another model");
        return AI_E_MISMATCH;
    }
    s->pcache = c;
    return AI_OK;
}

int64_t ai__pcache_restore(struct ai_prefix_cache *c, ai_session *s, const int32_t *tokens,
                           int64_t n, int64_t min_n, int64_t max_n) {
    ai__kvview v;
    ai__session_kvview(s, &v);
    int64_t got = 0;
    pthread_mutex_lock(&c->mu);
    struct ai_snapshot *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        struct ai_snapshot *e = c->e[i];
        if (e->n_tokens <= min_n || e->n_tokens > max_n || e->n_tokens > n ||
            e->n_tokens > s->n_ctx || (best && e->n_tokens <= best->n_tokens) ||
            !ai__kvgeom_same(&e->g, &v.g) ||
            memcmp(e->tokens, tokens, (size_t)e->n_tokens * sizeof *tokens))
            continue;
        best = e;
    }
    if (best && ai__snapshot_put(s, best) == AI_OK) {
        best->last_use = ++c->tick;
        got = best->n_tokens;
    }
    pthread_mutex_unlock(&c->mu);
    return got;
}

ai_status ai_prefix_cache_stats(ai_prefix_cache *c, int64_t *n_entries, int64_t *bytes) {
    if (!c) return AI_E_INVAL;
    pthread_mutex_lock(&c->mu);
    if (n_entries) *n_entries = (int64_t)c->n;
    if (bytes) *bytes = (int64_t)c->used;
    pthread_mutex_unlock(&c->mu);
    return AI_OK;
}

/* ---- persistence --------------------------------------------------------------------- */

ai_status ai_prefix_cache_save(ai_prefix_cache *c, const char *dir, char *err, size_t err_cap) {
    if (!c || !dir || !*dir) {
        ai__set_err(err, err_cap, "ai_prefix_cache_save: cache and folder must be given");
        return AI_E_INVAL;
    }
    ai_status st = AI_OK;
    size_t dl = strlen(dir);
    char *path = malloc(dl + 64);
    if (!path) return AI_E_NOMEM;
    pthread_mutex_lock(&c->mu); /* entries stay alive while written */
    for (size_t i = 0; i < c->n && st == AI_OK; i++) {
        const struct ai_snapshot *e = c->e[i];
        snprintf(path, dl + 64, "%s/prefix-%016llx.aistate", dir, (unsigned long long)e->key);
        ai__state s = {0};
        s.fingerprint = c->fingerprint;
        s.n_vocab = e->n_vocab;
        s.n_tokens = e->n_tokens;
        s.tokens = e->tokens;
        s.logits = NULL;
        s.kv.g = e->g;
        s.kv.stride = e->n_tokens;
        s.kv.k = e->k;
        s.kv.v = e->v;
        st = ai__state_write(path, &s, c->level, 1, err, err_cap);
    }
    pthread_mutex_unlock(&c->mu);
    free(path);
    return st;
}

static int has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a > b && !strcmp(s + a - b, suf);
}

/* Reads one file into a new snapshot; NULL (and *why) when it is not for
 * this cache. */
static struct ai_snapshot *load_one(ai_prefix_cache *c, const char *path, ai_status *why) {
    ai__state_file f;
    char msg[256];
    struct ai_snapshot *p = NULL;
    *why = ai__state_open(path, &f, msg, sizeof msg);
    if (*why) goto out;
    if (f.fingerprint != c->fingerprint || f.n_tokens < 1) {
        *why = AI_E_MISMATCH;
        goto out;
    }
    *why = AI_E_NOMEM;
    p = calloc(1, sizeof *p);
    if (!p) goto out;
    size_t rows = (size_t)f.g.n_layer * (size_t)f.g.n_head_kv * (size_t)f.n_tokens;
    p->g = f.g;
    p->n_tokens = f.n_tokens;
    p->n_vocab = f.n_vocab;
    p->fingerprint = f.fingerprint;
    p->tokens = malloc((size_t)f.n_tokens * sizeof *p->tokens);
    p->k = malloc(rows * f.g.k_row);
    p->v = malloc(rows * f.g.v_row);
    if (!p->tokens || !p->k || !p->v) goto fail;
    p->bytes = ai__snapshot_bytes(&f.g, f.n_tokens, f.n_vocab, 0);
    ai__kvview v = {f.g, f.n_tokens, p->k, p->v};
    if ((*why = ai__state_decode_tokens(&f, p->tokens, NULL, msg, sizeof msg)) ||
        (*why = ai__state_decode_kv(&f, &v, msg, sizeof msg)))
        goto fail;
    *why = AI_OK;
    goto out;
fail:
    ai__snapshot_free(p);
    p = NULL;
out:
    if (*why && *why != AI_E_MISMATCH) ai__log(AI_LOG_WARN, "prefix cache: skipping %s: %s", path,
                                               msg);
    ai__state_close(&f);
    return p;
}

ai_status ai_prefix_cache_load(ai_prefix_cache *c, const char *dir, int32_t *n_loaded,
                               int32_t *n_skipped, char *err, size_t err_cap) {
    if (n_loaded) *n_loaded = 0;
    if (n_skipped) *n_skipped = 0;
    if (!c || !dir || !*dir) {
        ai__set_err(err, err_cap, "ai_prefix_cache_load: cache and folder must be given");
        return AI_E_INVAL;
    }
    DIR *d = opendir(dir);
    if (!d) {
        ai__set_err(err, err_cap, "cannot open folder %s", dir);
        return AI_E_IO;
    }
    ai_status rc = AI_OK;
    struct dirent *de;
    ai__buf path = {0};
    while ((de = readdir(d)) != NULL) {
        if (!has_suffix(de->d_name, ".aistate")) continue;
        path.len = 0;
        ai__buf_printf(&path, "%s/%s", dir, de->d_name);
        if (path.oom) {
            rc = AI_E_NOMEM;
            break;
        }
        ai_status why;
        struct ai_snapshot *p = load_one(c, ai__buf_cstr(&path), &why);
        if (!p) {
            if (why == AI_E_NOMEM) {
                ai__set_err(err, err_cap, "out of memory loading %s", ai__buf_cstr(&path));
                rc = AI_E_NOMEM;
                break;
            }
            if (n_skipped) (*n_skipped)++;
            continue;
        }
        int added;
        pthread_mutex_lock(&c->mu);
        ai_status st = insert(c, p, &added);
        pthread_mutex_unlock(&c->mu);
        if (st == AI_E_NOMEM) { /* larger than the whole budget */
            if (n_skipped) (*n_skipped)++;
            continue;
        }
        if (added && n_loaded) (*n_loaded)++;
    }
    closedir(d);
    ai__buf_free(&path);
    return rc;
}
