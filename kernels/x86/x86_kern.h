/*
 * x86_kern.h - the x86 kernels, written once and compiled twice: by
 * quants_avx2.c (AVX2+FMA+F16C) and by quants_avx512.c (adds AVX-512
 * F/BW/VL/VNNI).  Everything here is static: each including file gets its
 * own copies, built with its own flags, so no AVX-512 instruction can leak
 * into the AVX2 build.
 *
 * The including file defines ISA_VNNI (0 or 1) and FILL_NAME first.  The two
 * builds differ in the 8-bit dot-product primitive only:
 *   AVX2:  maddubs (u8 x s8 -> pairs of s16) then madd (-> s32)
 *   VNNI:  vpdpbusd (u8 x s8, four products summed into s32, no saturation)
 *
 * Shape of every quantized kernel: `T_cols` takes one weight row and NC
 * activation rows (NC = 1..4, a constant after inlining); each weight block
 * is decoded once into int8 vectors and multiplied with all NC activation
 * blocks, so the matrix-matrix path (gemm) decodes each block once per four
 * columns, and the matrix-vector path (dot) is the NC = 1 case.
 *
 * Lane layout: a 32-byte vector holds 32 consecutive elements; the 8 int32
 * lanes of a dot product cover elements 4i..4i+3, so the low 128-bit half is
 * elements 0..15 and the high half 16..31 (used for the 16-element
 * sub-blocks of Q2_K, Q3_K and Q6_K).
 */
#include "kimpl.h"
#include "x86_base.h" /* INLINE, hsum, f16, load256/128, nibbles */
#ifndef MAXC
#define MAXC 4 /* activation rows per register tile */
#endif

/* ---- primitives ------------------------------------------------------------- */

INLINE __m256i dot_u8(__m256i acc, __m256i u, __m256i s) {
#if ISA_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/* (u . s) per lane times a per-lane scale sc32 (int32 lanes; each group of
 * four lanes holds one scale). */
INLINE __m256i dot_u8_sc(__m256i acc, __m256i u, __m256i s, __m256i sc32) {
#if ISA_VNNI
    return _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s), sc32));
#else
    /* the same scales as int16 pairs: packs keeps each 128-bit half's value */
    __m256i sc16 = _mm256_packs_epi32(sc32, sc32);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), sc16));
#endif
}

/* The same for the Q4_K/Q5_K sub-blocks only: the scales sc32 are 0..63 and
 * |u . s| <= 31 * 128 * 4 fits in int16, so in the VNNI build vpdpwssd does
 * the multiply and the add exactly (see SCALE16 below). */
INLINE __m256i dot_u8_sc16(__m256i acc, __m256i u, __m256i s, __m256i sc32) {
#if ISA_VNNI
    return _mm256_dpwssd_epi32(acc, _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s), sc32);
#else
    return dot_u8_sc(acc, u, s, sc32);
#endif
}

/* Signed weights w meet signed activations a: |w| . (a with w's sign). */
INLINE __m256i dot_s8(__m256i acc, __m256i absw, __m256i w, __m256i a) {
    return dot_u8(acc, absw, _mm256_sign_epi8(a, w));
}

INLINE __m256i dot_s8_sc(__m256i acc, __m256i absw, __m256i w, __m256i a, __m256i sc32) {
    return dot_u8_sc(acc, absw, _mm256_sign_epi8(a, w), sc32);
}

/* The 32 bits of a little-endian u32 as 32 bytes of 0x10 or 0 (Q5 high bits). */
INLINE __m256i bits_to_0x10(const uint8_t *p) {
    uint32_t h;
    memcpy(&h, p, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h), shuf);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/* From 8 int32 scales (one per lane), the vector whose low half holds
 * scale 2t and high half scale 2t+1 (the two 16-element sub-blocks of a
 * 32-element vector). */
INLINE __m256i sc_pair(__m256i sc8x32, int t) {
    return _mm256_permutevar8x32_epi32(sc8x32, _mm256_set_epi32(2 * t + 1, 2 * t + 1, 2 * t + 1, 2 * t + 1,
                                                                  2 * t, 2 * t, 2 * t, 2 * t));
}

/* The 16 six-bit scales of a Q3_K block (12 bytes at p), offset by -32, as
 * int8 lanes: the same unpacking as k3_scales on 32-bit words. */
INLINE __m128i k3_unpack(const uint8_t *p) {
    uint32_t w0, w1, w2, o[4];
    memcpy(&w0, p, 4);
    memcpy(&w1, p + 4, 4);
    memcpy(&w2, p + 8, 4);
    o[0] = (w0 & 0x0f0f0f0f) | ((w2 << 4) & 0x30303030);
    o[1] = (w1 & 0x0f0f0f0f) | ((w2 << 2) & 0x30303030);
    o[2] = ((w0 >> 4) & 0x0f0f0f0f) | (w2 & 0x30303030);
    o[3] = ((w1 >> 4) & 0x0f0f0f0f) | ((w2 >> 2) & 0x30303030);
    return _mm_sub_epi8(_mm_loadu_si128((const __m128i *)o), _mm_set1_epi8(32));
}

#define COLS_ARGS const uint8_t *w, const uint8_t *const *a, int nc, int64_t k, float *out

/* ---- 32-element block types ------------------------------------------------- */

/* Decoders: a block -> 32 int8 weights (signed) for the sign trick. */
INLINE __m256i dec_q4_0(const uint8_t *b) { return _mm256_sub_epi8(nibbles(b + 2), _mm256_set1_epi8(8)); }
INLINE __m256i dec_q5_0(const uint8_t *b) {
    return _mm256_sub_epi8(_mm256_or_si256(nibbles(b + 6), bits_to_0x10(b + 2)), _mm256_set1_epi8(16));
}
INLINE __m256i dec_q8_0(const uint8_t *b) { return load256(b + 2); }
INLINE __m256i dec_iq4_nl(const uint8_t *b) {
    const __m128i t = _mm_loadu_si128((const __m128i *)ai__iq4nl_values);
    return _mm256_shuffle_epi8(_mm256_set_m128i(t, t), nibbles(b + 2));
}

/* Loops over the columns of a tile (nc is a constant after inlining) must
 * be unrolled, or GCC -O2 keeps the accumulators in memory. */
#define UNROLL _Pragma("GCC unroll 8")

/* Symmetric types: sum += (d_w*d_a) * (w . a). */
#define SYM32_COLS(T, BYTES)                                                              \
    INLINE void T##_cols(COLS_ARGS) {                                                     \
        __m256 acc[MAXC];                                                                 \
        UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();                  \
        for (int64_t i = 0; i < k / 32; i++, w += BYTES) {                                \
            __m256i q = dec_##T(w), aq = _mm256_sign_epi8(q, q);                          \
            float dw = f16(w);                                                            \
            UNROLL for (int c = 0; c < nc; c++) {                                          \
                __m256i p = dot_s8(_mm256_setzero_si256(), aq, q, load256(act_q(a[c]) + 32 * i)); \
                __m256 d = _mm256_set1_ps(dw * act_d(a[c], k)[i]);                        \
                acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc[c]);               \
            }                                                                             \
        }                                                                                 \
        UNROLL for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]);                         \
    }

#if ISA_VNNI
/*
 * Q4_0 and Q8_0 in the AVX-512 build: x86_q40.h's summation (16 blocks per
 * float step, lane = block), which the set's matrix-vector kernel and batch
 * tiles (gemm_avx512.c) follow too, so every path gives a row the same bits.
 */
#include "x86_q40.h"
INLINE void q4_0_cols(COLS_ARGS) {
    for (int c = 0; c < nc; c++) q40_rows(w, (size_t)(18 * (k / 32)), 1, a[c], k, out + c, 0);
}
INLINE void q8_0_cols(COLS_ARGS) {
    for (int c = 0; c < nc; c++) q40_rows(w, (size_t)(34 * (k / 32)), 1, a[c], k, out + c, 1);
}
#else
SYM32_COLS(q4_0, 18)
SYM32_COLS(q8_0, 34)
#endif

/* With a min: sum += (d_w*d_a) * (q . a) + m_w * s_a, q unsigned. */
INLINE __m256i dec_q4_1(const uint8_t *b) { return nibbles(b + 4); }
INLINE __m256i dec_q5_1(const uint8_t *b) { return _mm256_or_si256(nibbles(b + 8), bits_to_0x10(b + 4)); }

#define MIN32_COLS(T, BYTES)                                                              \
    INLINE void T##_cols(COLS_ARGS) {                                                     \
        __m256 acc[MAXC];                                                                 \
        float accm[MAXC];                                                                 \
        UNROLL for (int c = 0; c < nc; c++) {                                              \
            acc[c] = _mm256_setzero_ps();                                                 \
            accm[c] = 0;                                                                  \
        }                                                                                 \
        for (int64_t i = 0; i < k / 32; i++, w += BYTES) {                                \
            __m256i q = dec_##T(w);                                                       \
            float dw = f16(w), mw = f16(w + 2);                                           \
            UNROLL for (int c = 0; c < nc; c++) {                                          \
                __m256i p = dot_u8(_mm256_setzero_si256(), q, load256(act_q(a[c]) + 32 * i)); \
                __m256 d = _mm256_set1_ps(dw * act_d(a[c], k)[i]);                        \
                acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc[c]);               \
                accm[c] += mw * act_s32(a[c], k)[i];                                      \
            }                                                                             \
        }                                                                                 \
        UNROLL for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]) + accm[c];               \
    }

#if ISA_VNNI
/*
 * Q4_1, Q5_0, Q5_1 and IQ4_NL in the AVX-512 build: two blocks per 512-bit
 * step.  The 64 weights of blocks j, j+1 become bytes
 * (leg_z): the nibbles of each (nib64), the fifth bits of Q5_0/Q5_1 (qh of
 * both blocks as one 64-bit mask, added as 16 under it), IQ4_NL's codebook
 * with 128 added (so all entries are unsigned).  One vpdpbusd against the 64
 * activation bytes, started from -(off . a) for the types stored with an
 * offset (16 for Q5_0, 128 for IQ4_NL), gives the int32 lanes of both
 * blocks.  Floats (leg_step): lanes 0..7 times d_j * d_a_j, 8..15 times
 * d_j+1 * d_a_j+1 into one of two 512-bit accumulators (alternate pairs),
 * and for the types with a min accm += m_j * s_a_j, then m_j+1 * s_a_j+1
 * (a scalar chain, as MIN32_COLS).  An odd last block goes through 256-bit
 * arithmetic (leg_tail).  The matrix-vector rows (x86_gemv.h) use the same
 * helpers, so both give the same bits.
 */
enum { LEG_Q4_1, LEG_Q5_0, LEG_Q5_1, LEG_IQ4_NL };
#define LEG_BYTES(kind) ((kind) == LEG_Q4_1 ? 20 : (kind) == LEG_Q5_0 ? 22 : (kind) == LEG_Q5_1 ? 24 : 18)
#define LEG_MIN(kind) ((kind) == LEG_Q4_1 || (kind) == LEG_Q5_1)

/* The 64 weights of the blocks at b and b + LEG_BYTES, as unsigned bytes. */
INLINE __m512i leg_z(const uint8_t *b, const int kind) {
    const int bytes = LEG_BYTES(kind);
    const int qs = kind == LEG_Q4_1 ? 4 : kind == LEG_Q5_0 ? 6 : kind == LEG_Q5_1 ? 8 : 2;
    __m512i z = nib64(b + qs, b + bytes + qs);
    if (kind == LEG_Q5_0 || kind == LEG_Q5_1) {
        const int qh = kind == LEG_Q5_0 ? 2 : 4;
        uint32_t h0, h1;
        memcpy(&h0, b + qh, 4);
        memcpy(&h1, b + bytes + qh, 4);
        z = _mm512_mask_add_epi8(z, _cvtu64_mask64((uint64_t)h1 << 32 | h0), z, _mm512_set1_epi8(0x10));
    }
    if (kind == LEG_IQ4_NL) {
        const __m128i t = _mm_add_epi8(_mm_loadu_si128((const __m128i *)ai__iq4nl_values), _mm_set1_epi8((char)0x80));
        z = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(t), z);
    }
    return z;
}

/* Where vpdpbusd starts: -(off . a) for the 64 activation bytes av. */
INLINE __m512i leg_start(__m512i av, const int kind) {
    const int off = kind == LEG_Q5_0 ? 16 : kind == LEG_IQ4_NL ? 128 : 0;
    if (!off) return _mm512_setzero_si512();
    return _mm512_sub_epi32(_mm512_setzero_si512(),
                            _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8((char)off), av));
}

/* The float step of a pair: acc + p (int32 lanes of blocks j, j+1 at b)
 * times the block scales, against the act row's scales ad (and sums as) at
 * j; the min terms go to accm. */
INLINE __m512 leg_step(__m512i p, const uint8_t *b, const float *ad, const float *as, const int kind, __m512 acc,
                       float *accm) {
    const int bytes = LEG_BYTES(kind);
    __m512 sc;
    if (LEG_MIN(kind)) {
        /* [d_j, m_j, d_j+1, m_j+1] in one conversion, times [da_j, s_j, da_j+1, s_j+1] */
        uint32_t w0, w1;
        memcpy(&w0, b, 4);
        memcpy(&w1, b + bytes, 4);
        __m128 dm = _mm_cvtph_ps(_mm_insert_epi32(_mm_cvtsi32_si128((int)w0), (int)w1, 1));
        __m128 x = _mm_unpacklo_ps(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)ad)),
                                   _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)as)));
        __m128 pr = _mm_mul_ps(dm, x);
        const __m512i idx = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi32(2), 1);
        sc = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(pr));
        *accm += _mm_cvtss_f32(_mm_movehdup_ps(pr));
        *accm += _mm_cvtss_f32(_mm_permute_ps(pr, 3));
    } else {
        __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128((int)((uint32_t)rd16(b) | (uint32_t)rd16(b + bytes) << 16)));
        __m128 pr = _mm_mul_ps(dw, _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)ad)));
        const __m512i idx = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi32(1), 1);
        sc = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(pr));
    }
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, acc);
}

/* One block b (the odd last one) against act block j: 256-bit, as T_cols
 * of the AVX2 build. */
INLINE void leg_tail(const uint8_t *b, const int8_t *aq, const float *ad, const float *as, const int kind,
                     __m256 *acc2, float *accm) {
    __m256i q = kind == LEG_Q4_1 ? dec_q4_1(b) : kind == LEG_Q5_0 ? dec_q5_0(b) : kind == LEG_Q5_1 ? dec_q5_1(b) : dec_iq4_nl(b);
    __m256i av = load256(aq);
    __m256i p = LEG_MIN(kind) ? dot_u8(_mm256_setzero_si256(), q, av)
                              : dot_s8(_mm256_setzero_si256(), _mm256_sign_epi8(q, q), q, av);
    *acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(f16(b) * ad[0]), *acc2);
    if (LEG_MIN(kind)) *accm += f16(b + 2) * as[0];
}

INLINE float leg_sum(__m512 acc, __m512 accb, __m256 acc2, float accm, const int kind) {
    float s = _mm512_reduce_add_ps(_mm512_add_ps(acc, accb)) + hsum(acc2);
    return LEG_MIN(kind) ? s + accm : s;
}

/* Pair j of the columns: into acc (j % 4 == 0) or accb (j % 4 == 2). */
INLINE void leg_pair_cols(const uint8_t *w, const uint8_t *const *a, int nc, int64_t k, int64_t j, const int kind,
                          __m512 *acc, float *accm) {
    const uint8_t *b = w + LEG_BYTES(kind) * j;
    __m512i z = leg_z(b, kind);
    UNROLL for (int c = 0; c < nc; c++) {
        __m512i av = _mm512_loadu_si512((const void *)(act_q(a[c]) + 32 * j));
        __m512i p = _mm512_dpbusd_epi32(leg_start(av, kind), z, av);
        acc[c] = leg_step(p, b, act_d(a[c], k) + j, act_s32(a[c], k) + j, kind, acc[c], &accm[c]);
    }
}

INLINE void leg_cols(COLS_ARGS, const int kind) {
    __m512 acc[MAXC], accb[MAXC];
    __m256 acc2[MAXC];
    float accm[MAXC];
    UNROLL for (int c = 0; c < nc; c++) {
        acc[c] = accb[c] = _mm512_setzero_ps();
        acc2[c] = _mm256_setzero_ps();
        accm[c] = 0;
    }
    const int64_t nb = k / 32;
    int64_t j = 0;
    for (; j + 4 <= nb; j += 4) {
        leg_pair_cols(w, a, nc, k, j, kind, acc, accm);
        leg_pair_cols(w, a, nc, k, j + 2, kind, accb, accm);
    }
    if (j + 2 <= nb) {
        leg_pair_cols(w, a, nc, k, j, kind, acc, accm);
        j += 2;
    }
    UNROLL for (int c = 0; c < nc; c++) {
        if (j < nb)
            leg_tail(w + LEG_BYTES(kind) * j, act_q(a[c]) + 32 * j, act_d(a[c], k) + j, act_s32(a[c], k) + j, kind,
                     &acc2[c], &accm[c]);
        out[c] = leg_sum(acc[c], accb[c], acc2[c], accm[c], kind);
    }
}
INLINE void q4_1_cols(COLS_ARGS) { leg_cols(w, a, nc, k, out, LEG_Q4_1); }
INLINE void q5_0_cols(COLS_ARGS) { leg_cols(w, a, nc, k, out, LEG_Q5_0); }
INLINE void q5_1_cols(COLS_ARGS) { leg_cols(w, a, nc, k, out, LEG_Q5_1); }
INLINE void iq4_nl_cols(COLS_ARGS) { leg_cols(w, a, nc, k, out, LEG_IQ4_NL); }
#else
SYM32_COLS(q5_0, 22)
SYM32_COLS(iq4_nl, 18)
MIN32_COLS(q4_1, 20)
MIN32_COLS(q5_1, 24)
#endif

/* ---- 256-element super-block types ---------------------------------------- */

/*
 * Each computes, per super-block, an int32 vector isum (the scaled sum over
 * sub-blocks of q . a), the integer correction `corr` (mins, or the offset of
 * types stored unsigned), and adds  d_w*d_a*(isum) - dcorr*d_a*corr.
 */

/* Q4_K and Q5_K share everything but the fifth bit (HB: 0 or 1). */
#define K45_COLS(T, BYTES, QS, HB, DOT)                                                       \
    INLINE void T##_cols(COLS_ARGS) {                                                      \
        __m256 acc[MAXC], accm[MAXC];                                                      \
        UNROLL for (int c = 0; c < nc; c++) acc[c] = accm[c] = _mm256_setzero_ps();        \
        const __m256i m4 = _mm256_set1_epi8(0x0F), b10 = _mm256_set1_epi8(0x10);           \
        for (int64_t i = 0; i < k / 256; i++, w += BYTES) {                                \
            uint8_t sc[8], mn[8];                                                          \
            k4_unpack(w + 4, sc, mn);                                                      \
            float d = f16(w), dmin = f16(w + 2);                                           \
            /* mins, each twice (one per 16 of its 32 elements), as int16 */              \
            __m128i mv = _mm_loadl_epi64((const __m128i *)mn);                             \
            __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mv, mv));                 \
            __m256i sc32 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc));     \
            __m256i isum[MAXC];                                                            \
            UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm256_setzero_si256();          \
            __m256i qh = HB ? load256(w + 16) : _mm256_setzero_si256();                    \
            (void)qh;                                                                      \
            (void)b10;                                                                     \
            for (int j = 0; j < 4; j++) {                                                  \
                __m256i q = load256(w + QS + 32 * j);                                      \
                __m256i lo = _mm256_and_si256(q, m4);                                      \
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);                \
                if (HB) {                                                                  \
                    lo = _mm256_or_si256(lo, _mm256_and_si256(                             \
                        _mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * j), 4), b10));        \
                    hi = _mm256_or_si256(hi, _mm256_and_si256(                             \
                        _mm256_slli_epi16(_mm256_srli_epi16(qh, 2 * j + 1), 4), b10));    \
                }                                                                          \
                __m256i sl = _mm256_permutevar8x32_epi32(sc32, _mm256_set1_epi32(2 * j));  \
                __m256i sh = _mm256_permutevar8x32_epi32(sc32, _mm256_set1_epi32(2 * j + 1)); \
                UNROLL for (int c = 0; c < nc; c++) {                                      \
                    const int8_t *qa = act_q(a[c]) + 256 * i + 64 * j;                     \
                    isum[c] = DOT(isum[c], lo, load256(qa), sl);                           \
                    isum[c] = DOT(isum[c], hi, load256(qa + 32), sh);                      \
                }                                                                          \
            }                                                                              \
            UNROLL for (int c = 0; c < nc; c++) {                                          \
                __m256i corr = _mm256_madd_epi16(load256(act_bs256(a[c], k) + 16 * i), m16); \
                float da = act_d(a[c], k)[i];                                              \
                acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_set1_ps(d * da), acc[c]); \
                accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(corr), _mm256_set1_ps(dmin * da), accm[c]); \
            }                                                                              \
        }                                                                                  \
        UNROLL for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]) - hsum(accm[c]);         \
    }

#if ISA_VNNI
/* the tiles keep vpmulld: vpdpwssd measured 86 vs 91 GOP/s, but this tile
 * swings ~76..95 GOP/s with code layout alone, so that is not conclusive */
K45_COLS(q4_k_256, 144, 16, 0, dot_u8_sc)
/*
 * Q4_K in the AVX-512 build: each 32-byte chunk of nibbles becomes one
 * 512-bit vector [low nibbles | high nibbles], i.e. 64 consecutive elements
 * (two sub-blocks), so one vpdpbusd and one scale multiply per 64 elements
 * instead of two of each.  The two 256-bit halves of the integer sum are
 * added before the float step, giving exactly the int32 lanes (and so the
 * float results) of the 256-bit code, so the matrix-vector path (nc = 1,
 * here) and the register tiles (nc > 1, the 256-bit code, which needs half
 * the registers per column) stay batch-invariant.
 */
INLINE void q4_k_cols(COLS_ARGS) {
    if (nc > 1) {
        q4_k_256_cols(w, a, nc, k, out);
        return;
    }
    __m256 acc[MAXC], accm[MAXC];
    for (int c = 0; c < nc; c++) acc[c] = accm[c] = _mm256_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t i = 0; i < k / 256; i++, w += 144) {
        uint8_t sc[8], mn[8];
        k4_unpack(w + 4, sc, mn);
        /* d and dmin in one conversion (lanes 0, 1) */
        uint32_t dd;
        memcpy(&dd, w, 4);
        __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)dd));
        __m128i mv = _mm_loadl_epi64((const __m128i *)mn);
        __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mv, mv));
        __m512i sc32 = _mm512_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc));
        __m512i isum[MAXC];
        for (int c = 0; c < nc; c++) isum[c] = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) {
            __m256i q = load256(w + 16 + 32 * j);
            __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1);
            z = _mm512_and_si512(z, m4);
            /* lanes 0..7: scale 2j, lanes 8..15: scale 2j+1 */
            __m512i s = _mm512_permutexvar_epi32(
                _mm512_inserti64x4(_mm512_set1_epi32(2 * j), _mm256_set1_epi32(2 * j + 1), 1), sc32);
            for (int c = 0; c < nc; c++) {
                __m512i av = _mm512_loadu_si512((const void *)(act_q(a[c]) + 256 * i + 64 * j));
                isum[c] = _mm512_dpwssd_epi32(isum[c], _mm512_dpbusd_epi32(_mm512_setzero_si512(), z, av), s);
            }
        }
        for (int c = 0; c < nc; c++) {
            __m256i is = _mm256_add_epi32(_mm512_castsi512_si256(isum[c]), _mm512_extracti64x4_epi64(isum[c], 1));
            __m256i corr = _mm256_madd_epi16(load256(act_bs256(a[c], k) + 16 * i), m16);
            /* lanes 0, 1: d * d_a, dmin * d_a (the same float products) */
            __m128 sd = _mm_mul_ps(dm, _mm_set1_ps(act_d(a[c], k)[i]));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_broadcastss_ps(sd), acc[c]);
            accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(corr), _mm256_permutevar8x32_ps(_mm256_castps128_ps256(sd), _mm256_set1_epi32(1)), accm[c]);
        }
    }
    for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]) - hsum(accm[c]);
}
#else
K45_COLS(q4_k, 144, 16, 0, dot_u8_sc)
#endif
K45_COLS(q5_k, 176, 48, 1, dot_u8_sc16)

#if ISA_VNNI
/*
 * SCALE16: a vpdpbusd result p (four u8 x s8 products) is at most
 * 63 * 128 * 4 = 32256 in magnitude for the 6-bit and 4-bit k-quants, so its
 * low 16 bits, read as int16, are p itself; with the scale s in the low int16
 * of the other operand's lane and 0 in the high one, vpdpwssd adds exactly
 * p * s: the multiply and the add of isum += p * s in one instruction.
 */
/*
 * Q6_K matrix-vector in the AVX-512 build: 64 consecutive elements per
 * 512-bit vector ([q0|q1] and [q2|q3] of q6_k_cols), the shifts of the high
 * bits chosen per 256-bit half (vpsllvw/vpsrlvw), so one vpdpbusd and one
 * scale multiply per 64 elements.  Scale lanes: lane l of [q0|q1] of half h
 * uses scale 8h + l/4 (four int32 lanes per 16 elements), of [q2|q3]
 * 8h + 4 + l/4.  The halves of the int32 sum are added back to the 256-bit
 * layout first: bit-identical to the 256-bit q6_k_cols below (kept for
 * the AVX2 build), so results do not depend on the tile width.
 */
INLINE void q6_k_cols512(COLS_ARGS) {
    __m256 acc[MAXC];
    for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F), m3 = _mm512_set1_epi8(0x30);
    const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m128i b0 = _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    for (int64_t i = 0; i < k / 256; i++, w += 210) {
        __m128i sc8 = load128(w + 192);
        __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        float d = f16(w + 208);
        __m512i isum[MAXC];
        for (int c = 0; c < nc; c++) isum[c] = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m512i l = _mm512_loadu_si512((const void *)(w + 64 * h));
            __m512i qh = _mm512_broadcast_i64x4(load256(w + 128 + 32 * h));
            __m512i q01 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(qh, shl), m3));
            __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                          _mm512_and_si512(_mm512_srlv_epi16(qh, shr), m3));
            /* scale bytes 8h + l/4 and 8h + 4 + l/4, l = 0..15 */
            __m128i base = _mm_add_epi8(b0, _mm_set1_epi8((char)(8 * h)));
            /* int16 scale in the low half of each int32 lane, 0 above (see SCALE16) */
            __m512i s01 = _mm512_cvtepu16_epi32(_mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, base)));
            __m512i s23 = _mm512_cvtepu16_epi32(
                _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, _mm_add_epi8(base, _mm_set1_epi8(4)))));
            for (int c = 0; c < nc; c++) {
                const int8_t *ah = act_q(a[c]) + 256 * i + 128 * h;
                __m512i p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q01, _mm512_loadu_si512((const void *)ah));
                __m512i p23 =
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), q23, _mm512_loadu_si512((const void *)(ah + 64)));
                isum[c] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(isum[c], p01, s01), p23, s23);
            }
        }
        for (int c = 0; c < nc; c++) {
            __m256i is = _mm256_add_epi32(_mm512_castsi512_si256(isum[c]), _mm512_extracti64x4_epi64(isum[c], 1));
            __m256i corr = _mm256_madd_epi16(load256(act_bs256(a[c], k) + 16 * i), sc16);
            __m256i tot = _mm256_sub_epi32(is, _mm256_slli_epi32(corr, 5));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(tot), _mm256_set1_ps(d * act_d(a[c], k)[i]), acc[c]);
        }
    }
    for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]);
}
#endif

/* Q6_K: q stored 0..63 with offset 32: q.a - 32*sum(a), per 16 via bsums. */
INLINE void q6_k_cols(COLS_ARGS) {
#if ISA_VNNI
    if (nc <= 4) {
        q6_k_cols512(w, a, nc, k, out);
        return;
    }
#endif
    __m256 acc[MAXC];
    for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(0x30);
    for (int64_t i = 0; i < k / 256; i++, w += 210) {
        __m128i sc8 = load128(w + 192);
        __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        __m256i scv[2] = {_mm256_cvtepi8_epi32(sc8), _mm256_cvtepi8_epi32(_mm_srli_si128(sc8, 8))};
        float d = f16(w + 208);
        __m256i isum[MAXC];
        for (int c = 0; c < nc; c++) isum[c] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i l0 = load256(w + 64 * h), l1 = load256(w + 64 * h + 32);
            __m256i qh = load256(w + 128 + 32 * h);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m3));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m3));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m3));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), m3));
            for (int t = 0; t < 4; t++) {
                __m256i s32 = sc_pair(scv[h], t);
                for (int c = 0; c < nc; c++)
                    isum[c] = dot_u8_sc(isum[c], q[t], load256(act_q(a[c]) + 256 * i + 128 * h + 32 * t), s32);
            }
        }
        for (int c = 0; c < nc; c++) {
            __m256i corr = _mm256_madd_epi16(load256(act_bs256(a[c], k) + 16 * i), sc16);
            __m256i tot = _mm256_sub_epi32(isum[c], _mm256_slli_epi32(corr, 5));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(tot), _mm256_set1_ps(d * act_d(a[c], k)[i]), acc[c]);
        }
    }
    for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]);
}

/* Q2_K: q 0..3 with per-16 scales; mins via bsums. */
INLINE void q2_k_cols(COLS_ARGS) {
    __m256 acc[MAXC], accm[MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = accm[c] = _mm256_setzero_ps();
    const __m256i m2 = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < k / 256; i++, w += 84) {
        __m128i sb = load128(w);
        __m128i lo = _mm_and_si128(sb, _mm_set1_epi8(0x0F)), hi = _mm_and_si128(_mm_srli_epi16(sb, 4), _mm_set1_epi8(0x0F));
        __m256i m16 = _mm256_cvtepu8_epi16(hi);
        __m256i scv[2] = {_mm256_cvtepu8_epi32(lo), _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))};
        float d = f16(w + 80), dmin = f16(w + 82);
        __m256i isum[MAXC];
        UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i qs = load256(w + 16 + 32 * h);
            for (int t = 0; t < 4; t++) {
                __m256i q = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * t), m2);
                __m256i s32 = sc_pair(scv[h], t);
                UNROLL for (int c = 0; c < nc; c++)
                    isum[c] = dot_u8_sc(isum[c], q, load256(act_q(a[c]) + 256 * i + 128 * h + 32 * t), s32);
            }
        }
        UNROLL for (int c = 0; c < nc; c++) {
            __m256i corr = _mm256_madd_epi16(load256(act_bs256(a[c], k) + 16 * i), m16);
            float da = act_d(a[c], k)[i];
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_set1_ps(d * da), acc[c]);
            accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(corr), _mm256_set1_ps(dmin * da), accm[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]) - hsum(accm[c]);
}

#if ISA_VNNI
/*
 * Q3_K and IQ4_XS in the AVX-512 build: 64 elements (two 32-element chunks)
 * per 512-bit step, decoded once for all columns of a tile here and shared
 * with the matrix-vector kernels (x86_gemv.h).  The int32 lanes are summed
 * per 256-bit half, and the halves added give exactly the 8 lanes of the
 * 256-bit code (kept for the AVX2 build), so the float steps are its own.
 */

/* k3_unpack in vector registers (its word arithmetic lane by lane: the
 * word stores of k3_unpack read back as one vector stall store
 * forwarding); the masked load reads the 12 scale bytes only. */
INLINE __m128i k3_unpack_v(const uint8_t *p) {
    __m128i v = _mm_maskz_loadu_epi8(0x0FFF, p);            /* [w0, w1, w2, 0] */
    __m128i lo = _mm_srlv_epi32(_mm_shuffle_epi32(v, 0x44), _mm_setr_epi32(0, 0, 4, 4)); /* w0 w1 w0>>4 w1>>4 */
    __m128i w2 = _mm_shuffle_epi32(v, 0xAA);
    __m128i hi = _mm_srlv_epi32(_mm_sllv_epi32(w2, _mm_setr_epi32(4, 2, 0, 0)), _mm_setr_epi32(0, 0, 0, 2));
    __m128i o = _mm_or_si128(_mm_and_si128(lo, _mm_set1_epi8(0x0F)), _mm_and_si128(hi, _mm_set1_epi8(0x30)));
    return _mm_sub_epi8(o, _mm_set1_epi8(32));
}

/* Q3_K: the 16 scales (k3_unpack_v) as int32 lanes holding the int16 scale
 * in their low half and 0 above, for vpdpwssd (|u . a| <= 7 * 128 * 4 fits
 * int16; see SCALE16). */
INLINE __m512i q3k_s32(__m128i sc8) {
    return _mm512_and_si512(_mm512_cvtepi8_epi32(sc8), _mm512_set1_epi32(0xFFFF));
}

/* Q2_K and Q3_K: the 2-bit values of chunks tp, tp+1 (tp even) of a half
 * whose 32 qs bytes are at qs: loaded to both halves of the vector and
 * shifted by 2tp / 2tp+2 per half (0..3 per byte). */
INLINE __m512i k2_u64(const uint8_t *qs, int tp) {
    const __m512i shv = _mm512_inserti64x4(_mm512_set1_epi16((short)(2 * tp)), _mm256_set1_epi16((short)(2 * tp + 2)), 1);
    return _mm512_and_si512(_mm512_srlv_epi16(_mm512_broadcast_i64x4(load256(qs)), shv), _mm512_set1_epi8(3));
}

/* Q3_K: u = low2 | hbit << 2 (0..7) of chunks tp, tp+1 (tp even) of half h of
 * block b: the low bits (k2_u64), the third bit (bit 4h+tp / 4h+tp+1 of the
 * hmask bytes) tested into a byte mask and added as 4 under it. */
INLINE __m512i q3k_u64(const uint8_t *b, int h, int tp) {
    const __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (4 * h + tp))),
                                           _mm256_set1_epi8((char)(1 << (4 * h + tp + 1))), 1);
    __m512i u = k2_u64(b + 32 + 32 * h, tp);
    __mmask64 hb = _mm512_test_epi8_mask(_mm512_broadcast_i64x4(load256(b)), bit);
    return _mm512_mask_add_epi8(u, hb, u, _mm512_set1_epi8(4));
}

/* Q2_K and Q3_K (per-16 scales s32, int32 lanes, see q3k_s32): the scales of
 * step (h, tp): lanes 4j..4j+3 <- scale 8h + 2tp + j. */
INLINE __m512i k16_scales(__m512i s32, int h, int tp) {
    const int b = 8 * h + 2 * tp;
    return _mm512_permutexvar_epi32(
        _mm512_setr_epi32(b, b, b, b, b + 1, b + 1, b + 1, b + 1, b + 2, b + 2, b + 2, b + 2, b + 3, b + 3, b + 3, b + 3),
        s32);
}

/* The int32 sum of a Q3_K super-block i (vector isum) -> the float step of
 * q3_k_cols: tot = isum - 4 * corr, times d_w * d_a. */
INLINE __m256 q3k_step(__m512i isum, __m256i sc16, const uint8_t *a, int64_t k, int64_t i, float d, __m256 acc) {
    __m256i is = _mm256_add_epi32(_mm512_castsi512_si256(isum), _mm512_extracti64x4_epi64(isum, 1));
    __m256i corr = _mm256_madd_epi16(load256(act_bs256(a, k) + 16 * i), sc16);
    __m256i tot = _mm256_sub_epi32(is, _mm256_slli_epi32(corr, 2));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(tot), _mm256_set1_ps(d * act_d(a, k)[i]), acc);
}

INLINE void q3_k_cols(COLS_ARGS) {
    __m256 acc[MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / 256; i++, w += 110) {
        __m128i sc8 = k3_unpack_v(w + 96);
        __m512i s32 = q3k_s32(sc8), isum[MAXC];
        UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm512_setzero_si512();
        UNROLL for (int h = 0; h < 2; h++) UNROLL for (int tp = 0; tp < 4; tp += 2) {
            __m512i u = q3k_u64(w, h, tp), sv = k16_scales(s32, h, tp);
            UNROLL for (int c = 0; c < nc; c++) {
                __m512i av = _mm512_loadu_si512((const void *)(act_q(a[c]) + 256 * i + 128 * h + 32 * tp));
                isum[c] = _mm512_dpwssd_epi32(isum[c], _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, av), sv);
            }
        }
        __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        float d = f16(w + 108);
        UNROLL for (int c = 0; c < nc; c++) acc[c] = q3k_step(isum[c], sc16, a[c], k, i, d, acc[c]);
    }
    UNROLL for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]);
}

/* IQ4_XS: the eight six-bit signed scales of block b as int32 lanes 0..7
 * (scale s: nibble s of bytes 4..7, bits 2s, 2s+1 of bytes 2..3 above). */
INLINE __m512i iq4xs_scales(const uint8_t *b) {
    uint32_t lo4;
    memcpy(&lo4, b + 4, 4);
    __m256i l = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)lo4), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                                 _mm256_set1_epi32(0xF));
    __m256i h = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)rd16(b + 2)), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
                                 _mm256_set1_epi32(3));
    return _mm512_castsi256_si512(_mm256_sub_epi32(_mm256_or_si256(l, _mm256_slli_epi32(h, 4)), _mm256_set1_epi32(32)));
}

/* IQ4_XS: the 4-bit indices of sub-blocks s, s+1 of block b in element order
 * [lo_s, hi_s, lo_s+1, hi_s+1] (as nib64 arranges a block pair). */
INLINE __m512i iq4xs_idx64(const uint8_t *b, int s) { return nib64(b + 8 + 16 * s, b + 24 + 16 * s); }

/* IQ4_XS: lanes 0..7 <- scale s, 8..15 <- scale s+1. */
INLINE __m512i iq4xs_pair(__m512i sc, int s) {
    return _mm512_permutexvar_epi32(_mm512_inserti64x4(_mm512_set1_epi32(s), _mm256_set1_epi32(s + 1), 1), sc);
}

/* The tile: the codebook values v are signed, so |v| meets a with v's sign
 * (a >= -127 in ACT_Q8_256, so -a fits), the sign mask shared by the
 * columns; |v . a| may exceed int16, so the scales multiply with vpmulld. */
INLINE void iq4_xs_cols(COLS_ARGS) {
    __m256 acc[MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m512i tab = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)ai__iq4nl_values));
    for (int64_t i = 0; i < k / 256; i++, w += 136) {
        __m512i sc = iq4xs_scales(w), isum[MAXC];
        UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm512_setzero_si512();
        UNROLL for (int s = 0; s < 8; s += 2) {
            __m512i v = _mm512_shuffle_epi8(tab, iq4xs_idx64(w, s));
            __m512i av_abs = _mm512_abs_epi8(v), sv = iq4xs_pair(sc, s);
            __mmask64 neg = _mm512_movepi8_mask(v);
            UNROLL for (int c = 0; c < nc; c++) {
                __m512i x = _mm512_loadu_si512((const void *)(act_q(a[c]) + 256 * i + 32 * s));
                x = _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x);
                __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), av_abs, x);
                isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(p, sv));
            }
        }
        float d = f16(w);
        UNROLL for (int c = 0; c < nc; c++) {
            __m256i is = _mm256_add_epi32(_mm512_castsi512_si256(isum[c]), _mm512_extracti64x4_epi64(isum[c], 1));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(d * act_d(a[c], k)[i]), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]);
}
#else
/* Q3_K: u = low2 | hbit<<2 in 0..7, q = u - 4: q.a = u.a - 4*sum(a). */
INLINE void q3_k_cols(COLS_ARGS) {
    __m256 acc[MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m2 = _mm256_set1_epi8(3), b4 = _mm256_set1_epi8(4);
    for (int64_t i = 0; i < k / 256; i++, w += 110) {
        __m128i sc8 = k3_unpack(w + 96);
        __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        __m256i scv[2] = {_mm256_cvtepi8_epi32(sc8), _mm256_cvtepi8_epi32(_mm_srli_si128(sc8, 8))};
        float d = f16(w + 108);
        __m256i hm = load256(w);
        __m256i isum[MAXC];
        UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i qs = load256(w + 32 + 32 * h);
            for (int t = 0; t < 4; t++) {
                int bit = 4 * h + t;
                __m256i hb = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(hm, bit), 2), b4);
                __m256i q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qs, 2 * t), m2), hb);
                __m256i s32 = sc_pair(scv[h], t);
                UNROLL for (int c = 0; c < nc; c++)
                    isum[c] = dot_u8_sc(isum[c], q, load256(act_q(a[c]) + 256 * i + 128 * h + 32 * t), s32);
            }
        }
        UNROLL for (int c = 0; c < nc; c++) {
            __m256i corr = _mm256_madd_epi16(load256(act_bs256(a[c], k) + 16 * i), sc16);
            __m256i tot = _mm256_sub_epi32(isum[c], _mm256_slli_epi32(corr, 2));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(tot), _mm256_set1_ps(d * act_d(a[c], k)[i]), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]);
}

/* IQ4_XS: codebook values (signed) with six-bit signed scales per 32. */
INLINE void iq4_xs_cols(COLS_ARGS) {
    __m256 acc[MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m128i t = _mm_loadu_si128((const __m128i *)ai__iq4nl_values);
    const __m256i tab = _mm256_set_m128i(t, t);
    for (int64_t i = 0; i < k / 256; i++, w += 136) {
        float d = f16(w);
        uint16_t sh = (uint16_t)(w[2] | w[3] << 8);
        __m256i isum[MAXC];
        UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm256_setzero_si256();
        for (int s = 0; s < 8; s++) {
            int ls = (((w[4 + s / 2] >> (4 * (s % 2))) & 0xF) | (((sh >> (2 * s)) & 3) << 4)) - 32;
            __m256i q = _mm256_shuffle_epi8(tab, nibbles(w + 8 + 16 * s)), aq = _mm256_sign_epi8(q, q);
            __m256i s32 = _mm256_set1_epi32(ls);
            UNROLL for (int c = 0; c < nc; c++)
                isum[c] = dot_s8_sc(isum[c], aq, q, load256(act_q(a[c]) + 256 * i + 32 * s), s32);
        }
        UNROLL for (int c = 0; c < nc; c++)
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_set1_ps(d * act_d(a[c], k)[i]), acc[c]);
    }
    UNROLL for (int c = 0; c < nc; c++) out[c] = hsum(acc[c]);
}

#endif

/* ---- plain float types ---------------------------------------------------------- */

INLINE __m256 ld_f32(const uint8_t *p) { return _mm256_loadu_ps((const float *)p); }
INLINE __m256 ld_f16(const uint8_t *p) { return _mm256_cvtph_ps(load128(p)); }
INLINE __m256 ld_bf16(const uint8_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(p)), 16));
}
INLINE float sc_f32(const uint8_t *p, int64_t i) { return ((const float *)p)[i]; }
INLINE float sc_f16(const uint8_t *p, int64_t i) { return _cvtsh_ss(((const uint16_t *)p)[i]); }
INLINE float sc_bf16(const uint8_t *p, int64_t i) { return ai__bf16_to_f32(((const uint16_t *)p)[i]); }

/* The float kernels' vector: 8 floats in both builds.  The arithmetic
 * contract of the float types (x86_fgemm.h: one 16-lane accumulator per
 * output, i.e. two 8-lane halves, summed as hsum(lo + hi)) is shared by the
 * one-row kernel, the matrix-vector rows and the blocked matrix-matrix tiles,
 * so a row's result never depends on its batch; a 16-lane vf with two
 * accumulators would sum in another order.
 * vf_sum2(a, b): the sum of the lanes of a + b, in a fixed order. */
#if 0
#else
typedef __m256 vf;
#define VF_N 8
INLINE vf vf_zero(void) { return _mm256_setzero_ps(); }
INLINE vf vf_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
INLINE float vf_sum2(vf a, vf b) { return hsum(_mm256_add_ps(a, b)); }
INLINE vf vld_f32(const uint8_t *p) { return ld_f32(p); }
INLINE vf vld_f16(const uint8_t *p) { return ld_f16(p); }
INLINE vf vld_bf16(const uint8_t *p) { return ld_bf16(p); }
#endif

/* Weights and activations of the same float type; 2 * VF_N elements per
 * step with two accumulators per column, the rest one by one. */
#define FLOAT_COLS(T, ESZ)                                                                 \
    INLINE void T##_cols(COLS_ARGS) {                                                      \
        vf acc0[MAXC], acc1[MAXC];                                                         \
        UNROLL for (int c = 0; c < nc; c++) acc0[c] = acc1[c] = vf_zero();                 \
        int64_t i = 0;                                                                     \
        for (; i + 2 * VF_N <= k; i += 2 * VF_N) {                                         \
            vf w0 = vld_##T(w + ESZ * i), w1 = vld_##T(w + ESZ * (i + VF_N));              \
            UNROLL for (int c = 0; c < nc; c++) {                                          \
                acc0[c] = vf_fma(w0, vld_##T(a[c] + ESZ * i), acc0[c]);                    \
                acc1[c] = vf_fma(w1, vld_##T(a[c] + ESZ * (i + VF_N)), acc1[c]);           \
            }                                                                              \
        }                                                                                  \
        UNROLL for (int c = 0; c < nc; c++) {                                              \
            float s = vf_sum2(acc0[c], acc1[c]);                                           \
            for (int64_t j = i; j < k; j++) s += sc_##T(w, j) * sc_##T(a[c], j);           \
            out[c] = s;                                                                    \
        }                                                                                  \
    }

FLOAT_COLS(f32, 4)
FLOAT_COLS(f16, 2)
FLOAT_COLS(bf16, 2)

/* ---- dot and gemm wrappers ------------------------------------------------------- */

#define WRAP_N(T, NC)                                                                            \
    static float T##_dot(const void *w, const void *act, int64_t k) {                      \
        const uint8_t *a[1] = {act};                                                       \
        float out[1];                                                                      \
        T##_cols(w, a, 1, k, out);                                                         \
        return out[0];                                                                     \
    }                                                                                      \
    static void T##_gemm(const void *w, size_t ws, int64_t nr, const void *act, size_t as, \
                         int64_t nb, int64_t k, float *y, int64_t ldy) {                   \
        const uint8_t *A = act;                                                            \
        for (int64_t r = 0; r < nr; r++) {                                                 \
            const uint8_t *wr = (const uint8_t *)w + (size_t)r * ws;                       \
            int64_t b = 0;                                                                 \
            for (; b + NC <= nb; b += NC) {                                            \
                const uint8_t *a4[MAXC];                                                   \
                float out[MAXC];                                                           \
                for (int c = 0; c < NC; c++) a4[c] = A + (size_t)(b + c) * as;           \
                T##_cols(wr, a4, NC, k, out);                                            \
                for (int c = 0; c < NC; c++) y[(b + c) * ldy + r] = out[c];              \
            }                                                                              \
            for (; b < nb; b++) {                                                          \
                const uint8_t *a1[1] = {A + (size_t)b * as};                               \
                float out[1];                                                              \
                T##_cols(wr, a1, 1, k, out);                                               \
                y[b * ldy + r] = out[0];                                                   \
            }                                                                              \
        }                                                                                  \
    }

#define WRAP(T) WRAP_N(T, MAXC)

WRAP(q4_0)
WRAP(q4_1)
WRAP(q5_0)
WRAP(q5_1)
WRAP(q8_0)
WRAP(iq4_nl)
WRAP(q2_k)
WRAP(q3_k)
WRAP(q4_k)
WRAP(q5_k)
WRAP_N(q6_k, 4) /* more columns spill registers (measured) */
WRAP(iq4_xs)
/*
 * Float types, matrix-matrix: RW weight rows (2 with AVX-512's 32 registers,
 * 1 with AVX2's 16) x 4 activation rows per register tile, over chunks of
 * the row of FLOAT_KC bytes per activation row, so the four activation
 * chunks (16 KiB) stay in L1 while blocks of FLOAT_RB weight rows stream
 * past them; the whole-row tiles reread everything from L2.  Each (row,
 * column) keeps the two accumulators of FLOAT_COLS, carried in st between
 * chunks and summed in the same order: results equal T_cols (and T_gemv)
 * bit for bit.
 */
#if ISA_VNNI
#define FLOAT_RW 2
#else
#define FLOAT_RW 1
#endif
enum { FLOAT_RB = 16, FLOAT_KC = 4096 };

#define FLOAT_TILE(T, ESZ)                                                                 \
    /* elements [i0, i1) (multiples of 2 * VF_N) of RW rows against 4 act rows;            \
     * st[(r*4 + c)*2 + h]: accumulator h of row r, column c */                            \
    INLINE void T##_chunk(const uint8_t *w, size_t ws, int RW, const uint8_t *a, size_t as, \
                          int64_t i0, int64_t i1, vf *st) {                                \
        vf s0[2][4], s1[2][4];                                                             \
        UNROLL for (int r = 0; r < RW; r++) UNROLL for (int c = 0; c < 4; c++) {           \
            s0[r][c] = st[(r * 4 + c) * 2];                                                \
            s1[r][c] = st[(r * 4 + c) * 2 + 1];                                            \
        }                                                                                  \
        for (int64_t i = i0; i < i1; i += 2 * VF_N) {                                      \
            vf w0[2], w1[2];                                                               \
            UNROLL for (int r = 0; r < RW; r++) {                                          \
                w0[r] = vld_##T(w + (size_t)r * ws + ESZ * i);                             \
                w1[r] = vld_##T(w + (size_t)r * ws + ESZ * (i + VF_N));                    \
            }                                                                              \
            UNROLL for (int c = 0; c < 4; c++) {                                           \
                vf x0 = vld_##T(a + (size_t)c * as + ESZ * i);                             \
                vf x1 = vld_##T(a + (size_t)c * as + ESZ * (i + VF_N));                    \
                UNROLL for (int r = 0; r < RW; r++) {                                      \
                    s0[r][c] = vf_fma(w0[r], x0, s0[r][c]);                                \
                    s1[r][c] = vf_fma(w1[r], x1, s1[r][c]);                                \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        UNROLL for (int r = 0; r < RW; r++) UNROLL for (int c = 0; c < 4; c++) {           \
            st[(r * 4 + c) * 2] = s0[r][c];                                                \
            st[(r * 4 + c) * 2 + 1] = s1[r][c];                                            \
        }                                                                                  \
    }                                                                                      \
    static float T##_dot(const void *w, const void *act, int64_t k) {                      \
        const uint8_t *a[1] = {act};                                                       \
        float out[1];                                                                      \
        T##_cols(w, a, 1, k, out);                                                         \
        return out[0];                                                                     \
    }                                                                                      \
    static void T##_gemm(const void *w, size_t ws, int64_t nr, const void *act, size_t as, \
                         int64_t nb, int64_t k, float *y, int64_t ldy) {                   \
        const uint8_t *A = act, *W = w;                                                    \
        const int64_t k16 = k & ~(int64_t)(2 * VF_N - 1), kc = FLOAT_KC / ESZ;             \
        vf st[FLOAT_RB * 8];                                                               \
        for (int64_t r0 = 0; r0 < nr; r0 += FLOAT_RB) {                                    \
            int64_t rn = nr - r0 < FLOAT_RB ? nr - r0 : FLOAT_RB, rt = rn - rn % FLOAT_RW; \
            const uint8_t *Wb = W + (size_t)r0 * ws;                                       \
            int64_t b = 0;                                                                 \
            for (; b + 4 <= nb; b += 4) {                                                  \
                const uint8_t *Ab = A + (size_t)b * as;                                    \
                for (int64_t j = 0; j < rt * 8; j++) st[j] = vf_zero();                    \
                for (int64_t i0 = 0; i0 < k16; i0 += kc) {                                 \
                    int64_t i1 = i0 + kc < k16 ? i0 + kc : k16;                            \
                    for (int64_t r = 0; r < rt; r += FLOAT_RW)                             \
                        T##_chunk(Wb + (size_t)r * ws, ws, FLOAT_RW, Ab, as, i0, i1, st + r * 8); \
                }                                                                          \
                for (int64_t r = 0; r < rt; r++)                                           \
                    for (int c = 0; c < 4; c++) {                                          \
                        const uint8_t *wr = Wb + (size_t)r * ws, *ac = Ab + (size_t)c * as; \
                        float s = vf_sum2(st[r * 8 + c * 2], st[r * 8 + c * 2 + 1]);       \
                        for (int64_t j = k16; j < k; j++) s += sc_##T(wr, j) * sc_##T(ac, j); \
                        y[(b + c) * ldy + r0 + r] = s;                                     \
                    }                                                                      \
                for (int64_t r = rt; r < rn; r++) { /* the odd row */                      \
                    const uint8_t *a4[4] = {Ab, Ab + as, Ab + 2 * as, Ab + 3 * as};        \
                    float out[4];                                                          \
                    T##_cols(Wb + (size_t)r * ws, a4, 4, k, out);                          \
                    for (int c = 0; c < 4; c++) y[(b + c) * ldy + r0 + r] = out[c];        \
                }                                                                          \
            }                                                                              \
            for (; b < nb; b++) /* the columns left */                                     \
                for (int64_t r = 0; r < rn; r++) {                                         \
                    const uint8_t *a1[1] = {A + (size_t)b * as};                           \
                    float out[1];                                                          \
                    T##_cols(Wb + (size_t)r * ws, a1, 1, k, out);                          \
                    y[b * ldy + r0 + r] = out[0];                                          \
                }                                                                          \
        }                                                                                  \
    }

FLOAT_TILE(f32, 4)
FLOAT_TILE(f16, 2)
FLOAT_TILE(bf16, 2)

/* ---- activation conversion (bit-identical to the reference) ------------------- */

static void act_f16(const float *x, void *dst, int64_t k) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8)
        _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < k; i++) h[i] = ai__f32_to_f16(x[i]);
}

INLINE __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

INLINE float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* 8 floats times id, rounded half to even, as 8 int32. */
INLINE __m256i round8(const float *x, __m256 id) {
    return _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), id),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* Packs 4 x 8 int32 (each within int8 range) to 32 int8 in element order. */
INLINE __m256i pack32(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
    __m256i a = _mm256_packs_epi32(i0, i1), b = _mm256_packs_epi32(i2, i3);
    __m256i v = _mm256_packs_epi16(a, b);
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static void act_q8_32(const float *x, void *dst, int64_t k) {
    int8_t *q = dst;
    float *d = (float *)((uint8_t *)dst + k), *s = d + k / 32;
    for (int64_t i = 0; i < k / 32; i++, x += 32, q += 32) {
        __m256 m = abs_ps(_mm256_loadu_ps(x));
        for (int j = 8; j < 32; j += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + j)));
        float amax = hmax(m);
        float dd = amax / 127, id = amax != 0 ? 127.0f / amax : 0.0f; /* as ref */
        __m256 vid = _mm256_set1_ps(id);
        __m256i i0 = round8(x, vid), i1 = round8(x + 8, vid), i2 = round8(x + 16, vid), i3 = round8(x + 24, vid);
        __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        _mm256_storeu_si256((__m256i *)q, pack32(i0, i1, i2, i3));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
        d[i] = _cvtsh_ss(_cvtss_sh(dd, _MM_FROUND_TO_NEAREST_INT));
        s[i] = _cvtsh_ss(_cvtss_sh((float)_mm_cvtsi128_si32(s4) * dd, _MM_FROUND_TO_NEAREST_INT));
    }
}

static void act_q8_256(const float *x, void *dst, int64_t k) {
    int8_t *q = dst;
    float *d = (float *)((uint8_t *)dst + k);
    int16_t *bs = (int16_t *)(d + k / 256);
    for (int64_t i = 0; i < k / 256; i++, x += 256, q += 256, bs += 16) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < 256; j += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + j)));
        float amax = hmax(m);
        if (amax == 0) {
            d[i] = 0;
            memset(q, 0, 256);
            memset(bs, 0, 32);
            continue;
        }
        float max = first_signed_max(x, 256, amax); /* as the reference picks it */
        float iscale = -127.0f / max;
        __m256 vid = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int j = 0; j < 256; j += 32) {
            __m256i i0 = _mm256_min_epi32(round8(x + j, vid), lim), i1 = _mm256_min_epi32(round8(x + j + 8, vid), lim);
            __m256i i2 = _mm256_min_epi32(round8(x + j + 16, vid), lim), i3 = _mm256_min_epi32(round8(x + j + 24, vid), lim);
            __m256i s0 = _mm256_add_epi32(i0, i1), s1 = _mm256_add_epi32(i2, i3);
            _mm256_storeu_si256((__m256i *)(q + j), pack32(i0, i1, i2, i3));
            /* per-16 sums: elements j..j+15 are i0,i1; j+16..j+31 are i2,i3 */
            __m256i h = _mm256_hadd_epi32(s0, s1); /* s0[0..1]+..., lanes mixed */
            h = _mm256_hadd_epi32(h, h);
            __m256i t = _mm256_add_epi32(h, _mm256_permute2x128_si256(h, h, 1));
            bs[j / 16] = (int16_t)_mm256_extract_epi32(t, 0);
            bs[j / 16 + 1] = (int16_t)_mm256_extract_epi32(t, 1);
        }
        d[i] = 1.0f / iscale;
    }
}

static void axpy_f16(float alpha, const uint16_t *a, float *y, int64_t n) {
    __m256 al = _mm256_set1_ps(alpha);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(al, ld_f16((const uint8_t *)(a + i)), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += alpha * _cvtsh_ss(a[i]);
}

static void dequant_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, ld_f16((const uint8_t *)(h + i)));
    for (; i < n; i++) dst[i] = _cvtsh_ss(h[i]);
}

#include "peer_x86.h"
/* ---- blocked float matrix-matrix kernels (x86_fgemm.h) ------------------------- */

#include "x86_fgemm.h"
#include "x86_eltwise.h" /* GELU */
#include "x86_gemv.h"

/* ---- the table ------------------------------------------------------------------- */

#define SET(T, TYPE)                                                                       \
    ks->ops[TYPE].dot = T##_dot;                                                           \
    ks->ops[TYPE].gemm = T##_gemm;

void FILL_NAME(ai__kset *ks) {
    ks->act[ACT_F16] = act_f16;
    ks->axpy_f16 = axpy_f16;
    ks->peer = (ai__peer_ops){peer_dot_f16, peer_mad_f16, peer_scale_f16, peer_exp,
                              peer_swiglu, peer_kq, peer_pv, ai__ref_peer_dot_f16h,
                              peer_attn_f16, peer_q4_0, peer_iq4_nl, peer_q4_k, NULL};
    ks->ops[AI_TYPE_F16].dequant = dequant_f16;
    ks->act[ACT_Q8_32] = act_q8_32;
    ks->act[ACT_Q8_256] = act_q8_256;
    SET(f32, AI_TYPE_F32)
    SET(f16, AI_TYPE_F16)
    SET(bf16, AI_TYPE_BF16)
    SET(q4_0, AI_TYPE_Q4_0)
    SET(q4_1, AI_TYPE_Q4_1)
    SET(q5_0, AI_TYPE_Q5_0)
    SET(q5_1, AI_TYPE_Q5_1)
    SET(q8_0, AI_TYPE_Q8_0)
    SET(iq4_nl, AI_TYPE_IQ4_NL)
    SET(q2_k, AI_TYPE_Q2_K)
    SET(q3_k, AI_TYPE_Q3_K)
    SET(q4_k, AI_TYPE_Q4_K)
    SET(q5_k, AI_TYPE_Q5_K)
    SET(q6_k, AI_TYPE_Q6_K)
    SET(iq4_xs, AI_TYPE_IQ4_XS)
    fg_fill(ks); /* the float types' gemm: x86_fgemm.h */
    ew_fill(ks); /* elementwise functions: x86_eltwise.h */
    fill_gemv(ks);
}
