/*
 * test_numerics.c - the rounding points where the kernels follow the peer
 * (llama.cpp on x86) bit for bit, checked on values picked so that the
 * obvious alternative rounds differently.  Each case holds for the scalar
 * reference and for every ISA kernel set the host has.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "kimpl.h"
#include "testutil.h"

static const char *const sets[] = {"ref", "avx2", "avx512", "neon"};

/*
 * Q8_0 activations: q = nearest(x * (127/amax)).  With amax = 0x1.e8feb6p+1
 * (3.8202732) the scale 127/amax is 33.243694 while 1/(amax/127) is
 * 33.2437, and x = 0x1.f48bcap-1 (0.977629) gives 32.49999 against 32.50004:
 * q = 32, not 33.  Likewise amax 0x1.fb4ceep+0, x 0x1.3b909cp-1: 40, not 39.
 */
static void test_q8_0_scale(void **state) {
    (void)state;
    static const struct { float amax, x; int q; } cases[] = {
        {0x1.e8feb6p+1f, 0x1.f48bcap-1f, 32}, {0x1.fb4ceep+0f, 0x1.3b909cp-1f, 40}};
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        const ai__kset *ks = ai__kset_by_name(sets[s]);
        if (!ks) continue;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            float x[64] = {0};
            x[3] = cases[c].amax;
            x[7] = cases[c].x;
            x[40] = -cases[c].x; /* second block: amax is x itself -> 127 */
            uint8_t act[256];
            ks->act[ACT_Q8_32](x, act, 64);
            if (act_q(act)[7] != cases[c].q)
                print_error("%s: q = %d, want %d\n", sets[s], act_q(act)[7], cases[c].q);
            assert_int_equal(act_q(act)[7], cases[c].q);
            assert_int_equal(act_q(act)[3], 127);
            assert_int_equal(act_q(act)[40], -127);
        }
    }
}

/* The peer's exp: exact at 0, within 2.5 ulp of the true value (its own
 * bound is 1.45 + 0.5 ulp; measured 2.09 against the ulp above the result), 0 and inf
 * past its range, NaN through. */
static void test_peer_exp(void **state) {
    (void)state;
    const ai__peer_ops *p = &ai__kset_ref.peer;
    float x[6] = {0.0f, -INFINITY, INFINITY, -150.0f, 100.0f, NAN}, y[6];
    p->exp(x, y, 6);
    assert_true(y[0] == 1.0f && y[1] == 0.0f && isinf(y[2]) && y[3] == 0.0f && isinf(y[4]) && isnan(y[5]));
    uint64_t st = 5;
    for (int i = 0; i < 20000; i++) {
        float v = tu_randf(&st) * 40.0f, e;
        p->exp(&v, &e, 1);
        double t = exp((double)v);
        double ulp = nextafterf((float)t, INFINITY) - (float)t;
        if (fabs(e - t) > 2.5 * ulp) print_error("exp(%a) = %a, true %a (%g ulp)\n", v, e, t, fabs(e - t) / ulp);
        assert_true(fabs(e - t) <= 2.5 * ulp);
    }
}

static void fill(float *x, int64_t n, float scale, uint64_t *st) {
    for (int64_t i = 0; i < n; i++) x[i] = tu_randf(st) * scale;
}

/* Every kernel set's pieces give the reference's bits (odd lengths for the
 * tails, large arguments for the exp's scalar fallback, values that make
 * the f16 accumulator round). */
static void test_peer_ops_bits(void **state) {
    (void)state;
    const ai__peer_ops *r = &ai__kset_ref.peer;
    enum { N = 203, HD = 72, NT = 61 };
    static float a[N], b[N], c[N], d[N], kt[HD * 64], q[HD], pr[NT], v[NT * HD], acc1[HD], acc2[HD];
    static uint16_t ha[N], hb[N], y1[N], y2[N];
    uint64_t st = 17;
    for (size_t si = 1; si < sizeof sets / sizeof sets[0]; si++) {
        const ai__kset *ks = ai__kset_by_name(sets[si]);
        if (!ks) continue;
        const ai__peer_ops *o = &ks->peer;
        for (int rep = 0; rep < 20; rep++) {
            float sc = rep % 4 == 3 ? 150.0f : 4.0f; /* 150: past the exp's range */
            fill(a, N, sc, &st);
            fill(b, N, 3.0f, &st);
            for (int i = 0; i < N; i++) ha[i] = ai__f32_to_f16(a[i]), hb[i] = ai__f32_to_f16(b[i]);
            for (int n = 1; n <= N; n += 29) {
                float x = r->dot_f16(ha, hb, n), y = o->dot_f16(ha, hb, n);
                assert_memory_equal(&x, &y, sizeof x);
            }
            float x = r->dot_f16(ha, hb, 192), y = o->dot_f16(ha, hb, 192);
            assert_memory_equal(&x, &y, sizeof x);
            memcpy(y1, ha, sizeof y1);
            memcpy(y2, ha, sizeof y2);
            r->mad_f16(y1, hb, 0.3137f, N);
            o->mad_f16(y2, hb, 0.3137f, N);
            r->scale_f16(y1, 0.77f, N - 2);
            o->scale_f16(y2, 0.77f, N - 2);
            assert_memory_equal(y1, y2, sizeof y1);
            r->exp(a, c, N);
            o->exp(a, d, N);
            assert_memory_equal(c, d, sizeof c);
            memcpy(c, a, sizeof c);
            memcpy(d, a, sizeof d);
            r->swiglu(c, b, N);
            o->swiglu(d, b, N);
            assert_memory_equal(c, d, sizeof c);
            fill(kt, HD * 64, 1.0f, &st);
            fill(q, HD, 2.0f, &st);
            r->kq(q, kt, 64, HD, NT, c);
            o->kq(q, kt, 64, HD, NT, d);
            assert_memory_equal(c, d, NT * sizeof *c);
            fill(pr, NT, 1.0f, &st);
            fill(v, NT * HD, 3.0f, &st);
            fill(acc1, HD, 1.0f, &st);
            memcpy(acc2, acc1, sizeof acc2);
            r->pv(acc1, pr, v, NT, HD);
            o->pv(acc2, pr, v, NT, HD);
            assert_memory_equal(acc1, acc2, sizeof acc1);
            /* the whole one-query attention, over 1..N keys of HD dims */
            static uint16_t kh[N * HD], vh[N * HD], scr[2 * HD];
            for (int i = 0; i < N * HD; i++) {
                kh[i] = ai__f32_to_f16(tu_randf(&st));
                vh[i] = ai__f32_to_f16(tu_randf(&st) * 3.0f);
            }
            for (int n = 1; n <= N; n += 50) {
                r->attn_f16(acc1, q, kh, vh, n, HD, HD, 0.125f, scr);
                o->attn_f16(acc2, q, kh, vh, n, HD, HD, 0.125f, scr);
                assert_memory_equal(acc1, acc2, sizeof acc1);
            }
        }
    }
}

/* A block of queries (attn_f16_rows, and ai__peer_attn_f16_rows with the
 * chosen set) gives, for every query, the bits of the one-query attention
 * of the reference alone: head sizes of one and more 64-steps, value sizes
 * the kernel unrolls (128) or not, several blocks of positions, and scores
 * from small to large (large ones move the running max often). */
static void test_peer_attn_rows(void **state) {
    (void)state;
    enum { NKV = 80, NB = 23, NG = 4 };
    static const int64_t hds[][2] = {{64, 64}, {128, 128}, {192, 80}, {72, 72}};
    static uint16_t kh[(NKV + NB) * 192], vh[(NKV + NB) * 128], scr1[512];
    static float q[NB * NG * 192], out1[NB * NG * 128], out2[NB * NG * 128], scr[1 << 16];
    uint64_t st = 99;
    for (size_t si = 0; si < sizeof sets / sizeof sets[0] + 1; si++) {
        /* the last round: the entry point with the process's set */
        const ai__kset *ks = si < sizeof sets / sizeof sets[0] ? ai__kset_by_name(sets[si]) : NULL;
        if (si < sizeof sets / sizeof sets[0] && (!ks || !ks->attn_f16_rows)) continue;
        for (size_t hi = 0; hi < sizeof hds / sizeof hds[0]; hi++) {
            int64_t hd = hds[hi][0], hdv = hds[hi][1];
            assert_true(!ks || ks->attn_f16_rows_scratch(hd, hdv) <= sizeof scr / sizeof scr[0]);
            assert_true(ai__peer_attn_f16_rows_scratch(hd, hdv) <= sizeof scr / sizeof scr[0]);
            for (int rep = 0; rep < 3; rep++) {
                float qs = rep == 0 ? 0.5f : rep == 1 ? 4.0f : 30.0f;
                for (int i = 0; i < (NKV + NB) * hd; i++) kh[i] = ai__f32_to_f16(tu_randf(&st));
                for (int i = 0; i < (NKV + NB) * hdv; i++) vh[i] = ai__f32_to_f16(tu_randf(&st) * 3.0f);
                fill(q, NB * NG * hd, qs, &st);
                static const int64_t shapes[][3] = {{1, 1, 1}, {5, 2, 17}, {NB, 2, 40}, {NB, 1, 3}, {9, NG, 80}};
                for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
                    int64_t nb = shapes[c][0], ng = shapes[c][1], n0 = shapes[c][2];
                    int64_t ldq = ng * hd + 8, ldo = ng * hdv + 16; /* strides wider than the rows */
                    memset(out1, 0, sizeof out1);
                    memset(out2, 0, sizeof out2);
                    for (int64_t b = 0; b < nb; b++)
                        for (int64_t g = 0; g < ng; g++)
                            ai__kset_ref.peer.attn_f16(out1 + b * ldo + g * hdv, q + b * ldq + g * hd, kh, vh,
                                                       n0 + b, hd, hdv, 0.125f, scr1);
                    if (ks) {
                        int done = ks->attn_f16_rows(out2, ldo, q, ldq, nb, ng, kh, vh, n0, hd, hdv, 0.125f, scr);
                        if (hd % 64) { /* not a shape the blocked kernel takes */
                            assert_int_equal(done, 0);
                            continue;
                        }
                        assert_int_equal(done, 1);
                    } else {
                        ai__peer_attn_f16_rows(out2, ldo, q, ldq, nb, ng, kh, vh, n0, hd, hdv, 0.125f, scr);
                    }
                    for (int64_t b = 0; b < nb; b++)
                        assert_memory_equal(out1 + b * ldo, out2 + b * ldo, (size_t)(ng * hdv) * sizeof *out1);
                }
            }
        }
    }
}

/* RoPE: every set's bits are the reference's (fused forms, both pairings,
 * partial rotation, pair counts with a tail), and the reference's are
 * hand-checkable: a quarter turn maps (x0, x1) to (-x1, x0). */
static void test_rope_bits(void **state) {
    (void)state;
    enum { HD = 136, NH = 3 };
    static float x[NH * HD], y1[NH * HD], y2[NH * HD], cs[HD];
    uint64_t st = 7;
    float q[4] = {1.5f, -2.0f, 0.25f, 3.0f}, cq[4] = {0.0f, 1.0f, 0.0f, 1.0f}; /* cos 0, sin 1 */
    ai__kset_ref.rope(q, 1, 4, 4, 0, cq);
    assert_true(q[0] == 2.0f && q[1] == 1.5f && q[2] == -3.0f && q[3] == 0.25f);
    for (size_t si = 1; si < sizeof sets / sizeof sets[0]; si++) {
        const ai__kset *ks = ai__kset_by_name(sets[si]);
        if (!ks) continue;
        for (int rep = 0; rep < 10; rep++) {
            fill(x, NH * HD, 50.0f, &st);
            fill(cs, HD, 1.0f, &st);
            static const int64_t rots[] = {HD, HD - 8, 40, 2};
            for (size_t ri = 0; ri < sizeof rots / sizeof rots[0]; ri++)
                for (int neox = 0; neox < 2; neox++) {
                    memcpy(y1, x, sizeof x);
                    memcpy(y2, x, sizeof x);
                    ai__kset_ref.rope(y1, NH, HD, rots[ri], neox, cs);
                    ks->rope(y2, NH, HD, rots[ri], neox, cs);
                    assert_memory_equal(y1, y2, sizeof y1);
                }
        }
    }
}

/* Half-precision accumulation: lane 0 gets 2048*1, then 1*1; in f16
 * 2048 + 1 rounds back to 2048 (its spacing there is 2), where a float
 * sum gives 2049.  Past the 128-value blocks the rest adds in double. */
static void test_peer_dot_f16h(void **state) {
    (void)state;
    static uint16_t a[260], b[260];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    a[0] = ai__f32_to_f16(2048.0f), b[0] = ai__f32_to_f16(1.0f);
    a[128] = b[128] = ai__f32_to_f16(1.0f);
    a[259] = b[259] = ai__f32_to_f16(0.5f); /* in the double tail */
    for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
        const ai__kset *ks = ai__kset_by_name(sets[si]);
        if (!ks) continue;
        assert_true(ks->peer.dot_f16h(a, b, 256) == 2048.0f);
        assert_true(ks->peer.dot_f16h(a, b, 260) == 2048.25f);
        assert_true(ks->peer.dot_f16(a, b, 256) == 2049.0f);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q8_0_scale),
        cmocka_unit_test(test_peer_exp),
        cmocka_unit_test(test_peer_ops_bits),
        cmocka_unit_test(test_peer_dot_f16h),
        cmocka_unit_test(test_peer_attn_rows),
        cmocka_unit_test(test_rope_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
