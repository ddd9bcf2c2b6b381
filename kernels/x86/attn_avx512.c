/*
 * attn_avx512.c - blocks of the attention over an f16 cache (kernels.h
 * ai__att_scores_f16, ai__att_wsum_f16) and its softmax (ai__att_softmax)
 * for the AVX-512 set.
 *
 * The per-row way (one query against each key through the F16 dot, then
 * one axpy per key into the output) reloads the query and the output row
 * for every key.  Here register tiles share each load: 4 queries x 6 keys
 * for the scores, 6 queries x 64 output dims for the weighted sums.
 *
 * Exactness.  Every element is computed with the arithmetic of the AVX-512
 * set's per-row kernels (x86_kern.h f16_cols and axpy_f16), so results do
 * not depend on the block:
 *   scores: f16_cols keeps two 8-lane sums, acc0 over elements 16s..16s+7
 *     and acc1 over 16s+8..16s+15, then hsum(acc0 + acc1), then a scalar
 *     tail.  A 512-bit accumulator holds acc0 in its low half and acc1 in
 *     its high half: the same fused multiply-adds lane for lane.
 *   sums: axpy_f16 is y = fma(alpha, v, y) elementwise over 8-lane chunks
 *     and y += alpha * v for the tail; here the same operations on 16 lanes
 *     at a time with y held in registers across keys (t in order).
 */
#include "kimpl.h"

#include <immintrin.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

enum { SQ = 4, SK = 6, WQ = 6, WZ = 4 };

/* hsum of x86_kern.h, the same adds in the same order. */
INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE __m512 ld16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

/* Scores of qn queries x kn keys (at most SQ x SK; constants after
 * inlining for the full tile). */
INLINE void score_tile(const uint16_t *q, int qn, const uint16_t *k, int kn, int64_t d, float *s,
                       int64_t lds) {
    __m512 acc[SQ][SK];
    for (int a = 0; a < qn; a++)
        for (int b = 0; b < kn; b++) acc[a][b] = _mm512_setzero_ps();
    int64_t e = 0;
    for (; e + 16 <= d; e += 16) {
        __m512 kv[SK];
        for (int b = 0; b < kn; b++) kv[b] = ld16(k + b * d + e);
        for (int a = 0; a < qn; a++) {
            __m512 qv = ld16(q + a * d + e);
            for (int b = 0; b < kn; b++) acc[a][b] = _mm512_fmadd_ps(qv, kv[b], acc[a][b]);
        }
    }
    for (int a = 0; a < qn; a++)
        for (int b = 0; b < kn; b++) {
            __m512 v = acc[a][b];
            float r = hsum8(_mm256_add_ps(_mm512_castps512_ps256(v),
                                          _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
            for (int64_t j = e; j < d; j++) r += _cvtsh_ss(q[a * d + j]) * _cvtsh_ss(k[b * d + j]);
            s[a * lds + b] = r;
        }
}

static void att_scores(const uint16_t *q, int64_t nq, const uint16_t *k, int64_t nk, int64_t d, float *s,
                       int64_t lds) {
    int64_t i = 0;
    for (; i + SQ <= nq; i += SQ) {
        const uint16_t *qi = q + i * d;
        float *si = s + i * lds;
        int64_t t = 0;
        for (; t + SK <= nk; t += SK) score_tile(qi, SQ, k + t * d, SK, d, si + t, lds);
        for (; t < nk; t++) score_tile(qi, SQ, k + t * d, 1, d, si + t, lds);
    }
    for (; i < nq; i++) {
        const uint16_t *qi = q + i * d;
        float *si = s + i * lds;
        int64_t t = 0;
        for (; t + SK <= nk; t += SK) score_tile(qi, 1, k + t * d, SK, d, si + t, lds);
        for (; t < nk; t++) score_tile(qi, 1, k + t * d, 1, d, si + t, lds);
    }
}

/* out[r][e .. e+16*nz) for rows [0, rn) of the block, keys [0, n_r). */
INLINE void wsum_tile(const float *p, int64_t lds, const int64_t *n, int rn, const uint16_t *v, int64_t d,
                      int64_t e, int nz, float *const *out) {
    __m512 acc[WQ][WZ];
    for (int r = 0; r < rn; r++)
        for (int z = 0; z < nz; z++) acc[r][z] = _mm512_setzero_ps();
    int64_t nmin = n[0];
    for (int r = 1; r < rn; r++) nmin = n[r] < nmin ? n[r] : nmin;
    for (int64_t t = 0; t < nmin; t++) {
        __m512 vv[WZ];
        for (int z = 0; z < nz; z++) vv[z] = ld16(v + t * d + e + 16 * z);
        for (int r = 0; r < rn; r++) {
            __m512 pb = _mm512_set1_ps(p[r * lds + t]);
            for (int z = 0; z < nz; z++) acc[r][z] = _mm512_fmadd_ps(pb, vv[z], acc[r][z]);
        }
    }
    for (int r = 0; r < rn; r++) {
        for (int64_t t = nmin; t < n[r]; t++) { /* this row's later keys, in order */
            __m512 pb = _mm512_set1_ps(p[r * lds + t]);
            for (int z = 0; z < nz; z++) acc[r][z] = _mm512_fmadd_ps(pb, ld16(v + t * d + e + 16 * z), acc[r][z]);
        }
        for (int z = 0; z < nz; z++) _mm512_storeu_ps(out[r] + e + 16 * z, acc[r][z]);
    }
}

static void att_wsum(const float *p, int64_t lds, const int64_t *n, int64_t nq, const uint16_t *v, int64_t d,
                     float *const *out) {
    int64_t d16 = d & ~(int64_t)15;
    for (int64_t i = 0; i < nq; i += WQ) {
        int rn = nq - i < WQ ? (int)(nq - i) : WQ;
        int64_t e = 0;
        for (; e + 16 * WZ <= d16; e += 16 * WZ) {
            if (rn == WQ) wsum_tile(p + i * lds, lds, n + i, WQ, v, d, e, WZ, out + i);
            else wsum_tile(p + i * lds, lds, n + i, rn, v, d, e, WZ, out + i);
        }
        if (e < d16) wsum_tile(p + i * lds, lds, n + i, rn, v, d, e, (int)((d16 - e) / 16), out + i);
        /* what is left of a row: axpy_f16's 8-lane step, then its tail */
        for (int r = 0; r < rn; r++) {
            float *y = out[i + r];
            for (int64_t j = d16; j < d; j++) y[j] = 0.0f;
            for (int64_t t = 0; t < n[i + r]; t++) {
                float al = p[(i + r) * lds + t];
                const uint16_t *vt = v + t * d;
                int64_t j = d16;
                for (; j + 8 <= d; j += 8)
                    _mm256_storeu_ps(y + j, _mm256_fmadd_ps(_mm256_set1_ps(al),
                                                            _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(vt + j))),
                                                            _mm256_loadu_ps(y + j)));
                for (; j < d; j++) y[j] += al * _cvtsh_ss(vt[j]);
            }
        }
    }
}

/* exp(x) for 16 lanes: x = n ln2 + r with |r| <= ln2/2 (ln2 in two parts,
 * as Cephes splits it), e^r by its Taylor polynomial of degree 7 (error
 * under 1e-8 relative), times 2^n by vscalefps (which underflows gently).
 * Within 2 ulp of expf; below -104 the result is 0, as expf's is. */
INLINE __m512 exp16(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.5f)), _mm512_set1_ps(-104.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* The reference softmax (max, exponentials, sum in double, one scale) with
 * 16 exponentials at a time and the sum in 16 double lanes. */
static void att_softmax(float *x, int64_t n) {
    int64_t n16 = n & ~(int64_t)15;
    __mmask16 tail = (__mmask16)((1u << (n - n16)) - 1u);
    __m512 vm = _mm512_set1_ps(-__builtin_inff());
    for (int64_t i = 0; i < n16; i += 16) vm = _mm512_max_ps(vm, _mm512_loadu_ps(x + i));
    if (tail) vm = _mm512_mask_max_ps(vm, tail, vm, _mm512_maskz_loadu_ps(tail, x + n16));
    __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vm));
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int64_t i = 0; i <= n16; i += 16) {
        __mmask16 m = i < n16 ? (__mmask16)0xFFFF : tail;
        if (!m) break;
        __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mx)));
        _mm512_mask_storeu_ps(x + i, m, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    __m512 inv = _mm512_set1_ps((float)(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1))));
    for (int64_t i = 0; i < n16; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
    if (tail) _mm512_mask_storeu_ps(x + n16, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + n16), inv));
}

void ai__kset_fill_att_avx512(ai__kset *ks) {
    ks->att_softmax = att_softmax;
    ks->att_scores_f16 = att_scores;
    ks->att_wsum_f16 = att_wsum;
}
