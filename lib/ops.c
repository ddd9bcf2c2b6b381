/*
 * ops.c - the math of a transformer block, one function per operation, in
 * plain scalar C.  Each follows the reference engine's order of operations
 * where that changes the last bits (sums of squares in double, angles grown
 * by repeated multiplication), so that logits agree with it closely.
 */
#include "runtime.h"

#include "kernels.h"
#include "types.h"

#include <math.h>
#include <string.h>

void ai__rmsnorm(float *out, const float *x, const float *w, int64_t n,
                 float eps) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)(x[i] * x[i]);
    float mean = (float)(ss / (double)n);
    float scale = 1.0f / sqrtf(mean + eps);
    if (w) {
        for (int64_t i = 0; i < n; i++) out[i] = (x[i] * scale) * w[i];
    } else {
        for (int64_t i = 0; i < n; i++) out[i] = x[i] * scale;
    }
}

void ai__softmax(float *x, int64_t n) {
    if (n <= 0) return;
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

void ai__swiglu(float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float g = x[i];
        x[i] = g / (1.0f + expf(-g)) * y[i];
    }
}

/*
 * Pair i of a head turns by pos * base^(-2i/n_rot).  The angle is grown by
 * one multiplication per pair instead of a pow() each, as the reference
 * does; the two differ in the last bits.
 */
void ai__rope_cache(float *cs, int64_t pos, int64_t n_rot, float base,
                    float scale, float attn, const float *factors) {
    float step = powf(base, -2.0f / (float)n_rot);
    float theta = (float)pos;
    for (int64_t i = 0; i < n_rot / 2; i++) {
        float t = theta / (factors ? factors[i] : 1.0f) * scale;
        cs[2 * i] = cosf(t) * attn;
        cs[2 * i + 1] = sinf(t) * attn;
        theta *= step;
    }
}

void ai__rope_apply(float *x, int64_t n_heads, int64_t head_dim,
                    int64_t n_rot, int mode, const float *cs) {
    int64_t half = n_rot / 2;
    for (int64_t h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        for (int64_t i = 0; i < half; i++) {
            /* NORM pairs neighbours, NEOX pairs the two halves */
            int64_t a = mode == AI__ROPE_NEOX ? i : 2 * i;
            int64_t b = mode == AI__ROPE_NEOX ? i + half : 2 * i + 1;
            float c = cs[2 * i], s = cs[2 * i + 1];
            float x0 = v[a], x1 = v[b];
            /* rounded like the reference's contracted (fused) form */
            v[a] = fmaf(x0, c, -(x1 * s));
            v[b] = fmaf(x0, s, x1 * c);
        }
    }
}

/* One cache row as f32: a plain copy, an f16 conversion, or a dequantized
 * q8_0 row. */
static const float *row_f32(uint32_t type, const uint8_t *row, int64_t n,
                            float *tmp) {
    if (type == AI_TYPE_F32) return (const float *)row;
    if (type == AI_TYPE_F16) {
        const uint16_t *h = (const uint16_t *)row;
        for (int64_t i = 0; i < n; i++) tmp[i] = ai__f16_to_f32(h[i]);
        return tmp;
    }
    ai__dequant_row(type, row, tmp, n);
    return tmp;
}

/*
 * Attention of one query over n_kv cached positions, in one pass with a
 * running maximum (M) and normalizer (S), as the reference does on CPU:
 *
 *   for each t:  s = q.k_t * scale
 *                if s > M: acc *= exp(M - s), M = s, w = 1  else w = exp(s - M)
 *                acc += w * v_t ;  S = S * exp(M_old - M) + w
 *   out = acc / S
 *
 * With an f16 cache the accumulator is kept in f16 and rounded after every
 * step, and the reference's fused multiply-adds are done with fmaf, because
 * the tiny rounding differences would otherwise be amplified by the 8-bit
 * activation rounding of the next layers (see the fixture test).
 */
void ai__attention(float *out, const float *q, const uint8_t *k,
                   const uint8_t *v, int64_t n_kv, int64_t head_dim,
                   int64_t head_dim_v, uint32_t kv_type, float scale,
                   float *scratch) {
    int64_t maxd = head_dim > head_dim_v ? head_dim : head_dim_v;
    float *acc = scratch;             /* [head_dim_v] f32 accumulator      */
    uint16_t *acc16 = (uint16_t *)scratch; /* or the same room as f16    */
    float *qr = scratch + maxd;       /* [head_dim] q as the cache reads it */
    float *tmp = qr + maxd;           /* [maxd]  one converted cache row   */
    void *qq = tmp + maxd;            /* q8_0 blocks of q                  */
    size_t k_row = ai__row_size(kv_type, head_dim);
    size_t v_row = ai__row_size(kv_type, head_dim_v);
    int f16 = kv_type == AI_TYPE_F16;

    /* the reference multiplies an f16 cache with q rounded to f16, and a
     * q8_0 cache with q quantized to q8_0 blocks */
    if (f16) {
        for (int64_t d = 0; d < head_dim; d++)
            qr[d] = ai__f16_to_f32(ai__f32_to_f16(q[d]));
    } else if (kv_type == AI_TYPE_Q8_0) {
        ai__quant_row(kv_type, q, qq, head_dim);
        ai__dequant_row(kv_type, qq, qr, head_dim);
    } else {
        memcpy(qr, q, (size_t)head_dim * sizeof *qr);
    }
    if (f16) memset(acc16, 0, (size_t)head_dim_v * sizeof *acc16);
    else memset(acc, 0, (size_t)head_dim_v * sizeof *acc);

    float M = -INFINITY, S = 0.0f;
    for (int64_t t = 0; t < n_kv; t++) {
        /* score: products of f16 values are exact in f32; sum them in double */
        const float *kt = row_f32(kv_type, k + (size_t)t * k_row, head_dim, tmp);
        double dot = 0.0;
        for (int64_t d = 0; d < head_dim; d++) dot += (double)(qr[d] * kt[d]);
        float s = (float)dot * scale;

        float ms = 1.0f, vs = 1.0f;
        if (s > M) {
            ms = expf(M - s); /* 0 on the first step */
            M = s;
            if (f16) {
                for (int64_t d = 0; d < head_dim_v; d++)
                    acc16[d] = ai__f32_to_f16(ai__f16_to_f32(acc16[d]) * ms);
            } else {
                for (int64_t d = 0; d < head_dim_v; d++) acc[d] *= ms;
            }
        } else {
            vs = expf(s - M);
        }
        const uint8_t *vrow = v + (size_t)t * v_row;
        if (f16) {
            const uint16_t *vh = (const uint16_t *)vrow;
            for (int64_t d = 0; d < head_dim_v; d++)
                acc16[d] = ai__f32_to_f16(fmaf(ai__f16_to_f32(vh[d]), vs, ai__f16_to_f32(acc16[d])));
        } else {
            const float *vt = row_f32(kv_type, vrow, head_dim_v, tmp);
            for (int64_t d = 0; d < head_dim_v; d++) acc[d] = fmaf(vt[d], vs, acc[d]);
        }
        S = fmaf(S, ms, vs);
    }
    float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int64_t d = 0; d < head_dim_v; d++)
        out[d] = (f16 ? ai__f16_to_f32(acc16[d]) : acc[d]) * inv;
}
