/*
 * peer_x86.h - the peer-rounding pieces (ai__peer_ops, kimpl.h) for the x86
 * builds, included by x86_kern.h.  Eight float lanes in both builds; every
 * lane runs the reference's exact sequence of correctly rounded operations
 * (kernels/ref/peer.c), so results are bit-identical to it.  The AVX-512
 * build scales the exp by 2^r with vscalefps; the AVX2 one builds 2^r from
 * its bits and leaves the rare vectors with |r| > 126 to the scalar code.
 */
#include "ref/ref.h"

#include <math.h>
#include <string.h>

INLINE float peer_dot_f16_i(const uint16_t *a, const uint16_t *b, int64_t n) {
    int64_t np = n & ~(int64_t)63;
    double sum = 0.0;
    if (np) {
        /* acc[2j], acc[2j+1]: lanes 0..7 and 8..15 of accumulator j */
        __m256 acc[8];
        for (int g = 0; g < 8; g++) acc[g] = _mm256_setzero_ps();
        for (int64_t i = 0; i < np; i += 64)
            for (int g = 0; g < 8; g++)
                acc[g] = _mm256_fmadd_ps(ld_f16((const uint8_t *)(a + i + 8 * g)),
                                         ld_f16((const uint8_t *)(b + i + 8 * g)), acc[g]);
        for (int g = 0; g < 4; g++) acc[g] = _mm256_add_ps(acc[g], acc[g + 4]);
        acc[0] = _mm256_add_ps(acc[0], acc[2]);
        acc[1] = _mm256_add_ps(acc[1], acc[3]);
        __m256 t8 = _mm256_add_ps(acc[0], acc[1]);
        __m128 t4 = _mm_add_ps(_mm256_castps256_ps128(t8), _mm256_extractf128_ps(t8, 1));
        __m128 t2 = _mm_add_ps(t4, _mm_movehl_ps(t4, t4));
        sum = (double)_mm_cvtss_f32(_mm_add_ss(t2, _mm_movehdup_ps(t2)));
    }
    for (int64_t i = np; i < n; i++) sum += (double)(_cvtsh_ss(a[i]) * _cvtsh_ss(b[i]));
    return (float)sum;
}

INLINE void peer_mad_f16_i(uint16_t *y, const uint16_t *v, float s, int64_t n) {
    __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 r = _mm256_fmadd_ps(ld_f16((const uint8_t *)(v + i)), vs, ld_f16((const uint8_t *)(y + i)));
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(r, _MM_FROUND_TO_NEAREST_INT));
    }
    if (i < n) ai__ref_peer_mad_f16(y + i, v + i, s, n - i);
}

INLINE void peer_scale_f16_i(uint16_t *y, float s, int64_t n) {
    __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 r = _mm256_mul_ps(ld_f16((const uint8_t *)(y + i)), vs);
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(r, _MM_FROUND_TO_NEAREST_INT));
    }
    if (i < n) ai__ref_peer_scale_f16(y + i, s, n - i);
}

/* 8 lanes of ai__ref_peer_exp1; returns 0 when a lane needs the scalar
 * code (AVX2 build, 2^r outside the normal range). */
INLINE int peer_exp8(__m256 x, __m256 *out) {
    const __m256 shift = _mm256_set1_ps(0x1.8p23f);
    __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shift);
    __m256 r = _mm256_sub_ps(z, shift);
    __m256 b = _mm256_fnmadd_ps(r, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                _mm256_fnmadd_ps(r, _mm256_set1_ps(0x1.62e4p-1f), x));
    __m256 u = _mm256_mul_ps(b, b);
    __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
    __m256 ar = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), r);
#if ISA_VNNI
    __m256 res = _mm256_scalef_ps(j, r);
    __m256 big = _mm256_cmp_ps(ar, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
    if (!_mm256_movemask_ps(big)) {
        *out = res;
        return 1;
    }
    __m256 alt = _mm256_blendv_ps(_mm256_set1_ps(INFINITY), _mm256_setzero_ps(),
                                  _mm256_cmp_ps(r, _mm256_setzero_ps(), _CMP_LE_OQ));
    *out = _mm256_blendv_ps(res, alt, big);
    return 1;
#else
    /* 2^r from its exponent bits while every lane is in the normal range */
    if (_mm256_movemask_ps(_mm256_cmp_ps(ar, _mm256_set1_ps(126.0f), _CMP_NLE_UQ))) return 0;
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(r), _mm256_set1_epi32(127)), 23);
    *out = _mm256_mul_ps(j, _mm256_castsi256_ps(e));
    return 1;
#endif
}

static float peer_dot_f16(const uint16_t *a, const uint16_t *b, int64_t n) { return peer_dot_f16_i(a, b, n); }
static void peer_mad_f16(uint16_t *y, const uint16_t *v, float s, int64_t n) { peer_mad_f16_i(y, v, s, n); }
static void peer_scale_f16(uint16_t *y, float s, int64_t n) { peer_scale_f16_i(y, s, n); }

static void peer_exp(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 r;
        if (peer_exp8(_mm256_loadu_ps(x + i), &r)) _mm256_storeu_ps(y + i, r);
        else ai__ref_peer_exp(x + i, y + i, 8);
    }
    if (i < n) ai__ref_peer_exp(x + i, y + i, n - i);
}

static void peer_swiglu(float *x, const float *y, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), e;
        if (!peer_exp8(_mm256_sub_ps(_mm256_setzero_ps(), v), &e)) {
            ai__ref_peer_swiglu(x + i, y + i, 8);
            continue;
        }
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_div_ps(v, _mm256_add_ps(one, e)), _mm256_loadu_ps(y + i)));
    }
    if (i < n) ai__ref_peer_swiglu(x + i, y + i, n - i);
}

static void peer_kq(const float *q, const float *k, int64_t ld, int64_t hd, int64_t nt, float *out) {
    int64_t t = 0;
    for (; t + 16 <= nt; t += 16) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        for (int64_t d = 0; d < hd; d++) {
            __m256 qd = _mm256_set1_ps(q[d]);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(k + d * ld + t), qd, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(k + d * ld + t + 8), qd, a1);
        }
        _mm256_storeu_ps(out + t, a0);
        _mm256_storeu_ps(out + t + 8, a1);
    }
    if (t < nt) ai__ref_peer_kq(q, k + t, ld, hd, nt - t, out + t);
}

static void peer_pv(float *acc, const float *p, const float *v, int64_t nt, int64_t dv) {
    int64_t d = 0;
    for (; d + 8 <= dv; d += 8) {
        __m256 a = _mm256_loadu_ps(acc + d);
        for (int64_t t = 0; t < nt; t++) a = _mm256_fmadd_ps(_mm256_loadu_ps(v + t * dv + d), _mm256_set1_ps(p[t]), a);
        _mm256_storeu_ps(acc + d, a);
    }
    for (; d < dv; d++) {
        float a = acc[d];
        for (int64_t t = 0; t < nt; t++) a = fmaf(v[t * dv + d], p[t], a);
        acc[d] = a;
    }
}

static void peer_attn_f16(float *out, const float *q, const uint16_t *k, const uint16_t *v,
                          int64_t n_kv, int64_t hd, int64_t hdv, float scale, uint16_t *scratch) {
    uint16_t *qh = scratch, *acc = scratch + hd;
    act_f16(q, qh, hd);
    memset(acc, 0, (size_t)hdv * sizeof *acc);
    float S = 0.0f, M = -INFINITY;
    for (int64_t t = 0; t < n_kv; t++) {
        float s = peer_dot_f16_i(qh, k + t * hd, hd) * scale;
        float ms = 1.0f, vs = 1.0f;
        if (s > M) { /* new max: what is summed so far shrinks by e^(M - s) */
            ms = expf(M - s);
            M = s;
            peer_scale_f16_i(acc, ms, hdv);
        } else {
            vs = expf(s - M);
        }
        peer_mad_f16_i(acc, v + t * hdv, vs, hdv);
        S = fmaf(S, ms, vs);
    }
    float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int64_t d = 0; d < hdv; d++) out[d] = ai__f16_to_f32(acc[d]) * inv;
}

/* ---- Q4_0, IQ4_NL and Q4_K in the order of the peer's repacked kernels -----
 * The integer dot products run in vectors (exact, so any order does); the
 * float terms then go through one scalar fma chain per output, the
 * reference's (ref/peer.c) exact sequence of operations. */

/* Eight vectors of 8 int32 lanes -> one vector whose lane i is the sum of
 * p[i]'s lanes. */
INLINE __m256i hsum8x8_epi32(const __m256i p[8]) {
    __m256i t0 = _mm256_hadd_epi32(p[0], p[1]), t1 = _mm256_hadd_epi32(p[2], p[3]);
    __m256i t2 = _mm256_hadd_epi32(p[4], p[5]), t3 = _mm256_hadd_epi32(p[6], p[7]);
    __m256i u0 = _mm256_hadd_epi32(t0, t1), u1 = _mm256_hadd_epi32(t2, t3);
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
}

/* Q4_0 (iq = 0) and IQ4_NL (iq = 1): the same kernel in the peer. */
INLINE void peer_b32(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y, int iq) {
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    int64_t nb = k / 32;
    for (int64_t r = 0; r < nr; r++) {
        const uint8_t *b = (const uint8_t *)w + (size_t)r * ws;
        float acc = 0.0f;
        for (int64_t i = 0; i < nb; i += 8) { /* up to eight blocks' integer sums at a time */
            int n = nb - i < 8 ? (int)(nb - i) : 8;
            __m256i p[8];
            for (int j = 0; j < 8; j++) {
                p[j] = _mm256_setzero_si256();
                if (j >= n) continue;
                __m256i q = iq ? dec_iq4_nl(b + 18 * (i + j)) : dec_q4_0(b + 18 * (i + j));
                p[j] = dot_s8(p[j], _mm256_sign_epi8(q, q), q, load256(qa + 32 * (i + j)));
            }
            int32_t is[8];
            _mm256_storeu_si256((__m256i *)is, hsum8x8_epi32(p));
            for (int j = 0; j < n; j++) acc = fmaf((float)is[j], f16(b + 18 * (i + j)) * da[i + j], acc);
        }
        y[r] = acc;
    }
}

static void peer_q4_0(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y) {
    peer_b32(w, ws, nr, act, k, y, 0);
}

static void peer_iq4_nl(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y) {
    peer_b32(w, ws, nr, act, k, y, 1);
}

static void peer_q4_k(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y, int tile) {
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    const int16_t *bs = act_bs256(act, k);
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    for (int64_t r = 0; r < nr; r++) {
        const uint8_t *b = (const uint8_t *)w + (size_t)r * ws;
        float acc = 0.0f, accm = 0.0f;
        for (int64_t i = 0; i < k / 256; i++, b += 144) {
            const int8_t *a = qa + 256 * i;
            __m256i p[8];
            for (int c = 0; c < 4; c++) { /* chunk c: sub-blocks 2c (low nibbles) and 2c+1 (high) */
                __m256i raw = load256(b + 16 + 32 * c);
                p[2 * c] = dot_u8(_mm256_setzero_si256(), _mm256_and_si256(raw, m4), load256(a + 64 * c));
                p[2 * c + 1] = dot_u8(_mm256_setzero_si256(), _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4),
                                      load256(a + 64 * c + 32));
            }
            uint8_t sc[8], mn[8];
            k4_unpack(b + 4, sc, mn);
            __m256i sc32 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc));
            __m256i mn32 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)mn));
            __m256i asum = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(bs + 16 * i)), ones);
            int32_t is[8], ms[8];
            _mm256_storeu_si256((__m256i *)is, _mm256_mullo_epi32(hsum8x8_epi32(p), sc32));
            _mm256_storeu_si256((__m256i *)ms, _mm256_mullo_epi32(asum, mn32));
            float dd = f16(b) * da[i], dm = f16(b + 2) * da[i];
            if (tile) {
                for (int j = 0; j < 4; j++) {
                    acc = fmaf((float)(is[2 * j] + is[2 * j + 1]), dd, acc);
                    accm = fmaf((float)(ms[2 * j] + ms[2 * j + 1]), dm, accm);
                }
            } else {
                int32_t s = 0, m = 0;
                for (int j = 0; j < 8; j++) s += is[j], m += ms[j];
                acc = fmaf((float)s, dd, acc);
                accm = fmaf((float)m, dm, accm);
            }
        }
        y[r] = acc - accm;
    }
}
