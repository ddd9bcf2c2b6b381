/*
 * matmul.c - ai__matmul: Y = X * W^T over a kernel set, split over a pool.
 *
 * Two phases, each one ai__pool_run:
 *   1. the activation rows X[n_batch][k] are converted to the form the weight
 *      type meets (kimpl.h "act" rows) into scratch memory; for one row the
 *      caller does it alone, since waking the pool would cost more;
 *   2. the output is cut into tiles of rows x batch columns that threads take
 *      from a shared counter, so a thread that is descheduled on a busy
 *      machine does not hold the others up.  A tile calls the set's gemm (or
 *      loops over its dot product when the set has none).
 *
 * ai__matmul_group runs several products of one input the same way in one
 * pass (tiles over their concatenated rows), with the job and the activation
 * rows kept in a caller-owned workspace (ai__mm_ws) instead of allocated per
 * call.  ai__matmul itself is a group of one with a workspace of its own.
 */
#include "kimpl.h"
#include "threads.h"

#ifdef AI__USE_BLAS
#include <cblas.h>
#endif
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int mul_overflows(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 1;
    *out = a * b;
    return 0;
}

#ifdef AI__USE_BLAS
/* The (opt-in) BLAS path of one product. */
typedef struct job {
    const ai__type_ops *ops;
    ai__act_fn act_fn;
    const float *x;
    uint8_t *act;           /* n_batch act rows of stride as */
    size_t as;
    const uint8_t *w;
    size_t ws;              /* bytes per weight row */
    int64_t n_rows, k, n_batch, ldy;
    float *y;
    float *xf;              /* n_batch x k: the act rows decoded back to f32 */
    float *wf;              /* tile rows x k: dequantized weights */
    int64_t t0, tn;         /* the weight rows of the current tile */
} job;

/* Decodes an act row back to the floats its integers stand for. */
static void act_decode(int kind, const uint8_t *a, int64_t k, float *out) {
    switch (kind) {
    case ACT_F16: for (int64_t i = 0; i < k; i++) out[i] = ai__f16_to_f32(((const uint16_t *)a)[i]); break;
    case ACT_BF16: for (int64_t i = 0; i < k; i++) out[i] = ai__bf16_to_f32(((const uint16_t *)a)[i]); break;
    case ACT_Q8_32: for (int64_t i = 0; i < k; i++) out[i] = act_d(a, k)[i / 32] * (float)act_q(a)[i]; break;
    case ACT_Q8_256: for (int64_t i = 0; i < k; i++) out[i] = act_d(a, k)[i / 256] * (float)act_q(a)[i]; break;
    default: memcpy(out, a, (size_t)k * sizeof(float)); break;
    }
}

static void convert_task(void *ctx, int ith, int nth) {
    job *j = ctx;
    int64_t b0 = j->n_batch * ith / nth, b1 = j->n_batch * (ith + 1) / nth;
    for (int64_t b = b0; b < b1; b++) {
        uint8_t *a = j->act + (size_t)b * j->as;
        j->act_fn(j->x + b * j->k, a, j->k);
        if (j->xf) act_decode(j->ops->act, a, j->k, j->xf + b * j->k);
    }
}

static void dequant_task(void *ctx, int ith, int nth) {
    job *j = ctx;
    int64_t r0 = j->tn * ith / nth, r1 = j->tn * (ith + 1) / nth;
    for (int64_t r = r0; r < r1; r++)
        j->ops->dequant(j->w + (size_t)(j->t0 + r) * j->ws, j->wf + r * j->k, j->k);
}

/* Weight tiles of about 4 MiB of f32 go through sgemm one after another. */
static ai_status blas_path(job *j, ai__pool *pool) {
    int64_t tile = ((int64_t)1 << 20) / j->k;
    tile = tile < 16 ? 16 : (tile + 15) & ~(int64_t)15;
    if (tile > j->n_rows) tile = j->n_rows;
    float *wf = malloc((size_t)(tile * j->k) * sizeof(float));
    if (!wf) return AI_E_NOMEM;
    j->wf = wf;
    static atomic_int blas_threads;
    int nth = ai__pool_size(pool);
    if (atomic_exchange(&blas_threads, nth) != nth) openblas_set_num_threads(nth);
    for (int64_t r0 = 0; r0 < j->n_rows; r0 += tile) {
        j->t0 = r0;
        j->tn = j->n_rows - r0 < tile ? j->n_rows - r0 : tile;
        ai__pool_run(pool, dequant_task, j);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)j->n_batch, (int)j->tn, (int)j->k, 1.0f,
                    j->xf, (int)j->k, wf, (int)j->k, 0.0f, j->y + r0, (int)j->ldy);
    }
    free(wf);
    return AI_OK;
}
#endif

/* ---- groups of products through a workspace ---------------------------------- */

typedef struct gmat {
    const ai__type_ops *ops;
    const uint8_t *w;
    size_t ws;               /* bytes per weight row */
    int64_t n_rows, ldy;
    float *y;
    const uint8_t *act;      /* the input in this type's act form */
    size_t as;
    int64_t t0, nt;          /* its row tiles in the concatenation */
    int peer;                /* PEER_*: the peer's repacked order (peer mode) */
} gmat;

/* The products that follow the peer's repacked kernels in peer mode
 * (kimpl.h, ai__peer_ops q4_0, iq4_nl and q4_k): the weight types it
 * repacks on x86, with a row count that is a multiple of 8 (others it
 * leaves as they are, and so do we); and Q8_0 in the sets that sum it
 * otherwise than the peer (ai__peer_ops q8_0 not NULL). */
enum { PEER_NONE = 0, PEER_Q4_0 = 1, PEER_IQ4_NL = 2, PEER_Q4_K = 3, PEER_Q8_0 = 4 };

static int peer_kind(const ai__kset *ks, uint32_t wtype, int64_t n_rows) {
    if (wtype == AI_TYPE_Q8_0) return ks->peer.q8_0 ? PEER_Q8_0 : PEER_NONE;
    if (n_rows % 8) return PEER_NONE;
    return wtype == AI_TYPE_Q4_0 ? PEER_Q4_0 : wtype == AI_TYPE_IQ4_NL ? PEER_IQ4_NL
         : wtype == AI_TYPE_Q4_K ? PEER_Q4_K : PEER_NONE;
}

typedef struct gjob {
    const ai__kset *ks;
    gmat m[AI__MM_GROUP_MAX];
    int n_mm;
    const float *x;
    int64_t k, n_batch;
    uint8_t *kact[ACT_KINDS]; /* converted input per act kind (NULL: unused) */
    size_t kas[ACT_KINDS];
    int64_t rt, bt, n_rt, n_tiles;
    int small;               /* too little work to wake the pool for */
    ai__mm_post_fn post;
    void *post_ctx;
    atomic_llong next;
} gjob;

struct ai__mm_ws {
    uint8_t *buf[ACT_KINDS]; /* act rows per kind, 64-byte aligned */
    size_t cap[ACT_KINDS];
    int peer;                /* ai__mm_ws_set_peer */
    gjob j;
};

void ai__mm_ws_set_peer(ai__mm_ws *ws, int on) {
    if (ws) ws->peer = on != 0;
}

ai_status ai__mm_ws_new(ai__mm_ws **out) {
    if (!out) return AI_E_INVAL;
    *out = calloc(1, sizeof **out);
    return *out ? AI_OK : AI_E_NOMEM;
}

static void ws_release(ai__mm_ws *ws) {
    for (int i = 0; i < ACT_KINDS; i++) free(ws->buf[i]);
}

void ai__mm_ws_free(ai__mm_ws *ws) {
    if (!ws) return;
    ws_release(ws);
    free(ws);
}

static uint8_t *ws_act(ai__mm_ws *ws, int kind, size_t bytes) {
    if (ws->cap[kind] < bytes) {
        free(ws->buf[kind]);
        ws->cap[kind] = 0;
        if (!(ws->buf[kind] = aligned_alloc(64, bytes))) return NULL;
        ws->cap[kind] = bytes;
    }
    return ws->buf[kind];
}

/* Bytes of the set's extra act data of a kind (kimpl.h act_ext), rounded
 * to 64 so that rows stay aligned. */
static size_t ext_bytes(const ai__kset *ks, int kind, int64_t k) {
    return ks->act_ext_bytes ? (ks->act_ext_bytes(kind, k) + 63) & ~(size_t)63 : 0;
}

static void gconvert_task(void *ctx, int ith, int nth) {
    gjob *j = ctx;
    int64_t b0 = j->n_batch * ith / nth, b1 = j->n_batch * (ith + 1) / nth;
    for (int kind = 0; kind < ACT_KINDS; kind++) {
        if (!j->kact[kind] || kind == ACT_F32) continue;
        /* one row goes to the matrix-vector kernels, which read no extra */
        int ext = j->n_batch > 1 && ext_bytes(j->ks, kind, j->k) > 0;
        for (int64_t b = b0; b < b1; b++) {
            uint8_t *row = j->kact[kind] + (size_t)b * j->kas[kind];
            j->ks->act[kind](j->x + b * j->k, row, j->k);
            if (ext) j->ks->act_ext(kind, row, j->k);
        }
    }
}

/* A tile in the peer's repacked order: like the peer, the batch rows below
 * the last multiple of 4 take its matrix kernel's order, the rest (and a
 * single row) its matrix-vector kernel's. */
static void peer_tile(const gjob *j, const gmat *m, const uint8_t *w, int64_t nr, const uint8_t *a,
                      int64_t b0, int64_t nb, float *y) {
    if (m->peer == PEER_Q8_0) {
        j->ks->peer.q8_0(w, m->ws, nr, a, m->as, nb, j->k, y, m->ldy);
        return;
    }
    int64_t tiled = j->n_batch - j->n_batch % 4;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *ab = a + (size_t)b * m->as;
        float *yb = y + b * m->ldy;
        if (m->peer == PEER_Q4_0) j->ks->peer.q4_0(w, m->ws, nr, ab, j->k, yb);
        else if (m->peer == PEER_IQ4_NL) j->ks->peer.iq4_nl(w, m->ws, nr, ab, j->k, yb);
        else j->ks->peer.q4_k(w, m->ws, nr, ab, j->k, yb, b0 + b < tiled);
    }
}

static void gtile(const gjob *j, const gmat *m, int64_t r0, int64_t nr, int64_t b0, int64_t nb) {
    int64_t k = j->k;
    const uint8_t *w = m->w + (size_t)r0 * m->ws;
    const uint8_t *a = m->act + (size_t)b0 * m->as;
    float *y = m->y + b0 * m->ldy + r0;
    if (m->peer) {
        peer_tile(j, m, w, nr, a, b0, nb, y);
        return;
    }
    if (nb == 1 && m->ops->gemv) {
        m->ops->gemv(w, m->ws, nr, a, k, y);
        return;
    }
    if (m->ops->gemm) {
        m->ops->gemm(w, m->ws, nr, a, m->as, nb, k, y, m->ldy);
        return;
    }
    for (int64_t b = 0; b < nb; b++)
        for (int64_t r = 0; r < nr; r++)
            y[b * m->ldy + r] = m->ops->dot(w + (size_t)r * m->ws, a + (size_t)b * m->as, k);
}

/* Tiles come from a shared counter (see compute_task).  Without post, a
 * tile is a row range of one product; with post, the same row range of
 * every product, then post. */
static void gcompute_task(void *ctx, int ith, int nth) {
    (void)ith;
    (void)nth;
    gjob *j = ctx;
    for (;;) {
        int64_t t = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (t >= j->n_tiles) break;
        int64_t rti = t % j->n_rt, b0 = (t / j->n_rt) * j->bt;
        int64_t nb = j->n_batch - b0 < j->bt ? j->n_batch - b0 : j->bt;
        if (j->post) {
            int64_t r0 = rti * j->rt, rows = j->m[0].n_rows;
            int64_t nr = rows - r0 < j->rt ? rows - r0 : j->rt;
            for (int i = 0; i < j->n_mm; i++) gtile(j, &j->m[i], r0, nr, b0, nb);
            j->post(j->post_ctx, r0, r0 + nr, b0, b0 + nb);
            continue;
        }
        int i = 0;
        while (rti >= j->m[i].t0 + j->m[i].nt) i++;
        const gmat *m = &j->m[i];
        int64_t r0 = (rti - m->t0) * j->rt;
        int64_t nr = m->n_rows - r0 < j->rt ? m->n_rows - r0 : j->rt;
        gtile(j, m, r0, nr, b0, nb);
    }
}

/* Validates a product of the group; 0 when fine. */
static ai_status gcheck(const ai__kset *ks, const ai__mm *m, int64_t k) {
    if (!ks || m->wtype >= AI__TYPE_COUNT || !ks->ops[m->wtype].dot) return AI_E_UNSUPPORTED;
    if (m->n_rows < 0 || k <= 0 || ai__row_size(m->wtype, k) == 0 || m->ldy < m->n_rows) return AI_E_INVAL;
    if (m->n_rows > 0 && (!m->w || !m->y)) return AI_E_INVAL;
    return AI_OK;
}

/* The integer path of a group (no BLAS), up to the tiles: fills the job and
 * converts the input. */
static ai_status gsetup(const ai__kset *ks, ai__pool *pool, ai__mm_ws *ws, const ai__mm *mm,
                        int n_mm, int64_t k, const float *x, int64_t n_batch,
                        ai__mm_post_fn post, void *post_ctx) {
    gjob *j = &ws->j;
    memset(j, 0, offsetof(gjob, next));
    j->ks = ks;
    j->n_mm = n_mm;
    j->x = x;
    j->k = k;
    j->n_batch = n_batch;
    j->post = post;
    j->post_ctx = post_ctx;
    int64_t total_rows = 0;
    double bytes = 0;
    for (int i = 0; i < n_mm; i++) {
        gmat *m = &j->m[i];
        m->ops = &ks->ops[mm[i].wtype];
        m->w = mm[i].w;
        m->ws = ai__row_size(mm[i].wtype, k);
        m->n_rows = mm[i].n_rows;
        m->y = mm[i].y;
        m->ldy = mm[i].ldy;
        m->peer = ws->peer ? peer_kind(ks, mm[i].wtype, mm[i].n_rows) : PEER_NONE;
        int kind = m->ops->act;
        if (kind == ACT_F32) {
            j->kact[kind] = (uint8_t *)(uintptr_t)x; /* read only: the rows as they are */
            j->kas[kind] = (size_t)k * sizeof(float);
        } else if (!j->kact[kind]) {
            size_t total;
            j->kas[kind] = ai__act_row_size(kind, k) + ext_bytes(ks, kind, k);
            if (mul_overflows(j->kas[kind], (size_t)n_batch, &total) || !(j->kact[kind] = ws_act(ws, kind, total)))
                return AI_E_NOMEM;
        }
        m->act = j->kact[kind];
        m->as = j->kas[kind];
        total_rows = post ? m->n_rows : total_rows + m->n_rows;
        bytes += (double)m->ws * (double)m->n_rows;
    }
    /* a few rows (up to 32768 values: microseconds of work) are converted
     * here, since waking the pool costs more (a short text's activations) */
    if (n_batch == 1 || n_batch * k <= 32768) gconvert_task(j, 0, 1);
    else ai__pool_run(pool, gconvert_task, j);

    /* tile shape as in plan(), over the concatenated (or shared) rows */
    int nth = ai__pool_size(pool);
    int64_t want = (int64_t)nth * 8;
    int64_t rt = (total_rows + want - 1) / want;
    rt = (rt + 7) & ~(int64_t)7;
    if (rt < 8) rt = 8;
    /* 240, not 256: a multiple of the gemm tiles' weight rows (x86_fgemm.h
     * FG_NR 6 and 3, the gemv's 4), so that a big product on few threads
     * (3072 rows on one: 256 = 42 x 6 + 4) leaves no rows to the slow
     * one-row tiles */
    if (rt > 240) rt = 240;
    j->rt = rt;
    j->bt = n_batch < 64 ? n_batch : 64;
    if (post) {
        j->n_rt = (total_rows + rt - 1) / rt;
    } else {
        for (int i = 0; i < n_mm; i++) {
            j->m[i].t0 = j->n_rt;
            j->m[i].nt = (j->m[i].n_rows + rt - 1) / rt;
            j->n_rt += j->m[i].nt;
        }
    }
    j->n_tiles = j->n_rt * ((n_batch + j->bt - 1) / j->bt);
    j->small = j->n_tiles == 1 || bytes * (double)n_batch < 16384.0;
    atomic_init(&j->next, 0);
    return AI_OK;
}

static ai_status group_run(const ai__kset *ks, ai__pool *pool, ai__mm_ws *ws, const ai__mm *mm,
                           int n_mm, int64_t k, const float *x, int64_t n_batch,
                           ai__mm_post_fn post, void *post_ctx) {
    ai_status st = gsetup(ks, pool, ws, mm, n_mm, k, x, n_batch, post, post_ctx);
    if (st != AI_OK) return st;
    if (ws->j.small) gcompute_task(&ws->j, 0, 1);
    else ai__pool_run(pool, gcompute_task, &ws->j);
    return AI_OK;
}

/* 1 when the (opt-in) BLAS path would take this product. */
static int blas_takes(const ai__kset *ks, uint32_t wtype, int64_t n_rows, int64_t k, int64_t n_batch, int64_t ldy) {
#ifdef AI__USE_BLAS
    /* sgemm takes int sizes.  Q4_1 and Q5_1 stay on the integer path: their
     * block minimum meets the activation sum rounded to f16 (as the peer
     * computes it), which a product of decoded floats cannot reproduce. */
    return wtype != AI_TYPE_Q4_1 && wtype != AI_TYPE_Q5_1 && ks->blas_min_batch > 0 &&
           n_batch >= ks->blas_min_batch && n_batch <= INT32_MAX && n_rows <= INT32_MAX && k <= INT32_MAX &&
           ldy <= INT32_MAX;
#else
    (void)ks, (void)wtype, (void)n_rows, (void)k, (void)n_batch, (void)ldy;
    return 0;
#endif
}

ai_status ai__matmul_group(ai__pool *pool, ai__mm_ws *ws, const ai__mm *mm, int n_mm,
                           int64_t k, const float *x, int64_t n_batch,
                           ai__mm_post_fn post, void *post_ctx) {
    const ai__kset *ks = ai__kset_get();
    if (!ws || !mm || n_mm < 1 || n_mm > AI__MM_GROUP_MAX || n_batch < 0) return AI_E_INVAL;
    int blas = 0;
    ai_status st;
    for (int i = 0; i < n_mm; i++) {
        if ((st = gcheck(ks, &mm[i], k))) return st;
        if (post && mm[i].n_rows != mm[0].n_rows) return AI_E_INVAL;
        if (!ws->peer) /* peer mode: the integer path's numbers only */
            blas |= blas_takes(ks, mm[i].wtype, mm[i].n_rows, k, n_batch, mm[i].ldy);
    }
    if (n_batch == 0) return AI_OK;
    if (!x) return AI_E_INVAL;
    if (blas) { /* opt-in, large batches only: product by product */
        for (int i = 0; i < n_mm; i++)
            if ((st = ai__matmul_ks(ks, pool, mm[i].wtype, mm[i].w, mm[i].n_rows, k, x, n_batch, mm[i].y,
                                    mm[i].ldy)))
                return st;
        if (post && mm[0].n_rows > 0) post(post_ctx, 0, mm[0].n_rows, 0, n_batch);
        return AI_OK;
    }
    return group_run(ks, pool, ws, mm, n_mm, k, x, n_batch, post, post_ctx);
}

ai_status ai__matmul_prepare(ai__pool *pool, ai__mm_ws *ws, const ai__mm *mm, int n_mm,
                             int64_t k, const float *x, int64_t n_batch) {
    const ai__kset *ks = ai__kset_get();
    if (!ws || !mm || n_mm < 1 || n_mm > AI__MM_GROUP_MAX || n_batch < 1 || !x) return AI_E_INVAL;
    ai_status st;
    for (int i = 0; i < n_mm; i++) {
        if ((st = gcheck(ks, &mm[i], k))) return st;
        if (!ws->peer && blas_takes(ks, mm[i].wtype, mm[i].n_rows, k, n_batch, mm[i].ldy))
            return AI_E_UNSUPPORTED;
    }
    return gsetup(ks, pool, ws, mm, n_mm, k, x, n_batch, NULL, NULL);
}

void ai__matmul_rows(const ai__mm_ws *ws, int i, int64_t r0, int64_t r1) {
    const gjob *j = &ws->j;
    if (i < 0 || i >= j->n_mm || r0 < 0 || r1 > j->m[i].n_rows || r0 >= r1) return;
    for (int64_t b0 = 0; b0 < j->n_batch; b0 += j->bt) {
        int64_t nb = j->n_batch - b0 < j->bt ? j->n_batch - b0 : j->bt;
        gtile(j, &j->m[i], r0, r1 - r0, b0, nb);
    }
}

ai_status ai__matmul_ws(ai__pool *pool, ai__mm_ws *ws, uint32_t wtype, const void *w,
                        int64_t n_rows, int64_t k, const float *x,
                        int64_t n_batch, float *y, int64_t ldy) {
    ai__mm m = {wtype, w, n_rows, y, ldy};
    return ai__matmul_group(pool, ws, &m, 1, k, x, n_batch, NULL, NULL);
}

ai_status ai__matmul_ks(const ai__kset *ks, ai__pool *pool, uint32_t wtype,
                        const void *w, int64_t n_rows, int64_t k,
                        const float *x, int64_t n_batch, float *y, int64_t ldy) {
    if (!ks || wtype >= AI__TYPE_COUNT || !ks->ops[wtype].dot) return AI_E_UNSUPPORTED;
    size_t ws = ai__row_size(wtype, k);
    if (n_rows < 0 || n_batch < 0 || k <= 0 || ws == 0 || ldy < n_rows) return AI_E_INVAL;
    if (n_rows == 0 || n_batch == 0) return AI_OK;
    if (!w || !x || !y) return AI_E_INVAL;

    if (!blas_takes(ks, wtype, n_rows, k, n_batch, ldy)) {
        /* a group of one with a workspace that lives for this call */
        ai__mm_ws tmp;
        memset(&tmp, 0, sizeof tmp);
        ai__mm m = {wtype, w, n_rows, y, ldy};
        ai_status st = group_run(ks, pool, &tmp, &m, 1, k, x, n_batch, NULL, NULL);
        ws_release(&tmp);
        return st;
    }
#ifdef AI__USE_BLAS
    job *j = calloc(1, sizeof *j);
    if (!j) return AI_E_NOMEM;
    j->ops = &ks->ops[wtype];
    j->act_fn = ks->act[j->ops->act];
    j->x = x;
    j->w = w;
    j->ws = ws;
    j->n_rows = n_rows;
    j->k = k;
    j->n_batch = n_batch;
    j->y = y;
    j->ldy = ldy;
    size_t total;
    void *scratch = NULL;
    j->as = ai__act_row_size(j->ops->act, k);
    if (mul_overflows(j->as + (size_t)k * sizeof(float), (size_t)n_batch, &total) ||
        !(scratch = aligned_alloc(64, (total + 63) & ~(size_t)63))) {
        free(j);
        return AI_E_NOMEM;
    }
    j->act = scratch;
    j->xf = (float *)(j->act + j->as * (size_t)n_batch);
    ai__pool_run(pool, convert_task, j);
    ai_status st = blas_path(j, pool);
    free(scratch);
    free(j);
    return st;
#else
    return AI_E_INTERNAL;
#endif
}

ai_status ai__matmul(ai__pool *pool, uint32_t wtype, const void *w,
                     int64_t n_rows, int64_t k, const float *x,
                     int64_t n_batch, float *y, int64_t ldy) {
    return ai__matmul_ks(ai__kset_get(), pool, wtype, w, n_rows, k, x, n_batch, y, ldy);
}

ai_status ai__matmul_blas(ai__pool *pool, int64_t blas_min_batch, uint32_t wtype,
                          const void *w, int64_t n_rows, int64_t k, const float *x,
                          int64_t n_batch, float *y, int64_t ldy) {
    const ai__kset *ks = ai__kset_get();
    if (blas_min_batch < 0 || !ks || !strcmp(ks->name, "ref") || ks->blas_min_batch == blas_min_batch)
        return ai__matmul_ks(ks, pool, wtype, w, n_rows, k, x, n_batch, y, ldy);
    ai__kset copy = *ks; /* the same kernels, another threshold */
    copy.blas_min_batch = blas_min_batch;
    return ai__matmul_ks(&copy, pool, wtype, w, n_rows, k, x, n_batch, y, ldy);
}

int ai__type_supported(uint32_t type) {
    return type < AI__TYPE_COUNT && ai__kset_ref.ops[type].dot != NULL;
}

ai_status ai__dequant_row(uint32_t type, const void *src, float *dst, int64_t n) {
    const ai__kset *ks = ai__kset_get();
    if (type >= AI__TYPE_COUNT || !ks->ops[type].dot) return AI_E_UNSUPPORTED;
    if (n < 0 || (n > 0 && ai__row_size(type, n) == 0)) return AI_E_INVAL;
    if (n == 0) return AI_OK;
    if (!src || !dst) return AI_E_INVAL;
    ks->ops[type].dequant(src, dst, n);
    return AI_OK;
}

ai_status ai__quant_row(uint32_t type, const float *src, void *dst, int64_t n) {
    const ai__kset *ks = ai__kset_get();
    if (type >= AI__TYPE_COUNT || !ks->ops[type].dot) return AI_E_UNSUPPORTED;
    if (n < 0 || (n > 0 && ai__row_size(type, n) == 0)) return AI_E_INVAL;
    if (n == 0) return AI_OK;
    if (!src || !dst) return AI_E_INVAL;
    ks->ops[type].quant(src, dst, n);
    return AI_OK;
}

float ai__dot_f16(const uint16_t *a, const uint16_t *b, int64_t n) {
    return n > 0 ? ai__kset_get()->ops[AI_TYPE_F16].dot(a, b, n) : 0.0f;
}

void ai__axpy_f16(float alpha, const uint16_t *a, float *y, int64_t n) {
    if (n > 0) ai__kset_get()->axpy_f16(alpha, a, y, n);
}

void ai__rope_f32(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int neox, const float *cs) {
    if (n_heads > 0 && n_rot > 1) ai__kset_get()->rope(x, n_heads, head_dim, n_rot, neox, cs);
}

void ai__gelu_f32(float *x, int64_t n) {
    if (n > 0) ai__kset_get()->gelu(x, n);
}

void ai__layernorm_f32(float *out, const float *x, const float *w, const float *b, int64_t n,
                       float eps) {
    if (n > 0) ai__kset_get()->layernorm(out, x, w, b, n, eps);
}

void ai__softmax_f32(float *x, int64_t n, float scale) {
    if (n > 0) ai__kset_get()->softmax(x, n, scale);
}

void ai__f32_to_f16_row(const float *x, uint16_t *y, int64_t n) {
    if (n > 0) ai__kset_get()->act[ACT_F16](x, y, n);
}

void ai__f16_to_f32_row(const uint16_t *x, float *y, int64_t n) {
    if (n > 0) ai__kset_get()->ops[AI_TYPE_F16].dequant(x, y, n);
}
