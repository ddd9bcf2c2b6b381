/* test_unicode.c - UTF-8 decoding rule, categories, lowercase, NFD/NFC.
 * The normalization test also runs the whole of the Unicode consortium's
 * NormalizationTest.txt when the Debian unicode-data package is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

static void test_utf8_rule(void **state) {
    (void)state;
    /* valid sequences of each length */
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\xa6\x99";
    ai__u32vec v = {0};
    ai__utf8_to_cps(s, strlen(s), &v);
    assert_int_equal(v.n, 4);
    assert_int_equal(v.p[0], 'a');
    assert_int_equal(v.p[1], 0xE9);
    assert_int_equal(v.p[2], 0x20AC);
    assert_int_equal(v.p[3], 0x1F999);
    ai__u32vec_free(&v);
    /* each invalid byte is one U+FFFD: stray continuation, overlong C0 80,
     * surrogate ED A0 80, F5, truncated E2 82 before 'x' */
    const char *bad = "\x80\xc0\x80\xed\xa0\x80\xf5\xe2\x82x";
    ai__utf8_to_cps(bad, strlen(bad), &v);
    assert_int_equal(v.n, 10);
    for (size_t i = 0; i < 9; i++) assert_int_equal(v.p[i], 0xFFFD);
    assert_int_equal(v.p[9], 'x');
    ai__u32vec_free(&v);
    /* check() tells a proper prefix from garbage */
    assert_int_equal(ai__utf8_check((const uint8_t *)"\xf0\x9f", 2), 0);
    assert_int_equal(ai__utf8_check((const uint8_t *)"\xf0\x9f\xa6\x99", 4), 4);
    assert_int_equal(ai__utf8_check((const uint8_t *)"\xf0\x20", 2), -1);
    char buf[4];
    assert_int_equal(ai__utf8_encode(0x1F999, buf), 4);
    assert_memory_equal(buf, "\xf0\x9f\xa6\x99", 4);
}

static void test_categories(void **state) {
    (void)state;
    assert_true(ai__uc_is_letter('A'));
    assert_true(ai__uc_is_letter(0x4F60));   /* 你 Lo */
    assert_true(ai__uc_is_letter(0x0431));   /* б */
    assert_false(ai__uc_is_letter('1'));
    assert_true(ai__uc_is_number('7'));
    assert_true(ai__uc_is_number(0xBD));     /* ½ No */
    assert_true(ai__uc_is_number(0x2167));   /* Ⅷ Nl */
    assert_true(ai__uc_is_punct('!'));
    assert_true(ai__uc_is_punct(0x3002));    /* 。 */
    assert_false(ai__uc_is_punct('$'));
    assert_true(ai__uc_is_symbol('$'));
    assert_true(ai__uc_is_symbol(0x1F999));  /* 🦙 So */
    assert_true(ai__uc_is_mark(0x0301));
    assert_int_equal(ai__uc_ccc(0x0301), 230);
    assert_int_equal(ai__uc_ccc(0x0327), 202);
    assert_true(ai__uc_is_space(' '));
    assert_true(ai__uc_is_space(0x3000));
    assert_true(ai__uc_is_space(0x85));
    assert_true(ai__uc_is_space(0x2029));
    assert_false(ai__uc_is_space(0x200B));   /* ZWSP is not White_Space */
    assert_int_equal(ai__uc_gc(0x9FFF), AI__GC_LO);  /* inside a First/Last range */
    assert_int_equal(ai__uc_gc(0x10FFFF), AI__GC_CN);
    assert_int_equal(ai__uc_gc(0x110000), AI__GC_CN);
    assert_int_equal(ai__uc_gc(0xE000), AI__GC_CO);
    assert_int_equal(ai__uc_tolower('Q'), 'q');
    assert_int_equal(ai__uc_tolower(0x0411), 0x0431);   /* Б -> б */
    assert_int_equal(ai__uc_tolower(0x1E9E), 0xDF);     /* ẞ -> ß */
    assert_int_equal(ai__uc_tolower(0x4F60), 0x4F60);
}

static int norm_eq(int nfc, const uint32_t *in, size_t n, const uint32_t *want, size_t wn) {
    ai__u32vec v = {0};
    if (nfc) ai__uc_nfc(in, n, &v);
    else ai__uc_nfd(in, n, &v);
    int ok = !v.oom && v.n == wn && (wn == 0 || !memcmp(v.p, want, wn * 4));
    ai__u32vec_free(&v);
    return ok;
}

static void test_norm_hand(void **state) {
    (void)state;
    uint32_t e_acute[] = {'e', 0x301}, e1[] = {0xE9};
    assert_true(norm_eq(1, e_acute, 2, e1, 1));
    assert_true(norm_eq(0, e1, 1, e_acute, 2));
    /* ệ: e + dot below (220) + circumflex (230) in either order -> U+1EC7 */
    uint32_t a[] = {'e', 0x302, 0x323}, b[] = {'e', 0x323, 0x302}, r[] = {0x1EC7};
    assert_true(norm_eq(1, a, 3, r, 1));
    assert_true(norm_eq(1, b, 3, r, 1));
    uint32_t rd[] = {'e', 0x323, 0x302};
    assert_true(norm_eq(0, r, 1, rd, 3));
    /* Hangul: 한 = U+D55C <-> 1112 1161 11AB */
    uint32_t h[] = {0xD55C}, hd[] = {0x1112, 0x1161, 0x11AB};
    assert_true(norm_eq(0, h, 1, hd, 3));
    assert_true(norm_eq(1, hd, 3, h, 1));
    /* a composition exclusion stays decomposed: U+0958 -> 0915 093C */
    uint32_t ex[] = {0x958}, exd[] = {0x915, 0x93C};
    assert_true(norm_eq(1, ex, 1, exd, 2));
    /* blocked: a starter between base and mark prevents composition */
    uint32_t bl[] = {'a', 'b', 0x301}, blr[] = {'a', 'b', 0x301};
    assert_true(norm_eq(1, bl, 3, blr, 3));
}

/* Runs NormalizationTest.txt when available: for every line c1..c5,
 * NFC(c1)=NFC(c2)=NFC(c3)=c2, NFC(c4)=NFC(c5)=c4, NFD(c1..c3)=c3,
 * NFD(c4..c5)=c5. */
static size_t parse_field(const char *s, uint32_t *out) {
    size_t n = 0;
    while (*s) {
        char *end;
        unsigned long v = strtoul(s, &end, 16);
        if (end == s) break;
        if (n < 32) out[n++] = (uint32_t)v;
        s = end;
    }
    return n;
}

static void test_norm_conformance(void **state) {
    (void)state;
    FILE *f = popen("bzcat /usr/share/unicode/NormalizationTest.txt.bz2 2>/dev/null", "r");
    if (!f) skip();
    char line[1024];
    size_t lines = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '@' || line[0] == '\n') continue;
        uint32_t c[5][32];
        size_t n[5];
        char *p = line;
        int ok = 1;
        for (int k = 0; k < 5; k++) {
            char *semi = strchr(p, ';');
            if (!semi) { ok = 0; break; }
            *semi = 0;
            n[k] = parse_field(p, c[k]);
            p = semi + 1;
        }
        if (!ok) continue;
        lines++;
        for (int k = 0; k < 5; k++) {
            int tnfc = k < 3 ? 1 : 3, tnfd = k < 3 ? 2 : 4;
            if (!norm_eq(1, c[k], n[k], c[tnfc], n[tnfc])) bad++;
            if (!norm_eq(0, c[k], n[k], c[tnfd], n[tnfd])) bad++;
        }
    }
    pclose(f);
    if (lines == 0) skip();
    printf("NormalizationTest: %zu lines, %zu mismatches\n", lines, bad);
    assert_int_equal(bad, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_rule),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_norm_hand),
        cmocka_unit_test(test_norm_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
