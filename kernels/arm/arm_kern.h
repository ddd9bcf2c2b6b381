/*
 * arm_kern.h - the aarch64 NEON kernels, written once and compiled twice:
 * quants_neon.c (Advanced SIMD, the aarch64 baseline) and quants_dotprod.c
 * (adds the Armv8.2 dot-product instructions, SDOT).  Everything is static;
 * the including file defines DOTPROD (0 or 1) and FILL_NAME.
 *
 * Covered: F32, F16, Q4_0, Q8_0, IQ4_NL, Q4_K, Q6_K (the common decode
 * types); the other types keep the reference kernels.  Each kernel computes
 * exactly the reference's integer sums; float accumulation order differs.
 */
#include "kimpl.h"

#include <arm_neon.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* Sum of the 16 products a[i]*b[i] of two int8 vectors. */
INLINE int32_t dot16(int8x16_t a, int8x16_t b) {
#if DOTPROD
    return vaddvq_s32(vdotq_s32(vdupq_n_s32(0), a, b));
#else
    int16x8_t p = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    p = vmlal_s8(p, vget_high_s8(a), vget_high_s8(b)); /* |pair| <= 2*128*127 */
    return vaddvq_s32(vpaddlq_s16(p));
#endif
}

INLINE float f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    float16x4_t v = vreinterpret_f16_u16(vdup_n_u16(h));
    return vgetq_lane_f32(vcvt_f32_f16(v), 0);
}

/* A 32-element block of nibbles: low nibbles (0..15) and high (16..31). */
INLINE void nibbles(const uint8_t *p, uint8x16_t *lo, uint8x16_t *hi) {
    uint8x16_t v = vld1q_u8(p);
    *lo = vandq_u8(v, vdupq_n_u8(0x0F));
    *hi = vshrq_n_u8(v, 4);
}

/* ---- 32-element blocks against ACT_Q8_32 ------------------------------------ */

static float q4_0_dot(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++, b += 18, qa += 32) {
        uint8x16_t lo, hi;
        nibbles(b + 2, &lo, &hi);
        int8x16_t s8 = vdupq_n_s8(8);
        int32_t isum = dot16(vsubq_s8(vreinterpretq_s8_u8(lo), s8), vld1q_s8(qa)) +
                       dot16(vsubq_s8(vreinterpretq_s8_u8(hi), s8), vld1q_s8(qa + 16));
        sum += (f16(b) * da[i]) * (float)isum;
    }
    return sum;
}

static float iq4_nl_dot(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    const int8x16_t tab = vld1q_s8(ai__iq4nl_values);
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++, b += 18, qa += 32) {
        uint8x16_t lo, hi;
        nibbles(b + 2, &lo, &hi);
        int32_t isum = dot16(vqtbl1q_s8(tab, lo), vld1q_s8(qa)) + dot16(vqtbl1q_s8(tab, hi), vld1q_s8(qa + 16));
        sum += (f16(b) * da[i]) * (float)isum;
    }
    return sum;
}

static float q8_0_dot(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++, b += 34, qa += 32) {
        const int8_t *q = (const int8_t *)(b + 2);
        int32_t isum = dot16(vld1q_s8(q), vld1q_s8(qa)) + dot16(vld1q_s8(q + 16), vld1q_s8(qa + 16));
        sum += (f16(b) * da[i]) * (float)isum;
    }
    return sum;
}

/* ---- 256-element blocks against ACT_Q8_256 ----------------------------------- */

static float q4_k_dot(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const float *da = act_d(act, k);
    const int16_t *bs = act_bs256(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 256; i++, b += 144, bs += 16) {
        const int8_t *qa = act_q(act) + 256 * i;
        int32_t isum = 0, corr = 0;
        for (int j = 0; j < 4; j++) {
            uint8_t sc0, m0, sc1, m1;
            k4_scale_min(2 * j, b + 4, &sc0, &m0);
            k4_scale_min(2 * j + 1, b + 4, &sc1, &m1);
            uint8x16_t lo0, hi0, lo1, hi1;
            nibbles(b + 16 + 32 * j, &lo0, &hi0);
            nibbles(b + 16 + 32 * j + 16, &lo1, &hi1);
            const int8_t *a = qa + 64 * j;
            isum += sc0 * (dot16(vreinterpretq_s8_u8(lo0), vld1q_s8(a)) + dot16(vreinterpretq_s8_u8(lo1), vld1q_s8(a + 16)));
            isum += sc1 * (dot16(vreinterpretq_s8_u8(hi0), vld1q_s8(a + 32)) +
                           dot16(vreinterpretq_s8_u8(hi1), vld1q_s8(a + 48)));
            corr += m0 * (bs[4 * j] + bs[4 * j + 1]) + m1 * (bs[4 * j + 2] + bs[4 * j + 3]);
        }
        sum += (f16(b) * da[i]) * (float)isum - (f16(b + 2) * da[i]) * (float)corr;
    }
    return sum;
}

static float q6_k_dot(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const float *da = act_d(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 256; i++, b += 210) {
        const int8_t *qa = act_q(act) + 256 * i;
        const int8_t *sc = (const int8_t *)(b + 192);
        int32_t isum = 0;
        for (int g = 0; g < 16; g++) { /* 16 elements: half `g%2` of quarter t of half h */
            int h = g / 8, t = (g % 8) / 2, l = 16 * (g % 2);
            uint8x16_t ql = vld1q_u8(b + 64 * h + 32 * (t & 1) + l);
            uint8x16_t qh = vld1q_u8(b + 128 + 32 * h + l);
            uint8x16_t lo = t < 2 ? vandq_u8(ql, vdupq_n_u8(0x0F)) : vshrq_n_u8(ql, 4);
            uint8x16_t hi = vandq_u8(vshlq_u8(qh, vdupq_n_s8((int8_t)(4 - 2 * t))), vdupq_n_u8(0x30));
            int8x16_t q = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, hi)), vdupq_n_s8(32));
            isum += sc[g] * dot16(q, vld1q_s8(qa + 16 * g));
        }
        sum += (f16(b + 208) * da[i]) * (float)isum;
    }
    return sum;
}

/* ---- float types ------------------------------------------------------------- */

static float f32_dot(const void *w, const void *act, int64_t k) {
    const float *a = w, *x = act;
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(x + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(x + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < k; i++) s += a[i] * x[i];
    return s;
}

static float f16_dot(const void *w, const void *act, int64_t k) {
    const uint16_t *a = w, *x = act;
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
        float16x8_t wa = vreinterpretq_f16_u16(vld1q_u16(a + i)), xa = vreinterpretq_f16_u16(vld1q_u16(x + i));
        s0 = vfmaq_f32(s0, vcvt_f32_f16(vget_low_f16(wa)), vcvt_f32_f16(vget_low_f16(xa)));
        s1 = vfmaq_f32(s1, vcvt_high_f32_f16(wa), vcvt_high_f32_f16(xa));
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < k; i++) s += ai__f16_to_f32(a[i]) * ai__f16_to_f32(x[i]);
    return s;
}

void FILL_NAME(ai__kset *ks) {
    ks->ops[AI_TYPE_F32].dot = f32_dot;
    ks->ops[AI_TYPE_F16].dot = f16_dot;
    ks->ops[AI_TYPE_Q4_0].dot = q4_0_dot;
    ks->ops[AI_TYPE_Q8_0].dot = q8_0_dot;
    ks->ops[AI_TYPE_IQ4_NL].dot = iq4_nl_dot;
    ks->ops[AI_TYPE_Q4_K].dot = q4_k_dot;
    ks->ops[AI_TYPE_Q6_K].dot = q6_k_dot;
}
