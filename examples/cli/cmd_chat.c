/*
 * cmd_chat.c - `agentinfer chat -m MODEL [--tools FILE] [--system TEXT]
 * [session options]`: an interactive multi-turn chat in the terminal.
 *
 * Each turn renders the whole conversation with the model's chat template
 * (ai_chat_render), tokenizes it, keeps the part of the context that the new
 * prompt shares with the previous one (ai_session_rewind) and evaluates only
 * the rest, then streams the answer.  Tool calls in the answer are parsed in
 * the format detected from the template and shown on stderr.
 *
 * Input lines: a user message; "/tool TEXT" adds a tool result and lets the
 * model continue; "/reset" starts over; "/quit" (or end of input) ends.
 * The answers go to stdout, one per turn, each followed by a newline; the
 * prompt and the tool calls go to stderr, so stdout holds only model text.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: agentinfer chat [-m MODEL] [--tools FILE] [--system TEXT] [--template FILE]\n"
               "         [-n N] [--temp T]\n"
               "         [--top-k K] [--top-p P] [--min-p P] [--seed S] [-t THREADS] [-c CTX]\n"
               "Interactive chat with the model's chat template.  Lines: a message, \"/tool TEXT\"\n"
               "(a tool result), \"/reset\", \"/quit\".  Answers on stdout, the rest on stderr.\n"
               "--template FILE uses that Jinja template instead of the model's.\n");
}

/* A growable string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A JSON string literal for s[0..n). */
static void sb_json_str(sbuf *b, const char *s, size_t n) {
    sb_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c == '\n') sb_put(b, "\\n", 2);
        else if (c == '\t') sb_put(b, "\\t", 2);
        else if (c == '\r') sb_put(b, "\\r", 2);
        else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_put(b, esc, 6);
        } else sb_put(b, s + i, 1);
    }
    sb_put(b, "\"", 1);
}

/* Appends {"role": ROLE, "content": TEXT} to the messages array text. */
static void add_message(sbuf *msgs, const char *role, const char *text, size_t n) {
    msgs->len--; /* drop the closing ']' */
    if (msgs->len > 1) sb_puts(msgs, ", ");
    sb_puts(msgs, "{\"role\": ");
    sb_json_str(msgs, role, strlen(role));
    sb_puts(msgs, ", \"content\": ");
    sb_json_str(msgs, text, n);
    sb_puts(msgs, "}]");
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    sbuf b = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) sb_put(&b, chunk, got);
    fclose(f);
    if (b.oom || !b.p) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Renders with the model's template into a malloc'd string, or prints why
 * not and returns NULL. */
static char *render(const ai_model *m, const char *msgs, const char *tools, const ai_opts *o,
                    uint32_t flags) {
    char err[512];
    size_t need = 0;
    ai_status st = ai_chat_render(m, msgs, tools, o, flags, NULL, 0, &need, err, sizeof err);
    if (st == AI_E_RANGE) {
        char *out = malloc(need);
        if (!out) return NULL;
        st = ai_chat_render(m, msgs, tools, o, flags, out, need, &need, err, sizeof err);
        if (st == AI_OK) return out;
        free(out);
    }
    fprintf(stderr, "agentinfer chat: the template failed: %s\n", err[0] ? err : ai_status_string(st));
    return NULL;
}

typedef struct chat {
    ai_model *m;
    ai_session *s;
    const char *tools;
    const ai_opts *ro;  /* render options: AI_OPT_CHAT_TEMPLATE or NULL */
    int32_t format;
    char *bos;          /* the BOS text the template prints, "" if none */
    int32_t *prev;      /* tokens of the previous prompt (in the context) */
    size_t n_prev;
} chat;

/* One assistant turn on the conversation `msgs`: 0 ok, else an exit code. */
static int turn(chat *c, sbuf *msgs) {
    char *prompt = render(c->m, msgs->p, c->tools, c->ro,
                          AI_CHAT_ADD_GENERATION_PROMPT | AI_CHAT_PARSE_ARGUMENTS);
    if (!prompt) return EXIT_INPUT;
    /* The template writes BOS itself when it uses bos_token; otherwise let
     * the tokenizer add what the model wants. */
    uint32_t tflags = AI_TOKENIZE_PARSE_SPECIAL;
    if (!c->bos[0] || strncmp(prompt, c->bos, strlen(c->bos))) tflags |= AI_TOKENIZE_ADD_SPECIAL;
    int32_t *toks = NULL;
    size_t n = 0;
    ai_status st = cli_tokenize(c->m, prompt, tflags, &toks, &n);
    free(prompt);
    if (st != AI_OK || n == 0) {
        fprintf(stderr, "agentinfer chat: cannot tokenize the prompt: %s\n", ai_status_string(st));
        free(toks);
        return EXIT_INPUT;
    }
    /* Keep the shared prefix of the context; at least one token is
     * evaluated so that there are logits to sample from. */
    size_t keep = 0;
    while (keep < n && keep < c->n_prev && toks[keep] == c->prev[keep]) keep++;
    if (keep == n) keep = n - 1;
    st = ai_session_rewind(c->s, (int32_t)keep);
    if (st == AI_OK) st = ai_session_eval(c->s, toks + keep, n - keep, 0);
    free(c->prev);
    c->prev = toks;
    c->n_prev = n;
    sbuf answer = {0};
    sb_put(&answer, "", 0);
    char piece[1024];
    size_t need;
    while (st == AI_OK) {
        st = ai_session_step(c->s, piece, sizeof piece, &need);
        if (st == AI_OK) {
            fputs(piece, stdout);
            fflush(stdout);
            sb_puts(&answer, piece);
        }
    }
    if (st != AI_DONE) {
        fprintf(stderr, "\nagentinfer chat: %s\n",
                ai_session_errmsg(c->s)[0] ? ai_session_errmsg(c->s) : ai_status_string(st));
        free(answer.p);
        return EXIT_INPUT;
    }
    fputc('\n', stdout);
    fflush(stdout);
    /* Show the tool calls the answer holds. */
    size_t rn = 0;
    if (ai_toolcalls_parse(c->format, answer.p, answer.len, c->tools, NULL, 0, &rn) == AI_E_RANGE) {
        char *res = malloc(rn);
        if (res && ai_toolcalls_parse(c->format, answer.p, answer.len, c->tools, res, rn, &rn) == AI_OK &&
            !strstr(res, "\"tool_calls\":[]"))
            fprintf(stderr, "[tool calls, %s] %s\n", ai_toolcall_format_name(c->format), res);
        free(res);
    }
    /* The raw answer goes back into the conversation: re-rendered, it is
     * the text the model wrote, markup included. */
    add_message(msgs, "assistant", answer.p, answer.len);
    free(answer.p);
    return msgs->oom ? EXIT_INPUT : 0;
}

int cmd_chat(int argc, char **argv) {
    const char *model = NULL, *tools_path = NULL, *system = NULL, *tpl_path = NULL;
    ai_opts *o = NULL;
    if (ai_opts_new(&o) != AI_OK) return EXIT_INPUT;
    for (int i = 1; i < argc; i++) {
        int r = cli_session_opt(argc, argv, &i, o, &model);
        if (r == 1) continue;
        if (r == 0 && !strcmp(argv[i], "--tools") && i + 1 < argc) tools_path = argv[++i];
        else if (r == 0 && !strcmp(argv[i], "--system") && i + 1 < argc) system = argv[++i];
        else if (r == 0 && !strcmp(argv[i], "--template") && i + 1 < argc) tpl_path = argv[++i];
        else if (r == 0 && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
            usage(stdout);
            ai_opts_free(o);
            return EXIT_OK;
        } else {
            fprintf(stderr, "agentinfer chat: bad or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            ai_opts_free(o);
            return EXIT_USAGE;
        }
    }
    if (!model) model = cli_default_model();
    if (!model) {
        usage(stderr);
        ai_opts_free(o);
        return EXIT_USAGE;
    }
    chat c = {0};
    char *tools = NULL;
    if (tools_path && !(tools = read_file(tools_path))) {
        fprintf(stderr, "agentinfer chat: %s: cannot read the file\n", tools_path);
        ai_opts_free(o);
        return EXIT_INPUT;
    }
    c.tools = tools;
    ai_opts *ro = NULL;
    char *tpl = NULL;
    if (tpl_path) {
        if (!(tpl = read_file(tpl_path))) {
            fprintf(stderr, "agentinfer chat: %s: cannot read the file\n", tpl_path);
            free(tools);
            ai_opts_free(o);
            return EXIT_INPUT;
        }
        if (ai_opts_new(&ro) != AI_OK || ai_opts_set_str(ro, AI_OPT_CHAT_TEMPLATE, tpl) != AI_OK) {
            fprintf(stderr, "agentinfer chat: out of memory\n");
            free(tpl);
            free(tools);
            ai_opts_free(ro);
            ai_opts_free(o);
            return EXIT_INPUT;
        }
        c.ro = ro;
    }
    int rc = cli_open_session(model, o, &c.m, &c.s);
    ai_opts_free(o);
    if (rc) {
        free(tpl);
        free(tools);
        ai_opts_free(ro);
        return rc;
    }
    if ((tpl ? ai_toolcall_format_detect(tpl, strlen(tpl), &c.format)
             : ai_model_toolcall_format(c.m, &c.format)) != AI_OK &&
        c.format <= 0)
        c.format = AI_TOOLCALL_GENERIC_JSON;
    /* The BOS text, learnt by rendering "{{ bos_token }}". */
    ai_opts *bo = NULL;
    if (ai_opts_new(&bo) == AI_OK && ai_opts_set_str(bo, AI_OPT_CHAT_TEMPLATE, "{{ bos_token }}") == AI_OK)
        c.bos = render(c.m, "[]", NULL, bo, 0);
    ai_opts_free(bo);
    if (!c.bos) c.bos = calloc(1, 1);

    sbuf msgs = {0};
    sb_puts(&msgs, "[]");
    if (system) add_message(&msgs, "system", system, strlen(system));
    char *line = NULL;
    size_t cap = 0;
    rc = EXIT_OK;
    for (;;) {
        fputs("> ", stderr);
        fflush(stderr);
        ssize_t got = getline(&line, &cap, stdin);
        if (got < 0) break;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
        if (got == 0) continue;
        if (!strcmp(line, "/quit") || !strcmp(line, "/exit")) break;
        if (!strcmp(line, "/reset")) {
            msgs.len = 0;
            sb_puts(&msgs, "[]");
            if (system) add_message(&msgs, "system", system, strlen(system));
            continue;
        }
        if (!strncmp(line, "/tool ", 6)) add_message(&msgs, "tool", line + 6, (size_t)got - 6);
        else add_message(&msgs, "user", line, (size_t)got);
        if (msgs.oom) {
            fprintf(stderr, "agentinfer chat: out of memory\n");
            rc = EXIT_INPUT;
            break;
        }
        if ((rc = turn(&c, &msgs)) != 0) break;
    }
    free(line);
    free(msgs.p);
    free(c.prev);
    free(c.bos);
    free(tpl);
    ai_opts_free(ro);
    free(tools);
    ai_session_free(c.s);
    ai_model_free(c.m);
    return rc;
}
