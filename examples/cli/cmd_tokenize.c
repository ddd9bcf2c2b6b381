/*
 * cmd_tokenize.c - `agentinfer tokenize` and `agentinfer detokenize`.
 *
 *   agentinfer tokenize -m MODEL (-p TEXT | -f FILE) [--add-special]
 *                       [--parse-special] [--pieces] [--bench]
 *   agentinfer detokenize -m MODEL [--render-special] ID...
 *
 * tokenize prints the ids on one line separated by single spaces, or with
 * --pieces one "id<TAB>piece" line per token (the piece's bytes as they are).
 * --bench tokenizes the text repeatedly for about two seconds and prints the
 * throughput instead, per second of this process's CPU time (one thread) and
 * per second of wall time.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage_tok(FILE *f) {
    fprintf(f, "usage: agentinfer tokenize [-m MODEL] (-p TEXT | -f FILE) [--add-special]\n"
               "                           [--parse-special] [--pieces] [--bench]\n"
               "  prints the token ids on one line (no special tokens added, special-token\n"
               "  text not parsed unless asked); --pieces prints id<TAB>piece lines;\n"
               "  --bench prints tokenization throughput (MB/s) instead\n");
    return f == stdout ? EXIT_OK : EXIT_USAGE;
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (n < cap) break;
        char *p = realloc(buf, cap * 2);
        if (!p) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Tokenizes into a malloc'd array; *n tokens. */
static ai_status tokenize_all(const ai_model *m, const char *text, size_t len, uint32_t flags,
                              int32_t **out, size_t *n) {
    size_t cap = len / 2 + 16;
    *out = NULL;
    for (;;) {
        int32_t *t = malloc(cap * sizeof *t);
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
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL, *file = NULL;
    uint32_t flags = 0;
    int pieces = 0, bench = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage_tok(stdout);
        else if (!strcmp(a, "-m") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(a, "-p") && i + 1 < argc) text = argv[++i];
        else if (!strcmp(a, "-f") && i + 1 < argc) file = argv[++i];
        else if (!strcmp(a, "--add-special")) flags |= AI_TOKENIZE_ADD_SPECIAL;
        else if (!strcmp(a, "--parse-special")) flags |= AI_TOKENIZE_PARSE_SPECIAL;
        else if (!strcmp(a, "--pieces")) pieces = 1;
        else if (!strcmp(a, "--bench")) bench = 1;
        else {
            fprintf(stderr, "agentinfer tokenize: unknown argument '%s'\n", a);
            return usage_tok(stderr);
        }
    }
    if (!model && (!text) != (!file)) model = cli_default_model();
    if (!model || (!text) == (!file)) return usage_tok(stderr);
    char *owned = NULL;
    size_t len;
    if (file) {
        owned = read_all(file, &len);
        if (!owned) {
            fprintf(stderr, "agentinfer tokenize: %s: %s\n", file, strerror(errno));
            return EXIT_INPUT;
        }
        text = owned;
    } else {
        len = strlen(text);
    }
    ai_model *m;
    int rc = cli_load_model(model, &m);
    if (rc) {
        free(owned);
        return rc;
    }
    int32_t *t = NULL;
    size_t n = 0;
    double t0 = cli_wall_seconds(), c0 = cli_cpu_seconds();
    ai_status st = tokenize_all(m, text, len, flags, &t, &n);
    int reps = 1;
    if (st == AI_OK && bench) {
        while (cli_wall_seconds() - t0 < 2.0 && st == AI_OK) {
            free(t);
            st = tokenize_all(m, text, len, flags, &t, &n);
            reps++;
        }
    }
    double dt = cli_wall_seconds() - t0, dc = cli_cpu_seconds() - c0;
    if (st != AI_OK) {
        if (st == AI_E_UNSUPPORTED)
            fprintf(stderr, "agentinfer tokenize: %s: the model has no supported tokenizer\n",
                    model);
        else fprintf(stderr, "agentinfer tokenize: %s\n", ai_status_string(st));
        rc = EXIT_INPUT;
    } else if (bench) {
        double mb = (double)len * reps / 1e6;
        printf("bytes %zu tokens %zu reps %d wall_s %.3f cpu_s %.3f MB/s(cpu) %.2f "
               "MB/s(wall) %.2f\n", len, n, reps, dt, dc, mb / dc, mb / dt);
    } else if (pieces) {
        char buf[1024];
        for (size_t i = 0; i < n; i++) {
            size_t need;
            char *p = buf;
            if (ai_token_to_piece(m, t[i], AI_DETOKENIZE_RENDER_SPECIAL, buf, sizeof buf,
                                  &need) == AI_E_RANGE) {
                p = malloc(need);
                if (!p || ai_token_to_piece(m, t[i], AI_DETOKENIZE_RENDER_SPECIAL, p, need,
                                            &need) != AI_OK) {
                    free(p);
                    continue;
                }
            }
            printf("%d\t", t[i]);
            fwrite(p, 1, need - 1, stdout);
            putchar('\n');
            if (p != buf) free(p);
        }
    } else {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", t[i]);
        putchar('\n');
    }
    free(t);
    free(owned);
    ai_model_free(m);
    return rc;
}

static int usage_detok(FILE *f) {
    fprintf(f, "usage: agentinfer detokenize [-m MODEL] [--render-special] ID...\n"
               "  prints the text of the token ids (control tokens only with\n"
               "  --render-special)\n");
    return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int cmd_detokenize(int argc, char **argv) {
    const char *model = NULL;
    uint32_t flags = 0;
    int32_t *ids = malloc((size_t)argc * sizeof *ids);
    size_t n = 0;
    int rc = EXIT_OK;
    if (!ids) return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            free(ids);
            return usage_detok(stdout);
        } else if (!strcmp(a, "-m") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(a, "--render-special")) flags |= AI_DETOKENIZE_RENDER_SPECIAL;
        else {
            char *end;
            errno = 0;
            long v = strtol(a, &end, 10);
            if (end == a || *end || errno || v < 0 || v > INT32_MAX) {
                fprintf(stderr, "agentinfer detokenize: '%s' (argument %d) is not a token id\n",
                        a, i);
                free(ids);
                return EXIT_INPUT;
            }
            ids[n++] = (int32_t)v;
        }
    }
    if (!model) model = cli_default_model();
    if (!model) {
        free(ids);
        return usage_detok(stderr);
    }
    ai_model *m;
    rc = cli_load_model(model, &m);
    if (rc) {
        free(ids);
        return rc;
    }
    size_t need = 0;
    ai_status st = ai_detokenize(m, ids, n, flags, NULL, 0, &need);
    char *buf = NULL;
    if (st == AI_E_RANGE && (buf = malloc(need)))
        st = ai_detokenize(m, ids, n, flags, buf, need, &need);
    if (st == AI_OK && buf) {
        fwrite(buf, 1, need - 1, stdout);
        putchar('\n');
    } else {
        if (st == AI_E_UNSUPPORTED)
            fprintf(stderr, "agentinfer detokenize: %s: the model has no supported tokenizer\n",
                    model);
        else if (st == AI_E_INVAL)
            fprintf(stderr, "agentinfer detokenize: a token id is out of range (vocabulary "
                            "size %zu)\n", ai_vocab_size(m));
        else fprintf(stderr, "agentinfer detokenize: %s\n", ai_status_string(st));
        rc = EXIT_INPUT;
    }
    free(buf);
    free(ids);
    ai_model_free(m);
    return rc;
}
