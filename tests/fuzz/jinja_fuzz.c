/*
 * jinja_fuzz.c - libFuzzer target for the chat-template interpreter: any
 * template text must parse and render to AI_OK or an error status with a
 * "line N: ..." message, never crash, leak or hang.  The render gets the
 * variables a chat template sees (messages with tool calls, tools, bos/eos)
 * and small step and memory limits so that slow inputs stay fast.
 *
 * Seeds: the shared fixture templates (tests/fuzz/run.sh copies them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ai__jv s(ai__jctx *c, const char *text) { return ai__jv_str(c, text, strlen(text)); }

static ai__jv message(ai__jctx *c, const char *role, const char *content, int with_call) {
    ai__jv m = ai__jv_dict(c);
    ai__jv_put(c, m, "role", 4, s(c, role));
    ai__jv_put(c, m, "content", 7, content ? s(c, content) : ai__jv_none());
    if (with_call) {
        ai__jv args = ai__jv_dict(c), fn = ai__jv_dict(c), call = ai__jv_dict(c), calls = ai__jv_list(c);
        ai__jv_put(c, args, "city", 4, s(c, "Z\303\274rich"));
        ai__jv_put(c, args, "days", 4, ai__jv_int(3));
        ai__jv_put(c, fn, "name", 4, s(c, "get_weather"));
        ai__jv_put(c, fn, "arguments", 9, args);
        ai__jv_put(c, call, "id", 2, s(c, "call12345"));
        ai__jv_put(c, call, "type", 4, s(c, "function"));
        ai__jv_put(c, call, "function", 8, fn);
        ai__jv_push(c, calls, call);
        ai__jv_put(c, m, "tool_calls", 10, calls);
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ai__jtpl *t = NULL;
    char err[512];
    ai_status st = ai__jtpl_parse((const char *)data, size, &t, err, sizeof err);
    if (st != AI_OK && st != AI_E_FORMAT && st != AI_E_UNSUPPORTED && st != AI_E_NOMEM) abort();
    if (st != AI_OK) return 0;
    ai__jctx *c = ai__jctx_new();
    if (!c) abort();
    ai__jctx_limits(c, 200000, (size_t)32 << 20);
    ai__jctx_set_time(c, 1768435200);
    ai__jv msgs = ai__jv_list(c);
    ai__jv_push(c, msgs, message(c, "system", "You are helpful.", 0));
    ai__jv_push(c, msgs, message(c, "user", "Weather in Z\303\274rich?\n", 0));
    ai__jv_push(c, msgs, message(c, "assistant", NULL, 1));
    ai__jv tool = message(c, "tool", "{\"temp\": 21.5}", 0);
    ai__jv_put(c, tool, "tool_call_id", 12, s(c, "call12345"));
    ai__jv_push(c, msgs, tool);
    ai__jv_push(c, msgs, message(c, "assistant", "<think>hm</think>\n\nSunny.", 0));
    ai__jv tools = ai__jv_list(c), tf = ai__jv_dict(c), fn = ai__jv_dict(c), params = ai__jv_dict(c);
    ai__jv_put(c, params, "type", 4, s(c, "object"));
    ai__jv_put(c, fn, "name", 4, s(c, "get_weather"));
    ai__jv_put(c, fn, "parameters", 10, params);
    ai__jv_put(c, tf, "type", 4, s(c, "function"));
    ai__jv_put(c, tf, "function", 8, fn);
    ai__jv_push(c, tools, tf);
    ai__jctx_set(c, "messages", msgs);
    ai__jctx_set(c, "tools", tools);
    ai__jctx_set(c, "documents", ai__jv_none());
    ai__jctx_set(c, "add_generation_prompt", ai__jv_bool(1));
    ai__jctx_set(c, "bos_token", s(c, "<s>"));
    ai__jctx_set(c, "eos_token", s(c, "</s>"));
    ai__buf out = {0};
    st = ai__jtpl_render(t, c, &out, err, sizeof err);
    if (st != AI_OK && st != AI_E_FORMAT && st != AI_E_UNSUPPORTED && st != AI_E_NOMEM) abort();
    if (st != AI_OK && strncmp(err, "line ", 5) && strncmp(err, "out of memory", 13)) abort();
    ai__buf_free(&out);
    ai__jctx_free(c);
    ai__jtpl_free(t);
    return 0;
}
