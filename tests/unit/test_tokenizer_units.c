/* test_tokenizer_units.c - tokenizer behaviour on hand-made inputs: the
 * pre-tokenizer splits of every supported pattern (expected pieces worked
 * out by hand from the patterns quoted in lib/tok_pre.c), small synthetic
 * vocabularies written as GGUF files (merge order, unknown pre-tokenizer
 * fallback, malformed metadata), and, with the fixture vocabularies, special
 * tokens, BOS/EOS, buffer rules, the streaming detokenizer and random input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentinfer.h"
#include "testutil.h"
#include "unicode.h"
#include "vocab.h"

/* ---- pre-tokenizers ------------------------------------------------------------ */

/* Splits UTF-8 s with pre-tokenizer `pre` and joins the pieces with '|'. */
static char *pieces(int pre, const char *s) {
    static char out[1024];
    ai__u32vec cps = {0}, ends = {0};
    ai__utf8_to_cps(s, strlen(s), &cps);
    ai__pretokenize(pre, cps.p, cps.n, &ends);
    size_t o = 0, b = 0;
    for (size_t k = 0; k < ends.n; k++) {
        if (k) out[o++] = '|';
        for (size_t i = b; i < ends.p[k]; i++) o += ai__utf8_encode(cps.p[i], out + o);
        b = ends.p[k];
    }
    out[o] = 0;
    assert_int_equal(b, cps.n); /* pieces cover the input */
    ai__u32vec_free(&cps);
    ai__u32vec_free(&ends);
    return out;
}

static void test_pre_gpt2(void **state) {
    (void)state;
    assert_string_equal(pieces(AI__PRE_GPT2, "Hello world's  123 !!x\n\n"),
                        "Hello| world|'s| | 123| !!|x|\n\n");
    /* contractions are case-sensitive in GPT-2 */
    assert_string_equal(pieces(AI__PRE_GPT2, "I'M ok"), "I|'|M| ok");
    assert_string_equal(pieces(AI__PRE_GPT2, "\tb  "), "\t|b|  ");
    assert_string_equal(pieces(AI__PRE_GPT2, ""), "");
}

static void test_pre_llama3(void **state) {
    (void)state;
    assert_string_equal(pieces(AI__PRE_LLAMA3, "Hello WORLD'S 12345\n\n  x"),
                        "Hello| WORLD|'S| |123|45|\n\n| | x");
    assert_string_equal(pieces(AI__PRE_LLAMA3, "a...\n\nb"), "a|...\n\n|b");
    assert_string_equal(pieces(AI__PRE_LLAMA3, "(hi) \xe4\xbd\xa0\xe5\xa5\xbd"),
                        "(hi|)| \xe4\xbd\xa0\xe5\xa5\xbd");
    assert_string_equal(pieces(AI__PRE_QWEN2, "x 12345"), "x| |1|2|3|4|5");
}

static void test_pre_others(void **state) {
    (void)state;
    assert_string_equal(pieces(AI__PRE_STARCODER, "abc123 def"), "abc|1|2|3| def");
    assert_string_equal(pieces(AI__PRE_FALCON, "a+b=12345!"), "a|+|b|=|123|45|!");
    assert_string_equal(pieces(AI__PRE_DEEPSEEK_CODER, "Hi, \xe4\xb8\x96\xe7\x95\x8c" "12\nok"),
                        "Hi|,| |\xe4\xb8\x96\xe7\x95\x8c|1|2|\n|ok");
    assert_string_equal(pieces(AI__PRE_DEEPSEEK_LLM, "Hi, \xe4\xb8\x96\xe7\x95\x8c" "12  "),
                        "Hi|,| |\xe4\xb8\x96\xe7\x95\x8c|1|2|  ");
    /* names map as documented; unknown names are -1 */
    assert_int_equal(ai__pre_from_name("smollm", 6), AI__PRE_STARCODER);
    assert_int_equal(ai__pre_from_name("command-r", 9), AI__PRE_STARCODER);
    assert_int_equal(ai__pre_from_name("olmo", 4), AI__PRE_GPT2);
    assert_int_equal(ai__pre_from_name("phi-2", 5), AI__PRE_GPT2);
    assert_int_equal(ai__pre_from_name("mpt", 3), AI__PRE_GPT2);
    assert_int_equal(ai__pre_from_name("refact", 6), AI__PRE_STARCODER);
    assert_int_equal(ai__pre_from_name("bogus", 5), -1);
}

/* ---- synthetic vocabularies --------------------------------------------------------- */

typedef struct gw {
    uint8_t *p;
    size_t n, cap;
} gw;

static void put(gw *g, const void *d, size_t n) {
    if (g->n + n > g->cap) {
        g->cap = (g->n + n) * 2;
        g->p = realloc(g->p, g->cap);
        assert_non_null(g->p);
    }
    memcpy(g->p + g->n, d, n);
    g->n += n;
}
static void put_u32(gw *g, uint32_t x) { put(g, &x, 4); }
static void put_u64(gw *g, uint64_t x) { put(g, &x, 8); }
static void put_str(gw *g, const char *s) {
    put_u64(g, strlen(s));
    put(g, s, strlen(s));
}
static void kv_str(gw *g, const char *k, const char *v) {
    put_str(g, k);
    put_u32(g, 8);
    put_str(g, v);
}
static void kv_strs(gw *g, const char *k, const char *const *v, size_t n) {
    put_str(g, k);
    put_u32(g, 9);
    put_u32(g, 8);
    put_u64(g, n);
    for (size_t i = 0; i < n; i++) put_str(g, v[i]);
}
static void kv_i32s(gw *g, const char *k, const int32_t *v, size_t n) {
    put_str(g, k);
    put_u32(g, 9);
    put_u32(g, 5);
    put_u64(g, n);
    put(g, v, 4 * n);
}

/* Writes a vocabulary-only GGUF and loads it. */
static ai_status load_vocab(const char *model, const char *pre, const char *const *toks,
                            size_t nt, const int32_t *types, size_t ntypes,
                            const char *const *merges, size_t nm, ai_model **out) {
    gw g = {0};
    put(&g, "GGUF", 4);
    put_u32(&g, 3);
    put_u64(&g, 0);
    put_u64(&g, 2 + (pre != NULL) + (types != NULL) + (merges != NULL));
    kv_str(&g, "tokenizer.ggml.model", model);
    if (pre) kv_str(&g, "tokenizer.ggml.pre", pre);
    kv_strs(&g, "tokenizer.ggml.tokens", toks, nt);
    if (types) kv_i32s(&g, "tokenizer.ggml.token_type", types, ntypes);
    if (merges) kv_strs(&g, "tokenizer.ggml.merges", merges, nm);
    char path[] = "/tmp/ai_tok_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, g.p, g.n), (ssize_t)g.n);
    close(fd);
    free(g.p);
    char err[256];
    ai_status st = ai_model_load(path, NULL, out, err, sizeof err);
    unlink(path);
    return st;
}

static char logged[512];
static void log_sink(int32_t level, const char *msg, void *ud) {
    (void)level;
    (void)ud;
    size_t o = strlen(logged); /* keep every message */
    snprintf(logged + o, sizeof logged - o, "%s\n", msg);
}

static void test_bpe_synthetic(void **state) {
    (void)state;
    /* byte-level: "\xc4\xa0" is U+0120 "Ġ", the character of the space byte */
    static const char *const toks[] = {"a", "b", "c", "\xc4\xa0", "ab", "abc", "\xc4\xa0" "ab",
                                       "aa", "<|x|>"};
    static const int32_t types[] = {1, 1, 1, 1, 1, 1, 1, 1, 3};
    static const char *const merges[] = {"a b", "ab c", "\xc4\xa0 ab", "a a", "bogus merge"};
    ai_model *m = NULL;
    logged[0] = 0;
    ai_log_set(log_sink, AI_LOG_WARN, NULL);
    assert_int_equal(load_vocab("gpt2", "no-such-pre", toks, 9, types, 9, merges, 5, &m), AI_OK);
    ai_log_set(NULL, 0, NULL);
    assert_non_null(strstr(logged, "no-such-pre")); /* a warning named the fallback */
    assert_int_equal(ai_vocab_size(m), 9);
    int32_t out[16];
    size_t n;
    assert_int_equal(ai_tokenize(m, "abc ab", 6, 0, out, 16, &n), AI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 5);
    assert_int_equal(out[1], 6);
    /* equal ranks merge leftmost first: "aaa" -> "aa" "a" */
    assert_int_equal(ai_tokenize(m, "aaa", 3, 0, out, 16, &n), AI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 7);
    assert_int_equal(out[1], 0);
    /* a byte without a token and no unknown token: dropped, never a crash */
    assert_int_equal(ai_tokenize(m, "z", 1, 0, out, 16, &n), AI_OK);
    assert_int_equal(n, 0);
    /* control token: only with PARSE_SPECIAL */
    assert_int_equal(ai_tokenize(m, "a<|x|>", 6, AI_TOKENIZE_PARSE_SPECIAL, out, 16, &n), AI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[1], 8);
    uint32_t attr;
    assert_int_equal(ai_token_attr(m, 8, &attr), AI_OK);
    assert_true(attr & AI_TOKEN_ATTR_CONTROL);
    int32_t id;
    assert_int_equal(ai_vocab_special(m, AI_SPECIAL_BOS, &id), AI_E_NOT_FOUND);
    ai_model_free(m);
}

static void test_malformed_vocab(void **state) {
    (void)state;
    static const char *const toks[] = {"a", "b"};
    static const int32_t types[] = {1};
    ai_model *m = (ai_model *)1;
    /* token_type of the wrong length */
    assert_int_equal(load_vocab("gpt2", NULL, toks, 2, types, 1, NULL, 0, &m), AI_E_FORMAT);
    assert_null(m);
    /* an unsupported tokenizer model loads without a tokenizer */
    assert_int_equal(load_vocab("t5-unigram-x", NULL, toks, 2, NULL, 0, NULL, 0, &m), AI_OK);
    int32_t out[4];
    size_t n;
    assert_int_equal(ai_tokenize(m, "a", 1, 0, out, 4, &n), AI_E_UNSUPPORTED);
    assert_int_equal(ai_vocab_size(m), 0);
    ai_model_free(m);
}

static void test_wpm_synthetic(void **state) {
    (void)state;
    static const char *const toks[] = {"[UNK]", "[CLS]", "[SEP]", "\xe2\x96\x81" "un",
                                       "aff", "able", "\xe2\x96\x81" "!", "\xe2\x96\x81" "cafe"};
    static const int32_t types[] = {3, 3, 3, 1, 1, 1, 1, 1};
    ai_model *m = NULL;
    assert_int_equal(load_vocab("bert", NULL, toks, 8, types, 8, NULL, 0, &m), AI_OK);
    int32_t out[16];
    size_t n;
    /* "UnAffable!" -> lower-cased, split greedily, punctuation alone, CLS/SEP */
    assert_int_equal(ai_tokenize(m, "UnAffable!", 10, AI_TOKENIZE_ADD_SPECIAL, out, 16, &n), AI_OK);
    int32_t want[] = {1, 3, 4, 5, 6, 2};
    assert_int_equal(n, 6);
    assert_memory_equal(out, want, sizeof want);
    /* accents stripped: "Café" -> "cafe"; an unsplittable word -> [UNK] */
    assert_int_equal(ai_tokenize(m, "Caf\xc3\xa9 zz", 7, 0, out, 16, &n), AI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 7);
    assert_int_equal(out[1], 0);
    char buf[64];
    size_t need;
    assert_int_equal(ai_detokenize(m, want, 6, 0, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "unaffable !");
    ai_model_free(m);
}

/* ---- fixture vocabularies ------------------------------------------------------------- */

static ai_model *fx(const char *name) {
    if (!tu_fixtures()) return NULL;
    char rel[256];
    snprintf(rel, sizeof rel, "vocab/%s.gguf", name);
    ai_model *m = NULL;
    if (ai_model_load(tu_fixture_path(rel), NULL, &m, NULL, 0) != AI_OK) return NULL;
    return m;
}

static int32_t find_token(ai_model *m, const char *text) {
    for (size_t i = 0; i < ai_vocab_size(m); i++) {
        const char *t;
        size_t len;
        assert_int_equal(ai_token_text(m, (int32_t)i, &t, &len), AI_OK);
        if (len == strlen(text) && !memcmp(t, text, len)) return (int32_t)i;
    }
    return -1;
}

static void test_special_tokens(void **state) {
    (void)state;
    ai_model *q = fx("vocab-qwen3");
    if (!q) skip();
    int32_t im_start = find_token(q, "<|im_start|>"), im_end = find_token(q, "<|im_end|>");
    int32_t think = find_token(q, "<think>");
    assert_true(im_start > 0 && im_end > 0 && think > 0);
    const char *s = "<|im_start|>user\nhi<think><|im_end|>";
    int32_t out[64];
    size_t n, n2;
    assert_int_equal(ai_tokenize(q, s, strlen(s), AI_TOKENIZE_PARSE_SPECIAL, out, 64, &n), AI_OK);
    assert_int_equal(out[0], im_start);
    assert_int_equal(out[n - 2], think);
    assert_int_equal(out[n - 1], im_end);
    /* without PARSE_SPECIAL the control tokens are plain text, the
     * user-defined <think> is still one token */
    assert_int_equal(ai_tokenize(q, s, strlen(s), 0, out, 64, &n2), AI_OK);
    assert_true(n2 > n);
    assert_true(out[0] != im_start);
    int has_think = 0;
    for (size_t i = 0; i < n2; i++) has_think |= out[i] == think;
    assert_true(has_think);
    uint32_t attr;
    assert_int_equal(ai_token_attr(q, im_end, &attr), AI_OK);
    assert_true(attr & AI_TOKEN_ATTR_EOG);
    int32_t id;
    assert_int_equal(ai_vocab_special(q, AI_SPECIAL_EOS, &id), AI_OK);
    assert_int_equal(id, im_end);
    /* rendering control tokens */
    char buf[64];
    size_t need;
    assert_int_equal(ai_token_to_piece(q, im_start, 0, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "");
    assert_int_equal(ai_token_to_piece(q, im_start, AI_DETOKENIZE_RENDER_SPECIAL, buf,
                                       sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "<|im_start|>");
    ai_model_free(q);
}

static void test_add_special(void **state) {
    (void)state;
    ai_model *spm = fx("ggml-vocab-llama-spm"), *bert = fx("ggml-vocab-bert-bge");
    ai_model *l3 = fx("vocab-llama3"), *g2 = fx("ggml-vocab-gpt-2");
    if (!spm || !bert || !l3 || !g2) skip();
    int32_t out[16];
    size_t n;
    /* Llama 2: BOS, "▁Hello" */
    assert_int_equal(ai_tokenize(spm, "Hello", 5, AI_TOKENIZE_ADD_SPECIAL, out, 16, &n), AI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 15043);
    /* empty text: only BOS (SentencePiece adds no space prefix to nothing) */
    assert_int_equal(ai_tokenize(spm, "", 0, AI_TOKENIZE_ADD_SPECIAL, out, 16, &n), AI_OK);
    assert_int_equal(n, 1);
    /* BERT: [CLS] hello [SEP] */
    assert_int_equal(ai_tokenize(bert, "Hello", 5, AI_TOKENIZE_ADD_SPECIAL, out, 16, &n), AI_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 101);
    assert_int_equal(out[1], 7592);
    assert_int_equal(out[2], 102);
    /* Llama 3: <|begin_of_text|>; GPT-2 has no add_bos flag: nothing added */
    assert_int_equal(ai_tokenize(l3, "Hello", 5, AI_TOKENIZE_ADD_SPECIAL, out, 16, &n), AI_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 128000);
    assert_int_equal(ai_tokenize(g2, "Hello", 5, AI_TOKENIZE_ADD_SPECIAL, out, 16, &n), AI_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 15496);
    /* buffer rules */
    assert_int_equal(ai_tokenize(l3, "Hello world", 11, 0, out, 1, &n), AI_E_RANGE);
    assert_int_equal(n, 2);
    assert_int_equal(ai_tokenize(l3, "Hello world", 11, 0, NULL, 0, &n), AI_E_RANGE);
    assert_int_equal(n, 2);
    assert_int_equal(ai_tokenize(l3, NULL, 3, 0, out, 16, &n), AI_E_INVAL);
    assert_int_equal(ai_tokenize(l3, "x", 1, 0x100, out, 16, &n), AI_E_INVAL);
    assert_int_equal(ai_tokenize(NULL, "x", 1, 0, out, 16, &n), AI_E_INVAL);
    char buf[8];
    size_t need;
    assert_int_equal(ai_token_to_piece(l3, 9906, 0, buf, 2, &need), AI_E_RANGE);
    assert_int_equal(ai_token_to_piece(l3, 9906, 0, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "Hello");
    assert_int_equal(need, 6);
    assert_int_equal(ai_token_to_piece(l3, 1 << 30, 0, buf, sizeof buf, &need), AI_E_INVAL);
    /* invalid UTF-8: each bad byte is U+FFFD */
    int32_t a[16], b[16];
    size_t na, nb;
    assert_int_equal(ai_tokenize(g2, "a\xff" "b", 3, 0, a, 16, &na), AI_OK);
    assert_int_equal(ai_tokenize(g2, "a\xef\xbf\xbd" "b", 5, 0, b, 16, &nb), AI_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof *a);
    ai_model_free(spm);
    ai_model_free(bert);
    ai_model_free(l3);
    ai_model_free(g2);
}

static int valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        int k = ai__utf8_check((const uint8_t *)s + i, n - i);
        if (k <= 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

static void test_stream(void **state) {
    (void)state;
    ai_model *spm = fx("ggml-vocab-llama-spm");
    if (!spm) skip();
    /* the llama byte-falls back on 🦙: four <0xXX> tokens */
    const char *s = "Hi \xf0\x9f\xa6\x99 ok \xe4\xbd\xa0";
    int32_t t[64];
    size_t n;
    assert_int_equal(ai_tokenize(spm, s, strlen(s), 0, t, 64, &n), AI_OK);
    ai_detokenizer *d;
    assert_int_equal(ai_detokenizer_new(spm, 0, &d), AI_OK);
    char all[256] = "", buf[64];
    size_t need;
    int held_back = 0;
    for (size_t i = 0; i < n; i++) {
        ai_status st = ai_detokenizer_push(d, t[i], buf, 1, &need);
        if (st == AI_E_RANGE) { /* not consumed: retry with room */
            assert_true(need > 1);
            st = ai_detokenizer_push(d, t[i], buf, sizeof buf, &need);
        }
        assert_int_equal(st, AI_OK);
        assert_true(valid_utf8(buf, need - 1));
        uint32_t attr;
        assert_int_equal(ai_token_attr(spm, t[i], &attr), AI_OK);
        if ((attr & AI_TOKEN_ATTR_BYTE) && need == 1) held_back = 1;
        strcat(all, buf);
    }
    assert_int_equal(ai_detokenizer_flush(d, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "");
    assert_true(held_back);
    assert_string_equal(all, s);
    /* an incomplete character at the end becomes U+FFFD per byte */
    int32_t b0 = 3 + 0xF0, b1 = 3 + 0x9F; /* <0xF0> <0x9F> */
    assert_int_equal(ai_detokenizer_push(d, b0, buf, sizeof buf, &need), AI_OK);
    assert_int_equal(ai_detokenizer_push(d, b1, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "");
    assert_int_equal(ai_detokenizer_flush(d, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "\xef\xbf\xbd\xef\xbf\xbd");
    /* a stray continuation byte is replaced at once */
    assert_int_equal(ai_detokenizer_push(d, 3 + 0x80, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "\xef\xbf\xbd");
    assert_int_equal(ai_detokenizer_push(d, -1, buf, sizeof buf, &need), AI_E_INVAL);
    ai_detokenizer_free(d);
    ai_detokenizer_free(NULL);
    ai_model_free(spm);
}

static size_t rand_utf8(uint64_t *rs, char *out, size_t max_cps) {
    size_t n = 0, k = tu_rand(rs) % (max_cps + 1);
    for (size_t i = 0; i < k; i++) {
        uint32_t c;
        switch (tu_rand(rs) % 4) {
        case 0: c = (uint32_t)(tu_rand(rs) % 128); break;
        case 1: c = 0x80 + (uint32_t)(tu_rand(rs) % 0x780); break;
        case 2: c = 0x800 + (uint32_t)(tu_rand(rs) % 0xF800); break;
        default: c = 0x10000 + (uint32_t)(tu_rand(rs) % 0x100000); break;
        }
        if ((c >= 0xD800 && c <= 0xDFFF) || c == 0x2581) c = 'x';
        n += ai__utf8_encode(c, out + n);
    }
    return n;
}

static void test_random(void **state) {
    (void)state;
    static const char *const names[] = {"ggml-vocab-llama-spm", "ggml-vocab-gpt-2",
                                        "ggml-vocab-bert-bge", "vocab-qwen3", "vocab-llama3"};
    uint64_t rs = 0x5eed;
    for (int v = 0; v < 5; v++) {
        ai_model *m = fx(names[v]);
        if (!m) skip();
        int lossless = v == 0 || v == 1 || v == 4;
        for (int iter = 0; iter < 300; iter++) {
            char text[1024];
            size_t len;
            int valid = iter % 2;
            if (valid) len = rand_utf8(&rs, text, 60);
            else {
                len = tu_rand(&rs) % 200;
                for (size_t i = 0; i < len; i++) text[i] = (char)tu_rand(&rs);
            }
            uint32_t flags = (uint32_t)((iter / 2) % 4);
            size_t cap = 3 * len + 3, n;
            int32_t *t = malloc(cap * sizeof *t);
            assert_int_equal(ai_tokenize(m, text, len, flags, t, cap, &n), AI_OK);
            for (size_t i = 0; i < n; i++) assert_true(t[i] >= 0 && (size_t)t[i] < ai_vocab_size(m));
            size_t need;
            ai_status st = ai_detokenize(m, t, n, 0, NULL, 0, &need);
            assert_int_equal(st, AI_E_RANGE);
            char *back = malloc(need);
            assert_int_equal(ai_detokenize(m, t, n, 0, back, need, &need), AI_OK);
            if (lossless && valid && flags == 0) {
                if (need - 1 != len || memcmp(back, text, len))
                    fail_msg("%s: round trip failed for a random string of %zu bytes",
                             names[v], len);
            }
            free(back);
            free(t);
        }
        ai_model_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pre_gpt2),       cmocka_unit_test(test_pre_llama3),
        cmocka_unit_test(test_pre_others),     cmocka_unit_test(test_bpe_synthetic),
        cmocka_unit_test(test_malformed_vocab), cmocka_unit_test(test_wpm_synthetic),
        cmocka_unit_test(test_special_tokens), cmocka_unit_test(test_add_special),
        cmocka_unit_test(test_stream),         cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
