/* test_tokenizer.c - the tokenizers against the peer fixtures
 * (../shared/fixtures/vocab: every string of X.gguf.inp must give exactly
 * the ids of the matching line of X.gguf.out), round trips, special tokens,
 * buffer rules, the streaming detokenizer and random input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentinfer.h"
#include "testutil.h"

static const char *const vocabs[] = {
    "ggml-vocab-llama-spm", "ggml-vocab-gpt-2", "ggml-vocab-bert-bge", "vocab-qwen3",
    "vocab-llama3",
};
enum { V_SPM, V_GPT2, V_BERT, V_QWEN3, V_LLAMA3, N_VOCABS };
static ai_model *models[N_VOCABS];

static int setup(void **state) {
    (void)state;
    if (!tu_fixtures()) return 0;
    for (int i = 0; i < N_VOCABS; i++) {
        char rel[256], err[256];
        snprintf(rel, sizeof rel, "vocab/%s.gguf", vocabs[i]);
        ai_status st = ai_model_load(tu_fixture_path(rel), NULL, &models[i], err, sizeof err);
        if (st != AI_OK) {
            printf("load %s: %s\n", rel, err);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < N_VOCABS; i++) ai_model_free(models[i]);
    return 0;
}

#define NEED_MODELS()                                                                          \
    do {                                                                                       \
        if (!models[0]) skip();                                                                \
    } while (0)

/* Tokenizes into a malloc'd array. */
static int32_t *tok(ai_model *m, const char *s, size_t len, uint32_t flags, size_t *n) {
    size_t cap = 3 * len + 3;
    int32_t *out = malloc(cap * sizeof *out);
    assert_non_null(out);
    assert_int_equal(ai_tokenize(m, s, len, flags, out, cap, n), AI_OK);
    return out;
}

static char *detok(ai_model *m, const int32_t *t, size_t n, uint32_t flags, size_t *len) {
    size_t need = 0;
    ai_status st = ai_detokenize(m, t, n, flags, NULL, 0, &need);
    assert_int_equal(st, AI_E_RANGE);
    char *buf = malloc(need);
    assert_non_null(buf);
    assert_int_equal(ai_detokenize(m, t, n, flags, buf, need, &need), AI_OK);
    *len = need - 1;
    return buf;
}

/* Splits the .inp file on "\n__ggml_vocab_test__\n" (every string, the last
 * included, is followed by the separator) and checks each against its line of
 * the .out file.  Also checks the round trip where the tokenizer is lossless. */
static void check_vocab(int vi) {
    char rel[256];
    snprintf(rel, sizeof rel, "vocab/%s.gguf.inp", vocabs[vi]);
    size_t inp_len, out_len;
    char *inp = tu_read_file(tu_fixture_path(rel), &inp_len);
    snprintf(rel, sizeof rel, "vocab/%s.gguf.out", vocabs[vi]);
    char *outs = tu_read_file(tu_fixture_path(rel), &out_len);
    assert_non_null(inp);
    assert_non_null(outs);
    static const char sep[] = "\n__ggml_vocab_test__\n";
    char *p = inp, *line = outs;
    int cases = 0, pass = 0, rt_cases = 0, rt_pass = 0;
    for (;;) {
        char *end = strstr(p, sep);
        if (!end) break;
        char *eol = strchr(line, '\n');
        assert_non_null(eol);
        *eol = 0;
        int32_t want[4096];
        size_t nw = 0;
        for (char *q = line; *q;) {
            char *e;
            long x = strtol(q, &e, 10);
            if (e == q) break;
            want[nw++] = (int32_t)x;
            q = e;
        }
        size_t n;
        int32_t *got = tok(models[vi], p, (size_t)(end - p), 0, &n);
        cases++;
        if (n == nw && !memcmp(got, want, n * sizeof *got)) pass++;
        else {
            printf("%s case %d: '%.*s'\n  want:", vocabs[vi], cases, (int)(end - p), p);
            for (size_t i = 0; i < nw; i++) printf(" %d", want[i]);
            printf("\n  got: ");
            for (size_t i = 0; i < n; i++) printf(" %d", got[i]);
            printf("\n");
        }
        if (vi != V_BERT) {
            /* lossless: SentencePiece and byte-level BPE (Qwen's NFC aside:
             * the fixture's decomposed-accent strings are not in NFC) */
            size_t dl;
            char *back = detok(models[vi], got, n, 0, &dl);
            int nfc_case = vi == V_QWEN3 && cases > 92;
            if (!nfc_case) {
                rt_cases++;
                if (dl == (size_t)(end - p) && !memcmp(back, p, dl)) rt_pass++;
                else printf("%s round trip %d: '%s'\n", vocabs[vi], cases, back);
            }
            free(back);
        }
        free(got);
        p = end + sizeof sep - 1;
        line = eol + 1;
    }
    printf("%s: %d/%d cases exact, round trip %d/%d\n", vocabs[vi], pass, cases, rt_pass,
           rt_cases);
    assert_true(cases > 40);
    assert_int_equal(pass, cases);
    assert_int_equal(rt_pass, rt_cases);
    free(inp);
    free(outs);
}

static void test_spm(void **s) { (void)s; NEED_MODELS(); check_vocab(V_SPM); }
static void test_gpt2(void **s) { (void)s; NEED_MODELS(); check_vocab(V_GPT2); }
static void test_bert(void **s) { (void)s; NEED_MODELS(); check_vocab(V_BERT); }
static void test_qwen3(void **s) { (void)s; NEED_MODELS(); check_vocab(V_QWEN3); }
static void test_llama3(void **s) { (void)s; NEED_MODELS(); check_vocab(V_LLAMA3); }

/* ---- refs/MODEL.pN.json: the peer's tokens of a prompt, special tokens added ---- */

/* Decodes the JSON string starting after the opening quote at *p into out
 * (UTF-8); returns its length, or -1. */
static long json_string(const char *p, char *out, size_t cap) {
    size_t n = 0;
    while (*p && *p != '"') {
        uint32_t c = (unsigned char)*p++;
        if (c == '\\') {
            char e = *p++;
            if (e == 'n') c = '\n';
            else if (e == 't') c = '\t';
            else if (e == 'r') c = '\r';
            else if (e == 'b') c = '\b';
            else if (e == 'f') c = '\f';
            else if (e == 'u') {
                c = (uint32_t)strtoul((char[5]){p[0], p[1], p[2], p[3], 0}, NULL, 16);
                p += 4;
                if (c >= 0xD800 && c < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
                    uint32_t lo = (uint32_t)strtoul((char[5]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
                    c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
                char u[4];
                int k = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
                if (k == 1) u[0] = (char)c;
                else if (k == 2) { u[0] = (char)(0xC0 | c >> 6); u[1] = (char)(0x80 | (c & 63)); }
                else if (k == 3) {
                    u[0] = (char)(0xE0 | c >> 12); u[1] = (char)(0x80 | ((c >> 6) & 63));
                    u[2] = (char)(0x80 | (c & 63));
                } else {
                    u[0] = (char)(0xF0 | c >> 18); u[1] = (char)(0x80 | ((c >> 12) & 63));
                    u[2] = (char)(0x80 | ((c >> 6) & 63)); u[3] = (char)(0x80 | (c & 63));
                }
                if (n + (size_t)k > cap) return -1;
                memcpy(out + n, u, (size_t)k);
                n += (size_t)k;
                continue;
            } else c = (unsigned char)e; /* \" \\ \/ */
        }
        if (n + 1 > cap) return -1;
        out[n++] = (char)c;
    }
    return *p == '"' ? (long)n : -1;
}

static void test_refs(void **state) {
    (void)state;
    if (!tu_fixtures()) skip();
    static const char *const models_[] = {"llama-f16", "llama-q8_0", "llama-q4_0", "llama-q4_k_m",
                                          "llama-q6_k", "qwen2-f16", "qwen2-q8_0", "qwen3-f16",
                                          "qwen3-q4_k_m"};
    int checked = 0;
    for (size_t mi = 0; mi < sizeof models_ / sizeof models_[0]; mi++) {
        char rel[256];
        snprintf(rel, sizeof rel, "models/%s.gguf", models_[mi]);
        ai_model *m = NULL;
        if (ai_model_load(tu_fixture_path(rel), NULL, &m, NULL, 0) != AI_OK) continue;
        for (int pi = 0; pi < 4; pi++) {
            snprintf(rel, sizeof rel, "refs/%s.p%d.json", models_[mi], pi);
            size_t len;
            char *js = tu_read_file(tu_fixture_path(rel), &len);
            if (!js) continue;
            char *pp = strstr(js, "\"prompt\":\""), *tp = strstr(js, "\"tokens\":[");
            assert_non_null(pp);
            assert_non_null(tp);
            static char prompt[65536];
            long pl = json_string(pp + 10, prompt, sizeof prompt);
            assert_true(pl >= 0);
            int32_t want[8192];
            size_t nw = 0;
            for (char *q = tp + 10; *q && *q != ']' && nw < 8192;) {
                char *e;
                long x = strtol(q, &e, 10);
                if (e == q) break;
                want[nw++] = (int32_t)x;
                q = e;
                if (*q == ',') q++;
            }
            size_t n;
            int32_t *got = tok(m, prompt, (size_t)pl, AI_TOKENIZE_ADD_SPECIAL, &n);
            if (n != nw || memcmp(got, want, n * sizeof *got))
                fail_msg("%s: tokens differ from the peer's", rel);
            checked++;
            free(got);
            free(js);
        }
        ai_model_free(m);
    }
    printf("refs: %d prompts match the peer's tokens\n", checked);
    if (!checked) skip();
}


/* ---- one model, several threads ------------------------------------------------ */

#include <pthread.h>

typedef struct thr_arg {
    ai_model *m;
    const char *text;
    size_t len;
    const int32_t *want;
    size_t n_want;
    int ok;
} thr_arg;

static void *thr_main(void *p) {
    thr_arg *a = p;
    a->ok = 1;
    for (int r = 0; r < 50; r++) {
        int32_t out[512];
        size_t n;
        if (ai_tokenize(a->m, a->text, a->len, AI_TOKENIZE_ADD_SPECIAL, out, 512, &n) != AI_OK ||
            n != a->n_want || memcmp(out, a->want, n * sizeof *out))
            a->ok = 0;
    }
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    NEED_MODELS();
    /* the model is read-only after load: four threads tokenizing at once
     * must each get what one thread gets */
    static const char *const texts[] = {
        "Hello, y'all! How are you \xf0\x9f\x98\x81 ?\xe6\x88\x91\xe6\x83\xb3\xe5\x9c\xa8 apple",
        "def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\n",
        "r\xc3\xa9sum\xc3\xa9 na\xc3\xafve Gr\xc3\xb6\xc3\x9f" "e 3333333",
        "   leading spaces and\ttabs\n\n\nnewlines   ",
    };
    for (int vi = 0; vi < N_VOCABS; vi++) {
        thr_arg args[4];
        pthread_t th[4];
        int32_t want[4][512];
        for (int k = 0; k < 4; k++) {
            size_t n;
            assert_int_equal(ai_tokenize(models[vi], texts[k], strlen(texts[k]),
                                         AI_TOKENIZE_ADD_SPECIAL, want[k], 512, &n), AI_OK);
            args[k] = (thr_arg){models[vi], texts[k], strlen(texts[k]), want[k], n, 0};
        }
        for (int k = 0; k < 4; k++) assert_int_equal(pthread_create(&th[k], NULL, thr_main, &args[k]), 0);
        for (int k = 0; k < 4; k++) {
            pthread_join(th[k], NULL);
            assert_true(args[k].ok);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spm),   cmocka_unit_test(test_gpt2),
        cmocka_unit_test(test_bert),  cmocka_unit_test(test_qwen3),
        cmocka_unit_test(test_llama3), cmocka_unit_test(test_refs),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
