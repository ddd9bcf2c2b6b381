/*
 * gemm_avx512.c - matrix-matrix tiles (ai__gemm_fn) of the AVX-512 set for
 * the types prompts spend their time in: Q4_0, Q8_0, Q4_K and Q6_K (this
 * file fills them in on top of x86_kern.h's table; see dispatch.c), and the
 * extra act data its Q4_0 tile reads (kimpl.h act_ext).
 *
 * What made them ~1.5-2x faster than x86_kern.h's tiles (bench of 1024x1024
 * weights, batch 512, one thread): NC activation rows stay in L1 while the
 * weight rows of a tile stream past them; the loops over the NC columns are
 * unrolled so the accumulators live in registers; and the per-block scale
 * products are formed as scalars or broadcasts instead of 128-bit vectors
 * that are then permuted into place.  Later (3072 x 1024 and 1024 x 3072
 * weights, batch 512, one thread, CPU time): the Q4_K and Q6_K tiles scale
 * two vpdpbusd results with one vpdpwssd (their int32 lanes packed as int16
 * pairs by one word permute), q4_k 205 -> 220 and q6_k 210 -> 230 GOP/s,
 * since these tiles are bound by the VNNI instructions; the Q4_0 tile reads
 * its weight scales as floats converted once per weight row, 178 -> 190.
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
#include "x86_base.h" /* hsum, f16, loads, nibbles: x86_kern.h's own */

/* Loops over the columns of a tile must be unrolled for its accumulators
 * to live in registers (-O2 leaves them as arrays on the stack). */
#define UNROLL _Pragma("GCC unroll 16")

#define TILE_ARGS const uint8_t *w, const uint8_t *a, size_t as, int nc, int64_t k, float *y, int64_t ldy

/* ---- Q4_K: x86_kern.h q4_k_cols (512-bit form) for NC4K columns --------------- */

enum { NC4K = 8 };

INLINE void q4_k_tile(TILE_ARGS) {
    __m256 acc[NC4K], accm[NC4K];
    UNROLL
    for (int c = 0; c < nc; c++) acc[c] = accm[c] = _mm256_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    /* words 2l, 2l + 16 of the first source (l < 8), then of the second */
    const __m512i pair_idx = _mm512_set_epi16(
        62, 46, 60, 44, 58, 42, 56, 40, 54, 38, 52, 36, 50, 34, 48, 32,
        30, 14, 28, 12, 26, 10, 24, 8, 22, 6, 20, 4, 18, 2, 16, 0);
    for (int64_t i = 0; i < k / 256; i++, w += 144) {
        uint8_t sc[8], mn[8];
        k4_unpack(w + 4, sc, mn);
        float d = f16(w), dmin = f16(w + 2);
        __m128i mv = _mm_loadl_epi64((const __m128i *)mn);
        __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mv, mv));
        /* the scales as int16 pairs: dword t = sc[2t] | sc[2t+1] << 16 */
        __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)sc)));
        __m512i isum[NC4K];
        UNROLL
        for (int c = 0; c < nc; c++) isum[c] = _mm512_setzero_si512();
        UNROLL
        for (int jj = 0; jj < 2; jj++) {
            /* 128 elements: two vectors of 64 as in q4_k_cols, [sub-block
             * 4jj | 4jj+1] and [4jj+2 | 4jj+3] */
            __m512i z[2];
            UNROLL
            for (int h = 0; h < 2; h++) {
                __m256i q = load256(w + 16 + 64 * jj + 32 * h);
                z[h] = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), m4);
            }
            /* lanes 0..7: (sc[4jj], sc[4jj+1]), 8..15: (sc[4jj+2], sc[4jj+3]) */
            __m512i s = _mm512_permutexvar_epi32(
                _mm512_inserti64x4(_mm512_set1_epi32(2 * jj), _mm256_set1_epi32(2 * jj + 1), 1), sc16);
            UNROLL
            for (int c = 0; c < nc; c++) {
                const int8_t *ac = act_q(a + c * as) + 256 * i + 128 * jj;
                __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), z[0], _mm512_loadu_si512((const void *)ac));
                __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), z[1], _mm512_loadu_si512((const void *)(ac + 64)));
                /* each p lane (4 products, |p| <= 15 * 127 * 4) is its low
                 * int16; lane l takes p0's lanes l and l + 8 as a pair,
                 * lane 8 + l p1's: one vpdpwssd scales and adds both (the
                 * same int32 sums, lane l + (l + 8) below, as q4_k_cols') */
                __m512i pp = _mm512_permutex2var_epi16(p0, pair_idx, p1);
                isum[c] = _mm512_dpwssd_epi32(isum[c], pp, s);
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
    /* byte pairs (l/4, 4 + l/4) for lanes l = 0..7, then 8..15 */
    const __m256i pair_b0 = _mm256_setr_epi8(0, 4, 0, 4, 0, 4, 0, 4, 1, 5, 1, 5, 1, 5, 1, 5, 2, 6, 2, 6, 2, 6, 2, 6,
                                             3, 7, 3, 7, 3, 7, 3, 7);
    /* word 2l of the first source, then word 2l of the second */
    const __m512i pair_idx = _mm512_set_epi16(62, 30, 60, 28, 58, 26, 56, 24, 54, 22, 52, 20, 50, 18, 48, 16,
                                              46, 14, 44, 12, 42, 10, 40, 8, 38, 6, 36, 4, 34, 2, 32, 0);
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
            /* int16 pairs (scale of [q0|q1] lane l, scale of [q2|q3] lane l):
             * bytes 8h + l/4 and 8h + 4 + l/4, sign-extended */
            __m256i sb = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(sc8),
                                             _mm256_add_epi8(pair_b0, _mm256_set1_epi8((char)(8 * h))));
            __m512i s0123 = _mm512_cvtepi8_epi16(sb);
            UNROLL
            for (int c = 0; c < nc; c++) {
                const int8_t *ah = act_q(a + c * as) + 256 * i + 128 * h;
                __m512i p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q01, _mm512_loadu_si512((const void *)ah));
                __m512i p23 =
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), q23, _mm512_loadu_si512((const void *)(ah + 64)));
                /* each p lane is its low int16 (SCALE16 in x86_kern.h);
                 * lane l = (p01 lane l, p23 lane l): one vpdpwssd adds both
                 * scaled, the same int32 as q6_k_cols512's two */
                isum[c] = _mm512_dpwssd_epi32(isum[c], _mm512_permutex2var_epi16(p01, pair_idx, p23), s0123);
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

/* ---- extra act data (kimpl.h act_ext) ------------------------------------------ */

/*
 * After an ACT_Q8_32 row of k elements, 2k bytes:
 *   n8[k/4]  int32: -8 times the sum of q[4l .. 4l+3], the lane l of a
 *            vpdpbusd over the row;
 *   dx[k/4]  float: the scale d of the block of those four elements.
 * So that a Q4_0 tile starts each int32 sum at n8 (the -8 offset of its
 * nibbles, which the matrix-vector kernel takes off with a second vpdpbusd)
 * and multiplies its weight scales by dx without shuffling, once per
 * activation row instead of once per weight row.
 */
static size_t ext_bytes(int kind, int64_t k) { return kind == ACT_Q8_32 ? (size_t)k * 2 : 0; }

static void ext_fill(int kind, void *row, int64_t k) {
    if (kind != ACT_Q8_32) return;
    const int8_t *q = act_q(row);
    const float *d = act_d(row, k);
    int32_t *n8 = (int32_t *)((uint8_t *)row + ai__act_row_size(ACT_Q8_32, k));
    float *dx = (float *)(n8 + k / 4);
    const __m256i ones = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < k / 32; i++) {
        /* sum of 4 (signed) as 1 x q, times -8: both exact in int32 */
        __m256i s4 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, load256(q + 32 * i));
        _mm256_storeu_si256((__m256i *)(n8 + 8 * i), _mm256_mullo_epi32(s4, _mm256_set1_epi32(-8)));
        _mm256_storeu_ps(dx + 8 * i, _mm256_set1_ps(d[i]));
    }
}

/* ---- Q4_0: x86_kern.h q4_0_cols (AVX-512 form) for NC40 columns ---------------- */

enum { NC40 = 8 };

INLINE void q4_0_tile(TILE_ARGS) {
    __m512 acc[NC40], accb[NC40];
    UNROLL
    for (int c = 0; c < nc; c++) acc[c] = accb[c] = _mm512_setzero_ps();
    const size_t ext_off = ai__act_row_size(ACT_Q8_32, k); /* n8, then dx (see ext_fill) */
    const int64_t nb = k / 32;
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2, w += 36) {
        __m512i z = nib64(w + 2, w + 20);
        float d0 = f16(w), d1 = f16(w + 18);
        __m512 dwv = _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
        UNROLL
        for (int c = 0; c < nc; c++) {
            const uint8_t *ac = a + c * as;
            const uint8_t *ext = ac + ext_off;
            /* (n - 8).a per lane: n.a on top of -8 * (sum of a), the same
             * int32 lanes as q4_0_cols' difference of two vpdpbusd */
            __m512i p = _mm512_dpbusd_epi32(_mm512_loadu_si512((const void *)(ext + 32 * i)), z,
                                            _mm512_loadu_si512((const void *)(act_q(ac) + 32 * i)));
            /* d_w * d_a per lane: q4_0_cols' float products */
            __m512 sc = _mm512_mul_ps(dwv, _mm512_loadu_ps((const float *)(ext + k) + 8 * i));
            if (i & 2)
                accb[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, accb[c]);
            else
                acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, acc[c]);
        }
    }
    /* an odd last block: q4_0_cols' 256-bit code (sign trick) */
    __m256 acc2[NC40];
    UNROLL
    for (int c = 0; c < nc; c++) acc2[c] = _mm256_setzero_ps();
    if (i < nb) {
        __m256i q = _mm256_sub_epi8(nibbles(w + 2), _mm256_set1_epi8(8)), aq = _mm256_sign_epi8(q, q);
        float dw = f16(w);
        UNROLL
        for (int c = 0; c < nc; c++) {
            const uint8_t *ac = a + c * as;
            __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aq,
                                            _mm256_sign_epi8(load256(act_q(ac) + 32 * i), q));
            acc2[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * act_d(ac, k)[i]), acc2[c]);
        }
    }
    UNROLL
    for (int c = 0; c < nc; c++) y[c * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(acc[c], accb[c])) + hsum(acc2[c]);
}

/* ---- Q8_0: x86_kern.h SYM32_COLS(q8_0) for NC80 columns --------------------- */

enum { NC80 = 8 };

INLINE void q8_0_tile(TILE_ARGS) {
    __m256 acc[NC80];
    UNROLL
    for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / 32; i++, w += 34) {
        __m256i q = load256(w + 2), aq = _mm256_sign_epi8(q, q);
        __m256 dw = _mm256_set1_ps(f16(w));
        UNROLL
        for (int c = 0; c < nc; c++) {
            const uint8_t *ac = a + c * as;
            __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aq,
                                            _mm256_sign_epi8(load256(act_q(ac) + 32 * i), q));
            /* dw * d_a, the scalar product of SYM32_COLS, in every lane */
            __m256 d = _mm256_mul_ps(dw, _mm256_broadcast_ss(act_d(ac, k) + i));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc[c]);
        }
    }
    UNROLL
    for (int c = 0; c < nc; c++) y[c * ldy] = hsum(acc[c]);
}

/* Two weight rows (w, w + ws) x NC40R activation rows: every activation
 * load (q, n8, dx) serves both weight rows.  Measured 1024x1024, batch 512,
 * one thread: ~195 GOP/s against ~165 for q4_0_tile with NC40 = 8 (and ~95
 * for x86_kern.h's tile); NC40R = 5 or 6 were slower. */
enum { NC40R = 4 };

INLINE void q4_0_tile2(const uint8_t *w, size_t ws, const uint8_t *a, size_t as, int nc, int64_t k, float *y,
                       int64_t ldy, const float *dws) {
    __m512 acc[2][NC40R], accb[2][NC40R];
    UNROLL
    for (int c = 0; c < nc; c++) acc[0][c] = accb[0][c] = acc[1][c] = accb[1][c] = _mm512_setzero_ps();
    const size_t ext_off = ai__act_row_size(ACT_Q8_32, k);
    const int64_t nb = k / 32; /* even (see q4_0_gemm) */
    for (int64_t i = 0; i + 2 <= nb; i += 2, w += 36) {
        __m512i z[2];
        __m512 dwv[2];
        UNROLL
        for (int r = 0; r < 2; r++) {
            const uint8_t *wr = w + r * ws;
            z[r] = nib64(wr + 2, wr + 20);
            /* the two block scales, converted beforehand (q4_0_gemm) */
            const float *dr = dws + r * (k / 32) + i;
            dwv[r] = _mm512_insertf32x8(_mm512_set1_ps(dr[0]), _mm256_set1_ps(dr[1]), 1);
        }
        UNROLL
        for (int c = 0; c < nc; c++) {
            const uint8_t *ac = a + c * as;
            const uint8_t *ext = ac + ext_off;
            __m512i n8 = _mm512_loadu_si512((const void *)(ext + 32 * i));
            __m512i av = _mm512_loadu_si512((const void *)(act_q(ac) + 32 * i));
            __m512 dx = _mm512_loadu_ps((const float *)(ext + k) + 8 * i);
            UNROLL
            for (int r = 0; r < 2; r++) {
                __m512i p = _mm512_dpbusd_epi32(n8, z[r], av);
                __m512 sc = _mm512_mul_ps(dwv[r], dx);
                if (i & 2)
                    accb[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, accb[r][c]);
                else
                    acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, acc[r][c]);
            }
        }
    }
    UNROLL
    for (int c = 0; c < nc; c++) {
        y[c * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(acc[0][c], accb[0][c])) + hsum(_mm256_setzero_ps());
        y[c * ldy + 1] = _mm512_reduce_add_ps(_mm512_add_ps(acc[1][c], accb[1][c])) + hsum(_mm256_setzero_ps());
    }
}

#define q4_0_1_tile q4_0_tile

/* ---- the gemm wrappers ------------------------------------------------------------ */

/* One activation row (token generation) stays with the gemm the table had
 * before (x86_kern.h's T_cols at nc = 1, the matrix-vector kernels tuned for
 * memory bandwidth): the tiles here are for batches.  Set once, by
 * ai__kset_fill_gemm_avx512 under dispatch.c's pthread_once. */
static ai__gemm_fn mv_gemm[AI__TYPE_COUNT];
#define MV_CASE(TYPE)                                                                              \
    if (nb == 1 && mv_gemm[TYPE]) {                                                               \
        mv_gemm[TYPE](w, ws, nr, act, as, nb, k, y, ldy);                                           \
        return;                                                                                    \
    }

/* NC activation rows (then the rest one by one: the same arithmetic per
 * column) against every row of w in turn: those activation rows stay
 * in L1 while the weight rows stream from L2 (the other order reloads the
 * activations, 16x the bytes of the weights, for every weight row). */
#define GEMM(T, NC, MV)                                                                            \
    static void T##_gemm(const void *w, size_t ws, int64_t nr, const void *act, size_t as, int64_t nb, \
                         int64_t k, float *y, int64_t ldy) {                                       \
        MV                                                                                         \
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

GEMM(q4_k, NC4K, MV_CASE(AI_TYPE_Q4_K))
GEMM(q6_k, NC6K, MV_CASE(AI_TYPE_Q6_K))
GEMM(q4_0_1, NC40, )

/* Pairs of weight rows x NC40R activation rows when the blocks pair up (no
 * odd last block), the rest through q4_0_tile. */
static void q4_0_gemm(const void *w, size_t ws, int64_t nr, const void *act, size_t as, int64_t nb, int64_t k,
                      float *y, int64_t ldy) {
    MV_CASE(AI_TYPE_Q4_0)
    if ((k / 32) % 2 || nr < 2 || nb < NC40R || k / 32 > 4096) { /* 4096: two rows of scales fit dws */
        q4_0_1_gemm(w, ws, nr, act, as, nb, k, y, ldy);
        return;
    }
    const uint8_t *A = act, *W = w;
    int64_t nr2 = nr & ~(int64_t)1, nb4 = nb / NC40R * NC40R;
    /* The weight rows' block scales as floats, for a chunk of row pairs at
     * a time: converted once instead of once per NC40R activation rows. */
    enum { DWS = 8192 };
    float dws[DWS];
    const int64_t nblk = k / 32;
    int64_t chunk = DWS / nblk & ~(int64_t)1;
    if (chunk > 64) chunk = 64;
    for (int64_t r0 = 0; r0 < nr2; r0 += chunk) {
        int64_t r1 = r0 + chunk < nr2 ? r0 + chunk : nr2;
        for (int64_t r = r0; r < r1; r++)
            for (int64_t i = 0; i < nblk; i++) dws[(r - r0) * nblk + i] = f16(W + (size_t)r * ws + 18 * i);
        for (int64_t b = 0; b < nb4; b += NC40R)
            for (int64_t r = r0; r < r1; r += 2)
                q4_0_tile2(W + (size_t)r * ws, ws, A + (size_t)b * as, as, NC40R, k, y + b * ldy + r, ldy,
                           dws + (r - r0) * nblk);
    }
    if (nb4 < nb) q4_0_1_gemm(W, ws, nr2, A + (size_t)nb4 * as, as, nb - nb4, k, y + nb4 * ldy, ldy);
    if (nr2 < nr) q4_0_1_gemm(W + (size_t)nr2 * ws, ws, 1, A, as, nb, k, y + nr2, ldy);
}
GEMM(q8_0, NC80, MV_CASE(AI_TYPE_Q8_0))

void ai__kset_fill_gemm_avx512(ai__kset *ks) {
    static const uint32_t types[] = {AI_TYPE_Q4_0, AI_TYPE_Q8_0, AI_TYPE_Q4_K, AI_TYPE_Q6_K};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) mv_gemm[types[t]] = ks->ops[types[t]].gemm;
    ks->ops[AI_TYPE_Q4_0].gemm = q4_0_gemm;
    ks->ops[AI_TYPE_Q8_0].gemm = q8_0_gemm;
    ks->ops[AI_TYPE_Q4_K].gemm = q4_k_gemm;
    ks->ops[AI_TYPE_Q6_K].gemm = q6_k_gemm;
    ks->act_ext_bytes = ext_bytes;
    ks->act_ext = ext_fill;
}
