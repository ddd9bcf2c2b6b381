/*
 * cmd_bench_toolcalls.c - `agentinfer bench-toolcalls`: parse throughput of
 * the tool-call parser on generated model outputs (one-shot and streamed),
 * through the public API only.  Timings are thread CPU-time medians of
 * short runs; run it on an idle machine all the same.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of this thread: on a shared machine wall-clock time mostly
 * measures the other processes. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct gen {
    char *p;
    size_t len, cap;
} gen;

static void put(gen *g, const char *s) {
    size_t n = strlen(s);
    if (g->len + n + 1 > g->cap) {
        g->cap = (g->len + n + 1) * 2;
        g->p = realloc(g->p, g->cap);
        if (!g->p) exit(EXIT_INPUT);
    }
    memcpy(g->p + g->len, s, n + 1);
    g->len += n;
}

/* One call's arguments with strings, escapes, unicode, numbers, nesting. */
static const char ARGS[] =
    "{\"city\": \"S\\u00e3o Paulo \\\"centro\\\"\", \"days\": 7, \"units\": \"metric\","
    " \"coords\": {\"lat\": -23.5505, \"lon\": -46.6333}, \"tags\": [\"rain\", \"wind\", null, true],"
    " \"note\": \"line one\\nline two \\u2013 caf\\u00e9 \\ud83d\\ude00\"}";
static const char PROSE[] =
    "Sure, let me look that up for you. I will check the forecast for the next days and the "
    "current conditions, then summarise what matters for your trip: rain, wind and temperature.\n";

/* Appends calls in `fmt` until the text reaches `target` bytes. */
static void make_text(gen *g, int32_t fmt, size_t target) {
    put(g, PROSE);
    int first = 1;
    while (g->len < target) {
        switch (fmt) {
        case AI_TOOLCALL_HERMES:
            put(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": ");
            put(g, ARGS);
            put(g, "}\n</tool_call>\n");
            break;
        case AI_TOOLCALL_MISTRAL:
            put(g, first ? "[TOOL_CALLS][" : ", ");
            put(g, "{\"name\": \"get_weather\", \"arguments\": ");
            put(g, ARGS);
            put(g, ", \"id\": \"a1b2c3d4e\"}");
            break;
        case AI_TOOLCALL_PYTHONIC:
            put(g, first ? "[" : ", ");
            put(g, "get_weather(city='S\\xe3o Paulo \"centro\"', days=7, units='metric', "
                   "coords={'lat': -23.5505, 'lon': -46.6333}, tags=['rain', 'wind', None, True], "
                   "note='line one\\nline two')");
            break;
        case AI_TOOLCALL_QWEN3_CODER_XML:
            put(g, "<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/main.c\n</parameter>\n"
                   "<parameter=content>\n#include <stdio.h>\nint main(void) {\n    printf(\"hi\\n\");\n"
                   "    return 0;\n}\n</parameter>\n</function>\n</tool_call>\n");
            break;
        default: /* prose only */
            put(g, PROSE);
        }
        first = 0;
    }
    if (fmt == AI_TOOLCALL_MISTRAL) put(g, "]");
    if (fmt == AI_TOOLCALL_PYTHONIC) put(g, "]");
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median seconds per one-shot parse. */
static double time_parse(int32_t fmt, const gen *g, char *out, size_t cap, int *ncalls) {
    double t[15];
    size_t need;
    size_t reps = 1 + (size_t)(2e6 / (double)(g->len + 1));
    for (int r = 0; r < 15; r++) {
        double t0 = now();
        for (size_t i = 0; i < reps; i++)
            if (ai_toolcalls_parse(fmt, g->p, g->len, NULL, out, cap, &need) != AI_OK) return -1;
        t[r] = (now() - t0) / (double)reps;
    }
    qsort(t, 15, sizeof t[0], cmp_d);
    *ncalls = 0;
    for (const char *p = out; (p = strstr(p, "\"arguments\":")); p++) (*ncalls)++;
    if (strstr(out, "\"error\":true")) *ncalls = -1;
    return t[7];
}

/* Seconds to stream the text in pieces of `piece` bytes (read after each). */
static double time_stream(int32_t fmt, const gen *g, size_t piece, char *out, size_t cap) {
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        ai_toolcall_stream *s = NULL;
        size_t need;
        if (ai_toolcall_stream_new(fmt, NULL, 0, &s, NULL, 0) != AI_OK) return -1;
        double t0 = now();
        for (size_t i = 0; i < g->len; i += piece) {
            size_t k = g->len - i < piece ? g->len - i : piece;
            if (ai_toolcall_stream_feed(s, g->p + i, k) != AI_OK ||
                ai_toolcall_stream_read(s, out, cap, &need) != AI_OK) {
                ai_toolcall_stream_free(s);
                return -1;
            }
        }
        if (ai_toolcall_stream_finish(s) != AI_OK || ai_toolcall_stream_result(s, out, cap, &need) != AI_OK) {
            ai_toolcall_stream_free(s);
            return -1;
        }
        double dt = now() - t0;
        if (dt < best) best = dt;
        ai_toolcall_stream_free(s);
    }
    return best;
}

/* Repetitive texts built to hit the scanners' searches (markers that never
 * close, thousands of messages, unbalanced brackets): each format must stay
 * linear.  Prints the slowest format per pattern. */
static int adversarial(size_t size) {
    static const char *const pats[] = {
        "<|start|>assistant<|channel|>final<|message|>x<|end|>", "[a]\n",
        "<tool_call>{\"name\":\"f\",\"arguments\":{}}</tool_call>", "</parameter>", "<think>",
        "</think>", "{\"a\":", "[TOOL_CALLS]", ">>>all\nx", "<", "\"", "[f(a=[",
        "<|tool_call>call:f{a:{", "\xef\xbd\x9c", "<function=f>{}</function>", "<|channel|>", "x\n",
        "<arg_value>", "<invoke name=\"f\">",
    };
    char *t = malloc(size + 64);
    size_t cap = size * 8 + 4096;
    char *out = malloc(cap);
    if (!t || !out) {
        free(t);
        free(out);
        return EXIT_INPUT;
    }
    printf("%-44s %-18s %9s %9s\n", "adversarial pattern (repeated)", "slowest format", "ms", "MB/s");
    for (size_t p = 0; p < sizeof pats / sizeof pats[0]; p++) {
        size_t l = strlen(pats[p]), n = 0;
        while (n + l <= size) {
            memcpy(t + n, pats[p], l);
            n += l;
        }
        double worst = 0;
        int32_t wf = 1;
        for (int32_t f = 1; ai_toolcall_format_name(f); f++) {
            size_t need;
            double a = now();
            if (ai_toolcalls_parse(f, t, n, NULL, out, cap, &need) != AI_OK) {
                free(t);
                free(out);
                return EXIT_INPUT;
            }
            double d = now() - a;
            if (d > worst) {
                worst = d;
                wf = f;
            }
        }
        char label[64];
        size_t k = 0;
        for (const char *c = pats[p]; *c && k < 40; c++) label[k++] = *c == '\n' ? '|' : *c;
        label[k] = '\0';
        printf("%-44s %-18s %9.2f %9.1f\n", label, ai_toolcall_format_name(wf), worst * 1e3,
               (double)n / worst / 1e6);
    }
    free(t);
    free(out);
    return EXIT_OK;
}

int cmd_bench_toolcalls(int argc, char **argv) {
    size_t big = 1 << 20;
    int adv = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: agentinfer bench-toolcalls [--kib N] [--adversarial]\n\n"
                   "Parse throughput of the tool-call parser on generated outputs of 4 kB and of\n"
                   "--kib KiB (default 1024), per format, and the cost of streaming 4 kB.\n"
                   "--adversarial instead times every format on repetitive --kib texts built to\n"
                   "provoke repeated searches, and prints the slowest format per pattern.\n");
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "--adversarial")) {
            adv = 1;
        } else if (!strcmp(argv[i], "--kib") && i + 1 < argc) {
            big = (size_t)strtoul(argv[++i], NULL, 10) << 10;
            if (!big) return EXIT_USAGE;
        } else {
            fprintf(stderr, "agentinfer bench-toolcalls: unknown argument '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (adv) return adversarial(big);
    static const struct {
        int32_t fmt;
        const char *label;
    } cases[] = {
        {AI_TOOLCALL_HERMES, "hermes"},
        {AI_TOOLCALL_MISTRAL, "mistral"},
        {AI_TOOLCALL_PYTHONIC, "pythonic"},
        {AI_TOOLCALL_QWEN3_CODER_XML, "qwen3_coder_xml"},
        {AI_TOOLCALL_GENERIC_JSON, "prose (generic_json)"},
    };
    size_t cap = big * 4 + (1 << 16);
    char *out = malloc(cap);
    if (!out) return EXIT_INPUT;
    printf("%-22s %10s %7s %12s %10s %7s %10s\n", "format", "4kB us", "calls", "4kB MB/s", "big MB/s",
           "calls", "stream ms");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gen small = {0}, large = {0};
        make_text(&small, cases[c].fmt, 4096);
        make_text(&large, cases[c].fmt, big);
        int n1, n2;
        double ts = time_parse(cases[c].fmt, &small, out, cap, &n1);
        double tl = time_parse(cases[c].fmt, &large, out, cap, &n2);
        double st = time_stream(cases[c].fmt, &small, 4, out, cap);
        if (ts < 0 || tl < 0 || st < 0) {
            fprintf(stderr, "agentinfer bench-toolcalls: parse failed for %s\n", cases[c].label);
            free(out);
            return EXIT_INPUT;
        }
        printf("%-22s %10.1f %7d %12.1f %10.1f %7d %10.2f\n", cases[c].label, ts * 1e6, n1,
               (double)small.len / ts / 1e6, (double)large.len / tl / 1e6, n2, st * 1e3);
        free(small.p);
        free(large.p);
    }
    printf("(4kB: a ~4 kB output; big: --kib of output; stream: the 4 kB output fed 4 bytes at a\n"
           " time with a read after each feed; calls -1 would mean the output was judged malformed)\n");
    free(out);
    return EXIT_OK;
}
