/*
 * test_matmul_group.c - ai__matmul_group and ai__matmul_ws (kernels.h): a
 * group of products of one input, through a reused workspace, must give
 * every row bit for bit what ai__matmul gives for each product alone, with
 * and without a per-tile epilogue, on 1 and 2 threads, for batches that grow
 * and shrink (the workspace grows and is reused), and with mixed weight
 * types in one group (several activation forms of one input).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "testutil.h"
#include "threads.h"
#include "types.h"

typedef struct wmat {
    uint32_t type;
    int64_t rows;
    uint8_t *data;
} wmat;

static void make_mat(wmat *m, uint32_t type, int64_t rows, int64_t k, uint64_t *s) {
    size_t rs = ai__row_size(type, k);
    float *tmp = malloc((size_t)k * sizeof *tmp);
    assert_non_null(tmp);
    m->type = type;
    m->rows = rows;
    m->data = malloc(rs * (size_t)rows);
    assert_non_null(m->data);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < k; i++) tmp[i] = tu_randf(s);
        assert_int_equal(ai__quant_row(type, tmp, m->data + (size_t)r * rs, k), AI_OK);
    }
    free(tmp);
}

/* post: a = a * 2 + b, a change no product could hide */
typedef struct pc {
    float *a;
    const float *b;
    int64_t ld;
    int64_t calls_rows; /* rows x batch elements seen, to check coverage */
} pc;

static void post(void *ctx, int64_t r0, int64_t r1, int64_t b0, int64_t b1) {
    pc *c = ctx;
    for (int64_t b = b0; b < b1; b++)
        for (int64_t r = r0; r < r1; r++) c->a[b * c->ld + r] = c->a[b * c->ld + r] * 2.0f + c->b[b * c->ld + r];
    __atomic_fetch_add(&c->calls_rows, (r1 - r0) * (b1 - b0), __ATOMIC_RELAXED);
}

static void check_group(ai__pool *pool, ai__mm_ws *ws, const wmat *mats, int n, int64_t k,
                        int64_t n_batch, int with_post, uint64_t *s) {
    float *x = malloc((size_t)(n_batch * k) * sizeof *x);
    assert_non_null(x);
    for (int64_t i = 0; i < n_batch * k; i++) x[i] = tu_randf(s) * 3.0f;
    float *want[AI__MM_GROUP_MAX], *got[AI__MM_GROUP_MAX];
    ai__mm mm[AI__MM_GROUP_MAX];
    int64_t ld[AI__MM_GROUP_MAX];
    for (int i = 0; i < n; i++) {
        ld[i] = mats[i].rows + 3; /* a stride wider than the rows */
        want[i] = calloc((size_t)(n_batch * ld[i]), sizeof(float));
        got[i] = calloc((size_t)(n_batch * ld[i]), sizeof(float));
        assert_true(want[i] && got[i]);
        assert_int_equal(ai__matmul(NULL, mats[i].type, mats[i].data, mats[i].rows, k, x, n_batch,
                                    want[i], ld[i]),
                         AI_OK);
        mm[i] = (ai__mm){mats[i].type, mats[i].data, mats[i].rows, got[i], ld[i]};
    }
    pc c = {0};
    if (with_post) {
        c.a = got[0];
        c.b = got[1];
        c.ld = ld[0];
        assert_int_equal(ld[0], ld[1]);
        for (int64_t b = 0; b < n_batch; b++)
            for (int64_t r = 0; r < mats[0].rows; r++)
                want[0][b * ld[0] + r] = want[0][b * ld[0] + r] * 2.0f + want[1][b * ld[0] + r];
    }
    assert_int_equal(ai__matmul_group(pool, ws, mm, n, k, x, n_batch, with_post ? post : NULL, &c), AI_OK);
    if (with_post) assert_int_equal(c.calls_rows, mats[0].rows * n_batch);
    for (int i = 0; i < n; i++) {
        assert_memory_equal(want[i], got[i], (size_t)(n_batch * ld[i]) * sizeof(float));
        free(want[i]);
        free(got[i]);
    }
    free(x);
}

static void test_group_matches_single(void **state) {
    (void)state;
    uint64_t s = 42;
    int64_t k = 512;
    wmat q, kk, v, v6, g, u;
    make_mat(&q, AI_TYPE_Q4_0, 200, k, &s);
    make_mat(&kk, AI_TYPE_Q4_0, 72, k, &s);
    make_mat(&v, AI_TYPE_Q8_0, 72, k, &s);
    make_mat(&v6, AI_TYPE_Q6_K, 72, k, &s); /* 256-blocks: another act form */
    make_mat(&g, AI_TYPE_Q4_K, 300, k, &s);
    make_mat(&u, AI_TYPE_F16, 300, k, &s);
    for (int nth = 1; nth <= 2; nth++) {
        ai__pool *pool = NULL;
        assert_int_equal(ai__pool_new(nth, &pool), AI_OK);
        ai__mm_ws *ws = NULL;
        assert_int_equal(ai__mm_ws_new(&ws), AI_OK);
        const int64_t batches[] = {1, 7, 70, 1, 3};
        for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++) {
            wmat qkv[3] = {q, kk, v}, qkv6[3] = {q, kk, v6}, gu[2] = {g, u};
            check_group(pool, ws, qkv, 3, k, batches[bi], 0, &s);
            check_group(pool, ws, qkv6, 3, k, batches[bi], 0, &s);
            check_group(pool, ws, gu, 2, k, batches[bi], 1, &s);
            check_group(pool, ws, &q, 1, k, batches[bi], 0, &s);
        }
        ai__mm_ws_free(ws);
        ai__pool_free(pool);
    }
    free(q.data);
    free(kk.data);
    free(v.data);
    free(v6.data);
    free(g.data);
    free(u.data);
}

/* prepare + rows in pieces with even starts, as the attention's per-head
 * tasks do, equal the whole products. */
static void test_prepare_rows(void **state) {
    (void)state;
    uint64_t s = 11;
    int64_t k = 256;
    wmat q, v;
    make_mat(&q, AI_TYPE_Q4_0, 96, k, &s);
    make_mat(&v, AI_TYPE_F16, 40, k, &s);
    ai__mm_ws *ws = NULL;
    assert_int_equal(ai__mm_ws_new(&ws), AI_OK);
    const int64_t batches[] = {1, 67};
    for (int bi = 0; bi < 2; bi++) {
        int64_t nb = batches[bi];
        float *x = malloc((size_t)(nb * k) * sizeof *x);
        float *want = calloc((size_t)(nb * 136), sizeof *want), *got = calloc((size_t)(nb * 136), sizeof *got);
        assert_true(x && want && got);
        for (int64_t i = 0; i < nb * k; i++) x[i] = tu_randf(&s);
        /* q | v side by side in rows of 136 */
        assert_int_equal(ai__matmul(NULL, q.type, q.data, 96, k, x, nb, want, 136), AI_OK);
        assert_int_equal(ai__matmul(NULL, v.type, v.data, 40, k, x, nb, want + 96, 136), AI_OK);
        ai__mm mm[2] = {{q.type, q.data, 96, got, 136}, {v.type, v.data, 40, got + 96, 136}};
        assert_int_equal(ai__matmul_prepare(NULL, ws, mm, 2, k, x, nb), AI_OK);
        for (int64_t r = 0; r < 96; r += 32) ai__matmul_rows(ws, 0, r, r + 32);
        ai__matmul_rows(ws, 1, 0, 14);
        ai__matmul_rows(ws, 1, 14, 40);
        ai__matmul_rows(ws, 1, 30, 99); /* out of range: ignored */
        assert_memory_equal(want, got, (size_t)(nb * 136) * sizeof(float));
        free(x);
        free(want);
        free(got);
    }
    ai__mm_ws_free(ws);
    free(q.data);
    free(v.data);
}

static void test_group_rejects(void **state) {
    (void)state;
    uint64_t s = 7;
    wmat a, b;
    make_mat(&a, AI_TYPE_Q8_0, 16, 64, &s);
    make_mat(&b, AI_TYPE_Q8_0, 24, 64, &s);
    ai__mm_ws *ws = NULL;
    assert_int_equal(ai__mm_ws_new(&ws), AI_OK);
    float x[64] = {0}, y[64];
    ai__mm mm[2] = {{a.type, a.data, 16, y, 16}, {b.type, b.data, 24, y, 24}};
    pc c = {0};
    /* different row counts cannot share an epilogue */
    assert_int_equal(ai__matmul_group(NULL, ws, mm, 2, 64, x, 1, post, &c), AI_E_INVAL);
    assert_int_equal(ai__matmul_group(NULL, ws, mm, 0, 64, x, 1, NULL, NULL), AI_E_INVAL);
    assert_int_equal(ai__matmul_group(NULL, ws, mm, AI__MM_GROUP_MAX + 1, 64, x, 1, NULL, NULL), AI_E_INVAL);
    assert_int_equal(ai__matmul_group(NULL, NULL, mm, 1, 64, x, 1, NULL, NULL), AI_E_INVAL);
    assert_int_equal(ai__matmul_ws(NULL, ws, AI_TYPE_Q8_0, a.data, 16, 48, x, 1, y, 16), AI_E_INVAL);
    assert_int_equal(ai__matmul_ws(NULL, ws, AI_TYPE_Q8_0, a.data, 16, 64, x, 1, y, 8), AI_E_INVAL);
    assert_int_equal(ai__matmul_ws(NULL, ws, 9999, a.data, 16, 64, x, 1, y, 16), AI_E_UNSUPPORTED);
    ai__mm_ws_free(ws);
    ai__mm_ws_free(NULL);
    free(a.data);
    free(b.data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_matches_single),
        cmocka_unit_test(test_prepare_rows),
        cmocka_unit_test(test_group_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
