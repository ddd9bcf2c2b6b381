/*
 * weights_fuzz.c - libFuzzer target for the decoder's load-time checks and
 * forward pass: any GGUF image either fails to bind (with AI_E_FORMAT,
 * AI_E_UNSUPPORTED or AI_E_NOMEM) or binds to weights that a small forward
 * pass can run over without reading out of bounds.  The input names its
 * architecture; the first byte also picks one to force.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "runtime.h"
#include "types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const archs[] = {"llama", "qwen2", "qwen3", "phi3"};
    ai__gguf *g = NULL;
    char err[256];
    if (ai__gguf_parse(data, size, &g, err, sizeof err) != AI_OK) return 0;
    const char *arch = archs[(size ? data[0] : 0) % 4];
    const char *named;
    size_t len;
    char buf[32];
    if (ai__gguf_get_str(g, "general.architecture", &named, &len) == 0 && len < sizeof buf) {
        memcpy(buf, named, len);
        buf[len] = 0;
        if (ai__arch_supported(buf)) arch = buf;
    }
    struct ai__weights *w = NULL;
    ai_status st = ai__weights_load(g, arch, &w, err, sizeof err);
    if (st != AI_OK && st != AI_E_FORMAT && st != AI_E_UNSUPPORTED && st != AI_E_NOMEM) abort();
    if (st == AI_OK) {
        /* keep the run small: the fuzzer's inputs are tiny anyway */
        const ai__hparams *hp = &w->hp;
        if (hp->n_embd * hp->n_layer <= 1 << 16 && hp->n_vocab <= 1 << 16) {
            ai__fwd f;
            if (ai__fwd_init(&f, w, NULL, 8, 4, AI_TYPE_F16) == AI_OK) {
                int32_t toks[3] = {0, (int32_t)(hp->n_vocab - 1), (int32_t)(hp->n_vocab / 2)};
                float *logits = malloc((size_t)hp->n_vocab * 3 * sizeof *logits);
                if (logits) {
                    if (ai__fwd_run(&f, toks, 3, 0, logits, 1) == AI_OK)
                        ai__fwd_run(&f, toks, 1, 3, logits, 0);
                    /* a batch past the context is refused */
                    if (ai__fwd_run(&f, toks, 3, 7, logits, 0) != AI_E_INVAL) abort();
                }
                free(logits);
                ai__fwd_free(&f);
            }
        }
    }
    ai__weights_free(w);
    ai__gguf_free(g);
    return 0;
}
