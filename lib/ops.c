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
#include <pthread.h>

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

/* f16 -> f32 through a table of all 65536 values (256 KB), filled once from
 * the kernels' conversion: the attention converts whole cache rows, and a
 * call per element would cost more than the arithmetic. */
static float f16_table[65536];
static pthread_once_t f16_once = PTHREAD_ONCE_INIT;
static void fill_f16_table(void) {
    for (uint32_t i = 0; i < 65536; i++) f16_table[i] = ai__f16_to_f32((uint16_t)i);
}

void ai__kv_rows_f32(uint32_t type, const uint8_t *rows, int64_t n_rows,
                     int64_t dim, float *out) {
    size_t rs = ai__row_size(type, dim);
    if (type == AI_TYPE_F32) {
        memcpy(out, rows, (size_t)n_rows * (size_t)dim * sizeof *out);
    } else if (type == AI_TYPE_F16) {
        pthread_once(&f16_once, fill_f16_table);
        const uint16_t *h = (const uint16_t *)rows;
        for (int64_t i = 0; i < n_rows * dim; i++) out[i] = f16_table[h[i]];
    } else {
        for (int64_t t = 0; t < n_rows; t++)
            ai__dequant_row(type, rows + (size_t)t * rs, out + t * dim, dim);
    }
}

/* q.k over n values.  Below 64 dims the products are summed in double (the
 * reference does so for such short heads); otherwise in 16 lanes that the
 * compiler can keep in vector registers. */
static float dot(const float *q, const float *k, int64_t n) {
    if (n < 64 || n % 16) {
        double s = 0.0;
        for (int64_t d = 0; d < n; d++) s += (double)(q[d] * k[d]);
        return (float)s;
    }
    float acc[16] = {0};
    for (int64_t d = 0; d < n; d += 16)
        for (int j = 0; j < 16; j++) acc[j] += q[d + j] * k[d + j];
    for (int w = 8; w > 0; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0];
}

/*
 * Attention of one query over n_kv positions:
 *   out = sum_t softmax_t(q.k_t * scale) v_t
 * k and v are f32 rows (converted from the cache by ai__kv_rows_f32); q is
 * first rounded as the reference's kernels read it against that cache:
 * to f16 for an f16 cache, to q8_0 blocks for a q8_0 cache.
 */
void ai__attention(float *out, const float *q, const float *k, const float *v,
                   int64_t n_kv, int64_t head_dim, int64_t head_dim_v,
                   uint32_t kv_type, float scale, float *scratch) {
    float *qr = scratch;              /* [head_dim] q as the cache reads it */
    void *qq = qr + head_dim;         /* [head_dim] room for q8_0 blocks    */
    float *att = qr + 2 * head_dim;   /* [n_kv] scores, then weights        */
    if (kv_type == AI_TYPE_F16) {
        for (int64_t d = 0; d < head_dim; d++)
            qr[d] = ai__f16_to_f32(ai__f32_to_f16(q[d]));
    } else if (kv_type == AI_TYPE_Q8_0) {
        ai__quant_row(kv_type, q, qq, head_dim);
        ai__dequant_row(kv_type, qq, qr, head_dim);
    } else {
        memcpy(qr, q, (size_t)head_dim * sizeof *qr);
    }
    for (int64_t t = 0; t < n_kv; t++) att[t] = dot(qr, k + t * head_dim, head_dim) * scale;
    ai__softmax(att, n_kv);
    memset(out, 0, (size_t)head_dim_v * sizeof *out);
    for (int64_t t = 0; t < n_kv; t++) {
        const float *vt = v + t * head_dim_v;
        float a = att[t];
        for (int64_t d = 0; d < head_dim_v; d++) out[d] += a * vt[d];
    }
}

/*
 * The same attention straight off an f16 cache: k and v are the cache rows
 * (uint16 f16), q is rounded to f16 once, and the scores and the weighted
 * sum go through the kernels' f16 dot product and axpy (vector conversion
 * in registers, no f32 copy of the rows).  The same numbers as ai__attention
 * up to float summation order.
 */
void ai__attention_f16(float *out, const float *q, const uint16_t *k, const uint16_t *v,
                       int64_t n_kv, int64_t head_dim, int64_t head_dim_v,
                       float scale, float *scratch) {
    uint16_t *qh = (uint16_t *)scratch;  /* [head_dim] q as f16          */
    float *att = scratch + head_dim;     /* [n_kv] scores, then weights  */
    ai__f32_to_f16_row(q, qh, head_dim);
    for (int64_t t = 0; t < n_kv; t++) att[t] = ai__dot_f16(qh, k + t * head_dim, head_dim) * scale;
    ai__softmax(att, n_kv);
    memset(out, 0, (size_t)head_dim_v * sizeof *out);
    for (int64_t t = 0; t < n_kv; t++) ai__axpy_f16(att[t], v + t * head_dim_v, out, head_dim_v);
}

/* Two passes, sums in double as the reference does: the mean, then the
 * variance around it (no cancellation from E[x^2] - E[x]^2). */
void ai__layernorm(float *out, const float *x, const float *w, const float *b,
                   int64_t n, float eps) {
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

/* GELU, tanh form: the kernels' (kernels/ref/act.c has the scalar
 * definition; the x86 sets a vector one). */
void ai__gelu(float *x, int64_t n) { ai__gelu_f32(x, n); }
