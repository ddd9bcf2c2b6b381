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
 * Every linear layer is one matrix product over the whole batch (so prompts
 * are processed as matrix-matrix products), spread over the thread pool.
 * Products that share an input run as one group (q, k, v; gate, up), and the
 * cheap elementwise steps ride along with the pass before or after them
 * (SwiGLU and the residual adds as the products' per-tile epilogue; q/k
 * norms, RoPE and the cache writes in the attention's per-head tasks, which
 * also compute their heads' q, k and v rows when a task holds all rows of a
 * head), so a generated token waits on four pool barriers per layer.  The attention is
 * spread over kv heads (and row chunks).  All buffers, the products'
 * workspace included, are allocated once in ai__fwd_init, none per token.
 */
#include "runtime.h"

#include "internal.h"
#include "kernels.h"
#include "types.h"

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
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
    const char *peer = getenv("AI_PEER_NUMERICS");
    f->tiled_rows = peer && peer[0] == '1' ? AI__ATT_TILED_ROWS : 0;
    f->f16_half = peer && peer[0] == '1';
    /* f16 without tiled batches: ai__attention_f16 reads the cache in
     * place; else a kv head's rows converted to f32 too */
    int64_t conv = kv_type == AI_TYPE_F16 && (!f->tiled_rows || n_batch < f->tiled_rows)
                       ? 0 : hp->head_dim + hp->head_dim_v;
    size_t att_rows = ai__peer_attn_f16_rows_scratch(hp->head_dim, hp->head_dim_v);
    f->scratch_n = (size_t)(((conv + 1) * n_ctx + 2 * maxd + 15) / 16 * 16);
    if (f->scratch_n < att_rows) f->scratch_n = (att_rows + 15) / 16 * 16;
    f->x = falloc(n_batch * hp->n_embd, &st);
    f->xb = falloc(n_batch * hp->n_embd, &st);
    f->qkv = falloc(n_batch * qkv_dim, &st);
    f->att = falloc(n_batch * hp->n_head * hp->head_dim_v, &st);
    f->hb = falloc(n_batch * 2 * hp->n_ff, &st);
    f->hb2 = falloc(n_batch * hp->n_ff, &st);
    f->cs = falloc(n_batch * hp->n_rot, &st);
    f->scratch = falloc((int64_t)f->scratch_n * nth, &st);
    if (ai__mm_ws_new(&f->mmws) != AI_OK) st = AI_E_NOMEM;
    ai__mm_ws_set_peer(f->mmws, f->f16_half);
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
    ai__mm_ws_free(f->mmws);
    memset(f, 0, sizeof *f);
}

/* ---- pieces of a layer ----------------------------------------------------------- */

/* y[b][0..m->rows) for b < n, rows of y ldy apart. */
static ai_status mm_failed(ai__fwd *f, const ai__mat *m, ai_status st) {
    if (st != AI_OK)
        snprintf(f->err, sizeof f->err, "matmul of %lldx%lld %s failed: %s",
                 (long long)m->rows, (long long)m->cols,
                 ai_type_name((int32_t)m->type) ? ai_type_name((int32_t)m->type) : "?",
                 ai_status_string(st));
    return st;
}

/* 1 when the peer mode computes this product in half precision (runtime.h). */
static int half_mv(const ai__fwd *f, const ai__mat *m, int64_t n) {
    return f->f16_half && n == 1 && m->type == AI_TYPE_F16;
}

static ai_status linear(ai__fwd *f, const ai__mat *m, const float *x,
                        int64_t n, float *y, int64_t ldy) {
    if (half_mv(f, m, n))
        return mm_failed(f, m, ai__peer_matvec_f16h(m->data, m->rows, m->cols, x, y));
    return mm_failed(f, m, ai__matmul_ws(f->pool, f->mmws, m->type, m->data, m->rows,
                                         m->cols, x, n, y, ldy));
}

/* Epilogues of a product's tiles (ai__mm_post_fn): rows [r0, r1) of batch
 * rows [b0, b1) are final. */
typedef struct post_ctx {
    float *a;                /* updated                                    */
    const float *b;          /* read                                       */
    int64_t ld;              /* stride of both                             */
} post_ctx;

/* a += b: the residual add after wo and w_down (a = x, b = xb). */
static void post_residual(void *ctx, int64_t r0, int64_t r1, int64_t b0, int64_t b1) {
    const post_ctx *c = ctx;
    for (int64_t b = b0; b < b1; b++)
        for (int64_t r = r0; r < r1; r++) c->a[b * c->ld + r] += c->b[b * c->ld + r];
}

/* a = silu(a) * b: SwiGLU of gate (a) and up (b). */
static void post_swiglu(void *ctx, int64_t r0, int64_t r1, int64_t b0, int64_t b1) {
    const post_ctx *c = ctx;
    for (int64_t b = b0; b < b1; b++)
        ai__swiglu(c->a + b * c->ld + r0, c->b + b * c->ld + r0, r1 - r0);
}

/* Products of one input in one pass; mats[i] -> ys[i] (stride ldy[i]). */
static ai_status linear_group(ai__fwd *f, const ai__mat *mats, int n_mats,
                              const float *x, int64_t n, float *const *ys,
                              const int64_t *ldy, ai__mm_post_fn post, void *ctx) {
    if (half_mv(f, &mats[0], n)) {
        for (int i = 0; i < n_mats; i++) {
            ai_status st = linear(f, &mats[i], x, n, ys[i], ldy[i]);
            if (st) return st;
        }
        if (post) post(ctx, 0, mats[0].rows, 0, 1);
        return AI_OK;
    }
    ai__mm mm[AI__MM_GROUP_MAX];
    for (int i = 0; i < n_mats; i++) {
        mm[i].wtype = mats[i].type;
        mm[i].w = mats[i].data;
        mm[i].n_rows = mats[i].rows;
        mm[i].y = ys[i];
        mm[i].ldy = ldy[i];
    }
    return mm_failed(f, &mats[0], ai__matmul_group(f->pool, f->mmws, mm, n_mats,
                                                   mats[0].cols, x, n, post, ctx));
}

static void add_bias(float *y, const float *bias, int64_t dim) {
    if (!bias) return;
    for (int64_t i = 0; i < dim; i++) y[i] += bias[i];
}

/* Writes row (layer il, kv head h, position p) of a cache half. */
static void kv_store(const ai__kv *kv, uint8_t *base, size_t row, int64_t n_head_kv,
                     int64_t il, int64_t h, int64_t p, const float *src, int64_t dim) {
    uint8_t *dst = base + (((size_t)il * (size_t)n_head_kv + (size_t)h) *
                           (size_t)kv->n_ctx + (size_t)p) * row;
    if (kv->type == AI_TYPE_F32) {
        memcpy(dst, src, (size_t)dim * sizeof(float));
    } else if (kv->type == AI_TYPE_F16) {
        ai__f32_to_f16_row(src, (uint16_t *)dst, dim); /* vector, same rounding */
    } else {
        ai__quant_row(kv->type, src, dst, dim);
    }
}

typedef struct att_job {
    ai__fwd *f;
    int64_t il, n, pos;
    int64_t chunk;           /* batch rows per task                        */
    int64_t n_chunks;        /* ceil(n / chunk)                            */
    int64_t n_tasks;         /* n_head_kv * n_chunks                       */
    int prep;                /* 1: a task first prepares its head's rows   */
    int tiled;               /* 1: f16 cache, tiled attention (a batch of
                                at least AI__ATT_TILED_ROWS rows)          */
    int rows;                /* 1: ...and before that computes them: q, k
                                and v rows of its heads from the prepared
                                products (ai__matmul_rows); 0: done before */
    int64_t qkv_off[3];      /* fused wqkv: rows of k and v start at
                                q_dim, q_dim + k_dim (else 0)              */
    int qkv_mat[3];          /* product of q, k, v in the prepared group   */
    atomic_llong next;       /* next task to take                          */
} att_job;

/* What the attention of kv head kh needs from rows [b0, b1) of q | k | v,
 * done in place: biases, qwen3's per-head norms and RoPE on the query heads
 * of its group and on its key head, then its key and value rows written to
 * the cache.  Each head's numbers do not depend on which task does them. */
static void prep_head(ai__fwd *f, int64_t il, int64_t kh, int64_t b0, int64_t b1, int64_t pos) {
    const ai__hparams *hp = &f->w->hp;
    const ai__layer *L = &f->w->layers[il];
    int64_t hd = hp->head_dim, hdv = hp->head_dim_v;
    int64_t q_dim = hp->n_head * hd, k_dim = hp->n_head_kv * hd;
    int64_t qkv_dim = q_dim + k_dim + hp->n_head_kv * hdv;
    int64_t group = hp->n_head / hp->n_head_kv;
    float *q0 = f->qkv + b0 * qkv_dim, *k0 = q0 + q_dim + kh * hd;
    for (int64_t b = b0; b < b1; b++) {
        float *q = f->qkv + b * qkv_dim, *k = q + q_dim + kh * hd, *v = q + q_dim + k_dim + kh * hdv;
        for (int64_t h = kh * group; h < (kh + 1) * group; h++)
            add_bias(q + h * hd, L->bq ? L->bq + h * hd : NULL, hd);
        add_bias(k, L->bk ? L->bk + kh * hd : NULL, hd);
        add_bias(v, L->bv ? L->bv + kh * hdv : NULL, hdv);
    }
    /* the per-head norms a head at a time over the rows (their sums then
     * run side by side; each row's numbers are the same) */
    for (int64_t h = kh * group; L->q_norm && h < (kh + 1) * group; h++)
        ai__rmsnorm_rows(q0 + h * hd, q0 + h * hd, L->q_norm, hd, b1 - b0, qkv_dim, hp->rms_eps);
    if (L->k_norm) ai__rmsnorm_rows(k0, k0, L->k_norm, hd, b1 - b0, qkv_dim, hp->rms_eps);
    for (int64_t b = b0; b < b1; b++) {
        float *q = f->qkv + b * qkv_dim, *k = q + q_dim + kh * hd, *v = q + q_dim + k_dim + kh * hdv;
        const float *cs = f->cs + b * hp->n_rot;
        ai__rope_apply(q + kh * group * hd, group, hd, hp->n_rot, hp->rope_mode, cs);
        ai__rope_apply(k, 1, hd, hp->n_rot, hp->rope_mode, cs);
        kv_store(&f->kv, f->kv.k, f->kv.k_row, hp->n_head_kv, il, kh, pos + b, k, hd);
        kv_store(&f->kv, f->kv.v, f->kv.v_row, hp->n_head_kv, il, kh, pos + b, v, hdv);
    }
}

/* Preparation as a pass of its own (when row chunks of one head run as
 * separate tasks, all its rows must be in the cache first). */
static void prep_task(void *ctx, int ith, int nth) {
    (void)ith;
    (void)nth;
    att_job *j = ctx;
    int64_t n_kv_heads = j->f->w->hp.n_head_kv;
    for (;;) {
        int64_t kh = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (kh >= n_kv_heads) break;
        prep_head(j->f, j->il, kh, 0, j->n, j->pos);
    }
}

/* A task is one kv head and a run of batch rows.  An f16 cache is read in
 * place; other cache types are converted to f32 once per task, then serve
 * every query head of the group.  Tasks
 * come from a shared counter, so a thread that is descheduled holds nobody
 * up. */
static void att_task(void *ctx, int ith, int nth) {
    (void)nth;
    att_job *j = ctx;
    ai__fwd *f = j->f;
    const ai__hparams *hp = &f->w->hp;
    const ai__kv *kv = &f->kv;
    int64_t hd = hp->head_dim, hdv = hp->head_dim_v;
    int64_t qkv_dim = (hp->n_head + hp->n_head_kv) * hd + hp->n_head_kv * hdv;
    int64_t group = hp->n_head / hp->n_head_kv;
    float scale = 1.0f / sqrtf((float)hd);
    float *kf = f->scratch + (size_t)ith * f->scratch_n;  /* [n_ctx][hd]  */
    float *vf = kf + kv->n_ctx * hd;                       /* [n_ctx][hdv] */
    float *scratch = vf + kv->n_ctx * hdv;
    for (;;) {
        int64_t task = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (task >= j->n_tasks) break;
        int64_t kh = task / j->n_chunks, b0 = (task % j->n_chunks) * j->chunk;
        int64_t b1 = b0 + j->chunk < j->n ? b0 + j->chunk : j->n;
        if (j->rows) {
            int64_t group_rows = group * hd;
            ai__matmul_rows(f->mmws, j->qkv_mat[0], j->qkv_off[0] + kh * group_rows,
                            j->qkv_off[0] + (kh + 1) * group_rows);
            ai__matmul_rows(f->mmws, j->qkv_mat[1], j->qkv_off[1] + kh * hd,
                            j->qkv_off[1] + (kh + 1) * hd);
            ai__matmul_rows(f->mmws, j->qkv_mat[2], j->qkv_off[2] + kh * hdv,
                            j->qkv_off[2] + (kh + 1) * hdv);
        }
        if (j->prep) prep_head(f, j->il, kh, b0, b1, j->pos);
        int64_t n_kv = j->pos + b1; /* positions the last row sees */
        size_t first = ((size_t)j->il * (size_t)hp->n_head_kv + (size_t)kh) * (size_t)kv->n_ctx;
        if (kv->type == AI_TYPE_F16 && j->tiled) { /* as f32, keys transposed */
            const uint16_t *k16 = (const uint16_t *)(kv->k + first * kv->k_row);
            ai__kv_keys_t_f32(k16, n_kv, hd, kf, kv->n_ctx);
            ai__kv_rows_f32(kv->type, kv->v + first * kv->v_row, n_kv, hdv, vf);
            for (int64_t b = b0; b < b1; b++)
                for (int64_t h = kh * group; h < (kh + 1) * group; h++)
                    ai__attention_f16_tiled(f->att + b * hp->n_head * hdv + h * hdv,
                                            f->qkv + b * qkv_dim + h * hd, kf, kv->n_ctx, vf,
                                            j->pos + b + 1, hd, hdv, scale, scratch);
            continue;
        }
        if (kv->type == AI_TYPE_F16) { /* the cache rows as they are */
            const uint16_t *k16 = (const uint16_t *)(kv->k + first * kv->k_row);
            const uint16_t *v16 = (const uint16_t *)(kv->v + first * kv->v_row);
            /* rows b0..b1-1 x the group's query heads, each as
             * ai__attention_f16 alone would give it */
            ai__peer_attn_f16_rows(f->att + b0 * hp->n_head * hdv + kh * group * hdv, hp->n_head * hdv,
                                   f->qkv + b0 * qkv_dim + kh * group * hd, qkv_dim, b1 - b0, group, k16, v16,
                                   j->pos + b0 + 1, hd, hdv, scale, kf);
            continue;
        }
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
    int64_t E = hp->n_embd, hd = hp->head_dim;
    int64_t q_dim = hp->n_head * hd, k_dim = hp->n_head_kv * hd;
    int64_t v_dim = hp->n_head_kv * hp->head_dim_v;
    int64_t qkv_dim = q_dim + k_dim + v_dim, ff = hp->n_ff;
    ai_status st;

    /* attention.  Tasks: enough for every thread to get several.  When a
     * head's rows are all in one task, the task computes that head's q, k and
     * v rows itself and prepares them (one pool pass for projections and
     * attention); else q | k | v are one pass, the preparation another. */
    ai__rmsnorm_rows(f->xb, f->x, L->attn_norm, E, n, E, hp->rms_eps);
    int64_t nth = ai__pool_size(f->pool);
    int64_t per_head = (4 * nth + hp->n_head_kv - 1) / hp->n_head_kv;
    int64_t chunk = (n + per_head - 1) / per_head;
    att_job job;
    memset(&job, 0, offsetof(att_job, next));
    job.f = f;
    job.il = il;
    job.n = n;
    job.pos = pos;
    job.chunk = chunk;
    job.n_chunks = (n + chunk - 1) / chunk;
    job.n_tasks = hp->n_head_kv * job.n_chunks;
    job.prep = job.n_chunks == 1;
    /* With the peer's rule (tiled_rows, runtime.h), a batch of at least 64
     * rows takes its tiled attention, smaller ones (and single tokens) the
     * one that accumulates in f16 */
    job.tiled = f->kv.type == AI_TYPE_F16 && f->tiled_rows && n >= f->tiled_rows &&
                hp->head_dim_v % 16 == 0;
    ai__mat mats[3] = {L->wq, L->wk, L->wv};
    float *ys[3] = {f->qkv, f->qkv + q_dim, f->qkv + q_dim + k_dim};
    int64_t ld[3] = {qkv_dim, qkv_dim, qkv_dim};
    int n_mats = 3;
    if (L->wqkv.data) {
        mats[0] = L->wqkv;
        n_mats = 1;
        job.qkv_off[1] = q_dim;
        job.qkv_off[2] = q_dim + k_dim;
    } else {
        job.qkv_mat[1] = 1;
        job.qkv_mat[2] = 2;
    }
    if (job.prep && hd % 2 == 0 && hp->head_dim_v % 2 == 0 && /* even row starts */
        !half_mv(f, &mats[0], n)) {
        ai__mm mm[3];
        for (int i = 0; i < n_mats; i++)
            mm[i] = (ai__mm){mats[i].type, mats[i].data, mats[i].rows, ys[i], ld[i]};
        st = ai__matmul_prepare(f->pool, f->mmws, mm, n_mats, E, f->xb, n);
        if (st != AI_OK && st != AI_E_UNSUPPORTED) return mm_failed(f, &mats[0], st);
        job.rows = st == AI_OK;
    }
    if (!job.rows && (st = linear_group(f, mats, n_mats, f->xb, n, ys, ld, NULL, NULL)))
        return st;
    if (!job.prep) {
        atomic_init(&job.next, 0);
        ai__pool_run(f->pool, prep_task, &job);
    }
    atomic_init(&job.next, 0);
    ai__pool_run(f->pool, att_task, &job);
    post_ctx res = {f->x, f->xb, E};
    if ((st = linear_group(f, &L->wo, 1, f->att, n, &f->xb, &E, post_residual, &res)))
        return st;

    /* feed-forward: x += down(silu(gate) * up), gate and up in one pass */
    ai__rmsnorm_rows(f->xb, f->x, L->ffn_norm, E, n, E, hp->rms_eps);
    ai__mat gu[2] = {L->w_gate, L->w_up};
    if (!L->w_gate.data) { /* phi3: one matrix gives gate | up */
        gu[0] = L->w_up;
        gu[0].rows = gu[1].rows = ff;
        gu[1].data = (const uint8_t *)L->w_up.data + (size_t)ff * ai__row_size(L->w_up.type, E);
    }
    float *gu_y[2] = {f->hb, f->hb2};
    int64_t gu_ld[2] = {ff, ff};
    post_ctx glu = {f->hb, f->hb2, ff};
    if ((st = linear_group(f, gu, 2, f->xb, n, gu_y, gu_ld, post_swiglu, &glu))) return st;
    if ((st = linear_group(f, &L->w_down, 1, f->hb, n, &f->xb, &E, post_residual, &res)))
        return st;
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
