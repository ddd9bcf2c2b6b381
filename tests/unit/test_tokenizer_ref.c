/* test_tokenizer_ref.c - byte-level BPE (lib/tok_bpe.c: heap for long words, a scan
 * for short ones, per-call word and pair caches, a Bloom filter over the
 * merges) against tools/bpe_ref.py, a plain textbook BPE in Python, on random
 * text with long runs of letters (so that the heap path runs) for the GPT-2,
 * Llama 3 and Qwen 3 vocabularies of the fixtures; SentencePiece
 * (lib/tok_spm.c: heap, segments split at wall characters) against
 * tools/spm_ref.py the same way for the Llama 2 vocabulary, and WordPiece
 * (lib/tok_wpm.c) against tools/wpm_ref.py for BGE.  The last string
 * joins the first others with spaces (just over 8 kB), so that one call sees
 * repeated words and pairs and the per-call caches are used.
 * Skipped without the fixtures or without python3 and its `regex` module. */
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

#define N_STRINGS 300

/* Characters NFC leaves alone in Python's (older) Unicode tables too. */
static const uint32_t pool[] = {
    'a', 'b', 'e', 'n', 'o', 's', 't', 'x', 'A', 'Z', ' ', ' ', ' ', ' ', '\n', '\t', '0',
    '5', '9', '\'', '.', ',', '!', '-', '_', '(', ')', '{', '}', '=', '<', '>', '#', '/',
    0xE9, 0xFC, 0xDF, 0x43D, 0x431, 0x3BA, 0x4F60, 0x597D, 0x4E16, 0x754C, 0x7684, 0x662F,
    0x3053, 0x3093, 0xC548, 0xB155, 0x1F999, 0x1F600, 0x2705, 0x3002, 0xFF0C, 0xA0, 0x3000,
    0xC4, 0x1EC7, 0x301, 0x130, 0x7, 0x200B, 0x2028, 0x85, 0xFFFD, 0x24, 0x5E, 0x7E, 0xAB, 0x2019,
};

static void run_vocab(const char *name, const char *tool) {
    char rel[256];
    snprintf(rel, sizeof rel, "vocab/%s.gguf", name);
    ai_model *m = NULL;
    if (ai_model_load(tu_fixture_path(rel), NULL, &m, NULL, 0) != AI_OK) skip();
    char in[] = "/tmp/ai_bpe_in_XXXXXX", out[] = "/tmp/ai_bpe_out_XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out);
    assert_true(fi >= 0 && fo >= 0);
    close(fo);
    FILE *f = fdopen(fi, "wb");
    static char text[N_STRINGS][1024];
    static size_t lens[N_STRINGS];
    static char big[N_STRINGS * 1024];
    size_t big_len = 0;
    uint64_t rs = 0xb9e;
    for (int i = 0; i < N_STRINGS - 1; i++) {
        size_t n = 0, k = tu_rand(&rs) % 120;
        for (size_t j = 0; j < k; j++) {
            uint32_t c = pool[tu_rand(&rs) % (sizeof pool / sizeof pool[0])];
            /* runs: repeat a letter-ish character to make long words */
            size_t rep = (tu_rand(&rs) % 8 == 0) ? 1 + tu_rand(&rs) % 30 : 1;
            for (size_t r = 0; r < rep && n + 4 < sizeof text[i]; r++)
                n += ai__utf8_encode(c, text[i] + n);
        }
        lens[i] = n;
        fwrite(text[i], 1, n, f);
        fputc(0, f);
        if (big_len < 8192) { /* the Python side is quadratic: keep it short */
            memcpy(big + big_len, text[i], n);
            big_len += n;
            big[big_len++] = ' ';
        }
    }
    fwrite(big, 1, big_len, f);
    fputc(0, f);
    assert_true(big_len > 4096);
    fclose(f);
    char cmd[8192];
    const char *root = getenv("ROOT");
    snprintf(cmd, sizeof cmd, "python3 %s/tools/%s %s %s %s 2>/dev/null", root ? root : ".",
             tool, tu_fixture_path(rel), in, out);
    int rc = system(cmd);
    unlink(in);
    if (rc != 0) {
        unlink(out);
        ai_model_free(m);
        printf("python3 with the regex module is not available\n");
        skip();
    }
    size_t len;
    char *want = tu_read_file(out, &len);
    unlink(out);
    assert_non_null(want);
    char *line = want;
    int bad = 0;
    for (int i = 0; i < N_STRINGS; i++) {
        char *eol = strchr(line, '\n');
        assert_non_null(eol);
        *eol = 0;
        static int32_t w[1 << 16], got[1 << 16];
        size_t nw = 0, n;
        int last = i == N_STRINGS - 1;
        for (char *q = line; *q;) {
            char *e;
            long x = strtol(q, &e, 10);
            if (e == q) break;
            if (nw < (1 << 16)) w[nw++] = (int32_t)x;
            q = e;
        }
        assert_int_equal(ai_tokenize(m, last ? big : text[i], last ? big_len : lens[i], 0, got,
                                     1 << 16, &n), AI_OK);
        if (n != nw || memcmp(got, w, n * sizeof *got)) {
            if (bad++ < 3) printf("%s: string %d differs from the textbook BPE\n", name, i);
        }
        line = eol + 1;
    }
    printf("%s: %d strings, %d differ\n", name, N_STRINGS, bad);
    assert_int_equal(bad, 0);
    free(want);
    ai_model_free(m);
}

static void test_gpt2(void **s) {
    (void)s;
    if (!tu_fixtures()) skip();
    run_vocab("ggml-vocab-gpt-2", "bpe_ref.py");
}
static void test_llama3(void **s) {
    (void)s;
    if (!tu_fixtures()) skip();
    run_vocab("vocab-llama3", "bpe_ref.py");
}
static void test_qwen3(void **s) {
    (void)s;
    if (!tu_fixtures()) skip();
    run_vocab("vocab-qwen3", "bpe_ref.py");
}
static void test_wpm(void **s) {
    (void)s;
    if (!tu_fixtures()) skip();
    run_vocab("ggml-vocab-bert-bge", "wpm_ref.py");
}
static void test_spm(void **s) {
    (void)s;
    if (!tu_fixtures()) skip();
    run_vocab("ggml-vocab-llama-spm", "spm_ref.py");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpt2), cmocka_unit_test(test_llama3), cmocka_unit_test(test_qwen3),
        cmocka_unit_test(test_spm), cmocka_unit_test(test_wpm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
