/*
 * kernels.h - the internal interface between the runtime and the compute
 * kernels (private; never included from include/).
 *
 * The runtime sees only the calls below.  Behind them, kernels/dispatch.c
 * chooses once per process between the scalar reference (kernels/ref/, the
 * truth every other variant is tested against) and the ISA variants
 * (kernels/x86/, kernels/arm/).
 *
 * Numerics follow the reference engine (llama.cpp) so that logits agree:
 * F16 weights meet activations rounded to f16, BF16 weights activations
 * rounded to bf16, F32 weights f32 activations, and quantized weights meet
 * activations quantized to 8-bit blocks (32-element blocks for the legacy
 * types and IQ4_NL, 256-element blocks with per-16 sums for the k-quants and
 * IQ4_XS) with integer multiply-accumulate.
 */
#ifndef AI_KERNELS_H
#define AI_KERNELS_H

#include "agentinfer.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ai__pool ai__pool; /* lib/threads.h */

/* ---- scalar conversions ----------------------------------------------- */
float ai__f16_to_f32(uint16_t h);
uint16_t ai__f32_to_f16(float f);   /* round to nearest even */
float ai__bf16_to_f32(uint16_t h);
uint16_t ai__f32_to_bf16(float f);  /* round to nearest even */

/* ---- rows ----------------------------------------------------------------- */

/* 1 when the type has dequantize, quantize and matmul support. */
int ai__type_supported(uint32_t type);

/* Converts n elements (a multiple of the block size) of `type` to f32.
 * AI_E_UNSUPPORTED for a type without support, AI_E_INVAL for a bad n. */
ai_status ai__dequant_row(uint32_t type, const void *src, float *dst, int64_t n);
/* Quantizes n f32 values to `type` (round-to-nearest with the format's
 * scale rules). */
ai_status ai__quant_row(uint32_t type, const float *src, void *dst, int64_t n);

/* ---- matrix multiplication -------------------------------------------- */

/*
 * Y = X * W^T, the product behind every linear layer:
 *
 *   y[b*ldy + r] = sum_{i<k} W[r][i] * x[b*k + i]   for r < n_rows, b < n_batch
 *
 *   w: n_rows rows of k elements of type wtype, row stride
 *      ai__row_size(wtype, k) bytes (k must be a multiple of the block size)
 *   x: n_batch rows of k floats, contiguous
 *   y: n_batch rows, row stride ldy floats (ldy >= n_rows)
 *
 * n_batch == 1 is the matrix-vector case (token generation).  Work is split
 * over the pool's threads (pool may be NULL: single-threaded).  Returns
 * AI_E_UNSUPPORTED for an unsupported type, AI_E_INVAL for bad shapes,
 * AI_E_NOMEM if scratch memory cannot be had.
 */
ai_status ai__matmul(ai__pool *pool, uint32_t wtype, const void *w,
                     int64_t n_rows, int64_t k, const float *x,
                     int64_t n_batch, float *y, int64_t ldy);

/* ai__matmul with the OpenBLAS threshold chosen by the caller instead of
 * the process-wide AI_BLAS_MIN_BATCH: batches of at least blas_min_batch
 * rows go through dequantize + sgemm (faster on large batches, but a row's
 * result then depends in the last bits on the batch it is in); 0 never,
 * -1 as AI_BLAS_MIN_BATCH says.  Without BLAS in the build, or with the
 * reference kernels, the same as ai__matmul. */
ai_status ai__matmul_blas(ai__pool *pool, int64_t blas_min_batch, uint32_t wtype,
                          const void *w, int64_t n_rows, int64_t k, const float *x,
                          int64_t n_batch, float *y, int64_t ldy);

/* ---- matrix multiplication with a caller-owned workspace --------------- */

/*
 * A workspace holds what ai__matmul would otherwise allocate on every call:
 * the job and the activation rows converted to each weight type's form.  Its
 * buffers grow to the largest (k, n_batch) seen and are then reused, so a
 * session that keeps one performs no allocation per product.  One caller at a
 * time (like the pool it is used with).
 */
typedef struct ai__mm_ws ai__mm_ws;

ai_status ai__mm_ws_new(ai__mm_ws **out);
void ai__mm_ws_free(ai__mm_ws *ws);       /* NULL is fine */

/* Peer mode (off in a new workspace; the runtime turns it on with
 * AI_PEER_NUMERICS=1): Q4_0, IQ4_NL and Q4_K products (of a multiple of 8
 * rows) through this workspace sum their float terms as the peer's
 * kernels for the weights it repacks do, where a Q4_K row's bits depend
 * on where it sits in its batch (kimpl.h, ai__peer_ops q4_0, iq4_nl and
 * q4_k).  The opt-in BLAS path is off in peer mode. */
void ai__mm_ws_set_peer(ai__mm_ws *ws, int on);

/* ai__matmul through a workspace (same contract; AI_E_NOMEM only while the
 * workspace grows). */
ai_status ai__matmul_ws(ai__pool *pool, ai__mm_ws *ws, uint32_t wtype, const void *w,
                        int64_t n_rows, int64_t k, const float *x,
                        int64_t n_batch, float *y, int64_t ldy);

/* One product of a group that shares its input x: y = x W^T as above. */
typedef struct ai__mm {
    uint32_t wtype;
    const void *w;           /* n_rows rows of k elements                    */
    int64_t n_rows;
    float *y;                /* n_batch rows of stride ldy                   */
    int64_t ldy;
} ai__mm;

/* Called once per finished tile: rows [r0, r1) of every product of the group
 * are final for batch rows [b0, b1).  Runs on any thread of the pool, tiles
 * never overlap, so it may update those elements (and only those). */
typedef void (*ai__mm_post_fn)(void *ctx, int64_t r0, int64_t r1, int64_t b0,
                               int64_t b1);

/*
 * Up to AI__MM_GROUP_MAX products of one input x[n_batch][k] in a single
 * pass over the pool (one barrier instead of one per product): q, k and v of
 * an attention block, or gate and up of a feed-forward block.  The input is
 * converted once per activation form.  Each row's result is exactly that of
 * ai__matmul.  With post, every product must have the same n_rows, and post
 * sees each row range once all products have it (e.g. SwiGLU of gate and up,
 * or a residual add); post may be NULL.
 */
#define AI__MM_GROUP_MAX 4
ai_status ai__matmul_group(ai__pool *pool, ai__mm_ws *ws, const ai__mm *mm, int n_mm,
                           int64_t k, const float *x, int64_t n_batch,
                           ai__mm_post_fn post, void *post_ctx);

/*
 * A group split by the caller instead: ai__matmul_prepare converts the input
 * once (as ai__matmul_group would; pool used only for n_batch > 1), then any
 * threads call ai__matmul_rows on disjoint row ranges of the products, e.g.
 * each attention head computing its own q, k and v rows inside one job.
 * Every row equals ai__matmul's as long as r0 is even.  The prepared state
 * lives in ws until its next use.  AI_E_UNSUPPORTED when a product would take
 * the (opt-in) BLAS path: use ai__matmul_group then.
 */
ai_status ai__matmul_prepare(ai__pool *pool, ai__mm_ws *ws, const ai__mm *mm, int n_mm,
                             int64_t k, const float *x, int64_t n_batch);
/* Rows [r0, r1) of product i of the prepared group, all batch rows, on the
 * calling thread.  Bad ranges are ignored. */
void ai__matmul_rows(const ai__mm_ws *ws, int i, int64_t r0, int64_t r1);

/* ---- vector helpers (attention over an f16 KV cache) ------------------- */

/* sum_i a[i]*b[i] over n f16 values (products and sums in f32): the F16
 * matmul kernel for one row. */
float ai__dot_f16(const uint16_t *a, const uint16_t *b, int64_t n);
/* y[i] += alpha * a[i] for n f16 values a. */
void ai__axpy_f16(float alpha, const uint16_t *a, float *y, int64_t n);
/* GELU (tanh form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))) in
 * place over n floats.  An element's result does not depend on where it
 * sits in x or on n, so any slices of a row may be done separately. */
void ai__gelu_f32(float *x, int64_t n);
/* out = LayerNorm(x) (* w) (+ b) over one row of n floats (w, b may be NULL;
 * out may be x): mean and variance summed in double, as
 * kernels/ref/act.c; vector sets add in another order, so the last bit
 * may differ from the reference's, but a row's result never depends on
 * other rows. */
void ai__layernorm_f32(float *out, const float *x, const float *w, const float *b, int64_t n,
                       float eps);
/* x = softmax(scale * x) in place over one row of n scores (n >= 1). */
void ai__softmax_f32(float *x, int64_t n, float scale);
/* RoPE in place over n_heads heads of head_dim floats at x: pair i
 * (i < n_rot/2) of a head, (2i, 2i+1) or with neox (i, i + n_rot/2), turns
 * by the angle whose cos and sin are cs[2i], cs[2i+1]:
 *   x0' = fma(x0, c, -(x1 s)),  x1' = fma(x0, s, x1 c)
 * (every kernel set gives these bits). */
void ai__rope_f32(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int neox, const float *cs);
/* Row conversions (f32 -> f16 rounds to nearest even). */
void ai__f32_to_f16_row(const float *x, uint16_t *y, int64_t n);
void ai__f16_to_f32_row(const uint16_t *x, float *y, int64_t n);

/* ---- the peer's rounding (kimpl.h, ai__peer_ops, gives each order) ------ */

/* a.b over n f16 values summed in the peer's order (its flash attention's
 * q.k against an f16 cache). */
float ai__peer_dot_f16(const uint16_t *a, const uint16_t *b, int64_t n);
/* y[i] = f16(fma(v[i], s, y[i])) and y[i] = f16(y[i] * s): the peer's f16
 * accumulator of attention-weighted values. */
void ai__peer_mad_f16(uint16_t *y, const uint16_t *v, float s, int64_t n);
void ai__peer_scale_f16(uint16_t *y, float s, int64_t n);
/* y[i] = exp(x[i]) as the peer's vector exp computes it (within 2 ulp of
 * the true value; x = y allowed). */
void ai__peer_exp(const float *x, float *y, int64_t n);
/* x[i] = silu(x[i]) * y[i] with that exp: x / (1 + exp(-x)) * y. */
void ai__peer_swiglu(float *x, const float *y, int64_t n);
/* out[t] = sum_d k[d*ld + t] * q[d] (t < nt) as one fused multiply-add
 * chain per t, d ascending from 0: scores of a transposed f32 key tile. */
void ai__peer_kq(const float *q, const float *k, int64_t ld, int64_t hd, int64_t nt, float *out);
/* acc[d] += sum_t v[t*dv + d] * p[t] as one fused chain per d, t ascending. */
void ai__peer_pv(float *acc, const float *p, const float *v, int64_t nt, int64_t dv);

/* ai__peer_attn_f16 for nb x ng queries at once: query (b, g), b < nb,
 * g < ng, at q + b*ldq + g*hd, over the first n_kv0 + b key and value rows
 * (a prompt's rows of one kv head: position b sees one key more than b-1),
 * its result at out + b*ldo + g*hdv, each bit-identical to
 * ai__peer_attn_f16 for that query alone (so a prompt's rows do not depend
 * on how it is split into batches).  Sets with a blocked kernel share each
 * key and value row's conversion among the queries.  scratch: at least
 * ai__peer_attn_f16_rows_scratch(hd, hdv) floats. */
void ai__peer_attn_f16_rows(float *out, int64_t ldo, const float *q, int64_t ldq, int64_t nb, int64_t ng,
                            const uint16_t *k, const uint16_t *v, int64_t n_kv0, int64_t hd, int64_t hdv,
                            float scale, float *scratch);
size_t ai__peer_attn_f16_rows_scratch(int64_t hd, int64_t hdv);

/* y = W x for one activation row x[k] against n_rows F16 weight rows, in
 * half precision as the peer's build for CPUs with AVX512-FP16 computes a
 * single token's F16 products (kimpl.h, dot_f16h): scalar and slow, for
 * the opt-in peer mode only.  AI_E_NOMEM if k f16 values cannot be had. */
ai_status ai__peer_matvec_f16h(const uint16_t *w, int64_t n_rows, int64_t k, const float *x, float *y);

/* The peer's flash attention of one query over n_kv f16 key and value rows
 * (lib/ops.c, ai__attention_f16).  scratch: hd + hdv uint16. */
void ai__peer_attn_f16(float *out, const float *q, const uint16_t *k, const uint16_t *v,
                       int64_t n_kv, int64_t hd, int64_t hdv, float scale, uint16_t *scratch);

/* Name of the kernel set chosen for this process ("avx512", "avx2",
 * "neon-dotprod", "neon", "ref"); honours
 * AI_KERNELS=ref|avx2|avx512|neon|neon-dotprod. */
const char *ai__kernels_name(void);

#endif /* AI_KERNELS_H */
