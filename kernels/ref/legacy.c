/*
 * legacy.c - the 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and
 * IQ4_NL.  Every block starts with an f16 scale d; the types "_1" add an f16
 * offset m (x = d*q + m), the others are symmetric (x = d*q).
 *
 *   Q4_0  (18 B)  d | qs[16]           q = nibble - 8; element j in the low
 *                                      nibble of qs[j], element j+16 high
 *   Q4_1  (20 B)  d | m | qs[16]       q = nibble
 *   Q5_0  (22 B)  d | qh[4] | qs[16]   q = (nibble | bit j of qh << 4) - 16,
 *                                      qh read as a little-endian u32
 *   Q5_1  (24 B)  d | m | qh[4] | qs[16]
 *   Q8_0  (34 B)  d | int8 q[32]
 *   IQ4_NL(18 B)  d | qs[16]           x = d * values[nibble] (a fixed
 *                                      non-linear codebook)
 *
 * Dot products meet ACT_Q8_32 rows (see kimpl.h) and accumulate each block
 * in integers: sum += (d_w*d_a) * isum  (+ m_w*s_a for the "_1" types).
 */
#include "ref.h"

#include <math.h>
#include <string.h>

const int8_t ai__iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                      1,    13,   25,  38,  53,  69,  89,  113};

/* Element j (0..31) of a block's 16 nibble bytes. */
static inline int nib(const uint8_t *qs, int j) {
    return j < 16 ? qs[j] & 0xF : qs[j - 16] >> 4;
}

static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* (int)v limited to [0, hi]; NaN gives 0.  Converting an out-of-range float
 * to int is undefined behaviour, so the range is checked in float first
 * (weights with inf or NaN must not crash the quantizer). */
static int trunc_clamp(float v, int hi) {
    if (!(v >= 0)) return 0;
    return v < (float)hi ? (int)v : hi;
}

/* The element of largest magnitude, with its sign (the first one on ties). */
static float signed_max(const float *x, int n) {
    float amax = 0, max = 0;
    for (int j = 0; j < n; j++)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    return max;
}

static void pack_nibbles(const uint8_t *q, uint8_t *qs) {
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)(q[j] | (q[j + 16] << 4));
}

/* ---- Q4_0 --------------------------------------------------------------- */

void ai__ref_dequant_q4_0(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 18, y += 32) {
        float d = rdf16(b);
        for (int j = 0; j < 32; j++) y[j] = d * (float)(nib(b + 2, j) - 8);
    }
}

/* The element of largest magnitude maps to -8, so the full range [-8, 7] is
 * used on one side: d = max / -8, q = round(x/d) + 8 clipped to 15. */
void ai__ref_quant_q4_0(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 32; i++, b += 18, x += 32) {
        float d = signed_max(x, 32) / -8, id = d ? 1.0f / d : 0.0f;
        uint8_t q[32];
        for (int j = 0; j < 32; j++) {
            q[j] = (uint8_t)trunc_clamp(x[j] * id + 8.5f, 15);
        }
        wr16(b, ai__f32_to_f16(d));
        pack_nibbles(q, b + 2);
    }
}

float ai__ref_dot_q4_0(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++, b += 18, qa += 32) {
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += (nib(b + 2, j) - 8) * qa[j];
        sum += (rdf16(b) * da[i]) * (float)isum;
    }
    return sum;
}

/* ---- Q4_1 --------------------------------------------------------------- */

void ai__ref_dequant_q4_1(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 20, y += 32) {
        float d = rdf16(b), m = rdf16(b + 2);
        for (int j = 0; j < 32; j++) y[j] = d * (float)nib(b + 4, j) + m;
    }
}

/* m = min, d = (max - min)/15, q = round((x - m)/d). */
static void quant_affine(const float *x, int nmax, float *d_out, float *m_out, uint8_t *q) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < 32; j++) {
        lo = x[j] < lo ? x[j] : lo;
        hi = x[j] > hi ? x[j] : hi;
    }
    float d = (hi - lo) / (float)nmax, id = d ? 1.0f / d : 0.0f;
    for (int j = 0; j < 32; j++) {
        q[j] = (uint8_t)trunc_clamp((x[j] - lo) * id + 0.5f, nmax);
    }
    *d_out = d;
    *m_out = lo;
}

void ai__ref_quant_q4_1(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 32; i++, b += 20, x += 32) {
        float d, m;
        uint8_t q[32];
        quant_affine(x, 15, &d, &m, q);
        wr16(b, ai__f32_to_f16(d));
        wr16(b + 2, ai__f32_to_f16(m));
        pack_nibbles(q, b + 4);
    }
}

float ai__ref_dot_q4_1(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k), *sa = act_s32(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++, b += 20, qa += 32) {
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += nib(b + 4, j) * qa[j];
        sum += (rdf16(b) * da[i]) * (float)isum + rdf16(b + 2) * sa[i];
    }
    return sum;
}

/* ---- Q5_0 --------------------------------------------------------------- */

static inline int q5(const uint8_t *qh, const uint8_t *qs, int j) {
    return nib(qs, j) | (int)((rd32(qh) >> j) & 1) << 4;
}

static void pack_q5(const uint8_t *q, uint8_t *qh, uint8_t *qs) {
    uint32_t h = 0;
    for (int j = 0; j < 32; j++) h |= (uint32_t)(q[j] >> 4) << j;
    uint8_t lo[32];
    for (int j = 0; j < 32; j++) lo[j] = q[j] & 0xF;
    pack_nibbles(lo, qs);
    for (int j = 0; j < 4; j++) qh[j] = (uint8_t)(h >> (8 * j));
}

void ai__ref_dequant_q5_0(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 22, y += 32) {
        float d = rdf16(b);
        for (int j = 0; j < 32; j++) y[j] = d * (float)(q5(b + 2, b + 6, j) - 16);
    }
}

void ai__ref_quant_q5_0(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 32; i++, b += 22, x += 32) {
        float d = signed_max(x, 32) / -16, id = d ? 1.0f / d : 0.0f;
        uint8_t q[32];
        for (int j = 0; j < 32; j++) {
            q[j] = (uint8_t)trunc_clamp(x[j] * id + 16.5f, 31);
        }
        wr16(b, ai__f32_to_f16(d));
        pack_q5(q, b + 2, b + 6);
    }
}

float ai__ref_dot_q5_0(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++, b += 22, qa += 32) {
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += (q5(b + 2, b + 6, j) - 16) * qa[j];
        sum += (rdf16(b) * da[i]) * (float)isum;
    }
    return sum;
}

/* ---- Q5_1 --------------------------------------------------------------- */

void ai__ref_dequant_q5_1(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 24, y += 32) {
        float d = rdf16(b), m = rdf16(b + 2);
        for (int j = 0; j < 32; j++) y[j] = d * (float)q5(b + 4, b + 8, j) + m;
    }
}

void ai__ref_quant_q5_1(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 32; i++, b += 24, x += 32) {
        float d, m;
        uint8_t q[32];
        quant_affine(x, 31, &d, &m, q);
        wr16(b, ai__f32_to_f16(d));
        wr16(b + 2, ai__f32_to_f16(m));
        pack_q5(q, b + 4, b + 8);
    }
}

float ai__ref_dot_q5_1(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k), *sa = act_s32(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++, b += 24, qa += 32) {
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += q5(b + 4, b + 8, j) * qa[j];
        sum += (rdf16(b) * da[i]) * (float)isum + rdf16(b + 2) * sa[i];
    }
    return sum;
}

/* ---- Q8_0 --------------------------------------------------------------- */

void ai__ref_dequant_q8_0(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 34, y += 32) {
        float d = rdf16(b);
        for (int j = 0; j < 32; j++) y[j] = d * (float)(int8_t)b[2 + j];
    }
}

/* d = amax/127, q = round(x/d) (half away from zero, as the format's own
 * quantizer does). */
void ai__ref_quant_q8_0(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 32; i++, b += 34, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
        float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        wr16(b, ai__f32_to_f16(d));
        for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)(int8_t)(trunc_clamp(roundf(x[j] * id) + 128.0f, 255) - 128);
    }
}

float ai__ref_dot_q8_0(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++, b += 34, qa += 32) {
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += (int8_t)b[2 + j] * qa[j];
        sum += (rdf16(b) * da[i]) * (float)isum;
    }
    return sum;
}

/* ---- IQ4_NL --------------------------------------------------------------- */

void ai__ref_dequant_iq4_nl(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / 32; i++, b += 18, y += 32) {
        float d = rdf16(b);
        for (int j = 0; j < 32; j++) y[j] = d * (float)ai__iq4nl_values[nib(b + 2, j)];
    }
}

/* Index of the codebook value nearest to v. */
int ai__iq4_nearest(float v) {
    int best = 0;
    float err = fabsf(v - ai__iq4nl_values[0]);
    for (int i = 1; i < 16; i++) {
        float e = fabsf(v - ai__iq4nl_values[i]);
        if (e < err) {
            err = e;
            best = i;
        }
    }
    return best;
}

/*
 * Quantizes n values to the codebook with one scale: first the scale that
 * maps the element of largest magnitude onto -127 (the codebook's extreme),
 * then a few candidates around it, each refined once by least squares; the
 * one with the smallest squared error wins.  Returns the scale (0 for an
 * all-zero block) and writes the indices.
 */
float ai__iq4_fit(const float *x, int n, uint8_t *q) {
    float max = signed_max(x, n);
    if (max == 0) {
        for (int j = 0; j < n; j++) q[j] = 8; /* value 1: nearest to 0 */
        return 0;
    }
    float best_d = 0, best_err = INFINITY;
    uint8_t tmp[32];
    for (int step = -6; step <= 6; step++) {
        float d = max / (-127.0f + 2.0f * (float)step);
        for (int pass = 0; pass < 2; pass++) {
            float id = 1.0f / d, sxq = 0, sqq = 0, err = 0;
            for (int j = 0; j < n; j++) {
                tmp[j] = (uint8_t)ai__iq4_nearest(x[j] * id);
                float v = ai__iq4nl_values[tmp[j]];
                sxq += x[j] * v;
                sqq += v * v;
                float e = x[j] - d * v;
                err += e * e;
            }
            if (err < best_err) {
                best_err = err;
                best_d = d;
                memcpy(q, tmp, (size_t)n);
            }
            if (sqq <= 0 || sxq == 0) break;
            d = sxq / sqq; /* least-squares scale for these indices */
        }
    }
    return best_d;
}

void ai__ref_quant_iq4_nl(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 32; i++, b += 18, x += 32) {
        uint8_t q[32];
        float d = ai__iq4_fit(x, 32, q);
        /* re-pick the indices for the scale as stored (f16) */
        float ds = f16_round(d);
        if (ds != 0)
            for (int j = 0; j < 32; j++) q[j] = (uint8_t)ai__iq4_nearest(x[j] / ds);
        wr16(b, ai__f32_to_f16(d));
        pack_nibbles(q, b + 2);
    }
}

float ai__ref_dot_iq4_nl(const void *w, const void *act, int64_t k) {
    const uint8_t *b = w;
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    float sum = 0;
    for (int64_t i = 0; i < k / 32; i++, b += 18, qa += 32) {
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += ai__iq4nl_values[nib(b + 2, j)] * qa[j];
        sum += (rdf16(b) * da[i]) * (float)isum;
    }
    return sum;
}
