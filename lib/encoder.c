/*
 * encoder.c - BERT-family encoders: tensor binding and the forward pass over
 * a batch of texts packed into one matrix.  It reads like the model:
 *
 *   x = tok_embd[t] + type_embd[0] (+ pos_embd[p] for bert)
 *   x = layernorm(x)
 *   for each layer:
 *       q, k, v = x Wq + bq, x Wk + bk, x Wv + bv   (nomic-bert: x Wqkv)
 *       (nomic-bert: rope(q, k))
 *       x = layernorm(x + attention(q, k, v) Wo + bo)    bidirectional,
 *                                                       within each text
 *       h = gelu(x Wup + bup)                        (nomic-bert:
 *                                                     silu(x Wgate) * x Wup)
 *       x = layernorm(x + h Wdown + bdown)
 *
 * Every linear layer is one ai__matmul over all tokens of all texts of the
 * batch, which is where batching pays: the weights are read once for the
 * whole batch.  Attention is the only step that looks across tokens, and it
 * is done per (text, head), so texts never see each other.
 */
#include "encoder.h"

#include "bind.h"
#include "internal.h"
#include "kernels.h"
#include "types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Queries per block of scores in att_task: bounds the scratch to
 * ATT_QB x max_seq scores per thread for long contexts. */
enum { ATT_QB = 64 };

int ai__encoder_arch(const char *arch) {
    if (!arch) return 0;
    if (!strcmp(arch, "bert")) return AI__ENC_BERT;
    if (!strcmp(arch, "nomic-bert")) return AI__ENC_NOMIC_BERT;
    return 0;
}

/* ---- binding -------------------------------------------------------------------- */

typedef struct binder {
    const ai__gguf *g;
    const char *arch;
    ai__encoder *e;
    char *err;
    size_t err_cap;
} binder;

static ai_status hp_int(binder *b, const char *suffix, int64_t def, int64_t *out) {
    int64_t v;
    if (ai__gguf_get_arch_int(b->g, b->arch, suffix, &v) != 0) {
        if (def < 0) {
            ai__set_err(b->err, b->err_cap, "metadata %s.%s is missing or not an "
                        "integer", b->arch, suffix);
            return AI_E_FORMAT;
        }
        v = def;
    }
    if (v < 0 || v > ((int64_t)1 << 32)) {
        ai__set_err(b->err, b->err_cap, "metadata %s.%s = %lld is out of range",
                    b->arch, suffix, (long long)v);
        return AI_E_FORMAT;
    }
    *out = v;
    return AI_OK;
}

static ai__bind bind_of(const binder *b) {
    ai__bind c = {b->g, b->arch, b->err, b->err_cap};
    return c;
}

static const ai__gguf_tensor *find(binder *b, const char *name, int required,
                                   ai_status *st) {
    ai__bind c = bind_of(b);
    return ai__bind_find(&c, name, required, st);
}

static ai_status bad_shape(binder *b, const char *name, const ai__gguf_tensor *t, int64_t c,
                           int64_t r) {
    ai__bind cb = bind_of(b);
    return ai__bind_bad_shape(&cb, name, t, c, r);
}

static ai_status mat(binder *b, ai__mat *m, const char *name, int64_t cols, int64_t rows,
                     int required) {
    ai__bind c = bind_of(b);
    return ai__bind_mat(&c, m, name, cols, rows, required);
}

/* A vector of n floats: in place when stored as aligned f32, else an owned
 * f32 copy. */
static ai_status vec(binder *b, const float **out, const char *name, int64_t n,
                     int required) {
    ai_status st = AI_OK;
    const ai__gguf_tensor *t = find(b, name, required, &st);
    *out = NULL;
    if (!t) return st;
    if (t->ne[0] != n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1)
        return bad_shape(b, name, t, n, 1);
    if (t->type == AI_TYPE_F32 && ((uintptr_t)t->data & 3) == 0) {
        *out = t->data;
        return AI_OK;
    }
    ai__encoder *e = b->e;
    void **no = realloc(e->owned, (e->n_owned + 1) * sizeof *no);
    if (!no) return AI_E_NOMEM;
    e->owned = no;
    float *f = malloc((size_t)n * sizeof *f);
    if (!f) return AI_E_NOMEM;
    e->owned[e->n_owned++] = f;
    if (t->type == AI_TYPE_F32) {
        memcpy(f, t->data, (size_t)n * sizeof *f);
    } else if (ai__row_size(t->type, n) == 0 || t->nbytes < ai__row_size(t->type, n) ||
               ai__dequant_row(t->type, t->data, f, n) != AI_OK) {
        ai__set_err(b->err, b->err_cap, "tensor %s cannot be read as a vector", name);
        return AI_E_FORMAT;
    }
    *out = f;
    return AI_OK;
}

static ai_status bind_layer(binder *b, int64_t il) {
    ai__encoder *e = b->e;
    ai__enc_layer *L = &e->layers[il];
    int64_t E = e->n_embd, F = e->n_ff;
    char n[AI__GGUF_MAX_NAME + 32];
    ai_status st;
#define NAME(s) (snprintf(n, sizeof n, "blk.%lld." s, (long long)il), n)
    if ((st = mat(b, &L->wo, NAME("attn_output.weight"), E, E, 1)) ||
        (st = vec(b, &L->bo, NAME("attn_output.bias"), E, e->arch == AI__ENC_BERT)) ||
        (st = vec(b, &L->attn_norm_w, NAME("attn_output_norm.weight"), E, 1)) ||
        (st = vec(b, &L->attn_norm_b, NAME("attn_output_norm.bias"), E, 0)) ||
        (st = mat(b, &L->w_up, NAME("ffn_up.weight"), E, F, 1)) ||
        (st = vec(b, &L->b_up, NAME("ffn_up.bias"), F, 0)) ||
        (st = mat(b, &L->w_down, NAME("ffn_down.weight"), F, E, 1)) ||
        (st = vec(b, &L->b_down, NAME("ffn_down.bias"), E, 0)) ||
        (st = vec(b, &L->out_norm_w, NAME("layer_output_norm.weight"), E, 1)) ||
        (st = vec(b, &L->out_norm_b, NAME("layer_output_norm.bias"), E, 0)))
        return st;
    if (e->arch == AI__ENC_BERT) {
        if ((st = mat(b, &L->wq, NAME("attn_q.weight"), E, E, 1)) ||
            (st = mat(b, &L->wk, NAME("attn_k.weight"), E, E, 1)) ||
            (st = mat(b, &L->wv, NAME("attn_v.weight"), E, E, 1)) ||
            (st = vec(b, &L->bq, NAME("attn_q.bias"), E, 1)) ||
            (st = vec(b, &L->bk, NAME("attn_k.bias"), E, 1)) ||
            (st = vec(b, &L->bv, NAME("attn_v.bias"), E, 1)))
            return st;
    } else {
        if ((st = mat(b, &L->wqkv, NAME("attn_qkv.weight"), E, 3 * E, 1)) ||
            (st = vec(b, &L->bqkv, NAME("attn_qkv.bias"), 3 * E, 0)) ||
            (st = mat(b, &L->w_gate, NAME("ffn_gate.weight"), E, F, 1)))
            return st;
    }
#undef NAME
    return AI_OK;
}

ai_status ai__encoder_load(const ai__gguf *g, const char *arch, ai__encoder **out,
                           char *err, size_t err_cap) {
    if (!g || !out) return AI_E_INVAL;
    *out = NULL;
    int a = ai__encoder_arch(arch);
    if (!a) {
        ai__set_err(err, err_cap, "architecture '%s' is not an encoder", arch ? arch : "");
        return AI_E_UNSUPPORTED;
    }
    ai__encoder *e = calloc(1, sizeof *e);
    if (!e) return AI_E_NOMEM;
    e->arch = a;
    binder b = {g, arch, e, err, err_cap};
    ai_status st = AI_OK;
    int64_t pool = AI__POOL_MEAN;
    double eps = 1e-12, base = 10000.0;
    if ((st = hp_int(&b, "embedding_length", -1, &e->n_embd)) ||
        (st = hp_int(&b, "block_count", -1, &e->n_layer)) ||
        (st = hp_int(&b, "feed_forward_length", -1, &e->n_ff)) ||
        (st = hp_int(&b, "attention.head_count", -1, &e->n_head)) ||
        (st = hp_int(&b, "context_length", 512, &e->n_ctx_train)) ||
        (st = hp_int(&b, "pooling_type", AI__POOL_MEAN, &pool)))
        goto fail;
    if (e->n_embd == 0 || e->n_layer == 0 || e->n_ff == 0 || e->n_head == 0 ||
        e->n_ctx_train == 0 || e->n_embd % e->n_head != 0) {
        ai__set_err(err, err_cap, "%s: bad shape (embedding %lld, %lld layers, %lld "
                    "heads, FFN %lld, context %lld)", arch, (long long)e->n_embd,
                    (long long)e->n_layer, (long long)e->n_head, (long long)e->n_ff,
                    (long long)e->n_ctx_train);
        st = AI_E_FORMAT;
        goto fail;
    }
    int64_t kv_heads = e->n_head;
    if ((st = hp_int(&b, "attention.head_count_kv", e->n_head, &kv_heads))) goto fail;
    if (kv_heads != e->n_head) {
        ai__set_err(err, err_cap, "%s: %lld kv heads for %lld heads: grouped "
                    "attention is not supported in encoders", arch,
                    (long long)kv_heads, (long long)e->n_head);
        st = AI_E_UNSUPPORTED;
        goto fail;
    }
    /* pooling_type 4 (rank: a reranker's classifier head) is not an
     * embedding; the others are AI__POOL_* */
    if (pool > AI__POOL_LAST) {
        ai__set_err(err, err_cap, "%s.pooling_type = %lld is not supported", arch,
                    (long long)pool);
        st = AI_E_UNSUPPORTED;
        goto fail;
    }
    e->pooling = (int)pool;
    e->head_dim = e->n_embd / e->n_head;
    if (ai__gguf_get_arch_float(g, arch, "attention.layer_norm_epsilon", &eps) != 0) eps = 1e-12;
    if (ai__gguf_get_arch_float(g, arch, "rope.freq_base", &base) != 0) base = 10000.0;
    if (!isfinite(eps) || eps < 0 || !isfinite(base) || base <= 0) {
        ai__set_err(err, err_cap, "%s: bad layer norm epsilon or rope base", arch);
        st = AI_E_FORMAT;
        goto fail;
    }
    e->eps = (float)eps;
    e->rope_base = (float)base;
    if ((st = hp_int(&b, "rope.dimension_count", e->head_dim, &e->n_rot))) goto fail;
    if (e->n_rot > e->head_dim || e->n_rot % 2) {
        ai__set_err(err, err_cap, "%s.rope.dimension_count = %lld does not fit a "
                    "head of %lld", arch, (long long)e->n_rot, (long long)e->head_dim);
        st = AI_E_FORMAT;
        goto fail;
    }

    int64_t E = e->n_embd;
    const ai__gguf_tensor *te = find(&b, "token_embd.weight", 1, &st);
    if (!te) goto fail;
    e->n_vocab = te->ne[1];
    if ((st = mat(&b, &e->tok_embd, "token_embd.weight", E, e->n_vocab, 1)) ||
        (st = mat(&b, &e->type_embd, "token_types.weight", E, -1, 0)) ||
        (st = vec(&b, &e->embd_norm_w, "token_embd_norm.weight", E, 1)) ||
        (st = vec(&b, &e->embd_norm_b, "token_embd_norm.bias", E, 0)))
        goto fail;
    if (a == AI__ENC_BERT &&
        (st = mat(&b, &e->pos_embd, "position_embd.weight", E, e->n_ctx_train, 1)))
        goto fail;

    e->layers = calloc((size_t)e->n_layer, sizeof *e->layers);
    if (!e->layers) {
        st = AI_E_NOMEM;
        goto fail;
    }
    for (int64_t il = 0; il < e->n_layer; il++)
        if ((st = bind_layer(&b, il))) goto fail;
    *out = e;
    return AI_OK;
fail:
    if (st == AI_E_NOMEM) ai__set_err(err, err_cap, "out of memory binding tensors");
    ai__encoder_free(e);
    return st;
}

void ai__encoder_free(ai__encoder *e) {
    if (!e) return;
    for (size_t i = 0; i < e->n_owned; i++) free(e->owned[i]);
    free(e->owned);
    free(e->layers);
    free(e);
}

/* ---- scratch ---------------------------------------------------------------------- */

static float *falloc(int64_t n, ai_status *st) {
    size_t bytes;
    if (n <= 0 || ai__mul_size((size_t)n, sizeof(float), &bytes) != 0) {
        *st = AI_E_NOMEM;
        return NULL;
    }
    float *p = malloc(bytes);
    if (!p) *st = AI_E_NOMEM;
    return p;
}

ai_status ai__enc_fwd_init(ai__enc_fwd *f, const ai__encoder *e, ai__pool *pool,
                           int64_t n_batch, int64_t max_seq) {
    memset(f, 0, sizeof *f);
    if (!e || n_batch <= 0 || max_seq <= 0 || max_seq > n_batch) return AI_E_INVAL;
    f->e = e;
    f->pool = pool;
    f->n_batch = n_batch;
    f->max_seq = max_seq;
    f->blas_min = -1;
    int64_t E = e->n_embd, hd = e->head_dim;
    int nth = ai__pool_size(pool);
    ai_status st = AI_OK;
    /* one head of the longest sequence: its keys, queries and transposed
     * values, and the scores of a block of queries (att_task); the last two
     * with rows padded to 16 */
    int64_t qb = max_seq < ATT_QB ? max_seq : ATT_QB, msp = (max_seq + 15) / 16 * 16;
    f->scratch_n = (size_t)((2 * max_seq * hd + hd * msp + qb * msp + 15) / 16 * 16);
    f->x = falloc(n_batch * E, &st);
    f->xb = falloc(n_batch * E, &st);
    f->qkv = falloc(n_batch * 3 * E, &st);
    f->att = falloc(n_batch * E, &st);
    f->hb = falloc(n_batch * e->n_ff, &st);
    f->hb2 = falloc(n_batch * e->n_ff, &st);
    f->cs = falloc(max_seq * (e->n_rot > 0 ? e->n_rot : 2), &st);
    f->scratch = falloc((int64_t)f->scratch_n * nth, &st);
    if (st == AI_OK && ai__mm_ws_new(&f->ws) != AI_OK) st = AI_E_NOMEM;
    if (st != AI_OK) {
        snprintf(f->err, sizeof f->err, "out of memory for the activations of %lld "
                 "tokens", (long long)n_batch);
        ai__enc_fwd_free(f);
        return AI_E_NOMEM;
    }
    return AI_OK;
}

void ai__enc_fwd_free(ai__enc_fwd *f) {
    if (!f) return;
    free(f->x);
    free(f->xb);
    free(f->qkv);
    free(f->att);
    free(f->hb);
    free(f->hb2);
    free(f->cs);
    free(f->scratch);
    ai__mm_ws_free(f->ws);
    memset(f, 0, sizeof *f);
}

/* ---- pieces of a layer -------------------------------------------------------------- */

/* y[i] += b[i]: bias and residual adds over every output of every linear
 * layer.  The plain loop stays scalar at -O2 (GCC vectorizes only loops
 * that need no remainder), so eight lanes at a time by hand; each element
 * is the same single float addition either way. */
typedef float v4f __attribute__((vector_size(16)));
static void add_row(float *y, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v4f y0, y1, b0, b1;
        memcpy(&y0, y + i, sizeof y0);
        memcpy(&y1, y + i + 4, sizeof y1);
        memcpy(&b0, b + i, sizeof b0);
        memcpy(&b1, b + i + 4, sizeof b1);
        y0 += b0;
        y1 += b1;
        memcpy(y + i, &y0, sizeof y0);
        memcpy(y + i + 4, &y1, sizeof y1);
    }
    for (; i < n; i++) y[i] += b[i];
}

/* What happens to a finished tile of linear products: the bias, then
 * optionally GELU (elementwise, so done per tile on the pool's threads
 * instead of in passes of their own). */
typedef struct lin_post {
    int n_mm, gelu;
    const float *bias[3];
    float *y[3];
    int64_t ldy;
} lin_post;

static void lin_post_fn(void *ctx, int64_t r0, int64_t r1, int64_t b0, int64_t b1) {
    const lin_post *p = ctx;
    for (int i = 0; i < p->n_mm; i++)
        for (int64_t b = b0; b < b1; b++) {
            float *y = p->y[i] + b * p->ldy;
            if (p->bias[i]) add_row(y + r0, p->bias[i] + r0, r1 - r0);
            if (p->gelu) ai__gelu(y + r0, r1 - r0);
        }
}

/*
 * y_i = x W_i^T + bias_i for up to three products of the same input and
 * shape (q, k and v), then GELU when asked: one ai__matmul_group, the input
 * converted once, bias and GELU applied per tile.  With an explicit BLAS
 * threshold (f->blas_min >= 0) product by product through ai__matmul_blas.
 */
static ai_status linear_n(ai__enc_fwd *f, const ai__mat *const *m, const float *const *bias,
                          int n_mm, const float *x, int64_t n, float *const *y, int64_t ldy,
                          int gelu) {
    lin_post p = {n_mm, gelu, {NULL, NULL, NULL}, {NULL, NULL, NULL}, ldy};
    ai__mm mm[3];
    for (int i = 0; i < n_mm; i++) {
        p.bias[i] = bias[i];
        p.y[i] = y[i];
        mm[i].wtype = m[i]->type;
        mm[i].w = m[i]->data;
        mm[i].n_rows = m[i]->rows;
        mm[i].y = y[i];
        mm[i].ldy = ldy;
    }
    ai_status st = AI_OK;
    int bad = 0; /* the product named in the message */
    if (f->blas_min < 0) {
        st = ai__matmul_group(f->pool, f->ws, mm, n_mm, m[0]->cols, x, n, lin_post_fn, &p);
    } else {
        for (int i = 0; i < n_mm && st == AI_OK; i++, bad = i)
            st = ai__matmul_blas(f->pool, f->blas_min, mm[i].wtype, mm[i].w, mm[i].n_rows,
                                 m[i]->cols, x, n, y[i], ldy);
        if (st == AI_OK && n > 0) lin_post_fn(&p, 0, m[0]->rows, 0, n);
    }
    if (st != AI_OK) {
        const ai__mat *w = m[bad];
        snprintf(f->err, sizeof f->err, "matmul of %lldx%lld %s failed: %s",
                 (long long)w->rows, (long long)w->cols,
                 ai_type_name((int32_t)w->type) ? ai_type_name((int32_t)w->type) : "?",
                 ai_status_string(st));
    }
    return st;
}

static ai_status linear(ai__enc_fwd *f, const ai__mat *m, const float *bias,
                        const float *x, int64_t n, float *y, int64_t ldy, int gelu) {
    return linear_n(f, &m, &bias, 1, x, n, &y, ldy, gelu);
}

/* Row-wise steps that are cheap per element but run over every token (and
 * SwiGLU over n_ff values of each), spread over the pool by rows. */
enum { ROW_ADD_NORM_ATT, ROW_ADD_NORM_OUT, ROW_SWIGLU };

typedef struct row_job {
    ai__enc_fwd *f;
    const ai__enc_layer *L;
    int kind;
    int64_t n;
} row_job;

static void row_task(void *ctx, int ith, int nth) {
    const row_job *j = ctx;
    ai__enc_fwd *f = j->f;
    const ai__encoder *e = f->e;
    int64_t E = e->n_embd, F = e->n_ff;
    int64_t r0 = j->n * ith / nth, r1 = j->n * (ith + 1) / nth;
    for (int64_t r = r0; r < r1; r++) {
        float *x = f->x + r * E, *xb = f->xb + r * E;
        switch (j->kind) {
        case ROW_ADD_NORM_ATT:
        case ROW_ADD_NORM_OUT: {
            /* post-norm: x = layernorm(x + block output) */
            int att = j->kind == ROW_ADD_NORM_ATT;
            add_row(x, xb, E);
            ai__layernorm_f32(x, x, att ? j->L->attn_norm_w : j->L->out_norm_w,
                              att ? j->L->attn_norm_b : j->L->out_norm_b, E, e->eps);
            break;
        }
        case ROW_SWIGLU:
            ai__swiglu(f->hb + r * F, f->hb2 + r * F, F);
            break;
        }
    }
}

static void rows(ai__enc_fwd *f, const ai__enc_layer *L, int kind, int64_t n) {
    row_job j = {f, L, kind, n};
    ai__pool_run(f->pool, row_task, &j);
}

typedef struct att_job {
    ai__enc_fwd *f;
    const int64_t *start, *len;
    int64_t n_seq;
} att_job;

/* A task is one (sequence, head), no causal mask.  The head's keys and
 * queries of that sequence are gathered into contiguous rows and its values
 * transposed, so that both products are f32 matrix products on the kernels
 * (each output a dot product of contiguous rows):
 *
 *   S[q][t] = scale * (Q K^T)[q][t]      ai__matmul: weights K [n][hd]
 *   P = softmax over t of each row of S
 *   out[q][d] = (P V)[q][d]              ai__matmul: weights V^T [hd][n]
 *
 * in blocks of ATT_QB queries.  The rows of V^T and P are padded with
 * zeros to a multiple of 16 so that P V runs entirely in the kernels'
 * 16-lane loop (no scalar tail).  A text's result depends on its own tokens
 * only, computed the same way whatever batch it is in.  The kernels run
 * single-threaded here (the pool is busy with the tasks), without BLAS. */
static void att_task(void *ctx, int ith, int nth) {
    const att_job *j = ctx;
    ai__enc_fwd *f = j->f;
    const ai__encoder *e = f->e;
    int64_t E = e->n_embd, hd = e->head_dim, H = e->n_head;
    float scale = 1.0f / sqrtf((float)hd);
    float *kf = f->scratch + (size_t)ith * f->scratch_n; /* [len][hd] */
    float *qf = kf + f->max_seq * hd;                     /* [len][hd] */
    float *vt = qf + f->max_seq * hd;                     /* [hd][np] */
    float *sc = vt + hd * ((f->max_seq + 15) / 16 * 16);  /* [ATT_QB][np] */
    int64_t n_tasks = j->n_seq * H;
    for (int64_t task = ith; task < n_tasks; task += nth) {
        int64_t s = task / H, h = task % H;
        int64_t s0 = j->start[s], n = j->len[s], np = (n + 15) / 16 * 16;
        for (int64_t t = 0; t < n; t++) {
            const float *row = f->qkv + (s0 + t) * 3 * E + h * hd;
            memcpy(qf + t * hd, row, (size_t)hd * sizeof(float));
            memcpy(kf + t * hd, row + E, (size_t)hd * sizeof(float));
            for (int64_t d = 0; d < hd; d++) vt[d * np + t] = row[2 * E + d];
        }
        for (int64_t d = 0; d < hd; d++)
            for (int64_t t = n; t < np; t++) vt[d * np + t] = 0.0f;
        for (int64_t q0 = 0; q0 < n; q0 += ATT_QB) {
            int64_t nq = n - q0 < ATT_QB ? n - q0 : ATT_QB;
            /* F32 products of valid shapes cannot fail (no scratch) */
            (void)ai__matmul_blas(NULL, 0, AI_TYPE_F32, kf, n, hd, qf + q0 * hd, nq, sc, np);
            for (int64_t q = 0; q < nq; q++) {
                float *p = sc + q * np;
                ai__softmax_f32(p, n, scale);
                for (int64_t t = n; t < np; t++) p[t] = 0.0f;
            }
            (void)ai__matmul_blas(NULL, 0, AI_TYPE_F32, vt, hd, np, sc, nq,
                                  f->att + (s0 + q0) * E + h * hd, E);
        }
    }
}

static ai_status layer(ai__enc_fwd *f, int64_t il, const int64_t *start,
                       const int64_t *len, int64_t n_seq, int64_t n) {
    const ai__encoder *e = f->e;
    const ai__enc_layer *L = &e->layers[il];
    int64_t E = e->n_embd, F = e->n_ff, hd = e->head_dim;
    ai_status st;

    /* attention */
    if (e->arch == AI__ENC_NOMIC_BERT) {
        if ((st = linear(f, &L->wqkv, L->bqkv, f->x, n, f->qkv, 3 * E, 0))) return st;
        for (int64_t s = 0; s < n_seq; s++)
            for (int64_t t = 0; t < len[s]; t++) {
                float *q = f->qkv + (start[s] + t) * 3 * E;
                const float *cs = f->cs + t * e->n_rot;
                ai__rope_apply(q, e->n_head, hd, e->n_rot, AI__ROPE_NEOX, cs);
                ai__rope_apply(q + E, e->n_head, hd, e->n_rot, AI__ROPE_NEOX, cs);
            }
    } else {
        const ai__mat *m[3] = {&L->wq, &L->wk, &L->wv};
        const float *bias[3] = {L->bq, L->bk, L->bv};
        float *y[3] = {f->qkv, f->qkv + E, f->qkv + 2 * E};
        if ((st = linear_n(f, m, bias, 3, f->x, n, y, 3 * E, 0))) return st;
    }
    att_job aj = {f, start, len, n_seq};
    ai__pool_run(f->pool, att_task, &aj);
    if ((st = linear(f, &L->wo, L->bo, f->att, n, f->xb, E, 0))) return st;
    rows(f, L, ROW_ADD_NORM_ATT, n);

    /* feed-forward */
    if (e->arch == AI__ENC_NOMIC_BERT) {
        /* hb = silu(gate) * up: the gate goes to hb, up to hb2 */
        if ((st = linear(f, &L->w_up, L->b_up, f->x, n, f->hb2, F, 0)) ||
            (st = linear(f, &L->w_gate, NULL, f->x, n, f->hb, F, 0)))
            return st;
        rows(f, L, ROW_SWIGLU, n);
    } else {
        /* hb = gelu(x Wup + bup), GELU on the finished tiles */
        if ((st = linear(f, &L->w_up, L->b_up, f->x, n, f->hb, F, 1))) return st;
    }
    if ((st = linear(f, &L->w_down, L->b_down, f->hb, n, f->xb, E, 0))) return st;
    rows(f, L, ROW_ADD_NORM_OUT, n);
    return AI_OK;
}

/* ---- the pass ------------------------------------------------------------------------- */

ai_status ai__enc_run(ai__enc_fwd *f, const int32_t *tokens, const int64_t *start,
                      const int64_t *len, int64_t n_seq) {
    const ai__encoder *e = f->e;
    int64_t E = e->n_embd, n = 0, longest = 0;
    ai_status st;
    for (int64_t s = 0; s < n_seq; s++) {
        if (start[s] != n || len[s] <= 0) {
            snprintf(f->err, sizeof f->err, "sequence %lld is empty or not packed",
                     (long long)s);
            return AI_E_INVAL;
        }
        n += len[s];
        if (len[s] > longest) longest = len[s];
    }
    if (n_seq <= 0 || n > f->n_batch || longest > f->max_seq ||
        (e->arch == AI__ENC_BERT && longest > e->n_ctx_train)) {
        snprintf(f->err, sizeof f->err, "%lld tokens in %lld texts (longest %lld) do "
                 "not fit a batch of %lld tokens, texts of %lld", (long long)n,
                 (long long)n_seq, (long long)longest, (long long)f->n_batch,
                 (long long)f->max_seq);
        return AI_E_INVAL;
    }

    /* embeddings: token + type 0 (+ position), then LayerNorm */
    size_t erow = ai__row_size(e->tok_embd.type, E);
    float *tmp = f->xb;
    for (int64_t s = 0; s < n_seq; s++)
        for (int64_t t = 0; t < len[s]; t++) {
            int64_t r = start[s] + t;
            float *x = f->x + r * E;
            int32_t id = tokens[r];
            if (id < 0 || id >= e->n_vocab) {
                snprintf(f->err, sizeof f->err, "token id %d at index %lld is outside "
                         "the vocabulary (0..%lld)", id, (long long)r,
                         (long long)e->n_vocab - 1);
                return AI_E_INVAL;
            }
            const uint8_t *row = (const uint8_t *)e->tok_embd.data + (size_t)id * erow;
            if ((st = ai__dequant_row(e->tok_embd.type, row, x, E))) return st;
            if (e->type_embd.data) {
                if ((st = ai__dequant_row(e->type_embd.type, e->type_embd.data, tmp, E)))
                    return st;
                add_row(x, tmp, E);
            }
            if (e->pos_embd.data) {
                const uint8_t *pr = (const uint8_t *)e->pos_embd.data +
                                    (size_t)t * ai__row_size(e->pos_embd.type, E);
                if ((st = ai__dequant_row(e->pos_embd.type, pr, tmp, E))) return st;
                add_row(x, tmp, E);
            }
            ai__layernorm_f32(x, x, e->embd_norm_w, e->embd_norm_b, E, e->eps);
        }
    if (e->arch == AI__ENC_NOMIC_BERT)
        for (int64_t t = 0; t < longest; t++)
            ai__rope_cache(f->cs + t * e->n_rot, t, e->n_rot, e->rope_base, 1.0f, 1.0f,
                           NULL);

    for (int64_t il = 0; il < e->n_layer; il++)
        if ((st = layer(f, il, start, len, n_seq, n))) return st;
    return AI_OK;
}
