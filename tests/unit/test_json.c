/* test_json.c - lib/json.c against a hand-written RFC 8259 conformance set,
 * Python json.dumps output (hand-checked strings) and round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

/* Parses text (length given, may hold NULs) and writes it back compactly. */
static char *roundtrip(const char *text, size_t len, int flags, int indent) {
    ai__json *j = NULL;
    char err[128];
    if (ai__json_parse(text, len, &j, err, sizeof err) != AI_OK) return NULL;
    ai__buf b = {0};
    ai__json_write(&b, j, flags, indent);
    ai__json_free(j);
    char *r = strdup(ai__buf_cstr(&b));
    ai__buf_free(&b);
    return r;
}

typedef struct vcase {
    const char *in;
    const char *out; /* compact re-serialisation */
} vcase;

static const vcase valid_docs[] = {
    {"{}", "{}"},
    {"[]", "[]"},
    {" \t\r\n[ ]\n", "[]"},
    {"{\"a\":1}", "{\"a\":1}"},
    {" [1, 2 ,3] ", "[1,2,3]"},
    {"[[[]],[{}]]", "[[[]],[{}]]"},
    {"true", "true"},
    {"false", "false"},
    {"null", "null"},
    {"0", "0"},
    {"-0", "-0"},
    {"-0.0e0", "-0.0e0"},
    {"0.5e-10", "0.5e-10"},
    {"1E+2", "1E+2"},
    {"12345678901234567890123456789", "12345678901234567890123456789"},
    {"1.000000000000000000000001", "1.000000000000000000000001"},
    {"\"\"", "\"\""},
    {"\"\\/\"", "\"/\""},
    {"\"\\\"\\\\\"", "\"\\\"\\\\\""},
    {"\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\""},
    {"\"\\u0041\\u00e9\\u00E9\"", "\"A\xc3\xa9\xc3\xa9\""},
    {"\"\\u001f\"", "\"\\u001f\""},
    {"\"\\u007f\"", "\"\x7f\""},
    {"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""},
    {"\"\\uDBFF\\uDFFF\"", "\"\xf4\x8f\xbf\xbf\""},
    {"\"\\u20ac\"", "\"\xe2\x82\xac\""},
    {"\"\xe6\x97\xa5\xe6\x9c\xac\"", "\"\xe6\x97\xa5\xe6\x9c\xac\""},
    {"\"\xf4\x8f\xbf\xbf\"", "\"\xf4\x8f\xbf\xbf\""},
    {"\"\xed\x9f\xbf\"", "\"\xed\x9f\xbf\""},
    {"\"\xef\xbb\xbf\"", "\"\xef\xbb\xbf\""},
    {"{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}"},
    {"{\"\":\"\"}", "{\"\":\"\"}"},
    {"{ \"k\" : [ true , false , null ] , \"n\" : { } }",
     "{\"k\":[true,false,null],\"n\":{}}"},
    {"[-1,0.25,3e5,-7E-3]", "[-1,0.25,3e5,-7E-3]"},
};

static const char *const invalid_docs[] = {
    "", " ", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "'a'", "01", "-",
    "1.", ".5", "1e", "1e+", "+1", "NaN", "Infinity", "-Infinity", "tru", "nul",
    "True", "\"abc", "\"\\x\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"",
    "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"\\ud800\\\"", "\"a\tb\"", "\"a\nb\"",
    "\"\xff\"", "\"\xc0\xaf\"", "\"\xc1\xbf\"", "\"\xe0\x80\xaf\"",
    "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"",
    "\"\x80\"", "\"\xe6\x97\"", "[1]x", "{\"a\":1}}", "]", "}", "\xef\xbb\xbf" "1",
    "[", "{\"a\":", "1 2", "\"\\u00\"", "--1", "-01", "1.e5", "[1,,2]", "{,}",
    "\"", "{\"a\"}", "[\"a\":1]", "{\"a\":1 \"b\":2}", "[01]", "0x10", "1 /*c*/",
    "[1]// c", "nulll", "\"\\U0041\"", "\"\\'\"", "\x01", "[\x0b]", "[\xc2\xa0]",
    "{\"a\":1,\"b\"}", "[1,2", "{\"\\ud800\":1}", "\"\\", "\"\\u",
};

static void test_valid(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof valid_docs / sizeof valid_docs[0]; i++) {
        char *r = roundtrip(valid_docs[i].in, strlen(valid_docs[i].in), 0, -1);
        if (!r) fail_msg("valid document rejected: %s", valid_docs[i].in);
        if (strcmp(r, valid_docs[i].out)) fail_msg("%s -> %s, want %s", valid_docs[i].in, r, valid_docs[i].out);
        free(r);
    }
}

static void test_invalid(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof invalid_docs / sizeof invalid_docs[0]; i++) {
        ai__json *j = (ai__json *)1;
        char err[128] = "";
        ai_status st = ai__json_parse(invalid_docs[i], strlen(invalid_docs[i]), &j, err, sizeof err);
        if (st != AI_E_FORMAT) fail_msg("invalid document accepted (%d): [%s]", st, invalid_docs[i]);
        assert_null(j);
        assert_non_null(strstr(err, "at byte "));
    }
}

static void test_nul_and_lengths(void **state) {
    (void)state;
    ai__json *j;
    const char doc[] = "{\"a\\u0000b\":\"x\\u0000y\"}";
    assert_int_equal(ai__json_parse(doc, sizeof doc - 1, &j, NULL, 0), AI_OK);
    assert_int_equal(j->n, 1);
    assert_int_equal(j->key_lens[0], 3);
    assert_memory_equal(j->keys[0], "a\0b", 3);
    assert_int_equal(j->items[0]->len, 3);
    assert_memory_equal(j->items[0]->str, "x\0y", 3);
    assert_non_null(ai__json_getn(j, "a\0b", 3));
    assert_null(ai__json_get(j, "a"));
    ai__buf b = {0};
    ai__json_write(&b, j, 0, -1);
    assert_string_equal(ai__buf_cstr(&b), "{\"a\\u0000b\":\"x\\u0000y\"}");
    ai__buf_free(&b);
    ai__json_free(j);
    /* a NUL byte in the text itself is an error, not the end of the text */
    const char raw[] = "[1,\0 2]";
    assert_int_equal(ai__json_parse(raw, sizeof raw - 1, &j, NULL, 0), AI_E_FORMAT);
    const char raw2[] = "[1]\0";
    assert_int_equal(ai__json_parse(raw2, sizeof raw2 - 1, &j, NULL, 0), AI_E_FORMAT);
}

static void test_error_messages(void **state) {
    (void)state;
    ai__json *j;
    char err[128];
    assert_int_equal(ai__json_parse("[1, x]", 6, &j, err, sizeof err), AI_E_FORMAT);
    assert_string_equal(err, "unexpected character at byte 4");
    assert_int_equal(ai__json_parse("{\"a\":\"\\q\"}", 10, &j, err, sizeof err), AI_E_FORMAT);
    assert_string_equal(err, "invalid escape at byte 6");
    assert_int_equal(ai__json_parse("[1", 2, &j, err, sizeof err), AI_E_FORMAT);
    assert_non_null(strstr(err, "end of input"));
    /* tiny and absent error buffers are fine */
    assert_int_equal(ai__json_parse("[", 1, &j, err, 4), AI_E_FORMAT);
    assert_int_equal(strlen(err), 3);
    assert_int_equal(ai__json_parse("[", 1, &j, NULL, 0), AI_E_FORMAT);
    assert_int_equal(ai__json_parse(NULL, 0, &j, NULL, 0), AI_E_FORMAT);
    assert_int_equal(ai__json_parse("1", 1, NULL, NULL, 0), AI_E_INVAL);
}

static void test_prefix_and_truncation(void **state) {
    (void)state;
    ai__json *j;
    size_t used = 0;
    int trunc = -1;
    assert_int_equal(ai__json_parse_prefix("{\"a\":1} tail", 12, &j, &used, NULL, 0), AI_OK);
    assert_int_equal(used, 7);
    ai__json_free(j);
    assert_int_equal(ai__json_parse_prefix("  [1]}x", 7, &j, &used, NULL, 0), AI_OK);
    assert_int_equal(used, 5);
    ai__json_free(j);
    /* a string with a brace and an end tag inside: the value ends where the
     * grammar says, not at the first '}' */
    const char *s = "{\"c\":\"}</tool_call>\"}</tool_call>";
    assert_int_equal(ai__json_parse_prefix(s, strlen(s), &j, &used, NULL, 0), AI_OK);
    assert_int_equal(used, 21);
    ai__json_free(j);

    static const char *const cut[] = {"{\"a\": \"x", "{\"a\": tr", "[1, 2", "\"\\ud83d",
                                      "\"\xe6\x97", "{\"a\"", "{\"a\":", "[-", "[1.", "[1e",
                                      "\"\\u00", "{", "", "  "};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        trunc = -1;
        assert_int_equal(ai__json_parse_partial(cut[i], strlen(cut[i]), &j, &used, &trunc, NULL, 0),
                         AI_E_FORMAT);
        if (trunc != 1) fail_msg("[%s] should be truncated", cut[i]);
    }
    static const char *const bad[] = {"{\"a\": x", "[1 2", "\"\\ud83dx\"", "{a", "[1,]",
                                      "\"\xff", "[tx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trunc = -1;
        assert_int_equal(ai__json_parse_partial(bad[i], strlen(bad[i]), &j, &used, &trunc, NULL, 0),
                         AI_E_FORMAT);
        if (trunc != 0) fail_msg("[%s] should be invalid, not truncated", bad[i]);
    }
}

static char *nested(size_t depth, char open, char close) {
    char *s = malloc(2 * depth + 1);
    memset(s, open, depth);
    memset(s + depth, close, depth);
    s[2 * depth] = '\0';
    return s;
}

static void test_depth(void **state) {
    (void)state;
    ai__json *j;
    char *ok = nested(AI__JSON_MAX_DEPTH, '[', ']');
    assert_int_equal(ai__json_parse(ok, strlen(ok), &j, NULL, 0), AI_OK);
    ai__json_free(j);
    free(ok);
    char *deep = nested(AI__JSON_MAX_DEPTH + 1, '[', ']');
    char err[128];
    assert_int_equal(ai__json_parse(deep, strlen(deep), &j, err, sizeof err), AI_E_FORMAT);
    assert_non_null(strstr(err, "nesting too deep"));
    free(deep);
    /* a million openers: no stack use proportional to the input */
    size_t n = 1000000;
    char *huge = malloc(n);
    memset(huge, '[', n);
    assert_int_equal(ai__json_parse(huge, n, &j, NULL, 0), AI_E_FORMAT);
    for (size_t i = 0; i < n; i += 5) memcpy(huge + i, "{\"a\":", i + 5 <= n ? 5 : n - i);
    assert_int_equal(ai__json_parse(huge, n, &j, NULL, 0), AI_E_FORMAT);
    free(huge);

    /* a hand-built tree far deeper than the parse limit: write, clone and
     * free all walk it without recursion */
    ai__json *root = ai__json_new(AI__JSON_ARRAY), *cur = root;
    for (int d = 0; d < 200000; d++) {
        ai__json *c = ai__json_new(AI__JSON_ARRAY);
        assert_int_equal(ai__json_push(cur, c), 0);
        cur = c;
    }
    ai__json *cl = ai__json_clone(root);
    assert_non_null(cl);
    ai__buf b1 = {0}, b2 = {0};
    ai__json_write(&b1, root, 0, -1);
    ai__json_write(&b2, cl, 0, -1);
    assert_int_equal(b1.len, 2 * 200001);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.p, b2.p, b1.len);
    ai__buf_free(&b1);
    ai__buf_free(&b2);
    ai__json_free(root);
    ai__json_free(cl);
}

static void test_writer_python(void **state) {
    (void)state;
    const char *doc = "{\"a\":[1,2],\"b\":{},\"c\":[],\"d\":{\"x\":null,\"y\":\"\xc3\xa9\"}}";
    char *r = roundtrip(doc, strlen(doc), AI__JSON_W_SPACES, -1);
    assert_string_equal(r, "{\"a\": [1, 2], \"b\": {}, \"c\": [], \"d\": {\"x\": null, \"y\": \"\xc3\xa9\"}}");
    free(r);
    /* json.dumps(..., indent=2) */
    r = roundtrip(doc, strlen(doc), AI__JSON_W_SPACES, 2);
    assert_string_equal(r, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": [],\n"
                           "  \"d\": {\n    \"x\": null,\n    \"y\": \"\xc3\xa9\"\n  }\n}");
    free(r);
    /* indent=0 still breaks lines; separators ignore SPACES when indenting */
    r = roundtrip("{\"a\":[1,{\"x\":null}]}", 20, 0, 0);
    assert_string_equal(r, "{\n\"a\": [\n1,\n{\n\"x\": null\n}\n]\n}");
    free(r);
    /* ensure_ascii=True */
    const char *u = "\"\xc3\xa9\xf0\x9f\x98\x80\x7f\\u0001\\\"\\\\/\"";
    r = roundtrip(u, strlen(u), AI__JSON_W_ASCII, -1);
    assert_string_equal(r, "\"\\u00e9\\ud83d\\ude00\\u007f\\u0001\\\"\\\\/\"");
    free(r);
    r = roundtrip(u, strlen(u), 0, -1);
    assert_string_equal(r, "\"\xc3\xa9\xf0\x9f\x98\x80\x7f\\u0001\\\"\\\\/\"");
    free(r);
    /* sort_keys=True: code point order, stable for duplicates */
    const char *k = "{\"b\":1,\"a\":2,\"A\":3,\"\xc3\xa9\":4,\"a\":5,\"ab\":{\"z\":1,\"y\":2}}";
    r = roundtrip(k, strlen(k), AI__JSON_W_SPACES | AI__JSON_W_SORT_KEYS, -1);
    assert_string_equal(r, "{\"A\": 3, \"a\": 2, \"a\": 5, \"ab\": {\"y\": 2, \"z\": 1}, \"b\": 1, \"\xc3\xa9\": 4}");
    free(r);
}

static void test_write_invalid_utf8(void **state) {
    (void)state;
    ai__buf b = {0};
    ai__json_write_str(&b, "a\xff" "b\xe6\x97", 5, 0);
    assert_string_equal(ai__buf_cstr(&b), "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"");
    ai__buf_free(&b);
    ai__json_write_str(&b, "\xc0", 1, AI__JSON_W_ASCII);
    assert_string_equal(ai__buf_cstr(&b), "\"\\ufffd\"");
    ai__buf_free(&b);
}

static void test_doubles(void **state) {
    (void)state;
    /* repr() of each value, as Python prints it */
    static const struct {
        double v;
        const char *s;
    } t[] = {
        {1.0, "1.0"}, {0.1, "0.1"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"},
        {1e-5, "1e-05"}, {0.0001, "0.0001"}, {123456789.0, "123456789.0"}, {-2.5, "-2.5"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {5e-324, "5e-324"},
        {0.30000000000000004, "0.30000000000000004"}, {1e22, "1e+22"}, {-0.0, "-0.0"},
        {0.0, "0.0"}, {123.456e-7, "1.23456e-05"}, {1152921504606846976.0, "1.152921504606847e+18"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        ai__json *j = ai__json_new_double(t[i].v);
        assert_non_null(j);
        assert_string_equal(j->str, t[i].s);
        assert_true(ai__json_num(j) == t[i].v);
        ai__json_free(j);
    }
    ai__json *j = ai__json_new_int(-9223372036854775807LL - 1);
    assert_string_equal(j->str, "-9223372036854775808");
    ai__json_free(j);
}

static void test_builders(void **state) {
    (void)state;
    ai__json *o = ai__json_new(AI__JSON_OBJECT);
    ai__json *a = ai__json_new(AI__JSON_ARRAY);
    for (int i = 0; i < 100; i++) assert_int_equal(ai__json_push(a, ai__json_new_int(i)), 0);
    assert_int_equal(ai__json_set(o, "list", 4, a), 0);
    assert_int_equal(ai__json_set(o, "s", 1, ai__json_new_str("q\"", 2)), 0);
    assert_int_equal(ai__json_set(o, "t", 1, ai__json_new(AI__JSON_TRUE)), 0);
    /* a NULL child fails and leaves the container intact */
    assert_int_equal(ai__json_set(o, "x", 1, NULL), -1);
    assert_int_equal(ai__json_push(o, ai__json_new_int(1)), -1); /* not an array */
    assert_int_equal(o->n, 3);
    const ai__json *l = ai__json_get(o, "list");
    assert_non_null(l);
    assert_int_equal(l->n, 100);
    assert_true(ai__json_num(l->items[99]) == 99.0);
    ai__json *c = ai__json_clone(o);
    ai__buf b1 = {0}, b2 = {0};
    ai__json_write(&b1, o, 0, -1);
    ai__json_write(&b2, c, 0, -1);
    assert_string_equal(ai__buf_cstr(&b1), ai__buf_cstr(&b2));
    assert_non_null(strstr(ai__buf_cstr(&b1), "\"s\":\"q\\\"\",\"t\":true}"));
    ai__buf_free(&b1);
    ai__buf_free(&b2);
    ai__json_free(o);
    ai__json_free(c);
    ai__json_free(NULL);
}

/* Random documents: write -> parse -> write is a fixed point, with and
 * without spaces, indentation and ASCII escaping. */
static ai__json *rand_tree(uint64_t *rs, int depth) {
    int t = (int)(tu_rand(rs) % (depth > 4 ? 5 : 7));
    static const char *const strs[] = {"", "a", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80", "q\"\\/",
                                       "\n\t\x01", "\x7f", "\xe2\x80\xa8"};
    static const char *const nums[] = {"0", "-1", "3.25", "1e9", "-0.5E-3", "123456789012345678901"};
    switch (t) {
    case 0: return ai__json_new(AI__JSON_NULL);
    case 1: return ai__json_new(tu_rand(rs) & 1 ? AI__JSON_TRUE : AI__JSON_FALSE);
    case 2: {
        const char *n = nums[tu_rand(rs) % 6];
        return ai__json_new_num(n, strlen(n));
    }
    case 3:
    case 4: {
        const char *s = strs[tu_rand(rs) % 8];
        return ai__json_new_str(s, strlen(s));
    }
    default: {
        int obj = t == 6;
        ai__json *c = ai__json_new(obj ? AI__JSON_OBJECT : AI__JSON_ARRAY);
        int n = (int)(tu_rand(rs) % 5);
        for (int i = 0; i < n; i++) {
            ai__json *v = rand_tree(rs, depth + 1);
            if (obj) {
                const char *k = strs[tu_rand(rs) % 8];
                ai__json_set(c, k, strlen(k), v);
            } else
                ai__json_push(c, v);
        }
        return c;
    }
    }
}

static void test_random_roundtrip(void **state) {
    (void)state;
    uint64_t rs = 12345;
    static const int modes[][2] = {{0, -1}, {AI__JSON_W_SPACES, -1}, {AI__JSON_W_SPACES, 2},
                                   {AI__JSON_W_ASCII, -1}, {AI__JSON_W_ASCII, 4}};
    for (int it = 0; it < 2000; it++) {
        ai__json *j = rand_tree(&rs, 0);
        for (size_t m = 0; m < 5; m++) {
            ai__buf b = {0};
            ai__json_write(&b, j, modes[m][0], modes[m][1]);
            assert_false(b.oom);
            char *again = roundtrip(b.p, b.len, modes[m][0], modes[m][1]);
            if (!again) fail_msg("own output rejected: %s", b.p);
            assert_string_equal(again, b.p);
            if (modes[m][0] & AI__JSON_W_ASCII)
                for (size_t i = 0; i < b.len; i++) assert_true((unsigned char)b.p[i] < 0x7f);
            free(again);
            ai__buf_free(&b);
        }
        ai__json_free(j);
    }
}

static void test_utf8_helpers(void **state) {
    (void)state;
    int inc;
    assert_int_equal(ai__utf8_seq((const unsigned char *)"\xe6\x97\xa5", 3, &inc), 3);
    assert_int_equal(ai__utf8_seq((const unsigned char *)"\xe6\x97", 2, &inc), 0);
    assert_int_equal(inc, 1);
    assert_int_equal(ai__utf8_seq((const unsigned char *)"\xe6\x41", 2, &inc), 0);
    assert_int_equal(inc, 0);
    assert_true(ai__utf8_valid("abc\xc3\xa9", 5));
    assert_false(ai__utf8_valid("\xed\xa0\x80", 3));
    assert_false(ai__utf8_valid("\xf8\x88\x80\x80\x80", 5));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_nul_and_lengths),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_prefix_and_truncation),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_writer_python),
        cmocka_unit_test(test_write_invalid_utf8),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_builders),
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_utf8_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
