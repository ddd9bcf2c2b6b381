/*
 * test_embed.c - the encoder runtime and the embedding calls.
 *
 *  - LayerNorm and GELU against values computed by hand;
 *  - every encoder fixture (refs/MODEL.eN.json): cosine similarity with the
 *    peer's vector >= 0.999 (f16) / 0.99 (q8_0);
 *  - a batch equals the texts one at a time, bit for bit, also when the
 *    batch is split over several passes;
 *  - pooling none/cls/mean agree with each other, sizes and AI_E_RANGE;
 *  - empty, very long (with and without truncation), invalid UTF-8 and NULL
 *    texts give a status;
 *  - a decoder's last-token embedding, times the output matrix, gives the
 *    peer's logits (refs/llama-f16.p0.json).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agentinfer.h"
#include "gguf.h"
#include "gguf_write.h"
#include "internal.h"
#include "json.h"
#include "kernels.h"
#include "model.h"
#include "runtime.h"
#include "testutil.h"
#include "types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- ops ------------------------------------------------------------------------ */

static void test_layernorm(void **state) {
    (void)state;
    /* x = 1 2 3 4: mean 2.5, variance 1.25, sd sqrt(1.25) = 1.1180340 */
    const float x[4] = {1, 2, 3, 4};
    const float w[4] = {1, 1, 2, 0.5f}, b[4] = {0, 1, 0, -1};
    const float plain[4] = {-1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f};
    float out[4];
    ai__layernorm_f32(out, x, NULL, NULL, 4, 0.0f);
    for (int i = 0; i < 4; i++) assert_float_equal(out[i], plain[i], 1e-6);
    /* scaled and shifted: plain * w + b */
    const float sb[4] = {-1.3416408f, 0.5527864f, 0.8944272f, -0.3291796f};
    ai__layernorm_f32(out, x, w, b, 4, 0.0f);
    for (int i = 0; i < 4; i++) assert_float_equal(out[i], sb[i], 1e-6);
    /* eps = 1: sd = sqrt(2.25) = 1.5 -> -1 -1/3 1/3 1 */
    const float e1[4] = {-1.0f, -1.0f / 3, 1.0f / 3, 1.0f};
    ai__layernorm_f32(out, x, NULL, NULL, 4, 1.0f);
    for (int i = 0; i < 4; i++) assert_float_equal(out[i], e1[i], 1e-6);
    /* a constant row becomes b (no division by zero thanks to eps) */
    const float c[4] = {7, 7, 7, 7};
    ai__layernorm_f32(out, c, w, b, 4, 1e-12f);
    for (int i = 0; i < 4; i++) assert_float_equal(out[i], b[i], 1e-6);
    /* in place, a large offset: the two-pass variance keeps it exact */
    float big[4] = {1e4f + 1, 1e4f + 2, 1e4f + 3, 1e4f + 4};
    ai__layernorm_f32(big, big, NULL, NULL, 4, 0.0f);
    for (int i = 0; i < 4; i++) assert_float_equal(big[i], plain[i], 1e-5);
}

static void test_gelu(void **state) {
    (void)state;
    /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    float x[8] = {0, 1, -1, 2, -3, 0.5f, 20, -20};
    const float want[8] = {0, 0.8411920f, -0.1588080f, 1.9545977f, -0.0036373921f,
                           0.3457140f, 20, 0};
    ai__gelu(x, 8);
    for (int i = 0; i < 8; i++) assert_float_equal(x[i], want[i], 2e-6);
}

/* ---- helpers -------------------------------------------------------------------- */

static ai_model *load(const char *rel) {
    ai_model *m = NULL;
    char err[256];
    ai_status st = ai_model_load(tu_fixture_path(rel), NULL, &m, err, sizeof err);
    if (st) fprintf(stderr, "%s: %s\n", rel, err);
    assert_int_equal(st, AI_OK);
    return m;
}

static ai_embedder *embedder(const ai_model *m, ai_opts *o) {
    ai_embedder *e = NULL;
    char err[256];
    ai_status st = ai_embedder_new(m, o, &e, err, sizeof err);
    if (st) fprintf(stderr, "embedder: %s\n", err);
    assert_int_equal(st, AI_OK);
    return e;
}

static double cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

static double norm(const float *a, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * a[i];
    return sqrt(s);
}

static ai__json *read_json(const char *rel) {
    size_t len;
    char *text = tu_read_file(tu_fixture_path(rel), &len);
    assert_non_null(text);
    ai__json *j = NULL;
    char err[128];
    assert_int_equal(ai__json_parse(text, len, &j, err, sizeof err), AI_OK);
    free(text);
    return j;
}

/* ---- the peer's vectors ------------------------------------------------------------- */

static void check_ref(const char *model, int idx, double min_cos) {
    char rel[128];
    snprintf(rel, sizeof rel, "refs/%s.e%d.json", model, idx);
    ai__json *r = read_json(rel);
    const ai__json *prompt = ai__json_get(r, "prompt"), *emb = ai__json_get(r, "embedding");
    assert_non_null(prompt);
    assert_non_null(emb);
    /* the refs are mean pooling with L2: what these models ask for */
    assert_string_equal(ai__json_get(r, "pooling")->str, "mean");
    snprintf(rel, sizeof rel, "models/%s.gguf", model);
    ai_model *m = load(rel);
    size_t dim = (size_t)ai_model_embedding_dim(m);
    assert_int_equal(dim, emb->n);
    ai_embedder *e = embedder(m, NULL);
    assert_int_equal(ai_embedder_pooling(e), AI_POOLING_MEAN);
    float *v = malloc(dim * sizeof *v), *ref = malloc(dim * sizeof *ref);
    size_t need = 0;
    int32_t nt = 0, tr = -1;
    assert_int_equal(ai_embed(e, prompt->str, prompt->len, v, dim, &need, &nt, &tr), AI_OK);
    assert_int_equal(need, dim);
    assert_int_equal(tr, 0);
    assert_true(nt > 2);
    for (size_t i = 0; i < dim; i++) ref[i] = (float)ai__json_num(emb->items[i]);
    double c = cosine(v, ref, dim);
    printf("  %s e%d: %d tokens, cosine %.7f\n", model, idx, nt, c);
    assert_true(c >= min_cos);
    assert_float_equal(norm(v, dim), 1.0, 1e-5);
    free(v);
    free(ref);
    ai_embedder_free(e);
    ai_model_free(m);
    ai__json_free(r);
}

static void test_refs(void **state) {
    (void)state;
    for (int i = 0; i < 2; i++) {
        check_ref("bert-f16", i, 0.999);
        check_ref("bert-q8_0", i, 0.99);
        check_ref("nomic-bert-f16", i, 0.999);
    }
}

/* ---- batches ---------------------------------------------------------------------------- */

static const char *const texts[] = {
    "A local model keeps private notes on the device.",
    "",
    "short",
    "Retrieval finds the paragraphs that answer a question, then the model reads "
    "them and writes an answer with citations to the sources it used.",
    "The quick brown fox jumps over the lazy dog.",
    "tools: search, calendar, email; pick one",
    "\xff\xfe broken \xc3 UTF-8 \xe2\x82",
};
enum { N_TEXTS = sizeof texts / sizeof texts[0] };

/* batch == one at a time, bit for bit; n_batch small enough to need
 * several passes when given */
static void batch_equal(const char *model, int64_t n_batch) {
    ai_model *m = load(model);
    ai_opts *o;
    ai_opts_new(&o);
    if (n_batch) {
        ai_opts_set_int(o, AI_OPT_N_CTX, 64);
        ai_opts_set_int(o, AI_OPT_N_BATCH, n_batch);
    }
    ai_embedder *e = embedder(m, o);
    size_t dim = (size_t)ai_model_embedding_dim(m), need;
    float *all = malloc(N_TEXTS * dim * sizeof *all), *one = malloc(dim * sizeof *one);
    int32_t nt[N_TEXTS], tr[N_TEXTS], n1, t1;
    assert_int_equal(ai_embed_batch(e, (const char *const *)texts, NULL, N_TEXTS, all,
                                     N_TEXTS * dim, &need, nt, tr), AI_OK);
    assert_int_equal(need, N_TEXTS * dim);
    for (size_t i = 0; i < N_TEXTS; i++) {
        assert_int_equal(ai_embed(e, texts[i], strlen(texts[i]), one, dim, &need, &n1, &t1),
                         AI_OK);
        assert_int_equal(n1, nt[i]);
        assert_int_equal(t1, tr[i]);
        assert_memory_equal(one, all + i * dim, dim * sizeof *one);
        for (size_t k = 0; k < dim; k++) assert_true(isfinite(one[k]));
    }
    /* different texts give different vectors (the mask keeps them apart) */
    assert_true(cosine(all, all + 3 * dim, dim) < 0.9999);
    free(all);
    free(one);
    ai_embedder_free(e);
    ai_opts_free(o);
    ai_model_free(m);
}

static void test_batch(void **state) {
    (void)state;
    batch_equal("models/bert-f16.gguf", 0);
    batch_equal("models/bert-f16.gguf", 64); /* several passes */
    batch_equal("models/bert-q8_0.gguf", 0);
    batch_equal("models/nomic-bert-f16.gguf", 64);
    batch_equal("models/llama-q8_0.gguf", 0); /* decoder: one text per pass */
}

/* The sgemm path (AI_OPT_EMBD_BLAS_MIN_BATCH) trades bit-exact batch
 * invariance for speed: results must still be the same vectors up to float
 * rounding, batched or not, and still match the peer. */
static void test_blas(void **state) {
    (void)state;
    ai_model *m = load("models/bert-f16.gguf");
    size_t dim = (size_t)ai_model_embedding_dim(m), need;
    ai_opts *o;
    ai_opts_new(&o);
    assert_int_equal(ai_opts_set_int(o, AI_OPT_EMBD_BLAS_MIN_BATCH, 16), AI_OK);
    assert_int_equal(ai_opts_set_int(o, AI_OPT_EMBD_BLAS_MIN_BATCH, -2), AI_E_INVAL);
    ai_embedder *fast = embedder(m, o), *exact = embedder(m, NULL);
    float *all = malloc(N_TEXTS * dim * sizeof *all), *one = malloc(dim * sizeof *one);
    assert_int_equal(ai_embed_batch(fast, (const char *const *)texts, NULL, N_TEXTS, all,
                                     N_TEXTS * dim, &need, NULL, NULL), AI_OK);
    double worst = 1, maxd = 0;
    for (size_t i = 0; i < N_TEXTS; i++) {
        assert_int_equal(ai_embed(exact, texts[i], strlen(texts[i]), one, dim, &need, NULL,
                                  NULL), AI_OK);
        double c = cosine(one, all + i * dim, dim);
        if (c < worst) worst = c;
        for (size_t k = 0; k < dim; k++)
            if (fabs(one[k] - all[i * dim + k]) > maxd) maxd = fabs(one[k] - all[i * dim + k]);
    }
    printf("  sgemm batch vs kernels one at a time: min cosine %.9f, max |diff| %.2e\n",
           worst, maxd);
    assert_true(worst >= 0.99999);
    ai__json *r = read_json("refs/bert-f16.e0.json");
    const ai__json *prompt = ai__json_get(r, "prompt"), *emb = ai__json_get(r, "embedding");
    const char *two[2] = {prompt->str, texts[3]};
    assert_int_equal(ai_embed_batch(fast, two, NULL, 2, all, 2 * dim, &need, NULL, NULL), AI_OK);
    for (size_t i = 0; i < dim; i++) one[i] = (float)ai__json_num(emb->items[i]);
    assert_true(cosine(all, one, dim) >= 0.999);
    ai__json_free(r);
    free(all);
    free(one);
    ai_embedder_free(fast);
    ai_embedder_free(exact);
    ai_opts_free(o);
    ai_model_free(m);
}

/* ---- pooling ----------------------------------------------------------------------------- */

static void test_pooling(void **state) {
    (void)state;
    ai_model *m = load("models/bert-f16.gguf");
    size_t dim = (size_t)ai_model_embedding_dim(m), need = 0;
    const char *t = texts[0];
    ai_opts *o;
    ai_opts_new(&o);
    ai_opts_set_int(o, AI_OPT_EMBD_POOLING, AI_POOLING_NONE);
    ai_opts_set_int(o, AI_OPT_EMBD_NORMALIZE, 0);
    ai_embedder *none = embedder(m, o);
    int32_t nt = 0;
    /* size query: NULL buffer */
    assert_int_equal(ai_embed(none, t, strlen(t), NULL, 0, &need, &nt, NULL), AI_E_RANGE);
    assert_int_equal(need, (size_t)nt * dim);
    float *rows = malloc(need * sizeof *rows);
    assert_int_equal(ai_embed(none, t, strlen(t), rows, need, &need, &nt, NULL), AI_OK);

    /* mean of the raw token rows, normalized, is the default */
    ai_embedder *mean = embedder(m, NULL);
    float *v = malloc(dim * sizeof *v), *w = malloc(dim * sizeof *w);
    assert_int_equal(ai_embed(mean, t, strlen(t), v, dim, &need, NULL, NULL), AI_OK);
    for (size_t i = 0; i < dim; i++) {
        double s = 0;
        for (int32_t r = 0; r < nt; r++) s += rows[(size_t)r * dim + i];
        w[i] = (float)(s / nt);
    }
    assert_true(cosine(v, w, dim) > 0.999999);
    /* cls: row 0 */
    ai_opts_set_int(o, AI_OPT_EMBD_POOLING, AI_POOLING_CLS);
    ai_embedder *cls = embedder(m, o);
    assert_int_equal(ai_embed(cls, t, strlen(t), v, dim, &need, NULL, NULL), AI_OK);
    assert_memory_equal(v, rows, dim * sizeof *v);
    /* last: the final row ([SEP]) */
    ai_opts_set_int(o, AI_OPT_EMBD_POOLING, AI_POOLING_LAST);
    ai_embedder *last = embedder(m, o);
    assert_int_equal(ai_embed(last, t, strlen(t), v, dim, &need, NULL, NULL), AI_OK);
    assert_memory_equal(v, rows + (size_t)(nt - 1) * dim, dim * sizeof *v);
    /* a buffer one float short: RANGE, needed set */
    assert_int_equal(ai_embed(mean, t, strlen(t), v, dim - 1, &need, NULL, NULL), AI_E_RANGE);
    assert_int_equal(need, dim);
    /* option bounds */
    assert_int_equal(ai_opts_set_int(o, AI_OPT_EMBD_POOLING, 4), AI_E_INVAL);
    ai_opt key;
    assert_int_equal(ai_opt_from_name("embd_truncate", &key), AI_OK);
    assert_int_equal(key, AI_OPT_EMBD_TRUNCATE);
    free(rows);
    free(v);
    free(w);
    ai_embedder_free(none);
    ai_embedder_free(mean);
    ai_embedder_free(cls);
    ai_embedder_free(last);
    ai_opts_free(o);
    ai_model_free(m);
}

/* ---- bad input ------------------------------------------------------------------------------ */

static void test_bad_input(void **state) {
    (void)state;
    ai_model *m = load("models/bert-f16.gguf");
    size_t dim = (size_t)ai_model_embedding_dim(m), need = 0;
    assert_int_equal(dim, 256);
    ai_embedder *e = embedder(m, NULL);
    float *v = malloc(dim * sizeof *v);
    int32_t nt = 0, tr = 0;
    /* empty: [CLS] [SEP] */
    assert_int_equal(ai_embed(e, "", 0, v, dim, &need, &nt, &tr), AI_OK);
    assert_int_equal(nt, 2);
    assert_int_equal(ai_embed(e, NULL, 0, v, dim, &need, &nt, &tr), AI_OK);
    assert_int_equal(ai_embed(e, NULL, 3, v, dim, &need, &nt, &tr), AI_E_INVAL);
    assert_string_not_equal(ai_embedder_errmsg(e), "");
    assert_int_equal(ai_embed(NULL, "a", 1, v, dim, &need, &nt, &tr), AI_E_INVAL);
    /* invalid UTF-8 is replaced, never fatal */
    const char bad[] = "\xc3\x28 \xed\xa0\x80 \xf8\x88\x80\x80\x80 ok";
    assert_int_equal(ai_embed(e, bad, sizeof bad - 1, v, dim, &need, &nt, &tr), AI_OK);
    for (size_t i = 0; i < dim; i++) assert_true(isfinite(v[i]));

    /* very long: 3000 words are more than 512 tokens */
    ai__buf b = {0};
    for (int i = 0; i < 3000; i++) ai__buf_puts(&b, i % 2 ? "notes " : "device ");
    assert_false(b.oom);
    assert_int_equal(ai_embed(e, b.p, b.len, v, dim, &need, &nt, &tr), AI_E_CONTEXT_FULL);
    assert_non_null(strstr(ai_embedder_errmsg(e), "tokens"));
    /* in a batch, the message names the text */
    const char *two[2] = {"fine", ai__buf_cstr(&b)};
    float *v2 = malloc(2 * dim * sizeof *v2);
    assert_int_equal(ai_embed_batch(e, two, NULL, 2, v2, 2 * dim, &need, NULL, NULL),
                     AI_E_CONTEXT_FULL);
    assert_non_null(strstr(ai_embedder_errmsg(e), "text 1"));

    ai_opts *o;
    ai_opts_new(&o);
    ai_opts_set_int(o, AI_OPT_EMBD_TRUNCATE, 1);
    ai_embedder *t = embedder(m, o);
    assert_int_equal(ai_embed(t, b.p, b.len, v, dim, &need, &nt, &tr), AI_OK);
    assert_int_equal(nt, 512);
    assert_int_equal(tr, 1);
    for (size_t i = 0; i < dim; i++) assert_true(isfinite(v[i]));
    /* truncated = the first 511 tokens + [SEP]: the same as a text that is
     * exactly that long (words of one token each) */
    ai__buf s = {0};
    for (int i = 0; i < 510; i++) ai__buf_puts(&s, i % 2 ? "notes " : "device ");
    float *w = malloc(dim * sizeof *w);
    int32_t nt2 = 0, tr2 = 1;
    assert_int_equal(ai_embed(t, s.p, s.len, w, dim, &need, &nt2, &tr2), AI_OK);
    assert_int_equal(nt2, 512);
    assert_int_equal(tr2, 0);
    assert_memory_equal(v, w, dim * sizeof *v);
    ai__buf_free(&s);
    free(w);

    /* a vocabulary-only model has nothing to embed with */
    ai_model *vm = load("vocab/ggml-vocab-bert-bge.gguf");
    ai_embedder *ve = NULL;
    char err[128];
    assert_int_equal(ai_embedder_new(vm, NULL, &ve, err, sizeof err), AI_E_UNSUPPORTED);
    assert_null(ve);
    assert_int_equal(ai_model_embedding_dim(vm), 0);
    assert_int_equal(ai_embedder_new(NULL, NULL, &ve, err, sizeof err), AI_E_INVAL);
    ai_model_free(vm);

    ai__buf_free(&b);
    free(v);
    free(v2);
    ai_embedder_free(t);
    ai_embedder_free(e);
    ai_opts_free(o);
    ai_model_free(m);
}

/* ---- malformed encoders ------------------------------------------------------------------ */

/* Copies the fixture bert-f16 to path, leaving out tensor `skip` (or NULL),
 * setting metadata `key` (or NULL) to the u32 `val`, and giving tensor
 * `reshape` (or NULL) the shape {ne0, ne1} with the first bytes of its data. */
static void rewrite(const char *path, const char *skip, const char *key, uint32_t val,
                    const char *reshape, int64_t ne0, int64_t ne1) {
    ai__gguf *g = NULL;
    char err[128];
    assert_int_equal(ai__gguf_open(tu_fixture_path("models/bert-f16.gguf"), 1, &g, err,
                                   sizeof err), AI_OK);
    ai__gguf_writer *w = NULL;
    assert_int_equal(ai__gguf_writer_new(32, &w), AI_OK);
    for (size_t i = 0; i < g->n_kv; i++) {
        if (key && !strcmp(g->kv[i].key, key)) continue;
        assert_int_equal(ai__gguf_w_copy_kv(w, &g->kv[i]), AI_OK);
    }
    if (key) assert_int_equal(ai__gguf_w_u32(w, key, val), AI_OK);
    for (size_t i = 0; i < g->n_tensors; i++) {
        const ai__gguf_tensor *t = &g->tensors[i];
        if (skip && !strcmp(t->name, skip)) continue;
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        if (reshape && !strcmp(t->name, reshape)) ne[0] = ne0, ne[1] = ne1;
        assert_int_equal(ai__gguf_w_tensor(w, t->name, t->type, ne[1] > 1 ? 2 : 1, ne), AI_OK);
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(ai__gguf_w_begin(w, f), AI_OK);
    for (size_t i = 0; i < g->n_tensors; i++) {
        const ai__gguf_tensor *t = &g->tensors[i];
        if (skip && !strcmp(t->name, skip)) continue;
        int64_t ne[4] = {t->ne[0], t->ne[1], 1, 1};
        if (reshape && !strcmp(t->name, reshape)) ne[0] = ne0, ne[1] = ne1;
        size_t n = ai__gguf_tensor_bytes(t->type, ne[1] > 1 ? 2 : 1, ne);
        assert_true(n <= t->nbytes);
        assert_int_equal(ai__gguf_w_data(w, f, t->data, n), AI_OK);
        assert_int_equal(ai__gguf_w_end_tensor(w, f), AI_OK);
    }
    assert_int_equal(fclose(f), 0);
    ai__gguf_writer_free(w);
    ai__gguf_free(g);
}

static void expect_load(const char *path, ai_status want, const char *in_msg) {
    ai_model *m = NULL;
    char err[256] = "";
    assert_int_equal(ai_model_load(path, NULL, &m, err, sizeof err), want);
    assert_null(m);
    if (!strstr(err, in_msg)) fprintf(stderr, "message: %s\n", err);
    assert_non_null(strstr(err, in_msg));
}

static void test_malformed(void **state) {
    (void)state;
    char path[] = "/tmp/ai_test_embed_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    rewrite(path, "blk.2.attn_q.bias", NULL, 0, NULL, 0, 0);
    expect_load(path, AI_E_FORMAT, "blk.2.attn_q.bias");
    rewrite(path, "token_embd_norm.weight", NULL, 0, NULL, 0, 0);
    expect_load(path, AI_E_FORMAT, "token_embd_norm.weight");
    rewrite(path, NULL, "bert.attention.head_count", 7, NULL, 0, 0);
    expect_load(path, AI_E_FORMAT, "heads");
    rewrite(path, NULL, "bert.pooling_type", 4, NULL, 0, 0);
    expect_load(path, AI_E_UNSUPPORTED, "pooling_type");
    rewrite(path, NULL, NULL, 0, "position_embd.weight", 256, 100);
    expect_load(path, AI_E_FORMAT, "position_embd.weight");
    rewrite(path, NULL, NULL, 0, "blk.1.ffn_up.weight", 256, 700);
    expect_load(path, AI_E_FORMAT, "blk.1.ffn_up.weight");
    /* the rewrite itself is sound: unchanged, it loads and embeds */
    rewrite(path, NULL, NULL, 0, NULL, 0, 0);
    ai_model *m = NULL;
    char err[128];
    assert_int_equal(ai_model_load(path, NULL, &m, err, sizeof err), AI_OK);
    ai_embedder *e = embedder(m, NULL);
    float v[256];
    size_t need;
    assert_int_equal(ai_embed(e, "ok", 2, v, 256, &need, NULL, NULL), AI_OK);
    ai_embedder_free(e);
    ai_model_free(m);
    remove(path);
}

/* ---- decoders ------------------------------------------------------------------------------- */

/* The decoder's last-token embedding (not normalized) is the normed hidden
 * state the output layer reads: W_out times it must give the logits of the
 * last position, as a session computes them (same kernels: tight), and the
 * peer's top token (refs/llama-f16.p0.json; the engine itself agrees with
 * the peer's whole row only to ~0.04 in log-prob, see test_decoder.c).
 * llama-f16 ties W_out to token_embd; the kernels read f16 weights against
 * activations rounded to f16, so the check does the same. */
static void test_decoder(void **state) {
    (void)state;
    ai__json *r = read_json("refs/llama-f16.p0.json");
    const ai__json *prompt = ai__json_get(r, "prompt"), *toks = ai__json_get(r, "tokens");
    const ai__json *ll = ai__json_get(r, "last_logits");
    ai_model *m = load("models/llama-f16.gguf");
    size_t dim = (size_t)ai_model_embedding_dim(m), need = 0;
    ai_opts *o;
    ai_opts_new(&o);
    ai_opts_set_int(o, AI_OPT_EMBD_NORMALIZE, 0);
    ai_opts_set_int(o, AI_OPT_EMBD_ADD_EOS, 0);
    ai_opts_set_int(o, AI_OPT_N_CTX, 256);
    ai_embedder *e = embedder(m, o);
    assert_int_equal(ai_embedder_pooling(e), AI_POOLING_LAST);
    float *v = malloc(dim * sizeof *v), *row = malloc(dim * sizeof *row);
    int32_t nt = 0;
    assert_int_equal(ai_embed(e, prompt->str, prompt->len, v, dim, &need, &nt, NULL), AI_OK);
    assert_int_equal(nt, toks->n);

    /* the session's logits of the same tokens */
    size_t n_vocab = ll->n;
    int32_t *ids = malloc(toks->n * sizeof *ids);
    for (size_t i = 0; i < toks->n; i++) ids[i] = (int32_t)ai__json_num(toks->items[i]);
    ai_session *s = NULL;
    char err[128];
    assert_int_equal(ai_session_new(m, o, &s, err, sizeof err), AI_OK);
    assert_int_equal(ai_session_eval(s, ids, toks->n, 0), AI_OK);
    float *sl = malloc(n_vocab * sizeof *sl);
    assert_int_equal(ai_session_logits(s, -1, sl, n_vocab, &need), AI_OK);

    const ai__gguf_tensor *W = ai__gguf_tensor_find(m->gguf, "token_embd.weight");
    assert_non_null(W);
    size_t rs = ai__row_size(W->type, (int64_t)dim), best = 0, best_ref = 0;
    double worst = 0;
    for (size_t i = 0; i < dim; i++) v[i] = ai__f16_to_f32(ai__f32_to_f16(v[i]));
    for (size_t t = 0; t < n_vocab; t++) {
        ai__dequant_row(W->type, (const uint8_t *)W->data + t * rs, row, (int64_t)dim);
        double d = 0;
        for (size_t i = 0; i < dim; i++) d += (double)row[i] * v[i];
        if (fabs(d - sl[t]) > worst) worst = fabs(d - sl[t]);
        sl[t] = (float)d;
        if (sl[t] > sl[best]) best = t;
        if (ai__json_num(ll->items[t]) > ai__json_num(ll->items[best_ref])) best_ref = t;
    }
    printf("  llama-f16 last-token embedding: logits max diff %.2e vs the session; "
           "top token %zu (peer %zu)\n", worst, best, best_ref);
    assert_true(worst < 1e-3);
    assert_int_equal(best, best_ref);

    /* auto EOS for last pooling: one more token unless the text ends in it */
    ai_embedder *eos = embedder(m, NULL);
    int32_t nt2 = 0;
    assert_int_equal(ai_embed(eos, prompt->str, prompt->len, v, dim, &need, &nt2, NULL), AI_OK);
    assert_int_equal(nt2, nt + 1);
    assert_float_equal(norm(v, dim), 1.0, 1e-5);
    free(ids);
    free(sl);
    free(v);
    free(row);
    ai_session_free(s);
    ai_embedder_free(eos);
    ai_embedder_free(e);
    ai_opts_free(o);
    ai_model_free(m);
    ai__json_free(r);
}

int main(void) {
    const struct CMUnitTest ops[] = {
        cmocka_unit_test(test_layernorm),
        cmocka_unit_test(test_gelu),
    };
    int rc = cmocka_run_group_tests_name("embed_ops", ops, NULL, NULL);
    if (!tu_fixtures()) {
        printf("fixtures absent: skipping the model tests of test_embed\n");
        return rc;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_blas),
        cmocka_unit_test(test_pooling),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_decoder),
    };
    return rc | cmocka_run_group_tests_name("embed", tests, NULL, NULL);
}
