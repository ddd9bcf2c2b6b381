/*
 * bench.c - ai_system_bench: throughput of the chosen kernel set.
 *
 *  - read bandwidth: every thread sums its share of a buffer as large as the
 *    matrix-vector weights (larger than the L3 cache by default);
 *  - matrix-vector: y = W x with W of AI_OPT_BENCH_MIB MiB (k = 4096), in
 *    GB/s of weight bytes streamed;
 *  - matrix-matrix: Y = X W^T for a batch of AI_OPT_BENCH_BATCH rows against
 *    a 64 x 4096 matrix, in GOP/s (2 ops per multiply-add), beside a loop
 *    of the matrix-vector kernel over the batch's rows (what the tiled path
 *    must beat) and the opt-in BLAS path (AI_BLAS_MIN_BATCH; weights
 *    dequantized to f32 in tiles + cblas_sgemm).
 * Each figure is the best of several runs (at least ~0.25 s of runs), which
 * on a shared machine is the least disturbed one.
 */
#include "internal.h"
#include "kimpl.h"
#include "threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct rd_job {
    const uint64_t *p;
    size_t n;
    uint64_t out[64];
} rd_job;

/* Sums the thread's share with wide vector loads (GCC vector extensions:
 * whatever the build's baseline ISA offers), four independent chains. */
typedef uint64_t v4u64 __attribute__((vector_size(32)));
static void read_task(void *ctx, int ith, int nth) {
    rd_job *j = ctx;
    size_t nv = j->n / 4; /* 32-byte vectors */
    size_t a = nv * (size_t)ith / (size_t)nth, b = nv * (size_t)(ith + 1) / (size_t)nth;
    const v4u64 *p = (const v4u64 *)j->p;
    v4u64 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    size_t i = a;
    for (; i + 4 <= b; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    for (; i < b; i++) s0 += p[i];
    v4u64 s = s0 + s1 + s2 + s3;
    if (ith < 64) j->out[ith] = s[0] + s[1] + s[2] + s[3];
}

/* Best time of fn over runs lasting at least min_s in total (>= 3 runs). */
typedef int (*run_fn)(void *ctx);
static double best_time(run_fn fn, void *ctx, double min_s, int max_runs) {
    double best = INFINITY, start = now();
    if (fn(ctx)) return -1; /* warm-up, and error check */
    for (int r = 0; r < max_runs; r++) {
        double t0 = now();
        if (fn(ctx)) return -1;
        double t = now() - t0;
        best = t < best ? t : best;
        if (r >= 2 && now() - start > min_s) break;
    }
    return best;
}

typedef struct mm_ctx {
    const ai__kset *ks;
    ai__pool *pool;
    uint32_t type;
    const void *w;
    int64_t rows, k, nb;
    const float *x;
    float *y;
    rd_job *rd;
} mm_ctx;

static int run_read(void *c) {
    mm_ctx *m = c;
    ai__pool_run(m->pool, read_task, m->rd);
    return 0;
}

static int run_mm(void *c) {
    mm_ctx *m = c;
    return ai__matmul_ks(m->ks, m->pool, m->type, m->w, m->rows, m->k, m->x, m->nb, m->y, m->rows) != AI_OK;
}

static int run_cols(void *c) {
    mm_ctx *m = c;
    for (int64_t b = 0; b < m->nb; b++)
        if (ai__matmul_ks(m->ks, m->pool, m->type, m->w, m->rows, m->k, m->x + b * m->k, 1, m->y + b * m->rows,
                          m->rows) != AI_OK)
            return 1;
    return 0;
}

/* The matrix-matrix product through the (opt-in) BLAS path. */
static const ai__kset *blas_set;
#ifdef AI__USE_BLAS
static int run_blas(void *c) {
    mm_ctx *m = c;
    return ai__matmul_ks(blas_set, m->pool, m->type, m->w, m->rows, m->k, m->x, m->nb, m->y, m->rows) != AI_OK;
}
#endif

/* A weight matrix of `rows` rows: 64 distinct quantized random rows,
 * repeated (quantizing every row would take longer than the benchmark). */
static void *make_weights(const ai__kset *ks, uint32_t type, int64_t rows, int64_t k) {
    size_t rs = ai__row_size(type, k), total;
    if (ai__mul_size(rs, (size_t)rows, &total)) return NULL;
    uint8_t *w = malloc(total);
    float *f = malloc((size_t)k * sizeof(float));
    if (!w || !f) {
        free(w);
        free(f);
        return NULL;
    }
    uint64_t s = 0x5eed;
    for (int64_t r = 0; r < rows && r < 64; r++) {
        for (int64_t i = 0; i < k; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            f[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
        }
        ks->ops[type].quant(f, w + (size_t)r * rs, k);
    }
    for (int64_t r = 64; r < rows; r++) memcpy(w + (size_t)r * rs, w + (size_t)(r % 64) * rs, rs);
    free(f);
    return w;
}

ai_status ai_system_bench(const ai_opts *opts, char **out) {
    if (!out) return AI_E_INVAL;
    *out = NULL;
    /* the chosen set without its BLAS path: the tiled integer kernels */
    ai__kset tiled = *ai__kset_get();
    tiled.blas_min_batch = 0;
    const ai__kset *ks = &tiled;
    ai__kset with_blas = tiled;
    with_blas.blas_min_batch = 1;
    blas_set = &with_blas;
    int nth = (int)ai__opts_int(opts, AI_OPT_N_THREADS, ai__default_threads());
    int64_t mib = ai__opts_int(opts, AI_OPT_BENCH_MIB, 64);
    int64_t nb = ai__opts_int(opts, AI_OPT_BENCH_BATCH, 512);
    int64_t types = ai__opts_int(opts, AI_OPT_BENCH_TYPES, 0);
    const int64_t k = 4096, mm_rows = 64;
    ai__pool *pool = NULL;
    ai_status st = ai__pool_new(nth, &pool);
    if (st) return st;
    ai__buf b = {0};
    size_t bytes = (size_t)mib << 20;
    float *x = malloc((size_t)(k * nb) * sizeof(float));
    float *y = malloc((size_t)(mm_rows * nb) * sizeof(float));
    rd_job *rd = calloc(1, sizeof *rd);
    uint64_t *buf = aligned_alloc(64, bytes);
    if (!x || !y || !rd || !buf) {
        st = AI_E_NOMEM;
        goto done;
    }
    for (int64_t i = 0; i < k * nb; i++) x[i] = (float)sin((double)i * 0.37) * 0.5f;
    memset(buf, 1, bytes);
    rd->p = buf;
    rd->n = bytes / 8;
    mm_ctx m = {ks, pool, 0, NULL, 0, k, 1, x, y, rd};
    double t = best_time(run_read, &m, 0.5, 100);
    double bw = (double)bytes / t * 1e-9;
    free(buf);
    buf = NULL;
    ai__buf_printf(&b, "kernels=%s threads=%d; matrix-vector: %lld MiB of weights, k=%lld; "
                   "matrix-matrix: %lld x %lld weights, batch %lld\n",
                   ks->name, nth, (long long)mib, (long long)k, (long long)mm_rows, (long long)k, (long long)nb);
    ai__buf_printf(&b, "read bandwidth: %.1f GB/s\n\n", bw);
    ai__buf_printf(&b, "%-8s %9s %6s | %11s %10s %7s %10s\n", "type", "mv GB/s", "of bw", "tiled GOP/s",
                   "loop GOP/s", "tiled/x", "blas GOP/s");
    for (uint32_t type = 0; type < AI__TYPE_COUNT; type++) {
        if (!ks->ops[type].dot || (types && !((types >> type) & 1))) continue;
        size_t rs = ai__row_size(type, k);
        int64_t rows = (int64_t)((bytes + rs - 1) / rs);
        /* the matrix-matrix runs use the first mm_rows rows */
        void *w = make_weights(ks, type, rows > mm_rows ? rows : mm_rows, k);
        if (!w) {
            st = AI_E_NOMEM;
            goto done;
        }
        m.type = type;
        m.w = w;
        m.rows = rows;
        m.nb = 1;
        float *ybig = malloc((size_t)rows * sizeof(float));
        if (!ybig) {
            free(w);
            st = AI_E_NOMEM;
            goto done;
        }
        m.y = ybig;
        double tmv = best_time(run_mm, &m, 0.5, 100);
        m.y = y;
        free(ybig);
        m.rows = mm_rows; /* the first mm_rows rows of the same matrix */
        m.nb = nb;
        double tmm = best_time(run_mm, &m, 0.5, 200);
        double tcol = best_time(run_cols, &m, 0.5, 100);
        double tblas = -1;
#ifdef AI__USE_BLAS
        if (type != AI_TYPE_Q4_1 && type != AI_TYPE_Q5_1) tblas = best_time(run_blas, &m, 0.5, 200);
#endif
        free(w);
        double gops = 2.0 * (double)mm_rows * (double)k * (double)nb * 1e-9;
        double gbs = (double)rs * (double)rows / tmv * 1e-9;
        ai__buf_printf(&b, "%-8s %9.1f %5.0f%% | %11.1f %10.1f %7.2f ", ai__type_get(type)->name, gbs,
                       100 * gbs / bw, gops / tmm, gops / tcol, tcol / tmm);
        if (tblas > 0) ai__buf_printf(&b, "%10.1f\n", gops / tblas);
        else ai__buf_printf(&b, "%10s\n", "-");
    }
done:
    free(x);
    free(y);
    free(rd);
    free(buf);
    ai__pool_free(pool);
    if (!st && b.oom) st = AI_E_NOMEM;
    if (st) {
        ai__buf_free(&b);
        return st;
    }
    *out = b.p;
    return AI_OK;
}
