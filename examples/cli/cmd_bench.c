/*
 * cmd_bench.c - `agentinfer bench -m MODEL [-p 512] [-n 128] [-t N] [-r 3]
 * [--json]`: prompt processing (pp: P random tokens in one evaluation, from
 * an empty context) and token generation (tg: N tokens evaluated one at a
 * time) in tokens per second, mean and standard deviation over r runs, as
 * llama-bench reports them.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f, "usage: agentinfer bench [-m MODEL] [-p 512] [-n 128] [-t THREADS] [-r 3] [--json]\n"
               "       [-b BATCH] [--kv-type f16|f32|q8_0]\n");
}

static void stats(const double *v, int n, double *mean, double *sd) {
    double s = 0, q = 0;
    for (int i = 0; i < n; i++) s += v[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) q += (v[i] - *mean) * (v[i] - *mean);
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL;
    long p = 512, n = 128, reps = 3;
    int json = 0;
    ai_opts *o = NULL;
    if (ai_opts_new(&o) != AI_OK) return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        long *target = NULL;
        if (!strcmp(argv[i], "-p")) target = &p;
        else if (!strcmp(argv[i], "-n")) target = &n;
        else if (!strcmp(argv[i], "-r")) target = &reps;
        if (target && i + 1 < argc) {
            char *end;
            *target = strtol(argv[++i], &end, 10);
            if (!*end && *target >= 0 && *target <= 1000000) continue;
        } else if (!target && !strcmp(argv[i], "--json")) {
            json = 1;
            continue;
        } else if (!target && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
            usage(stdout);
            ai_opts_free(o);
            return EXIT_OK;
        } else if (!target && cli_session_opt(argc, argv, &i, o, &model) == 1) {
            continue;
        }
        fprintf(stderr, "agentinfer bench: bad or incomplete option '%s'\n", argv[i]);
        usage(stderr);
        ai_opts_free(o);
        return EXIT_USAGE;
    }
    if (!model && reps >= 1 && (p || n)) model = cli_default_model();
    if (!model || reps < 1 || (p == 0 && n == 0)) {
        usage(stderr);
        ai_opts_free(o);
        return EXIT_USAGE;
    }
    ai_opts_set_int(o, AI_OPT_N_CTX, p + n + 1 > 16 ? p + n + 1 : 16);
    ai_model *m = NULL;
    ai_session *s = NULL;
    int rc = cli_open_session(model, o, &m, &s);
    ai_opts_free(o);
    if (rc) return rc;

    int32_t V = ai_session_n_vocab(s);
    size_t nt = (size_t)(p > n ? p : n) + 1;
    int32_t *toks = malloc(nt * sizeof *toks);
    double *pp = calloc((size_t)reps, sizeof *pp), *tg = calloc((size_t)reps, sizeof *tg);
    if (!toks || !pp || !tg) {
        rc = EXIT_INPUT;
        goto out;
    }
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < nt; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        toks[i] = (int32_t)(r % (uint64_t)V);
    }
    /* one warm-up pass of each (page faults, caches) */
    for (long k = -1; k < reps; k++) {
        ai_status st = AI_OK;
        if (p > 0) {
            ai_session_rewind(s, 0);
            double t0 = cli_wall_seconds();
            st = ai_session_eval(s, toks, (size_t)p, 0);
            if (k >= 0) pp[k] = (double)p / (cli_wall_seconds() - t0);
        }
        if (st == AI_OK && n > 0) {
            ai_session_rewind(s, 0);
            double t0 = cli_wall_seconds();
            for (long j = 0; j < n && st == AI_OK; j++) st = ai_session_eval(s, toks + j, 1, 0);
            if (k >= 0) tg[k] = (double)n / (cli_wall_seconds() - t0);
        }
        if (st != AI_OK) {
            fprintf(stderr, "agentinfer bench: %s\n", ai_session_errmsg(s));
            rc = EXIT_INPUT;
            goto out;
        }
    }
    double pm, psd, tm, tsd;
    stats(pp, (int)reps, &pm, &psd);
    stats(tg, (int)reps, &tm, &tsd);
    if (json) {
        printf("{\"pp\": {\"n\": %ld, \"tps\": %.3f, \"sd\": %.3f}, "
               "\"tg\": {\"n\": %ld, \"tps\": %.3f, \"sd\": %.3f}}\n", p, pm, psd, n, tm, tsd);
    } else {
        const char *b = strrchr(model, '/');
        printf("| model | test | t/s |\n|---|---|---|\n");
        if (p > 0) printf("| %s | pp%ld | %.2f ± %.2f |\n", b ? b + 1 : model, p, pm, psd);
        if (n > 0) printf("| %s | tg%ld | %.2f ± %.2f |\n", b ? b + 1 : model, n, tm, tsd);
    }
out:
    free(toks);
    free(pp);
    free(tg);
    ai_session_free(s);
    ai_model_free(m);
    return rc;
}
