/* test_pretok_regex.c - the hand-written pre-tokenizer matchers (lib/tok_pre.c)
 * against a real regex engine: random strings from a pool of tricky
 * characters (contractions, every kind of whitespace, marks, digits of
 * several scripts, CJK, emoji, full-width punctuation, characters that
 * case-fold oddly) are split by tools/pretok_regex.py with Python's `regex`
 * module and by ai__pretokenize; every piece must agree.  Skipped when
 * python3 or its `regex` module is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "unicode.h"
#include "vocab.h"

#define N_STRINGS 4000

static const uint32_t pool[] = {
    'a', 'b', 'c', 'X', 'Y', 'Z', '\'', 's', 'S', 't', 'T', 'm', 'M', 'd', 'D', 'l', 'L', 'r',
    'R', 'e', 'E', 'v', 'V', '0', '1', '2', '3', '7', '9', ' ', ' ', ' ', ' ', '.', ',', '!',
    '?', ';', ':', '-', '_', '(', ')', '[', ']', '{', '}', '<', '>', '=', '+', '*', '/', '\\',
    '"', '#', '$', '%', '&', '@', '^', '`', '|', '~', '\t', '\n', '\r', '\n', 0x0B, 0x0C,
    0xA0, 0x3000, 0x2028, 0x85, 0x200B, 0x2009, 0xE9, 0xE8, 0xFC, 0xDF, 0xF1, 0xE7, 0xC6,
    0xF8, 0x130, 0x131, 0x17F, 0x301, 0x300, 0x43D, 0x435, 0x449, 0x411, 0x3BA, 0x3CC,
    0x3A9, 0x2126, 0x212A, 0x1FBE, 0x4F60, 0x597D, 0x4E16, 0x754C, 0x6211, 0x5929, 0x9FA5,
    0x9FA6, 0x3053, 0x30AB, 0xC548, 0xB155, 0xD7A3, 0x661, 0x662, 0xBD, 0xB2, 0x2167,
    0x2460, 0x1F999, 0x1F680, 0x1F601, 0x2705, 0x200D, 0xFE0F, 0xFF0C, 0x3002, 0xFF01,
    0xFF5E, 0x300C, 0x2014, 0x2026, 0x2018, 0x201C, 0x2102, 0xFF21, 0xFF5A, 0x10400,
    0x1E900, 0x800, 0xB5,
};

/* Hand-picked strings first (UTF-8), then random ones. */
static const char *const picked[] = {
    "'\xc5\xbf\xe5\xa4\xa9", "'\xc5\xbfx", "I'M 'RE 'Ll 'vE", "'''s", "a  \n\n b  ",
    "  \t\n x", "x\r\n\r\ny", "...\n\n\nz", " 1234567 ", "\xe3\x80\x80\xe3\x80\x80" "a",
    "\xef\xbc\x81\xef\xbc\x81 x", "e\xcc\x81\xcc\x81", "$+<=>^~|`", "a\xc2\xa0 b",
};

static void test_against_regex(void **state) {
    (void)state;
    const char *root = getenv("ROOT");
    char in[] = "/tmp/ai_pretok_in_XXXXXX", out[] = "/tmp/ai_pretok_out_XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out);
    assert_true(fi >= 0 && fo >= 0);
    close(fo);
    FILE *f = fdopen(fi, "wb");
    assert_non_null(f);
    /* the strings, kept as code points for our side */
    static uint32_t cps[N_STRINGS][80];
    static size_t lens[N_STRINGS];
    uint64_t rs = 0x7e57;
    const int n_picked = (int)(sizeof picked / sizeof picked[0]);
    for (int i = 0; i < N_STRINGS; i++) {
        if (i < n_picked) {
            ai__u32vec v = {0};
            ai__utf8_to_cps(picked[i], strlen(picked[i]), &v);
            lens[i] = v.n;
            memcpy(cps[i], v.p, v.n * sizeof *v.p);
            ai__u32vec_free(&v);
            fwrite(picked[i], 1, strlen(picked[i]), f);
            fputc(0, f);
            continue;
        }
        lens[i] = tu_rand(&rs) % (i < N_STRINGS - 100 ? 26 : 80);
        for (size_t k = 0; k < lens[i]; k++) {
            cps[i][k] = pool[tu_rand(&rs) % (sizeof pool / sizeof pool[0])];
            char u[4];
            fwrite(u, 1, ai__utf8_encode(cps[i][k], u), f);
        }
        fputc(0, f);
    }
    fclose(f);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "python3 %s/tools/pretok_regex.py %s %s 2>/dev/null",
             root ? root : ".", in, out);
    int rc = system(cmd);
    unlink(in);
    if (rc != 0) {
        unlink(out);
        printf("python3 with the regex module is not available\n");
        skip();
    }
    size_t len;
    char *want = tu_read_file(out, &len);
    unlink(out);
    assert_non_null(want);
    size_t pos = 0, bad = 0;
    for (int pre = 0; pre <= AI__PRE_DEEPSEEK_CODER; pre++) {
        for (int i = 0; i < N_STRINGS; i++) {
            ai__u32vec ends = {0};
            ai__pretokenize(pre, cps[i], lens[i], &ends);
            char got[1024];
            size_t g = 0, b = 0;
            for (size_t k = 0; k < ends.n; k++) {
                if (k) got[g++] = 1;
                for (size_t j = b; j < ends.p[k]; j++) g += ai__utf8_encode(cps[i][j], got + g);
                b = ends.p[k];
            }
            ai__u32vec_free(&ends);
            assert_true(pos < len);
            size_t wl = strlen(want + pos);
            if (wl != g || memcmp(want + pos, got, g)) {
                if (bad++ < 5) printf("pre %d, string %d differs from the regex engine\n", pre, i);
            }
            pos += wl + 1;
        }
    }
    free(want);
    printf("%d strings x %d pre-tokenizers, %zu differ\n", N_STRINGS, AI__PRE_DEEPSEEK_CODER + 1,
           bad);
    assert_int_equal(bad, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_regex)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
