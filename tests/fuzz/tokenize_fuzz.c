/*
 * tokenize_fuzz.c - libFuzzer target for the tokenizers.
 *
 * Input byte 0 chooses what to do with the rest:
 *   0xFF      the rest is a GGUF image: parse it, load its vocabulary (any
 *             malformed tokenizer metadata must give AI_E_FORMAT, never a
 *             crash) and tokenize a fixed text with it;
 *   otherwise the rest is text: low 3 bits pick a fixture vocabulary (from
 *             $AI_FIXTURES/vocab or ../shared/fixtures/vocab), bits 3-4 the
 *             tokenize flags.  Checked: status AI_OK, ids in range, count
 *             within the documented bound, detokenize works, the streaming
 *             detokenizer emits only valid UTF-8, and lossless vocabularies
 *             (SentencePiece, GPT-2, Llama 3) round-trip valid UTF-8.
 * Every input also runs through all pre-tokenizers, whose pieces must cover
 * the text in order.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentinfer.h"
#include "gguf.h"
#include "unicode.h"
#include "vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"ggml-vocab-llama-spm", "ggml-vocab-gpt-2", "vocab-llama3",
                                    "ggml-vocab-bert-bge", "vocab-qwen3"};
#define N_MODELS 5
static ai_model *models[N_MODELS];
static int n_loaded = -1;

static void load_models(void) {
    const char *env = getenv("AI_FIXTURES");
    char path[4096];
    n_loaded = 0;
    for (int i = 0; i < N_MODELS; i++) {
        snprintf(path, sizeof path, "%s/vocab/%s.gguf", env ? env : "../shared/fixtures",
                 names[i]);
        if (ai_model_load(path, NULL, &models[i], NULL, 0) == AI_OK) n_loaded++;
    }
}

static int valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int k = ai__utf8_check((const uint8_t *)s + i, n - i);
        if (k <= 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

static void pretok_all(const uint8_t *s, size_t n) {
    ai__u32vec cps = {0};
    ai__utf8_to_cps((const char *)s, n, &cps);
    for (int pre = AI__PRE_GPT2; pre <= AI__PRE_DEEPSEEK_CODER; pre++) {
        ai__u32vec ends = {0};
        ai__pretokenize(pre, cps.p, cps.n, &ends);
        uint32_t prev = 0;
        for (size_t i = 0; i < ends.n; i++) {
            if (ends.p[i] <= prev) abort(); /* empty or backwards piece */
            prev = ends.p[i];
        }
        if (!ends.oom && prev != cps.n) abort();
        ai__u32vec_free(&ends);
    }
    ai__u32vec_free(&cps);
}

static void fuzz_gguf(const uint8_t *data, size_t size) {
    ai__gguf *g = NULL;
    char err[256];
    if (ai__gguf_parse(data, size, &g, err, sizeof err) != AI_OK) return;
    struct ai__vocab *v = NULL;
    ai_status st = ai__vocab_load(g, &v, err, sizeof err);
    if (st != AI_OK && st != AI_E_FORMAT && st != AI_E_NOMEM) abort();
    if (v) {
        ai__toks t = {0};
        static const char text[] = "Hello, world! 12345 \xe4\xbd\xa0\xe5\xa5\xbd <s>\n";
        if (ai__tokenize(v, text, sizeof text - 1, AI_TOKENIZE_ADD_SPECIAL |
                         AI_TOKENIZE_PARSE_SPECIAL, &t) == AI_OK)
            for (size_t i = 0; i < t.n; i++)
                if (t.p[i] < 0 || t.p[i] >= v->n_tokens) abort();
        free(t.p);
    }
    ai__vocab_free(v);
    ai__gguf_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] == 0xFF) {
        fuzz_gguf(data + 1, size - 1);
        return 0;
    }
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    pretok_all(data + 1, len);
    if (n_loaded < 0) load_models();
    int mi = data[0] & 7;
    if (mi >= N_MODELS || !models[mi]) return 0;
    ai_model *m = models[mi];
    uint32_t flags = (data[0] >> 3) & 3;
    size_t cap = 3 * len + 3, n;
    int32_t *t = malloc(cap * sizeof *t);
    if (!t) return 0;
    if (ai_tokenize(m, text, len, flags, t, cap, &n) != AI_OK) abort();
    for (size_t i = 0; i < n; i++)
        if (t[i] < 0 || (size_t)t[i] >= ai_vocab_size(m)) abort();
    size_t need;
    if (ai_detokenize(m, t, n, 0, NULL, 0, &need) != AI_E_RANGE) abort();
    char *back = malloc(need);
    if (!back || ai_detokenize(m, t, n, 0, back, need, &need) != AI_OK) abort();
    int lossless = mi <= 2 && flags == 0 && valid_utf8(text, len) &&
                   !(mi == 0 && memmem(text, len, "\xe2\x96\x81", 3));
    if (lossless && (need - 1 != len || memcmp(back, text, len))) abort();
    free(back);
    ai_detokenizer *d;
    if (ai_detokenizer_new(m, AI_DETOKENIZE_RENDER_SPECIAL, &d) != AI_OK) abort();
    char buf[4096];
    for (size_t i = 0; i < n; i++) {
        if (ai_detokenizer_push(d, t[i], buf, sizeof buf, &need) != AI_OK) continue;
        if (!valid_utf8(buf, need - 1)) abort();
    }
    if (ai_detokenizer_flush(d, buf, sizeof buf, &need) != AI_OK || !valid_utf8(buf, need - 1))
        abort();
    ai_detokenizer_free(d);
    free(t);
    return 0;
}
