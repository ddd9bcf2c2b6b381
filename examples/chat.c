/*
 * chat.c - a multi-turn chat in the terminal with the model's chat template
 * and prefix reuse.
 *
 *   chat -m MODEL [--system TEXT] [--template FILE] [-n MAX_TOKENS] [--temp T]
 *
 * Each line on stdin is a user message.  Every turn renders the whole
 * conversation with the template (ai_chat_render), tokenizes it and hands it
 * to ai_session_prompt(), which keeps the part of the KV cache the new prompt
 * shares with the context and evaluates only the rest: the cost of a turn is
 * the new text, not the whole conversation.  Answers go to stdout, one line
 * per turn; "[reused N of M tokens]" goes to stderr.  Uses only <agentinfer.h>.
 */
#define _POSIX_C_SOURCE 200809L
#include <agentinfer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable NUL-terminated string; `oom` sticks once memory ran out. */
typedef struct str {
    char *p;
    size_t len, cap;
    int oom;
} str;

static void put(str *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(str *b, const char *s) { put(b, s, strlen(s)); }

/* s[0..n) as a JSON string literal. */
static void put_json(str *b, const char *s, size_t n) {
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c == '\n') put(b, "\\n", 2);
        else if (c == '\t') put(b, "\\t", 2);
        else if (c == '\r') put(b, "\\r", 2);
        else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        } else put(b, s + i, 1);
    }
    put(b, "\"", 1);
}

/* Appends {"role": ROLE, "content": TEXT} to a JSON array held in `msgs`. */
static void add_message(str *msgs, const char *role, const char *text, size_t n) {
    msgs->len--; /* the closing ']' */
    if (msgs->len > 1) puts_(msgs, ", ");
    puts_(msgs, "{\"role\": ");
    put_json(msgs, role, strlen(role));
    puts_(msgs, ", \"content\": ");
    put_json(msgs, text, n);
    puts_(msgs, "}]");
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    str b = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) put(&b, chunk, got);
    fclose(f);
    if (b.oom || !b.p) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Renders the conversation into a malloc'd prompt (NULL on error, printed). */
static char *render(const ai_model *m, const char *msgs, const ai_opts *ro) {
    char err[512] = "";
    size_t need = 0;
    ai_status st = ai_chat_render(m, msgs, NULL, ro, AI_CHAT_ADD_GENERATION_PROMPT, NULL, 0, &need,
                                  err, sizeof err);
    if (st == AI_E_RANGE) {
        char *out = malloc(need);
        if (!out) return NULL;
        st = ai_chat_render(m, msgs, NULL, ro, AI_CHAT_ADD_GENERATION_PROMPT, out, need, &need, err,
                            sizeof err);
        if (st == AI_OK) return out;
        free(out);
    }
    fprintf(stderr, "chat: the template failed: %s\n", err[0] ? err : ai_status_string(st));
    return NULL;
}

int main(int argc, char **argv) {
    const char *path = NULL, *system = NULL, *tpl_path = NULL;
    ai_opts *so = NULL, *ro = NULL;
    if (ai_opts_new(&so) != AI_OK || ai_opts_new(&ro) != AI_OK) return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        ai_status st = AI_OK;
        if (!v) st = AI_E_INVAL;
        else if (!strcmp(a, "-m")) path = v;
        else if (!strcmp(a, "--system")) system = v;
        else if (!strcmp(a, "--template")) tpl_path = v;
        else if (!strcmp(a, "-n")) st = ai_opts_set_int(so, AI_OPT_MAX_TOKENS, atoll(v));
        else if (!strcmp(a, "--temp")) st = ai_opts_set_double(so, AI_OPT_TEMPERATURE, atof(v));
        else if (!strcmp(a, "-c")) st = ai_opts_set_int(so, AI_OPT_N_CTX, atoll(v));
        else st = AI_E_INVAL;
        if (st != AI_OK) {
            fprintf(stderr, "usage: chat -m MODEL [--system TEXT] [--template FILE] [-n N] [--temp T] [-c CTX]\n");
            ai_opts_free(so);
            ai_opts_free(ro);
            return 1;
        }
        i++;
    }
    if (!path) {
        fprintf(stderr, "usage: chat -m MODEL [--system TEXT] [--template FILE] [-n N] [--temp T] [-c CTX]\n");
        ai_opts_free(so);
        ai_opts_free(ro);
        return 1;
    }
    if (tpl_path) {
        char *tpl = slurp(tpl_path);
        if (!tpl || ai_opts_set_str(ro, AI_OPT_CHAT_TEMPLATE, tpl) != AI_OK) {
            fprintf(stderr, "chat: %s: cannot read the template\n", tpl_path);
            free(tpl);
            ai_opts_free(so);
            ai_opts_free(ro);
            return 2;
        }
        free(tpl); /* the option bag holds its own copy */
    }
    char err[512] = "";
    ai_model *m = NULL;
    ai_session *s = NULL;
    if (ai_model_load(path, NULL, &m, err, sizeof err) != AI_OK ||
        ai_session_new(m, so, &s, err, sizeof err) != AI_OK) {
        fprintf(stderr, "chat: %s: %s\n", path, err);
        ai_model_free(m);
        ai_opts_free(so);
        ai_opts_free(ro);
        return 2;
    }
    ai_opts_free(so);

    str msgs = {0};
    puts_(&msgs, "[]");
    if (system) add_message(&msgs, "system", system, strlen(system));
    char *line = NULL;
    size_t line_cap = 0;
    int rc = 0;
    ssize_t got;
    while (rc == 0 && (got = getline(&line, &line_cap, stdin)) >= 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
        if (got == 0) continue;
        add_message(&msgs, "user", line, (size_t)got);
        char *prompt = msgs.oom ? NULL : render(m, msgs.p, ro);
        if (!prompt) {
            rc = 2;
            break;
        }
        /* The template writes the special tokens as text: parse them. */
        size_t len = strlen(prompt), n = 0;
        int32_t *toks = malloc((3 * len + 3) * sizeof *toks);
        ai_status st = toks ? ai_tokenize(m, prompt, len, AI_TOKENIZE_PARSE_SPECIAL, toks, 3 * len + 3, &n)
                            : AI_E_NOMEM;
        free(prompt);
        if (st == AI_OK) st = ai_session_prompt(s, toks, n, 0);
        free(toks);
        if (st == AI_OK) fprintf(stderr, "[reused %d of %zu tokens]\n", (int)ai_session_n_reused(s), n);
        str answer = {0};
        puts_(&answer, "");
        char piece[512];
        size_t need;
        while (st == AI_OK) {
            st = ai_session_step(s, piece, sizeof piece, &need);
            if (st == AI_OK) {
                fputs(piece, stdout);
                fflush(stdout);
                puts_(&answer, piece);
            }
        }
        putchar('\n');
        fflush(stdout);
        if (st != AI_DONE || answer.oom) {
            fprintf(stderr, "chat: %s\n", ai_session_errmsg(s)[0] ? ai_session_errmsg(s) : ai_status_string(st));
            rc = 2;
        } else {
            add_message(&msgs, "assistant", answer.p, answer.len);
        }
        free(answer.p);
    }
    free(line);
    free(msgs.p);
    ai_opts_free(ro);
    ai_session_free(s);
    ai_model_free(m);
    return rc;
}
