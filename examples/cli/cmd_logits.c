/*
 * cmd_logits.c - `agentinfer logits -m MODEL (-p TEXT | --tokens 1,2,3)
 * [--gen N]`: evaluates the prompt in one pass and prints one JSON object in
 * the schema of the reference files (fixtures/refs/MODEL.pN.json), so that
 * our numbers can be compared with the peer's directly:
 *
 *   {"model", "prompt", "n_vocab", "tokens",
 *    "positions": [{"lse", "top": [[id, logit] x16]}],   one per token
 *    "last_logits": [every logit of the last position],
 *    "greedy": [{"id", "logits": {"lse", "top": [[id, logit] x8]}}]}
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: agentinfer logits [-m MODEL] (-p TEXT | --tokens ID,ID,...) [--gen N]\n"
               "                         [-t THREADS] [-c CTX] [-b BATCH]\n"
               "Prints the logits of every prompt position (log-sum-exp and top 16),\n"
               "the last position's logits and N (16) greedy steps as one JSON object.\n");
}

/* {"lse": L, "top": [[id, logit], ...k]} of one row. */
static void put_row(const float *l, int32_t n, int k) {
    float max = l[0];
    for (int32_t i = 1; i < n; i++)
        if (l[i] > max) max = l[i];
    double s = 0;
    for (int32_t i = 0; i < n; i++) s += exp((double)l[i] - max);
    printf("{\"lse\":%.7g,\"top\":[", max + log(s));
    /* k best by repeated selection: k is small */
    int32_t best[16];
    for (int j = 0; j < k && j < n; j++) {
        int32_t b = -1;
        for (int32_t i = 0; i < n; i++) {
            int taken = 0;
            for (int q = 0; q < j; q++) taken |= best[q] == i;
            if (!taken && (b < 0 || l[i] > l[b])) b = i;
        }
        best[j] = b;
        printf("%s[%d,%.7g]", j ? "," : "", b, (double)l[b]);
    }
    printf("]}");
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int cmd_logits(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *list = NULL;
    long gen = 16;
    ai_opts *o = NULL;
    if (ai_opts_new(&o) != AI_OK) return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        int r = cli_session_opt(argc, argv, &i, o, &model);
        if (r == 1) continue;
        if (r == 0 && (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--prompt")) && i + 1 < argc) {
            prompt = argv[++i];
        } else if (r == 0 && !strcmp(argv[i], "--tokens") && i + 1 < argc) {
            list = argv[++i];
        } else if (r == 0 && !strcmp(argv[i], "--gen") && i + 1 < argc) {
            char *end;
            gen = strtol(argv[++i], &end, 10);
            if (*end || gen < 0 || gen > 100000) r = -1;
        } else if (r == 0 && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
            usage(stdout);
            ai_opts_free(o);
            return EXIT_OK;
        } else {
            r = -1;
        }
        if (r < 0) {
            fprintf(stderr, "agentinfer logits: bad or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            ai_opts_free(o);
            return EXIT_USAGE;
        }
    }
    if (!model && (prompt || list)) model = cli_default_model();
    if (!model || (!prompt && !list)) {
        usage(stderr);
        ai_opts_free(o);
        return EXIT_USAGE;
    }
    int32_t *toks = NULL;
    size_t n = 0;
    if (list && cli_parse_tokens(list, &toks, &n) != 0) {
        fprintf(stderr, "agentinfer logits: --tokens: expected ids like 1,2,3\n");
        ai_opts_free(o);
        return EXIT_USAGE;
    }
    ai_opts_set_double(o, AI_OPT_TEMPERATURE, 0.0); /* greedy steps */
    ai_model *m = NULL;
    ai_session *s = NULL;
    int rc = cli_open_session(model, o, &m, &s);
    ai_opts_free(o);
    if (rc) {
        free(toks);
        return rc;
    }
    if (!list) {
        /* as the refs were made: special tokens added, special text not parsed */
        ai_status ts = cli_tokenize(m, prompt, AI_TOKENIZE_ADD_SPECIAL, &toks, &n);
        if (ts != AI_OK || n == 0) {
            fprintf(stderr, "agentinfer logits: cannot tokenize the prompt: %s\n",
                    ts ? ai_status_string(ts) : "no tokens");
            ai_session_free(s);
            ai_model_free(m);
            free(toks);
            return EXIT_INPUT;
        }
    }
    int32_t V = ai_session_n_vocab(s);
    float *row = malloc((size_t)V * sizeof *row);
    size_t need;
    ai_status st = row ? ai_session_eval(s, toks, n, AI_EVAL_LOGITS_ALL) : AI_E_NOMEM;
    if (st != AI_OK) {
        fprintf(stderr, "agentinfer logits: %s: %s\n", model, ai_session_errmsg(s));
        rc = EXIT_INPUT;
        goto out;
    }
    printf("{\"model\":");
    cli_json_str(stdout, base_name(model));
    printf(",\"prompt\":");
    cli_json_str(stdout, prompt ? prompt : "");
    printf(",\"n_vocab\":%d,\"tokens\":[", V);
    for (size_t i = 0; i < n; i++) printf("%s%d", i ? "," : "", toks[i]);
    printf("],\"positions\":[");
    for (size_t i = 0; i < n; i++) {
        ai_session_logits(s, (int32_t)i, row, (size_t)V, &need);
        printf(i ? "," : "");
        put_row(row, V, 16);
    }
    printf("],\"last_logits\":[");
    for (int32_t i = 0; i < V; i++) printf("%s%.7g", i ? "," : "", (double)row[i]);
    printf("],\"greedy\":[");
    for (long k = 0; k < gen; k++) {
        int32_t t;
        ai_session_logits(s, -1, row, (size_t)V, &need);
        if (ai_session_sample(s, &t) != AI_OK) break;
        printf("%s{\"id\":%d,\"logits\":", k ? "," : "", t);
        put_row(row, V, 8);
        printf("}");
        if (k + 1 < gen && (st = ai_session_eval(s, &t, 1, 0)) != AI_OK) {
            fprintf(stderr, "agentinfer logits: step %ld: %s\n", k, ai_session_errmsg(s));
            break;
        }
    }
    printf("]}\n");
out:
    free(row);
    free(toks);
    ai_session_free(s);
    ai_model_free(m);
    return rc;
}
