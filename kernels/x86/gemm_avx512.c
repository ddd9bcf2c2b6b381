/*
 * gemm_avx512.c - matrix-matrix tiles (ai__gemm_fn) of the AVX-512 set for
 * the types prompts spend their time in: Q4_K and Q6_K (this file fills
 * them in on top of x86_kern.h's table; see dispatch.c).
 *
 * Batch invariance.  The runtime relies on a row's result not depending on
 * the other rows of its batch, so every output here is computed with
 * exactly the arithmetic of the set's matrix-vector kernel for that type
 * (x86_kern.h, the nc = 1 case of T_cols): the same int32 lanes, the same
 * float products and fused multiply-adds in the same order, the same
 * horizontal sums.  Only what is shared between outputs changes: a weight
 * block is decoded once for NC activation rows held in registers.
 * tests/unit/test_kernels_simd.c checks every batch size against batch 1
 * bit for bit; a change to the matrix-vector arithmetic of these types must
 * be mirrored here.
 */
#include "kimpl.h"

#include <immintrin.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))
/* Loops over the columns of a tile must be unrolled for its accumulators
 * to live in registers (-O2 leaves them as arrays on the stack). */
#define UNROLL _Pragma("GCC unroll 16")

/* hsum of x86_kern.h: the same adds in the same order. */
INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE float f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

INLINE __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
INLINE __m128i load128(const void *p) { return _mm_loadu_si128((const __m128i *)p); }

/* x86_kern.h k4_unpack: the 8 six-bit scales and mins of a Q4_K block. */
INLINE void k4_unpack(const uint8_t *p, uint8_t sc[8], uint8_t m[8]) {
    uint32_t w0, w1, w2;
    memcpy(&w0, p, 4);
    memcpy(&w1, p + 4, 4);
    memcpy(&w2, p + 8, 4);
    uint32_t s_lo = w0 & 0x3f3f3f3f, m_lo = w1 & 0x3f3f3f3f;
    uint32_t s_hi = (w2 & 0x0f0f0f0f) | ((w0 >> 2) & 0x30303030);
    uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0f) | ((w1 >> 2) & 0x30303030);
    memcpy(sc, &s_lo, 4);
    memcpy(sc + 4, &s_hi, 4);
    memcpy(m, &m_lo, 4);
    memcpy(m + 4, &m_hi, 4);
}

#define TILE_ARGS const uint8_t *w, const uint8_t *a, size_t as, int nc, int64_t k, float *y, int64_t ldy

/* ---- Q4_K: x86_kern.h q4_k_cols (512-bit form) for NC4K columns --------------- */

enum { NC4K = 8 };

INLINE void q4_k_tile(TILE_ARGS) {
    __m256 acc[NC4K], accm[NC4K];
    UNROLL
    for (int c = 0; c < nc; c++) acc[c] = accm[c] = _mm256_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t i = 0; i < k / 256; i++, w += 144) {
        uint8_t sc[8], mn[8];
        k4_unpack(w + 4, sc, mn);
        float d = f16(w), dmin = f16(w + 2);
        __m128i mv = _mm_loadl_epi64((const __m128i *)mn);
        __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mv, mv));
        __m512i sc32 = _mm512_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc));
        __m512i isum[NC4K];
        UNROLL
        for (int c = 0; c < nc; c++) isum[c] = _mm512_setzero_si512();
        UNROLL
        for (int j = 0; j < 4; j++) {
            __m256i q = load256(w + 16 + 32 * j);
            __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1);
            z = _mm512_and_si512(z, m4);
            __m512i s = _mm512_permutexvar_epi32(
                _mm512_inserti64x4(_mm512_set1_epi32(2 * j), _mm256_set1_epi32(2 * j + 1), 1), sc32);
            UNROLL
            for (int c = 0; c < nc; c++) {
                __m512i av = _mm512_loadu_si512((const void *)(act_q(a + c * as) + 256 * i + 64 * j));
                isum[c] = _mm512_dpwssd_epi32(isum[c], _mm512_dpbusd_epi32(_mm512_setzero_si512(), z, av), s);
            }
        }
        UNROLL
        for (int c = 0; c < nc; c++) {
            const uint8_t *ac = a + c * as;
            __m256i is = _mm256_add_epi32(_mm512_castsi512_si256(isum[c]), _mm512_extracti64x4_epi64(isum[c], 1));
            __m256i corr = _mm256_madd_epi16(load256(act_bs256(ac, k) + 16 * i), m16);
            /* d * d_a and dmin * d_a: the float products of q4_k_cols, as
             * scalars (its 128-bit multiply, broadcast and permute of them
             * halved the speed of this tile) */
            float da = act_d(ac, k)[i];
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(d * da), acc[c]);
            accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(corr), _mm256_set1_ps(dmin * da), accm[c]);
        }
    }
    UNROLL
    for (int c = 0; c < nc; c++) y[c * ldy] = hsum(acc[c]) - hsum(accm[c]);
}

/* ---- Q6_K: x86_kern.h q6_k_cols512 for NC6K columns ---------------------------- */

enum { NC6K = 8 };

INLINE void q6_k_tile(TILE_ARGS) {
    __m256 acc[NC6K];
    UNROLL
    for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F), m3 = _mm512_set1_epi8(0x30);
    const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m128i b0 = _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    for (int64_t i = 0; i < k / 256; i++, w += 210) {
        __m128i sc8 = load128(w + 192);
        __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        float d = f16(w + 208);
        __m512i isum[NC6K];
        UNROLL
        for (int c = 0; c < nc; c++) isum[c] = _mm512_setzero_si512();
        UNROLL
        for (int h = 0; h < 2; h++) {
            __m512i l = _mm512_loadu_si512((const void *)(w + 64 * h));
            __m512i qh = _mm512_broadcast_i64x4(load256(w + 128 + 32 * h));
            __m512i q01 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(qh, shl), m3));
            __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                          _mm512_and_si512(_mm512_srlv_epi16(qh, shr), m3));
            __m128i base = _mm_add_epi8(b0, _mm_set1_epi8((char)(8 * h)));
            __m512i s01 = _mm512_cvtepu16_epi32(_mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, base)));
            __m512i s23 = _mm512_cvtepu16_epi32(
                _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, _mm_add_epi8(base, _mm_set1_epi8(4)))));
            UNROLL
            for (int c = 0; c < nc; c++) {
                const int8_t *ah = act_q(a + c * as) + 256 * i + 128 * h;
                __m512i p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q01, _mm512_loadu_si512((const void *)ah));
                __m512i p23 =
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), q23, _mm512_loadu_si512((const void *)(ah + 64)));
                isum[c] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(isum[c], p01, s01), p23, s23);
            }
        }
        UNROLL
        for (int c = 0; c < nc; c++) {
            const uint8_t *ac = a + c * as;
            __m256i is = _mm256_add_epi32(_mm512_castsi512_si256(isum[c]), _mm512_extracti64x4_epi64(isum[c], 1));
            __m256i corr = _mm256_madd_epi16(load256(act_bs256(ac, k) + 16 * i), sc16);
            __m256i tot = _mm256_sub_epi32(is, _mm256_slli_epi32(corr, 5));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(tot), _mm256_set1_ps(d * act_d(ac, k)[i]), acc[c]);
        }
    }
    UNROLL
    for (int c = 0; c < nc; c++) y[c * ldy] = hsum(acc[c]);
}

/* ---- the gemm wrappers ------------------------------------------------------------ */

/* NC activation rows (then the rest one by one: the same arithmetic per
 * column) against every row of w in turn: those activation rows stay
 * in L1 while the weight rows stream from L2 (the other order reloads the
 * activations, 16x the bytes of the weights, for every weight row). */
#define GEMM(T, NC)                                                                                \
    static void T##_gemm(const void *w, size_t ws, int64_t nr, const void *act, size_t as, int64_t nb, \
                         int64_t k, float *y, int64_t ldy) {                                       \
        const uint8_t *A = act;                                                                    \
        for (int64_t b = 0; b < nb; b += NC) {                                                     \
            int nc = nb - b < NC ? (int)(nb - b) : NC;                                             \
            for (int64_t r = 0; r < nr; r++) {                                                     \
                const uint8_t *wr = (const uint8_t *)w + (size_t)r * ws;                           \
                if (nc == NC) {                                                                    \
                    T##_tile(wr, A + (size_t)b * as, as, NC, k, y + b * ldy + r, ldy);            \
                    continue;                                                                      \
                }                                                                                  \
                for (int c = 0; c < nc; c++)                                                       \
                    T##_tile(wr, A + (size_t)(b + c) * as, as, 1, k, y + (b + c) * ldy + r, ldy);  \
            }                                                                                      \
        }                                                                                          \
    }

GEMM(q4_k, NC4K)
GEMM(q6_k, NC6K)

void ai__kset_fill_gemm_avx512(ai__kset *ks) {
    ks->ops[AI_TYPE_Q4_K].gemm = q4_k_gemm;
    ks->ops[AI_TYPE_Q6_K].gemm = q6_k_gemm;
}
