/*
 * cmd_embed.c - `agentinfer embed` and `agentinfer similarity`.
 *
 *   agentinfer embed -m MODEL (-p TEXT | -f FILE) [-t N] [-c N] [--batch N]
 *                    [--pooling none|mean|cls|last] [--no-normalize]
 *                    [--truncate] [--blas N] [--time]
 *   agentinfer similarity -m MODEL [-t N] TEXT1 TEXT2
 *
 * embed prints {"embedding": [...], "n_tokens": N} (plus "truncated": true
 * when the text was cut); with -f, one text per line of FILE and one such
 * object per line, the texts embedded --batch at a time (default 32).
 * --time adds a line on stderr: texts/s and tokens/s of the embedding calls,
 * per second of wall time and per second of this process's CPU time.
 * --blas N sends encoder passes of N tokens or more through OpenBLAS sgemm
 * (AI_OPT_EMBD_BLAS_MIN_BATCH: faster big batches, last-bit differences).
 * similarity prints the cosine similarity of the two texts' embeddings.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage_embed(FILE *f) {
    fprintf(f, "usage: agentinfer embed -m MODEL (-p TEXT | -f FILE) [-t N] [-c N] [--batch N]\n"
               "                        [--pooling none|mean|cls|last] [--no-normalize]\n"
               "                        [--truncate] [--blas N] [--time]\n"
               "  prints {\"embedding\": [...], \"n_tokens\": N}, one line per text (-f: one\n"
               "  text per line); --time prints texts/s and tokens/s on stderr\n");
    return f == stdout ? EXIT_OK : EXIT_USAGE;
}

/* Reads FILE into lines (NUL-terminated, pointing into *buf). */
static int read_lines(const char *path, char **buf, char ***lines, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap + 1);
    while (b) {
        len += fread(b + len, 1, cap - len, f);
        if (len < cap) break;
        char *nb = realloc(b, cap * 2 + 1);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b || bad) {
        free(b);
        return -1;
    }
    b[len] = 0;
    size_t count = 0;
    for (size_t i = 0; i < len; i++) count += b[i] == '\n';
    char **l = malloc((count + 1) * sizeof *l);
    if (!l) {
        free(b);
        return -1;
    }
    size_t k = 0;
    for (char *p = b; p < b + len;) {
        char *nl = memchr(p, '\n', (size_t)(b + len - p));
        char *end = nl ? nl : b + len;
        if (end > p && end[-1] == '\r') end[-1] = 0;
        *end = 0;
        l[k++] = p;
        p = end + 1;
    }
    *buf = b;
    *lines = l;
    *n = k;
    return 0;
}

static void print_vec(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) printf(i ? ", %.7g" : "%.7g", (double)v[i]);
}

/* Embeds texts[0..n) batch at a time and prints one JSON line each. */
static int embed_all(ai_embedder *e, int32_t dim, const char *const *texts, size_t n,
                     size_t batch, int timing) {
    size_t cap = batch * (size_t)dim;
    float *v = malloc(cap * sizeof *v);
    int32_t *nt = malloc(batch * sizeof *nt), *tr = malloc(batch * sizeof *tr);
    int rc = EXIT_OK;
    double t_embed = 0, c_embed = 0;
    long long tokens = 0;
    if (!v || !nt || !tr) {
        fprintf(stderr, "agentinfer: out of memory\n");
        rc = EXIT_INPUT;
        goto out;
    }
    for (size_t i = 0; i < n; i += batch) {
        size_t k = n - i < batch ? n - i : batch, need = 0;
        double t0 = cli_wall_seconds(), c0 = cli_cpu_seconds();
        ai_status st = ai_embed_batch(e, texts + i, NULL, k, v, cap, &need, nt, tr);
        if (st == AI_E_RANGE) { /* pooling none: rows per token */
            float *nv = realloc(v, need * sizeof *v);
            if (!nv) {
                st = AI_E_NOMEM;
            } else {
                v = nv;
                cap = need;
                st = ai_embed_batch(e, texts + i, NULL, k, v, cap, &need, nt, tr);
            }
        }
        t_embed += cli_wall_seconds() - t0;
        c_embed += cli_cpu_seconds() - c0;
        if (st != AI_OK) {
            fprintf(stderr, "agentinfer: text %zu: %s (%s)\n", i + 1, ai_embedder_errmsg(e),
                    ai_status_string(st));
            rc = EXIT_INPUT;
            goto out;
        }
        const float *p = v;
        int none = ai_embedder_pooling(e) == AI_POOLING_NONE;
        for (size_t j = 0; j < k; j++) {
            size_t rows = none ? (size_t)nt[j] : 1;
            printf("{\"embedding\": [");
            for (size_t r = 0; r < rows; r++) {
                if (none) printf(r ? ", [" : "[");
                print_vec(p, (size_t)dim);
                if (none) printf("]");
                p += dim;
            }
            printf("], \"n_tokens\": %d%s}\n", nt[j], tr[j] ? ", \"truncated\": true" : "");
            tokens += nt[j];
        }
    }
    if (timing && t_embed > 0)
        fprintf(stderr, "embed: %zu texts, %lld tokens, batch %zu: wall %.3f s, %.2f texts/s, "
                "%.1f tokens/s; cpu %.3f s, %.2f texts/cpu-s, %.1f tokens/cpu-s\n", n, tokens,
                batch, t_embed, (double)n / t_embed, (double)tokens / t_embed, c_embed,
                (double)n / c_embed, (double)tokens / c_embed);
out:
    free(v);
    free(nt);
    free(tr);
    return rc;
}

static int open_embedder(const char *path, ai_opts *o, ai_model **m, ai_embedder **e) {
    int rc = cli_load_model(path, m);
    if (rc) return rc;
    char err[512];
    ai_status st = ai_embedder_new(*m, o, e, err, sizeof err);
    if (st) {
        fprintf(stderr, "agentinfer: %s\n", err[0] ? err : ai_status_string(st));
        return st == AI_E_INVAL ? EXIT_USAGE : EXIT_INPUT;
    }
    return EXIT_OK;
}

/* -t N / -c N / -b N: returns 1 consumed, 0 not ours, -1 bad value. */
static int num_opt(int argc, char **argv, int *i, ai_opts *o) {
    ai_opt key;
    if (!strcmp(argv[*i], "-t")) key = AI_OPT_N_THREADS;
    else if (!strcmp(argv[*i], "-c")) key = AI_OPT_N_CTX;
    else if (!strcmp(argv[*i], "-b")) key = AI_OPT_N_BATCH;
    else return 0;
    if (*i + 1 >= argc) return -1;
    char *end;
    long long v = strtoll(argv[++*i], &end, 10);
    if (*end || ai_opts_set_int(o, key, v) != AI_OK) return -1;
    return 1;
}

int cmd_embed(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *file = NULL;
    long long batch = 32;
    int timing = 0;
    ai_opts *o = NULL;
    if (ai_opts_new(&o)) return EXIT_INPUT;
    int rc = EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = num_opt(argc, argv, &i, o);
        if (r < 0) goto bad;
        if (r) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            ai_opts_free(o);
            return usage_embed(stdout);
        } else if (!strcmp(a, "-m") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(a, "-p") && i + 1 < argc) prompt = argv[++i];
        else if (!strcmp(a, "-f") && i + 1 < argc) file = argv[++i];
        else if (!strcmp(a, "--batch") && i + 1 < argc) {
            batch = strtoll(argv[++i], NULL, 10);
            if (batch <= 0 || batch > 100000) goto bad;
        } else if (!strcmp(a, "--pooling") && i + 1 < argc) {
            static const char *const names[] = {"none", "mean", "cls", "last"};
            const char *v = argv[++i];
            int p = -1;
            for (int k = 0; k < 4; k++)
                if (!strcmp(v, names[k])) p = k;
            if (p < 0) goto bad;
            ai_opts_set_int(o, AI_OPT_EMBD_POOLING, p);
        } else if (!strcmp(a, "--no-normalize")) ai_opts_set_int(o, AI_OPT_EMBD_NORMALIZE, 0);
        else if (!strcmp(a, "--truncate")) ai_opts_set_int(o, AI_OPT_EMBD_TRUNCATE, 1);
        else if (!strcmp(a, "--time")) timing = 1;
        else if (!strcmp(a, "--blas") && i + 1 < argc) {
            char *end;
            long long v = strtoll(argv[++i], &end, 10);
            if (*end || ai_opts_set_int(o, AI_OPT_EMBD_BLAS_MIN_BATCH, v) != AI_OK) goto bad;
        }
        else goto bad;
    }
    if (!model || (!prompt) == (!file)) goto bad;
    ai_model *m = NULL;
    ai_embedder *e = NULL;
    char *buf = NULL;
    char **lines = NULL;
    size_t n = 0;
    if ((rc = open_embedder(model, o, &m, &e)) == EXIT_OK) {
        if (file && read_lines(file, &buf, &lines, &n) != 0) {
            fprintf(stderr, "agentinfer: cannot read %s\n", file);
            rc = EXIT_INPUT;
        } else {
            const char *one[1] = {prompt};
            rc = embed_all(e, ai_model_embedding_dim(m), file ? (const char *const *)lines : one,
                           file ? n : 1, file ? (size_t)batch : 1, timing);
        }
    }
    free(lines);
    free(buf);
    ai_embedder_free(e);
    ai_model_free(m);
    ai_opts_free(o);
    return rc;
bad:
    ai_opts_free(o);
    return usage_embed(stderr);
}

int cmd_similarity(int argc, char **argv) {
    const char *model = NULL, *t[2] = {NULL, NULL};
    int nt = 0;
    ai_opts *o = NULL;
    if (ai_opts_new(&o)) return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        int r = num_opt(argc, argv, &i, o);
        if (r < 0) goto bad;
        if (r) continue;
        if (!strcmp(argv[i], "-m") && i + 1 < argc) model = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) goto bad;
        else if (nt < 2) t[nt++] = argv[i];
        else goto bad;
    }
    if (!model || nt != 2) goto bad;
    ai_model *m = NULL;
    ai_embedder *e = NULL;
    int rc;
    /* mean pooling (the model's) and L2: the cosine is then the dot product,
     * computed below in full so that normalization off would still be right */
    if ((rc = open_embedder(model, o, &m, &e)) == EXIT_OK) {
        size_t dim = (size_t)ai_model_embedding_dim(m), need = 0;
        float *v = malloc(2 * dim * sizeof *v);
        ai_status st = v ? ai_embed_batch(e, t, NULL, 2, v, 2 * dim, &need, NULL, NULL)
                         : AI_E_NOMEM;
        if (st == AI_OK && ai_embedder_pooling(e) != AI_POOLING_NONE) {
            double ab = 0, aa = 0, bb = 0;
            for (size_t i = 0; i < dim; i++) {
                ab += (double)v[i] * v[dim + i];
                aa += (double)v[i] * v[i];
                bb += (double)v[dim + i] * v[dim + i];
            }
            printf("%.6f\n", aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0);
        } else {
            fprintf(stderr, "agentinfer: %s (%s)\n",
                    st == AI_OK ? "similarity needs one vector per text (pooling none)"
                                : ai_embedder_errmsg(e),
                    ai_status_string(st == AI_OK ? AI_E_INVAL : st));
            rc = EXIT_INPUT;
        }
        free(v);
    }
    ai_embedder_free(e);
    ai_model_free(m);
    ai_opts_free(o);
    return rc;
bad:
    ai_opts_free(o);
    fprintf(stderr, "usage: agentinfer similarity -m MODEL [-t N] TEXT1 TEXT2\n"
                    "  prints the cosine similarity of the two texts' embeddings\n");
    return EXIT_USAGE;
}
