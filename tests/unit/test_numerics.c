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


/* ---- Q4_0 and Q4_K in the peer's repacked order (kimpl.h, ai__peer_ops) ---- */

/* A Q4_0 row of 2 blocks with one non-zero product each, against a
 * hand-built ACT_Q8_32 row (q | d | s):
 *   block 0: d_w = 1, d_a = 1.3125, (10-8) * 96 = 192 -> 252 exactly;
 *   block 1: d_w = f16 0x384E = 0.5380859375, d_a = 1.9091796875 (their
 *            product 1077205/2^20 is exact), (10-8) * -121 = -242.
 * The peer's chain fma(-242, 1077205/2^20, 252) rounds once, and the exact
 * value 1778771/2^19 = 0x1.b2453p+1 is a float; rounding the product
 * first (-248.60727 = -0x1.f136ecp+7) gives 0x1.b245p+1, which is what
 * the default kernel's "product, then add" returns. */
static void test_peer_q4_0_order(void **state) {
    (void)state;
    uint8_t w[36];
    memset(w, 0x88, sizeof w); /* nibbles 8: zero weights */
    w[0] = 0x00, w[1] = 0x3C;  /* f16 1.0 */
    w[18] = 0x4E, w[19] = 0x38;
    w[2] = 0x8A;               /* element 0 of block 0: 10 */
    w[20] = 0x8A;              /* element 0 of block 1: 10 */
    _Alignas(64) uint8_t act[128];
    memset(act, 0, sizeof act);
    ((int8_t *)act)[0] = 96;
    ((int8_t *)act)[32] = -121;
    float d[2] = {1.3125f, 1.9091796875f};
    memcpy(act + 64, d, sizeof d);
    for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
        const ai__kset *ks = ai__kset_by_name(sets[si]);
        if (!ks) continue;
        float y = 0;
        ks->peer.q4_0(w, 18, 1, act, 64, &y);
        assert_true(y == 0x1.b2453p+1f);
    }
    assert_true(ai__kset_ref.ops[AI_TYPE_Q4_0].dot(w, act, 64) == 0x1.b245p+1f);
}

/* Packs 8 six-bit scales and mins as k4_scale_min reads them. */
static void k4_pack(const int sc[8], const int m[8], uint8_t q[12]) {
    for (int j = 0; j < 4; j++) {
        q[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        q[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        q[j + 8] = (uint8_t)((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
    }
}

/*
 * One Q4_K super-block with one non-zero product per sub-block (element 0
 * of each, weight q_s, activation a_s): S_s = sc_s q_s a_s, M_s = m_s a_s,
 * dd = d_w*d_a, dm = dmin_w*d_a rounded to float.  The peer's matrix
 * kernel (tile 1) chains four fmas per accumulator, one per pair of
 * sub-blocks; its matrix-vector kernel (tile 0, and our default) one over
 * the whole sums.  Expected values from exact rational arithmetic, rounded
 * to nearest even after each operation (the numbers came from a random
 * search for a case where the two differ): 0x1.788e7cp+2 and 0x1.788e78p+2.
 */
static void test_peer_q4_k_order(void **state) {
    (void)state;
    static const int sc[8] = {8, 1, 60, 33, 29, 24, 60, 60}, mn[8] = {50, 19, 29, 19, 49, 1, 8, 20};
    static const int q[8] = {1, 9, 0, 8, 15, 12, 13, 12}, a[8] = {59, 78, 20, -14, 119, 112, -93, 97};
    uint8_t w[144];
    memset(w, 0, sizeof w);
    w[0] = 6767 & 0xFF, w[1] = 6767 >> 8; /* d_w = 0.0031414032 */
    w[2] = 7690 & 0xFF, w[3] = 7690 >> 8; /* dmin_w = 0.0058975220 */
    k4_pack(sc, mn, w + 4);
    for (int s = 0; s < 8; s++) w[16 + 32 * (s / 2)] |= (uint8_t)(q[s] << (4 * (s % 2)));
    _Alignas(64) uint8_t act[512];
    memset(act, 0, sizeof act);
    float da = 0x1.0fa022p-5f;
    memcpy(act + 256, &da, 4);
    int16_t *bs = (int16_t *)(act + 260);
    for (int s = 0; s < 8; s++) {
        ((int8_t *)act)[32 * s] = (int8_t)a[s];
        bs[2 * s] = (int16_t)a[s];
    }
    for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
        const ai__kset *ks = ai__kset_by_name(sets[si]);
        if (!ks) continue;
        float y1 = 0, y0 = 0;
        ks->peer.q4_k(w, 144, 1, act, 256, &y1, 1);
        ks->peer.q4_k(w, 144, 1, act, 256, &y0, 0);
        assert_true(y1 == 0x1.788e7cp+2f);
        assert_true(y0 == 0x1.788e78p+2f);
    }
    assert_true(ai__kset_ref.ops[AI_TYPE_Q4_K].dot(w, act, 256) == 0x1.788e78p+2f);
}

/*
 * Random rows: every set's peer kernels give the bits of the order written
 * out here from the layouts (kimpl.h, kquants.c), over lengths with a
 * partial group of Q4_0 blocks and several Q4_K super-blocks.  The orders
 * must also matter on such data (else this test could not tell them apart):
 * some rows differ from the default kernel, and Q4_K's tile 1 from tile 0.
 */
static float hand_q4_0(const uint8_t *b, const uint8_t *act, int64_t k) {
    float acc = 0.0f;
    for (int64_t i = 0; i < k / 32; i++, b += 18) {
        int32_t is = 0;
        for (int e = 0; e < 32; e++) {
            int n = e < 16 ? (b[2 + e] & 0xF) : (b[2 + e - 16] >> 4);
            is += (n - 8) * act_q(act)[32 * i + e];
        }
        acc = fmaf((float)is, ai__f16_to_f32(rd16(b)) * act_d(act, k)[i], acc);
    }
    return acc;
}

static float hand_iq4_nl(const uint8_t *b, const uint8_t *act, int64_t k) {
    float acc = 0.0f;
    for (int64_t i = 0; i < k / 32; i++, b += 18) {
        int32_t is = 0;
        for (int e = 0; e < 32; e++) {
            int n = e < 16 ? (b[2 + e] & 0xF) : (b[2 + e - 16] >> 4);
            is += ai__iq4nl_values[n] * act_q(act)[32 * i + e];
        }
        acc = fmaf((float)is, ai__f16_to_f32(rd16(b)) * act_d(act, k)[i], acc);
    }
    return acc;
}

static float hand_q4_k(const uint8_t *b, const uint8_t *act, int64_t k, int tile) {
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < k / 256; i++, b += 144) {
        float dd = ai__f16_to_f32(rd16(b)) * act_d(act, k)[i];
        float dm = ai__f16_to_f32(rd16(b + 2)) * act_d(act, k)[i];
        int32_t S = 0, M = 0;
        for (int s = 0; s < 8; s++) {
            uint8_t sc, m;
            k4_scale_min(s, b + 4, &sc, &m);
            int32_t dot = 0, asum = 0;
            for (int e = 0; e < 32; e++) {
                int n = (b[16 + 32 * (s / 2) + e] >> (4 * (s % 2))) & 0xF;
                int8_t av = act_q(act)[256 * i + 32 * s + e];
                dot += n * av;
                asum += av;
            }
            S += sc * dot;
            M += m * asum;
            if (s == 7 || (tile && s % 2 == 1)) {
                acc = fmaf((float)S, dd, acc);
                accm = fmaf((float)M, dm, accm);
                S = M = 0;
            }
        }
    }
    return acc - accm;
}

static void test_peer_q4_random(void **state) {
    (void)state;
    enum { R = 9, K0 = 352, KK = 768 }; /* 11 Q4_0 blocks; 3 Q4_K super-blocks */
    static float x[R * KK], xa[KK], y[R];
    static uint8_t w0[R * 18 * (K0 / 32)], wn[R * 18 * (K0 / 32)], wk[R * 144 * (KK / 256)];
    _Alignas(64) static uint8_t a0[2048], ak[2048];
    uint64_t st = 99;
    int differs0 = 0, differs_k = 0, differs_tile = 0;
    for (int rep = 0; rep < 8; rep++) {
        fill(x, R * KK, 1.0f, &st);
        fill(xa, KK, 2.0f, &st);
        ai__kset_ref.ops[AI_TYPE_Q4_0].quant(x, w0, R * K0);
        ai__kset_ref.ops[AI_TYPE_IQ4_NL].quant(x, wn, R * K0);
        ai__kset_ref.ops[AI_TYPE_Q4_K].quant(x, wk, R * KK);
        ai__kset_ref.act[ACT_Q8_32](xa, a0, K0);
        ai__kset_ref.act[ACT_Q8_256](xa, ak, KK);
        for (int r = 0; r < R; r++) {
            float h0 = hand_q4_0(w0 + r * 18 * (K0 / 32), a0, K0);
            float h1 = hand_q4_k(wk + r * 144 * (KK / 256), ak, KK, 1);
            float h2 = hand_q4_k(wk + r * 144 * (KK / 256), ak, KK, 0);
            differs0 += h0 != ai__kset_ref.ops[AI_TYPE_Q4_0].dot(w0 + r * 18 * (K0 / 32), a0, K0);
            differs_k += h2 != ai__kset_ref.ops[AI_TYPE_Q4_K].dot(wk + r * 144 * (KK / 256), ak, KK);
            differs_tile += h1 != h2;
        }
        for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
            const ai__kset *ks = ai__kset_by_name(sets[si]);
            if (!ks) continue;
            ks->peer.q4_0(w0, 18 * (K0 / 32), R, a0, K0, y);
            for (int r = 0; r < R; r++) {
                float h = hand_q4_0(w0 + r * 18 * (K0 / 32), a0, K0);
                assert_memory_equal(&h, &y[r], sizeof h);
            }
            ks->peer.iq4_nl(wn, 18 * (K0 / 32), R, a0, K0, y);
            for (int r = 0; r < R; r++) {
                float h = hand_iq4_nl(wn + r * 18 * (K0 / 32), a0, K0);
                assert_memory_equal(&h, &y[r], sizeof h);
            }
            for (int tile = 0; tile < 2; tile++) {
                ks->peer.q4_k(wk, 144 * (KK / 256), R, ak, KK, y, tile);
                for (int r = 0; r < R; r++) {
                    float h = hand_q4_k(wk + r * 144 * (KK / 256), ak, KK, tile);
                    assert_memory_equal(&h, &y[r], sizeof h);
                }
            }
        }
    }
    print_message("of %d rows: Q4_0 peer != default %d, Q4_K peer != default %d, tile 1 != tile 0 %d\n",
                  8 * R, differs0, differs_k, differs_tile);
    assert_true(differs0 > 0 && differs_k > 0 && differs_tile > 0);
}

/*
 * Q8_0 in the peer's order (kimpl.h ai__peer_ops q8_0): per block 8 int32
 * lanes of 4 products, one fma per lane and block, then x86_base.h's hsum.
 * The x86 sets give it: the AVX-512 set through peer.q8_0 (its own kernels
 * sum 16 blocks per lane instead, x86_q40.h, so some rows must differ), the
 * AVX2 set through its own Q8_0 kernels (peer.q8_0 NULL); and a peer-mode
 * workspace takes it for Q8_0 products when the chosen set is one of them.
 */
static float hand_q8_0(const uint8_t *b, const uint8_t *act, int64_t k) {
    float acc[8] = {0};
    for (int64_t i = 0; i < k / 32; i++, b += 34) {
        float d = ai__f16_to_f32(rd16(b)) * act_d(act, k)[i];
        for (int j = 0; j < 8; j++) {
            int32_t is = 0;
            for (int e = 4 * j; e < 4 * j + 4; e++) is += (int8_t)b[2 + e] * act_q(act)[32 * i + e];
            acc[j] = fmaf((float)is, d, acc[j]);
        }
    }
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

static void test_peer_q8_0(void **state) {
    (void)state;
    enum { R = 9, K = 352, NB = 6, AS = 448 }; /* 11 blocks; AS >= the act row size, a multiple of 64 */
    static float x[R * K], xa[NB * K], y[NB * R];
    static uint8_t w[R * 34 * (K / 32)];
    _Alignas(64) static uint8_t act[NB * AS];
    assert_true(ai__act_row_size(ACT_Q8_32, K) <= AS);
    static const char *const x86[] = {"avx2", "avx512"};
    uint64_t st = 31;
    int differs = 0, tested = 0;
    for (int rep = 0; rep < 8; rep++) {
        fill(x, R * K, 1.0f, &st);
        fill(xa, NB * K, 2.0f, &st);
        ai__kset_ref.ops[AI_TYPE_Q8_0].quant(x, w, R * K);
        for (int b = 0; b < NB; b++) ai__kset_ref.act[ACT_Q8_32](xa + b * K, act + b * AS, K);
        for (size_t si = 0; si < 2; si++) {
            const ai__kset *ks = ai__kset_by_name(x86[si]);
            if (!ks) continue;
            tested++;
            if (ks->peer.q8_0) ks->peer.q8_0(w, 34 * (K / 32), R, act, AS, NB, K, y, R);
            else ks->ops[AI_TYPE_Q8_0].gemm(w, 34 * (K / 32), R, act, AS, NB, K, y, R);
            for (int b = 0; b < NB; b++)
                for (int r = 0; r < R; r++) {
                    float h = hand_q8_0(w + r * 34 * (K / 32), act + b * AS, K);
                    assert_memory_equal(&h, &y[b * R + r], sizeof h);
                    if (ks->peer.q8_0)
                        differs += h != ks->ops[AI_TYPE_Q8_0].dot(w + r * 34 * (K / 32), act + b * AS, K);
                }
        }
        const char *chosen = ai__kernels_name();
        if (strcmp(chosen, "avx2") && strcmp(chosen, "avx512")) continue;
        ai__mm_ws *ws = NULL;
        assert_int_equal(ai__mm_ws_new(&ws), AI_OK);
        ai__mm_ws_set_peer(ws, 1);
        assert_int_equal(ai__matmul_ws(NULL, ws, AI_TYPE_Q8_0, w, R, K, xa, NB, y, R), AI_OK);
        for (int b = 0; b < NB; b++) {
            ai__kset_ref.act[ACT_Q8_32](xa + b * K, act, K);
            for (int r = 0; r < R; r++) {
                float h = hand_q8_0(w + r * 34 * (K / 32), act, K);
                assert_memory_equal(&h, &y[b * R + r], sizeof h);
            }
        }
        ai__mm_ws_free(ws);
    }
    if (!tested) skip();
    print_message("of %d rows: Q8_0 peer != the AVX-512 default %d\n", 8 * R * NB, differs);
    if (ai__kset_by_name("avx512")) assert_true(differs > 0);
}

/*
 * Through the matmul: in a workspace in peer mode, the batch rows below the
 * last multiple of 4 get Q4_K's tile 1 and the rest tile 0 (6 rows: 4 and
 * 2), Q4_0 and IQ4_NL the same chain for all; a workspace left alone gives
 * ai__matmul's results (the default kernels), and so does a peer-mode one
 * for a row count that is not a multiple of 8 (the peer repacks none).
 */
static void test_peer_matmul_rows(void **state) {
    (void)state;
    enum { R = 24, K = 512, NB = 6 };
    static float x[R * K], xa[NB * K], y[NB * R], ref[NB * R], one[R];
    static uint8_t w[R * 144 * 2];
    _Alignas(64) static uint8_t act[2048];
    uint64_t st = 7;
    fill(x, R * K, 1.0f, &st);
    fill(xa, NB * K, 3.0f, &st);
    const ai__kset *ks = ai__kset_get();
    ai__mm_ws *ws = NULL;
    assert_int_equal(ai__mm_ws_new(&ws), AI_OK);
    static const uint32_t types[3] = {AI_TYPE_Q4_0, AI_TYPE_IQ4_NL, AI_TYPE_Q4_K};
    for (int t = 0; t < 3; t++) {
        uint32_t type = types[t];
        size_t rs = ai__row_size(type, K);
        ai__kset_ref.ops[type].quant(x, w, R * K);
        ai__mm_ws_set_peer(ws, 0);
        assert_int_equal(ai__matmul_ws(NULL, ws, type, w, R, K, xa, NB, y, R), AI_OK);
        assert_int_equal(ai__matmul(NULL, type, w, R, K, xa, NB, ref, R), AI_OK);
        assert_memory_equal(y, ref, sizeof y);
        ai__mm_ws_set_peer(ws, 1);
        assert_int_equal(ai__matmul_ws(NULL, ws, type, w, R - 4, K, xa, NB, y, R), AI_OK);
        assert_int_equal(ai__matmul(NULL, type, w, R - 4, K, xa, NB, ref, R), AI_OK);
        for (int b = 0; b < NB; b++) assert_memory_equal(y + b * R, ref + b * R, (R - 4) * sizeof *y);
        assert_int_equal(ai__matmul_ws(NULL, ws, type, w, R, K, xa, NB, y, R), AI_OK);
        int differ = 0;
        for (int b = 0; b < NB; b++) {
            ks->act[ks->ops[type].act](xa + b * K, act, K);
            if (type == AI_TYPE_Q4_K) ks->peer.q4_k(w, rs, R, act, K, one, b < 4);
            else if (type == AI_TYPE_Q4_0) ks->peer.q4_0(w, rs, R, act, K, one);
            else ks->peer.iq4_nl(w, rs, R, act, K, one);
            assert_memory_equal(y + b * R, one, sizeof one);
            differ += memcmp(y + b * R, ref + b * R, sizeof one) != 0;
        }
        assert_true(differ > 0); /* the peer's order is not the default one here */
    }
    ai__mm_ws_free(ws);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q8_0_scale),
        cmocka_unit_test(test_peer_exp),
        cmocka_unit_test(test_peer_ops_bits),
        cmocka_unit_test(test_peer_dot_f16h),
        cmocka_unit_test(test_peer_q4_0_order),
        cmocka_unit_test(test_peer_q4_k_order),
        cmocka_unit_test(test_peer_q4_random),
        cmocka_unit_test(test_peer_q8_0),
        cmocka_unit_test(test_peer_matmul_rows),
        cmocka_unit_test(test_peer_attn_rows),
        cmocka_unit_test(test_rope_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
