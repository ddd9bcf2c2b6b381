/*
 * state_fuzz.c - libFuzzer target for the session state file reader: any
 * input must give AI_OK, AI_E_FORMAT, AI_E_MISMATCH or AI_E_NOMEM, and a
 * file that opens must decode within its own geometry without going out of
 * bounds.  The checksums would stop almost every mutation at the door, so
 * the target recomputes them first (a damaged checksum is tested by
 * test_sessions); what is fuzzed is everything behind them: header fields,
 * sizes, the zstd frame, token ids.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *img = malloc(size ? size : 1);
    if (!img) return 0;
    if (size) memcpy(img, data, size);
    if (size >= 128) {
        put64(img + 104, ai__hash64(img + 128, size - 128, 0));
        put64(img + 120, ai__hash64(img, 120, 0));
    }
    ai__state_file f;
    char msg[256];
    ai_status st = ai__state_open_mem(&f, img, size, "fuzz", msg, sizeof msg);
    if (st != AI_OK && st != AI_E_FORMAT && st != AI_E_MISMATCH && st != AI_E_NOMEM) abort();
    size_t rows = (size_t)f.g.n_layer * (size_t)f.g.n_head_kv * (size_t)f.n_tokens;
    if (st == AI_OK && f.raw_len <= ((size_t)64 << 20)) {
        int32_t *tok = malloc((size_t)(f.n_tokens ? f.n_tokens : 1) * sizeof *tok);
        float *lg = malloc((size_t)(f.n_vocab ? f.n_vocab : 1) * sizeof *lg);
        uint8_t *k = malloc(rows * f.g.k_row + 1), *v = malloc(rows * f.g.v_row + 1);
        if (tok && lg && k && v) {
            st = ai__state_decode_tokens(&f, tok, lg, msg, sizeof msg);
            if (st == AI_OK) {
                ai__kvview view = {f.g, f.n_tokens, k, v};
                st = ai__state_decode_kv(&f, &view, msg, sizeof msg);
            }
            if (st != AI_OK && st != AI_E_FORMAT && st != AI_E_NOMEM) abort();
        }
        free(tok);
        free(lg);
        free(k);
        free(v);
    }
    ai__state_close(&f);
    return 0;
}
