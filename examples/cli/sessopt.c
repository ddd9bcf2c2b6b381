/* sessopt.c - command-line options shared by generate, logits and bench:
 * model path, threads, context, batch and sampling, read into an ai_opts. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Parses an integer or a number; 0 on success. */
static int num(const char *s, double *out) {
    char *end;
    if (!s || !*s) return -1;
    *out = strtod(s, &end);
    return *end ? -1 : 0;
}

int cli_session_opt(int argc, char **argv, int *i, ai_opts *o, const char **model) {
    static const struct {
        const char *flag, *alt;
        ai_opt key;
        int is_int;
    } map[] = {
        {"-t", "--threads", AI_OPT_N_THREADS, 1},
        {"-c", "--ctx", AI_OPT_N_CTX, 1},
        {"-b", "--batch", AI_OPT_N_BATCH, 1},
        {"-n", "--n-predict", AI_OPT_MAX_TOKENS, 1},
        {"--seed", NULL, AI_OPT_SEED, 1},
        {"--top-k", NULL, AI_OPT_TOP_K, 1},
        {"--repeat-last-n", NULL, AI_OPT_REPEAT_LAST_N, 1},
        {"--kv-type", NULL, AI_OPT_KV_TYPE, 1},
        {"--temp", NULL, AI_OPT_TEMPERATURE, 0},
        {"--top-p", NULL, AI_OPT_TOP_P, 0},
        {"--min-p", NULL, AI_OPT_MIN_P, 0},
        {"--repeat-penalty", NULL, AI_OPT_REPEAT_PENALTY, 0},
        {"--presence-penalty", NULL, AI_OPT_PRESENCE_PENALTY, 0},
        {"--frequency-penalty", NULL, AI_OPT_FREQUENCY_PENALTY, 0},
    };
    const char *a = argv[*i];
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
        if (*i + 1 >= argc) return -1;
        *model = argv[++*i];
        return 1;
    }
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        if (strcmp(a, map[k].flag) && !(map[k].alt && !strcmp(a, map[k].alt))) continue;
        double v;
        if (*i + 1 >= argc) return -1;
        const char *val = argv[++*i];
        if (map[k].key == AI_OPT_KV_TYPE) {
            /* by name: f16, f32, q8_0 */
            v = !strcmp(val, "f32") ? AI_TYPE_F32 : !strcmp(val, "f16") ? AI_TYPE_F16
                : !strcmp(val, "q8_0") ? AI_TYPE_Q8_0 : -1;
            if (v < 0) return -1;
        } else if (num(val, &v) != 0) {
            return -1;
        }
        ai_status st = map[k].is_int ? ai_opts_set_int(o, map[k].key, (int64_t)v)
                                     : ai_opts_set_double(o, map[k].key, v);
        return st == AI_OK ? 1 : -1;
    }
    return 0;
}

int cli_open_session(const char *path, const ai_opts *o, ai_model **m, ai_session **s) {
    int rc = cli_load_model(path, m);
    if (rc) return rc;
    char err[512];
    ai_status st = ai_session_new(*m, o, s, err, sizeof err);
    if (st == AI_OK) return EXIT_OK;
    fprintf(stderr, "agentinfer: %s: %s\n", path, err[0] ? err : ai_status_string(st));
    ai_model_free(*m);
    *m = NULL;
    return EXIT_INPUT;
}

int cli_parse_tokens(const char *list, int32_t **out, size_t *n) {
    size_t cap = 16;
    *n = 0;
    *out = malloc(cap * sizeof **out);
    if (!*out) return -1;
    const char *p = list;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > INT32_MAX || (*end && *end != ',')) {
            free(*out);
            *out = NULL;
            return -1;
        }
        if (*n == cap) {
            int32_t *nt = realloc(*out, (cap *= 2) * sizeof *nt);
            if (!nt) { free(*out); *out = NULL; return -1; }
            *out = nt;
        }
        (*out)[(*n)++] = (int32_t)v;
        p = *end ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

ai_status cli_tokenize(const ai_model *m, const char *text, uint32_t flags, int32_t **out,
                       size_t *n) {
    size_t len = strlen(text), cap = len + 8;
    *out = NULL;
    for (int pass = 0; pass < 2; pass++) {
        int32_t *t = malloc((cap ? cap : 1) * sizeof *t);
        if (!t) return AI_E_NOMEM;
        ai_status st = ai_tokenize(m, text, len, flags, t, cap, n);
        if (st == AI_OK) {
            *out = t;
            return AI_OK;
        }
        free(t);
        if (st != AI_E_RANGE) return st;
        cap = *n;
    }
    return AI_E_INTERNAL;
}
