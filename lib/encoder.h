/*
 * encoder.h - the encoder runtime (private): BERT-family models that read a
 * whole text at once with bidirectional attention and give one vector per
 * token.  Binding and forward pass live in encoder.c; pooling and the public
 * calls in embed.c.
 *
 *   bert        learned positions + token types, q/k/v/output biases,
 *               LayerNorm after attention and after the FFN, GELU FFN
 *   nomic-bert  token types, fused qkv, rotary positions (NEOX pairing),
 *               LayerNorm after attention and after the FFN, SwiGLU FFN
 *
 * Shapes follow runtime.h: [rows][cols], cols contiguous; an ai__mat maps
 * cols inputs to rows outputs.
 */
#ifndef AI_ENCODER_H
#define AI_ENCODER_H

#include "runtime.h"

enum { AI__ENC_BERT = 1, AI__ENC_NOMIC_BERT = 2 };

/* Pooling types, numbered as ARCH.pooling_type in GGUF (and ai_pooling). */
enum { AI__POOL_NONE = 0, AI__POOL_MEAN = 1, AI__POOL_CLS = 2, AI__POOL_LAST = 3 };

typedef struct ai__enc_layer {
    ai__mat wq, wk, wv;         /* bert: [n_embd][n_embd] each             */
    ai__mat wqkv;               /* nomic-bert: [3*n_embd][n_embd] (q|k|v)  */
    const float *bq, *bk, *bv;  /* [n_embd] or NULL                        */
    const float *bqkv;          /* [3*n_embd] or NULL                      */
    ai__mat wo;                 /* [n_embd][n_embd]                        */
    const float *bo;            /* [n_embd] or NULL                        */
    const float *attn_norm_w, *attn_norm_b; /* after attention, [n_embd]   */
    ai__mat w_up;               /* [n_ff][n_embd]                          */
    ai__mat w_gate;             /* nomic-bert: [n_ff][n_embd]              */
    ai__mat w_down;             /* [n_embd][n_ff]                          */
    const float *b_up, *b_down; /* [n_ff], [n_embd] or NULL                */
    const float *out_norm_w, *out_norm_b;   /* after the FFN, [n_embd]     */
} ai__enc_layer;

typedef struct ai__encoder {
    int arch;                   /* AI__ENC_*                               */
    int64_t n_vocab, n_embd, n_layer, n_head, head_dim, n_ff;
    int64_t n_ctx_train;        /* bert: rows of the position table        */
    int64_t n_rot;              /* nomic-bert: rotated dims of a head      */
    float eps;                  /* LayerNorm epsilon                       */
    float rope_base;
    int pooling;                /* AI__POOL_* from the file (mean if none) */
    ai__mat tok_embd;           /* [n_vocab][n_embd]                       */
    ai__mat pos_embd;           /* bert: [n_ctx_train][n_embd]             */
    ai__mat type_embd;          /* [n_types][n_embd]; row 0 is used        */
    const float *embd_norm_w, *embd_norm_b; /* [n_embd]                    */
    ai__enc_layer *layers;      /* [n_layer]                               */
    void **owned;               /* f32 copies of vectors stored otherwise  */
    size_t n_owned;
} ai__encoder;

/* 1 when arch names an encoder of this file. */
int ai__encoder_arch(const char *arch);
/* Reads the hyperparameters and binds every tensor.  AI_E_FORMAT for a
 * missing tensor, a wrong shape or bad metadata, AI_E_UNSUPPORTED for a
 * weight type without kernels; the message names the key or tensor. */
ai_status ai__encoder_load(const ai__gguf *g, const char *arch,
                           ai__encoder **out, char *err, size_t err_cap);
void ai__encoder_free(ai__encoder *e); /* NULL is fine */

/* Scratch of a forward pass over up to n_batch tokens (all allocated once). */
typedef struct ai__enc_fwd {
    const ai__encoder *e;
    ai__pool *pool;             /* borrowed                                */
    int64_t n_batch;            /* token rows the buffers hold             */
    int64_t max_seq;            /* longest sequence (attention scratch)    */
    float *x;                   /* residual stream     [n_batch][n_embd]   */
    float *xb;                  /* block output        [n_batch][n_embd]   */
    float *qkv;                 /* q | k | v           [n_batch][3*n_embd] */
    float *att;                 /* attention output    [n_batch][n_embd]   */
    float *hb, *hb2;            /* FFN hidden          [n_batch][n_ff]     */
    float *cs;                  /* rope angles         [max_seq][n_rot]    */
    float *scratch;             /* per thread: one head's k and v of a
                                   sequence, then ai__attention's scratch */
    size_t scratch_n;           /* floats per thread                       */
    ai__mm_ws *ws;              /* the linear layers' matmul workspace     */
    int64_t blas_min;           /* ai__matmul_blas threshold (-1: the
                                   process default); set after init       */
    char err[160];
} ai__enc_fwd;

ai_status ai__enc_fwd_init(ai__enc_fwd *f, const ai__encoder *e, ai__pool *pool,
                           int64_t n_batch, int64_t max_seq);
void ai__enc_fwd_free(ai__enc_fwd *f);

/* Runs n_seq sequences packed one after another: sequence s is tokens
 * [start[s], start[s] + len[s]), start[0] = 0 and the sequences contiguous;
 * each token attends to the tokens of its own sequence only, and positions
 * restart at 0 in each.  Afterwards f->x holds the output vectors of all
 * tokens, [sum len][n_embd].  Errors: AI_E_INVAL (sizes, a token id outside
 * the vocabulary), kernel errors; message in f->err. */
ai_status ai__enc_run(ai__enc_fwd *f, const int32_t *tokens, const int64_t *start,
                      const int64_t *len, int64_t n_seq);

#endif /* AI_ENCODER_H */
