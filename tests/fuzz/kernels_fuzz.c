/*
 * kernels_fuzz.c - libFuzzer target for the kernels on arbitrary bytes: a
 * weight row of any supported type made of fuzz bytes (scales may be inf,
 * NaN, subnormal; quants anything) must dequantize, and multiply with
 * activations (also from fuzz bytes, as floats) in every kernel set the CPU
 * has, without undefined behaviour or out-of-bounds access.  Quantizing
 * those floats must also be safe.  Input: byte 0 picks the type, byte 1 the
 * number of blocks; the rest fills the weights, then the activations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kimpl.h"
#include "threads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t types[] = {AI_TYPE_F32,  AI_TYPE_F16,  AI_TYPE_BF16, AI_TYPE_Q4_0, AI_TYPE_Q4_1,
                                 AI_TYPE_Q5_0, AI_TYPE_Q5_1, AI_TYPE_Q8_0, AI_TYPE_Q2_K, AI_TYPE_Q3_K,
                                 AI_TYPE_Q4_K, AI_TYPE_Q5_K, AI_TYPE_Q6_K, AI_TYPE_IQ4_NL, AI_TYPE_IQ4_XS};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint32_t type = types[data[0] % (sizeof types / sizeof types[0])];
    int64_t bs = ai__type_get(type)->block_size < 32 ? 32 : ai__type_get(type)->block_size;
    int64_t k = bs * (1 + data[1] % 4), rows = 3, nb = 2;
    size_t rs = ai__row_size(type, k);
    uint8_t *w = calloc(rows, rs);
    float *x = calloc((size_t)(k * nb), sizeof(float)), *y = calloc((size_t)(rows * nb), sizeof(float));
    float *d = calloc((size_t)k, sizeof(float));
    if (!w || !x || !y || !d) abort();
    size_t n = size - 2, nw = rs * rows < n ? rs * rows : n;
    memcpy(w, data + 2, nw);
    size_t nx = n - nw < (size_t)(k * nb) * 4 ? n - nw : (size_t)(k * nb) * 4;
    memcpy(x, data + 2 + nw, nx);
    if (ai__dequant_row(type, w, d, k) != AI_OK) abort();
    if (ai__quant_row(type, d, w, k) != AI_OK) abort();
    memcpy(w, data + 2, nw);
    static const char *const sets[] = {"ref", "avx2", "avx512", "neon", "neon-dotprod"};
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        const ai__kset *ks = ai__kset_by_name(sets[s]);
        if (!ks) continue;
        if (ai__matmul_ks(ks, NULL, type, w, rows, k, x, nb, y, rows) != AI_OK) abort();
        if (ai__matmul_ks(ks, NULL, type, w, rows, k, x, 1, y, rows) != AI_OK) abort();
    }
    free(w);
    free(x);
    free(y);
    free(d);
    return 0;
}
