/*
 * arm_kern.h - the aarch64 NEON kernels, written once and compiled twice:
 * quants_neon.c (Advanced SIMD, the aarch64 baseline) and quants_dotprod.c
 * (adds the Armv8.2 dot-product instructions, SDOT).  Everything is static;
 * the including file defines DOTPROD (0 or 1) and FILL_NAME.
 *
 * The two builds differ in one primitive, dot_acc (16 int8 products summed
 * into four int32 lanes): SDOT in the dot-product build, SMULL/SMLAL2 then
 * SADALP (widening multiplies, pairs added into the lanes) in the plain one.
 *
 * Shape of every matrix kernel: `T_cols` takes one weight row and NC
 * activation rows (NC = 1..MAXC); each weight block is decoded once into
 * int8 vectors (or f32 vectors for the float types) and multiplied with all
 * NC activation blocks, which stay in registers.  The matrix-vector path
 * (dot) is NC = 1 and the matrix-matrix path (gemm) runs NC = MAXC tiles;
 * the arithmetic per column does not depend on NC, so a row's result does
 * not depend on the batch it is in.
 *
 * Every type is covered; each kernel computes exactly the reference's
 * integer sums per block, only the float accumulation order differs.
 * Activation conversion and the dequantizers here are bit-identical to the
 * reference (the same float operations, fp-contract off under -std=c11).
 */
#include "kimpl.h"

#include <arm_neon.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))
#define MAXC 4 /* activation rows per register tile */
/* Loops over the columns of a tile are unrolled completely (nc is a
 * constant after inlining), so the per-column accumulators live in
 * registers; GCC does not do that on its own at -O2. */
#define EACH_C _Pragma("GCC unroll 4") for (int c = 0; c < nc; c++)

/* ---- primitives ------------------------------------------------------------- */

/* acc + the 16 products w[i]*a[i], summed into four int32 lanes (which
 * products go to which lane differs between the builds; only the total of
 * the lanes is used).  |a| <= 127 in every act row, so a pair of products
 * fits int16 in the plain build. */
INLINE int32x4_t dot_acc(int32x4_t acc, int8x16_t w, int8x16_t a) {
#if DOTPROD
    return vdotq_s32(acc, w, a);
#else
    int16x8_t p = vmull_s8(vget_low_s8(w), vget_low_s8(a));
    p = vmlal_high_s8(p, w, a);
    return vpadalq_s16(acc, p);
#endif
}

/* The four lanes of w[0..31] . a[0..31] for two 16-byte halves. */
INLINE int32x4_t dot32(int8x16_t w0, int8x16_t w1, const int8_t *a) {
    return dot_acc(dot_acc(vdupq_n_s32(0), w0, vld1q_s8(a)), w1, vld1q_s8(a + 16));
}

INLINE int32x4_t dot16v(int8x16_t w, const int8_t *a) { return dot_acc(vdupq_n_s32(0), w, vld1q_s8(a)); }

INLINE float f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    float16x4_t v = vreinterpret_f16_u16(vdup_n_u16(h));
    return vgetq_lane_f32(vcvt_f32_f16(v), 0);
}

INLINE int8x16_t s8(uint8x16_t v) { return vreinterpretq_s8_u8(v); }

/* A 32-element block of nibbles: low nibbles (elements 0..15), high (16..31). */
INLINE uint8x16x2_t nib32(const uint8_t *p) {
    uint8x16_t v = vld1q_u8(p);
    uint8x16x2_t r;
    r.val[0] = vandq_u8(v, vdupq_n_u8(0x0F));
    r.val[1] = vshrq_n_u8(v, 4);
    return r;
}

static const uint8_t bit_idx[32] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                    2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
static const uint8_t bit_sel[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};

/* The 32 bits of a little-endian u32 at p as 32 bytes of 0x10 or 0 (the
 * fifth bit of Q5_0/Q5_1): byte j gets bit j. */
INLINE uint8x16x2_t bits_0x10(const uint8_t *p) {
    uint32_t h;
    memcpy(&h, p, 4);
    uint8x16_t v = vreinterpretq_u8_u32(vdupq_n_u32(h)), sel = vld1q_u8(bit_sel), b10 = vdupq_n_u8(0x10);
    uint8x16x2_t r;
    r.val[0] = vandq_u8(vtstq_u8(vqtbl1q_u8(v, vld1q_u8(bit_idx)), sel), b10);
    r.val[1] = vandq_u8(vtstq_u8(vqtbl1q_u8(v, vld1q_u8(bit_idx + 16)), sel), b10);
    return r;
}

#define COLS_ARGS const uint8_t *w, const uint8_t *const *a, int nc, int64_t k, float *out

/* ---- 32-element block types against ACT_Q8_32 ----------------------------------- */

/* Decoders: a block -> its 32 weights as two int8 vectors (0..15, 16..31). */
INLINE int8x16x2_t dec_q4_0(const uint8_t *b) {
    uint8x16x2_t n = nib32(b + 2);
    int8x16x2_t r = {{vsubq_s8(s8(n.val[0]), vdupq_n_s8(8)), vsubq_s8(s8(n.val[1]), vdupq_n_s8(8))}};
    return r;
}
INLINE int8x16x2_t dec_q5_0(const uint8_t *b) {
    uint8x16x2_t n = nib32(b + 6), h = bits_0x10(b + 2);
    int8x16x2_t r = {{vsubq_s8(s8(vorrq_u8(n.val[0], h.val[0])), vdupq_n_s8(16)),
                      vsubq_s8(s8(vorrq_u8(n.val[1], h.val[1])), vdupq_n_s8(16))}};
    return r;
}
INLINE int8x16x2_t dec_q8_0(const uint8_t *b) {
    int8x16x2_t r = {{vld1q_s8((const int8_t *)b + 2), vld1q_s8((const int8_t *)b + 18)}};
    return r;
}
INLINE int8x16x2_t dec_iq4_nl(const uint8_t *b) {
    const int8x16_t tab = vld1q_s8(ai__iq4nl_values);
    uint8x16x2_t n = nib32(b + 2);
    int8x16x2_t r = {{vqtbl1q_s8(tab, n.val[0]), vqtbl1q_s8(tab, n.val[1])}};
    return r;
}
INLINE int8x16x2_t dec_q4_1(const uint8_t *b) {
    uint8x16x2_t n = nib32(b + 4);
    int8x16x2_t r = {{s8(n.val[0]), s8(n.val[1])}};
    return r;
}
INLINE int8x16x2_t dec_q5_1(const uint8_t *b) {
    uint8x16x2_t n = nib32(b + 8), h = bits_0x10(b + 4);
    int8x16x2_t r = {{s8(vorrq_u8(n.val[0], h.val[0])), s8(vorrq_u8(n.val[1], h.val[1]))}};
    return r;
}

/* Symmetric types: sum += (d_w*d_a) * (w . a). */
#define SYM32_COLS(T, BYTES)                                                                  \
    INLINE void T##_cols(COLS_ARGS) {                                                         \
        float32x4_t acc[MAXC];                                                                \
        EACH_C acc[c] = vdupq_n_f32(0);                                 \
        for (int64_t i = 0; i < k / 32; i++, w += BYTES) {                                    \
            int8x16x2_t q = dec_##T(w);                                                       \
            float dw = f16(w);                                                                \
            EACH_C {                                                    \
                int32x4_t p = dot32(q.val[0], q.val[1], act_q(a[c]) + 32 * i);                \
                acc[c] = vfmaq_n_f32(acc[c], vcvtq_f32_s32(p), dw * act_d(a[c], k)[i]);       \
            }                                                                                 \
        }                                                                                     \
        EACH_C out[c] = vaddvq_f32(acc[c]);                             \
    }

SYM32_COLS(q4_0, 18)
SYM32_COLS(q5_0, 22)
SYM32_COLS(q8_0, 34)
SYM32_COLS(iq4_nl, 18)

/* With a min: sum += (d_w*d_a) * (q . a) + m_w * s_a, q unsigned. */
#define MIN32_COLS(T, BYTES)                                                                  \
    INLINE void T##_cols(COLS_ARGS) {                                                         \
        float32x4_t acc[MAXC];                                                                \
        float accm[MAXC];                                                                     \
        EACH_C {                                                        \
            acc[c] = vdupq_n_f32(0);                                                          \
            accm[c] = 0;                                                                      \
        }                                                                                     \
        for (int64_t i = 0; i < k / 32; i++, w += BYTES) {                                    \
            int8x16x2_t q = dec_##T(w);                                                       \
            float dw = f16(w), mw = f16(w + 2);                                               \
            EACH_C {                                                    \
                int32x4_t p = dot32(q.val[0], q.val[1], act_q(a[c]) + 32 * i);                \
                acc[c] = vfmaq_n_f32(acc[c], vcvtq_f32_s32(p), dw * act_d(a[c], k)[i]);       \
                accm[c] += mw * act_s32(a[c], k)[i];                                          \
            }                                                                                 \
        }                                                                                     \
        EACH_C out[c] = vaddvq_f32(acc[c]) + accm[c];                   \
    }

MIN32_COLS(q4_1, 20)
MIN32_COLS(q5_1, 24)

/* ---- 256-element super-blocks against ACT_Q8_256 -------------------------------- */

/*
 * Each keeps per column an int32x4 `isum` for the block (sub-block dot
 * products times their scales, vmlaq_n_s32) and, for the types with mins,
 * the integer correction sum_s m_s * bsum_s, then adds
 *   (d_w*d_a) * isum - (dmin_w*d_a) * corr
 * to float accumulators.
 */

/* Per-16 activation sums of block i as two int16x8 (sub-blocks 0..7, 8..15). */
INLINE int16x8x2_t bsums(const void *act, int64_t k, int64_t i) {
    const int16_t *bs = act_bs256(act, k) + 16 * i;
    int16x8x2_t r = {{vld1q_s16(bs), vld1q_s16(bs + 8)}};
    return r;
}

/* sum_j m[j] * s[j] over 8 int16 lanes, as int32x4 lanes. */
INLINE int32x4_t mul16(int16x8_t m, int16x8_t s) {
    return vmlal_high_s16(vmull_s16(vget_low_s16(m), vget_low_s16(s)), m, s);
}

/* Finishes a super-block for every column. */
#define KQ_FINISH(D, DMIN, CORR_EXPR)                                                         \
    EACH_C {                                                            \
        float da = act_d(a[c], k)[i];                                                         \
        acc[c] = vfmaq_n_f32(acc[c], vcvtq_f32_s32(isum[c]), (D) * da);                       \
        if (HAS_MIN) {                                                                        \
            int32x4_t corr = CORR_EXPR;                                                       \
            accm[c] = vfmaq_n_f32(accm[c], vcvtq_f32_s32(corr), (DMIN) * da);                 \
        }                                                                                     \
    }

#define KQ_BEGIN()                                                                            \
    float32x4_t acc[MAXC], accm[MAXC];                                                        \
    EACH_C acc[c] = accm[c] = vdupq_n_f32(0);

#define KQ_END() \
    EACH_C out[c] = vaddvq_f32(acc[c]) - vaddvq_f32(accm[c]);

/* Q2_K: scales[16] | qs[64] | d | dmin; q = two bits, 16 sub-blocks of 16. */
#define HAS_MIN 1
INLINE void q2_k_cols(COLS_ARGS) {
    KQ_BEGIN()
    const uint8x16_t m3 = vdupq_n_u8(3);
    for (int64_t i = 0; i < k / 256; i++, w += 84) {
        uint8x16_t sb = vld1q_u8(w);
        uint8_t sc[16];
        vst1q_u8(sc, vandq_u8(sb, vdupq_n_u8(0x0F)));
        uint8x16_t mb = vshrq_n_u8(sb, 4);
        int16x8_t m0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mb)));
        int16x8_t m1 = vreinterpretq_s16_u16(vmovl_high_u8(mb));
        float d = f16(w + 80), dmin = f16(w + 82);
        int32x4_t isum[MAXC];
        EACH_C isum[c] = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            uint8x16_t Q0 = vld1q_u8(w + 16 + 32 * h), Q1 = vld1q_u8(w + 32 + 32 * h);
            for (int t = 0; t < 4; t++) {
                int8x16_t sh = vdupq_n_s8((int8_t)(-2 * t));
                int8x16_t q0 = s8(vandq_u8(vshlq_u8(Q0, sh), m3)), q1 = s8(vandq_u8(vshlq_u8(Q1, sh), m3));
                int g = 8 * h + 2 * t;
                EACH_C {
                    const int8_t *qa = act_q(a[c]) + 256 * i + 16 * g;
                    isum[c] = vmlaq_n_s32(isum[c], dot16v(q0, qa), sc[g]);
                    isum[c] = vmlaq_n_s32(isum[c], dot16v(q1, qa + 16), sc[g + 1]);
                }
            }
        }
        KQ_FINISH(d, dmin, vaddq_s32(mul16(m0, bsums(a[c], k, i).val[0]), mul16(m1, bsums(a[c], k, i).val[1])))
    }
    KQ_END()
}

/* Q4_K (HB 0) and Q5_K (HB 1): 8 sub-blocks of 32 with six-bit scales and
 * mins; chunk j of 32 bytes holds sub-block 2j (low nibbles) and 2j+1. */
#define K45_COLS(T, BYTES, QS, HB)                                                            \
    INLINE void T##_cols(COLS_ARGS) {                                                         \
        KQ_BEGIN()                                                                            \
        const uint8x16_t m4 = vdupq_n_u8(0x0F), b10 = vdupq_n_u8(0x10);                       \
        for (int64_t i = 0; i < k / 256; i++, w += BYTES) {                                   \
            uint8_t sc[8], mn[8];                                                             \
            k4_unpack(w + 4, sc, mn);                                                         \
            int16x8_t mv = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));                      \
            float d = f16(w), dmin = f16(w + 2);                                              \
            int32x4_t isum[MAXC];                                                             \
            EACH_C isum[c] = vdupq_n_s32(0);                            \
            uint8x16_t qh0 = vdupq_n_u8(0), qh1 = vdupq_n_u8(0);                              \
            if (HB) {                                                                         \
                qh0 = vld1q_u8(w + 16);                                                       \
                qh1 = vld1q_u8(w + 32);                                                       \
            }                                                                                 \
            for (int j = 0; j < 4; j++) {                                                     \
                uint8x16_t q0 = vld1q_u8(w + QS + 32 * j), q1 = vld1q_u8(w + QS + 32 * j + 16); \
                uint8x16_t l0 = vandq_u8(q0, m4), l1 = vandq_u8(q1, m4);                      \
                uint8x16_t h0 = vshrq_n_u8(q0, 4), h1 = vshrq_n_u8(q1, 4);                    \
                if (HB) { /* bit s of qh[l] -> 0x10, s = 2j and 2j+1 */                      \
                    int8x16_t sl = vdupq_n_s8((int8_t)(4 - 2 * j)), sh = vdupq_n_s8((int8_t)(3 - 2 * j)); \
                    l0 = vorrq_u8(l0, vandq_u8(vshlq_u8(qh0, sl), b10));                      \
                    l1 = vorrq_u8(l1, vandq_u8(vshlq_u8(qh1, sl), b10));                      \
                    h0 = vorrq_u8(h0, vandq_u8(vshlq_u8(qh0, sh), b10));                      \
                    h1 = vorrq_u8(h1, vandq_u8(vshlq_u8(qh1, sh), b10));                      \
                }                                                                             \
                EACH_C {                                                \
                    const int8_t *qa = act_q(a[c]) + 256 * i + 64 * j;                        \
                    isum[c] = vmlaq_n_s32(isum[c], dot32(s8(l0), s8(l1), qa), sc[2 * j]);     \
                    isum[c] = vmlaq_n_s32(isum[c], dot32(s8(h0), s8(h1), qa + 32), sc[2 * j + 1]); \
                }                                                                             \
            }                                                                                 \
            /* corr: mins times the per-32 sums (pairs of per-16 sums) */                    \
            KQ_FINISH(d, dmin, mul16(mv, vpaddq_s16(bsums(a[c], k, i).val[0], bsums(a[c], k, i).val[1]))) \
        }                                                                                     \
        KQ_END()                                                                              \
    }

K45_COLS(q4_k, 144, 16, 0)
K45_COLS(q5_k, 176, 48, 1)
#undef HAS_MIN
#define HAS_MIN 0

/* Q3_K: hmask[32] | qs[64] | scales[12] | d; q = two low bits (as Q2_K) and
 * bit 4h+t of hmask[l] as the third, minus 4. */
INLINE void q3_k_cols(COLS_ARGS) {
    KQ_BEGIN()
    const uint8x16_t m3 = vdupq_n_u8(3), b4 = vdupq_n_u8(4);
    for (int64_t i = 0; i < k / 256; i++, w += 110) {
        int8_t sc[16];
        k3_scales(w + 96, sc);
        float d = f16(w + 108);
        int32x4_t isum[MAXC];
        EACH_C isum[c] = vdupq_n_s32(0);
        uint8x16_t H0 = vld1q_u8(w), H1 = vld1q_u8(w + 16);
        for (int h = 0; h < 2; h++) {
            uint8x16_t Q0 = vld1q_u8(w + 32 + 32 * h), Q1 = vld1q_u8(w + 48 + 32 * h);
            for (int t = 0; t < 4; t++) {
                int8x16_t sh = vdupq_n_s8((int8_t)(-2 * t)), hs = vdupq_n_s8((int8_t)(2 - 4 * h - t));
                uint8x16_t u0 = vorrq_u8(vandq_u8(vshlq_u8(Q0, sh), m3), vandq_u8(vshlq_u8(H0, hs), b4));
                uint8x16_t u1 = vorrq_u8(vandq_u8(vshlq_u8(Q1, sh), m3), vandq_u8(vshlq_u8(H1, hs), b4));
                int8x16_t q0 = vsubq_s8(s8(u0), vdupq_n_s8(4)), q1 = vsubq_s8(s8(u1), vdupq_n_s8(4));
                int g = 8 * h + 2 * t;
                EACH_C {
                    const int8_t *qa = act_q(a[c]) + 256 * i + 16 * g;
                    isum[c] = vmlaq_n_s32(isum[c], dot16v(q0, qa), sc[g]);
                    isum[c] = vmlaq_n_s32(isum[c], dot16v(q1, qa + 16), sc[g + 1]);
                }
            }
        }
        KQ_FINISH(d, 0.0f, vdupq_n_s32(0))
    }
    KQ_END()
}

/* Q6_K: ql[128] | qh[64] | int8 scales[16] | d; for half h and quarter t,
 * low four bits from ql[64h + 32(t&1) + l] (low nibble for t < 2), high two
 * from bits 2t of qh[32h + l]; minus 32.  q6_k_quads gives the four
 * quarters' values for l in 16*half .. 16*half+15 of half h of block b:
 * q[t] holds sub-block 8h + 2t + half. */
INLINE void q6_k_quads(const uint8_t *b, int h, int half, int8x16_t q[4]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m30 = vdupq_n_u8(0x30);
    const int8x16_t o32 = vdupq_n_s8(32);
    const uint8_t *ql = b + 64 * h + 16 * half;
    uint8x16_t a0 = vld1q_u8(ql), a1 = vld1q_u8(ql + 32), hb = vld1q_u8(b + 128 + 32 * h + 16 * half);
    q[0] = vsubq_s8(s8(vorrq_u8(vandq_u8(a0, m4), vandq_u8(vshlq_n_u8(hb, 4), m30))), o32);
    q[1] = vsubq_s8(s8(vorrq_u8(vandq_u8(a1, m4), vandq_u8(vshlq_n_u8(hb, 2), m30))), o32);
    q[2] = vsubq_s8(s8(vorrq_u8(vshrq_n_u8(a0, 4), vandq_u8(hb, m30))), o32);
    q[3] = vsubq_s8(s8(vorrq_u8(vshrq_n_u8(a1, 4), vandq_u8(vshrq_n_u8(hb, 2), m30))), o32);
}

INLINE void q6_k_cols(COLS_ARGS) {
    KQ_BEGIN()
    for (int64_t i = 0; i < k / 256; i++, w += 210) {
        const int8_t *sc = (const int8_t *)(w + 192);
        float d = f16(w + 208);
        int32x4_t isum[MAXC];
        EACH_C isum[c] = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++)
            for (int half = 0; half < 2; half++) { /* l in 16*half .. 16*half+15 */
                int8x16_t q[4];
                q6_k_quads(w, h, half, q);
                for (int t = 0; t < 4; t++) {
                    int g = 8 * h + 2 * t + half;
                    EACH_C
                        isum[c] = vmlaq_n_s32(isum[c], dot16v(q[t], act_q(a[c]) + 256 * i + 16 * g), sc[g]);
                }
            }
        KQ_FINISH(d, 0.0f, vdupq_n_s32(0))
    }
    KQ_END()
}

/* IQ4_XS: d | u16 scales_h | scales_l[4] | qs[128]; 8 sub-blocks of 32,
 * codebook values, six-bit scales minus 32. */
INLINE void iq4_xs_cols(COLS_ARGS) {
    KQ_BEGIN()
    const int8x16_t tab = vld1q_s8(ai__iq4nl_values);
    for (int64_t i = 0; i < k / 256; i++, w += 136) {
        uint16_t sh = rd16(w + 2);
        int sc[8];
        for (int s = 0; s < 8; s++)
            sc[s] = (((w[4 + s / 2] >> (4 * (s % 2))) & 0xF) | (((sh >> (2 * s)) & 3) << 4)) - 32;
        float d = f16(w);
        int32x4_t isum[MAXC];
        EACH_C isum[c] = vdupq_n_s32(0);
        for (int s = 0; s < 8; s++) {
            uint8x16x2_t n = nib32(w + 8 + 16 * s);
            int8x16_t q0 = vqtbl1q_s8(tab, n.val[0]), q1 = vqtbl1q_s8(tab, n.val[1]);
            EACH_C
                isum[c] = vmlaq_n_s32(isum[c], dot32(q0, q1, act_q(a[c]) + 256 * i + 32 * s), sc[s]);
        }
        KQ_FINISH(d, 0.0f, vdupq_n_s32(0))
    }
    KQ_END()
}
#undef HAS_MIN

/* ---- float types ------------------------------------------------------------- */

/* Four elements at p (element size 4 or 2 bytes) as f32. */
INLINE float32x4_t ld_f32(const uint8_t *p) { return vld1q_f32((const float *)(const void *)p); }
INLINE float32x4_t ld_f16(const uint8_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)(const void *)p)));
}
INLINE float32x4_t ld_bf16(const uint8_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)(const void *)p), 16));
}
INLINE float sc_f32(const uint8_t *p, int64_t j) { return ((const float *)(const void *)p)[j]; }
INLINE float sc_f16(const uint8_t *p, int64_t j) { return ai__f16_to_f32(((const uint16_t *)(const void *)p)[j]); }
INLINE float sc_bf16(const uint8_t *p, int64_t j) { return ai__bf16_to_f32(((const uint16_t *)(const void *)p)[j]); }

/* Eight elements per step in two accumulators per column; each weight load
 * feeds every column. */
#define FLOAT_COLS(T, ESZ)                                                                    \
    INLINE void T##_cols(COLS_ARGS) {                                                         \
        float32x4_t p0[MAXC], p1[MAXC];                                                       \
        EACH_C p0[c] = p1[c] = vdupq_n_f32(0);                          \
        int64_t i = 0;                                                                        \
        for (; i + 8 <= k; i += 8) {                                                          \
            float32x4_t w0 = ld_##T(w + ESZ * i), w1 = ld_##T(w + ESZ * (i + 4));             \
            EACH_C {                                                    \
                p0[c] = vfmaq_f32(p0[c], w0, ld_##T(a[c] + ESZ * i));                         \
                p1[c] = vfmaq_f32(p1[c], w1, ld_##T(a[c] + ESZ * (i + 4)));                   \
            }                                                                                 \
        }                                                                                     \
        EACH_C {                                                        \
            float s = vaddvq_f32(vaddq_f32(p0[c], p1[c]));                                    \
            for (int64_t j = i; j < k; j++) s += sc_##T(w, j) * sc_##T(a[c], j);              \
            out[c] = s;                                                                       \
        }                                                                                     \
    }

FLOAT_COLS(f32, 4)
FLOAT_COLS(f16, 2)
FLOAT_COLS(bf16, 2)

/* ---- dot and gemm wrappers ------------------------------------------------------- */

#define WRAP(T)                                                                               \
    static float T##_dot(const void *w, const void *act, int64_t k) {                         \
        const uint8_t *a[1] = {act};                                                          \
        float out[1];                                                                         \
        T##_cols(w, a, 1, k, out);                                                            \
        return out[0];                                                                        \
    }                                                                                         \
    static void T##_gemm(const void *w, size_t ws, int64_t nr, const void *act, size_t as,    \
                         int64_t nb, int64_t k, float *y, int64_t ldy) {                      \
        const uint8_t *A = act;                                                               \
        for (int64_t r = 0; r < nr; r++) {                                                    \
            const uint8_t *wr = (const uint8_t *)w + (size_t)r * ws;                          \
            int64_t b = 0;                                                                    \
            for (; b + MAXC <= nb; b += MAXC) {                                               \
                const uint8_t *ac[MAXC];                                                      \
                float out[MAXC];                                                              \
                for (int c = 0; c < MAXC; c++) ac[c] = A + (size_t)(b + c) * as;              \
                T##_cols(wr, ac, MAXC, k, out);                                               \
                for (int c = 0; c < MAXC; c++) y[(b + c) * ldy + r] = out[c];                 \
            }                                                                                 \
            if (b < nb) { /* the last 1..MAXC-1 columns, still one decode */                 \
                const uint8_t *ac[MAXC];                                                      \
                float out[MAXC];                                                              \
                int n = (int)(nb - b);                                                        \
                for (int c = 0; c < n; c++) ac[c] = A + (size_t)(b + c) * as;                 \
                if (n == 3) T##_cols(wr, ac, 3, k, out); /* constant nc: unrolled */          \
                else if (n == 2) T##_cols(wr, ac, 2, k, out);                                 \
                else T##_cols(wr, ac, 1, k, out);                                             \
                for (int c = 0; c < n; c++) y[(b + c) * ldy + r] = out[c];                    \
            }                                                                                 \
        }                                                                                     \
    }

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
WRAP(q6_k)
WRAP(iq4_xs)
WRAP(f32)
WRAP(f16)
WRAP(bf16)

/* ---- activation conversion (bit-identical to the reference) ------------------- */

static void act_f16(const float *x, void *dst, int64_t k) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) { /* FCVTN rounds to nearest even, as ai__f32_to_f16 */
        float16x8_t v = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(x + i)), vld1q_f32(x + i + 4));
        vst1q_u16(h + i, vreinterpretq_u16_f16(v));
    }
    for (; i < k; i++) h[i] = ai__f32_to_f16(x[i]);
}

/* Round to nearest even on the bit pattern; NaN becomes a quiet NaN
 * (the same integer steps as ai__f32_to_bf16). */
static void act_bf16(const float *x, void *dst, int64_t k) {
    uint16_t *h = dst;
    int64_t i = 0;
    const uint32x4_t inf = vdupq_n_u32(0x7f800000), abs = vdupq_n_u32(0x7fffffff);
    for (; i + 4 <= k; i += 4) {
        uint32x4_t u = vreinterpretq_u32_f32(vld1q_f32(x + i));
        uint32x4_t r = vaddq_u32(u, vaddq_u32(vdupq_n_u32(0x7fff), vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1))));
        uint32x4_t nan = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(0x40));
        uint32x4_t isnan = vcgtq_u32(vandq_u32(u, abs), inf);
        vst1_u16(h + i, vmovn_u32(vbslq_u32(isnan, nan, vshrq_n_u32(r, 16))));
    }
    for (; i < k; i++) h[i] = ai__f32_to_bf16(x[i]);
}

/* Four floats times id, rounded half to even (FCVTNS), as int32. */
INLINE int32x4_t round4(const float *x, float32x4_t id) { return vcvtnq_s32_f32(vmulq_f32(vld1q_f32(x), id)); }

/* 16 int32 (each within int8 range) -> 16 int8 in order. */
INLINE int8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    int16x8_t lo = vcombine_s16(vmovn_s32(a), vmovn_s32(b)), hi = vcombine_s16(vmovn_s32(c), vmovn_s32(d));
    return vcombine_s8(vmovn_s16(lo), vmovn_s16(hi));
}

static void act_q8_32(const float *x, void *dst, int64_t k) {
    int8_t *q = dst;
    float *d = (float *)((uint8_t *)dst + k), *s = d + k / 32;
    for (int64_t i = 0; i < k / 32; i++, x += 32, q += 32) {
        float32x4_t m = vabsq_f32(vld1q_f32(x));
        for (int j = 4; j < 32; j += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + j)));
        float amax = vmaxvq_f32(m);
        float dd = amax / 127, id = amax != 0 ? 127.0f / amax : 0.0f; /* as ref (1 / dd differs in the last bit) */
        float32x4_t vid = vdupq_n_f32(id);
        int32x4_t sum = vdupq_n_s32(0);
        for (int j = 0; j < 32; j += 16) {
            int32x4_t i0 = round4(x + j, vid), i1 = round4(x + j + 4, vid);
            int32x4_t i2 = round4(x + j + 8, vid), i3 = round4(x + j + 12, vid);
            sum = vaddq_s32(sum, vaddq_s32(vaddq_s32(i0, i1), vaddq_s32(i2, i3)));
            vst1q_s8(q + j, narrow16(i0, i1, i2, i3));
        }
        d[i] = ai__f16_to_f32(ai__f32_to_f16(dd));
        s[i] = ai__f16_to_f32(ai__f32_to_f16((float)vaddvq_s32(sum) * dd));
    }
}

static void act_q8_256(const float *x, void *dst, int64_t k) {
    int8_t *q = dst;
    float *d = (float *)((uint8_t *)dst + k);
    int16_t *bs = (int16_t *)(d + k / 256);
    for (int64_t i = 0; i < k / 256; i++, x += 256, q += 256, bs += 16) {
        float32x4_t m = vdupq_n_f32(0);
        for (int j = 0; j < 256; j += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + j)));
        float amax = vmaxvq_f32(m);
        if (amax == 0) {
            d[i] = 0;
            memset(q, 0, 256);
            memset(bs, 0, 32);
            continue;
        }
        float max = first_signed_max(x, 256, amax); /* as the reference picks it */
        float iscale = -127.0f / max;
        float32x4_t vid = vdupq_n_f32(iscale);
        const int32x4_t lim = vdupq_n_s32(127);
        for (int j = 0; j < 256; j += 16) {
            int32x4_t i0 = vminq_s32(round4(x + j, vid), lim), i1 = vminq_s32(round4(x + j + 4, vid), lim);
            int32x4_t i2 = vminq_s32(round4(x + j + 8, vid), lim), i3 = vminq_s32(round4(x + j + 12, vid), lim);
            vst1q_s8(q + j, narrow16(i0, i1, i2, i3));
            bs[j / 16] = (int16_t)vaddvq_s32(vaddq_s32(vaddq_s32(i0, i1), vaddq_s32(i2, i3)));
        }
        d[i] = 1.0f / iscale;
    }
}

static void axpy_f16(float alpha, const uint16_t *a, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), ld_f16((const uint8_t *)(a + i)), alpha));
    for (; i < n; i++) y[i] += alpha * ai__f16_to_f32(a[i]);
}

/* ---- dequantization (bit-identical to the reference) ------------------------- */

static void dequant_f16(const void *src, float *dst, int64_t n) {
    const uint8_t *h = src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, ld_f16(h + 2 * i));
    for (; i < n; i++) dst[i] = sc_f16(h, i);
}

static void dequant_bf16(const void *src, float *dst, int64_t n) {
    const uint8_t *h = src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, ld_bf16(h + 2 * i));
    for (; i < n; i++) dst[i] = sc_bf16(h, i);
}

/* y[0..15] = d * (float)q (the reference's single multiply per element). */
INLINE void store16(float *y, int8x16_t q, float d) {
    int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
    vst1q_f32(y, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d));
    vst1q_f32(y + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), d));
    vst1q_f32(y + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d));
    vst1q_f32(y + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(hi)), d));
}

/* y = d * (float)q - m, the multiply and the subtraction rounded apart. */
INLINE void store16_min(float *y, int8x16_t q, float d, float m) {
    int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
    float32x4_t vm = vdupq_n_f32(m);
    vst1q_f32(y, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d), vm));
    vst1q_f32(y + 4, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), d), vm));
    vst1q_f32(y + 8, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d), vm));
    vst1q_f32(y + 12, vsubq_f32(vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(hi)), d), vm));
}

#define DEQ32(T, BYTES)                                                                       \
    static void dequant_##T(const void *src, float *y, int64_t n) {                           \
        const uint8_t *b = src;                                                               \
        for (int64_t i = 0; i < n / 32; i++, b += BYTES, y += 32) {                           \
            int8x16x2_t q = dec_##T(b);                                                       \
            float d = f16(b);                                                                 \
            store16(y, q.val[0], d);                                                          \
            store16(y + 16, q.val[1], d);                                                     \
        }                                                                                     \
    }

DEQ32(q4_0, 18)
DEQ32(q5_0, 22)
DEQ32(q8_0, 34)
DEQ32(iq4_nl, 18)

/* The "_1" types: x = d*q + m, written as d*q - (-m) (the same sum). */
#define DEQ32_MIN(T, BYTES)                                                                   \
    static void dequant_##T(const void *src, float *y, int64_t n) {                           \
        const uint8_t *b = src;                                                               \
        for (int64_t i = 0; i < n / 32; i++, b += BYTES, y += 32) {                           \
            int8x16x2_t q = dec_##T(b);                                                       \
            float d = f16(b), m = f16(b + 2);                                                 \
            store16_min(y, q.val[0], d, -m);                                                  \
            store16_min(y + 16, q.val[1], d, -m);                                             \
        }                                                                                     \
    }

DEQ32_MIN(q4_1, 20)
DEQ32_MIN(q5_1, 24)

/* Q2_K: x = (d*sc)*q - (dmin*m) per sub-block of 16. */
static void dequant_q2_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t m3 = vdupq_n_u8(3);
    for (int64_t i = 0; i < n / 256; i++, b += 84, y += 256) {
        float d = f16(b + 80), dmin = f16(b + 82);
        for (int h = 0; h < 2; h++) {
            uint8x16_t Q0 = vld1q_u8(b + 16 + 32 * h), Q1 = vld1q_u8(b + 32 + 32 * h);
            for (int t = 0; t < 4; t++) {
                int8x16_t sh = vdupq_n_s8((int8_t)(-2 * t));
                int g = 8 * h + 2 * t;
                store16_min(y + 16 * g, s8(vandq_u8(vshlq_u8(Q0, sh), m3)), d * (float)(b[g] & 0xF),
                            dmin * (float)(b[g] >> 4));
                store16_min(y + 16 * g + 16, s8(vandq_u8(vshlq_u8(Q1, sh), m3)), d * (float)(b[g + 1] & 0xF),
                            dmin * (float)(b[g + 1] >> 4));
            }
        }
    }
}

/* Q3_K: x = (d*sc)*q - 0 per sub-block of 16 (see Q6_K for the 0). */
static void dequant_q3_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t m3 = vdupq_n_u8(3), b4 = vdupq_n_u8(4);
    for (int64_t i = 0; i < n / 256; i++, b += 110, y += 256) {
        int8_t sc[16];
        k3_scales(b + 96, sc);
        float d = f16(b + 108);
        uint8x16_t H0 = vld1q_u8(b), H1 = vld1q_u8(b + 16);
        for (int h = 0; h < 2; h++) {
            uint8x16_t Q0 = vld1q_u8(b + 32 + 32 * h), Q1 = vld1q_u8(b + 48 + 32 * h);
            for (int t = 0; t < 4; t++) {
                int8x16_t sh = vdupq_n_s8((int8_t)(-2 * t)), hs = vdupq_n_s8((int8_t)(2 - 4 * h - t));
                uint8x16_t u0 = vorrq_u8(vandq_u8(vshlq_u8(Q0, sh), m3), vandq_u8(vshlq_u8(H0, hs), b4));
                uint8x16_t u1 = vorrq_u8(vandq_u8(vshlq_u8(Q1, sh), m3), vandq_u8(vshlq_u8(H1, hs), b4));
                int g = 8 * h + 2 * t;
                store16_min(y + 16 * g, vsubq_s8(s8(u0), vdupq_n_s8(4)), d * (float)sc[g], 0.0f);
                store16_min(y + 16 * g + 16, vsubq_s8(s8(u1), vdupq_n_s8(4)), d * (float)sc[g + 1], 0.0f);
            }
        }
    }
}

/* Q5_K: as Q4_K with the fifth bit from qh. */
static void dequant_q5_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), b10 = vdupq_n_u8(0x10);
    for (int64_t i = 0; i < n / 256; i++, b += 176, y += 256) {
        uint8_t sc[8], mn[8];
        k4_unpack(b + 4, sc, mn);
        float d = f16(b), dmin = f16(b + 2);
        uint8x16_t qh0 = vld1q_u8(b + 16), qh1 = vld1q_u8(b + 32);
        for (int j = 0; j < 4; j++) {
            uint8x16_t q0 = vld1q_u8(b + 48 + 32 * j), q1 = vld1q_u8(b + 64 + 32 * j);
            int8x16_t sl = vdupq_n_s8((int8_t)(4 - 2 * j)), sh = vdupq_n_s8((int8_t)(3 - 2 * j));
            uint8x16_t l0 = vorrq_u8(vandq_u8(q0, m4), vandq_u8(vshlq_u8(qh0, sl), b10));
            uint8x16_t l1 = vorrq_u8(vandq_u8(q1, m4), vandq_u8(vshlq_u8(qh1, sl), b10));
            uint8x16_t h0 = vorrq_u8(vshrq_n_u8(q0, 4), vandq_u8(vshlq_u8(qh0, sh), b10));
            uint8x16_t h1 = vorrq_u8(vshrq_n_u8(q1, 4), vandq_u8(vshlq_u8(qh1, sh), b10));
            float d0 = d * (float)sc[2 * j], m0 = dmin * (float)mn[2 * j];
            float d1 = d * (float)sc[2 * j + 1], m1 = dmin * (float)mn[2 * j + 1];
            float *o = y + 64 * j;
            store16_min(o, s8(l0), d0, m0);
            store16_min(o + 16, s8(l1), d0, m0);
            store16_min(o + 32, s8(h0), d1, m1);
            store16_min(o + 48, s8(h1), d1, m1);
        }
    }
}

/* IQ4_XS: x = (d*(ls-32))*value - 0 per sub-block of 32. */
static void dequant_iq4_xs(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const int8x16_t tab = vld1q_s8(ai__iq4nl_values);
    for (int64_t i = 0; i < n / 256; i++, b += 136, y += 256) {
        uint16_t sh = rd16(b + 2);
        float d = f16(b);
        for (int s = 0; s < 8; s++) {
            int ls = ((b[4 + s / 2] >> (4 * (s % 2))) & 0xF) | (((sh >> (2 * s)) & 3) << 4);
            uint8x16x2_t nb = nib32(b + 8 + 16 * s);
            float dl = d * (float)(ls - 32);
            store16_min(y + 32 * s, vqtbl1q_s8(tab, nb.val[0]), dl, 0.0f);
            store16_min(y + 32 * s + 16, vqtbl1q_s8(tab, nb.val[1]), dl, 0.0f);
        }
    }
}

/* Q4_K: x = (d*sc)*q - (dmin*m) per sub-block of 32. */
static void dequant_q4_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    for (int64_t i = 0; i < n / 256; i++, b += 144, y += 256) {
        uint8_t sc[8], mn[8];
        k4_unpack(b + 4, sc, mn);
        float d = f16(b), dmin = f16(b + 2);
        for (int j = 0; j < 4; j++) {
            uint8x16_t q0 = vld1q_u8(b + 16 + 32 * j), q1 = vld1q_u8(b + 32 + 32 * j);
            float d0 = d * (float)sc[2 * j], m0 = dmin * (float)mn[2 * j];
            float d1 = d * (float)sc[2 * j + 1], m1 = dmin * (float)mn[2 * j + 1];
            float *o = y + 64 * j;
            store16_min(o, s8(vandq_u8(q0, m4)), d0, m0);
            store16_min(o + 16, s8(vandq_u8(q1, m4)), d0, m0);
            store16_min(o + 32, s8(vshrq_n_u8(q0, 4)), d1, m1);
            store16_min(o + 48, s8(vshrq_n_u8(q1, 4)), d1, m1);
        }
    }
}

/* Q6_K: x = (d*sc)*q - 0 per sub-block of 16 (the reference subtracts
 * dmin*m = 0 too, which leaves every value but -0 unchanged; d*sc*0 is +-0
 * and x - 0 turns -0 into +0, so the subtraction is kept). */
static void dequant_q6_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 256; i++, b += 210, y += 256) {
        const int8_t *sc = (const int8_t *)(b + 192);
        float d = f16(b + 208);
        for (int h = 0; h < 2; h++)
            for (int half = 0; half < 2; half++) {
                int8x16_t q[4];
                q6_k_quads(b, h, half, q);
                for (int t = 0; t < 4; t++) {
                    int g = 8 * h + 2 * t + half;
                    store16_min(y + 16 * g, q[t], d * (float)sc[g], 0.0f);
                }
            }
    }
}

/* ---- the table ------------------------------------------------------------------- */

#define SET(T, TYPE)                                                                          \
    ks->ops[TYPE].dot = T##_dot;                                                              \
    ks->ops[TYPE].gemm = T##_gemm;

void FILL_NAME(ai__kset *ks) {
    ks->act[ACT_F16] = act_f16;
    ks->act[ACT_BF16] = act_bf16;
    ks->act[ACT_Q8_32] = act_q8_32;
    ks->act[ACT_Q8_256] = act_q8_256;
    ks->axpy_f16 = axpy_f16;
    ks->ops[AI_TYPE_F16].dequant = dequant_f16;
    ks->ops[AI_TYPE_BF16].dequant = dequant_bf16;
    ks->ops[AI_TYPE_Q4_0].dequant = dequant_q4_0;
    ks->ops[AI_TYPE_Q5_0].dequant = dequant_q5_0;
    ks->ops[AI_TYPE_Q8_0].dequant = dequant_q8_0;
    ks->ops[AI_TYPE_IQ4_NL].dequant = dequant_iq4_nl;
    ks->ops[AI_TYPE_Q4_1].dequant = dequant_q4_1;
    ks->ops[AI_TYPE_Q5_1].dequant = dequant_q5_1;
    ks->ops[AI_TYPE_Q2_K].dequant = dequant_q2_k;
    ks->ops[AI_TYPE_Q3_K].dequant = dequant_q3_k;
    ks->ops[AI_TYPE_Q4_K].dequant = dequant_q4_k;
    ks->ops[AI_TYPE_Q5_K].dequant = dequant_q5_k;
    ks->ops[AI_TYPE_IQ4_XS].dequant = dequant_iq4_xs;
    ks->ops[AI_TYPE_Q6_K].dequant = dequant_q6_k;
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
}
