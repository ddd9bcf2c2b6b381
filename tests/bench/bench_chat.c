/*
 * bench_chat.c - render time of a chat template: a 20-message conversation
 * (system, user/assistant turns, tool calls and tool results, reasoning)
 * with 10 tools, on the Qwen3 template from the fixtures.
 *
 * Prints the median and best time per render for:
 *   full    ai_chat_render_template(): JSON parse + template parse + render
 * and, to show where that time goes, the template parse alone and the JSON
 * parse alone.
 * Timing only; nothing is asserted.  Usage: bench_chat [TEMPLATE] [N].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentinfer.h"
#include "internal.h"
#include "jinja.h"
#include "json.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) b[n] = '\0';
    fclose(f);
    return b;
}

/* 20 messages: system, then user/assistant turns; turns 3 and 6 call a tool
 * and get its result; assistant turns carry reasoning. */
static void build_messages(ai__buf *b) {
    ai__buf_puts(b, "[{\"role\": \"system\", \"content\": \"You are a careful assistant. Use tools when they help.\"}");
    int n = 1, turn = 0;
    while (n < 20) {
        ai__buf_printf(b, ", {\"role\": \"user\", \"content\": \"Question %d: what is the weather and the time "
                          "in city %d, and how does it compare with yesterday?\"}", turn, turn);
        n++;
        if (n >= 20) break;
        if ((turn == 3 || turn == 6) && n + 2 < 20) {
            ai__buf_printf(b, ", {\"role\": \"assistant\", \"content\": \"\", \"reasoning_content\": \"I should call "
                              "the tool.\", \"tool_calls\": [{\"id\": \"call%05d\", \"type\": \"function\", "
                              "\"function\": {\"name\": \"tool_%d\", \"arguments\": {\"city\": \"City %d\", \"days\": 3, "
                              "\"units\": \"metric\"}}}]}", turn, turn % 10, turn);
            ai__buf_printf(b, ", {\"role\": \"tool\", \"tool_call_id\": \"call%05d\", \"name\": \"tool_%d\", "
                              "\"content\": \"{\\\"temp\\\": 21.5, \\\"sky\\\": \\\"clear\\\"}\"}", turn, turn % 10);
            n += 2;
        }
        ai__buf_printf(b, ", {\"role\": \"assistant\", \"content\": \"<think>\\nThe user asks about city %d.\\n"
                          "</think>\\n\\nIt is sunny and 21 degrees in city %d, two degrees warmer than yesterday.\"}",
                       turn, turn);
        n++;
        turn++;
    }
    ai__buf_putc(b, ']');
}

static void build_tools(ai__buf *b) {
    ai__buf_putc(b, '[');
    for (int i = 0; i < 10; i++) {
        ai__buf_printf(b, "%s{\"type\": \"function\", \"function\": {\"name\": \"tool_%d\", \"description\": "
                          "\"Looks up the weather and local time for a city (tool %d).\", \"parameters\": "
                          "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", "
                          "\"description\": \"City name\"}, \"days\": {\"type\": \"integer\", \"description\": "
                          "\"Days back\"}, \"units\": {\"type\": \"string\", \"enum\": [\"metric\", \"imperial\"]}}, "
                          "\"required\": [\"city\"]}}}",
                       i ? ", " : "", i, i);
    }
    ai__buf_putc(b, ']');
}

int main(int argc, char **argv) {
    const char *fx = getenv("AI_FIXTURES");
    char path[4096];
    if (argc > 1) snprintf(path, sizeof path, "%s", argv[1]);
    else snprintf(path, sizeof path, "%s/templates/Qwen-Qwen3-0.6B.jinja", fx ? fx : "../shared/fixtures");
    int iters = argc > 2 ? atoi(argv[2]) : 2000;
    if (iters < 10) iters = 10;
    char *tpl = read_file(path);
    if (!tpl) {
        printf("bench_chat: no template at %s (set AI_FIXTURES); skipped\n", path);
        return 0;
    }
    ai__buf mb = {0}, tb = {0};
    build_messages(&mb);
    build_tools(&tb);
    const char *msgs = ai__buf_cstr(&mb), *tools = ai__buf_cstr(&tb);

    size_t cap = 1 << 20, needed;
    char *out = malloc(cap), err[512];
    double *t = malloc(sizeof *t * (size_t)iters);
    if (!out || !t) return 1;
    ai_status st = ai_chat_render_template(tpl, "", "<|im_end|>", msgs, tools, NULL, AI_CHAT_ADD_GENERATION_PROMPT,
                                           out, cap, &needed, err, sizeof err);
    if (st != AI_OK) {
        printf("bench_chat: render failed: %s\n", err);
        return 1;
    }
    size_t out_len = needed - 1;
    for (int i = 0; i < iters; i++) {
        double t0 = now();
        ai_chat_render_template(tpl, "", "<|im_end|>", msgs, tools, NULL, AI_CHAT_ADD_GENERATION_PROMPT, out, cap,
                                &needed, err, sizeof err);
        t[i] = now() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_d);
    printf("template %s\n20 messages + 10 tools -> %zu bytes of prompt, %d iterations\n", path, out_len, iters);
    printf("full   (JSON + parse + render): median %7.1f us  best %7.1f us\n", t[iters / 2] * 1e6, t[0] * 1e6);

    for (int i = 0; i < iters; i++) {
        double t0 = now();
        ai__jtpl *x = NULL;
        ai__jtpl_parse(tpl, strlen(tpl), &x, err, sizeof err);
        ai__jtpl_free(x);
        t[i] = now() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_d);
    printf("template parse alone:           median %7.1f us  best %7.1f us\n", t[iters / 2] * 1e6, t[0] * 1e6);
    for (int i = 0; i < iters; i++) {
        double t0 = now();
        ai__json *mj = NULL, *tj = NULL;
        ai__json_parse(msgs, strlen(msgs), &mj, NULL, 0);
        ai__json_parse(tools, strlen(tools), &tj, NULL, 0);
        ai__json_free(mj);
        ai__json_free(tj);
        t[i] = now() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_d);
    printf("JSON parse alone:               median %7.1f us  best %7.1f us\n", t[iters / 2] * 1e6, t[0] * 1e6);
    printf("(the rest of a full call converts the JSON and renders)\n");
    free(out);
    free(t);
    free(tpl);
    ai__buf_free(&mb);
    ai__buf_free(&tb);
    return 0;
}
