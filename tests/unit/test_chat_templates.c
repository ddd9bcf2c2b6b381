/* test_chat_templates.c - the acceptance test for chat templates: every record
 * of ../shared/fixtures/templates/expected.jsonl (12 real templates x 6
 * conversations, rendered by Python Jinja2 the way Hugging Face does) must
 * render byte-identical to `expected`, or fail where the record has `error`.
 * Skipped when the fixtures are absent.  Prints the pass count; with
 * AI_CHAT_VERBOSE=1 it shows where each mismatch starts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentinfer.h"
#include "internal.h"
#include "json.h"
#include "testutil.h"

/* 2026-01-15 00:00:00 UTC, the clock the fixtures were rendered with. */
#define FIXTURE_TIME 1768435200

static char *json_text(const ai__json *j) {
    ai__buf b = {0};
    ai__json_write(&b, j, 0, -1);
    char *s = ai__strndup(ai__buf_cstr(&b), b.len);
    ai__buf_free(&b);
    return s;
}

static const ai__json *find_conv(const ai__json *convs, const char *id) {
    for (size_t i = 0; i < convs->n; i++) {
        const ai__json *idj = ai__json_get(convs->items[i], "id");
        if (idj && idj->type == AI__JSON_STRING && !strcmp(idj->str, id)) return convs->items[i];
    }
    return NULL;
}

static void show_diff(const char *name, const char *got, size_t got_len, const ai__json *exp) {
    size_t k = 0;
    while (k < got_len && k < exp->len && got[k] == exp->str[k]) k++;
    size_t from = k > 40 ? k - 40 : 0;
    printf("  %s: differs at byte %zu (got %zu bytes, expected %zu)\n", name, k, got_len, exp->len);
    printf("    got:      [%.*s]\n", (int)((got_len - from) > 120 ? 120 : got_len - from), got + from);
    printf("    expected: [%.*s]\n", (int)((exp->len - from) > 120 ? 120 : exp->len - from),
           exp->str + from);
}

static void test_expected_jsonl(void **state) {
    (void)state;
    if (!tu_fixtures()) skip();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tu_fixture_path("templates"));
    char path[4200];
    snprintf(path, sizeof path, "%s/expected.jsonl", dir);
    size_t elen;
    char *expected = tu_read_file(path, &elen);
    if (!expected) skip();
    snprintf(path, sizeof path, "%s/conversations-shared.json", dir);
    size_t clen;
    char *convtext = tu_read_file(path, &clen);
    assert_non_null(convtext);
    ai__json *convdoc = NULL;
    assert_int_equal(ai__json_parse(convtext, clen, &convdoc, NULL, 0), AI_OK);
    const ai__json *convs = ai__json_get(convdoc, "conversations");
    assert_non_null(convs);

    ai_opts *opts = NULL;
    assert_int_equal(ai_opts_new(&opts), AI_OK);
    assert_int_equal(ai_opts_set_int(opts, AI_OPT_CHAT_TIME, FIXTURE_TIME), AI_OK);
    int verbose = getenv("AI_CHAT_VERBOSE") != NULL;

    int total = 0, pass = 0, renders = 0, errors = 0;
    char *line = expected;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        char *next = nl ? nl + 1 : NULL;
        if (ll == 0) { line = next; continue; }
        ai__json *rec = NULL;
        assert_int_equal(ai__json_parse(line, ll, &rec, NULL, 0), AI_OK);
        const ai__json *tname = ai__json_get(rec, "template");
        const ai__json *cid = ai__json_get(rec, "conversation");
        const ai__json *agp = ai__json_get(rec, "add_generation_prompt");
        const ai__json *bos = ai__json_get(rec, "bos_token");
        const ai__json *eos = ai__json_get(rec, "eos_token");
        const ai__json *exp = ai__json_get(rec, "expected");
        const ai__json *err = ai__json_get(rec, "error");
        assert_true(tname && cid && agp && bos && eos && (exp || err));
        snprintf(path, sizeof path, "%s/%s", dir, tname->str);
        size_t tl;
        char *tpl = tu_read_file(path, &tl);
        assert_non_null(tpl);
        const ai__json *conv = find_conv(convs, cid->str);
        assert_non_null(conv);
        char *msgs = json_text(ai__json_get(conv, "messages"));
        const ai__json *tools = ai__json_get(conv, "tools");
        char *tools_s = tools ? json_text(tools) : NULL;
        uint32_t flags = agp->type == AI__JSON_TRUE ? AI_CHAT_ADD_GENERATION_PROMPT : 0;

        size_t needed = 0;
        char msg[512];
        ai_status st = ai_chat_render_template(tpl, bos->str, eos->str, msgs, tools_s, opts, flags,
                                               NULL, 0, &needed, msg, sizeof msg);
        char *out = NULL;
        if (st == AI_E_RANGE) {
            out = malloc(needed);
            assert_non_null(out);
            st = ai_chat_render_template(tpl, bos->str, eos->str, msgs, tools_s, opts, flags, out,
                                         needed, &needed, msg, sizeof msg);
        }
        char name[300];
        snprintf(name, sizeof name, "%s/%s/%s", tname->str, cid->str, flags ? "gen" : "nogen");
        int ok;
        if (exp) {
            renders++;
            ok = st == AI_OK && needed - 1 == exp->len && !memcmp(out, exp->str, exp->len);
            if (!ok && verbose) {
                if (st != AI_OK) printf("  %s: error %d: %s\n", name, st, msg);
                else show_diff(name, out, needed - 1, exp);
            }
        } else {
            errors++;
            ok = st == AI_E_FORMAT || st == AI_E_UNSUPPORTED;
            /* A raise_exception record must fail with the template's own text. */
            const ai__json *kind = ai__json_get(rec, "error_kind");
            if (ok && kind && !strcmp(kind->str, "raise_exception"))
                ok = strstr(msg, "raise_exception: ") && strstr(msg, err->str);
            if (!ok && verbose)
                printf("  %s: expected an error (%s), got status %d: %s\n", name, err->str, st,
                       st == AI_OK ? "(rendered)" : msg);
        }
        total++;
        pass += ok;
        free(out);
        free(msgs);
        free(tools_s);
        free(tpl);
        ai__json_free(rec);
        line = next;
    }
    printf("chat templates: %d/%d records match (%d renderings, %d errors)\n", pass, total, renders,
           errors);
    ai_opts_free(opts);
    ai__json_free(convdoc);
    free(convtext);
    free(expected);
    assert_int_equal(total, 84);
    assert_int_equal(pass, total);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expected_jsonl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
