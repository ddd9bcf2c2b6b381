/*
 * cmd_toolcalls.c - `agentinfer toolcalls --format NAME [--tools FILE] < TEXT`
 * prints the tool-call parse of a model's output as JSON.  `--format auto`
 * picks the format from a model's chat template (-m MODEL) or a template
 * file (--template FILE).  `--stream` feeds the text in pieces of N bytes
 * and prints each delta line, then the final result.
 *
 * Exit 0 also when the output was malformed (the JSON says so); 1 for usage
 * errors, 2 for unreadable files or text that is not UTF-8.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    if (!b) return NULL;
    for (;;) {
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
            cap *= 2;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    if (ferror(f)) {
        free(b);
        return NULL;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

static char *read_path(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = read_all(f, len);
    fclose(f);
    return b;
}

/* Offset of the first byte that is not part of well-formed UTF-8, or len. */
static size_t utf8_bad_at(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!n || i + n > len) return i;
        unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
        unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        for (size_t k = 1; k < n; k++)
            if (p[i + k] < (k == 1 ? lo : 0x80) || p[i + k] > (k == 1 ? hi : 0xBF)) return i;
        i += n;
    }
    return len;
}

static void usage(FILE *f) {
    fprintf(f, "usage: agentinfer toolcalls --format NAME|auto [--tools FILE] [-m MODEL]\n"
               "                            [--template FILE] [--stream N] < TEXT\n\n"
               "Parses a model's output (stdin) into content, reasoning and tool calls\n"
               "and prints the result as JSON.  formats:");
    for (int i = 1; ai_toolcall_format_name(i); i++) fprintf(f, " %s", ai_toolcall_format_name(i));
    fprintf(f, "\n--format auto detects the format from -m MODEL's chat template or from\n"
               "--template FILE.  --stream N feeds N bytes at a time and prints each delta.\n");
}

/* Writes one result-returning call's JSON, growing the buffer on RANGE. */
typedef ai_status (*out_fn)(void *h, char *buf, size_t cap, size_t *needed);
static ai_status read_stream(void *h, char *buf, size_t cap, size_t *needed) {
    return ai_toolcall_stream_read(h, buf, cap, needed);
}
static ai_status result_stream(void *h, char *buf, size_t cap, size_t *needed) {
    return ai_toolcall_stream_result(h, buf, cap, needed);
}
static int print_out(out_fn fn, void *h) {
    size_t need = 0;
    char small[256];
    ai_status st = fn(h, small, sizeof small, &need);
    if (st == AI_OK) {
        puts(small);
        return 0;
    }
    if (st != AI_E_RANGE) return -1;
    char *b = malloc(need);
    if (!b || fn(h, b, need, &need) != AI_OK) {
        free(b);
        return -1;
    }
    puts(b);
    free(b);
    return 0;
}

int cmd_toolcalls(int argc, char **argv) {
    const char *fmt = NULL, *tools_path = NULL, *model_path = NULL, *tmpl_path = NULL;
    long chunk = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return EXIT_OK;
        }
        if (!v) {
            fprintf(stderr, "agentinfer toolcalls: '%s' needs a value or is unknown\n", a);
            return EXIT_USAGE;
        }
        if (!strcmp(a, "--format")) fmt = v;
        else if (!strcmp(a, "--tools")) tools_path = v;
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) model_path = v;
        else if (!strcmp(a, "--template")) tmpl_path = v;
        else if (!strcmp(a, "--stream")) {
            chunk = strtol(v, NULL, 10);
            if (chunk <= 0) {
                fprintf(stderr, "agentinfer toolcalls: --stream needs a positive byte count\n");
                return EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "agentinfer toolcalls: unknown option '%s'\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
        i++;
    }
    if (!fmt) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int32_t format = 0;
    if (!strcmp(fmt, "auto")) {
        ai_status st;
        if (model_path) {
            ai_model *m = NULL;
            int rc = cli_load_model(model_path, &m);
            if (rc) return rc;
            st = ai_model_toolcall_format(m, &format);
            size_t need = 0;
            if (st == AI_E_NOT_FOUND &&
                ai_model_meta_str(m, "tokenizer.chat_template", NULL, 0, &need) == AI_E_NOT_FOUND) {
                fprintf(stderr, "agentinfer toolcalls: the model has no chat template; using %s\n",
                        ai_toolcall_format_name(format));
                st = AI_OK;
            }
            ai_model_free(m);
        } else if (tmpl_path) {
            size_t tl;
            char *tp = read_path(tmpl_path, &tl);
            if (!tp) {
                fprintf(stderr, "agentinfer toolcalls: cannot read %s\n", tmpl_path);
                return EXIT_INPUT;
            }
            st = ai_toolcall_format_detect(tp, tl, &format);
            free(tp);
        } else {
            fprintf(stderr, "agentinfer toolcalls: --format auto needs -m MODEL or --template FILE\n");
            return EXIT_USAGE;
        }
        if (st == AI_E_NOT_FOUND)
            fprintf(stderr, "agentinfer toolcalls: no known tool-call format in the template; using %s\n",
                    ai_toolcall_format_name(format));
        else if (st != AI_OK) {
            fprintf(stderr, "agentinfer toolcalls: format detection failed: %s\n", ai_status_string(st));
            return EXIT_INPUT;
        }
        fprintf(stderr, "agentinfer toolcalls: format %s\n", ai_toolcall_format_name(format));
    } else if (ai_toolcall_format_from_name(fmt, &format) != AI_OK) {
        fprintf(stderr, "agentinfer toolcalls: unknown format '%s'\n", fmt);
        usage(stderr);
        return EXIT_USAGE;
    }
    char *tools = NULL;
    if (tools_path) {
        size_t tl;
        tools = read_path(tools_path, &tl);
        if (!tools) {
            fprintf(stderr, "agentinfer toolcalls: cannot read %s\n", tools_path);
            return EXIT_INPUT;
        }
    }
    if (tools) { /* check the tools file first, for a message that says what is wrong */
        ai_toolcall_stream *chk = NULL;
        char err[256] = "";
        ai_status st = ai_toolcall_stream_new(format, tools, 0, &chk, err, sizeof err);
        ai_toolcall_stream_free(chk);
        if (st != AI_OK) {
            fprintf(stderr, "agentinfer toolcalls: %s: %s\n", tools_path, err[0] ? err : ai_status_string(st));
            free(tools);
            return EXIT_INPUT;
        }
    }
    size_t len = 0;
    char *text = read_all(stdin, &len);
    if (!text) {
        fprintf(stderr, "agentinfer toolcalls: cannot read stdin\n");
        free(tools);
        return EXIT_INPUT;
    }
    int rc = EXIT_OK;
    if (chunk) {
        ai_toolcall_stream *s = NULL;
        char err[256] = "";
        ai_status st = ai_toolcall_stream_new(format, tools, 0, &s, err, sizeof err);
        for (size_t i = 0; st == AI_OK && i < len; i += (size_t)chunk) {
            size_t k = len - i < (size_t)chunk ? len - i : (size_t)chunk;
            st = ai_toolcall_stream_feed(s, text + i, k);
            if (st == AI_OK && print_out(read_stream, s)) st = AI_E_NOMEM;
        }
        if (st == AI_OK) st = ai_toolcall_stream_finish(s);
        if (st == AI_OK && print_out(read_stream, s)) st = AI_E_NOMEM;
        if (st == AI_OK && print_out(result_stream, s)) st = AI_E_NOMEM;
        if (st == AI_E_FORMAT)
            fprintf(stderr, "agentinfer toolcalls: stdin is not valid UTF-8 at byte %zu\n",
                    utf8_bad_at(text, len));
        else if (st != AI_OK)
            fprintf(stderr, "agentinfer toolcalls: %s\n", err[0] ? err : ai_status_string(st));
        if (st != AI_OK) rc = EXIT_INPUT;
        ai_toolcall_stream_free(s);
    } else {
        size_t need = 0;
        ai_status st = ai_toolcalls_parse(format, text, len, tools, NULL, 0, &need);
        char *out = NULL;
        if (st == AI_E_RANGE) {
            out = malloc(need);
            st = out ? ai_toolcalls_parse(format, text, len, tools, out, need, &need) : AI_E_NOMEM;
        }
        if (st == AI_OK) puts(out);
        else {
            if (st == AI_E_FORMAT)
                fprintf(stderr, "agentinfer toolcalls: stdin is not valid UTF-8 at byte %zu\n",
                        utf8_bad_at(text, len));
            else
                fprintf(stderr, "agentinfer toolcalls: %s\n", ai_status_string(st));
            rc = EXIT_INPUT;
        }
        free(out);
    }
    free(text);
    free(tools);
    return rc;
}
