/*
 * test_kernels_fgemm.c - the blocked matrix-matrix kernels of the plain float
 * types (kernels/x86/x86_fgemm.h) in every ISA set the host supports:
 *
 *  - against the scalar reference (kernels/ref/): each output within 1e-5 of
 *    the magnitude sum |w_i*a_i| (the bound for a reordered float sum), and
 *    against a double-precision sum of the same f32 products;
 *  - bit for bit against the set's own one-row kernel (dot), for every tile
 *    position: full tiles, the narrower tiles at the batch's end, the weight
 *    rows left over after the last panel, k with and without a tail of
 *    fewer than 16 elements, unaligned rows (odd k of a 2-byte type), and an
 *    output stride wider than the row count (nothing outside is written);
 *    the same for the batches that widen each panel to f32 once, at and past
 *    the k up to which they do, and for several panels (the prefetch);
 *  - through ai__matmul_ks with a pool: every row of a batch equals the same
 *    row alone (batch invariance), for k with a tail;
 *  - the sets' BF16 activation rows bit for bit the reference's, rounding
 *    edges, subnormals, infinities and NaNs included.
 *
 * And the sets' GELU (kernels/x86/x86_eltwise.h) against a double-precision
 * tanh-form GELU and the reference, over lengths with and without a tail,
 * bit for bit the same for an element alone and inside any run.
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

static const uint32_t types[] = {AI_TYPE_F32, AI_TYPE_F16, AI_TYPE_BF16};
static const char *const variants[] = {"avx2", "avx512"};

/* Value of element i of a row of act kind `kind` (float kinds only). */
static double act_at(int kind, const uint8_t *a, int64_t i) {
    if (kind == ACT_F32) return ((const float *)a)[i];
    if (kind == ACT_F16) return ai__f16_to_f32(((const uint16_t *)a)[i]);
    return ai__bf16_to_f32(((const uint16_t *)a)[i]);
}

static void fill(float *x, int64_t n, uint64_t *s) {
    for (int64_t i = 0; i < n; i++) x[i] = tu_randf(s) * (i % 7 == 3 ? 30.0f : 1.0f);
}

/* One (type, k, nr, nb) case of set vs: gemm vs dot vs ref. */
static void check_case(const ai__kset *vs, uint32_t type, int64_t k, int64_t nr, int64_t nb,
                       uint64_t *s) {
    const ai__type_ops *vo = &vs->ops[type], *ro = &ai__kset_ref.ops[type];
    int kind = ro->act;
    assert_int_equal(vo->act, kind);
    assert_non_null(vo->gemm);
    size_t ws = ai__row_size(type, k);
    /* act rows: f32 as matmul passes them (k floats apart), the others in
     * their padded act form */
    size_t as = kind == ACT_F32 ? (size_t)k * 4 : ai__act_row_size(kind, k);
    int64_t ldy = nr + 3;
    float *w = malloc((size_t)(nr * k) * 4), *x = malloc((size_t)(nb * k) * 4);
    uint8_t *wq = malloc(ws * (size_t)nr + 1), *act = malloc(as * (size_t)nb + 1);
    float *y = malloc((size_t)(nb * ldy) * 4), *wd = malloc((size_t)k * 4);
    assert_non_null(w);
    assert_non_null(x);
    assert_non_null(wq);
    assert_non_null(act);
    assert_non_null(y);
    assert_non_null(wd);
    fill(w, nr * k, s);
    fill(x, nb * k, s);
    for (int64_t r = 0; r < nr; r++) ro->quant(w + r * k, wq + (size_t)r * ws, k);
    for (int64_t b = 0; b < nb; b++) {
        if (kind == ACT_F32) memcpy(act + (size_t)b * as, x + b * k, (size_t)k * 4);
        else vs->act[kind](x + b * k, act + (size_t)b * as, k);
    }
    for (int64_t i = 0; i < nb * ldy; i++) y[i] = -12345.0f;
    vo->gemm(wq, ws, nr, act, as, nb, k, y, ldy);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *ab = act + (size_t)b * as;
        for (int64_t r = nr; r < ldy; r++)
            if (y[b * ldy + r] != -12345.0f)
                fail_msg("%s %s: gemm wrote outside its rows (k %lld nr %lld nb %lld)", vs->name,
                         ai__type_get(type)->name, (long long)k, (long long)nr, (long long)nb);
        for (int64_t r = 0; r < nr; r++) {
            const uint8_t *wr = wq + (size_t)r * ws;
            float got = y[b * ldy + r];
            float one = vo->dot(wr, ab, k);
            if (memcmp(&got, &one, 4))
                fail_msg("%s %s k %lld nr %lld nb %lld: y[%lld][%lld] = %.9g, the one-row kernel "
                         "gives %.9g", vs->name, ai__type_get(type)->name, (long long)k,
                         (long long)nr, (long long)nb, (long long)b, (long long)r, got, one);
            ro->dequant(wr, wd, k);
            double exact = 0, mag = 0;
            for (int64_t i = 0; i < k; i++) {
                double p = (double)wd[i] * act_at(kind, ab, i);
                exact += p;
                mag += fabs(p);
            }
            float ref = ro->dot(wr, ab, k);
            if (!(fabs((double)got - ref) <= 1e-5 * mag) || !(fabs((double)got - exact) <= 1e-5 * mag))
                fail_msg("%s %s k %lld: y[%lld][%lld] = %.9g, ref %.9g, exact %.9g (mag %g)", vs->name,
                         ai__type_get(type)->name, (long long)k, (long long)b, (long long)r, got, ref,
                         exact, mag);
        }
    }
    free(w);
    free(x);
    free(wq);
    free(act);
    free(y);
    free(wd);
}

static void check_set(const ai__kset *vs) {
    uint64_t s = 7;
    static const int64_t kk[] = {1, 5, 15, 16, 17, 33, 48, 100, 255, 775};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (size_t ki = 0; ki < sizeof kk / sizeof kk[0]; ki++) {
            int64_t k = kk[ki];
            /* rows: below, at and above panels of 6 (AVX-512) and 3 (AVX2);
             * batch: below, at and above tiles of 4 and 2 */
            static const int64_t nrs[] = {1, 2, 5, 6, 7, 9, 10, 11, 13};
            static const int64_t nbs[] = {1, 2, 3, 4, 5, 9, 27};
            for (size_t ri = 0; ri < sizeof nrs / sizeof nrs[0]; ri++)
                for (size_t bi = 0; bi < sizeof nbs / sizeof nbs[0]; bi++)
                    check_case(vs, types[t], k, nrs[ri], nbs[bi], &s);
        }
    /* the widened panels (AVX-512: batches of 16 rows or more, k & ~15 up
     * to 1024; AVX2: 4 rows or more, up to 21845) and the prefetch of the
     * next panel (at least two panels): k at and just past both limits,
     * with and without a tail; batches just below and at 16 (4 is in nbs
     * above); rows over several panels with some left over */
    static const struct {
        int64_t k, nr, nb;
    } big[] = {{768, 20, 15},  {768, 20, 16},  {1024, 13, 17},  {1039, 20, 64},  {1040, 13, 16},
               {3079, 13, 64}, {21845, 7, 5},  {21856, 7, 4},   {21861, 6, 3}};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
            check_case(vs, types[t], big[i].k, big[i].nr, big[i].nb, &s);
}

/* The set's BF16 activation rows bit for bit the reference's: random
 * values of every magnitude and the edges of the rounding (ties to even
 * both ways, carries into the exponent, the largest finite values rounding
 * to infinity, subnormals, infinities, quiet and signalling NaNs of both
 * signs), at every position of a 16-element step and in the tail. */
static void check_act_bf16(const ai__kset *vs) {
    static const uint32_t special[] = {
        0x00000000, 0x80000000, 0x3f800000, 0x3f808000, 0x3f818000, 0x3f80ffff, 0x3f817fff,
        0x3fff8000, 0x7f7f8000, 0x7f7fffff, 0xff7fffff, 0x00000001, 0x007fffff, 0x00008000,
        0x80018000, 0x7f800000, 0xff800000, 0x7f800001, 0x7fc00000, 0xffc00000, 0x7fbfffff,
        0xff800001, 0x7fffffff, 0x4b7fffff, 0xc0490fdb};
    enum { N = 16 * 9 + 11 };
    uint64_t s = 9;
    float x[N];
    uint16_t got[N + 1], want[N + 1];
    for (int rot = 0; rot < 16; rot++) {
        for (int i = 0; i < N; i++) {
            uint32_t bits = (uint32_t)tu_rand(&s);
            if ((i + rot) % 3 == 0) bits = special[(size_t)(i + rot) % (sizeof special / sizeof special[0])];
            memcpy(&x[i], &bits, 4);
        }
        for (int n = 0; n <= N; n += n < 40 ? 1 : 23) {
            got[n] = want[n] = 0xabcd; /* must stay */
            vs->act[ACT_BF16](x, got, n);
            ai__kset_ref.act[ACT_BF16](x, want, n);
            if (memcmp(got, want, (size_t)(n + 1) * 2))
                for (int i = 0; i <= n; i++)
                    if (got[i] != want[i]) {
                        uint32_t bits;
                        memcpy(&bits, &x[i < n ? i : 0], 4);
                        fail_msg("%s act bf16 n %d [%d] of 0x%08x: 0x%04x, reference 0x%04x", vs->name, n, i,
                                 (unsigned)bits, got[i], want[i]);
                    }
        }
    }
}

/* ai__matmul_ks, threaded: batch rows == rows alone, with a k tail. */
static void check_invariance(const ai__kset *vs, ai__pool *pool) {
    uint64_t s = 11;
    const int64_t rows = 53, k = 100, nbmax = 41;
    float *w = malloc((size_t)(rows * k) * 4), *x = malloc((size_t)(nbmax * k) * 4);
    float *y = malloc((size_t)(rows * nbmax) * 4), *y1 = malloc((size_t)rows * 4);
    uint8_t *wq = malloc(ai__row_size(AI_TYPE_F32, k) * rows);
    assert_non_null(w);
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(y1);
    assert_non_null(wq);
    fill(w, rows * k, &s);
    fill(x, nbmax * k, &s);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        uint32_t type = types[t];
        size_t rs = ai__row_size(type, k);
        for (int64_t r = 0; r < rows; r++) ai__kset_ref.ops[type].quant(w + r * k, wq + r * rs, k);
        for (int64_t nb = 2; nb <= nbmax; nb += 13) {
            assert_int_equal(ai__matmul_ks(vs, pool, type, wq, rows, k, x, nb, y, rows), AI_OK);
            for (int64_t b = 0; b < nb; b++) {
                assert_int_equal(ai__matmul_ks(vs, pool, type, wq, rows, k, x + b * k, 1, y1, rows), AI_OK);
                if (memcmp(y1, y + b * rows, (size_t)rows * 4))
                    fail_msg("%s %s: row %lld differs between batch %lld and batch 1", vs->name,
                             ai__type_get(type)->name, (long long)b, (long long)nb);
            }
        }
    }
    free(w);
    free(x);
    free(y);
    free(y1);
    free(wq);
}

/* 0.5 v (1 + tanh(w)) = v / (1 + e^(-2w)) (no cancellation in the left
 * tail); *u gets -2w, whose float rounding the result inherits amplified
 * by |u| (the condition number of e^u). */
static double gelu_exact(double v, double *u) {
    *u = -2.0 * 0.7978845608028654 * (v + 0.044715 * v * v * v);
    return v / (1.0 + exp(*u));
}

static void check_gelu(const ai__kset *vs) {
    uint64_t s = 3;
    enum { N = 3072 + 37 };
    static float x[N], y[N], r[N];
    for (int i = 0; i < N; i++) x[i] = tu_randf(&s) * 12.0f;
    const float special[] = {0.0f, -0.0f, 10.0f, -10.0f, 9.999f, -9.999f, 20.0f, -20.0f, 1e-30f, -1e-30f,
                             3e38f, -3e38f, 0.5f, -3.36798f};
    memcpy(x, special, sizeof special);
    memcpy(y, x, sizeof x);
    memcpy(r, x, sizeof x);
    vs->gelu(y, N);
    ai__kset_ref.gelu(r, N);
    for (int i = 0; i < N; i++) {
        double u, t = gelu_exact(x[i], &u);
        double tol = (4e-6 + 3e-7 * fmin(fabs(u), 90.0)) * fabs(t) + 1e-30;
        if (!(fabs(y[i] - t) <= tol) || !(fabs(y[i] - r[i]) <= 2 * tol))
            fail_msg("%s gelu(%.9g) = %.9g, exact %.9g, ref %.9g", vs->name, x[i], y[i], t, r[i]);
    }
    /* an element alone == the same element inside runs of every length */
    for (int n = 1; n <= 40; n++)
        for (int off = 0; off + n <= 80; off += 7) {
            float run[40];
            memcpy(run, x + off, (size_t)n * sizeof *run);
            vs->gelu(run, n);
            for (int i = 0; i < n; i++) {
                float one = x[off + i];
                vs->gelu(&one, 1);
                if (memcmp(&one, &run[i], 4))
                    fail_msg("%s gelu: element %d of a run of %d differs from it alone", vs->name, i, n);
            }
        }
}

/* LayerNorm and softmax of rows of every length up to 3 vectors and more
 * against the exact value in double and against the reference set; and a
 * row's result does not depend on what follows it in memory. */
static void check_rows(const ai__kset *vs) {
    uint64_t s = 5;
    enum { N = 3072 + 19 };
    static float x[N], w[N], b[N], y[N + 1], r[N + 1]; /* [n]: a guard */
    for (int i = 0; i < N; i++) {
        x[i] = tu_randf(&s) * 4.0f + 1.5f; /* an offset: the mean matters */
        w[i] = tu_randf(&s) * 2.0f;
        b[i] = tu_randf(&s);
    }
    const int64_t lens[] = {1, 2, 7, 8, 15, 16, 17, 27, 33, 64, 100, 768, N};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        int64_t n = lens[li];
        for (int variant = 0; variant < 3; variant++) {
            const float *wv = variant == 2 ? NULL : w, *bv = variant >= 1 ? NULL : b;
            y[n] = r[n] = 12345.0f; /* must stay */
            vs->layernorm(y, x, wv, bv, n, 1e-12f);
            ai__kset_ref.layernorm(r, x, wv, bv, n, 1e-12f);
            double m = 0, v = 0;
            for (int64_t i = 0; i < n; i++) m += x[i];
            m /= (double)n;
            for (int64_t i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
            double sc = 1.0 / sqrt(v / (double)n + 1e-12);
            for (int64_t i = 0; i < n; i++) {
                double t = (x[i] - m) * sc * (wv ? wv[i] : 1.0) + (bv ? bv[i] : 0.0);
                double tol = 2e-6 * (fabs((x[i] - m) * sc * (wv ? wv[i] : 1.0)) + fabs(bv ? bv[i] : 0.0)) + 1e-6;
                if (!(fabs(y[i] - t) <= tol) || !(fabs(y[i] - r[i]) <= tol))
                    fail_msg("%s layernorm n=%lld [%lld] = %.9g, exact %.9g, ref %.9g", vs->name,
                             (long long)n, (long long)i, y[i], t, r[i]);
            }
            if (y[n] != 12345.0f) fail_msg("%s layernorm n=%lld wrote past the row", vs->name, (long long)n);
        }
        /* in place, as the encoder calls it */
        memcpy(r, x, (size_t)n * sizeof *r);
        vs->layernorm(r, r, w, b, n, 1e-5f);
        vs->layernorm(y, x, w, b, n, 1e-5f);
        if (memcmp(r, y, (size_t)n * sizeof *r)) fail_msg("%s layernorm in place differs", vs->name);

        for (int variant = 0; variant < 2; variant++) {
            float scale = variant ? 0.125f : 3.0f; /* 3: a wide range of exponents */
            memcpy(y, x, (size_t)n * sizeof *y);
            memcpy(r, x, (size_t)n * sizeof *r);
            if (variant && n > 3) y[3] = r[3] = -1e30f; /* far below: e^u underflows */
            double mx = -1e300, sum = 0;
            for (int64_t i = 0; i < n; i++) mx = fmax(mx, (double)(y[i] * scale));
            for (int64_t i = 0; i < n; i++) sum += exp((double)(y[i] * scale) - mx);
            double xs[N];
            for (int64_t i = 0; i < n; i++) xs[i] = exp((double)(y[i] * scale) - mx) / sum;
            y[n] = r[n] = 12345.0f;
            vs->softmax(y, n, scale);
            ai__kset_ref.softmax(r, n, scale);
            for (int64_t i = 0; i < n; i++) {
                double tol = 2e-6 * xs[i] + 1e-30;
                if (!(fabs(y[i] - xs[i]) <= tol) || !(fabs(y[i] - r[i]) <= 2 * tol))
                    fail_msg("%s softmax n=%lld [%lld] = %.9g, exact %.9g, ref %.9g", vs->name,
                             (long long)n, (long long)i, y[i], xs[i], r[i]);
            }
            if (y[n] != 12345.0f) fail_msg("%s softmax n=%lld wrote past the row", vs->name, (long long)n);
        }
    }
}

static void test_fgemm(void **state) {
    (void)state;
    unsetenv("AI_BLAS_MIN_BATCH"); /* the opt-in BLAS path is exempt from invariance */
    ai__pool *pool = NULL;
    assert_int_equal(ai__pool_new(2, &pool), AI_OK);
    int tested = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        const ai__kset *vs = ai__kset_by_name(variants[v]);
        if (!vs) {
            printf("# %s: not supported by this CPU, not tested\n", variants[v]);
            continue;
        }
        printf("# testing the %s float gemm\n", variants[v]);
        check_act_bf16(vs);
        check_set(vs);
        check_invariance(vs, pool);
        check_gelu(vs);
        check_rows(vs);
        tested++;
    }
    ai__pool_free(pool);
    if (!tested) skip();
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fgemm)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
