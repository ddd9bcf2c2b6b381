/* toolcall_fuzz.c - the tool-call parser on arbitrary text in every format:
 * never crashes, always writes valid result JSON (no calls when "error"),
 * and the stream (fed in three pieces at fuzzer-chosen points) ends with
 * exactly the one-shot result. */
#include "agentinfer.h"
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char TOOLS[] =
    "[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\","
    " \"properties\": {\"a\": {\"type\": \"string\"}, \"n\": {\"type\": \"integer\"}}}}},"
    " {\"name\": \"get_weather\", \"parameters\": {\"properties\": {\"city\": {\"type\": \"string\"}}}}]";

static char *one_shot(int32_t fmt, const char *text, size_t len, const char *tools, ai_status *st) {
    size_t need = 0;
    *st = ai_toolcalls_parse(fmt, text, len, tools, NULL, 0, &need);
    if (*st != AI_E_RANGE) return NULL;
    char *out = malloc(need);
    *st = ai_toolcalls_parse(fmt, text, len, tools, out, need, &need);
    if (*st != AI_OK) abort();
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    int32_t fmt = 1 + data[0] % 20;
    const char *tools = data[1] & 1 ? TOOLS : NULL;
    const char *text = (const char *)data + 3;
    size_t len = size - 3;
    size_t cut1 = len ? data[2] % (len + 1) : 0, cut2 = cut1 + (len - cut1) / 2;
    ai_status st;
    char *want = one_shot(fmt, text, len, tools, &st);
    if (!want) {
        if (st != AI_E_FORMAT) abort(); /* only non-UTF-8 text is refused */
        return 0;
    }
    ai__json *r = NULL;
    if (ai__json_parse(want, strlen(want), &r, NULL, 0) != AI_OK) abort();
    const ai__json *err = ai__json_get(r, "error"), *calls = ai__json_get(r, "tool_calls");
    if (!err || !calls || calls->type != AI__JSON_ARRAY) abort();
    if (err->type == AI__JSON_TRUE && calls->n) abort();
    for (size_t i = 0; i < calls->n; i++) {
        const ai__json *a = ai__json_get(calls->items[i], "arguments");
        const ai__json *n = ai__json_get(calls->items[i], "name");
        if (!a || a->type != AI__JSON_OBJECT || !n || n->type != AI__JSON_STRING || !n->len) abort();
    }
    ai__json_free(r);

    ai_toolcall_stream *s = NULL;
    if (ai_toolcall_stream_new(fmt, tools, 0, &s, NULL, 0) != AI_OK) abort();
    char buf[64];
    size_t need;
    if (ai_toolcall_stream_feed(s, text, cut1) != AI_OK) abort();
    ai_toolcall_stream_read(s, buf, sizeof buf, &need);
    if (ai_toolcall_stream_feed(s, text + cut1, cut2 - cut1) != AI_OK) abort();
    if (ai_toolcall_stream_feed(s, text + cut2, len - cut2) != AI_OK) abort();
    if (ai_toolcall_stream_finish(s) != AI_OK) abort();
    char *got = malloc(strlen(want) + 1);
    if (ai_toolcall_stream_result(s, got, strlen(want) + 1, &need) != AI_OK || strcmp(got, want)) abort();
    free(got);
    ai_toolcall_stream_free(s);
    free(want);
    return 0;
}
