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
 * since these tiles are bound by the VNNI instructions.  Q4_0 then changed
 * its summation in the whole set (x86_q40.h: 16 blocks per float step, one
 * lane per block) so that its tiles do 8 vpdpbusd + 3 float instructions
 * per 16 blocks and (weight, act) pair instead of 32 instructions, on
 * weights repacked once per call and activations rearranged once per act
 * row: 64 x 4096 weights x 64 act rows, one thread, ~150 -> ~550 GOP/s.
 * Q8_0 followed (the same repacked layout, its int8 + 128 as unsigned
 * bytes, the same act data, the int32 sums started from -128 times the
 * block sums): bench-kernels, 2 threads, ~235 -> ~490 GOP/s.
 *
 * Batch invariance.  The runtime relies on a row's result not depending on
 * the other rows of its batch, so every output here is computed with
 * exactly the arithmetic of the set's matrix-vector kernel for that type
 * (x86_kern.h, the nc = 1 case of T_cols; for Q4_0 and Q8_0 x86_q40.h's
 * q40_rows):
 * the same int32 sums, the same float products and fused multiply-adds in
 * the same order, the same horizontal sums.  Only what is shared between
 * outputs changes: a weight block is decoded once for NC activation rows
 * held in registers.  tests/unit/test_kernels_simd.c checks every batch
 * size against batch 1 bit for bit; a change to the matrix-vector
 * arithmetic of these types must be mirrored here.
 */
#include "kimpl.h"
#include "x86_base.h" /* hsum, f16, loads, nibbles: x86_kern.h's own */
#include "x86_q40.h"  /* Q4_0: the summation of the set's matrix-vector kernel */

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

/* ---- Q4_0 and Q8_0: x86_q40.h's summation over repacked weights -------------------- */

/*
 * Vector j of a group in lane-per-block order (x86_q40.h): from four quads'
 * vectors v[t] (lane q = 16 bytes of block 4t + q), o[j] with 128-bit lane
 * q = (v0, v1, v2, v3) dword 4q + j, i.e. lane 4q + t = block PI(4q + t)'s
 * dword j: a 4 x 4 transpose of dwords inside each 128-bit lane.
 */
INLINE void q40_t4(const __m512i v[4], __m512i o[4]) {
    __m512i t0 = _mm512_unpacklo_epi32(v[0], v[1]), t1 = _mm512_unpackhi_epi32(v[0], v[1]);
    __m512i t2 = _mm512_unpacklo_epi32(v[2], v[3]), t3 = _mm512_unpackhi_epi32(v[2], v[3]);
    o[0] = _mm512_unpacklo_epi64(t0, t2);
    o[1] = _mm512_unpackhi_epi64(t0, t2);
    o[2] = _mm512_unpacklo_epi64(t1, t3);
    o[3] = _mm512_unpackhi_epi64(t1, t3);
}

/*
 * Repacked weights, per group of 16 blocks (a short last one zero-filled),
 * Q40_WG bytes: eight vectors, vector j lane l = elements 4j .. 4j+3 of
 * block PI(l) as unsigned bytes (Q4_0's nibbles, Q8_0's int8 + 128), then
 * the 16 scales dw as floats in the order PI.
 *
 * Extra act data (kimpl.h act_ext) after an ACT_Q8_32 row, per group,
 * Q40_AG bytes: the activations in the same order (vector j lane l =
 * elements 4j .. 4j+3 of block PI(l)), then n8, 16 int32 = -8 times each
 * block's sum (where S starts: (n - 8) . a = n8 + n . a), then the 16
 * scales da in the order PI; zeros for blocks past the row.
 */
enum { Q40_WG = 576, Q40_AG = 640 };

/* weight rows x act rows per register tile */
#ifndef Q40_NR
#define Q40_NR 4
#endif
#ifndef Q40_NC
#define Q40_NC 4
#endif

/* Groups [g0, g0 + gn) of rows [0, n) of w (stride ws, nblk blocks; Q8_0
 * when q8, else Q4_0) repacked to out (row stride ost, 64-byte aligned). */
INLINE void q40_repack_rows(const uint8_t *w, size_t ws, int64_t n, int64_t nblk, int64_t g0, int64_t gn,
                            uint8_t *out, size_t ost, const int q8) {
    for (int64_t r = 0; r < n; r++, w += ws, out += ost)
        for (int64_t g = g0; g < g0 + gn; g++) {
            uint8_t *og = out + (g - g0) * Q40_WG;
            __m512i x[4], y[4], o[8];
            __m512 dw = q40_decode(w, g, nblk - 16 * g < 16 ? nblk - 16 * g : 16, q8, x, y, 4);
            q40_t4(x, o);
            q40_t4(y, o + 4);
            UNROLL
            for (int j = 0; j < 8; j++) _mm512_store_si512((void *)(og + 64 * j), o[j]);
            _mm512_store_ps((float *)(og + 512), dw);
        }
}

static void q40_repack(const uint8_t *w, size_t ws, int64_t n, int64_t nblk, int64_t g0, int64_t gn, uint8_t *out,
                       size_t ost, int q8) {
    if (q8) q40_repack_rows(w, ws, n, nblk, g0, gn, out, ost, 1);
    else q40_repack_rows(w, ws, n, nblk, g0, gn, out, ost, 0);
}

static size_t ext_bytes(int kind, int64_t k) {
    return kind == ACT_Q8_32 ? (size_t)((k / 32 + 15) / 16) * Q40_AG : 0;
}

static void ext_fill(int kind, void *row, int64_t k) {
    if (kind != ACT_Q8_32) return;
    const int8_t *q = act_q(row);
    const float *d = act_d(row, k);
    uint8_t *out = (uint8_t *)row + ai__act_row_size(ACT_Q8_32, k);
    const int64_t nblk = k / 32;
    for (int64_t g = 0; 16 * g < nblk; g++, out += Q40_AG) {
        int64_t m = nblk - 16 * g < 16 ? nblk - 16 * g : 16;
        __m512i ax[4], ay[4], o[8];
        q40_act_quads(q + 512 * g, 32 * m, ax, ay, NULL, 8, 4);
        q40_t4(ax, o);
        q40_t4(ay, o + 4);
        __m512i s = _mm512_setzero_si512();
        UNROLL
        for (int j = 0; j < 8; j++) {
            _mm512_storeu_si512((void *)(out + 64 * j), o[j]);
            s = _mm512_dpbusd_epi32(s, _mm512_set1_epi8(8), o[j]);
        }
        _mm512_storeu_si512((void *)(out + 512), _mm512_sub_epi32(_mm512_setzero_si512(), s));
        _mm512_storeu_ps((float *)(out + 576), q40_da(d + 16 * g, m));
    }
}

/*
 * NR repacked weight rows (wp, stride wst) x NC act rows (extra data at e,
 * stride as) over gn groups, the last one with lanes `last`.  Per group and
 * pair: eight vpdpbusd from n8 << sh (-8 or, sh = 4, -128 times the block
 * sums: Q4_0's or Q8_0's start), then x86_q40.h's float step.  The
 * accumulators of pair (r, c) live at st + r * sr + 16 * c between calls:
 * they start at zero (first) or from there, and end there or, when y is
 * not NULL, summed in y[c * ldy + r].  So a row's groups may come in
 * several calls, with the same float steps as in one.
 */
INLINE void q40_tile(const uint8_t *wp, size_t wst, const int NR, const uint8_t *e, size_t as, const int NC,
                     int64_t gn, __mmask16 last, int first, float *st, size_t sr, float *y, int64_t ldy,
                     const int sh) {
    __m512 acc[Q40_NR][Q40_NC];
    UNROLL
    for (int r = 0; r < NR; r++) UNROLL for (int c = 0; c < NC; c++)
        acc[r][c] = first ? _mm512_setzero_ps() : _mm512_load_ps(st + r * sr + 16 * c);
    for (int64_t g = 0; g < gn; g++) {
        const uint8_t *wg = wp + g * Q40_WG, *eg = e + g * Q40_AG;
        __m512i s[Q40_NR][Q40_NC];
        UNROLL
        for (int c = 0; c < NC; c++) {
            __m512i n8 = _mm512_loadu_si512((const void *)(eg + c * as + 512));
            if (sh) n8 = _mm512_slli_epi32(n8, sh);
            UNROLL
            for (int r = 0; r < NR; r++) s[r][c] = n8;
        }
        UNROLL
        for (int j = 0; j < 8; j++) {
            __m512i wv[Q40_NR];
            UNROLL
            for (int r = 0; r < NR; r++) wv[r] = _mm512_load_si512((const void *)(wg + r * wst + 64 * j));
            UNROLL
            for (int c = 0; c < NC; c++) {
                __m512i av = _mm512_loadu_si512((const void *)(eg + c * as + 64 * j));
                UNROLL
                for (int r = 0; r < NR; r++) s[r][c] = _mm512_dpbusd_epi32(s[r][c], wv[r], av);
            }
        }
        __mmask16 mk = g + 1 < gn ? (__mmask16)0xFFFF : last;
        __m512 dw[Q40_NR];
        UNROLL
        for (int r = 0; r < NR; r++) dw[r] = _mm512_load_ps((const float *)(wg + r * wst + 512));
        UNROLL
        for (int c = 0; c < NC; c++) {
            __m512 da = _mm512_loadu_ps((const float *)(eg + c * as + 576));
            UNROLL
            for (int r = 0; r < NR; r++) acc[r][c] = q40_step(acc[r][c], s[r][c], dw[r], da, mk);
        }
    }
    UNROLL
    for (int r = 0; r < NR; r++) UNROLL for (int c = 0; c < NC; c++) {
        if (y) y[c * ldy + r] = _mm512_reduce_add_ps(acc[r][c]);
        else _mm512_store_ps(st + r * sr + 16 * c, acc[r][c]);
    }
}

/* ---- Q8_0 in the peer's order: x86_kern.h SYM32_COLS for NC80 columns ------------ */

/* The AVX2 build's Q8_0 summation (8 lanes per block, one fma per block),
 * which the peer's kernels follow: kimpl.h ai__peer_ops q8_0, for the
 * opt-in peer mode only (this set's own Q8_0 kernels are x86_q40.h's). */
enum { NC80 = 8 };

INLINE void q8_0p_tile(TILE_ARGS) {
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

/* ---- the gemm wrappers ------------------------------------------------------------ */

/* One activation row (token generation) goes to the set's matrix-vector
 * kernel (x86_gemv.h, tuned for memory bandwidth; bit for bit T_cols at
 * nc = 1, and its row has no extra act data): the tiles here are for
 * batches.  matmul.c calls the gemv itself for one row; this is for direct
 * callers.  Set once, by ai__kset_fill_gemm_avx512 under dispatch.c's
 * pthread_once. */
static ai__gemv_fn mv_gemv[AI__TYPE_COUNT];
#define MV_CASE(TYPE)                                                                              \
    if (nb == 1 && mv_gemv[TYPE]) {                                                               \
        mv_gemv[TYPE](w, ws, nr, act, k, y);                                                        \
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
GEMM(q8_0p, NC80, )

/* The tiles of Q40_NR x Q40_NC and the leftovers, each an instance with
 * constant sizes, for Q4_0 (sh 0) and Q8_0 (sh 4). */
typedef void (*q40_tile_fn)(const uint8_t *wp, size_t wst, const uint8_t *e, size_t as, int64_t gn, __mmask16 last,
                            int first, float *st, size_t sr, float *y, int64_t ldy);
#define Q40_TILE(NAME, NR, NC, SH)                                                                   \
    static void NAME(const uint8_t *wp, size_t wst, const uint8_t *e, size_t as, int64_t gn, __mmask16 last, \
                     int first, float *st, size_t sr, float *y, int64_t ldy) {                      \
        q40_tile(wp, wst, NR, e, as, NC, gn, last, first, st, sr, y, ldy, SH);                      \
    }
#define Q40_TILES(P, SH)                                                                             \
    Q40_TILE(P##_full, Q40_NR, Q40_NC, SH)                                                           \
    Q40_TILE(P##_r1, 1, Q40_NC, SH)                                                                  \
    Q40_TILE(P##_c1, Q40_NR, 1, SH)                                                                  \
    Q40_TILE(P##_1, 1, 1, SH)
Q40_TILES(q40_tile, 0)
Q40_TILES(q80_tile, 4)
/* [q8]: full, one weight row, one act row, one pair */
static const q40_tile_fn q40_tiles[2][4] = {{q40_tile_full, q40_tile_r1, q40_tile_c1, q40_tile_1},
                                            {q80_tile_full, q80_tile_r1, q80_tile_c1, q80_tile_1}};

/*
 * Blocking.  The weights are repacked in pieces of Q40_G groups (k = 4096)
 * x at least Q40_CR rows (36 KiB of stack), and each piece is met by the act
 * rows Q40_NC at a time (their extra data for a piece, 5 KiB per row at
 * most, stays in L1 while the piece's rows pass).  Rows of one piece are
 * repacked once per call; longer rows are done piece by piece along k for
 * Q40_CB act rows at a time, their accumulators kept in st in between
 * (Q40_CR x Q40_CB x 64 bytes: 16 KiB).  4 x 4 tiles measured ~10% faster
 * than 4 x 3 and 4 x 2, ~30% faster than 2 x 4 (64 x 4096 and 64 x 14336
 * weights, 64 act rows, one thread).
 */
enum { Q40_G = 8, Q40_CR = 8, Q40_CB = 32 / Q40_NC * Q40_NC };

/* Rows [0, nr) (Q8_0 when q8, else Q4_0) x act rows [0, nb) piece by
 * piece (nb <= Q40_CB when the rows take more than one piece). */
static void q40_block(const uint8_t *W, size_t ws, int64_t nr, const uint8_t *A, size_t as, int64_t nb, int64_t k,
                      float *y, int64_t ldy, int q8) {
    const q40_tile_fn *tf = q40_tiles[q8 != 0];
    const int64_t nblk = k / 32, ng = (nblk + 15) / 16;
    const int64_t G = ng < Q40_G ? ng : Q40_G;
    const size_t wst = (size_t)G * Q40_WG, sr = Q40_CB * 16;
    int64_t ch = (int64_t)(Q40_CR * Q40_G * Q40_WG / wst);
    ch -= ch % Q40_NR; /* >= Q40_CR */
    _Alignas(64) uint8_t scr[Q40_CR * Q40_G * Q40_WG];
    _Alignas(64) float st[Q40_CR * Q40_CB * 16];
    const __mmask16 tail = nblk % 16 ? q40_mask(nblk % 16) : (__mmask16)0xFFFF;
    const size_t eo = ai__act_row_size(ACT_Q8_32, k);
    for (int64_t r0 = 0; r0 < nr; r0 += ch) {
        int64_t rn = nr - r0 < ch ? nr - r0 : ch;
        for (int64_t g0 = 0; g0 < ng; g0 += G) {
            int64_t gn = ng - g0 < G ? ng - g0 : G;
            int first = g0 == 0, end = g0 + gn == ng;
            __mmask16 last = end ? tail : (__mmask16)0xFFFF;
            q40_repack(W + (size_t)r0 * ws, ws, rn, nblk, g0, gn, scr, wst, q8);
            for (int64_t b = 0; b < nb; b += Q40_NC) {
                int64_t nc = nb - b < Q40_NC ? nb - b : Q40_NC;
                const uint8_t *e = A + (size_t)b * as + eo + (size_t)g0 * Q40_AG;
                for (int64_t r = 0; r < rn; r += Q40_NR) {
                    const uint8_t *wp = scr + (size_t)r * wst;
                    int64_t rr = rn - r < Q40_NR ? rn - r : Q40_NR;
                    /* pair (r + i, b + c): accumulators at sp + i * sr +
                     * 16 * c, result (end) at yp[c * ldy + i] */
                    float *sp = st + (size_t)r * sr + 16 * b;
                    float *yp = end ? y + b * ldy + r0 + r : NULL;
                    if (rr == Q40_NR && nc == Q40_NC) {
                        tf[0](wp, wst, e, as, gn, last, first, sp, sr, yp, ldy);
                    } else if (nc == Q40_NC) {
                        for (int64_t i = 0; i < rr; i++)
                            tf[1](wp + i * wst, wst, e, as, gn, last, first, sp + i * sr, sr,
                                        yp ? yp + i : NULL, ldy);
                    } else if (rr == Q40_NR) {
                        for (int64_t c = 0; c < nc; c++)
                            tf[2](wp, wst, e + c * as, as, gn, last, first, sp + 16 * c, sr,
                                        yp ? yp + c * ldy : NULL, ldy);
                    } else {
                        for (int64_t i = 0; i < rr; i++)
                            for (int64_t c = 0; c < nc; c++)
                                tf[3](wp + i * wst, wst, e + c * as, as, gn, last, first, sp + i * sr + 16 * c,
                                           sr, yp ? yp + c * ldy + i : NULL, ldy);
                    }
                }
            }
        }
    }
}

INLINE void q40_gemm(const void *w, size_t ws, int64_t nr, const void *act, size_t as, int64_t nb, int64_t k,
                     float *y, int64_t ldy, const int q8) {
    MV_CASE(q8 ? AI_TYPE_Q8_0 : AI_TYPE_Q4_0)
    const uint8_t *A = act;
    /* rows of one piece need no accumulators kept: all act rows at once */
    const int64_t cb = (k / 32 + 15) / 16 <= Q40_G ? nb : Q40_CB;
    for (int64_t b = 0; b < nb; b += cb)
        q40_block(w, ws, nr, A + (size_t)b * as, as, nb - b < cb ? nb - b : cb, k, y + b * ldy, ldy, q8);
}

static void q4_0_gemm(const void *w, size_t ws, int64_t nr, const void *act, size_t as, int64_t nb, int64_t k,
                      float *y, int64_t ldy) {
    q40_gemm(w, ws, nr, act, as, nb, k, y, ldy, 0);
}

static void q8_0_gemm(const void *w, size_t ws, int64_t nr, const void *act, size_t as, int64_t nb, int64_t k,
                      float *y, int64_t ldy) {
    q40_gemm(w, ws, nr, act, as, nb, k, y, ldy, 1);
}

void ai__kset_fill_gemm_avx512(ai__kset *ks) {
    static const uint32_t types[] = {AI_TYPE_Q4_0, AI_TYPE_Q8_0, AI_TYPE_Q4_K, AI_TYPE_Q6_K};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) mv_gemv[types[t]] = ks->ops[types[t]].gemv;
    ks->ops[AI_TYPE_Q4_0].gemm = q4_0_gemm;
    ks->ops[AI_TYPE_Q8_0].gemm = q8_0_gemm;
    ks->ops[AI_TYPE_Q4_K].gemm = q4_k_gemm;
    ks->ops[AI_TYPE_Q6_K].gemm = q6_k_gemm;
    ks->peer.q8_0 = q8_0p_gemm;
    ks->act_ext_bytes = ext_bytes;
    ks->act_ext = ext_fill;
}
