/*
 * act.c - converting activation rows for the dot products (layouts in
 * kimpl.h) and the plain-float types F32, F16 and BF16.
 */
#include "ref.h"

#include <math.h>
#include <string.h>

size_t ai__act_row_size(int kind, int64_t k) {
    size_t n;
    switch (kind) {
    case ACT_F32: n = (size_t)k * 4; break;
    case ACT_F16:
    case ACT_BF16: n = (size_t)k * 2; break;
    case ACT_Q8_32: n = (size_t)k + (size_t)(k / 32) * 8; break;
    case ACT_Q8_256: n = (size_t)k + (size_t)(k / 256) * 4 + (size_t)(k / 16) * 2; break;
    default: return 0;
    }
    return (n + 63) & ~(size_t)63;
}

void ai__ref_act_f32(const float *x, void *dst, int64_t k) { memcpy(dst, x, (size_t)k * 4); }

void ai__ref_act_f16(const float *x, void *dst, int64_t k) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < k; i++) h[i] = ai__f32_to_f16(x[i]);
}

void ai__ref_act_bf16(const float *x, void *dst, int64_t k) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < k; i++) h[i] = ai__f32_to_bf16(x[i]);
}

/* Blocks of 32: d = amax/127 (stored rounded to f16), q = nearest(x*id)
 * with id = 127/amax (not 1/d: the two differ in the last bit now and then,
 * which moves a q across a rounding boundary; the peer's x86 quantizer uses
 * 127/amax), s = f16(d * sum q). */
void ai__ref_act_q8_32(const float *x, void *dst, int64_t k) {
    int8_t *q = dst;
    float *d = (float *)((uint8_t *)dst + k), *s = d + k / 32;
    for (int64_t i = 0; i < k / 32; i++, x += 32, q += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
        float dd = amax / 127, id = amax != 0 ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            q[j] = (int8_t)nearest_int(x[j] * id);
            sum += q[j];
        }
        d[i] = f16_round(dd);
        s[i] = f16_round((float)sum * dd);
    }
}

/* Blocks of 256: the element of largest magnitude, max, maps to -127:
 * q = min(127, nearest(x * (-127/max))), d = 1/(-127/max); sums per 16. */
void ai__ref_act_q8_256(const float *x, void *dst, int64_t k) {
    int8_t *q = dst;
    float *d = (float *)((uint8_t *)dst + k);
    int16_t *bs = (int16_t *)(d + k / 256);
    for (int64_t i = 0; i < k / 256; i++, x += 256, q += 256, bs += 16) {
        float amax = 0, max = 0;
        for (int j = 0; j < 256; j++)
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        if (amax == 0) {
            d[i] = 0;
            memset(q, 0, 256);
            memset(bs, 0, 32);
            continue;
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < 256; j++) {
            int v = nearest_int(iscale * x[j]);
            q[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += q[16 * g + j];
            bs[g] = (int16_t)sum;
        }
        d[i] = 1.0f / iscale;
    }
}

/* ---- F32, F16, BF16 weights ------------------------------------------------ */
/* Dot products accumulate in double, as the peer's scalar code does. */

void ai__ref_dequant_f32(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
void ai__ref_quant_f32(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
float ai__ref_dot_f32(const void *w, const void *act, int64_t k) {
    const float *a = w, *b = act;
    double sum = 0;
    for (int64_t i = 0; i < k; i++) sum += (double)(a[i] * b[i]);
    return (float)sum;
}

void ai__ref_dequant_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = ai__f16_to_f32(h[i]);
}
void ai__ref_quant_f16(const float *src, void *dst, int64_t n) { ai__ref_act_f16(src, dst, n); }
float ai__ref_dot_f16(const void *w, const void *act, int64_t k) {
    const uint16_t *a = w, *b = act;
    double sum = 0;
    for (int64_t i = 0; i < k; i++) sum += (double)(ai__f16_to_f32(a[i]) * ai__f16_to_f32(b[i]));
    return (float)sum;
}

void ai__ref_dequant_bf16(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = ai__bf16_to_f32(h[i]);
}
void ai__ref_quant_bf16(const float *src, void *dst, int64_t n) { ai__ref_act_bf16(src, dst, n); }
float ai__ref_dot_bf16(const void *w, const void *act, int64_t k) {
    const uint16_t *a = w, *b = act;
    double sum = 0;
    for (int64_t i = 0; i < k; i++) sum += (double)(ai__bf16_to_f32(a[i]) * ai__bf16_to_f32(b[i]));
    return (float)sum;
}

void ai__ref_axpy_f16(float alpha, const uint16_t *a, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += alpha * ai__f16_to_f32(a[i]);
}

/* The tanh form of GELU (what the reference computes for BERT's "gelu"),
 * 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3).  Since
 * 0.5 (1 + tanh(u)) = 1 / (1 + exp(-2u)), one expf does it (tanhf costs
 * about three times as much, and this runs over every FFN activation).
 * Far out in the tails it is exactly 0 or x. */
void ai__ref_gelu(float *x, int64_t n) {
    const float c2 = 2.0f * 0.7978845608028654f; /* 2 sqrt(2/pi) */
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        if (v <= -10.0f) x[i] = 0.0f;
        else if (v < 10.0f) x[i] = v / (1.0f + expf(-c2 * v * (1.0f + 0.044715f * v * v)));
    }
}

/* LayerNorm of one row: two passes, sums in double (no cancellation from
 * E[x^2] - E[x]^2), then (x - mean) * scale (* w) (+ b) per element.  w and
 * b may be NULL; out may be x. */
void ai__ref_layernorm(float *out, const float *x, const float *w, const float *b, int64_t n,
                       float eps) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i];
    float mean = (float)(s / (double)n);
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float d = x[i] - mean;
        ss += (double)(d * d);
    }
    float scale = 1.0f / sqrtf((float)(ss / (double)n) + eps);
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] - mean) * scale;
        if (w) v *= w[i];
        if (b) v += b[i];
        out[i] = v;
    }
}

/* x = softmax(scale * x) over one row of n scores: exp(v - max) summed in
 * double, then times 1/sum. */
void ai__ref_softmax(float *x, int64_t n, float scale) {
    if (n <= 0) return;
    for (int64_t i = 0; i < n; i++) x[i] *= scale;
    float max = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}
/* Pair i of each head turns by the angle whose cos and sin (times the
 * attention factor) are cs[2i], cs[2i+1]: NORM pairs neighbours (2i, 2i+1),
 * NEOX the two halves (i, i + n_rot/2).  Rounded like the reference's
 * contracted form: x0 c - x1 s as fma(x0, c, -(x1 s)), x0 s + x1 c as
 * fma(x0, s, x1 c). */
void ai__ref_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int neox, const float *cs) {
    int64_t half = n_rot / 2;
    for (int64_t h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        for (int64_t i = 0; i < half; i++) {
            int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            float c = cs[2 * i], s = cs[2 * i + 1];
            float x0 = v[a], x1 = v[b];
            v[a] = fmaf(x0, c, -(x1 * s));
            v[b] = fmaf(x0, s, x1 * c);
        }
    }
}
