/*
 * embed_search.c - local retrieval: embed every line of a text file, then
 * answer nearest-neighbour queries.
 *
 *   embed_search -m EMBEDDING_MODEL -f FILE [-k K] [QUERY...]
 *
 * Each non-empty line of FILE is a document.  The queries come from the
 * command line, or one per line on stdin when none is given.  For each query
 * the K most similar lines are printed as "RANK<TAB>SCORE<TAB>LINE" (cosine
 * similarity: the vectors are unit length, so it is their dot product).
 * Uses only <agentinfer.h>.
 */
#define _POSIX_C_SOURCE 200809L
#include <agentinfer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct doc {
    char *text;
    float score;
    size_t idx;
} doc;

static int by_score(const void *a, const void *b) {
    const doc *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Embeds one query and prints the k best lines; 0 ok, 2 on error. */
static int query(ai_embedder *e, const char *q, const float *vecs, doc *docs, size_t n_docs,
                 int32_t dim, size_t k) {
    float *qv = malloc((size_t)dim * sizeof *qv);
    size_t need = 0;
    ai_status st = qv ? ai_embed(e, q, strlen(q), qv, (size_t)dim, &need, NULL, NULL) : AI_E_NOMEM;
    if (st != AI_OK) {
        fprintf(stderr, "embed_search: query \"%s\": %s\n", q,
                ai_embedder_errmsg(e)[0] ? ai_embedder_errmsg(e) : ai_status_string(st));
        free(qv);
        return 2;
    }
    for (size_t i = 0; i < n_docs; i++) {
        const float *v = vecs + docs[i].idx * (size_t)dim;
        double dot = 0;
        for (int32_t j = 0; j < dim; j++) dot += (double)v[j] * qv[j];
        docs[i].score = (float)dot;
    }
    qsort(docs, n_docs, sizeof *docs, by_score);
    printf("query: %s\n", q);
    for (size_t i = 0; i < k && i < n_docs; i++) printf("%zu\t%.4f\t%s\n", i + 1, docs[i].score, docs[i].text);
    fflush(stdout);
    free(qv);
    return 0;
}

int main(int argc, char **argv) {
    const char *path = NULL, *file = NULL;
    size_t k = 3;
    int first_query = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc) path = argv[++i];
        else if (!strcmp(argv[i], "-f") && i + 1 < argc) file = argv[++i];
        else if (!strcmp(argv[i], "-k") && i + 1 < argc) k = (size_t)strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] == '-') {
            first_query = -1;
            break;
        } else {
            first_query = i;
            break;
        }
    }
    if (!path || !file || first_query < 0 || k == 0) {
        fprintf(stderr, "usage: embed_search -m MODEL -f FILE [-k K] [QUERY...]\n");
        return 1;
    }
    /* The documents: the non-empty lines of the file. */
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "embed_search: %s: cannot open\n", file);
        return 2;
    }
    doc *docs = NULL;
    size_t n_docs = 0, docs_cap = 0;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &line_cap, f)) >= 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
        if (got == 0) continue;
        if (n_docs == docs_cap) {
            size_t cap = docs_cap ? docs_cap * 2 : 64;
            doc *d = realloc(docs, cap * sizeof *d);
            if (!d) {
                rc = 2;
                break;
            }
            docs = d;
            docs_cap = cap;
        }
        docs[n_docs].idx = n_docs;
        if (!(docs[n_docs].text = strdup(line))) {
            rc = 2;
            break;
        }
        n_docs++;
    }
    fclose(f);
    if (rc == 0 && n_docs == 0) {
        fprintf(stderr, "embed_search: %s: no lines to search\n", file);
        rc = 2;
    }

    char err[512] = "";
    ai_model *m = NULL;
    ai_embedder *e = NULL;
    float *vecs = NULL;
    int32_t dim = 0;
    if (rc == 0) {
        if (ai_model_load(path, NULL, &m, err, sizeof err) != AI_OK ||
            ai_embedder_new(m, NULL, &e, err, sizeof err) != AI_OK) {
            fprintf(stderr, "embed_search: %s: %s\n", path, err);
            rc = 2;
        } else {
            /* One call embeds every line, several lines per forward pass. */
            dim = ai_model_embedding_dim(m);
            const char **texts = malloc(n_docs * sizeof *texts);
            vecs = malloc(n_docs * (size_t)dim * sizeof *vecs);
            size_t need = 0;
            ai_status st = AI_E_NOMEM;
            if (texts && vecs) {
                for (size_t i = 0; i < n_docs; i++) texts[i] = docs[i].text;
                st = ai_embed_batch(e, texts, NULL, n_docs, vecs, n_docs * (size_t)dim, &need, NULL, NULL);
            }
            free(texts);
            if (st != AI_OK) {
                fprintf(stderr, "embed_search: %s\n",
                        ai_embedder_errmsg(e)[0] ? ai_embedder_errmsg(e) : ai_status_string(st));
                rc = 2;
            } else {
                fprintf(stderr, "embedded %zu lines (%d floats each)\n", n_docs, (int)dim);
            }
        }
    }
    if (rc == 0) {
        if (first_query < argc) {
            for (int i = first_query; i < argc && rc == 0; i++)
                rc = query(e, argv[i], vecs, docs, n_docs, dim, k);
        } else {
            while (rc == 0 && (got = getline(&line, &line_cap, stdin)) >= 0) {
                while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
                if (got > 0) rc = query(e, line, vecs, docs, n_docs, dim, k);
            }
        }
    }
    free(line);
    free(vecs);
    for (size_t i = 0; i < n_docs; i++) free(docs[i].text);
    free(docs);
    ai_embedder_free(e);
    ai_model_free(m);
    return rc;
}
