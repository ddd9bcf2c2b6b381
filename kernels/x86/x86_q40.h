/*
 * x86_q40.h - Q4_0 and Q8_0 against ACT_Q8_32 in the AVX-512 (VNNI) set:
 * the one float summation that every path of that set follows for these two
 * types ("lane = block"), the pieces of its matrix-vector kernel (q40_rows)
 * and of its batch tiles (gemm_avx512.c), which must give a row the same
 * bits whatever its batch.  Included by x86_kern.h in its VNNI build and by
 * gemm_avx512.c; all static inline.  (The q40_ names are the shared
 * machinery; q80_ is what Q8_0 alone needs.)
 *
 * The summation.  The blocks of a row are taken 16 at a time (a "group";
 * the last group may be short).  For a group and one (weight row, act row)
 * pair, S is a vector of 16 int32, lane l holding the exact sum w . a over
 * the 32 elements of block PI(l) of the group (w = n - 8 for Q4_0's nibbles
 * n, Q8_0's int8 as they are), so however S is computed its bits are the
 * same.  Then, per group,
 *     acc = fma(float(S), dw * da, acc)     (lanes of blocks past the end
 *                                             left as they are)
 * with dw, da the 16 weight and activation scales in the same lane order,
 * from acc = 0, and the result is _mm512_reduce_add_ps(acc).
 *
 * The weights go to vpdpbusd as unsigned bytes u = w + off (off = 8 for
 * Q4_0: the nibbles themselves; 128 for Q8_0: the int8 with its top bit
 * flipped), and the int32 sums start from -off times the activations' sums,
 * so that S = u . a - off * sum(a) = w . a exactly (|S| < 2^21).
 *
 * The lane order PI(4q + t) = 4t + q (a 4 x 4 transpose) is what the
 * matrix-vector kernel gets cheaply from blocks in their stored layout:
 * per "quad" t (blocks 4t .. 4t+3 of the group) word permutes put bytes
 * 0..15 of block 4t+q into 128-bit lane q of x and bytes 16..31 into y
 * (for Q4_0 the low and high nibbles of the block's 16 bytes), two
 * vpdpbusd (x against the block's activations 0..15, y against 16..31)
 * leave four partial sums of that block in lane q, and two rounds of
 * unpack and add (9 instructions for four quads) sum them to one lane per
 * block, in the order PI.
 *
 * The batch tiles instead read weights repacked once per call (q40_repack)
 * and activations rearranged once per act row (q40_act_ext, the same for
 * both types) so that vector j (0..7) holds elements 4j .. 4j+3 of block
 * PI(l) in lane l: eight vpdpbusd give S directly, and the float step is one
 * conversion, one multiply and one fma per 16 blocks and (weight, act) pair.
 */
#ifndef AI_X86_Q40_H
#define AI_X86_Q40_H

#include "kimpl.h"
#include "x86_base.h"

/* Loops over quads and rows (constant trip counts) must be unrolled for
 * their vectors to stay in registers. */
#define Q40_UNROLL _Pragma("GCC unroll 4")

/* 16-bit lane w of quad t's word permute: word 4t + 9(w/8) + 1 + w%8 of the
 * two 64-byte loads at 64t and 64t + 64 of the group (the nibbles of block
 * 4t + w/8 start at byte 72t + 18(w/8) + 2); add 4t. */
static const uint16_t q40_qidx[32] = {1,  2,  3,  4,  5,  6,  7,  8,  10, 11, 12, 13, 14, 15, 16, 17,
                                      19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34, 35};
/* The f16 scale of block PI(l) for l = 4q + t, t = 0, 1: word 36t + 9q of
 * the group; for t = 2, 3 the same words counted from block 8 (byte 144). */
static const uint16_t q40_sidx[32] = {0, 36, 0, 36, 9, 45, 9, 45, 18, 54, 18, 54, 27, 63, 27, 63};
static const int32_t q40_pi[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};

/* The bytes [0, n) of the 64 at p (n may be <= 0 or >= 64), zeros for
 * the rest, nothing past them read. */
INLINE __m512i q40_part(const void *p, int64_t n) {
    if (n >= 64) return _mm512_loadu_si512(p);
    return _mm512_maskz_loadu_epi8(n > 0 ? ((__mmask64)1 << n) - 1 : 0, p);
}

/* The lanes l with PI(l) < m: the blocks of a group of m. */
INLINE __mmask16 q40_mask(int64_t m) {
    return _mm512_cmplt_epi32_mask(_mm512_loadu_si512((const void *)q40_pi), _mm512_set1_epi32((int)m));
}

/* The float step of a group (see the top). */
INLINE __m512 q40_step(__m512 acc, __m512i s, __m512 dw, __m512 da, __mmask16 m) {
    return _mm512_mask3_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, da), acc, m);
}

/* The activation scales of a group of m blocks (at ad; zeros past them)
 * in the order PI. */
INLINE __m512 q40_da(const float *ad, int64_t m) {
    __m512 d = m >= 16 ? _mm512_loadu_ps(ad) : _mm512_maskz_loadu_ps((__mmask16)((1u << m) - 1), ad);
    return _mm512_permutexvar_ps(_mm512_loadu_si512((const void *)q40_pi), d);
}

/* The 16 weight scales of a group at g (288 readable bytes) in the order
 * PI, given its first two 64-byte loads (n bytes present, as q40_loads). */
INLINE __m512 q40_dw(const uint8_t *g, int64_t n, __m512i l0, __m512i l1) {
    const __m512i sidx = _mm512_loadu_si512((const void *)q40_sidx);
    __m512i h = _mm512_permutex2var_epi16(l0, sidx, l1);
    __m512i h2 = _mm512_permutex2var_epi16(q40_part(g + 144, n - 144), sidx, q40_part(g + 208, n - 208));
    h = _mm512_mask_mov_epi16(h, 0xCCCC, h2);
    return _mm512_cvtph_ps(_mm512_castsi512_si256(h));
}

/* The activations of one group (at aq, na of its 512 bytes present: the
 * rest taken as zeros) for the quads: ax[t] lane q = bytes 0..15 of block
 * 4t + q, ay[t] bytes 16..31, neg[t] = -off times the sum of each dword of
 * both (the start of that quad's int32 lanes; off 8 or 128, see the top).
 * Only quads t < nq (a constant: 4, or fewer for rows of nq * 4 blocks at
 * most, see q40_rows) are made. */
INLINE void q40_act_quads(const int8_t *aq, int64_t na, __m512i ax[4], __m512i ay[4], __m512i neg[4], const int off,
                          const int nq) {
    const __m512i o = _mm512_set1_epi8((char)off);
    Q40_UNROLL for (int t = 0; t < nq; t++) {
        __m512i a0 = q40_part(aq + 128 * t, na - 128 * t);
        __m512i a1 = q40_part(aq + 128 * t + 64, na - 128 * t - 64);
        ax[t] = _mm512_shuffle_i32x4(a0, a1, 0x88);
        ay[t] = _mm512_shuffle_i32x4(a0, a1, 0xDD);
        if (neg) {
            __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), o, ax[t]), o, ay[t]);
            neg[t] = _mm512_sub_epi32(_mm512_setzero_si512(), s);
        }
    }
}

/* The five loads of a group's 288 bytes at g (the last one 32 bytes), of
 * which the first n are present (zeros for the rest). */
INLINE void q40_loads(const uint8_t *g, int64_t n, __m512i l[5]) {
    Q40_UNROLL for (int t = 0; t < 4; t++) l[t] = q40_part(g + 64 * t, n - 64 * t);
    l[4] = q40_part(g + 256, (n < 288 ? n : 288) - 256);
}

/* The nibbles of quad t as bytes: x lane q = elements 0..15 of block
 * 4t + q, y elements 16..31. */
INLINE void q40_quad(const __m512i l[5], int t, __m512i *x, __m512i *y) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512i idx = _mm512_add_epi16(_mm512_loadu_si512((const void *)q40_qidx), _mm512_set1_epi16((short)(4 * t)));
    __m512i q = _mm512_permutex2var_epi16(l[t], idx, l[t + 1]);
    *x = _mm512_and_si512(q, m4);
    *y = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
}

/* A Q4_0 group at g (n of its 288 bytes present) for the quads: x[t], y[t]
 * as q40_quad; returns the 16 weight scales in the order PI. */
INLINE __m512 q40_group(const uint8_t *g, int64_t n, __m512i x[4], __m512i y[4]) {
    __m512i l[5];
    q40_loads(g, n, l);
    Q40_UNROLL for (int t = 0; t < 4; t++) q40_quad(l, t, &x[t], &y[t]);
    return q40_dw(g, n, l[0], l[1]);
}

/* Q8_0: a group is 16 blocks of 34 bytes (f16 scale, 32 int8), quad t at
 * byte 136t.  Word w of lane q of x = word 1 + 17q + w (block 4t + q's
 * int8 start at byte 34q + 2) of the 128 bytes at 136t, of y the same word
 * of the 128 bytes at 136t + 16. */
static const uint16_t q80_qidx[32] = {1,  2,  3,  4,  5,  6,  7,  8,  18, 19, 20, 21, 22, 23, 24, 25,
                                      35, 36, 37, 38, 39, 40, 41, 42, 52, 53, 54, 55, 56, 57, 58, 59};
/* The scale of block PI(l) = 4t + q for word l = 4q + t: word 17q of the
 * 128 bytes at 136t. */
static const uint16_t q80_sidx[32] = {0, 0, 0, 0, 17, 17, 17, 17, 34, 34, 34, 34, 51, 51, 51, 51};

/* A Q8_0 group at g (n of its 544 bytes present, nothing past them read)
 * for the quads: x[t] lane q = bytes 0..15 of block 4t + q, y[t] bytes
 * 16..31, each int8 plus 128 as unsigned; returns the 16 weight scales in
 * the order PI.  Only quads t < nq are made (n <= 136 * nq). */
INLINE __m512 q80_group(const uint8_t *g, int64_t n, __m512i x[4], __m512i y[4], const int nq) {
    const __m512i idx = _mm512_loadu_si512((const void *)q80_qidx);
    const __m512i sidx = _mm512_loadu_si512((const void *)q80_sidx);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i h = _mm512_setzero_si512();
    Q40_UNROLL for (int t = 0; t < nq; t++) {
        const uint8_t *p = g + 136 * t;
        const int64_t r = n - 136 * t;
        __m512i a0 = q40_part(p, r), a1 = q40_part(p + 64, r - 64);
        x[t] = _mm512_xor_si512(_mm512_permutex2var_epi16(a0, idx, a1), flip);
        y[t] = _mm512_xor_si512(_mm512_permutex2var_epi16(q40_part(p + 16, r - 16), idx, q40_part(p + 80, r - 80)),
                                flip);
        h = _mm512_mask_mov_epi16(h, (__mmask32)(0x1111u << t), _mm512_permutex2var_epi16(a0, sidx, a1));
    }
    return _mm512_cvtph_ps(_mm512_castsi512_si256(h));
}

/* Bytes of a block and of a group of 16 in the stored layout. */
#define Q40_BB(q8) ((q8) ? 34 : 18)
#define Q40_GB(q8) (16 * Q40_BB(q8))

/* Group g's m blocks of a row at w (Q8_0 when q8, else Q4_0): x, y and the
 * returned scales as q40_group / q80_group (Q8_0: quads t < nq only). */
INLINE __m512 q40_decode(const uint8_t *w, int64_t g, int64_t m, const int q8, __m512i x[4], __m512i y[4],
                         const int nq) {
    const uint8_t *p = w + (size_t)Q40_GB(q8) * (size_t)g;
    return q8 ? q80_group(p, 34 * m, x, y, nq) : q40_group(p, 18 * m, x, y);
}

/* S (see the top) of one group of a row, from its quads x, y and the
 * activations' quads (quads t < nq; see q40_act_quads). */
INLINE __m512i q40_sums(const __m512i x[4], const __m512i y[4], const __m512i ax[4], const __m512i ay[4],
                        const __m512i neg[4], const int nq) {
    __m512i p[4];
    /* quads t >= nq hold no block: their sums are 0 (and so S is the same) */
    Q40_UNROLL for (int t = 0; t < 4; t++)
        p[t] = t < nq ? _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(neg[t], x[t], ax[t]), y[t], ay[t])
                      : _mm512_setzero_si512();
    /* lane q of p[t] holds 4 partial sums of block 4t + q; after the first
     * round 128-bit lane q of u01 is (p0 0+2, p1 0+2, p0 1+3, p1 1+3),
     * after the second lane 4q + t the whole of p[t]'s lane q */
    __m512i u01 = _mm512_add_epi32(_mm512_unpacklo_epi32(p[0], p[1]), _mm512_unpackhi_epi32(p[0], p[1]));
    __m512i u23 = _mm512_add_epi32(_mm512_unpacklo_epi32(p[2], p[3]), _mm512_unpackhi_epi32(p[2], p[3]));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(u01, u23), _mm512_unpackhi_epi64(u01, u23));
}

/*
 * R (1..4, a constant after inlining) rows at w (stride ws, stored layout,
 * Q8_0 when q8, else Q4_0) against one act row a of k elements: out[r].
 * The matrix-vector kernel of the set, and its dot product (R = 1).  A
 * short last group is read with masked loads (nothing past the rows is
 * read).
 */
INLINE void q40_rows_nq(const uint8_t *w, size_t ws, int R, const uint8_t *a, int64_t k, float *out, const int q8,
                        const int nq) {
    __m512 acc[4];
    Q40_UNROLL for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    const int8_t *aq = act_q(a);
    const float *ad = act_d(a, k);
    const int64_t nb = k / 32;
    const size_t pfd = pf_dist(ws, R);
    for (int64_t g = 0; 16 * g < nb; g++) {
        pf_rows(w, pfd, R, (size_t)Q40_GB(q8) * (size_t)g, Q40_GB(q8));
        const int64_t m = nb - 16 * g < 16 ? nb - 16 * g : 16; /* blocks in this group */
        __m512i ax[4], ay[4], neg[4];
        q40_act_quads(aq + 512 * g, 32 * m, ax, ay, neg, q8 ? 128 : 8, nq);
        __m512 da = q40_da(ad + 16 * g, m);
        const __mmask16 mk = q40_mask(m);
        Q40_UNROLL for (int r = 0; r < R; r++) {
            __m512i x[4], y[4];
            __m512 dw = q40_decode(w + (size_t)r * ws, g, m, q8, x, y, nq);
            acc[r] = q40_step(acc[r], q40_sums(x, y, ax, ay, neg, nq), dw, da, mk);
        }
    }
    Q40_UNROLL for (int r = 0; r < R; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
}

/* Q8_0 rows of 8 blocks or fewer (k <= 256, as in small models) make only
 * the two quads that hold blocks: the same S, so the same bits, with about
 * half the decoding work per row.  (Q4_0 reads a group's quads from shared
 * loads, so it always takes all four.) */
INLINE void q40_rows(const uint8_t *w, size_t ws, int R, const uint8_t *a, int64_t k, float *out, const int q8) {
    if (q8 && k / 32 <= 8) q40_rows_nq(w, ws, R, a, k, out, 1, 2);
    else q40_rows_nq(w, ws, R, a, k, out, q8, 4);
}

#endif
