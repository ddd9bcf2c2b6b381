/*
 * test_kernels_ref.c - the scalar reference kernels against independent
 * truths:
 *  - f16/bf16 conversions against the compiler's _Float16 and hand values;
 *  - dequantization against the peer's fixtures (quants/TYPE.gguf and
 *    TYPE.f32, made by another implementation), bit for bit;
 *  - quantize -> dequantize error within per-type bounds derived from each
 *    format's step size (stated at `bounds` below);
 *  - every dot product against a double-precision sum over the dequantized
 *    weights and dequantized activations;
 *  - ai__matmul (threaded, tiled) against the plain dot loop, and its errors.
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
#include "kt_gguf.h"
#include "ref/ref.h"
#include "testutil.h"
#include "threads.h"

static const uint32_t all_types[] = {
    AI_TYPE_F32,  AI_TYPE_F16,  AI_TYPE_BF16, AI_TYPE_Q4_0, AI_TYPE_Q4_1,
    AI_TYPE_Q5_0, AI_TYPE_Q5_1, AI_TYPE_Q8_0, AI_TYPE_Q2_K, AI_TYPE_Q3_K,
    AI_TYPE_Q4_K, AI_TYPE_Q5_K, AI_TYPE_Q6_K, AI_TYPE_IQ4_NL, AI_TYPE_IQ4_XS};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

static float gauss(uint64_t *s) {
    float u1 = (tu_randf(s) + 1.0f) * 0.5f + 1e-7f, u2 = (tu_randf(s) + 1.0f) * 0.5f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

/* ---- conversions ------------------------------------------------------------ */

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void test_f16_conversions(void **state) {
    (void)state;
    /* hand values */
    assert_int_equal(ai__f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(ai__f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(ai__f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(ai__f32_to_f16(65520.0f), 0x7c00);        /* tie rounds to even: inf */
    assert_int_equal(ai__f32_to_f16(65519.0f), 0x7bff);
    assert_int_equal(ai__f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie to even */
    assert_int_equal(ai__f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);
    assert_int_equal(ai__f32_to_f16(5.9604645e-8f), 0x0001);    /* 2^-24 */
    assert_int_equal(ai__f32_to_f16(2.9802322e-8f), 0x0000);    /* 2^-25: tie to 0 */
    assert_int_equal(ai__f32_to_f16(-0.0f), 0x8000);
    assert_true((ai__f32_to_f16(NAN) & 0x7fff) > 0x7c00);
    assert_true(ai__f16_to_f32(0x0001) == 5.9604645e-8f);
    assert_true(isinf(ai__f16_to_f32(0xfc00)) && ai__f16_to_f32(0xfc00) < 0);
    /* every f16 survives the round trip */
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ai__f16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        assert_int_equal(ai__f32_to_f16(f), h);
    }
#ifdef __FLT16_MAX__
    /* against the compiler's own conversion, on many floats */
    uint64_t s = 7;
    for (int i = 0; i < 2000000; i++) {
        uint32_t u = (uint32_t)tu_rand(&s);
        if (i & 1) u = (u & 0x8fffffffu) | 0x30000000u; /* mostly in f16 range */
        float f;
        memcpy(&f, &u, 4);
        if (isnan(f)) continue;
        _Float16 g = (_Float16)f;
        uint16_t gb;
        memcpy(&gb, &g, 2);
        if (ai__f32_to_f16(f) != gb) fail_msg("f32 %08x: got %04x want %04x", u, ai__f32_to_f16(f), gb);
        assert_true(fbits(ai__f16_to_f32(gb)) == fbits((float)g));
    }
#endif
}

static void test_bf16_conversions(void **state) {
    (void)state;
    assert_int_equal(ai__f32_to_bf16(1.0f), 0x3f80);
    assert_true(ai__bf16_to_f32(0x3f80) == 1.0f);
    /* 1 + 2^-8 is halfway between 1 and 1 + 2^-7: even is 1 */
    assert_int_equal(ai__f32_to_bf16(1.0f + 1.0f / 256), 0x3f80);
    assert_int_equal(ai__f32_to_bf16(1.0f + 3.0f / 256), 0x3f82);
    assert_int_equal(ai__f32_to_bf16(-3.0f), 0xc040);
    assert_true((ai__f32_to_bf16(NAN) & 0x7fff) > 0x7f80);
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ai__bf16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        assert_int_equal(ai__f32_to_bf16(f), h);
    }
}

/* ---- fixtures: dequantization bit for bit ------------------------------------ */

static void test_dequant_fixtures(void **state) {
    (void)state;
    if (!tu_fixtures()) skip();
    for (size_t t = 0; t < N_TYPES; t++) {
        uint32_t type = all_types[t];
        if (type == AI_TYPE_F32) continue; /* no fixture: nothing to decode */
        const char *name = ai__type_get(type)->name;
        char rel[64];
        size_t gsize = 0, fsize = 0;
        snprintf(rel, sizeof rel, "quants/%s.gguf", name);
        uint8_t *g = (uint8_t *)tu_read_file(tu_fixture_path(rel), &gsize);
        snprintf(rel, sizeof rel, "quants/%s.f32", name);
        float *want = (float *)tu_read_file(tu_fixture_path(rel), &fsize);
        if (!g || !want) fail_msg("missing fixture for %s", name);
        uint32_t ftype;
        int64_t ne[4];
        const uint8_t *data;
        assert_int_equal(kt_gguf_tensor(g, gsize, "w", &ftype, ne, &data), 0);
        assert_int_equal(ftype, type);
        int64_t n = ne[0] * ne[1];
        assert_int_equal(fsize, (size_t)n * 4);
        size_t rs = ai__row_size(type, ne[0]);
        assert_true(rs > 0 && (size_t)(data - g) + rs * (size_t)ne[1] <= gsize);
        float *got = malloc((size_t)n * 4);
        for (int64_t r = 0; r < ne[1]; r++)
            assert_int_equal(ai__dequant_row(type, data + r * rs, got + r * ne[0], ne[0]), AI_OK);
        for (int64_t i = 0; i < n; i++)
            if (fbits(got[i]) != fbits(want[i]))
                fail_msg("%s: element %lld: got %.9g want %.9g", name, (long long)i, got[i], want[i]);
        /* the reference set itself, whatever set the process chose */
        for (int64_t r = 0; r < ne[1]; r++)
            ai__kset_ref.ops[type].dequant(data + r * rs, got + r * ne[0], ne[0]);
        assert_memory_equal(got, want, (size_t)n * 4);
        free(got);
        free(g);
        free(want);
    }
}

/* ---- quantize -> dequantize -------------------------------------------------- */

/*
 * Bounds on the RMS error relative to the data's RMS, for N(0,1) data.  A
 * format with step D over a block has RMS rounding error about D/sqrt(12);
 * the expected amax of a block of 16/32 normal values is about 2.0/2.4, so:
 *   Q8_0   D = amax/127           ~ 0.019 -> 0.0055   bound 0.008
 *   Q4_0   D = amax/8             ~ 0.30  -> 0.087    bound 0.11
 *   Q4_1   D = range/15 (~4.3)    ~ 0.29  -> 0.083    bound 0.11
 *   Q5_0   D = amax/16            ~ 0.15  -> 0.043    bound 0.056
 *   Q5_1   D = range/31           ~ 0.14  -> 0.040    bound 0.053
 *   IQ4_NL codebook gaps ~ Q4_0                       bound 0.11
 *   Q2_K   D = range(16)/3 (~3.5) ~ 1.17  -> 0.34     bound 0.42
 *   Q3_K   D = amax(16)/4         ~ 0.5   -> 0.145    bound 0.19
 *   Q4_K   as Q4_1                                    bound 0.11
 *   Q5_K   as Q5_1                                    bound 0.055
 *   Q6_K   D = amax(16)/32        ~ 0.0625-> 0.018    bound 0.025
 *   IQ4_XS as IQ4_NL                                  bound 0.11
 *   F16    relative 2^-11 per element, ~ 2^-11/sqrt(3) bound 5e-4
 *   BF16   relative 2^-8 per element                 bound 3.5e-3
 * (the sub-block scales of the k-quants add a little, covered by the
 * margins).  The legacy types also have a per-element bound: the error of an
 * element never exceeds one step (the clipped extreme) and is at most half a
 * step elsewhere; we check |err| <= step * 1.001 for every element.
 */
static double rms_bound(uint32_t type) {
    switch (type) {
    case AI_TYPE_F32: return 0;
    case AI_TYPE_F16: return 5e-4;
    case AI_TYPE_BF16: return 3.5e-3;
    case AI_TYPE_Q8_0: return 0.008;
    case AI_TYPE_Q4_0: case AI_TYPE_Q4_1: case AI_TYPE_IQ4_NL: case AI_TYPE_Q4_K:
    case AI_TYPE_IQ4_XS: return 0.11;
    case AI_TYPE_Q5_0: return 0.056;
    case AI_TYPE_Q5_1: return 0.053;
    case AI_TYPE_Q5_K: return 0.055;
    case AI_TYPE_Q2_K: return 0.42;
    case AI_TYPE_Q3_K: return 0.19;
    case AI_TYPE_Q6_K: return 0.025;
    }
    return -1;
}

/* Step of a legacy block as the format defines it, from the block's data. */
static double legacy_step(uint32_t type, const float *x) {
    double lo = x[0], hi = x[0], amax = 0;
    for (int j = 0; j < 32; j++) {
        lo = x[j] < lo ? x[j] : lo;
        hi = x[j] > hi ? x[j] : hi;
        amax = fabs(x[j]) > amax ? fabs(x[j]) : amax;
    }
    switch (type) {
    case AI_TYPE_Q8_0: return amax / 127 / 2 + amax * 1e-3; /* half step + f16 scale */
    case AI_TYPE_Q4_0: return amax / 8;
    case AI_TYPE_Q5_0: return amax / 16;
    case AI_TYPE_Q4_1: return (hi - lo) / 15 / 2 + amax * 1e-3; /* + f16 of d and m */
    case AI_TYPE_Q5_1: return (hi - lo) / 31 / 2 + amax * 1e-3;
    }
    return -1;
}

static void check_roundtrip(uint32_t type, const float *x, int64_t n, int check_rms, const char *what) {
    size_t rs = ai__row_size(type, n);
    uint8_t *q = malloc(rs);
    float *y = malloc((size_t)n * 4);
    assert_int_equal(ai__quant_row(type, x, q, n), AI_OK);
    assert_int_equal(ai__dequant_row(type, q, y, n), AI_OK);
    double se = 0, sx = 0;
    for (int64_t i = 0; i < n; i++) {
        assert_true(isfinite(y[i]));
        se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
        sx += (double)x[i] * x[i];
    }
    const char *name = ai__type_get(type)->name;
    if (sx == 0 && se != 0) fail_msg("%s/%s: zeros do not come back as zeros", name, what);
    if (check_rms && sx > 0) {
        double rel = sqrt(se / sx);
        if (rel > rms_bound(type)) fail_msg("%s/%s: relative RMS error %.4f > %.4f", name, what, rel, rms_bound(type));
    }
    if (legacy_step(type, x) >= 0)
        for (int64_t b = 0; b < n / 32; b++) {
            double step = legacy_step(type, x + 32 * b);
            for (int j = 0; j < 32; j++) {
                double e = fabs((double)y[32 * b + j] - x[32 * b + j]);
                if (e > step * 1.001 + 1e-30) fail_msg("%s/%s: element %lld error %g > step %g", name, what, (long long)(32 * b + j), e, step);
            }
        }
    free(q);
    free(y);
}

static void test_quant_roundtrip(void **state) {
    (void)state;
    const int64_t n = 256 * 64;
    float *x = malloc((size_t)n * 4);
    uint64_t s = 42;
    for (size_t t = 0; t < N_TYPES; t++) {
        uint32_t type = all_types[t];
        for (int64_t i = 0; i < n; i++) x[i] = gauss(&s);
        check_roundtrip(type, x, n, 1, "gauss");
        for (int64_t i = 0; i < n; i++) x[i] = gauss(&s) * 1e-3f + 0.5f; /* offset, all positive */
        check_roundtrip(type, x, n, 0, "positive");
        for (int64_t i = 0; i < n; i++) x[i] = -fabsf(gauss(&s)) * 30.0f; /* all negative */
        check_roundtrip(type, x, n, 0, "negative");
        memset(x, 0, (size_t)n * 4);
        check_roundtrip(type, x, n, 0, "zeros");
        for (int64_t i = 0; i < n; i++) x[i] = (i % 97 == 0) ? 100.0f : gauss(&s) * 0.01f; /* outliers */
        check_roundtrip(type, x, n, 0, "outliers");
        /* inf and NaN in the first block: must not crash; the other blocks
         * (independent in every format) keep their bounds */
        for (int64_t i = 0; i < n; i++) x[i] = gauss(&s);
        x[3] = INFINITY;
        x[7] = NAN;
        x[9] = -INFINITY;
        size_t rs = ai__row_size(type, n), bs = ai__type_get(type)->block_size;
        uint8_t *qq = malloc(rs);
        float *yy = malloc((size_t)n * 4);
        assert_int_equal(ai__quant_row(type, x, qq, n), AI_OK);
        assert_int_equal(ai__dequant_row(type, qq, yy, n), AI_OK);
        int64_t skip_n = bs < 256 ? 256 : (int64_t)bs;
        if (type != AI_TYPE_F16 && type != AI_TYPE_BF16 && type != AI_TYPE_F32)
            check_roundtrip(type, x + skip_n, n - skip_n, 1, "after a block with inf/NaN");
        free(qq);
        free(yy);
    }
    free(x);
}

/* ---- dot products ------------------------------------------------------------ */

/* Dequantized activations: what the integer path multiplies, in double. */
static void act_values(int kind, const void *a, int64_t k, double *out) {
    if (kind == ACT_F32) for (int64_t i = 0; i < k; i++) out[i] = ((const float *)a)[i];
    if (kind == ACT_F16) for (int64_t i = 0; i < k; i++) out[i] = ai__f16_to_f32(((const uint16_t *)a)[i]);
    if (kind == ACT_BF16) for (int64_t i = 0; i < k; i++) out[i] = ai__bf16_to_f32(((const uint16_t *)a)[i]);
    if (kind == ACT_Q8_32 || kind == ACT_Q8_256) {
        int bs = kind == ACT_Q8_32 ? 32 : 256;
        for (int64_t i = 0; i < k; i++) out[i] = (double)act_d(a, k)[i / bs] * act_q(a)[i];
    }
}

static void test_act_quant(void **state) {
    (void)state;
    const int64_t k = 1024;
    float x[1024];
    uint8_t a[4096];
    double v[1024];
    uint64_t s = 3;
    for (int rep = 0; rep < 20; rep++) {
        for (int i = 0; i < k; i++) x[i] = gauss(&s) * (rep + 1) * (rep % 3 == 0 ? 1e-4f : 1.0f);
        if (rep == 5) memset(x, 0, sizeof x);
        if (rep == 6) for (int i = 0; i < 256; i++) x[i] = 0; /* one zero block of each size */
        for (int kind = ACT_Q8_32; kind <= ACT_Q8_256; kind++) {
            int bs = kind == ACT_Q8_32 ? 32 : 256;
            ai__kset_ref.act[kind](x, a, k);
            act_values(kind, a, k, v);
            for (int64_t b = 0; b < k / bs; b++) {
                double amax = 0;
                for (int j = 0; j < bs; j++) amax = fmax(amax, fabs(x[b * bs + j]));
                /* half a step, plus (32-blocks) 127 times the f16 rounding
                 * error of d: relative 2^-11, or 2^-25 absolute once d is
                 * below the smallest normal f16 */
                double d = amax / 127, r16 = fmax(d / 2048, 1.0 / 33554432);
                double tol = d * 0.5 * 1.0001 + (kind == ACT_Q8_32 ? 127 * r16 : 0);
                for (int j = 0; j < bs; j++)
                    if (fabs(v[b * bs + j] - x[b * bs + j]) > tol) fail_msg("act kind %d elem %lld", kind, (long long)(b * bs + j));
                if (kind == ACT_Q8_256)
                    for (int g = 0; g < bs / 16; g++) {
                        int sum = 0;
                        for (int j = 0; j < 16; j++) sum += act_q(a)[b * bs + g * 16 + j];
                        assert_int_equal(act_bs256(a, k)[b * 16 + g], sum);
                    }
            }
        }
    }
}

static void test_dots(void **state) {
    (void)state;
    const int64_t k = 1024;
    float *w = malloc(k * 4), *x = malloc(k * 4), *wd = malloc(k * 4);
    uint8_t *wq = malloc(ai__row_size(AI_TYPE_F32, k)), *a = malloc(ai__act_row_size(ACT_F32, k));
    double *av = malloc(k * sizeof(double));
    uint64_t s = 11;
    for (size_t t = 0; t < N_TYPES; t++) {
        uint32_t type = all_types[t];
        const ai__type_ops *op = &ai__kset_ref.ops[type];
        for (int rep = 0; rep < 30; rep++) {
            float ws = rep % 5 == 0 ? 1e-3f : rep % 5 == 1 ? 50.0f : 1.0f;
            for (int64_t i = 0; i < k; i++) {
                w[i] = gauss(&s) * ws;
                x[i] = gauss(&s) * (rep % 7 == 3 ? 1e-3f : 1.0f);
            }
            if (rep == 4) memset(w, 0, 256 * 4); /* zero blocks */
            if (rep == 8) memset(x + 256, 0, 256 * 4);
            op->quant(w, wq, k);
            op->dequant(wq, wd, k);
            ai__kset_ref.act[op->act](x, a, k);
            act_values(op->act, a, k, av);
            double truth = 0, mag = 0, extra = 0;
            for (int64_t i = 0; i < k; i++) {
                truth += (double)wd[i] * av[i];
                mag += fabs((double)wd[i] * av[i]);
            }
            if (type == AI_TYPE_Q4_1 || type == AI_TYPE_Q5_1) {
                /* the block min meets s = d*sum(q) rounded to f16 */
                int bytes = type == AI_TYPE_Q4_1 ? 20 : 24;
                for (int64_t b = 0; b < k / 32; b++)
                    extra += fabs((double)ai__f16_to_f32(rd16(wq + b * bytes + 2)) * act_s32(a, k)[b]) * (1.0 / 2048);
            }
            double got = op->dot(wq, a, k);
            double tol = 1e-5 * mag + extra + 1e-30;
            if (fabs(got - truth) > tol)
                fail_msg("%s rep %d: dot %.9g, truth %.9g (tol %g)", ai__type_get(type)->name, rep, got, truth, tol);
        }
    }
    free(w); free(x); free(wd); free(wq); free(a); free(av);
}

/* ---- matmul --------------------------------------------------------------------- */

static void test_matmul(void **state) {
    (void)state;
    ai__pool *pool = NULL;
    assert_int_equal(ai__pool_new(2, &pool), AI_OK);
    const int64_t k = 512, rows = 37, ldy = 41;
    uint64_t s = 5;
    float *w = malloc(rows * k * 4), *x = malloc(9 * k * 4), *y = malloc(9 * ldy * 4);
    uint8_t *wq = malloc(ai__row_size(AI_TYPE_F32, k) * rows);
    uint8_t *a = malloc(ai__act_row_size(ACT_F32, k));
    for (int64_t i = 0; i < rows * k; i++) w[i] = gauss(&s);
    for (int64_t i = 0; i < 9 * k; i++) x[i] = gauss(&s);
    for (size_t t = 0; t < N_TYPES; t++) {
        uint32_t type = all_types[t];
        const ai__type_ops *op = &ai__kset_ref.ops[type];
        size_t rs = ai__row_size(type, k);
        for (int64_t r = 0; r < rows; r++) op->quant(w + r * k, wq + r * rs, k);
        for (int nb = 1; nb <= 9; nb += 4) {
            for (int threads = 0; threads < 2; threads++) {
                for (int64_t i = 0; i < nb * ldy; i++) y[i] = -12345.0f;
                assert_int_equal(ai__matmul_ks(&ai__kset_ref, threads ? pool : NULL, type, wq, rows, k, x, nb, y, ldy), AI_OK);
                for (int b = 0; b < nb; b++) {
                    ai__kset_ref.act[op->act](x + b * k, a, k);
                    for (int64_t r = 0; r < rows; r++)
                        assert_true(fbits(y[b * ldy + r]) == fbits(op->dot(wq + r * rs, a, k)));
                    for (int64_t r = rows; r < ldy; r++) assert_true(y[b * ldy + r] == -12345.0f);
                }
            }
        }
    }
    /* the process-wide entry point */
    assert_int_equal(ai__matmul(pool, AI_TYPE_F32, w, rows, k, x, 1, y, rows), AI_OK);
    /* errors */
    assert_int_equal(ai__matmul(pool, AI_TYPE_Q4_0, wq, rows, 100, x, 1, y, rows), AI_E_INVAL);
    assert_int_equal(ai__matmul(pool, AI_TYPE_Q4_0, wq, rows, k, x, 1, y, rows - 1), AI_E_INVAL);
    assert_int_equal(ai__matmul(pool, AI_TYPE_Q4_0, wq, -1, k, x, 1, y, rows), AI_E_INVAL);
    assert_int_equal(ai__matmul(pool, AI_TYPE_Q4_0, NULL, rows, k, x, 1, y, rows), AI_E_INVAL);
    assert_int_equal(ai__matmul(pool, AI_TYPE_Q8_K, wq, rows, k, x, 1, y, rows), AI_E_UNSUPPORTED);
    assert_int_equal(ai__matmul(pool, AI_TYPE_IQ2_XXS, wq, rows, k, x, 1, y, rows), AI_E_UNSUPPORTED);
    assert_int_equal(ai__matmul(pool, 999, wq, rows, k, x, 1, y, rows), AI_E_UNSUPPORTED);
    assert_int_equal(ai__matmul(pool, AI_TYPE_Q4_0, wq, 0, k, x, 1, y, 0), AI_OK);
    assert_int_equal(ai__dequant_row(AI_TYPE_Q4_K, wq, y, 100), AI_E_INVAL);
    assert_int_equal(ai__quant_row(AI_TYPE_IQ2_XS, x, wq, 256), AI_E_UNSUPPORTED);
    for (size_t t = 0; t < N_TYPES; t++) assert_true(ai__type_supported(all_types[t]));
    assert_false(ai__type_supported(AI_TYPE_Q8_K));
    assert_false(ai__type_supported(12345));
    assert_non_null(ai__kernels_name());
    free(w); free(x); free(y); free(wq); free(a);
    ai__pool_free(pool);
}

/* ---- vector helpers -------------------------------------------------------------- */

static void test_vector_helpers(void **state) {
    (void)state;
    uint64_t s = 17;
    enum { N = 301 };
    float x[N], y[N], back[N];
    uint16_t h[N], h2[N];
    for (int i = 0; i < N; i++) x[i] = gauss(&s) * 10;
    ai__f32_to_f16_row(x, h, N);
    ai__f16_to_f32_row(h, back, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(h[i], ai__f32_to_f16(x[i]));
        assert_true(fbits(back[i]) == fbits(ai__f16_to_f32(h[i])));
    }
    for (int i = 0; i < N; i++) h2[i] = ai__f32_to_f16(gauss(&s));
    double truth = 0, mag = 0;
    for (int i = 0; i < N; i++) {
        double p = (double)ai__f16_to_f32(h[i]) * ai__f16_to_f32(h2[i]);
        truth += p;
        mag += fabs(p);
    }
    assert_true(fabs(ai__dot_f16(h, h2, N) - truth) <= 1e-5 * mag);
    for (int i = 0; i < N; i++) y[i] = (float)i;
    ai__axpy_f16(0.5f, h, y, N);
    for (int i = 0; i < N; i++) {
        double want = i + 0.5 * ai__f16_to_f32(h[i]);
        assert_true(fabs(y[i] - want) <= 1e-6 * (fabs(want) + 1));
    }
    assert_true(ai__dot_f16(h, h2, 0) == 0.0f);
}

/* ---- thread pool ---------------------------------------------------------------- */

typedef struct count_ctx {
    int hits[8];
    int nth_seen;
} count_ctx;

static void count_task(void *ctx, int ith, int nth) {
    count_ctx *c = ctx;
    c->hits[ith]++;
    if (ith == 0) c->nth_seen = nth;
}

static void test_pool(void **state) {
    (void)state;
    ai__pool *p = NULL;
    assert_int_equal(ai__pool_new(0, &p), AI_E_INVAL);
    for (int n = 1; n <= 4; n++) {
        assert_int_equal(ai__pool_new(n, &p), AI_OK);
        assert_int_equal(ai__pool_size(p), n);
        count_ctx c;
        memset(&c, 0, sizeof c);
        for (int rep = 0; rep < 1000; rep++) ai__pool_run(p, count_task, &c);
        for (int i = 0; i < n; i++) assert_int_equal(c.hits[i], 1000);
        for (int i = n; i < 8; i++) assert_int_equal(c.hits[i], 0);
        assert_int_equal(c.nth_seen, n);
        ai__pool_free(p);
    }
    count_ctx c;
    memset(&c, 0, sizeof c);
    ai__pool_run(NULL, count_task, &c);
    assert_int_equal(c.hits[0], 1);
    assert_int_equal(ai__pool_size(NULL), 1);
    ai__pool_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_conversions), cmocka_unit_test(test_bf16_conversions),
        cmocka_unit_test(test_dequant_fixtures), cmocka_unit_test(test_quant_roundtrip),
        cmocka_unit_test(test_act_quant),        cmocka_unit_test(test_dots),
        cmocka_unit_test(test_matmul),           cmocka_unit_test(test_pool),
        cmocka_unit_test(test_vector_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
