/*
 * bench_fgemm.c - the float matrix-matrix kernels (kernels/x86/x86_fgemm.h,
 * or whatever set the host gets) on the products of a BERT-base layer and a
 * Qwen3-0.6B layer, one thread:
 *
 *   y = x W^T for W of (rows x k) F16 or BF16 weights and n activation rows,
 *   cut into the tiles matmul.c makes for two threads (row tiles of
 *   rows/16 rounded up to 8, at most 240; batch tiles of 64 rows), all run
 *   on this thread;
 *
 * so that each line is what one core does of that product.  The weights
 * cycle over copies taking 64 MiB in all (more than the L3 cache), as a
 * model's weights come from memory.  Time is this thread's CPU time, best of
 * several runs (the least disturbed on a shared machine).  Prints GFLOP/s
 * (2 per multiply-add).  Timing only; nothing is asserted.
 * Usage: bench_fgemm [SET] (a kernel set name: avx512, avx2, ...; default:
 * the one the host gets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kimpl.h"

/* uniform in [-1, 1) (xorshift64) */
static float randf(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (float)(*s >> 40) / (float)(1 << 23) - 1.0f;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct shape {
    const char *name;
    int64_t rows, k, n;
} shape;

static const shape shapes[] = {
    {"bert qkv, 1 text", 2304, 768, 27},  {"bert ffn up, 1 text", 3072, 768, 27},
    {"bert ffn down, 1 text", 768, 3072, 27}, {"bert qkv, 32 texts", 2304, 768, 512},
    {"bert out, 32 texts", 768, 768, 512}, {"bert ffn up, 32 texts", 3072, 768, 512},
    {"bert ffn down, 32 texts", 768, 3072, 512}, {"qwen3 q, pp512", 2048, 1024, 512},
    {"qwen3 k, pp512", 1024, 1024, 512},  {"qwen3 o, pp512", 1024, 2048, 512},
    {"qwen3 ffn down, pp512", 1024, 3072, 512},
};

/* One shape: GFLOP/s of the best run (0 if memory is short). */
static double run(const ai__kset *ks, uint32_t type, const shape *sh, uint64_t *seed) {
    const ai__type_ops *op = &ks->ops[type];
    int64_t rows = sh->rows, k = sh->k, n = sh->n;
    size_t ws = ai__row_size(type, k), wbytes = ws * (size_t)rows;
    size_t copies = ((size_t)64 << 20) / wbytes + 1;
    size_t as = ai__act_row_size(op->act, k);
    uint8_t *w = malloc(wbytes * copies), *act = malloc(as * (size_t)n);
    float *x = malloc((size_t)k * sizeof(float)), *y = malloc((size_t)(rows * n) * sizeof(float));
    float *wf = malloc((size_t)k * sizeof(float));
    double best = 0;
    if (!w || !act || !x || !y || !wf) goto out;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < k; i++) wf[i] = randf(seed) * 0.1f;
        op->quant(wf, w + (size_t)r * ws, k);
    }
    for (size_t c = 1; c < copies; c++) memcpy(w + c * wbytes, w, wbytes);
    for (int64_t b = 0; b < n; b++) {
        for (int64_t i = 0; i < k; i++) x[i] = randf(seed);
        ks->act[op->act](x, act + (size_t)b * as, k);
    }
    int64_t rt = (rows + 15) / 16;
    rt = (rt + 7) & ~(int64_t)7;
    if (rt > 240) rt = 240;
    double t_best = 1e30, t_all = 0;
    for (int rep = 0; rep < 200 && (rep < 3 || t_all < 0.4); rep++) {
        const uint8_t *wc = w + wbytes * ((size_t)rep % copies);
        double t0 = cpu_now();
        for (int64_t b0 = 0; b0 < n; b0 += 64) {
            int64_t nb = n - b0 < 64 ? n - b0 : 64;
            for (int64_t r0 = 0; r0 < rows; r0 += rt) {
                int64_t nr = rows - r0 < rt ? rows - r0 : rt;
                op->gemm(wc + (size_t)r0 * ws, ws, nr, act + (size_t)b0 * as, as, nb, k, y + b0 * rows + r0,
                         rows);
            }
        }
        double t = cpu_now() - t0;
        t_all += t;
        if (t < t_best) t_best = t;
    }
    best = 2.0 * (double)rows * (double)k * (double)n / t_best * 1e-9;
out:
    free(w);
    free(act);
    free(x);
    free(y);
    free(wf);
    return best;
}

int main(int argc, char **argv) {
    const ai__kset *ks = argc > 1 ? ai__kset_by_name(argv[1]) : ai__kset_get();
    if (!ks) {
        fprintf(stderr, "bench_fgemm: no kernel set '%s' on this CPU\n", argv[1]);
        return 1;
    }
    static const uint32_t types[] = {AI_TYPE_F16, AI_TYPE_BF16};
    uint64_t seed = 42;
    printf("float gemm, kernel set %s, one thread, GFLOP/s (best run, thread CPU time)\n", ks->name);
    printf("%-26s %5s %5s %4s %8s %8s\n", "product", "rows", "k", "n", "f16", "bf16");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const shape *sh = &shapes[s];
        printf("%-26s %5lld %5lld %4lld", sh->name, (long long)sh->rows, (long long)sh->k, (long long)sh->n);
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            if (!ks->ops[types[t]].gemm) {
                printf(" %8s", "-");
                continue;
            }
            printf(" %8.1f", run(ks, types[t], &shapes[s], &seed));
            fflush(stdout);
        }
        printf("\n");
    }
    return 0;
}
