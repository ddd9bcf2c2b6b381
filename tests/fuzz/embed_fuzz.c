/*
 * embed_fuzz.c - libFuzzer target for the embedding calls.
 *
 * Byte 0 of the input chooses the setup: bit 0 the model (bert-f16 or
 * nomic-bert-f16 from $AI_FIXTURES/models or ../shared/fixtures/models),
 * bits 1-2 the pooling (none, mean, cls, last), bit 3 truncation.  The rest
 * is split at 0x00 bytes into up to 8 texts (any bytes: invalid UTF-8
 * included), embedded as one batch and one at a time with a context of 48
 * tokens.  Checked: the status is AI_OK, or AI_E_CONTEXT_FULL exactly when
 * a text is too long and truncation is off; *needed matches the pooling;
 * every value is finite; normalized vectors have unit length; the batch
 * equals the texts one at a time, bit for bit.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentinfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { N_CTX = 48, MAX_TEXTS = 8 };
static ai_model *models[2];
static ai_embedder *emb[2][4][2];
static int ready = -1;

static void setup(void) {
    const char *env = getenv("AI_FIXTURES");
    static const char *const names[2] = {"bert-f16", "nomic-bert-f16"};
    char path[4096];
    ready = 0;
    for (int m = 0; m < 2; m++) {
        snprintf(path, sizeof path, "%s/models/%s.gguf", env ? env : "../shared/fixtures",
                 names[m]);
        if (ai_model_load(path, NULL, &models[m], NULL, 0) != AI_OK) return;
        for (int p = 0; p < 4; p++)
            for (int t = 0; t < 2; t++) {
                ai_opts *o;
                if (ai_opts_new(&o)) return;
                ai_opts_set_int(o, AI_OPT_N_THREADS, 1);
                ai_opts_set_int(o, AI_OPT_N_CTX, N_CTX);
                ai_opts_set_int(o, AI_OPT_N_BATCH, 2 * N_CTX);
                ai_opts_set_int(o, AI_OPT_EMBD_POOLING, p);
                ai_opts_set_int(o, AI_OPT_EMBD_TRUNCATE, t);
                ai_status st = ai_embedder_new(models[m], o, &emb[m][p][t], NULL, 0);
                ai_opts_free(o);
                if (st) return;
            }
    }
    ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (ready < 0) setup();
    if (ready != 1) {
        static int warned;
        if (!warned++) fprintf(stderr, "embed_fuzz: fixture models not found\n");
        return 0;
    }
    if (size < 1 || size > 4096) return 0;
    int mi = data[0] & 1, pool = (data[0] >> 1) & 3, trunc = (data[0] >> 3) & 1;
    ai_embedder *e = emb[mi][pool][trunc];
    const char *texts[MAX_TEXTS];
    size_t lens[MAX_TEXTS], n = 0, start = 1;
    for (size_t i = 1; i <= size && n < MAX_TEXTS; i++)
        if (i == size || data[i] == 0) {
            texts[n] = (const char *)data + start;
            lens[n++] = i - start;
            start = i + 1;
        }
    size_t dim = (size_t)ai_model_embedding_dim(models[mi]);
    size_t cap = MAX_TEXTS * N_CTX * dim, need = 0;
    float *all = malloc(cap * sizeof *all), *one = malloc(N_CTX * dim * sizeof *one);
    int32_t nt[MAX_TEXTS], tr[MAX_TEXTS];
    if (!all || !one) abort();
    ai_status st = ai_embed_batch(e, texts, lens, n, all, cap, &need, nt, tr);
    if (st != AI_OK && st != AI_E_CONTEXT_FULL) abort();
    if (st == AI_E_CONTEXT_FULL && trunc) abort();
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t n1 = 0, t1 = 0;
        size_t need1 = 0;
        ai_status s1 = ai_embed(e, texts[i], lens[i], one, N_CTX * dim, &need1, &n1, &t1);
        if (s1 != AI_OK && s1 != AI_E_CONTEXT_FULL) abort();
        if (st == AI_OK && s1 != AI_OK) abort();
        if (s1 != AI_OK) continue;
        if (n1 < 1 || n1 > N_CTX || (t1 && !trunc)) abort();
        if (need1 != (pool == 0 ? (size_t)n1 * dim : dim)) abort();
        for (size_t k = 0; k < need1; k++)
            if (!isfinite(one[k])) abort();
        double ss = 0;
        for (size_t k = 0; k < dim; k++) ss += (double)one[k] * one[k];
        if (fabs(ss - 1.0) > 1e-4) abort();
        if (st == AI_OK) {
            if (nt[i] != n1 || tr[i] != t1 || memcmp(all + off, one, need1 * sizeof *one)) abort();
            off += need1;
        }
    }
    if (st == AI_OK && off != need) abort();
    free(all);
    free(one);
    return 0;
}
