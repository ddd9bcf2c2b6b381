/*
 * test_sessions.c - prefix reuse, snapshots, forks, state files and the
 * prefix cache (issue 9), on the fixture models.
 *
 * The truth everywhere is the session itself evaluating from an empty
 * context: the forward pass computes each position the same way whatever
 * batch it is in (test_decoder's test_batches checks that against the
 * peer), so reusing, restoring or loading a prefix must give bit-identical
 * logits and the same greedy continuation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentinfer.h"
#include "session.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------------- */

static ai_model *load_model(const char *file) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s.gguf", file);
    ai_model *m = NULL;
    char err[256];
    ai_status st = ai_model_load(tu_fixture_path(rel), NULL, &m, err, sizeof err);
    if (st) print_error("%s: %s\n", rel, err);
    assert_int_equal(st, AI_OK);
    return m;
}

static ai_session *open_session_ex(ai_model *m, int n_ctx, int n_batch, int kv_type,
                                   int reuse) {
    ai_opts *o;
    assert_int_equal(ai_opts_new(&o), AI_OK);
    ai_opts_set_int(o, AI_OPT_N_CTX, n_ctx);
    ai_opts_set_int(o, AI_OPT_N_BATCH, n_batch);
    ai_opts_set_int(o, AI_OPT_N_THREADS, 2);
    ai_opts_set_int(o, AI_OPT_KV_TYPE, kv_type);
    ai_opts_set_int(o, AI_OPT_PREFIX_REUSE, reuse);
    ai_opts_set_double(o, AI_OPT_TEMPERATURE, 0.0);
    ai_opts_set_int(o, AI_OPT_MAX_TOKENS, 1000);
    ai_session *s = NULL;
    char err[256];
    ai_status st = ai_session_new(m, o, &s, err, sizeof err);
    if (st) print_error("ai_session_new: %s\n", err);
    assert_int_equal(st, AI_OK);
    ai_opts_free(o);
    return s;
}

static ai_session *open_session(ai_model *m, int kv_type) {
    return open_session_ex(m, 192, 64, kv_type, 1);
}

/* n pseudo-random token ids of the model's vocabulary. */
static int32_t *rand_tokens(const ai_session *s, size_t n, uint64_t seed) {
    int32_t *t = malloc(n * sizeof *t);
    uint64_t st = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) t[i] = (int32_t)(tu_rand(&st) % (uint64_t)ai_session_n_vocab(s));
    return t;
}

/* All logits of a from-scratch evaluation of tokens[0..n): [n][n_vocab]. */
static float *scratch_logits(ai_model *m, int kv_type, const int32_t *t, size_t n) {
    ai_session *s = open_session_ex(m, 512, 7, kv_type, 0);
    assert_int_equal(ai_session_eval(s, t, n, AI_EVAL_LOGITS_ALL), AI_OK);
    size_t nv = (size_t)ai_session_n_vocab(s);
    float *all = malloc(n * nv * sizeof *all);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ai_session_logits(s, (int32_t)i, all + i * nv, nv, NULL), AI_OK);
    ai_session_free(s);
    return all;
}

static void assert_row_equal(ai_session *s, int32_t row, const float *want) {
    size_t nv = (size_t)ai_session_n_vocab(s);
    float *got = malloc(nv * sizeof *got);
    assert_int_equal(ai_session_logits(s, row, got, nv, NULL), AI_OK);
    if (memcmp(got, want, nv * sizeof *got) != 0) {
        size_t i = 0;
        while (got[i] == want[i]) i++;
        print_error("row %d differs at %zu: %.9g vs %.9g\n", row, i, got[i], want[i]);
        fail();
    }
    free(got);
}

/* Greedy continuation of up to n tokens; returns the count produced. */
static size_t greedy(ai_session *s, int32_t *out, size_t n) {
    size_t k = 0;
    for (; k < n; k++) {
        ai_status st = ai_session_next_token(s, &out[k]);
        if (st == AI_DONE) break;
        assert_int_equal(st, AI_OK);
    }
    return k;
}

static char tmpdir[256];

/* tmpdir/name in one of 8 rotating static buffers. */
static const char *tmp_path(const char *name) {
    static char p[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

static int setup_tmp(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/ai_sessions_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static void clean_tmp(void) {
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.') continue;
            unlink(tmp_path(de->d_name));
        }
        closedir(d);
    }
}

static int teardown_tmp(void **state) {
    (void)state;
    clean_tmp();
    rmdir(tmpdir);
    return 0;
}

static int count_files(const char *prefix) {
    int n = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (!strncmp(de->d_name, prefix, strlen(prefix))) n++;
    if (d) closedir(d);
    return n;
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* ---- prefix reuse -------------------------------------------------------------- */

static const char *const fixtures[] = {"llama-f16", "qwen2-q8_0", "qwen3-f16", "llama-q4_k_m"};

/* A prompt that extends the context evaluates only the new part, one that
 * diverges cuts back to the common part, one that repeats re-evaluates
 * only its last token; every time the logits are bit for bit those of a
 * fresh evaluation. */
static void test_prefix_reuse_exact(void **state) {
    (void)state;
    for (size_t fi = 0; fi < sizeof fixtures / sizeof fixtures[0]; fi++) {
        ai_model *m = load_model(fixtures[fi]);
        int kv = fi == 1 ? AI_TYPE_Q8_0 : AI_TYPE_F16;
        ai_session *s = open_session(m, kv);
        enum { N = 48 };
        int32_t *a = rand_tokens(s, N, 7 + fi);
        float *ref = scratch_logits(m, kv, a, N);
        size_t nv = (size_t)ai_session_n_vocab(s);
        static const size_t splits[] = {1, 5, 16, 31, 47};
        for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
            size_t sp = splits[k];
            assert_int_equal(ai_session_rewind(s, 0), AI_OK);
            assert_int_equal(ai_session_prompt(s, a, sp, 0), AI_OK);
            assert_int_equal(ai_session_n_reused(s), 0);
            assert_row_equal(s, -1, ref + (sp - 1) * nv);
            assert_int_equal(ai_session_prompt(s, a, N, AI_EVAL_LOGITS_ALL), AI_OK);
            assert_int_equal(ai_session_n_reused(s), (int)sp);
            assert_int_equal(ai_session_n_past(s), N);
            for (size_t r = sp; r < N; r++) assert_row_equal(s, (int32_t)(r - sp), ref + r * nv);
        }
        /* the same prompt again: only the last token is evaluated */
        assert_int_equal(ai_session_prompt(s, a, N, 0), AI_OK);
        assert_int_equal(ai_session_n_reused(s), N - 1);
        assert_row_equal(s, -1, ref + (N - 1) * nv);
        /* a shorter prompt that is a prefix: cut back */
        assert_int_equal(ai_session_prompt(s, a, 20, 0), AI_OK);
        assert_int_equal(ai_session_n_reused(s), 19);
        assert_int_equal(ai_session_n_past(s), 20);
        assert_row_equal(s, -1, ref + 19 * nv);

        /* divergence: b shares the first 23 tokens of a */
        int32_t *b = rand_tokens(s, N, 99 + fi);
        memcpy(b, a, 23 * sizeof *b);
        if (b[23] == a[23]) b[23] = (b[23] + 1) % (int32_t)nv;
        float *refb = scratch_logits(m, kv, b, N);
        assert_int_equal(ai_session_prompt(s, a, N, 0), AI_OK);
        assert_int_equal(ai_session_prompt(s, b, N, AI_EVAL_LOGITS_ALL), AI_OK);
        assert_int_equal(ai_session_n_reused(s), 23);
        for (size_t r = 23; r < N; r++) assert_row_equal(s, (int32_t)(r - 23), refb + r * nv);
        int32_t ctx[N];
        size_t need = 0;
        assert_int_equal(ai_session_tokens(s, ctx, 3, &need), AI_E_RANGE);
        assert_int_equal(need, N);
        assert_int_equal(ai_session_tokens(s, ctx, N, &need), AI_OK);
        assert_memory_equal(ctx, b, sizeof ctx);

        /* bad input changes nothing */
        int32_t bad[3] = {1, 2, -5};
        assert_int_equal(ai_session_prompt(s, bad, 3, 0), AI_E_INVAL);
        assert_int_equal(ai_session_n_past(s), N);
        int32_t *big = rand_tokens(s, 200, 3);
        assert_int_equal(ai_session_prompt(s, big, 200, 0), AI_E_CONTEXT_FULL);
        assert_int_equal(ai_session_n_past(s), N);
        assert_int_equal(ai_session_prompt(s, a, 0, 0), AI_E_INVAL);
        assert_int_equal(ai_session_prompt(NULL, a, 1, 0), AI_E_INVAL);

        /* reuse disabled: everything is evaluated, same logits */
        ai_session *nr = open_session_ex(m, 192, 64, kv, 0);
        assert_int_equal(ai_session_prompt(nr, a, N, 0), AI_OK);
        assert_int_equal(ai_session_prompt(nr, a, N, 0), AI_OK);
        assert_int_equal(ai_session_n_reused(nr), 0);
        assert_row_equal(nr, -1, ref + (N - 1) * nv);
        ai_session_free(nr);

        free(big);
        free(b);
        free(refb);
        free(a);
        free(ref);
        ai_session_free(s);
        ai_model_free(m);
    }
}

/* ---- snapshots and forks --------------------------------------------------------- */

static void test_snapshot_fork(void **state) {
    (void)state;
    ai_model *m = load_model("qwen3-f16");
    ai_session *s = open_session(m, AI_TYPE_F16);
    enum { N = 30, G = 10 };
    int32_t *p = rand_tokens(s, N, 11);
    assert_int_equal(ai_session_prompt(s, p, N, 0), AI_OK);

    ai_snapshot *snap = NULL;
    assert_int_equal(ai_session_snapshot(s, &snap), AI_OK);
    assert_int_equal(ai_snapshot_n_tokens(snap), N);
    int32_t g1[G], g2[G];
    size_t n1 = greedy(s, g1, G);
    assert_true(n1 > 0);
    /* roll back and go again: the same continuation */
    assert_int_equal(ai_session_restore(s, snap), AI_OK);
    assert_int_equal(ai_session_n_past(s), N);
    size_t n2 = greedy(s, g2, G);
    assert_int_equal(n1, n2);
    assert_memory_equal(g1, g2, n1 * sizeof *g1);

    /* fork two plans from one prefix; each matches a fresh evaluation */
    assert_int_equal(ai_session_restore(s, snap), AI_OK);
    ai_session *f = NULL;
    char err[256];
    assert_int_equal(ai_session_fork(s, &f, err, sizeof err), AI_OK);
    assert_int_equal(ai_session_n_past(f), N);
    int32_t *x = rand_tokens(s, 9, 21), *y = rand_tokens(s, 13, 22);
    assert_int_equal(ai_session_eval(s, x, 9, 0), AI_OK);
    assert_int_equal(ai_session_eval(f, y, 13, 0), AI_OK);
    int32_t px[N + 9], py[N + 13];
    memcpy(px, p, N * sizeof *p);
    memcpy(px + N, x, 9 * sizeof *x);
    memcpy(py, p, N * sizeof *p);
    memcpy(py + N, y, 13 * sizeof *y);
    size_t nv = (size_t)ai_session_n_vocab(s);
    float *rx = scratch_logits(m, AI_TYPE_F16, px, N + 9);
    float *ry = scratch_logits(m, AI_TYPE_F16, py, N + 13);
    assert_row_equal(s, -1, rx + (N + 8) * nv);
    assert_row_equal(f, -1, ry + (N + 12) * nv);
    /* the fork continues greedily like the original would have */
    ai_session *f2 = NULL;
    assert_int_equal(ai_session_restore(s, snap), AI_OK);
    assert_int_equal(ai_session_fork(s, &f2, err, sizeof err), AI_OK);
    assert_int_equal(ai_session_n_past(s), N);
    n2 = greedy(f2, g2, G);
    assert_int_equal(n1, n2);
    assert_memory_equal(g1, g2, n1 * sizeof *g1);
    assert_int_equal(ai_session_n_past(s), N); /* the original did not move */
    /* the snapshot outlives its session and restores into another one of
     * the same model file loaded again */
    ai_session_free(s);
    ai_model *m2 = load_model("qwen3-f16");
    ai_session *t = open_session(m2, AI_TYPE_F16);
    assert_int_equal(ai_session_restore(t, snap), AI_OK);
    n2 = greedy(t, g2, G);
    assert_int_equal(n1, n2);
    assert_memory_equal(g1, g2, n1 * sizeof *g1);
    ai_session_free(t);
    /* mismatches leave the target unchanged */
    ai_session *q8 = open_session(m2, AI_TYPE_Q8_0);
    assert_int_equal(ai_session_eval(q8, p, 3, 0), AI_OK);
    assert_int_equal(ai_session_restore(q8, snap), AI_E_MISMATCH);
    assert_non_null(strstr(ai_session_errmsg(q8), "q8_0"));
    assert_int_equal(ai_session_n_past(q8), 3);
    ai_session_free(q8);
    ai_session *small = open_session_ex(m2, 16, 16, AI_TYPE_F16, 1);
    assert_int_equal(ai_session_restore(small, snap), AI_E_CONTEXT_FULL);
    ai_session_free(small);
    ai_model *other = load_model("llama-f16");
    ai_session *o = open_session(other, AI_TYPE_F16);
    assert_int_equal(ai_session_restore(o, snap), AI_E_MISMATCH);
    ai_session_free(o);
    ai_model_free(other);
    assert_int_equal(ai_session_restore(NULL, snap), AI_E_INVAL);
    assert_int_equal(ai_session_snapshot(f, NULL), AI_E_INVAL);

    ai_snapshot_free(snap);
    ai_snapshot_free(NULL);
    ai_session_free(f);
    ai_session_free(f2);
    free(x);
    free(y);
    free(rx);
    free(ry);
    free(p);
    ai_model_free(m2);
    ai_model_free(m);
}

/* ---- state files -------------------------------------------------------------------- */

/* save -> load -> continue is the same as never saving, for each cache
 * type; a longer prompt after the load reuses the loaded prefix. */
static void test_save_load_continue(void **state) {
    (void)state;
    static const struct { const char *model; int kv; } cases[] = {
        {"llama-f16", AI_TYPE_F16}, {"qwen2-q8_0", AI_TYPE_Q8_0}, {"qwen3-f16", AI_TYPE_F32}};
    for (size_t c = 0; c < 3; c++) {
        ai_model *m = load_model(cases[c].model);
        ai_session *s = open_session(m, cases[c].kv);
        enum { N = 40, G = 12 };
        int32_t *p = rand_tokens(s, N, 31 + c);
        assert_int_equal(ai_session_prompt(s, p, N, 0), AI_OK);
        const char *path = tmp_path("state.aistate");
        assert_int_equal(ai_session_save(s, path), AI_OK);
        int32_t g1[G], g2[G];
        size_t n1 = greedy(s, g1, G);

        ai_session *t = open_session(m, cases[c].kv);
        assert_int_equal(ai_session_load(t, path), AI_OK);
        assert_int_equal(ai_session_n_past(t), N);
        size_t n2 = greedy(t, g2, G);
        assert_int_equal(n1, n2);
        assert_memory_equal(g1, g2, n1 * sizeof *g1);

        /* load, then a longer prompt: only the tail is evaluated */
        ai_session *u = open_session(m, cases[c].kv);
        assert_int_equal(ai_session_load(u, path), AI_OK);
        int32_t *q = rand_tokens(s, N + 8, 77);
        memcpy(q, p, N * sizeof *p);
        assert_int_equal(ai_session_prompt(u, q, N + 8, 0), AI_OK);
        assert_int_equal(ai_session_n_reused(u), N);
        float *ref = scratch_logits(m, cases[c].kv, q, N + 8);
        assert_row_equal(u, -1, ref + (size_t)(N + 7) * (size_t)ai_session_n_vocab(u));

        /* an empty session saves and loads too */
        ai_session *e = open_session(m, cases[c].kv);
        assert_int_equal(ai_session_save(e, tmp_path("empty.aistate")), AI_OK);
        ai_status est = ai_session_load(u, tmp_path("empty.aistate"));
        if (est) print_error("%s\n", ai_session_errmsg(u));
        assert_int_equal(est, AI_OK);
        assert_int_equal(ai_session_n_past(u), 0);
        int32_t tok;
        assert_int_equal(ai_session_next_token(u, &tok), AI_E_INVAL); /* no logits */

        free(ref);
        free(q);
        free(p);
        ai_session_free(e);
        ai_session_free(u);
        ai_session_free(t);
        ai_session_free(s);
        ai_model_free(m);
    }
}

/* The session a failed load was given still holds what it held. */
static void assert_unchanged(ai_session *s, const int32_t *p, size_t n, const float *last) {
    assert_int_equal(ai_session_n_past(s), (int)n);
    int32_t buf[64];
    assert_int_equal(ai_session_tokens(s, buf, 64, NULL), AI_OK);
    assert_memory_equal(buf, p, n * sizeof *p);
    assert_row_equal(s, -1, last);
}

static void expect_load(ai_session *s, const char *path, ai_status want, const int32_t *p,
                        size_t n, const float *last) {
    ai_status st = ai_session_load(s, path);
    if (st != want)
        print_error("load %s: %s (%s), wanted %s\n", path, ai_status_string(st),
                    ai_session_errmsg(s), ai_status_string(want));
    assert_int_equal(st, want);
    assert_true(ai_session_errmsg(s)[0] != 0);
    assert_unchanged(s, p, n, last);
}

static void test_load_errors(void **state) {
    (void)state;
    ai_model *m = load_model("llama-f16");
    ai_session *s = open_session(m, AI_TYPE_F16);
    enum { N = 25 };
    int32_t *p = rand_tokens(s, N, 41);
    assert_int_equal(ai_session_prompt(s, p, N, 0), AI_OK);
    const char *good = tmp_path("good.aistate");
    assert_int_equal(ai_session_save(s, good), AI_OK);
    size_t len = 0;
    char *img = tu_read_file(good, &len);
    assert_non_null(img);
    assert_true(len > 128);

    /* the session that receives the bad files holds something else */
    ai_session *t = open_session(m, AI_TYPE_F16);
    int32_t *o = rand_tokens(s, 9, 42);
    assert_int_equal(ai_session_prompt(t, o, 9, 0), AI_OK);
    size_t nv = (size_t)ai_session_n_vocab(t);
    float *last = malloc(nv * sizeof *last);
    assert_int_equal(ai_session_logits(t, -1, last, nv, NULL), AI_OK);

    /* missing, a folder, empty */
    expect_load(t, tmp_path("missing.aistate"), AI_E_IO, o, 9, last);
    expect_load(t, tmpdir, AI_E_IO, o, 9, last);
    const char *bad = tmp_path("bad.aistate");
    write_bytes(bad, "", 0);
    expect_load(t, bad, AI_E_FORMAT, o, 9, last);
    write_bytes(bad, "GGUF\3\0\0\0 not a state file at all", 32);
    expect_load(t, bad, AI_E_FORMAT, o, 9, last);
    /* truncated anywhere */
    size_t cuts[] = {1, 8, 15, 16, 100, 127, 128, 129, len / 2, len - 5, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(bad, img, cuts[i]);
        expect_load(t, bad, AI_E_FORMAT, o, 9, last);
    }
    /* one extra byte */
    char *longer = malloc(len + 1);
    memcpy(longer, img, len);
    longer[len] = 0;
    write_bytes(bad, longer, len + 1);
    expect_load(t, bad, AI_E_FORMAT, o, 9, last);
    free(longer);
    /* a flipped bit in every header byte and in a spread of payload bytes */
    for (size_t at = 0; at < len; at += at < 128 ? 1 : 1 + len / 97) {
        for (int bit = 0; bit < 8; bit += 7) {
            img[at] ^= (char)(1 << bit);
            write_bytes(bad, img, len);
            expect_load(t, bad, AI_E_FORMAT, o, 9, last);
            img[at] ^= (char)(1 << bit);
        }
    }
    /* the unflipped image is fine again (the loop restored it) */
    write_bytes(bad, img, len);
    assert_int_equal(ai_session_load(t, bad), AI_OK);
    assert_int_equal(ai_session_n_past(t), N);
    assert_int_equal(ai_session_prompt(t, o, 9, 0), AI_OK);

    /* a well-formed file of a newer format version */
    char *v2 = malloc(len);
    memcpy(v2, img, len);
    v2[8] = 2;
    uint64_t h = ai__hash64(v2, 120, 0);
    for (int i = 0; i < 8; i++) v2[120 + i] = (char)(h >> (8 * i));
    write_bytes(bad, v2, len);
    expect_load(t, bad, AI_E_MISMATCH, o, 9, last);
    /* version 1 with a flag bit of a later writer */
    memcpy(v2, img, len);
    v2[16] |= 2;
    h = ai__hash64(v2, 120, 0);
    for (int i = 0; i < 8; i++) v2[120 + i] = (char)(h >> (8 * i));
    write_bytes(bad, v2, len);
    expect_load(t, bad, AI_E_MISMATCH, o, 9, last);
    free(v2);

    /* another model: a different architecture, and the same shape in
     * another weight type */
    static const char *others[] = {"qwen2-f16", "llama-q8_0"};
    for (int i = 0; i < 2; i++) {
        ai_model *om = load_model(others[i]);
        ai_session *os = open_session(om, AI_TYPE_F16);
        int32_t *op = rand_tokens(os, 9, 42);
        assert_int_equal(ai_session_prompt(os, op, 9, 0), AI_OK);
        float *ol = malloc(nv * sizeof *ol);
        assert_int_equal(ai_session_logits(os, -1, ol, nv, NULL), AI_OK);
        expect_load(os, good, AI_E_MISMATCH, op, 9, ol);
        if (!strstr(ai_session_errmsg(os), "another model")) print_error("%s\n", ai_session_errmsg(os));
        assert_non_null(strstr(ai_session_errmsg(os), "another model"));
        free(ol);
        free(op);
        ai_session_free(os);
        ai_model_free(om);
    }
    /* the same model with another cache type, or too small a context */
    ai_session *q8 = open_session(m, AI_TYPE_Q8_0);
    assert_int_equal(ai_session_load(q8, good), AI_E_MISMATCH);
    assert_int_equal(ai_session_n_past(q8), 0);
    ai_session_free(q8);
    ai_session *tiny = open_session_ex(m, 16, 16, AI_TYPE_F16, 1);
    assert_int_equal(ai_session_load(tiny, good), AI_E_CONTEXT_FULL);
    ai_session_free(tiny);
    assert_int_equal(ai_session_load(t, NULL), AI_E_INVAL);
    assert_int_equal(ai_session_load(NULL, good), AI_E_INVAL);

    free(last);
    free(o);
    free(img);
    free(p);
    ai_session_free(t);
    ai_session_free(s);
    ai_model_free(m);
}

/* A save that fails part-way (a full disk, simulated by the writer's test
 * hook) leaves the previous file byte for byte and no temporary file. */
static void test_save_atomic(void **state) {
    (void)state;
    ai_model *m = load_model("qwen2-f16");
    ai_session *s = open_session(m, AI_TYPE_F16);
    int32_t *p = rand_tokens(s, 60, 51);
    assert_int_equal(ai_session_prompt(s, p, 20, 0), AI_OK);
    const char *path = tmp_path("atomic.aistate");
    assert_int_equal(ai_session_save(s, path), AI_OK);
    size_t len0 = 0;
    char *before = tu_read_file(path, &len0);
    assert_non_null(before);

    assert_int_equal(ai_session_prompt(s, p, 60, 0), AI_OK); /* new state */
    long long fails[] = {0, 1, 127, 128, 4000, (long long)len0 / 2, (long long)len0 + 100};
    for (size_t i = 0; i < sizeof fails / sizeof fails[0]; i++) {
        ai__state_fail_after = fails[i];
        ai_status st = ai_session_save(s, path);
        ai__state_fail_after = -1;
        assert_int_equal(st, AI_E_IO);
        assert_non_null(strstr(ai_session_errmsg(s), "cannot write"));
        size_t len1 = 0;
        char *after = tu_read_file(path, &len1);
        assert_int_equal(len1, len0);
        assert_memory_equal(after, before, len0);
        free(after);
        assert_int_equal(count_files("atomic.aistate.tmp"), 0);
    }
    /* the old file still loads as the old state */
    ai_session *t = open_session(m, AI_TYPE_F16);
    assert_int_equal(ai_session_load(t, path), AI_OK);
    assert_int_equal(ai_session_n_past(t), 20);
    /* a folder that does not exist */
    assert_int_equal(ai_session_save(s, tmp_path("nope/x.aistate")), AI_E_IO);
    /* and a save that succeeds replaces the file */
    assert_int_equal(ai_session_save(s, path), AI_OK);
    assert_int_equal(ai_session_load(t, path), AI_OK);
    assert_int_equal(ai_session_n_past(t), 60);
    assert_int_equal(count_files("atomic.aistate.tmp"), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    free(before);
    free(p);
    ai_session_free(t);
    ai_session_free(s);
    ai_model_free(m);
}

/* ---- prefix cache ------------------------------------------------------------------------ */

static void test_prefix_cache(void **state) {
    (void)state;
    clean_tmp(); /* the folder is persisted to and read back below */
    ai_model *m = load_model("llama-q4_k_m");
    ai_session *a = open_session_ex(m, 512, 64, AI_TYPE_F16, 1);
    enum { Q = 12 };
    /* a budget of 1 MiB, and prefixes of a length of which two fit, not three */
    ai_opts *o;
    assert_int_equal(ai_opts_new(&o), AI_OK);
    assert_int_equal(ai_opts_set_int(o, AI_OPT_PREFIX_CACHE_MIB, 1), AI_OK);
    ai_prefix_cache *c = NULL;
    assert_int_equal(ai_prefix_cache_new(m, o, &c), AI_OK);
    ai_opts_free(o);
    size_t budget = (size_t)1 << 20;
    ai__kvview v;
    ai__session_kvview(a, &v);
    int64_t n_sys = 1;
    while (3 * ai__snapshot_bytes(&v.g, n_sys, ai_session_n_vocab(a), 0) <= budget) n_sys++;
    assert_true(2 * ai__snapshot_bytes(&v.g, n_sys, ai_session_n_vocab(a), 0) <= budget);
    assert_true(n_sys + Q <= 512);
    int32_t *sys = rand_tokens(a, (size_t)n_sys + Q, 61);

    assert_int_equal(ai_session_prompt(a, sys, (size_t)n_sys + Q, 0), AI_OK);
    assert_int_equal(ai_prefix_cache_put(c, a, (int32_t)n_sys), AI_OK);
    assert_int_equal(ai_prefix_cache_put(c, a, (int32_t)n_sys), AI_OK); /* already there */
    int64_t ne = 0, bytes = 0;
    assert_int_equal(ai_prefix_cache_stats(c, &ne, &bytes), AI_OK);
    assert_int_equal(ne, 1);
    assert_true(bytes > 0 && (size_t)bytes <= budget);

    /* a new session starts warm */
    ai_session *b = open_session_ex(m, 512, 64, AI_TYPE_F16, 1);
    assert_int_equal(ai_session_set_prefix_cache(b, c), AI_OK);
    int32_t *q2 = rand_tokens(a, (size_t)n_sys + Q, 62);
    memcpy(q2, sys, (size_t)n_sys * sizeof *q2);
    assert_int_equal(ai_session_prompt(b, q2, (size_t)n_sys + Q, 0), AI_OK);
    assert_int_equal(ai_session_n_reused(b), (int)n_sys);
    size_t nv = (size_t)ai_session_n_vocab(b);
    float *ref = scratch_logits(m, AI_TYPE_F16, q2, (size_t)n_sys + Q);
    assert_row_equal(b, -1, ref + (size_t)(n_sys + Q - 1) * nv);
    free(ref);
    /* a session whose own context shares more than the cache keeps its own */
    assert_int_equal(ai_session_prompt(b, q2, (size_t)n_sys + Q, 0), AI_OK);
    assert_int_equal(ai_session_n_reused(b), (int)(n_sys + Q - 1));
    /* a prompt that diverges inside the cached prefix does not use it */
    int32_t *d = rand_tokens(a, (size_t)n_sys + Q, 63);
    ai_session *e = open_session_ex(m, 512, 64, AI_TYPE_F16, 1);
    assert_int_equal(ai_session_set_prefix_cache(e, c), AI_OK);
    assert_int_equal(ai_session_prompt(e, d, (size_t)n_sys + Q, 0), AI_OK);
    assert_int_equal(ai_session_n_reused(e), 0);

    /* LRU: two more prefixes evict the least recently used one */
    ai_session *x = open_session_ex(m, 512, 64, AI_TYPE_F16, 1);
    int32_t *p2 = rand_tokens(a, (size_t)n_sys, 64), *p3 = rand_tokens(a, (size_t)n_sys, 65);
    assert_int_equal(ai_session_prompt(x, p2, (size_t)n_sys, 0), AI_OK);
    assert_int_equal(ai_prefix_cache_put(c, x, (int32_t)n_sys), AI_OK);
    /* touch the first entry so that p2's is the oldest */
    assert_int_equal(ai_session_rewind(e, 0), AI_OK);
    assert_int_equal(ai_session_prompt(e, q2, (size_t)n_sys + 1, 0), AI_OK);
    assert_int_equal(ai_session_n_reused(e), (int)n_sys);
    assert_int_equal(ai_session_prompt(x, p3, (size_t)n_sys, 0), AI_OK);
    assert_int_equal(ai_prefix_cache_put(c, x, (int32_t)n_sys), AI_OK);
    assert_int_equal(ai_prefix_cache_stats(c, &ne, &bytes), AI_OK);
    assert_int_equal(ne, 2);
    assert_true((size_t)bytes <= budget);
    ai_session *y = open_session_ex(m, 512, 64, AI_TYPE_F16, 1);
    assert_int_equal(ai_session_set_prefix_cache(y, c), AI_OK);
    int32_t *p2q = rand_tokens(a, (size_t)n_sys + 3, 66);
    memcpy(p2q, p2, (size_t)n_sys * sizeof *p2);
    assert_int_equal(ai_session_prompt(y, p2q, (size_t)n_sys + 3, 0), AI_OK);
    assert_int_equal(ai_session_n_reused(y), 0); /* evicted */
    assert_int_equal(ai_session_rewind(y, 0), AI_OK);
    assert_int_equal(ai_session_prompt(y, q2, (size_t)n_sys + 3, 0), AI_OK);
    assert_int_equal(ai_session_n_reused(y), (int)n_sys); /* kept */
    /* an entry larger than the whole budget */
    ai_session *big = open_session_ex(m, 512, 64, AI_TYPE_F32, 1);
    int32_t *bt = rand_tokens(a, 400, 67);
    assert_int_equal(ai_session_prompt(big, bt, 400, 0), AI_OK);
    assert_int_equal(ai_prefix_cache_put(c, big, 400), AI_E_NOMEM);
    assert_int_equal(ai_prefix_cache_put(c, big, 0), AI_E_INVAL);
    assert_int_equal(ai_prefix_cache_put(c, big, 401), AI_E_INVAL);
    assert_int_equal(ai_prefix_cache_stats(c, &ne, NULL), AI_OK);
    assert_int_equal(ne, 2);

    /* persist to a folder and read back into a new cache */
    char err[256];
    assert_int_equal(ai_prefix_cache_save(c, tmpdir, err, sizeof err), AI_OK);
    assert_int_equal(count_files("prefix-"), 2);
    /* files that are not for this cache: another model's, a damaged one */
    ai_model *om = load_model("qwen3-f16");
    ai_session *os = open_session(om, AI_TYPE_F16);
    assert_int_equal(ai_session_prompt(os, p2, 10, 0), AI_OK);
    assert_int_equal(ai_session_save(os, tmp_path("other.aistate")), AI_OK);
    write_bytes(tmp_path("broken.aistate"), "AISTATE", 8);
    ai_prefix_cache *c2 = NULL;
    assert_int_equal(ai_prefix_cache_new(m, NULL, &c2), AI_OK);
    int32_t loaded = -1, skipped = -1;
    assert_int_equal(ai_prefix_cache_load(c2, tmpdir, &loaded, &skipped, err, sizeof err), AI_OK);
    assert_int_equal(loaded, 2);
    assert_int_equal(skipped, 2);
    ai_session *z = open_session_ex(m, 512, 64, AI_TYPE_F16, 1);
    assert_int_equal(ai_session_set_prefix_cache(z, c2), AI_OK);
    assert_int_equal(ai_session_prompt(z, q2, (size_t)n_sys + Q, 0), AI_OK);
    assert_int_equal(ai_session_n_reused(z), (int)n_sys);
    ref = scratch_logits(m, AI_TYPE_F16, q2, (size_t)n_sys + Q);
    assert_row_equal(z, -1, ref + (size_t)(n_sys + Q - 1) * nv);
    free(ref);
    assert_int_equal(ai_prefix_cache_load(c2, tmp_path("none"), NULL, NULL, err, sizeof err),
                     AI_E_IO);
    /* a cache of another model cannot be attached */
    assert_int_equal(ai_session_set_prefix_cache(os, c2), AI_E_MISMATCH);
    assert_int_equal(ai_session_set_prefix_cache(z, NULL), AI_OK);
    unlink(tmp_path("other.aistate"));
    unlink(tmp_path("broken.aistate"));

    ai_session_free(os);
    ai_model_free(om);
    free(bt);
    free(p2q);
    free(p2);
    free(p3);
    free(d);
    free(q2);
    free(sys);
    ai_session_free(z);
    ai_session_free(big);
    ai_session_free(y);
    ai_session_free(x);
    ai_session_free(e);
    ai_session_free(b);
    ai_session_free(a);
    ai_prefix_cache_free(c2);
    ai_prefix_cache_free(c);
    ai_prefix_cache_free(NULL);
    ai_model_free(m);
}

/* The checksum hash: every length 0..100 of one buffer hashes differently
 * (the tail handling counts), the seed matters, one flipped bit matters. */
static void test_hash(void **state) {
    (void)state;
    uint8_t buf[100];
    for (int i = 0; i < 100; i++) buf[i] = (uint8_t)(i * 37 + 1);
    uint64_t seen[101];
    for (int n = 0; n <= 100; n++) {
        seen[n] = ai__hash64(buf, (size_t)n, 0);
        for (int j = 0; j < n; j++) assert_true(seen[j] != seen[n]);
    }
    assert_true(ai__hash64(buf, 40, 0) != ai__hash64(buf, 40, 1));
    buf[33] ^= 1;
    assert_true(ai__hash64(buf, 40, 0) != seen[40]);
}

int main(void) {
    tu_require_fixtures();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_prefix_reuse_exact),
        cmocka_unit_test(test_snapshot_fork),
        cmocka_unit_test(test_save_load_continue),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_save_atomic),
        cmocka_unit_test(test_prefix_cache),
    };
    return cmocka_run_group_tests_name("sessions", tests, setup_tmp, teardown_tmp);
}
