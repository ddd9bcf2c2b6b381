/*
 * runtime.h - the decoder runtime (private): hyperparameters and tensor
 * bindings of the supported architectures (weights.c), the math of one
 * transformer block (ops.c), the forward pass over a batch with its KV cache
 * (forward.c) and the sampler (sampler.c).  Sessions (session.c) tie them to
 * the public API.
 *
 * Shapes are written [rows][cols], row-major, cols contiguous.  A GGUF
 * matrix with ne = {k, n} is n rows of k elements: it maps k inputs to n
 * outputs through ai__matmul.
 */
#ifndef AI_RUNTIME_H
#define AI_RUNTIME_H

#include "agentinfer.h"
#include "gguf.h"
#include "threads.h"

#include <stddef.h>
#include <stdint.h>

/* ---- hyperparameters and weights (weights.c) ---------------------------- */

typedef enum ai__arch {
    AI__ARCH_LLAMA = 1, /* llama, mistral: RoPE on adjacent pairs          */
    AI__ARCH_QWEN2,     /* + q/k/v biases, RoPE on halves ("neox")         */
    AI__ARCH_QWEN3,     /* + per-head RMSNorm of q and k, free head dim    */
    AI__ARCH_PHI3       /* fused qkv and gate/up, RoPE on halves           */
} ai__arch;

/* How RoPE pairs the dimensions of a head: NORM rotates (x[2i], x[2i+1]),
 * NEOX rotates (x[i], x[i + n_rot/2]). */
enum { AI__ROPE_NORM = 0, AI__ROPE_NEOX = 1 };

typedef struct ai__hparams {
    int arch;             /* ai__arch                                     */
    int64_t n_vocab;
    int64_t n_embd;       /* width of the residual stream                */
    int64_t n_layer;
    int64_t n_head;       /* query heads                                 */
    int64_t n_head_kv;    /* key/value heads (n_head is a multiple)      */
    int64_t head_dim;     /* query/key dimension of one head             */
    int64_t head_dim_v;   /* value dimension of one head                 */
    int64_t n_ff;         /* hidden width of the feed-forward block      */
    int64_t n_ctx_train;  /* context length the model was trained with   */
    int64_t n_rot;        /* dimensions of a head that RoPE rotates      */
    int rope_mode;        /* AI__ROPE_NORM or AI__ROPE_NEOX              */
    float rms_eps;
    float rope_base;      /* frequency base (theta)                      */
    float rope_scale;     /* positions are multiplied by this (1/linear factor) */
    float rope_attn;      /* factor on cos/sin (LongRoPE attention factor) */
    int64_t n_ctx_orig;   /* context below which short rope factors apply */
} ai__hparams;

/* One weight matrix, bound to a tensor of the file (data used in place). */
typedef struct ai__mat {
    uint32_t type;        /* ai_type                                     */
    int64_t rows, cols;   /* [rows][cols]: cols inputs, rows outputs     */
    const void *data;
} ai__mat;

typedef struct ai__layer {
    const float *attn_norm;  /* [n_embd]                                   */
    ai__mat wq;              /* [n_head*head_dim][n_embd]                  */
    ai__mat wk;              /* [n_head_kv*head_dim][n_embd]               */
    ai__mat wv;              /* [n_head_kv*head_dim_v][n_embd]             */
    ai__mat wqkv;            /* phi3: the three above stacked (rows q|k|v) */
    const float *bq, *bk, *bv; /* qwen2 biases, NULL elsewhere            */
    const float *q_norm;     /* qwen3: [head_dim], NULL elsewhere          */
    const float *k_norm;     /* qwen3: [head_dim]                          */
    ai__mat wo;              /* [n_embd][n_head*head_dim_v]                */
    const float *ffn_norm;   /* [n_embd]                                   */
    ai__mat w_gate;          /* [n_ff][n_embd]                             */
    ai__mat w_up;            /* [n_ff][n_embd]; phi3: [2*n_ff] gate|up    */
    ai__mat w_down;          /* [n_embd][n_ff]                             */
} ai__layer;

#define AI__MAX_EOG 8

struct ai__weights {
    ai__hparams hp;
    ai__mat tok_embd;        /* [n_vocab][n_embd], rows read one by one    */
    const float *out_norm;   /* [n_embd]                                   */
    ai__mat output;          /* [n_vocab][n_embd]; token_embd when tied    */
    const float *rope_freqs; /* [n_rot/2] divisors of the pair frequencies
                                (Llama 3 scaling), or NULL                 */
    const float *rope_long;  /* phi3 LongRoPE factors [n_rot/2], or NULL   */
    const float *rope_short;
    ai__layer *layers;       /* [n_layer]                                  */
    int32_t eog[AI__MAX_EOG]; /* end-of-generation token ids              */
    int n_eog;
    int32_t bos;             /* -1 when the file names none               */
    void **owned;            /* f32 copies of vectors stored in another type */
    size_t n_owned;
};

/* Reads hyperparameters and binds every tensor of a supported decoder.
 * Returns AI_E_UNSUPPORTED for another architecture or a tensor type without
 * kernels, AI_E_FORMAT for a missing tensor, a wrong shape or bad metadata;
 * the message names the key or tensor. */
ai_status ai__weights_load(const ai__gguf *g, const char *arch,
                           struct ai__weights **out, char *err,
                           size_t err_cap);
void ai__weights_free(struct ai__weights *w); /* NULL is fine */
/* 1 when arch is one of the decoders above. */
int ai__arch_supported(const char *arch);

/* ---- the math of a block (ops.c) --------------------------------------------- */

/* out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i], i < n.  w may be NULL (no
 * scale).  out may alias x. */
void ai__rmsnorm(float *out, const float *x, const float *w, int64_t n,
                 float eps);
/* ai__rmsnorm of n_rows rows, row r at x + r*ld (out + r*ld), each with
 * exactly ai__rmsnorm's bits; the rows' sums run side by side (one double
 * addition after another per row is the order, and the latency of each
 * would otherwise be paid in turn). */
void ai__rmsnorm_rows(float *out, const float *x, const float *w, int64_t n,
                      int64_t n_rows, int64_t ld, float eps);
/* Numerically stable softmax in place over n values. */
void ai__softmax(float *x, int64_t n);
/* x = silu(x) * y over n values (the SwiGLU gate). */
void ai__swiglu(float *x, const float *y, int64_t n);

/* x = gelu(x) over n values, tanh approximation. */
void ai__gelu(float *x, int64_t n);

/* The rotation angles of one position: cs[2i] = cos, cs[2i+1] = sin of
 * pos * scale * base^(-2i/n_rot) / (factors ? factors[i] : 1), each times
 * attn, for i < n_rot/2. */
void ai__rope_cache(float *cs, int64_t pos, int64_t n_rot, float base,
                    float scale, float attn, const float *factors);
/* Rotates the first n_rot dimensions of each of n_heads heads of head_dim
 * values (consecutive in x) by the angles in cs. */
void ai__rope_apply(float *x, int64_t n_heads, int64_t head_dim,
                    int64_t n_rot, int mode, const float *cs);

/* ---- the KV cache and the forward pass (forward.c) ---------------------------- */

/* Keys and values of every layer, one row of head_dim (head_dim_v) elements
 * of `type` per (layer, kv head, position):
 *   k: [n_layer][n_head_kv][n_ctx] rows, v likewise.
 * Keeping a head's positions contiguous makes its keys one matrix. */
typedef struct ai__kv {
    uint32_t type;           /* AI_TYPE_F32, AI_TYPE_F16 or AI_TYPE_Q8_0   */
    int64_t n_ctx;
    size_t k_row, v_row;     /* bytes of one row                           */
    uint8_t *k, *v;
} ai__kv;

/* n_rows cache rows of dim elements of `type` (rows contiguous) as f32. */
void ai__kv_rows_f32(uint32_t type, const uint8_t *rows, int64_t n_rows,
                     int64_t dim, float *out);

/* n f16 key rows of dim values as f32, transposed: kt[d*ld + t]. */
void ai__kv_keys_t_f32(const uint16_t *k, int64_t n, int64_t dim, float *kt, int64_t ld);

/* Attention of one query head over positions [0, n_kv) of its kv head:
 *   out[d] = sum_t softmax_t(q.k_t * scale) v_t[d]
 * k: [n_kv][head_dim], v: [n_kv][head_dim_v], f32 (see ai__kv_rows_f32).
 * q is read as the cache type's kernels would read it (rounded to f16 for an
 * f16 cache, to 8-bit blocks for q8_0).  scratch: 2*head_dim + n_kv floats. */
void ai__attention(float *out, const float *q, const float *k, const float *v,
                   int64_t n_kv, int64_t head_dim, int64_t head_dim_v,
                   uint32_t kv_type, float scale, float *scratch);

/* Attention over an f16 cache, k [n_kv][head_dim] and v [n_kv][head_dim_v]
 * f16 rows, with the peer's numerics for a batch of fewer than
 * AI__ATT_TILED_ROWS rows (see ops.c; the default for every batch).  scratch: head_dim + head_dim_v
 * floats. */
void ai__attention_f16(float *out, const float *q, const uint16_t *k, const uint16_t *v,
                       int64_t n_kv, int64_t head_dim, int64_t head_dim_v,
                       float scale, float *scratch);

/*
 * The peer's numerics depend on the batch in three places, which we follow
 * only when asked (AI_PEER_NUMERICS=1 in the environment when the session
 * is made), since a row's logits must not depend on its batch for exact
 * prefix reuse:
 *   - batches of at least AI__ATT_TILED_ROWS rows take its tiled attention
 *     (f32), smaller ones the one that accumulates in f16 (our default for
 *     every batch, and the peer's for every generated token);
 *   - on CPUs with AVX512-FP16 (where its refs were made) a single token's
 *     F16 matrix products run in half precision (kernels.h,
 *     ai__peer_matvec_f16h; scalar emulation, slow);
 *   - it repacks Q4_0, IQ4_NL and Q4_K weights at load time; its Q4_K
 *     matrix kernel (the batch rows below the last multiple of 4) groups
 *     the float terms otherwise than its matrix-vector kernel (the other
 *     rows); Q4_0 and IQ4_NL products also sum in another order than our
 *     default (kernels.h, ai__mm_ws_set_peer).
 */
#define AI__ATT_TILED_ROWS 64

/* The attention of a row in a batch of at least AI__ATT_TILED_ROWS rows
 * (ops.c): keys as f32 transposed, kt[d*ldk + t], values f32
 * [n_kv][head_dim_v].  scratch: 128 floats. */
void ai__attention_f16_tiled(float *out, const float *q, const float *kt, int64_t ldk,
                             const float *vf, int64_t n_kv, int64_t head_dim,
                             int64_t head_dim_v, float scale, float *scratch);

typedef struct ai__mm_ws ai__mm_ws; /* kernels/kernels.h */

typedef struct ai__fwd {
    const struct ai__weights *w;
    ai__pool *pool;          /* borrowed                                   */
    ai__mm_ws *mmws;         /* owned: the products' job and converted
                                inputs, reused by every matmul            */
    int64_t n_batch;         /* rows the buffers hold                      */
    ai__kv kv;
    /* activations, [n_batch][width] */
    float *x;                /* residual stream          [n_embd]          */
    float *xb;               /* normed input of a block  [n_embd]          */
    float *qkv;              /* q | k | v of a row       [q_dim+2*kv_dim]  */
    float *att;              /* attention output         [n_head*head_dim_v] */
    float *hb;               /* gate (phi3: gate|up)     [2*n_ff]          */
    float *hb2;              /* up                       [n_ff]            */
    float *cs;               /* rope angles per row      [n_rot]           */
    float *scratch;          /* per thread: one kv head's keys and values
                                as f32 (not for an f16 cache), then the
                                attention's scratch                        */
    size_t scratch_n;        /* floats per thread                          */
    int64_t tiled_rows;      /* batches of at least this many rows take the
                                tiled attention; 0: none (see above)       */
    int f16_half;            /* 1: single-token F16 products in half
                                precision (see above)                      */
    char err[160];           /* message of the last failure                */
} ai__fwd;

ai_status ai__fwd_init(ai__fwd *f, const struct ai__weights *w,
                       ai__pool *pool, int64_t n_ctx, int64_t n_batch,
                       uint32_t kv_type);
void ai__fwd_free(ai__fwd *f);
/* Evaluates n tokens (n <= n_batch) at positions pos .. pos+n-1, writing
 * their keys and values into the cache (pos + n <= n_ctx).  logits gets
 * n rows of n_vocab floats when all, else only the row of the last token;
 * logits NULL skips the output layer.
 * Errors: AI_E_INVAL (bad token id, range), kernel errors. */
ai_status ai__fwd_run(ai__fwd *f, const int32_t *tokens, int64_t n,
                      int64_t pos, float *logits, int all);

/* ---- sampling (sampler.c) -------------------------------------------------------- */

typedef struct ai__sparams {
    float temperature;       /* <= 0: greedy                               */
    int32_t top_k;           /* 0: off                                     */
    float top_p;             /* 1: off                                     */
    float min_p;             /* 0: off                                     */
    float repeat_penalty;    /* 1: off                                     */
    float presence_penalty;  /* 0: off                                     */
    float frequency_penalty; /* 0: off                                     */
    int32_t last_n;          /* penalty window                             */
    uint64_t seed;
} ai__sparams;

typedef struct ai__cand {
    int32_t id;
    float v;                 /* logit, then probability                    */
} ai__cand;

typedef struct ai__sampler {
    ai__sparams p;
    int64_t n_vocab;
    uint64_t rng;
    ai__cand *cand;          /* [n_vocab]                                  */
    int32_t *count;          /* [n_vocab], zero between calls              */
} ai__sampler;

ai_status ai__sampler_init(ai__sampler *s, const ai__sparams *p,
                           int64_t n_vocab);
void ai__sampler_free(ai__sampler *s);
/* Restarts the random sequence from the seed. */
void ai__sampler_reseed(ai__sampler *s, uint64_t seed);
/* Picks a token from one row of logits (not modified).  The penalties look
 * at the last p.last_n entries of hist[0..n_hist).  Deterministic for a given
 * seed and call sequence. */
int32_t ai__sampler_sample(ai__sampler *s, const float *logits,
                           const int32_t *hist, size_t n_hist);
/* Uniform double in [0, 1) from a 64-bit state (splitmix64). */
double ai__rand_unit(uint64_t *state);

#endif /* AI_RUNTIME_H */
