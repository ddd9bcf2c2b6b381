/*
 * cmd_chat_render.c - `agentinfer chat-render`: renders a conversation with a
 * model's chat template (or a template file) and prints exactly the text,
 * with nothing added (no trailing newline).
 *
 *   agentinfer chat-render -m MODEL --messages FILE [--tools FILE]
 *   agentinfer chat-render --template FILE [--bos TEXT] [--eos TEXT] --messages FILE
 *
 * FILE may be "-" for standard input (once).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: agentinfer chat-render (-m MODEL | --template FILE) --messages FILE [options]\n"
            "\n"
            "Renders an OpenAI-style conversation with the model's chat template and prints\n"
            "the exact text (no newline added).\n"
            "\n"
            "  -m, --model MODEL        GGUF model (its tokenizer.chat_template, BOS and EOS)\n"
            "  --messages FILE          JSON array of messages (\"-\": standard input)\n"
            "  --tools FILE             JSON array of tools\n"
            "  --no-generation-prompt   do not open an assistant turn at the end\n"
            "  --template FILE          use this Jinja template instead of the model's\n"
            "  --bos TEXT, --eos TEXT   bos_token / eos_token text (default: the model's, or \"\")\n"
            "  --vars FILE              JSON object of extra template variables\n"
            "  --time SECONDS           pin strftime_now() to this Unix time (UTC)\n"
            "  --parse-arguments        parse tool-call arguments given as JSON strings\n"
            "\n"
            "Exit status: 0 ok, 1 usage error, 2 bad input or the template failed.\n");
}

/* Reads a whole file (or stdin for "-") as a NUL-terminated string. */
static char *read_all(const char *path) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf || bad) { free(buf); return NULL; }
    if (memchr(buf, '\0', len)) { free(buf); return NULL; }
    buf[len] = '\0';
    return buf;
}

/* One line on stderr: newlines in a template's own message become spaces. */
static void report(const char *what, const char *msg) {
    fprintf(stderr, "agentinfer chat-render: %s: ", what);
    for (const char *p = msg; *p; p++) fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
    fputc('\n', stderr);
}

int cmd_chat_render(int argc, char **argv) {
    const char *model_path = NULL, *messages_path = NULL, *tools_path = NULL;
    const char *template_path = NULL, *bos = NULL, *eos = NULL, *vars_path = NULL;
    const char *time_s = NULL;
    uint32_t flags = AI_CHAT_ADD_GENERATION_PROMPT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return EXIT_OK; }
        else if (!strcmp(a, "--no-generation-prompt")) { flags &= ~(uint32_t)AI_CHAT_ADD_GENERATION_PROMPT; continue; }
        else if (!strcmp(a, "--parse-arguments")) { flags |= AI_CHAT_PARSE_ARGUMENTS; continue; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) slot = &model_path;
        else if (!strcmp(a, "--messages")) slot = &messages_path;
        else if (!strcmp(a, "--tools")) slot = &tools_path;
        else if (!strcmp(a, "--template")) slot = &template_path;
        else if (!strcmp(a, "--bos")) slot = &bos;
        else if (!strcmp(a, "--eos")) slot = &eos;
        else if (!strcmp(a, "--vars")) slot = &vars_path;
        else if (!strcmp(a, "--time")) slot = &time_s;
        if (!slot || i + 1 >= argc) {
            fprintf(stderr, "agentinfer chat-render: %s '%s' (see --help)\n",
                    slot ? "missing value for" : "unknown option", a);
            return EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    if (!messages_path || (!model_path && !template_path)) {
        fprintf(stderr, "agentinfer chat-render: --messages and one of -m/--template are required (see --help)\n");
        return EXIT_USAGE;
    }
    int64_t pinned = -1;
    if (time_s) {
        char *end;
        long long t = strtoll(time_s, &end, 10);
        if (*end || end == time_s || t < 0) {
            fprintf(stderr, "agentinfer chat-render: --time wants Unix seconds, got '%s'\n", time_s);
            return EXIT_USAGE;
        }
        pinned = t;
    }

    int rc = EXIT_INPUT;
    char *messages = NULL, *tools = NULL, *tpl = NULL, *vars = NULL, *out = NULL;
    ai_model *model = NULL;
    ai_opts *opts = NULL;
    const char *bad_file = NULL;
    if (!(messages = read_all(messages_path))) bad_file = messages_path;
    else if (tools_path && !(tools = read_all(tools_path))) bad_file = tools_path;
    else if (template_path && !(tpl = read_all(template_path))) bad_file = template_path;
    else if (vars_path && !(vars = read_all(vars_path))) bad_file = vars_path;
    if (bad_file) {
        fprintf(stderr, "agentinfer chat-render: %s: cannot read the file (or it holds NUL bytes)\n", bad_file);
        goto done;
    }
    if (ai_opts_new(&opts) != AI_OK ||
        (vars && ai_opts_set_str(opts, AI_OPT_CHAT_VARS, vars) != AI_OK) ||
        (pinned >= 0 && ai_opts_set_int(opts, AI_OPT_CHAT_TIME, pinned) != AI_OK)) {
        fprintf(stderr, "agentinfer chat-render: cannot set options (out of memory or time out of range)\n");
        goto done;
    }
    if (model_path && (rc = cli_load_model(model_path, &model)) != EXIT_OK) goto done;
    rc = EXIT_INPUT;
    /* A template file with a model and no --bos/--eos: the model's tokens. */
    if (tpl && model && !bos && !eos) {
        if (ai_opts_set_str(opts, AI_OPT_CHAT_TEMPLATE, tpl) != AI_OK) goto done;
        free(tpl);
        tpl = NULL;
    }

    char err[1024];
    size_t needed = 0, cap = 0;
    ai_status st;
    for (;;) {
        if (tpl) {
            /* --bos/--eos default to "" with a template file and no model. */
            st = ai_chat_render_template(tpl, bos ? bos : "", eos ? eos : "", messages, tools, opts,
                                         flags, out, cap, &needed, err, sizeof err);
        } else {
            st = ai_chat_render(model, messages, tools, opts, flags, out, cap, &needed, err, sizeof err);
        }
        if (st != AI_E_RANGE || out) break;
        if (!(out = malloc(needed))) { st = AI_E_NOMEM; break; }
        cap = needed;
    }
    if (st != AI_OK) {
        report(template_path ? template_path : model_path, err[0] ? err : ai_status_string(st));
        rc = st == AI_E_INVAL ? EXIT_USAGE : EXIT_INPUT;
        goto done;
    }
    if (needed > 1 && fwrite(out, 1, needed - 1, stdout) != needed - 1) {
        fprintf(stderr, "agentinfer chat-render: write error\n");
        goto done;
    }
    if (fflush(stdout)) goto done;
    rc = EXIT_OK;
done:
    free(out);
    free(messages);
    free(tools);
    free(tpl);
    free(vars);
    ai_opts_free(opts);
    ai_model_free(model);
    return rc;
}
