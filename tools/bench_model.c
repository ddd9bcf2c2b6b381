/*
 * bench_model.c - writes a decoder with random weights in the shape of
 * Qwen3-0.6B (the benchmark shape of issue 5: arch qwen3, embedding 1024,
 * 28 layers, 16 heads, 8 kv heads, head dim 128, FFN 3072, tied vocabulary
 * of 32000, about 473M parameters), quantized with our own quantizer:
 *
 *   bench_model TYPE OUT.gguf      TYPE: f16 | q8_0 | q4_0 | q4_k_m
 *
 * The type mix is llama.cpp's default for that file type, so that the
 * comparison with its numbers is on the same bytes: the (tied) embedding is
 * q6_k in q4_0 and q4_k_m; q4_k_m also puts attn_v and ffn_down in q6_k in
 * the layers where llama.cpp "uses more bits" (the first and last eighth,
 * and every third layer between: 14 of 28), q4_k elsewhere.  No tokenizer:
 * `agentinfer bench` needs none.
 */
#include "kernels.h"
#include "types.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { E = 1024, L = 28, H = 16, HKV = 8, HD = 128, FF = 3072, NV = 32000 };

typedef struct tensor {
    char name[64];
    int64_t ne0, ne1; /* ne1 == 1: a vector */
    uint32_t type;
    uint64_t off, size;
} tensor;

static void w32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void w64(FILE *f, uint64_t v) { fwrite(&v, 8, 1, f); }
static void wstr(FILE *f, const char *s) { w64(f, strlen(s)); fwrite(s, 1, strlen(s), f); }
static void kv_u32(FILE *f, const char *k, uint32_t v) { wstr(f, k); w32(f, 4); w32(f, v); }
static void kv_f32(FILE *f, const char *k, float v) { wstr(f, k); w32(f, 6); fwrite(&v, 4, 1, f); }
static void kv_str(FILE *f, const char *k, const char *v) { wstr(f, k); w32(f, 8); wstr(f, v); }

/* Layers whose attn_v and ffn_down llama.cpp's Q4_K_M keeps in q6_k. */
static int more_bits(int l) { return l < L / 8 || l >= 7 * L / 8 || (l - L / 8) % 3 == 2; }

static uint64_t rng = 0x1234567;
static float frand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench_model f16|q8_0|q4_0|q4_k_m OUT.gguf\n");
        return 1;
    }
    uint32_t base, strong, embd; /* strong: attn_v/ffn_down in more_bits() layers */
    if (!strcmp(argv[1], "f16")) base = strong = embd = AI_TYPE_F16;
    else if (!strcmp(argv[1], "q8_0")) base = strong = embd = AI_TYPE_Q8_0;
    else if (!strcmp(argv[1], "q4_0")) base = strong = AI_TYPE_Q4_0, embd = AI_TYPE_Q6_K;
    else if (!strcmp(argv[1], "q4_k_m")) base = AI_TYPE_Q4_K, strong = embd = AI_TYPE_Q6_K;
    else {
        fprintf(stderr, "bench_model: unknown type %s\n", argv[1]);
        return 1;
    }
    static tensor t[3 + L * 11];
    int nt = 0;
#define T(nm, a, b, ty) (snprintf(t[nt].name, 64, "%s", nm), t[nt].ne0 = a, t[nt].ne1 = b, t[nt].type = ty, nt++)
    T("token_embd.weight", E, NV, embd);
    T("output_norm.weight", E, 1, AI_TYPE_F32);
    for (int l = 0; l < L; l++) {
        char n[64];
#define B(s, a, b, ty) (snprintf(n, 64, "blk.%d." s, l), T(n, a, b, ty))
        B("attn_norm.weight", E, 1, AI_TYPE_F32);
        B("attn_q.weight", E, H * HD, base);
        B("attn_k.weight", E, HKV * HD, base);
        uint32_t vd = more_bits(l) ? strong : base;
        B("attn_v.weight", E, HKV * HD, vd);
        B("attn_q_norm.weight", HD, 1, AI_TYPE_F32);
        B("attn_k_norm.weight", HD, 1, AI_TYPE_F32);
        B("attn_output.weight", H * HD, E, base);
        B("ffn_norm.weight", E, 1, AI_TYPE_F32);
        B("ffn_gate.weight", E, FF, base);
        B("ffn_up.weight", E, FF, base);
        B("ffn_down.weight", FF, E, vd);
    }
    uint64_t off = 0;
    for (int i = 0; i < nt; i++) {
        t[i].off = off;
        t[i].size = ai__row_size(t[i].type, t[i].ne0) * (uint64_t)t[i].ne1;
        off += (t[i].size + 31) / 32 * 32;
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    fwrite("GGUF", 1, 4, f);
    w32(f, 3);
    w64(f, (uint64_t)nt);
    w64(f, 13);
    kv_str(f, "general.architecture", "qwen3");
    kv_str(f, "general.name", "bench-qwen3-0.6b-shape");
    kv_u32(f, "qwen3.context_length", 40960);
    kv_u32(f, "qwen3.embedding_length", E);
    kv_u32(f, "qwen3.block_count", L);
    kv_u32(f, "qwen3.feed_forward_length", FF);
    kv_u32(f, "qwen3.attention.head_count", H);
    kv_u32(f, "qwen3.attention.head_count_kv", HKV);
    kv_u32(f, "qwen3.attention.key_length", HD);
    kv_u32(f, "qwen3.attention.value_length", HD);
    kv_f32(f, "qwen3.attention.layer_norm_rms_epsilon", 1e-6f);
    kv_f32(f, "qwen3.rope.freq_base", 1000000.0f);
    kv_u32(f, "general.alignment", 32);
    for (int i = 0; i < nt; i++) {
        wstr(f, t[i].name);
        w32(f, t[i].ne1 == 1 ? 1 : 2);
        w64(f, (uint64_t)t[i].ne0);
        if (t[i].ne1 != 1) w64(f, (uint64_t)t[i].ne1);
        w32(f, t[i].type);
        w64(f, t[i].off);
    }
    long pos = ftell(f);
    while (pos % 32) fputc(0, f), pos++;
    float *row = malloc(FF * sizeof *row);
    uint8_t *q = malloc(ai__row_size(AI_TYPE_F32, FF));
    for (int i = 0; i < nt; i++) {
        size_t rs = ai__row_size(t[i].type, t[i].ne0);
        float scale = t[i].ne1 == 1 ? 0.0f : 0.05f;
        for (int64_t r = 0; r < t[i].ne1; r++) {
            for (int64_t c = 0; c < t[i].ne0; c++) row[c] = scale ? frand() * scale : 1.0f + 0.1f * frand();
            if (ai__quant_row(t[i].type, row, q, t[i].ne0) != AI_OK) {
                fprintf(stderr, "bench_model: cannot quantize %s\n", t[i].name);
                return 2;
            }
            fwrite(q, 1, rs, f);
        }
        for (uint64_t p = t[i].size; p % 32; p++) fputc(0, f);
    }
    free(row);
    free(q);
    if (fclose(f) != 0) {
        perror(argv[2]);
        return 2;
    }
    printf("%s: %d tensors, %.1f MB\n", argv[2], nt, (double)off / 1e6);
    return 0;
}
