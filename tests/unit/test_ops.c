/* test_ops.c - RMSNorm, softmax, SwiGLU, RoPE and attention against small
 * values computed by hand (the comments show the arithmetic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "kernels.h"
#include "runtime.h"
#include "testutil.h"
#include "types.h"

#define NEAR(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

static void test_rmsnorm(void **state) {
    (void)state;
    /* mean(x^2) = (1+4+9+16)/4 = 7.5; 1/sqrt(7.5) = 0.36514837 */
    float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 2, 0.5f}, out[4];
    ai__rmsnorm(out, x, w, 4, 0.0f);
    NEAR(out[0], 0.36514837, 1e-6);
    NEAR(out[1], 0.73029674, 1e-6);
    NEAR(out[2], 2.19089023, 1e-6);
    NEAR(out[3], 0.73029674, 1e-6);
    /* eps enters under the root: (9+16)/2 + 1 = 13.5; 1/sqrt(13.5) = 0.27216553 */
    float y[2] = {3, 4};
    ai__rmsnorm(y, y, NULL, 2, 1.0f); /* in place, no weight */
    NEAR(y[0], 0.81649658, 1e-6);
    NEAR(y[1], 1.08866211, 1e-6);
}

/* Rows side by side: each row has ai__rmsnorm's bits (1..9 rows: groups of
 * four and the rest; with and without a weight; in place; a row stride
 * wider than the rows). */
static void test_rmsnorm_rows(void **state) {
    (void)state;
    enum { N = 133, LD = 140, R = 9 };
    static float x[R * LD], w[N], a[R * LD], b[R * LD];
    uint64_t st = 3;
    for (int i = 0; i < R * LD; i++) x[i] = tu_randf(&st) * (float)(1 + i % 7);
    for (int i = 0; i < N; i++) w[i] = tu_randf(&st);
    for (int rows = 1; rows <= R; rows++)
        for (int wi = 0; wi < 2; wi++) {
            memcpy(a, x, sizeof a);
            memcpy(b, x, sizeof b);
            for (int r = 0; r < rows; r++) ai__rmsnorm(a + r * LD, a + r * LD, wi ? w : NULL, N, 1e-6f);
            ai__rmsnorm_rows(b, b, wi ? w : NULL, N, rows, LD, 1e-6f);
            assert_memory_equal(a, b, sizeof a);
        }
}

static void test_softmax(void **state) {
    (void)state;
    /* e^-2, e^-1, e^0 over their sum 1.50321472 */
    float x[3] = {1, 2, 3};
    ai__softmax(x, 3);
    NEAR(x[0], 0.09003057, 1e-6);
    NEAR(x[1], 0.24472847, 1e-6);
    NEAR(x[2], 0.66524096, 1e-6);
    /* large logits must not overflow */
    float big[2] = {1000, 1000};
    ai__softmax(big, 2);
    NEAR(big[0], 0.5, 1e-7);
    NEAR(big[1], 0.5, 1e-7);
    float inf[3] = {0, -INFINITY, 0};
    ai__softmax(inf, 3);
    NEAR(inf[0], 0.5, 1e-7);
    NEAR(inf[1], 0.0, 0);
}

static void test_swiglu(void **state) {
    (void)state;
    /* silu(1) = 1/(1+e^-1) = 0.73105858; silu(-2) = -2/(1+e^2) = -0.23840584 */
    float g[2] = {1, -2}, u[2] = {2, 3};
    ai__swiglu(g, u, 2);
    NEAR(g[0], 1.46211716, 1e-6);
    NEAR(g[1], -0.71521753, 1e-6);
}

static void test_rope(void **state) {
    (void)state;
    /* head of 4, base 10000: pair 0 turns by pos, pair 1 by pos * 10000^-0.5
     * = pos * 0.01.  At pos 1: cos 1 = 0.54030231, sin 1 = 0.84147098,
     * cos .01 = 0.99995000, sin .01 = 0.00999983 */
    float cs[4];
    ai__rope_cache(cs, 1, 4, 10000.0f, 1.0f, 1.0f, NULL);
    NEAR(cs[0], 0.54030231, 1e-6);
    NEAR(cs[1], 0.84147098, 1e-6);
    NEAR(cs[2], 0.99995000, 1e-6);
    NEAR(cs[3], 0.00999983, 1e-6);

    /* NORM pairs (x0,x1), (x2,x3): (1,0) -> (cos1, sin1); (0,1) -> (-sin, cos) */
    float a[4] = {1, 0, 0, 1};
    ai__rope_apply(a, 1, 4, 4, AI__ROPE_NORM, cs);
    NEAR(a[0], 0.54030231, 1e-6);
    NEAR(a[1], 0.84147098, 1e-6);
    NEAR(a[2], -0.00999983, 1e-6);
    NEAR(a[3], 0.99995000, 1e-6);

    /* NEOX pairs (x0,x2), (x1,x3) */
    float b[4] = {1, 0, 0, 1};
    ai__rope_apply(b, 1, 4, 4, AI__ROPE_NEOX, cs);
    NEAR(b[0], 0.54030231, 1e-6);
    NEAR(b[1], -0.00999983, 1e-6);
    NEAR(b[2], 0.84147098, 1e-6);
    NEAR(b[3], 0.99995000, 1e-6);

    /* two heads, only the first 2 of 4 dims rotated (n_rot 2) */
    float c2[2];
    ai__rope_cache(c2, 1, 2, 10000.0f, 1.0f, 1.0f, NULL);
    float h[8] = {1, 0, 5, 6, 0, 1, 7, 8};
    ai__rope_apply(h, 2, 4, 2, AI__ROPE_NORM, c2);
    NEAR(h[0], 0.54030231, 1e-6);
    NEAR(h[1], 0.84147098, 1e-6);
    NEAR(h[2], 5, 0);
    NEAR(h[3], 6, 0);
    NEAR(h[4], -0.84147098, 1e-6);
    NEAR(h[5], 0.54030231, 1e-6);
    NEAR(h[7], 8, 0);

    /* position 0 is the identity */
    float c0[4];
    ai__rope_cache(c0, 0, 4, 10000.0f, 1.0f, 1.0f, NULL);
    NEAR(c0[0], 1, 0);
    NEAR(c0[1], 0, 0);
    NEAR(c0[2], 1, 0);
    NEAR(c0[3], 0, 0);

    /* frequency factors divide, linear scaling multiplies, the attention
     * factor scales cos and sin: pos 4, factor 2, scale 0.5 -> angle 1 */
    float f[2] = {2, 1}, c4[4];
    ai__rope_cache(c4, 4, 4, 10000.0f, 0.5f, 2.0f, f);
    NEAR(c4[0], 2 * 0.54030231, 1e-6);
    NEAR(c4[1], 2 * 0.84147098, 1e-6);
    NEAR(c4[2], 2 * cos(0.02), 1e-6);
    NEAR(c4[3], 2 * sin(0.02), 1e-6);
}

/* Stores n rows of d values in `type` and reads them back as f32 rows, as
 * the forward pass does with the cache. */
static void through(uint32_t type, const float *src, int n, int d, float *dst) {
    size_t row = ai__row_size(type, d);
    uint8_t buf[2 * 34 * 4];
    assert_true(row * (size_t)n <= sizeof buf);
    for (int t = 0; t < n; t++) {
        if (type == AI_TYPE_F32) {
            memcpy(buf + t * row, src + t * d, (size_t)d * sizeof(float));
        } else if (type == AI_TYPE_F16) {
            uint16_t *h = (uint16_t *)(buf + t * row);
            for (int i = 0; i < d; i++) h[i] = ai__f32_to_f16(src[t * d + i]);
        } else {
            assert_int_equal(ai__quant_row(type, src + t * d, buf + t * row, d), AI_OK);
        }
    }
    ai__kv_rows_f32(type, buf, n, d, dst);
}

static void test_attention(void **state) {
    (void)state;
    /* q = (1,0), k0 = (1,0), k1 = (0,1): scores (1, 0) -> weights
     * (e/(1+e), 1/(1+e)) = (0.73105858, 0.26894142); v0 = (1,2), v1 = (3,4):
     * out = (0.7311 + 3*0.2689, 2*0.7311 + 4*0.2689) */
    const uint32_t types[2] = {AI_TYPE_F32, AI_TYPE_F16};
    for (int ti = 0; ti < 2; ti++) {
        uint32_t type = types[ti];
        float q[2] = {2, 0}; /* with scale 0.5 the score is still 1 */
        float kf[4] = {1, 0, 0, 1}, vf[4] = {1, 2, 3, 4};
        float k[4], v[4], out[2], scratch[2 * 2 + 2];
        through(type, kf, 2, 2, k);
        through(type, vf, 2, 2, v);
        ai__attention(out, q, k, v, 2, 2, 2, type, 0.5f, scratch);
        NEAR(out[0], 1.53788284, 1e-6);
        NEAR(out[1], 2.53788284, 1e-6);
        /* the order of the positions does not matter */
        float kr[4] = {0, 1, 1, 0}, vr[4] = {3, 4, 1, 2};
        through(type, kr, 2, 2, k);
        through(type, vr, 2, 2, v);
        ai__attention(out, q, k, v, 2, 2, 2, type, 0.5f, scratch);
        NEAR(out[0], 1.53788284, 1e-6);
        NEAR(out[1], 2.53788284, 1e-6);
        /* one position: the output is its value */
        ai__attention(out, q, k, v, 1, 2, 2, type, 0.5f, scratch);
        NEAR(out[0], 3, 1e-6);
        NEAR(out[1], 4, 1e-6);
    }

    /* q8_0 cache, heads of 32: k0 = 127 e0, k1 = 127 e1 quantize exactly
     * (scale 1); q = e0/127 quantizes to within f16 rounding of the scale.
     * Scores (1, 0) again; v0 = 1, v1 = 3 everywhere (exact, scale 3/127
     * rounded to f16: within 1e-3) */
    float kf[64] = {0}, vf[64], q[32] = {0};
    kf[0] = 127;
    kf[32 + 1] = 127;
    q[0] = 1.0f / 127;
    for (int i = 0; i < 32; i++) vf[i] = 1, vf[32 + i] = 3;
    assert_int_equal(ai__row_size(AI_TYPE_Q8_0, 32), 34);
    float k[64], v[64], out[32], scratch[2 * 32 + 2];
    through(AI_TYPE_Q8_0, kf, 2, 32, k);
    through(AI_TYPE_Q8_0, vf, 2, 32, v);
    ai__attention(out, q, k, v, 2, 32, 32, AI_TYPE_Q8_0, 1.0f, scratch);
    for (int i = 0; i < 32; i++) NEAR(out[i], 0.73105858 + 3 * 0.26894142, 2e-3);

    /* a head of 128 (the 16-lane dot): q = k = all 0.25 gives score
     * 128/16 = 8 at scale 1; against a zero key (score 0) the weights are
     * 1/(1+e^-8) and e^-8/(1+e^-8) */
    static float q128[128], k128[256], v128[256], o128[128], s128[2 * 128 + 2];
    for (int i = 0; i < 128; i++) q128[i] = 0.25f, k128[i] = 0.25f, k128[128 + i] = 0,
                                  v128[i] = 1, v128[128 + i] = -1;
    ai__attention(o128, q128, k128, v128, 2, 128, 128, AI_TYPE_F32, 1.0f, s128);
    double w = 1 / (1 + exp(-8.0));
    for (int i = 0; i < 128; i++) NEAR(o128[i], w - (1 - w), 1e-6);
}

/* The in-place f16 attention against the converted-row one: the hand
 * example above, then random heads of 128 over 37 positions (the same
 * numbers up to float summation order). */
/*
 * The f16-cache attention for batches below AI__ATT_TILED_ROWS accumulates
 * the weighted values in f16.  Two keys, scale 0.5: scores 1 and 0, so
 *   key 0: new max 1, acc = v0 = (1, 2), S = 1
 *   key 1: w = e^-1 = 0.36787942, acc = f16(v1*w + acc)
 *          = (f16(2.10363826), f16(3.47151768)) = (2.1035156, 3.4707031),
 *          S = 1.3678794
 *   out = acc / S = (1.5377932, 2.5372875)   (f32 softmax: 1.5378828, 2.5378828)
 */
static void test_attention_f16(void **state) {
    (void)state;
    uint16_t k2[4], v2[4];
    float kf[4] = {1, 0, 0, 1}, vf[4] = {1, 2, 3, 4}, q[2] = {2, 0}, out[2], scratch[2 + 2];
    for (int i = 0; i < 4; i++) k2[i] = ai__f32_to_f16(kf[i]), v2[i] = ai__f32_to_f16(vf[i]);
    ai__attention_f16(out, q, k2, v2, 2, 2, 2, 0.5f, scratch);
    NEAR(out[0], 1.5377932, 1e-6);
    NEAR(out[1], 2.5372875, 1e-6);

    /* the tiled form keeps f32: the f32 softmax values; keys transposed */
    float kt[4] = {1, 0, 0, 1}, sc[128];
    ai__attention_f16_tiled(out, q, kt, 2, vf, 2, 2, 2, 0.5f, sc);
    NEAR(out[0], 1.53788284, 1e-6);
    NEAR(out[1], 2.53788284, 1e-6);

    /* random rows, over one and several key tiles: the tiled form within
     * float rounding of the f32 softmax, the f16 one within its f16 steps */
    enum { D = 128, T = 150 };
    static uint16_t kh[T * D], vh[T * D];
    static float kc[T * D], vc[T * D], kct[D * T], qq[D], want[D], got[D], s1[2 * D + T], s2[2 * D];
    uint64_t st = 99;
    for (int i = 0; i < T * D; i++) {
        kh[i] = ai__f32_to_f16(tu_randf(&st));
        vh[i] = ai__f32_to_f16(tu_randf(&st) * 4);
    }
    for (int i = 0; i < D; i++) qq[i] = tu_randf(&st) * 2;
    ai__kv_rows_f32(AI_TYPE_F16, (const uint8_t *)kh, T, D, kc);
    ai__kv_rows_f32(AI_TYPE_F16, (const uint8_t *)vh, T, D, vc);
    ai__kv_keys_t_f32(kh, T, D, kct, T);
    for (int t = 0; t < T; t++)
        for (int d = 0; d < D; d++) assert_true(kct[d * T + t] == kc[t * D + d]);
    for (int n = 1; n <= T; n += 37) {
        ai__attention(want, qq, kc, vc, n, D, D, AI_TYPE_F32, 0.125f, s1);
        ai__attention_f16_tiled(got, qq, kct, T, vc, n, D, D, 0.125f, sc);
        for (int i = 0; i < D; i++) NEAR(got[i], want[i], 1e-5 * (1 + fabs(want[i])));
        ai__attention_f16(got, qq, kh, vh, n, D, D, 0.125f, s2);
        /* each step rounds the accumulator (relative 2^-11); measured up to
         * 2.9e-3 on these rows, against 1e-7 for the tiled form */
        for (int i = 0; i < D; i++) NEAR(got[i], want[i], 8e-3 + 1e-3 * fabs(want[i]));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rmsnorm),  cmocka_unit_test(test_rmsnorm_rows), cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_swiglu),   cmocka_unit_test(test_rope),
        cmocka_unit_test(test_attention), cmocka_unit_test(test_attention_f16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
