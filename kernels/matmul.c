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
 */
#include "kimpl.h"
#include "threads.h"

#ifdef AI__USE_BLAS
#include <cblas.h>
#endif
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    int64_t rt, bt;         /* tile: rows, batch columns */
    int64_t n_rt, n_tiles;
    atomic_llong next;      /* next tile to take */
    /* BLAS path */
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

static int mul_overflows(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 1;
    *out = a * b;
    return 0;
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

#ifdef AI__USE_BLAS
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

static void tile(const job *j, int64_t r0, int64_t nr, int64_t b0, int64_t nb) {
    const uint8_t *w = j->w + (size_t)r0 * j->ws;
    const uint8_t *a = j->act + (size_t)b0 * j->as;
    float *y = j->y + b0 * j->ldy + r0;
    if (j->ops->gemm) {
        j->ops->gemm(w, j->ws, nr, a, j->as, nb, j->k, y, j->ldy);
        return;
    }
    for (int64_t b = 0; b < nb; b++)
        for (int64_t r = 0; r < nr; r++)
            y[b * j->ldy + r] = j->ops->dot(w + (size_t)r * j->ws, a + (size_t)b * j->as, j->k);
}

static void compute_task(void *ctx, int ith, int nth) {
    (void)ith;
    (void)nth;
    job *j = ctx;
    for (;;) {
        int64_t t = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (t >= j->n_tiles) break;
        int64_t r0 = (t % j->n_rt) * j->rt, b0 = (t / j->n_rt) * j->bt;
        int64_t nr = j->n_rows - r0 < j->rt ? j->n_rows - r0 : j->rt;
        int64_t nb = j->n_batch - b0 < j->bt ? j->n_batch - b0 : j->bt;
        tile(j, r0, nr, b0, nb);
    }
}

/* Tile shape.  Rows: enough tiles that every thread gets several (load
 * balance), in multiples of 8 (the register tiles of the ISA kernels).
 * Batch columns: up to 64, so that a tile's weights stay in L2 while its
 * activation rows stream past. */
static void plan(job *j, int nth) {
    int64_t want = (int64_t)nth * 8;
    int64_t rt = (j->n_rows + want - 1) / want;
    rt = (rt + 7) & ~(int64_t)7;
    if (rt < 8) rt = 8;
    if (rt > 256) rt = 256;
    j->rt = rt;
    j->bt = j->n_batch < 64 ? j->n_batch : 64;
    j->n_rt = (j->n_rows + rt - 1) / rt;
    j->n_tiles = j->n_rt * ((j->n_batch + j->bt - 1) / j->bt);
}

ai_status ai__matmul_ks(const ai__kset *ks, ai__pool *pool, uint32_t wtype,
                        const void *w, int64_t n_rows, int64_t k,
                        const float *x, int64_t n_batch, float *y, int64_t ldy) {
    if (!ks || wtype >= AI__TYPE_COUNT || !ks->ops[wtype].dot) return AI_E_UNSUPPORTED;
    size_t ws = ai__row_size(wtype, k);
    if (n_rows < 0 || n_batch < 0 || k <= 0 || ws == 0 || ldy < n_rows) return AI_E_INVAL;
    if (n_rows == 0 || n_batch == 0) return AI_OK;
    if (!w || !x || !y) return AI_E_INVAL;

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
    void *scratch = NULL;
    int blas = 0;
#ifdef AI__USE_BLAS
    /* sgemm takes int sizes.  Q4_1 and Q5_1 stay on the integer path: their
     * block minimum meets the activation sum rounded to f16 (as the peer
     * computes it), which a product of decoded floats cannot reproduce. */
    blas = wtype != AI_TYPE_Q4_1 && wtype != AI_TYPE_Q5_1 && ks->blas_min_batch > 0 && n_batch >= ks->blas_min_batch && n_batch <= INT32_MAX &&
           n_rows <= INT32_MAX && k <= INT32_MAX && ldy <= INT32_MAX;
#endif
    if (blas) {
        size_t total;
        j->as = ai__act_row_size(j->ops->act, k);
        if (mul_overflows(j->as + (size_t)k * sizeof(float), (size_t)n_batch, &total) ||
            !(scratch = aligned_alloc(64, (total + 63) & ~(size_t)63))) {
            free(j);
            return AI_E_NOMEM;
        }
        j->act = scratch;
        j->xf = (float *)(j->act + j->as * (size_t)n_batch);
        ai__pool_run(pool, convert_task, j);
#ifdef AI__USE_BLAS
        ai_status st = blas_path(j, pool);
#else
        ai_status st = AI_E_INTERNAL;
#endif
        free(scratch);
        free(j);
        return st;
    }
    if (j->ops->act == ACT_F32) {
        j->act = (uint8_t *)(uintptr_t)x; /* read only: the rows as they are */
        j->as = (size_t)k * sizeof(float);
    } else {
        j->as = ai__act_row_size(j->ops->act, k);
        size_t total;
        if (mul_overflows(j->as, (size_t)n_batch, &total) ||
            !(scratch = aligned_alloc(64, total))) {
            free(j);
            return AI_E_NOMEM;
        }
        j->act = scratch;
        if (n_batch == 1) convert_task(j, 0, 1);
        else ai__pool_run(pool, convert_task, j);
    }
    plan(j, ai__pool_size(pool));
    atomic_init(&j->next, 0);
    /* Below ~16 KiB of weight bytes per product, waking the pool costs more
     * than the work itself. */
    if (j->n_tiles == 1 || (double)ws * (double)n_rows * (double)n_batch < 16384.0) compute_task(j, 0, 1);
    else ai__pool_run(pool, compute_task, j);
    free(scratch);
    free(j);
    return AI_OK;
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

void ai__f32_to_f16_row(const float *x, uint16_t *y, int64_t n) {
    if (n > 0) ai__kset_get()->act[ACT_F16](x, y, n);
}

void ai__f16_to_f32_row(const uint16_t *x, float *y, int64_t n) {
    if (n > 0) ai__kset_get()->ops[AI_TYPE_F16].dequant(x, y, n);
}
