/*
 * ops.c - the math of a transformer block, one function per operation, in
 * plain scalar C.  Each follows the reference engine's order of operations
 * where that changes the last bits (sums of squares in double, angles grown
 * by repeated multiplication), so that logits agree with it closely.
 */
#include "runtime.h"

#include "kernels.h"
#include "ref/ref.h"
#include "types.h"

#include <math.h>
#include <string.h>
#include <pthread.h>

static void rms_scale(float *out, const float *x, const float *w, int64_t n, double ss, float eps) {
    float mean = (float)(ss / (double)n);
    float scale = 1.0f / sqrtf(mean + eps);
    if (w) {
        for (int64_t i = 0; i < n; i++) out[i] = (x[i] * scale) * w[i];
    } else {
        for (int64_t i = 0; i < n; i++) out[i] = x[i] * scale;
    }
}

void ai__rmsnorm(float *out, const float *x, const float *w, int64_t n,
                 float eps) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)(x[i] * x[i]);
    rms_scale(out, x, w, n, ss, eps);
}

void ai__rmsnorm_rows(float *out, const float *x, const float *w, int64_t n,
                      int64_t n_rows, int64_t ld, float eps) {
    int64_t r = 0;
    for (; r + 4 <= n_rows; r += 4) {
        const float *x0 = x + r * ld, *x1 = x0 + ld, *x2 = x1 + ld, *x3 = x2 + ld;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        for (int64_t i = 0; i < n; i++) {
            s0 += (double)(x0[i] * x0[i]);
            s1 += (double)(x1[i] * x1[i]);
            s2 += (double)(x2[i] * x2[i]);
            s3 += (double)(x3[i] * x3[i]);
        }
        rms_scale(out + r * ld, x0, w, n, s0, eps);
        rms_scale(out + (r + 1) * ld, x1, w, n, s1, eps);
        rms_scale(out + (r + 2) * ld, x2, w, n, s2, eps);
        rms_scale(out + (r + 3) * ld, x3, w, n, s3, eps);
    }
    for (; r < n_rows; r++) ai__rmsnorm(out + r * ld, x + r * ld, w, n, eps);
}

/* The scalar reference's softmax at scale 1 (x * 1.0f is exact), so the
 * decoder's one-query attention keeps the reference's expf and double sum
 * whatever kernel set was chosen. */
void ai__softmax(float *x, int64_t n) { ai__ref_softmax(x, n, 1.0f); }

/* silu(x) * y with the peer's vector exp (its expf differs from the C
 * library's in the last bit now and then, which the tiny fixture models
 * amplify; see ai__peer_exp). */
void ai__swiglu(float *x, const float *y, int64_t n) { ai__peer_swiglu(x, y, n); }

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

/* NORM pairs neighbours, NEOX the two halves; rounded like the reference's
 * contracted (fused) form.  The kernels' (kernels/ref/act.c has the scalar
 * definition; the x86 sets use the FMA instruction instead of a call to
 * libm's fmaf per element). */
void ai__rope_apply(float *x, int64_t n_heads, int64_t head_dim,
                    int64_t n_rot, int mode, const float *cs) {
    ai__rope_f32(x, n_heads, head_dim, n_rot, mode == AI__ROPE_NEOX, cs);
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

void ai__kv_keys_t_f32(const uint16_t *k, int64_t n, int64_t dim, float *kt, int64_t ld) {
    pthread_once(&f16_once, fill_f16_table);
    for (int64_t t = 0; t < n; t++)
        for (int64_t d = 0; d < dim; d++) kt[d * ld + t] = f16_table[k[t * dim + d]];
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
 * Attention of one query straight off an f16 cache, computed as the peer's
 * flash attention does for a batch of fewer than AI__ATT_TILED_ROWS rows
 * (and so for every generated token): q rounded to f16, each score q.k_t in
 * the peer's summation order times scale, an online softmax over the keys
 * in order (running max M and sum S; a new max rescales what is
 * accumulated), and the weighted values accumulated in an f16 vector,
 * rounded after every key.  The result differs from an f32 softmax by about
 * 1e-3 relative; what matters here is that it is the peer's.
 * The loop, in kernels/ref/peer.c and its SIMD twin:
 *   qh = f16(q); acc = 0 (f16); M = -inf; S = 0
 *   for each key t:  s = dot_f16(qh, k_t) * scale
 *       s > M:  ms = expf(M - s), M = s, acc = f16(acc * ms), vs = 1
 *       else:   ms = 1, vs = expf(s - M)
 *       acc = f16(fma(v_t, vs, acc));  S = fma(S, ms, vs)
 *   out = f32(acc) / S
 * scratch: (head_dim + head_dim_v) / 2 + 1 floats.
 */
void ai__attention_f16(float *out, const float *q, const uint16_t *k, const uint16_t *v,
                       int64_t n_kv, int64_t head_dim, int64_t head_dim_v,
                       float scale, float *scratch) {
    /* the loop lives with the kernels, where its pieces inline */
    ai__peer_attn_f16(out, q, k, v, n_kv, head_dim, head_dim_v, scale, (uint16_t *)scratch);
}

/*
 * The same attention as the peer computes it for a batch of at least
 * AI__ATT_TILED_ROWS rows: q stays f32, the keys and values are f32 (the
 * cache rows converted), and the keys go in tiles of 64 positions from 0.
 * Per tile: scores as fused chains over the head dimension, times scale;
 * the tile's max joins the running max M (a larger one rescales the
 * accumulated output and sum by expf(M_old - M)); the weights
 * e^(score - M) come from the peer's vector exp and are summed per 16 as
 * its horizontal add pairs them, in double; the weighted values are added
 * as fused chains over the tile's positions.  Finally out /= S.
 *   kt: keys transposed, kt[d*ldk + t] (t < n_kv); vf: values [n_kv][hdv].
 *   scratch: 128 floats.
 */
void ai__attention_f16_tiled(float *out, const float *q, const float *kt, int64_t ldk,
                             const float *vf, int64_t n_kv, int64_t head_dim,
                             int64_t head_dim_v, float scale, float *scratch) {
    float *sc = scratch;       /* [64] scores, then weights */
    float S = 0.0f, M = -INFINITY;
    memset(out, 0, (size_t)head_dim_v * sizeof *out);
    for (int64_t t0 = 0; t0 < n_kv; t0 += 64) {
        int64_t nt = n_kv - t0 < 64 ? n_kv - t0 : 64;
        ai__peer_kq(q, kt + t0, ldk, head_dim, nt, sc);
        float tmax = -INFINITY;
        for (int64_t t = 0; t < nt; t++) {
            sc[t] *= scale;
            tmax = sc[t] > tmax ? sc[t] : tmax;
        }
        float Mnew = fmaxf(M, tmax);
        if (Mnew > M) {
            float ms = expf(M - Mnew);
            for (int64_t d = 0; d < head_dim_v; d++) out[d] *= ms;
            S *= ms;
        }
        M = Mnew;
        for (int64_t t = 0; t < nt; t++) sc[t] -= M;
        ai__peer_exp(sc, sc, nt);
        for (int64_t t = nt; t < 64; t++) sc[t] = 0.0f; /* the tile's padding */
        double sum = 0.0;
        for (int c = 0; c < 64; c += 16) {
            const float *w = sc + c;
            float t8[8], t4[4];
            for (int i = 0; i < 8; i++) t8[i] = w[i] + w[i + 8];
            for (int i = 0; i < 4; i++) t4[i] = t8[i] + t8[i + 4];
            sum += (double)((t4[0] + t4[2]) + (t4[1] + t4[3]));
        }
        S = (float)((double)S + sum);
        ai__peer_pv(out, sc, vf + t0 * head_dim_v, nt, head_dim_v);
    }
    float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int64_t d = 0; d < head_dim_v; d++) out[d] *= inv;
}

/* GELU, tanh form: the kernels' (kernels/ref/act.c has the scalar
 * definition; the x86 sets a vector one). */
void ai__gelu(float *x, int64_t n) { ai__gelu_f32(x, n); }
