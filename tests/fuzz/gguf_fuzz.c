/*
 * gguf_fuzz.c - libFuzzer target for the GGUF reader: any input must give
 * AI_OK or AI_E_FORMAT, and everything a successful parse exposes must be
 * readable without going out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ai__gguf *g = NULL;
    char err[256];
    ai_status st = ai__gguf_parse(data, size, &g, err, sizeof err);
    if (st != AI_OK && st != AI_E_FORMAT && st != AI_E_NOMEM) abort();
    if (st != AI_OK) return 0;
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < g->n_kv; i++) {
        const ai__gguf_kv *kv = &g->kv[i];
        if (ai__gguf_find(g, kv->key) != kv) abort();
        int64_t v;
        double d;
        const char *s;
        size_t len;
        if (!ai__gguf_kv_int(kv, &v)) sink += (uint64_t)v;
        if (!ai__gguf_kv_float(kv, &d)) sink += (uint64_t)(d == d);
        if (!ai__gguf_kv_str(kv, &s, &len) && len) sink += (uint8_t)s[len - 1];
        for (uint64_t k = 0; k < kv->n && k < 4096; k++) {
            if (!ai__gguf_arr_int(kv, k, &v)) sink += (uint64_t)v;
            if (!ai__gguf_arr_float(kv, k, &d)) sink += (uint64_t)(d == d);
            if (!ai__gguf_arr_str(kv, k, &s, &len) && len) sink += (uint8_t)s[len - 1];
        }
    }
    for (size_t i = 0; i < g->n_tensors; i++) {
        const ai__gguf_tensor *t = &g->tensors[i];
        if (ai__gguf_tensor_find(g, t->name) != t) abort();
        if (t->nbytes) sink += ((const uint8_t *)t->data)[t->nbytes - 1];
    }
    (void)sink;
    ai__gguf_free(g);
    return 0;
}
