/*
 * cmd_generate.c - `agentinfer generate -m MODEL -p TEXT [-n N] [--temp T]
 * [--top-k K] [--top-p P] [--min-p P] [--seed S] [-t THREADS] [-c CTX]
 * [--stop STR]... [--session FILE]`: tokenizes the prompt (special tokens
 * added, special text parsed, so a rendered chat prompt works), then streams
 * the generated text to stdout as it comes.  With --session, the state in
 * FILE (when it exists) is loaded first and its common prefix with the
 * prompt is not evaluated again; the state is saved to FILE afterwards.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: agentinfer generate [-m MODEL] -p TEXT [-n N] [--temp T] [--top-k K]\n"
               "         [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S]\n"
               "         [-t THREADS] [-c CTX] [-b BATCH] [--kv-type f16|f32|q8_0] [--stop STR]...\n"
               "         [--session FILE]\n"
               "Streams the continuation of TEXT to stdout.  --session FILE loads the\n"
               "session state from FILE when it exists (its common prefix with the prompt\n"
               "is not evaluated again) and saves the state to FILE afterwards.\n");
}

static int print_piece(const char *piece, size_t len, void *ud) {
    (void)ud;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return 0;
}

int cmd_generate(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *session_path = NULL;
    const char *stops[16];
    int n_stops = 0;
    ai_opts *o = NULL;
    if (ai_opts_new(&o) != AI_OK) return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        int r = cli_session_opt(argc, argv, &i, o, &model);
        if (r == 1) continue;
        if (r == 0 && (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--prompt")) && i + 1 < argc) {
            prompt = argv[++i];
        } else if (r == 0 && !strcmp(argv[i], "--session") && i + 1 < argc) {
            session_path = argv[++i];
        } else if (r == 0 && !strcmp(argv[i], "--stop") && i + 1 < argc && n_stops < 16) {
            stops[n_stops++] = argv[++i];
        } else if (r == 0 && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
            usage(stdout);
            ai_opts_free(o);
            return EXIT_OK;
        } else {
            fprintf(stderr, "agentinfer generate: bad or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            ai_opts_free(o);
            return EXIT_USAGE;
        }
    }
    if (!model && prompt) model = cli_default_model();
    if (!model || !prompt) {
        usage(stderr);
        ai_opts_free(o);
        return EXIT_USAGE;
    }
    ai_model *m = NULL;
    ai_session *s = NULL;
    int rc = cli_open_session(model, o, &m, &s);
    ai_opts_free(o);
    if (rc) return rc;
    int32_t *toks = NULL;
    size_t n = 0, len = strlen(prompt);
    ai_status st = cli_tokenize(m, prompt, AI_TOKENIZE_ADD_SPECIAL | AI_TOKENIZE_PARSE_SPECIAL,
                                &toks, &n);
    if (st != AI_OK) {
        fprintf(stderr, "agentinfer generate: cannot tokenize the prompt (%zu bytes): %s\n", len,
                ai_status_string(st));
        rc = EXIT_INPUT;
        goto out;
    }
    for (int i = 0; i < n_stops && st == AI_OK; i++)
        st = ai_session_add_stop(s, stops[i], strlen(stops[i]));
    if (st == AI_OK && session_path && (rc = cli_session_load(s, session_path, "generate")))
        goto out;
    if (st == AI_OK && n > 0)
        st = session_path ? ai_session_prompt(s, toks, n, 0) : ai_session_eval(s, toks, n, 0);
    if (st == AI_OK && session_path)
        fprintf(stderr, "agentinfer generate: --session %s: reused %d of %zu prompt tokens\n",
                session_path, ai_session_n_reused(s), n);
    if (st == AI_OK) st = ai_session_generate(s, print_piece, NULL);
    if (st != AI_OK) {
        fprintf(stderr, "\nagentinfer generate: %s\n", ai_session_errmsg(s)[0] ? ai_session_errmsg(s)
                                                                             : ai_status_string(st));
        rc = EXIT_INPUT;
    } else {
        printf("\n");
        if (session_path) rc = cli_session_save(s, session_path, "generate");
    }
out:
    free(toks);
    ai_session_free(s);
    ai_model_free(m);
    return rc;
}
