/*
 * bench_encoder.c - writes an encoder with random weights in the shape of
 * BERT-base (the benchmark shape of issue 6: arch bert, embedding 768,
 * 12 layers, 12 heads, FFN 3072, 512 positions, about 110M parameters) with
 * our own GGUF writer, and the benchmark's texts:
 *
 *   bench_encoder TYPE VOCAB.gguf OUT.gguf TEXTS.txt     TYPE: f16 | q8_0
 *
 * The tokenizer (tokenizer.* keys) is copied from VOCAB.gguf, a WordPiece
 * vocabulary-only file such as the fixtures' ggml-vocab-bert-bge.gguf, so
 * that the texts tokenize as with a real model.  TEXTS.txt gets 256 lines
 * of 10 to 40 words each, drawn from a fixed word list (deterministic).
 */
#include "gguf.h"
#include "gguf_write.h"
#include "kernels.h"
#include "types.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { E = 768, L = 12, H = 12, FF = 3072, NCTX = 512, N_TEXTS = 256 };

static uint64_t rng = 0x5eed5eedULL;
static uint64_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}
static float frand(void) { /* uniform in [-1, 1) */
    return (float)((next() >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

typedef struct tensor {
    char name[64];
    int64_t ne0, ne1;   /* ne1 == 1: a vector */
    uint32_t type;
    int fill;           /* 0 random, 1 ones, 2 zeros */
} tensor;

static int write_texts(const char *path) {
    static const char *const words[] = {
        "the", "local", "model", "keeps", "private", "notes", "on", "device", "search",
        "calendar", "meeting", "email", "reply", "summary", "of", "a", "document", "about",
        "weather", "tomorrow", "project", "deadline", "budget", "report", "question",
        "answer", "with", "sources", "and", "files", "open", "the", "folder", "photos",
        "from", "last", "week", "remind", "me", "to", "call", "my", "friend", "at", "noon",
        "translate", "this", "paragraph", "into", "french", "please", "list", "tasks"};
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    size_t nw = sizeof words / sizeof words[0];
    for (int i = 0; i < N_TEXTS; i++) {
        int n = 10 + (int)(next() % 31);
        for (int k = 0; k < n; k++)
            fprintf(f, "%s%s", k ? " " : "", words[next() % nw]);
        fputc('\n', f);
    }
    return fclose(f);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: bench_encoder f16|q8_0 VOCAB.gguf OUT.gguf TEXTS.txt\n");
        return 1;
    }
    uint32_t wt;
    if (!strcmp(argv[1], "f16")) wt = AI_TYPE_F16;
    else if (!strcmp(argv[1], "q8_0")) wt = AI_TYPE_Q8_0;
    else {
        fprintf(stderr, "bench_encoder: unknown type %s\n", argv[1]);
        return 1;
    }
    char err[256];
    ai__gguf *voc = NULL;
    if (ai__gguf_open(argv[2], 1, &voc, err, sizeof err)) {
        fprintf(stderr, "bench_encoder: %s\n", err);
        return 1;
    }
    const ai__gguf_kv *toks = ai__gguf_find(voc, "tokenizer.ggml.tokens");
    if (!toks || toks->type != AI__GGUF_ARRAY) {
        fprintf(stderr, "bench_encoder: %s has no tokenizer.ggml.tokens\n", argv[2]);
        return 1;
    }
    int64_t NV = (int64_t)toks->n;

    static tensor t[6 + L * 16];
    int nt = 0;
#define T(nm, a, b, ty, fl) (snprintf(t[nt].name, 64, "%s", nm), t[nt].ne0 = a, \
                             t[nt].ne1 = b, t[nt].type = ty, t[nt].fill = fl, nt++)
    T("token_embd.weight", E, NV, wt, 0);
    T("position_embd.weight", E, NCTX, wt, 0);
    T("token_types.weight", E, 2, AI_TYPE_F32, 0);
    T("token_embd_norm.weight", E, 1, AI_TYPE_F32, 1);
    T("token_embd_norm.bias", E, 1, AI_TYPE_F32, 2);
    for (int l = 0; l < L; l++) {
        char n[64];
#define B(s, a, b, ty, fl) (snprintf(n, 64, "blk.%d." s, l), T(n, a, b, ty, fl))
        B("attn_q.weight", E, E, wt, 0);
        B("attn_q.bias", E, 1, AI_TYPE_F32, 0);
        B("attn_k.weight", E, E, wt, 0);
        B("attn_k.bias", E, 1, AI_TYPE_F32, 0);
        B("attn_v.weight", E, E, wt, 0);
        B("attn_v.bias", E, 1, AI_TYPE_F32, 0);
        B("attn_output.weight", E, E, wt, 0);
        B("attn_output.bias", E, 1, AI_TYPE_F32, 0);
        B("attn_output_norm.weight", E, 1, AI_TYPE_F32, 1);
        B("attn_output_norm.bias", E, 1, AI_TYPE_F32, 2);
        B("ffn_up.weight", E, FF, wt, 0);
        B("ffn_up.bias", FF, 1, AI_TYPE_F32, 0);
        B("ffn_down.weight", FF, E, wt, 0);
        B("ffn_down.bias", E, 1, AI_TYPE_F32, 0);
        B("layer_output_norm.weight", E, 1, AI_TYPE_F32, 1);
        B("layer_output_norm.bias", E, 1, AI_TYPE_F32, 2);
    }

    ai__gguf_writer *w = NULL;
    ai_status st = ai__gguf_writer_new(32, &w);
    float eps = 1e-12f;
    if (!st) st = ai__gguf_w_str(w, "general.architecture", "bert");
    if (!st) st = ai__gguf_w_str(w, "general.name", "bench-bert-base-shape");
    if (!st) st = ai__gguf_w_u32(w, "bert.context_length", NCTX);
    if (!st) st = ai__gguf_w_u32(w, "bert.embedding_length", E);
    if (!st) st = ai__gguf_w_u32(w, "bert.block_count", L);
    if (!st) st = ai__gguf_w_u32(w, "bert.feed_forward_length", FF);
    if (!st) st = ai__gguf_w_u32(w, "bert.attention.head_count", H);
    if (!st) st = ai__gguf_w_raw(w, "bert.attention.layer_norm_epsilon", AI__GGUF_F32, 0, 1,
                                 &eps, 4);
    if (!st) st = ai__gguf_w_u32(w, "bert.pooling_type", 1);
    for (size_t i = 0; !st && i < voc->n_kv; i++)
        if (!strncmp(voc->kv[i].key, "tokenizer.", 10)) st = ai__gguf_w_copy_kv(w, &voc->kv[i]);
    for (int i = 0; !st && i < nt; i++) {
        int64_t ne[2] = {t[i].ne0, t[i].ne1};
        st = ai__gguf_w_tensor(w, t[i].name, t[i].type, t[i].ne1 == 1 ? 1 : 2, ne);
    }
    FILE *f = st ? NULL : fopen(argv[3], "wb");
    if (!st && !f) st = AI_E_IO;
    if (!st) st = ai__gguf_w_begin(w, f);
    float *row = malloc(FF * sizeof *row);
    uint8_t *q = malloc(ai__row_size(AI_TYPE_F32, FF));
    for (int i = 0; !st && i < nt; i++) {
        size_t rs = ai__row_size(t[i].type, t[i].ne0);
        /* weights ~ U(-0.05, 0.05), about BERT's initialisation spread */
        for (int64_t r = 0; !st && r < t[i].ne1; r++) {
            for (int64_t c = 0; c < t[i].ne0; c++)
                row[c] = t[i].fill == 1 ? 1.0f : t[i].fill == 2 ? 0.0f : 0.05f * frand();
            if (t[i].type == AI_TYPE_F32) memcpy(q, row, rs);
            else if (t[i].type == AI_TYPE_F16) ai__f32_to_f16_row(row, (uint16_t *)q, t[i].ne0);
            else st = ai__quant_row(t[i].type, row, q, t[i].ne0);
            if (!st) st = ai__gguf_w_data(w, f, q, rs);
        }
        if (!st) st = ai__gguf_w_end_tensor(w, f);
    }
    if (f && fclose(f) != 0 && !st) st = AI_E_IO;
    free(row);
    free(q);
    ai__gguf_writer_free(w);
    ai__gguf_free(voc);
    if (st) {
        fprintf(stderr, "bench_encoder: writing %s failed: %s\n", argv[3], ai_status_string(st));
        remove(argv[3]);
        return 1;
    }
    if (write_texts(argv[4]) != 0) {
        fprintf(stderr, "bench_encoder: cannot write %s\n", argv[4]);
        return 1;
    }
    return 0;
}
