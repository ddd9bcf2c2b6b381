/*
 * simple.c - the smallest complete program: load a model, generate from a
 * prompt, print the text and the speed.
 *
 *   simple -m MODEL [-p PROMPT] [-n MAX_TOKENS] [--temp T] [--seed S] [-t THREADS]
 *
 * The generated text goes to stdout as it comes; the prompt and generation
 * speeds (tokens/s) go to stderr.  Uses only <agentinfer.h>.
 */
#define _POSIX_C_SOURCE 200809L
#include <agentinfer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void) {
    fprintf(stderr, "usage: simple -m MODEL [-p PROMPT] [-n MAX_TOKENS] [--temp T] [--seed S] [-t THREADS]\n");
}

int main(int argc, char **argv) {
    const char *path = NULL, *prompt = "Once upon a time";
    ai_opts *opts = NULL;
    if (ai_opts_new(&opts) != AI_OK) return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        ai_status st = AI_OK;
        if (!v) {
            usage();
            ai_opts_free(opts);
            return 1;
        }
        if (!strcmp(a, "-m")) path = v;
        else if (!strcmp(a, "-p")) prompt = v;
        else if (!strcmp(a, "-n")) st = ai_opts_set_int(opts, AI_OPT_MAX_TOKENS, atoll(v));
        else if (!strcmp(a, "--temp")) st = ai_opts_set_double(opts, AI_OPT_TEMPERATURE, atof(v));
        else if (!strcmp(a, "--seed")) st = ai_opts_set_int(opts, AI_OPT_SEED, atoll(v));
        else if (!strcmp(a, "-t")) st = ai_opts_set_int(opts, AI_OPT_N_THREADS, atoll(v));
        else {
            usage();
            ai_opts_free(opts);
            return 1;
        }
        if (st != AI_OK) {
            fprintf(stderr, "simple: bad value for %s: %s\n", a, ai_status_string(st));
            ai_opts_free(opts);
            return 1;
        }
        i++;
    }
    if (!path) {
        usage();
        ai_opts_free(opts);
        return 1;
    }

    /* 1. Load the model (memory-mapped; the error names field and offset). */
    char err[512] = "";
    ai_model *model = NULL;
    ai_status st = ai_model_load(path, NULL, &model, err, sizeof err);
    if (st != AI_OK) {
        fprintf(stderr, "simple: %s: %s\n", path, err);
        ai_opts_free(opts);
        return 2;
    }
    /* 2. A session: KV cache, threads and sampler, configured by opts. */
    ai_session *s = NULL;
    st = ai_session_new(model, opts, &s, err, sizeof err);
    ai_opts_free(opts);
    if (st != AI_OK) {
        fprintf(stderr, "simple: %s\n", err);
        ai_model_free(model);
        return 2;
    }
    /* 3. Tokenize the prompt (with BOS where the model wants it).  3 * len
     * + 3 ids are always enough. */
    size_t len = strlen(prompt), n = 0;
    int32_t *toks = malloc((3 * len + 3) * sizeof *toks);
    if (!toks) st = AI_E_NOMEM;
    else st = ai_tokenize(model, prompt, len, AI_TOKENIZE_ADD_SPECIAL, toks, 3 * len + 3, &n);
    /* 4. Evaluate it, then pull text pieces until the generation ends. */
    double t0 = now_s(), t1 = t0;
    if (st == AI_OK) st = ai_session_eval(s, toks, n, 0);
    t1 = now_s();
    int32_t n_prompt_end = ai_session_n_past(s);
    fputs(prompt, stdout);
    char piece[256];
    size_t need;
    while (st == AI_OK) {
        st = ai_session_step(s, piece, sizeof piece, &need);
        if (st == AI_OK) {
            fputs(piece, stdout);
            fflush(stdout);
        }
    }
    double t2 = now_s();
    putchar('\n');
    int rc = 0;
    if (st != AI_DONE) {
        fprintf(stderr, "simple: %s\n", ai_session_errmsg(s)[0] ? ai_session_errmsg(s) : ai_status_string(st));
        rc = 2;
    } else {
        /* Every generated token but the last one (an end token, or the one
         * sampled at the limit) was evaluated into the context. */
        int32_t n_gen = ai_session_n_past(s) - n_prompt_end;
        fprintf(stderr, "prompt: %zu tokens in %.3f s (%.1f tokens/s)\n", n, t1 - t0,
                t1 > t0 ? (double)n / (t1 - t0) : 0.0);
        fprintf(stderr, "generation: %d tokens in %.3f s (%.1f tokens/s)\n", (int)n_gen, t2 - t1,
                t2 > t1 ? (double)n_gen / (t2 - t1) : 0.0);
    }
    free(toks);
    ai_session_free(s);
    ai_model_free(model);
    return rc;
}
