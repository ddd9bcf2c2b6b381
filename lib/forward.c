/*
 * forward.c - the forward pass of a decoder over a batch of tokens, and its
 * KV cache.  It reads top to bottom like the model:
 *
 *   x = embed(tokens)
 *   for each layer:
 *       h = rmsnorm(x) ; q, k, v = h Wq, h Wk, h Wv (+ biases)
 *       (qwen3: rmsnorm of each q and k head) ; rope(q, k) ; cache k, v
 *       x += attention(q, cached k, v) Wo
 *       h = rmsnorm(x) ; x += (silu(h Wgate) * h Wup) Wdown
 *   logits = rmsnorm(x) Wout
 *
 * Every linear layer is one ai__matmul over the whole batch (so prompts are
 * processed as matrix-matrix products), spread over the thread pool; the
 * attention is spread over (row, head) pairs.  All buffers are allocated once
 * in ai__fwd_init, none per token.
 */
#include "runtime.h"

#include "internal.h"
#include "kernels.h"
#include "types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- set-up ---------------------------------------------------------------- */

static float *falloc(int64_t n, ai_status *st) {
    size_t bytes;
    if (n <= 0 || ai__mul_size((size_t)n, sizeof(float), &bytes) != 0) {
        *st = AI_E_NOMEM;
        return NULL;
    }
    float *p = calloc(1, bytes);
    if (!p) *st = AI_E_NOMEM;
    return p;
}

ai_status ai__fwd_init(ai__fwd *f, const struct ai__weights *w,
                       ai__pool *pool, int64_t n_ctx, int64_t n_batch,
                       uint32_t kv_type) {
    memset(f, 0, sizeof *f);
    if (!w || n_ctx <= 0 || n_batch <= 0) return AI_E_INVAL;
    const ai__hparams *hp = &w->hp;
    f->w = w;
    f->pool = pool;
    f->n_batch = n_batch;

    ai__kv *kv = &f->kv;
    kv->type = kv_type;
    kv->n_ctx = n_ctx;
    kv->k_row = ai__row_size(kv_type, hp->head_dim);
    kv->v_row = ai__row_size(kv_type, hp->head_dim_v);
    if (kv->k_row == 0 || kv->v_row == 0 ||
        (kv_type != AI_TYPE_F32 && kv_type != AI_TYPE_F16 && kv_type != AI_TYPE_Q8_0)) {
        snprintf(f->err, sizeof f->err, "KV cache type %s cannot hold heads of "
                 "%lld dims", ai_type_name((int32_t)kv_type) ? ai_type_name((int32_t)kv_type)
                 : "?", (long long)hp->head_dim);
        return AI_E_UNSUPPORTED;
    }
    size_t rows, kb, vb;
    if (ai__mul_size((size_t)hp->n_layer * (size_t)hp->n_head_kv, (size_t)n_ctx, &rows) ||
        ai__mul_size(rows, kv->k_row, &kb) || ai__mul_size(rows, kv->v_row, &vb)) {
        snprintf(f->err, sizeof f->err, "KV cache size overflows");
        return AI_E_NOMEM;
    }
    kv->k = malloc(kb);
    kv->v = malloc(vb);

    ai_status st = AI_OK;
    int64_t qkv_dim = (hp->n_head + hp->n_head_kv) * hp->head_dim +
                      hp->n_head_kv * hp->head_dim_v;
    int64_t maxd = hp->head_dim > hp->head_dim_v ? hp->head_dim : hp->head_dim_v;
    int nth = ai__pool_size(pool);
    f->scratch_n = (size_t)(((hp->head_dim + hp->head_dim_v + 1) * n_ctx + 2 * maxd + 15) / 16 * 16);
    f->x = falloc(n_batch * hp->n_embd, &st);
    f->xb = falloc(n_batch * hp->n_embd, &st);
    f->qkv = falloc(n_batch * qkv_dim, &st);
    f->att = falloc(n_batch * hp->n_head * hp->head_dim_v, &st);
    f->hb = falloc(n_batch * 2 * hp->n_ff, &st);
    f->hb2 = falloc(n_batch * hp->n_ff, &st);
    f->cs = falloc(n_batch * hp->n_rot, &st);
    f->scratch = falloc((int64_t)f->scratch_n * nth, &st);
    if (!kv->k || !kv->v || st != AI_OK) {
        snprintf(f->err, sizeof f->err, "out of memory for the KV cache (%zu MB) "
                 "and activations", (kb + vb) >> 20);
        ai__fwd_free(f);
        return AI_E_NOMEM;
    }
    return AI_OK;
}

void ai__fwd_free(ai__fwd *f) {
    if (!f) return;
    free(f->kv.k);
    free(f->kv.v);
    free(f->x);
    free(f->xb);
    free(f->qkv);
    free(f->att);
    free(f->hb);
    free(f->hb2);
    free(f->cs);
    free(f->scratch);
    memset(f, 0, sizeof *f);
}

/* ---- pieces of a layer ----------------------------------------------------------- */

/* y[b][0..m->rows) for b < n, rows of y ldy apart. */
static ai_status linear(ai__fwd *f, const ai__mat *m, const float *x,
                        int64_t n, float *y, int64_t ldy) {
    ai_status st = ai__matmul(f->pool, m->type, m->data, m->rows, m->cols, x, n, y, ldy);
    if (st != AI_OK)
        snprintf(f->err, sizeof f->err, "matmul of %lldx%lld %s failed: %s",
                 (long long)m->rows, (long long)m->cols,
                 ai_type_name((int32_t)m->type) ? ai_type_name((int32_t)m->type) : "?",
                 ai_status_string(st));
    return st;
}

static void add_bias(float *y, const float *bias, int64_t dim, int64_t n,
                     int64_t ldy) {
    if (!bias) return;
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < dim; i++) y[b * ldy + i] += bias[i];
}

/* Writes row (layer il, kv head h, position p) of a cache half. */
static void kv_store(const ai__kv *kv, uint8_t *base, size_t row, int64_t n_head_kv,
                     int64_t il, int64_t h, int64_t p, const float *src, int64_t dim) {
    uint8_t *dst = base + (((size_t)il * (size_t)n_head_kv + (size_t)h) *
                           (size_t)kv->n_ctx + (size_t)p) * row;
    if (kv->type == AI_TYPE_F32) {
        memcpy(dst, src, (size_t)dim * sizeof(float));
    } else if (kv->type == AI_TYPE_F16) {
        uint16_t *d = (uint16_t *)dst;
        for (int64_t i = 0; i < dim; i++) d[i] = ai__f32_to_f16(src[i]);
    } else {
        ai__quant_row(kv->type, src, dst, dim);
    }
}

typedef struct att_job {
    ai__fwd *f;
    int64_t il, n, pos;
    int64_t chunk;           /* batch rows per task                        */
    int64_t n_tasks;         /* n_head_kv * ceil(n / chunk)                */
} att_job;

/* A task is one kv head and a run of batch rows: its keys and values are
 * converted to f32 once, then serve every query head of the group.  Thread
 * ith takes tasks ith, ith + nth, ... (later rows see more positions, so
 * interleaving balances the work). */
static void att_task(void *ctx, int ith, int nth) {
    const att_job *j = ctx;
    ai__fwd *f = j->f;
    const ai__hparams *hp = &f->w->hp;
    const ai__kv *kv = &f->kv;
    int64_t hd = hp->head_dim, hdv = hp->head_dim_v;
    int64_t qkv_dim = (hp->n_head + hp->n_head_kv) * hd + hp->n_head_kv * hdv;
    int64_t group = hp->n_head / hp->n_head_kv;
    int64_t n_chunks = (j->n + j->chunk - 1) / j->chunk;
    float scale = 1.0f / sqrtf((float)hd);
    float *kf = f->scratch + (size_t)ith * f->scratch_n;  /* [n_ctx][hd]  */
    float *vf = kf + kv->n_ctx * hd;                       /* [n_ctx][hdv] */
    float *scratch = vf + kv->n_ctx * hdv;
    for (int64_t task = ith; task < j->n_tasks; task += nth) {
        int64_t kh = task / n_chunks, b0 = (task % n_chunks) * j->chunk;
        int64_t b1 = b0 + j->chunk < j->n ? b0 + j->chunk : j->n;
        int64_t n_kv = j->pos + b1; /* positions the last row sees */
        size_t first = ((size_t)j->il * (size_t)hp->n_head_kv + (size_t)kh) * (size_t)kv->n_ctx;
        ai__kv_rows_f32(kv->type, kv->k + first * kv->k_row, n_kv, hd, kf);
        ai__kv_rows_f32(kv->type, kv->v + first * kv->v_row, n_kv, hdv, vf);
        for (int64_t b = b0; b < b1; b++)
            for (int64_t h = kh * group; h < (kh + 1) * group; h++)
                ai__attention(f->att + b * hp->n_head * hdv + h * hdv,
                              f->qkv + b * qkv_dim + h * hd, kf, vf, j->pos + b + 1, hd,
                              hdv, kv->type, scale, scratch);
    }
}

static ai_status layer(ai__fwd *f, int64_t il, int64_t n, int64_t pos) {
    const ai__hparams *hp = &f->w->hp;
    const ai__layer *L = &f->w->layers[il];
    int64_t E = hp->n_embd, hd = hp->head_dim, hdv = hp->head_dim_v;
    int64_t q_dim = hp->n_head * hd, k_dim = hp->n_head_kv * hd;
    int64_t v_dim = hp->n_head_kv * hdv;
    int64_t qkv_dim = q_dim + k_dim + v_dim, ff = hp->n_ff;
    ai_status st;

    /* attention */
    for (int64_t b = 0; b < n; b++)
        ai__rmsnorm(f->xb + b * E, f->x + b * E, L->attn_norm, E, hp->rms_eps);
    if (L->wqkv.data) {
        if ((st = linear(f, &L->wqkv, f->xb, n, f->qkv, qkv_dim))) return st;
    } else {
        if ((st = linear(f, &L->wq, f->xb, n, f->qkv, qkv_dim)) ||
            (st = linear(f, &L->wk, f->xb, n, f->qkv + q_dim, qkv_dim)) ||
            (st = linear(f, &L->wv, f->xb, n, f->qkv + q_dim + k_dim, qkv_dim)))
            return st;
        add_bias(f->qkv, L->bq, q_dim, n, qkv_dim);
        add_bias(f->qkv + q_dim, L->bk, k_dim, n, qkv_dim);
        add_bias(f->qkv + q_dim + k_dim, L->bv, v_dim, n, qkv_dim);
    }
    for (int64_t b = 0; b < n; b++) {
        float *q = f->qkv + b * qkv_dim, *k = q + q_dim, *v = k + k_dim;
        if (L->q_norm) {
            for (int64_t h = 0; h < hp->n_head; h++)
                ai__rmsnorm(q + h * hd, q + h * hd, L->q_norm, hd, hp->rms_eps);
            for (int64_t h = 0; h < hp->n_head_kv; h++)
                ai__rmsnorm(k + h * hd, k + h * hd, L->k_norm, hd, hp->rms_eps);
        }
        const float *cs = f->cs + b * hp->n_rot;
        ai__rope_apply(q, hp->n_head, hd, hp->n_rot, hp->rope_mode, cs);
        ai__rope_apply(k, hp->n_head_kv, hd, hp->n_rot, hp->rope_mode, cs);
        for (int64_t h = 0; h < hp->n_head_kv; h++) {
            kv_store(&f->kv, f->kv.k, f->kv.k_row, hp->n_head_kv, il, h, pos + b, k + h * hd, hd);
            kv_store(&f->kv, f->kv.v, f->kv.v_row, hp->n_head_kv, il, h, pos + b, v + h * hdv, hdv);
        }
    }
    /* enough tasks for every thread to get several */
    int64_t nth = ai__pool_size(f->pool);
    int64_t per_head = (4 * nth + hp->n_head_kv - 1) / hp->n_head_kv;
    int64_t chunk = (n + per_head - 1) / per_head;
    att_job job = {f, il, n, pos, chunk, hp->n_head_kv * ((n + chunk - 1) / chunk)};
    ai__pool_run(f->pool, att_task, &job);
    if ((st = linear(f, &L->wo, f->att, n, f->xb, E))) return st;
    for (int64_t i = 0; i < n * E; i++) f->x[i] += f->xb[i];

    /* feed-forward: down(silu(gate) * up) */
    for (int64_t b = 0; b < n; b++)
        ai__rmsnorm(f->xb + b * E, f->x + b * E, L->ffn_norm, E, hp->rms_eps);
    float *act;
    if (!L->w_gate.data) { /* phi3: one matrix gives gate | up */
        if ((st = linear(f, &L->w_up, f->xb, n, f->hb, 2 * ff))) return st;
        for (int64_t b = 0; b < n; b++) {
            float *g = f->hb + b * 2 * ff;
            ai__swiglu(g, g + ff, ff);
            memcpy(f->hb2 + b * ff, g, (size_t)ff * sizeof(float));
        }
        act = f->hb2;
    } else {
        if ((st = linear(f, &L->w_gate, f->xb, n, f->hb, ff)) ||
            (st = linear(f, &L->w_up, f->xb, n, f->hb2, ff)))
            return st;
        ai__swiglu(f->hb, f->hb2, n * ff);
        act = f->hb;
    }
    if ((st = linear(f, &L->w_down, act, n, f->xb, E))) return st;
    for (int64_t i = 0; i < n * E; i++) f->x[i] += f->xb[i];
    return AI_OK;
}

/* ---- the pass ---------------------------------------------------------------------- */

ai_status ai__fwd_run(ai__fwd *f, const int32_t *tokens, int64_t n,
                      int64_t pos, float *logits, int all) {
    const struct ai__weights *w = f->w;
    const ai__hparams *hp = &w->hp;
    int64_t E = hp->n_embd;
    ai_status st;
    if (n <= 0 || n > f->n_batch || pos < 0 || pos + n > f->kv.n_ctx) {
        snprintf(f->err, sizeof f->err, "batch of %lld at position %lld does not "
                 "fit (batch %lld, context %lld)", (long long)n, (long long)pos,
                 (long long)f->n_batch, (long long)f->kv.n_ctx);
        return AI_E_INVAL;
    }

    size_t erow = ai__row_size(w->tok_embd.type, E);
    for (int64_t b = 0; b < n; b++) {
        if (tokens[b] < 0 || tokens[b] >= hp->n_vocab) {
            snprintf(f->err, sizeof f->err, "token id %lld at index %lld is "
                     "outside the vocabulary (0..%lld)", (long long)tokens[b],
                     (long long)b, (long long)hp->n_vocab - 1);
            return AI_E_INVAL;
        }
        const uint8_t *row = (const uint8_t *)w->tok_embd.data + (size_t)tokens[b] * erow;
        if ((st = ai__dequant_row(w->tok_embd.type, row, f->x + b * E, E))) return st;
    }

    /* rope angles of each row: Llama 3 frequency factors, or phi3's short
     * or long factors depending on the context this session may reach */
    const float *factors = w->rope_freqs;
    if (!factors && w->rope_long)
        factors = f->kv.n_ctx > hp->n_ctx_orig ? w->rope_long : w->rope_short;
    for (int64_t b = 0; b < n; b++)
        ai__rope_cache(f->cs + b * hp->n_rot, pos + b, hp->n_rot, hp->rope_base,
                       hp->rope_scale, hp->rope_attn, factors);

    for (int64_t il = 0; il < hp->n_layer; il++)
        if ((st = layer(f, il, n, pos))) return st;

    if (!logits) return AI_OK; /* a batch whose logits nobody reads */
    int64_t first = all ? 0 : n - 1, rows = n - first;
    for (int64_t b = first; b < n; b++)
        ai__rmsnorm(f->xb + b * E, f->x + b * E, w->out_norm, E, hp->rms_eps);
    return linear(f, &w->output, f->xb + first * E, rows, logits, hp->n_vocab);
}
