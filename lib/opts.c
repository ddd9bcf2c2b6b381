/*
 * opts.c - the option bag.  Each key is described once in `specs` (name and
 * bounds); the key's number range gives its type (1xx int, 2xx double, 3xx
 * string).  Defaults live with the code that reads an option (see the
 * ai__opts_* getters), and are documented in the header.
 */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_INT = 1, KIND_DOUBLE = 2, KIND_STR = 3 };

typedef struct spec {
    ai_opt key;
    const char *name;
    double min, max; /* bounds for int and double options */
} spec;

static const spec specs[] = {
    {AI_OPT_USE_MMAP, "use_mmap", 0, 1},
    {AI_OPT_N_THREADS, "n_threads", 1, 1024},
    {AI_OPT_N_CTX, "n_ctx", 1, 16777216},
    {AI_OPT_N_BATCH, "n_batch", 1, 65536},
    {AI_OPT_SEED, "seed", 0, 18446744073709551615.0},
    {AI_OPT_TOP_K, "top_k", 0, 1e9},
    {AI_OPT_REPEAT_LAST_N, "repeat_last_n", 0, 1e9},
    {AI_OPT_MAX_TOKENS, "max_tokens", 0, 1e12},
    {AI_OPT_TEMPERATURE, "temperature", 0, 100},
    {AI_OPT_TOP_P, "top_p", 0, 1},
    {AI_OPT_MIN_P, "min_p", 0, 1},
    {AI_OPT_REPEAT_PENALTY, "repeat_penalty", 0, 100},
    {AI_OPT_PRESENCE_PENALTY, "presence_penalty", -100, 100},
    {AI_OPT_FREQUENCY_PENALTY, "frequency_penalty", -100, 100},
    {AI_OPT_CHAT_TEMPLATE, "chat_template", 0, 0},
    {AI_OPT_BENCH_MIB, "bench_mib", 1, 65536},
    {AI_OPT_BENCH_BATCH, "bench_batch", 1, 65536},
    {AI_OPT_BENCH_TYPES, "bench_types", 0, 1099511627775.0},
    {AI_OPT_CHAT_TIME, "chat_time", -1, 253402300799.0},
    {AI_OPT_CHAT_VARS, "chat_vars", 0, 0},
    {AI_OPT_KV_TYPE, "kv_type", 0, 39},
    {AI_OPT_PREFIX_REUSE, "prefix_reuse", 0, 1},
    {AI_OPT_STATE_ZSTD_LEVEL, "state_zstd_level", -5, 19},
    {AI_OPT_PREFIX_CACHE_MIB, "prefix_cache_mib", 1, 1048576},
    {AI_OPT_EMBD_POOLING, "embd_pooling", -1, 3},
    {AI_OPT_EMBD_NORMALIZE, "embd_normalize", 0, 1},
    {AI_OPT_EMBD_TRUNCATE, "embd_truncate", 0, 1},
    {AI_OPT_EMBD_ADD_EOS, "embd_add_eos", -1, 1},
    {AI_OPT_EMBD_BLAS_MIN_BATCH, "embd_blas_min_batch", -1, 1e9},
};

typedef struct entry {
    ai_opt key;
    int64_t i;
    double d;
    char *s;
} entry;

struct ai_opts {
    entry *e;
    size_t n, cap;
};

static int kind_of(ai_opt key) {
    int k = (int)key;
    if (k >= 100 && k < 200) return KIND_INT;
    if (k >= 200 && k < 300) return KIND_DOUBLE;
    if (k >= 300 && k < 400) return KIND_STR;
    return 0;
}

static const spec *find_spec(ai_opt key) {
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (specs[i].key == key) return &specs[i];
    return NULL;
}

static entry *find_entry(const ai_opts *o, ai_opt key) {
    if (!o) return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (o->e[i].key == key) return &o->e[i];
    return NULL;
}

/* Finds or appends the entry for key. */
static entry *get_entry(ai_opts *o, ai_opt key) {
    entry *e = find_entry(o, key);
    if (e) return e;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        entry *ne = realloc(o->e, cap * sizeof *ne);
        if (!ne) return NULL;
        o->e = ne;
        o->cap = cap;
    }
    e = &o->e[o->n++];
    memset(e, 0, sizeof *e);
    e->key = key;
    return e;
}

static void remove_entry(ai_opts *o, ai_opt key) {
    for (size_t i = 0; i < o->n; i++) {
        if (o->e[i].key != key) continue;
        free(o->e[i].s);
        o->e[i] = o->e[--o->n];
        return;
    }
}

ai_status ai_opts_new(ai_opts **out) {
    if (!out) return AI_E_INVAL;
    *out = calloc(1, sizeof **out);
    return *out ? AI_OK : AI_E_NOMEM;
}

void ai_opts_free(ai_opts *o) {
    if (!o) return;
    for (size_t i = 0; i < o->n; i++) free(o->e[i].s);
    free(o->e);
    free(o);
}

/* Checks that key is a known option of the given kind. */
static ai_status check_key(ai_opts *o, ai_opt key, int kind, const spec **sp) {
    if (!o) return AI_E_INVAL;
    *sp = find_spec(key);
    if (!*sp || kind_of(key) != kind) return AI_E_UNKNOWN_OPT;
    return AI_OK;
}

ai_status ai_opts_set_int(ai_opts *o, ai_opt key, int64_t v) {
    const spec *sp;
    ai_status st = check_key(o, key, KIND_INT, &sp);
    if (st) return st;
    if ((double)v < sp->min || (double)v > sp->max) return AI_E_INVAL;
    entry *e = get_entry(o, key);
    if (!e) return AI_E_NOMEM;
    e->i = v;
    return AI_OK;
}

ai_status ai_opts_set_double(ai_opts *o, ai_opt key, double v) {
    const spec *sp;
    ai_status st = check_key(o, key, KIND_DOUBLE, &sp);
    if (st) return st;
    if (isnan(v) || v < sp->min || v > sp->max) return AI_E_INVAL;
    entry *e = get_entry(o, key);
    if (!e) return AI_E_NOMEM;
    e->d = v;
    return AI_OK;
}

ai_status ai_opts_set_str(ai_opts *o, ai_opt key, const char *s) {
    const spec *sp;
    ai_status st = check_key(o, key, KIND_STR, &sp);
    if (st) return st;
    if (!s) {
        remove_entry(o, key);
        return AI_OK;
    }
    char *copy = ai__strdup(s);
    if (!copy) return AI_E_NOMEM;
    entry *e = get_entry(o, key);
    if (!e) {
        free(copy);
        return AI_E_NOMEM;
    }
    free(e->s);
    e->s = copy;
    return AI_OK;
}

ai_status ai_opt_from_name(const char *name, ai_opt *out) {
    if (!name || !out) return AI_E_INVAL;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        if (strcmp(specs[i].name, name) == 0) {
            *out = specs[i].key;
            return AI_OK;
        }
    }
    return AI_E_UNKNOWN_OPT;
}

int ai__opts_has(const ai_opts *o, ai_opt key) { return find_entry(o, key) != NULL; }

int64_t ai__opts_int(const ai_opts *o, ai_opt key, int64_t def) {
    const entry *e = find_entry(o, key);
    return e ? e->i : def;
}

double ai__opts_double(const ai_opts *o, ai_opt key, double def) {
    const entry *e = find_entry(o, key);
    return e ? e->d : def;
}

const char *ai__opts_str(const ai_opts *o, ai_opt key, const char *def) {
    const entry *e = find_entry(o, key);
    return e && e->s ? e->s : def;
}
