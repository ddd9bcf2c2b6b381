/*
 * test_kernels_simd.c - every ISA kernel set the host supports against the
 * scalar reference (kernels/ref/), on random data: odd row counts, rows of
 * several blocks, zero blocks, extreme scales, batches that are and are not
 * multiples of the register tile.
 *
 * Activation conversion must be bit-identical to the reference (the integer
 * dot products then see the same integers).  Results of dot products and
 * matrix products may differ in float summation order only: each output
 * must be within 1e-5 of the "magnitude" sum |w_i*a_i| (the standard bound
 * for reordered float sums), plus, for Q4_1/Q5_1, nothing more since both
 * sides use the same f16 sums.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kimpl.h"
#include "testutil.h"
#include "threads.h"

static const uint32_t all_types[] = {
    AI_TYPE_F32,  AI_TYPE_F16,  AI_TYPE_BF16, AI_TYPE_Q4_0, AI_TYPE_Q4_1,
    AI_TYPE_Q5_0, AI_TYPE_Q5_1, AI_TYPE_Q8_0, AI_TYPE_Q2_K, AI_TYPE_Q3_K,
    AI_TYPE_Q4_K, AI_TYPE_Q5_K, AI_TYPE_Q6_K, AI_TYPE_IQ4_NL, AI_TYPE_IQ4_XS};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

static const char *const variants[] = {"avx2", "avx512", "neon", "neon-dotprod"};

static float gauss(uint64_t *s) {
    float u1 = (tu_randf(s) + 1.0f) * 0.5f + 1e-7f, u2 = (tu_randf(s) + 1.0f) * 0.5f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

/* Dequantized activation values, for the magnitude bound. */
static void act_values(int kind, const void *a, int64_t k, double *out) {
    for (int64_t i = 0; i < k; i++) {
        if (kind == ACT_F32) out[i] = ((const float *)a)[i];
        else if (kind == ACT_F16) out[i] = ai__f16_to_f32(((const uint16_t *)a)[i]);
        else if (kind == ACT_BF16) out[i] = ai__bf16_to_f32(((const uint16_t *)a)[i]);
        else out[i] = (double)act_d(a, k)[i / (kind == ACT_Q8_32 ? 32 : 256)] * act_q(a)[i];
    }
}

/* Fills n values of one of several shapes. */
static void fill(float *x, int64_t n, int shape, uint64_t *s) {
    float scale = shape == 1 ? 1e-5f : shape == 2 ? 3e3f : 1.0f;
    for (int64_t i = 0; i < n; i++) x[i] = gauss(s) * scale;
    if (shape == 3) /* zero blocks of 256, and an outlier */
        for (int64_t i = 0; i < n; i++)
            if ((i / 256) % 3 == 1) x[i] = 0;
    if (shape == 3 && n > 5) x[5] = 40.0f;
    if (shape == 4) /* all the same sign */
        for (int64_t i = 0; i < n; i++) x[i] = fabsf(x[i]);
}

static void check_set(const ai__kset *vs, ai__pool *pool) {
    uint64_t s = 99;
    const int64_t rows = 37;
    for (size_t t = 0; t < N_TYPES; t++) {
        uint32_t type = all_types[t];
        const ai__type_ops *ro = &ai__kset_ref.ops[type], *vo = &vs->ops[type];
        int64_t bsz = ai__type_get(type)->block_size;
        int64_t ks[3] = {256, 768, 2048};
        if (bsz == 1) ks[0] = 37;          /* tails of the float kernels */
        else if (bsz == 32) ks[0] = 32 * 7;
        for (int ki = 0; ki < 3; ki++) {
            int64_t k = ks[ki];
            for (int shape = 0; shape < 5; shape++) {
                int nb = shape == 0 ? 11 : shape == 1 ? 1 : shape == 4 ? 70 : 5; /* 70: the BLAS path */
                size_t rs = ai__row_size(type, k), as = ai__act_row_size(ro->act, k);
                float *w = malloc((size_t)(rows * k) * 4), *x = malloc((size_t)(nb * k) * 4);
                float *yr = malloc((size_t)(rows * nb) * 4), *yv = malloc((size_t)(rows * nb) * 4);
                float *wd = malloc((size_t)k * 4);
                uint8_t *wq = malloc(rs * rows), *ar = malloc(as), *av = malloc(as);
                double *xv = malloc((size_t)k * sizeof(double));
                fill(w, rows * k, shape, &s);
                fill(x, nb * k, (shape + 2) % 5, &s);
                for (int64_t r = 0; r < rows; r++) ro->quant(w + r * k, wq + r * rs, k);
                /* activations: bit-identical */
                for (int b = 0; b < nb; b++) {
                    memset(ar, 0, as);
                    memset(av, 0, as);
                    ai__kset_ref.act[ro->act](x + b * k, ar, k);
                    vs->act[ro->act](x + b * k, av, k);
                    if (memcmp(ar, av, as))
                        fail_msg("%s: act kind %d differs from ref (k %lld shape %d)", vs->name, ro->act, (long long)k, shape);
                }
                /* matrix products through both sets, threaded */
                assert_int_equal(ai__matmul_ks(&ai__kset_ref, pool, type, wq, rows, k, x, nb, yr, rows), AI_OK);
                assert_int_equal(ai__matmul_ks(vs, pool, type, wq, rows, k, x, nb, yv, rows), AI_OK);
                for (int b = 0; b < nb; b++) {
                    ai__kset_ref.act[ro->act](x + b * k, ar, k);
                    act_values(ro->act, ar, k, xv);
                    for (int64_t r = 0; r < rows; r++) {
                        ro->dequant(wq + r * rs, wd, k);
                        double mag = 0;
                        for (int64_t i = 0; i < k; i++) mag += fabs(wd[i] * xv[i]);
                        double got = yv[b * rows + r], want = yr[b * rows + r];
                        if (!(fabs(got - want) <= 1e-5 * mag))
                            fail_msg("%s %s k %lld shape %d row %lld col %d: %.9g vs ref %.9g (mag %g)", vs->name,
                                     ai__type_get(type)->name, (long long)k, shape, (long long)r, b, got, want, mag);
                        /* and the variant's vector kernel on its own */
                        double dv = vo->dot(wq + r * rs, ar, k);
                        if (!(fabs(dv - want) <= 1e-5 * mag))
                            fail_msg("%s %s dot row %lld: %.9g vs %.9g", vs->name, ai__type_get(type)->name, (long long)r, dv, want);
                    }
                }
                /* dequantization and quantization of the variant agree exactly */
                float *d1 = malloc((size_t)k * 4), *d2 = malloc((size_t)k * 4);
                uint8_t *q2 = malloc(rs);
                ro->dequant(wq, d1, k);
                vo->dequant(wq, d2, k);
                assert_memory_equal(d1, d2, (size_t)k * 4);
                vo->quant(w, q2, k);
                assert_memory_equal(q2, wq, rs);
                free(d1); free(d2); free(q2);
                free(w); free(x); free(yr); free(yv); free(wd); free(wq); free(ar); free(av); free(xv);
            }
        }
    }
}

/* Batch invariance: a row's result must not depend on the other rows of its
 * batch (the runtime relies on it: a prompt in one batch equals the prompt
 * in pieces).  Every batch size is compared bit for bit with single rows,
 * threaded, for every type (the BLAS path, opt-in, is exempt). */
static void check_batch_invariance(const ai__kset *vs, ai__pool *pool) {
    uint64_t s = 123;
    const int64_t rows = 29, kmax = 512, nbmax = 19;
    float *w = malloc((size_t)(rows * kmax) * 4), *x = malloc((size_t)(nbmax * kmax) * 4);
    float *y = malloc((size_t)(rows * nbmax) * 4), *y1 = malloc((size_t)rows * 4);
    uint8_t *wq = malloc(ai__row_size(AI_TYPE_F32, kmax) * rows);
    fill(w, rows * kmax, 0, &s);
    fill(x, nbmax * kmax, 0, &s);
    /* k = 224: an odd number of 32-blocks (tiles that take blocks in pairs
     * have a tail there) for the types whose blocks allow it */
    for (size_t t = 0; t < 2 * N_TYPES; t++) {
        uint32_t type = all_types[t % N_TYPES];
        int64_t k = t < N_TYPES ? 512 : 224;
        if (k % ai__type_get(type)->block_size) continue;
        size_t rs = ai__row_size(type, k);
        for (int64_t r = 0; r < rows; r++) ai__kset_ref.ops[type].quant(w + r * k, wq + r * rs, k);
        for (int64_t nb = 2; nb <= nbmax; nb += 3) {
            if (vs->blas_min_batch > 0 && nb >= vs->blas_min_batch) continue;
            assert_int_equal(ai__matmul_ks(vs, pool, type, wq, rows, k, x, nb, y, rows), AI_OK);
            for (int64_t b = 0; b < nb; b++) {
                assert_int_equal(ai__matmul_ks(vs, pool, type, wq, rows, k, x + b * k, 1, y1, rows), AI_OK);
                if (memcmp(y1, y + b * rows, (size_t)rows * 4))
                    fail_msg("%s %s k %lld: row results differ between batch %lld and batch 1", vs->name,
                             ai__type_get(type)->name, (long long)k, (long long)nb);
            }
        }
    }
    free(w); free(x); free(y); free(y1); free(wq);
}

/* The same with tiles of many weight rows (one thread: the row tiles grow
 * to 136 here), so that tiles which work through their rows in chunks
 * (gemm_avx512.c q4_0_gemm: 64 rows) cross chunk boundaries. */
static void check_big_tiles(const ai__kset *vs) {
    uint64_t s = 321;
    const int64_t rows = 1030, k = 256, nb = 9;
    static const uint32_t types[] = {AI_TYPE_Q4_0, AI_TYPE_Q8_0, AI_TYPE_Q4_K, AI_TYPE_Q6_K};
    float *w = malloc((size_t)(rows * k) * 4), *x = malloc((size_t)(nb * k) * 4);
    float *y = malloc((size_t)(rows * nb) * 4), *y1 = malloc((size_t)rows * 4);
    uint8_t *wq = malloc(ai__row_size(AI_TYPE_F32, k) * rows);
    fill(w, rows * k, 0, &s);
    fill(x, nb * k, 0, &s);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        size_t rs = ai__row_size(types[t], k);
        for (int64_t r = 0; r < rows; r++) ai__kset_ref.ops[types[t]].quant(w + r * k, wq + r * rs, k);
        assert_int_equal(ai__matmul_ks(vs, NULL, types[t], wq, rows, k, x, nb, y, rows), AI_OK);
        for (int64_t b = 0; b < nb; b++) {
            assert_int_equal(ai__matmul_ks(vs, NULL, types[t], wq, rows, k, x + b * k, 1, y1, rows), AI_OK);
            if (memcmp(y1, y + b * rows, (size_t)rows * 4))
                fail_msg("%s %s: row results of %lld-row tiles differ between batch %lld and batch 1", vs->name,
                         ai__type_get(types[t])->name, (long long)rows, (long long)nb);
        }
    }
    free(w); free(x); free(y); free(y1); free(wq);
}

/*
 * Row lengths whose 32-blocks do not fill whole groups of 16 (the AVX-512
 * Q4_0 and Q8_0 kernels sum 16 blocks per float step: x86_q40.h), several row counts
 * and batch sizes that leave every kind of partial register tile (rows not
 * a multiple of 4, batches not a multiple of 4, rows in several pieces
 * along k (k = 4864, 16416), batches split in blocks; rows of 5 and 8
 * blocks, which the Q8_0 matrix-vector kernel takes as two quads only),
 * threaded and not:
 * each result within 1e-5 of the magnitude of the reference, and bit for
 * bit equal to the variant's batch of one and to its dot product; and
 * every act row bit for bit the reference's (more rows than check_set's).
 */
static void check_block_groups(const ai__kset *vs, ai__pool *pool) {
    uint64_t s = 4242;
    static const uint32_t types[] = {AI_TYPE_Q4_0, AI_TYPE_Q8_0, AI_TYPE_Q4_1};
    static const int64_t kk[] = {32 * 3, 32 * 5, 32 * 8, 32 * 16, 32 * 17, 896, 4864, 16416};
    static const int64_t nbs[] = {2, 3, 5, 6, 7, 9, 40, 67};
    ai__kset v = *vs; /* the integer path at every batch size */
    v.blas_min_batch = 0;
    vs = &v;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        uint32_t type = types[t];
        const ai__type_ops *vo = &vs->ops[type];
        for (size_t ki = 0; ki < sizeof kk / sizeof kk[0]; ki++) {
            int64_t k = kk[ki], rows = k > 8192 ? 5 : 13, nbmax = 67;
            size_t rs = ai__row_size(type, k), as = ai__act_row_size(vo->act, k);
            float *w = malloc((size_t)(rows * k) * 4), *x = malloc((size_t)(nbmax * k) * 4);
            float *yr = malloc((size_t)(rows * nbmax) * 4), *yv = malloc((size_t)(rows * nbmax) * 4);
            float *y1 = malloc((size_t)rows * 4), *wd = malloc((size_t)k * 4);
            uint8_t *wq = malloc(rs * (size_t)rows), *act = aligned_alloc(64, as), *ra = aligned_alloc(64, as);
            double *xv = malloc((size_t)k * sizeof(double));
            /* shapes 0, 1, 3, 4 (shape 2's activations overflow Q4_1's f16
             * block sums at these lengths) */
            static const int wshape[] = {0, 1, 4, 1, 3, 4, 0, 3}, xshape[] = {4, 3, 0, 0, 1, 3, 3, 0};
            _Static_assert(sizeof wshape / sizeof wshape[0] == sizeof kk / sizeof kk[0], "a shape per k");
            _Static_assert(sizeof xshape / sizeof xshape[0] == sizeof kk / sizeof kk[0], "a shape per k");
            fill(w, rows * k, wshape[ki], &s);
            fill(x, nbmax * k, xshape[ki], &s);
            for (int64_t r = 0; r < rows; r++) ai__kset_ref.ops[type].quant(w + r * k, wq + r * rs, k);
            for (size_t ni = 0; ni < sizeof nbs / sizeof nbs[0]; ni++) {
                int64_t nb = nbs[ni];
                ai__pool *p = ni % 2 ? pool : NULL;
                assert_int_equal(ai__matmul_ks(&ai__kset_ref, p, type, wq, rows, k, x, nb, yr, rows), AI_OK);
                assert_int_equal(ai__matmul_ks(vs, p, type, wq, rows, k, x, nb, yv, rows), AI_OK);
                for (int64_t b = 0; b < nb; b++) {
                    assert_int_equal(ai__matmul_ks(vs, p, type, wq, rows, k, x + b * k, 1, y1, rows), AI_OK);
                    vs->act[vo->act](x + b * k, act, k);
                    /* the act row bit for bit the reference's (an ACT_Q8_32
                     * row: k values, then k / 32 scales and sums; no padding) */
                    ai__kset_ref.act[vo->act](x + b * k, ra, k);
                    for (int64_t i = 0; i < k + k / 32 * 8; i++)
                        if (ra[i] != act[i])
                            fail_msg("%s act kind %d k %lld col %lld: byte %lld is %d, ref %d (x[%lld] = %.9g)",
                                     vs->name, vo->act, (long long)k, (long long)b, (long long)i, act[i], ra[i],
                                     (long long)(i < k ? i : 0), x[b * k + (i < k ? i : 0)]);
                    act_values(vo->act, act, k, xv);
                    for (int64_t r = 0; r < rows; r++) {
                        ai__kset_ref.ops[type].dequant(wq + r * rs, wd, k);
                        double mag = 0, exact = 0; /* exact: the products in double */
                        for (int64_t i = 0; i < k; i++) {
                            mag += fabs(wd[i] * xv[i]);
                            exact += (double)wd[i] * xv[i];
                        }
                        float got = yv[b * rows + r], want = yr[b * rows + r];
                        float dot = vo->dot(wq + r * rs, act, k);
                        if (!(fabs((double)got - want) <= 1e-5 * mag))
                            fail_msg("%s %s k %lld batch %lld row %lld col %lld: %.9g vs ref %.9g (mag %g, products "
                                     "summed in double %.9g)",
                                     vs->name, ai__type_get(type)->name, (long long)k, (long long)nb, (long long)r,
                                     (long long)b, got, want, mag, exact);
                        if (memcmp(&got, &y1[r], 4) || memcmp(&got, &dot, 4))
                            fail_msg("%s %s k %lld batch %lld row %lld col %lld: %.9g, batch of one %.9g, dot %.9g",
                                     vs->name, ai__type_get(type)->name, (long long)k, (long long)nb, (long long)r,
                                     (long long)b, got, y1[r], dot);
                    }
                }
            }
            free(w); free(x); free(yr); free(yv); free(y1); free(wd); free(wq); free(act); free(ra); free(xv);
        }
    }
}

/* The matrix-vector kernels (gemv, several rows per pass) against the
 * variant's own dot product, bit for bit (batch invariance rests on it):
 * every row count 1..11 (groups of four and the 1..3 left), row lengths with
 * and without the kernels' multi-block steps and their tails, and rows
 * passed at an odd offset into a larger matrix. */
static void check_gemv(const ai__kset *vs) {
    uint64_t s = 77;
    int tested = 0;
    for (size_t t = 0; t < N_TYPES; t++) {
        uint32_t type = all_types[t];
        const ai__type_ops *vo = &vs->ops[type];
        if (!vo->gemv) continue;
        tested++;
        int64_t bsz = ai__type_get(type)->block_size;
        int64_t ks[4] = {256, 512, 1280, 2304};
        if (bsz == 1) ks[0] = 45, ks[1] = 16, ks[2] = 7; /* the float tails */
        else if (bsz == 32) ks[0] = 32 * 13, ks[1] = 32 * 7, ks[2] = 32;
        for (int ki = 0; ki < 4; ki++) {
            int64_t k = ks[ki];
            enum { rows = 13 };
            size_t rs = ai__row_size(type, k), as = ai__act_row_size(vo->act, k);
            float *w = malloc((size_t)(rows * k) * 4), *x = malloc((size_t)k * 4);
            uint8_t *wq = malloc(rs * rows), *act = aligned_alloc(64, as);
            float y[rows], yd[rows];
            fill(w, rows * k, ki % 5, &s);
            fill(x, k, (ki + 3) % 5, &s);
            for (int64_t r = 0; r < rows; r++) ai__kset_ref.ops[type].quant(w + r * k, wq + r * rs, k);
            vs->act[vo->act](x, act, k);
            for (int64_t r = 0; r < rows; r++) yd[r] = vo->dot(wq + r * rs, act, k);
            for (int64_t r0 = 0; r0 < 2; r0++)
                for (int64_t nr = 1; nr + r0 <= rows && nr <= 11; nr++) {
                    memset(y, 0xff, sizeof y);
                    vo->gemv(wq + r0 * rs, rs, nr, act, k, y);
                    for (int64_t r = 0; r < nr; r++)
                        if (memcmp(&y[r], &yd[r0 + r], 4))
                            fail_msg("%s %s gemv k %lld rows %lld+%lld: row %lld %.9g vs dot %.9g", vs->name,
                                     ai__type_get(type)->name, (long long)k, (long long)r0, (long long)nr,
                                     (long long)r, y[r], yd[r0 + r]);
                }
            free(w); free(x); free(wq); free(act);
        }
    }
    printf("# %s: %d gemv kernels checked against dot\n", vs->name, tested);
}

/* axpy over f16: only the rounding of the multiply-add may differ. */
static void check_axpy(const ai__kset *vs) {
    uint64_t s = 5;
    for (int64_t n = 1; n < 300; n += 37) {
        uint16_t a[300];
        float y0[300], yr[300], yv[300];
        for (int64_t i = 0; i < n; i++) {
            a[i] = ai__f32_to_f16(gauss(&s));
            y0[i] = yr[i] = yv[i] = gauss(&s);
        }
        float alpha = gauss(&s) * 3;
        ai__kset_ref.axpy_f16(alpha, a, yr, n);
        vs->axpy_f16(alpha, a, yv, n);
        for (int64_t i = 0; i < n; i++) {
            double mag = fabs(y0[i]) + fabs(alpha * ai__f16_to_f32(a[i]));
            if (!(fabs((double)yv[i] - yr[i]) <= 3e-7 * mag)) fail_msg("%s axpy_f16 n %lld i %lld", vs->name, (long long)n, (long long)i);
        }
    }
}

/* 1 when `name` is a word of the space-separated list s. */
static int in_list(const char *s, const char *name) {
    size_t n = strlen(name);
    while (s && *s) {
        while (*s == ' ') s++;
        size_t len = strcspn(s, " ");
        if (len == n && !strncmp(s, name, n)) return 1;
        s += len;
    }
    return 0;
}

/*
 * What the caller knows about the CPU (tests/arm/run.sh sets these, so that
 * a variant that silently stopped being selected fails instead of being
 * skipped):  AI_TEST_REQUIRE_SETS  sets that must be available and tested,
 * AI_TEST_ABSENT_SETS  sets the CPU must not offer,  AI_TEST_EXPECT_CHOSEN
 * the set dispatch must pick (honouring AI_KERNELS),  AI_TEST_DISPATCH_ONLY=1
 * skips the (slow) comparison of the sets.
 */
static void test_dispatch(void **state) {
    (void)state;
    const char *req = getenv("AI_TEST_REQUIRE_SETS"), *absent = getenv("AI_TEST_ABSENT_SETS");
    const char *chosen = getenv("AI_TEST_EXPECT_CHOSEN");
    if (!req && !absent && !chosen) skip();
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        if (in_list(req, variants[v]) && !ai__kset_by_name(variants[v]))
            fail_msg("%s is required but not available", variants[v]);
        if (in_list(absent, variants[v]) && ai__kset_by_name(variants[v]))
            fail_msg("%s is available on a CPU that should lack it", variants[v]);
    }
    if (chosen && strcmp(chosen, ai__kernels_name()))
        fail_msg("dispatch chose %s, expected %s", ai__kernels_name(), chosen);
    printf("# dispatch chose %s\n", ai__kernels_name());
}

static void test_variants(void **state) {
    (void)state;
    const char *only = getenv("AI_TEST_DISPATCH_ONLY");
    if (only && !strcmp(only, "1")) skip();
    /* the BLAS path is opt-in (see dispatch.c); test it too: batches of 70 */
    setenv("AI_BLAS_MIN_BATCH", "64", 1);
    ai__pool *pool = NULL;
    assert_int_equal(ai__pool_new(2, &pool), AI_OK);
    int tested = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        const ai__kset *vs = ai__kset_by_name(variants[v]);
        if (!vs) {
            printf("# %s: not supported by this CPU, not tested\n", variants[v]);
            continue;
        }
        printf("# testing %s against ref\n", variants[v]);
        check_set(vs, pool);
        check_axpy(vs);
        check_gemv(vs);
        check_batch_invariance(vs, pool);
        check_big_tiles(vs);
        check_block_groups(vs, pool);
        tested++;
    }
    ai__pool_free(pool);
    if (!tested) skip();
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_dispatch), cmocka_unit_test(test_variants)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
