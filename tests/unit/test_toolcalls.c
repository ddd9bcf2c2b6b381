/* test_toolcalls.c - the tool-call parser against the hand-written cases of
 * tests/data/toolcalls.txt (one-shot, split at every byte, byte by byte),
 * plus the public API's contract (buffers, errors, names, detection against
 * the real chat templates of ../shared/fixtures). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentinfer.h"
#include "json.h"
#include "testutil.h"

static const char TOOLS[] =
    "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"w\","
    " \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"},"
    " \"days\": {\"type\": \"integer\"}, \"zip\": {\"type\": \"string\"},"
    " \"metric\": {\"type\": \"boolean\"}, \"opts\": {\"type\": \"object\"},"
    " \"tags\": {\"type\": \"array\"}}}}},"
    " {\"type\": \"function\", \"function\": {\"name\": \"search\", \"parameters\":"
    " {\"type\": \"object\", \"properties\": {\"query\": {\"type\": \"string\"}}}}},"
    " {\"name\": \"noargs\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}]";

typedef struct tcase {
    char *name;
    int32_t format;
    int tools;
    char *text;
    size_t len;
    char *expect;
} tcase;

static tcase cases[256];
static size_t n_cases;

static size_t unescape(char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) {
            s[o++] = s[i];
            continue;
        }
        char e = s[++i];
        if (e == 'n') s[o++] = '\n';
        else if (e == 'r') s[o++] = '\r';
        else if (e == 't') s[o++] = '\t';
        else if (e == 'x' && i + 2 < n) {
            char h[3] = {s[i + 1], s[i + 2], 0};
            s[o++] = (char)strtol(h, NULL, 16);
            i += 2;
        } else s[o++] = e;
    }
    return o;
}

/* Reads the case file: see its header for the layout. */
static int load_cases(void) {
    const char *root = getenv("ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/toolcalls.txt", root ? root : ".");
    size_t len;
    char *f = tu_read_file(path, &len);
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    char *p = f, *end = f + len;
    tcase *c = NULL;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        *le = '\0';
        if (!strncmp(p, "=== ", 4)) {
            c = &cases[n_cases++];
            memset(c, 0, sizeof *c);
            c->name = p + 4;
        } else if (c && !strncmp(p, "format: ", 8)) {
            if (ai_toolcall_format_from_name(p + 8, &c->format) != AI_OK) {
                fprintf(stderr, "unknown format %s\n", p + 8);
                return -1;
            }
        } else if (c && !strncmp(p, "tools: T", 8)) {
            c->tools = 1;
        } else if (c && (!strcmp(p, "--- text") || !strcmp(p, "--- text-esc"))) {
            int esc = p[8] == '-';
            char *tb = le + 1, *te = strstr(tb, "\n--- expect\n");
            if (!te) return -1;
            c->text = tb;
            c->len = (size_t)(te - tb);
            if (esc) c->len = unescape(tb, c->len);
            c->text[c->len] = '\0';
            c->expect = te + strlen("\n--- expect\n");
            char *ee = memchr(c->expect, '\n', (size_t)(end - c->expect));
            if (ee) *ee = '\0';
            p = ee ? ee + 1 : end;
            continue;
        }
        p = le + 1;
    }
    return 0;
}

static char *parse_str(int32_t fmt, const char *text, size_t len, const char *tools) {
    size_t need = 0;
    ai_status st = ai_toolcalls_parse(fmt, text, len, tools, NULL, 0, &need);
    assert_int_equal(st, AI_E_RANGE);
    char *out = malloc(need);
    assert_int_equal(ai_toolcalls_parse(fmt, text, len, tools, out, need, &need), AI_OK);
    assert_int_equal(strlen(out) + 1, need);
    return out;
}

/* Compares an actual result with an expected one; "message" in the
 * expectation is a substring of the actual message. */
static int same_result(const char *actual, const char *expect, char *why, size_t cap) {
    ai__json *a = NULL, *e = NULL;
    if (ai__json_parse(actual, strlen(actual), &a, why, cap) != AI_OK) return 0;
    if (ai__json_parse(expect, strlen(expect), &e, why, cap) != AI_OK) {
        ai__json_free(a);
        snprintf(why, cap, "bad expectation JSON");
        return 0;
    }
    int ok = 1;
    const ai__json *em = ai__json_get(e, "message"), *am = ai__json_get(a, "message");
    if (em) {
        if (!am || !strstr(am->str, em->str)) {
            snprintf(why, cap, "message lacks \"%s\"", em->str);
            ok = 0;
        }
        ((ai__json *)em)->len = 0; /* blank both messages out */
        ((ai__json *)em)->str[0] = '\0';
        if (am) {
            ((ai__json *)am)->len = 0;
            ((ai__json *)am)->str[0] = '\0';
        }
    }
    ai__buf x = {0}, y = {0};
    ai__json_write(&x, a, 0, -1);
    ai__json_write(&y, e, 0, -1);
    if (ok && strcmp(ai__buf_cstr(&x), ai__buf_cstr(&y))) {
        snprintf(why, cap, "differs");
        ok = 0;
    }
    ai__buf_free(&x);
    ai__buf_free(&y);
    ai__json_free(a);
    ai__json_free(e);
    return ok;
}

static void test_cases_one_shot(void **state) {
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < n_cases; i++) {
        tcase *c = &cases[i];
        char *out = parse_str(c->format, c->text, c->len, c->tools ? TOOLS : NULL);
        char why[200];
        if (!same_result(out, c->expect, why, sizeof why)) {
            fprintf(stderr, "CASE %s: %s\n  got:  %s\n  want: %s\n", c->name, why, out, c->expect);
            bad++;
        }
        free(out);
    }
    printf("%zu cases\n", n_cases);
    assert_int_equal(bad, 0);
}

static char *stream_result(ai_toolcall_stream *s) {
    size_t need;
    assert_int_equal(ai_toolcall_stream_result(s, NULL, 0, &need), AI_E_RANGE);
    char *out = malloc(need);
    assert_int_equal(ai_toolcall_stream_result(s, out, need, &need), AI_OK);
    return out;
}

/* Every split point: two feeds, then the final result equals one-shot. */
static void test_cases_split_everywhere(void **state) {
    (void)state;
    int bad = 0;
    size_t runs = 0;
    for (size_t i = 0; i < n_cases; i++) {
        tcase *c = &cases[i];
        char *want = parse_str(c->format, c->text, c->len, c->tools ? TOOLS : NULL);
        for (size_t k = 0; k <= c->len; k++) {
            ai_toolcall_stream *s = NULL;
            assert_int_equal(ai_toolcall_stream_new(c->format, c->tools ? TOOLS : NULL, 0, &s, NULL, 0),
                             AI_OK);
            assert_int_equal(ai_toolcall_stream_feed(s, c->text, k), AI_OK);
            assert_int_equal(ai_toolcall_stream_feed(s, c->text + k, c->len - k), AI_OK);
            assert_int_equal(ai_toolcall_stream_finish(s), AI_OK);
            char *got = stream_result(s);
            if (strcmp(got, want)) {
                if (bad < 5) fprintf(stderr, "CASE %s split at %zu:\n  got:  %s\n  want: %s\n", c->name, k, got, want);
                bad++;
            }
            free(got);
            ai_toolcall_stream_free(s);
            runs++;
        }
        free(want);
    }
    printf("%zu split runs\n", runs);
    assert_int_equal(bad, 0);
}

/* Byte by byte: the deltas read along the way add up to the final result
 * (for outputs without errors and without a forced-open reasoning block,
 * whose start only the closing tag reveals). */
static void test_cases_byte_by_byte(void **state) {
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < n_cases; i++) {
        tcase *c = &cases[i];
        ai_toolcall_stream *s = NULL;
        assert_int_equal(ai_toolcall_stream_new(c->format, c->tools ? TOOLS : NULL, 0, &s, NULL, 0), AI_OK);
        ai__buf content = {0}, reasoning = {0};
        ai__json *calls = ai__json_new(AI__JSON_ARRAY);
        char buf[8192];
        size_t need;
        for (size_t k = 0; k <= c->len; k++) {
            if (k < c->len) assert_int_equal(ai_toolcall_stream_feed(s, c->text + k, 1), AI_OK);
            else assert_int_equal(ai_toolcall_stream_finish(s), AI_OK);
            assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
            ai__json *d = NULL;
            assert_int_equal(ai__json_parse(buf, strlen(buf), &d, NULL, 0), AI_OK);
            const ai__json *dc = ai__json_get(d, "content"), *dr = ai__json_get(d, "reasoning"),
                           *dt = ai__json_get(d, "tool_calls");
            assert_non_null(dc);
            assert_non_null(dt);
            ai__buf_put(&content, dc->str, dc->len);
            if (dr) ai__buf_put(&reasoning, dr->str, dr->len);
            for (size_t j = 0; j < dt->n; j++) ai__json_push(calls, ai__json_clone(dt->items[j]));
            ai__json_free(d);
        }
        char *fin = stream_result(s);
        ai__json *f = NULL;
        assert_int_equal(ai__json_parse(fin, strlen(fin), &f, NULL, 0), AI_OK);
        int err = ai__json_get(f, "error")->type == AI__JSON_TRUE;
        int forced = strstr(c->text, "</think>") && !strstr(c->text, "<think>");
        if (!err && !forced) {
            const ai__json *fc = ai__json_get(f, "content"), *fr = ai__json_get(f, "reasoning");
            ai__buf x = {0}, y = {0};
            ai__json_write(&x, calls, 0, -1);
            ai__json_write(&y, ai__json_get(f, "tool_calls"), 0, -1);
            if (content.len != fc->len || (fc->len && memcmp(content.p, fc->str, fc->len)) ||
                (fr ? reasoning.len != fr->len || memcmp(reasoning.p, fr->str, fr->len)
                    : reasoning.len != 0) ||
                strcmp(ai__buf_cstr(&x), ai__buf_cstr(&y))) {
                fprintf(stderr, "CASE %s byte by byte:\n  content %s\n  reasoning %s\n  calls %s\n  final %s\n",
                        c->name, ai__buf_cstr(&content), ai__buf_cstr(&reasoning), ai__buf_cstr(&x), fin);
                bad++;
            }
            ai__buf_free(&x);
            ai__buf_free(&y);
        }
        ai__json_free(f);
        free(fin);
        ai__json_free(calls);
        ai__buf_free(&content);
        ai__buf_free(&reasoning);
        ai_toolcall_stream_free(s);
    }
    assert_int_equal(bad, 0);
}

/* While a marker is only partly there, nothing of it shows as content. */
static void test_stream_holds_marker_prefix(void **state) {
    (void)state;
    ai_toolcall_stream *s = NULL;
    assert_int_equal(ai_toolcall_stream_new(AI_TOOLCALL_HERMES, NULL, 0, &s, NULL, 0), AI_OK);
    char buf[512];
    size_t need;
    assert_int_equal(ai_toolcall_stream_feed(s, "Hello <too", 10), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"Hello\",\"tool_calls\":[]}");
    assert_int_equal(ai_toolcall_stream_feed(s, "l_call>{\"name\": \"f\", \"arguments\": {}}", 37), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"\",\"tool_calls\":[]}");
    assert_int_equal(ai_toolcall_stream_feed(s, "</tool_call>", 12), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"\",\"tool_calls\":[{\"name\":\"f\",\"arguments\":{}}]}");
    /* a too-small buffer keeps the pending output */
    assert_int_equal(ai_toolcall_stream_feed(s, " bye", 4), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, 8, &need), AI_E_RANGE);
    assert_int_equal(need, strlen("{\"content\":\"  bye\",\"tool_calls\":[]}") + 1);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"  bye\",\"tool_calls\":[]}");
    assert_int_equal(ai_toolcall_stream_finish(s), AI_OK);
    assert_int_equal(ai_toolcall_stream_feed(s, "x", 1), AI_E_INVAL);
    assert_int_equal(ai_toolcall_stream_finish(s), AI_E_INVAL);
    ai_toolcall_stream_free(s);
}

/* Calls of a list show one by one, before the list closes. */
static void test_stream_list_calls_one_by_one(void **state) {
    (void)state;
    ai_toolcall_stream *s = NULL;
    assert_int_equal(ai_toolcall_stream_new(AI_TOOLCALL_MISTRAL, NULL, 0, &s, NULL, 0), AI_OK);
    char buf[512];
    size_t need;
    const char *a = "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"argu";
    assert_int_equal(ai_toolcall_stream_feed(s, a, strlen(a)), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"\",\"tool_calls\":[{\"name\":\"a\",\"arguments\":{}}]}");
    const char *b = "ments\": {\"x\": 1}}]";
    assert_int_equal(ai_toolcall_stream_feed(s, b, strlen(b)), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"\",\"tool_calls\":[{\"name\":\"b\",\"arguments\":{\"x\":1}}]}");
    assert_int_equal(ai_toolcall_stream_finish(s), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"\",\"tool_calls\":[]}");
    ai_toolcall_stream_free(s);
}

static void test_stream_reasoning_open_flag(void **state) {
    (void)state;
    ai_toolcall_stream *s = NULL;
    assert_int_equal(ai_toolcall_stream_new(AI_TOOLCALL_HERMES, NULL, AI_TOOLCALL_REASONING_OPEN, &s, NULL, 0),
                     AI_OK);
    char buf[512];
    size_t need;
    assert_int_equal(ai_toolcall_stream_feed(s, "thinking hard</thi", 18), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"\",\"reasoning\":\"thinking hard\",\"tool_calls\":[]}");
    assert_int_equal(ai_toolcall_stream_feed(s, "nk>Answer.", 10), AI_OK);
    assert_int_equal(ai_toolcall_stream_finish(s), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"Answer.\",\"tool_calls\":[]}");
    ai_toolcall_stream_free(s);
    assert_int_equal(ai_toolcall_stream_new(AI_TOOLCALL_HERMES, NULL, 4, &s, NULL, 0), AI_E_INVAL);
    assert_null(s);
}

static void test_stream_utf8(void **state) {
    (void)state;
    ai_toolcall_stream *s = NULL;
    assert_int_equal(ai_toolcall_stream_new(AI_TOOLCALL_HERMES, NULL, 0, &s, NULL, 0), AI_OK);
    char buf[512];
    size_t need;
    /* a character split across feeds is never emitted in halves */
    assert_int_equal(ai_toolcall_stream_feed(s, "caf\xc3", 4), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"caf\",\"tool_calls\":[]}");
    assert_int_equal(ai_toolcall_stream_feed(s, "\xa9!", 2), AI_OK);
    assert_int_equal(ai_toolcall_stream_read(s, buf, sizeof buf, &need), AI_OK);
    assert_string_equal(buf, "{\"content\":\"\xc3\xa9!\",\"tool_calls\":[]}");
    assert_int_equal(ai_toolcall_stream_feed(s, "\xff", 1), AI_E_FORMAT);
    assert_int_equal(ai_toolcall_stream_feed(s, "\xe6\x97", 2), AI_OK);
    assert_int_equal(ai_toolcall_stream_finish(s), AI_E_FORMAT); /* ends mid-character */
    ai_toolcall_stream_free(s);
}

static void test_api_contract(void **state) {
    (void)state;
    char out[256];
    size_t need = 0;
    assert_int_equal(ai_toolcalls_parse(0, "x", 1, NULL, out, sizeof out, &need), AI_E_INVAL);
    assert_int_equal(ai_toolcalls_parse(99, "x", 1, NULL, out, sizeof out, &need), AI_E_INVAL);
    assert_int_equal(ai_toolcalls_parse(AI_TOOLCALL_HERMES, NULL, 1, NULL, out, sizeof out, &need), AI_E_INVAL);
    assert_int_equal(ai_toolcalls_parse(AI_TOOLCALL_HERMES, "a\xffz", 3, NULL, out, sizeof out, &need),
                     AI_E_FORMAT);
    assert_int_equal(ai_toolcalls_parse(AI_TOOLCALL_HERMES, "x", 1, "[{\"name\": }]", out, sizeof out, &need),
                     AI_E_FORMAT);
    assert_int_equal(ai_toolcalls_parse(AI_TOOLCALL_HERMES, "x", 1, "{}", out, sizeof out, &need), AI_E_FORMAT);
    assert_int_equal(ai_toolcalls_parse(AI_TOOLCALL_HERMES, "x", 1, "[{\"type\": \"function\"}]", out,
                                        sizeof out, &need),
                     AI_E_FORMAT);
    char err[128] = "";
    ai_toolcall_stream *s = (ai_toolcall_stream *)1;
    assert_int_equal(ai_toolcall_stream_new(AI_TOOLCALL_HERMES, "[1", 0, &s, err, sizeof err), AI_E_FORMAT);
    assert_null(s);
    assert_non_null(strstr(err, "tools:"));
    /* empty text and NULL with length 0 */
    assert_int_equal(ai_toolcalls_parse(AI_TOOLCALL_HERMES, NULL, 0, NULL, out, sizeof out, &need), AI_OK);
    assert_string_equal(out, "{\"content\":\"\",\"tool_calls\":[],\"error\":false}");
    assert_int_equal(need, strlen(out) + 1);
    /* exact-size buffer works, one less is RANGE and writes nothing */
    char small[64];
    memset(small, 'Z', sizeof small);
    assert_int_equal(ai_toolcalls_parse(AI_TOOLCALL_HERMES, "hi", 2, NULL, small, need - 1, &need), AI_E_RANGE);
    assert_int_equal(small[0], 'Z');
    /* NUL bytes in the text are content, escaped */
    assert_int_equal(ai_toolcalls_parse(AI_TOOLCALL_HERMES, "a\0b", 3, NULL, out, sizeof out, &need), AI_OK);
    assert_string_equal(out, "{\"content\":\"a\\u0000b\",\"tool_calls\":[],\"error\":false}");
    ai_toolcall_stream_free(NULL);
    assert_int_equal(ai_toolcall_stream_feed(NULL, "x", 1), AI_E_INVAL);
    assert_int_equal(ai_toolcall_stream_read(NULL, out, sizeof out, &need), AI_E_INVAL);
    assert_int_equal(ai_toolcall_stream_result(NULL, out, sizeof out, &need), AI_E_INVAL);
}

static void test_format_names(void **state) {
    (void)state;
    int32_t f;
    int n = 0;
    for (int32_t i = 1; ai_toolcall_format_name(i); i++, n++) {
        assert_int_equal(ai_toolcall_format_from_name(ai_toolcall_format_name(i), &f), AI_OK);
        assert_int_equal(f, i);
    }
    assert_int_equal(n, 20);
    assert_null(ai_toolcall_format_name(0));
    assert_null(ai_toolcall_format_name(-1));
    assert_int_equal(ai_toolcall_format_from_name("Hermes", &f), AI_E_NOT_FOUND);
    assert_int_equal(ai_toolcall_format_from_name(NULL, &f), AI_E_INVAL);
    assert_int_equal(ai_toolcall_format_from_name("gpt_oss_harmony", &f), AI_OK);
    assert_int_equal(f, AI_TOOLCALL_GPT_OSS_HARMONY);
}

/* Detection against the real templates of the fixtures. */
static void test_detect_fixture_templates(void **state) {
    (void)state;
    if (!tu_fixtures()) skip();
    static const struct {
        const char *file;
        int32_t want; /* 0: no rule matches */
    } t[] = {
        {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", AI_TOOLCALL_HERMES},
        {"Qwen-Qwen2.5-7B-Instruct.jinja", AI_TOOLCALL_HERMES},
        {"Qwen-Qwen3-0.6B.jinja", AI_TOOLCALL_HERMES},
        {"ibm-granite-granite-4.0.jinja", AI_TOOLCALL_HERMES},
        {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", AI_TOOLCALL_DEEPSEEK_R1},
        {"meta-llama-Llama-3.1-8B-Instruct.jinja", AI_TOOLCALL_LLAMA3_JSON},
        {"meta-llama-Llama-3.2-3B-Instruct.jinja", AI_TOOLCALL_LLAMA3_JSON},
        {"mistralai-Mistral-Nemo-Instruct-2407.jinja", AI_TOOLCALL_MISTRAL},
        {"LFM2.5-Instruct.jinja", AI_TOOLCALL_LFM2},
        {"HuggingFaceTB-SmolLM3-3B.jinja", 0},
        {"google-gemma-2-2b-it.jinja", 0},
        {"microsoft-Phi-3.5-mini-instruct.jinja", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "templates/%s", t[i].file);
        size_t len;
        char *tp = tu_read_file(tu_fixture_path(rel), &len);
        assert_non_null(tp);
        int32_t f = -1;
        ai_status st = ai_toolcall_format_detect(tp, len, &f);
        if (t[i].want) {
            if (st != AI_OK || f != t[i].want)
                fail_msg("%s: got %s (%d)", t[i].file, ai_toolcall_format_name(f), st);
        } else {
            assert_int_equal(st, AI_E_NOT_FOUND);
            assert_int_equal(f, AI_TOOLCALL_GENERIC_JSON);
        }
        free(tp);
    }
}

/* Hand-written template snippets for the families without a fixture. */
static void test_detect_snippets(void **state) {
    (void)state;
    static const struct {
        const char *src;
        int32_t want;
    } t[] = {
        {"{{'<|start|>assistant<|channel|>' + c + '<|message|>'}}", AI_TOOLCALL_GPT_OSS_HARMONY},
        {"{{ '>>>all\\n' + content }}", AI_TOOLCALL_FUNCTIONARY_V3_2},
        {"<|tool_calls_section_begin|>{% for tc in calls %}", AI_TOOLCALL_KIMI_K2},
        {"{{'<|tool_call>call:' + name}}", AI_TOOLCALL_GEMMA4},
        {"<tool_call>\\n<function={{ n }}>\\n<parameter={{ k }}>", AI_TOOLCALL_QWEN3_CODER_XML},
        {"<tool_call>{{ name }}<arg_key>{{ k }}</arg_key>", AI_TOOLCALL_GLM45},
        {"<minimax:tool_call>\\n<invoke name=", AI_TOOLCALL_MINIMAX_M2},
        {"<|START_THINKING|><|START_ACTION|>", AI_TOOLCALL_COMMAND_R},
        {"[TOOL_CALLS]{{ name }}[ARGS]{{ args }}", AI_TOOLCALL_MISTRAL_V11},
        {"[TOOL_CALLS]{{ calls|tojson }}", AI_TOOLCALL_MISTRAL},
        {"{{ ' functools[' + calls }}", AI_TOOLCALL_FIREFUNCTION_V2},
        {"<|tool_call|>{{ calls }}", AI_TOOLCALL_GRANITE},
        {"<|start_header_id|>{{ '<function=' + name + '>' }}", AI_TOOLCALL_FUNCTIONARY_V3_1},
        {"<\xef\xbd\x9ctool\xe2\x96\x81" "calls\xe2\x96\x81" "begin\xef\xbd\x9c>{{name}}", AI_TOOLCALL_DEEPSEEK_V3_1},
        {"<|tool_call_start|>[", AI_TOOLCALL_LFM2},
        {"{{ '<|python_start|>' }}", AI_TOOLCALL_PYTHONIC},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int32_t f = -1;
        ai_status st = ai_toolcall_format_detect(t[i].src, strlen(t[i].src), &f);
        if (st != AI_OK || f != t[i].want)
            fail_msg("snippet %zu: got %s (%d), want %s", i, ai_toolcall_format_name(f), st,
                     ai_toolcall_format_name(t[i].want));
    }
    int32_t f;
    assert_int_equal(ai_toolcall_format_detect(NULL, 0, &f), AI_E_INVAL);
    assert_int_equal(ai_toolcall_format_detect("x", 1, NULL), AI_E_INVAL);
}

static void test_detect_model(void **state) {
    (void)state;
    if (!tu_fixtures()) skip();
    /* a vocabulary file that carries the Qwen3 chat template */
    ai_model *m = NULL;
    char err[256];
    assert_int_equal(ai_model_load(tu_fixture_path("vocab/vocab-qwen3.gguf"), NULL, &m, err, sizeof err), AI_OK);
    int32_t f = -1;
    assert_int_equal(ai_model_toolcall_format(m, &f), AI_OK);
    assert_int_equal(f, AI_TOOLCALL_HERMES);
    ai_model_free(m);
    /* the random-weight test model has no template at all */
    assert_int_equal(ai_model_load(tu_fixture_path("models/qwen3-f16.gguf"), NULL, &m, err, sizeof err), AI_OK);
    size_t need = 0;
    assert_int_equal(ai_model_meta_str(m, "tokenizer.chat_template", NULL, 0, &need), AI_E_NOT_FOUND);
    f = -1;
    assert_int_equal(ai_model_toolcall_format(m, &f), AI_E_NOT_FOUND);
    assert_int_equal(f, AI_TOOLCALL_GENERIC_JSON);
    ai_model_free(m);
    assert_int_equal(ai_model_toolcall_format(NULL, &f), AI_E_INVAL);
}

int main(void) {
    if (load_cases()) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_one_shot),
        cmocka_unit_test(test_cases_split_everywhere),
        cmocka_unit_test(test_cases_byte_by_byte),
        cmocka_unit_test(test_stream_holds_marker_prefix),
        cmocka_unit_test(test_stream_list_calls_one_by_one),
        cmocka_unit_test(test_stream_reasoning_open_flag),
        cmocka_unit_test(test_stream_utf8),
        cmocka_unit_test(test_api_contract),
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_detect_fixture_templates),
        cmocka_unit_test(test_detect_snippets),
        cmocka_unit_test(test_detect_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
