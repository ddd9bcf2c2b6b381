/*
 * toolcall.c - the tool-call parser's frame: format names and detection,
 * the declared tools, reasoning removal, call checks, the result JSON and
 * the public one-shot call.  The per-format scanners are in toolcall_fmt.c.
 */
#include "toolcall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- formats ------------------------------------------------------------ */

static const char *const format_names[] = {
    NULL, "hermes", "llama3_json", "pythonic", "lfm2", "mistral", "mistral_v11",
    "qwen3_coder_xml", "gemma4", "functionary_v3_1", "functionary_v3_2", "deepseek_r1",
    "deepseek_v3_1", "gpt_oss_harmony", "command_r", "granite", "kimi_k2", "glm45",
    "minimax_m2", "firefunction_v2", "generic_json",
};
enum { N_FORMATS = (int)(sizeof format_names / sizeof format_names[0]) };

const char *ai__tc_format_name(int format) {
    return format > 0 && format < N_FORMATS ? format_names[format] : NULL;
}

const char *ai_toolcall_format_name(int32_t format) { return ai__tc_format_name(format); }

ai_status ai_toolcall_format_from_name(const char *name, int32_t *format) {
    if (!name || !format) return AI_E_INVAL;
    for (int i = 1; i < N_FORMATS; i++)
        if (!strcmp(name, format_names[i])) {
            *format = i;
            return AI_OK;
        }
    return AI_E_NOT_FOUND;
}

static int has(const char *s, size_t n, const char *lit) {
    size_t l = strlen(lit);
    return l <= n && memmem(s, n, lit, l) != NULL;
}

/* Ordered rules, most specific first: a template that renders several
 * families' markers (rare) gets the first that matches.  Each rule names
 * literals that the family's template writes when it renders tool calls. */
ai_status ai_toolcall_format_detect(const char *tp, size_t n, int32_t *format) {
    if (!tp || !format) return AI_E_INVAL;
    int f = 0;
    if (has(tp, n, "<|channel|>") && has(tp, n, "<|message|>")) f = AI_TOOLCALL_GPT_OSS_HARMONY;
    else if (has(tp, n, ">>>all")) f = AI_TOOLCALL_FUNCTIONARY_V3_2;
    else if (has(tp, n, "<|tool_calls_section_begin|>")) f = AI_TOOLCALL_KIMI_K2;
    else if (has(tp, n, "<|tool_call>") && has(tp, n, "call:")) f = AI_TOOLCALL_GEMMA4;
    else if (has(tp, n, "<minimax:tool_call>")) f = AI_TOOLCALL_MINIMAX_M2;
    else if (has(tp, n, "<function=") && has(tp, n, "<parameter=")) f = AI_TOOLCALL_QWEN3_CODER_XML;
    else if (has(tp, n, "<arg_key>")) f = AI_TOOLCALL_GLM45;
    else if (has(tp, n, "<\xef\xbd\x9ctool\xe2\x96\x81" "calls\xe2\x96\x81" "begin\xef\xbd\x9c>")) {
        /* R1 fences the arguments in ```json; V3.1 writes them bare */
        f = has(tp, n, "```json") ? AI_TOOLCALL_DEEPSEEK_R1 : AI_TOOLCALL_DEEPSEEK_V3_1;
    } else if (has(tp, n, "<|START_ACTION|>")) f = AI_TOOLCALL_COMMAND_R;
    else if (has(tp, n, "<|tool_call_start|>") || has(tp, n, "<|tool_list_start|>") ||
             (has(tp, n, "List of tools: ") && has(tp, n, "<|im_start|>")))
        f = AI_TOOLCALL_LFM2;
    else if (has(tp, n, "[TOOL_CALLS]"))
        f = has(tp, n, "[ARGS]") ? AI_TOOLCALL_MISTRAL_V11 : AI_TOOLCALL_MISTRAL;
    else if (has(tp, n, " functools[")) f = AI_TOOLCALL_FIREFUNCTION_V2;
    else if (has(tp, n, "<|tool_call|>")) f = AI_TOOLCALL_GRANITE;
    else if (has(tp, n, "<function=")) f = AI_TOOLCALL_FUNCTIONARY_V3_1;
    else if (has(tp, n, "<tool_call>")) f = AI_TOOLCALL_HERMES;
    else if (has(tp, n, "<|python_start|>") || has(tp, n, "[func_name1(")) f = AI_TOOLCALL_PYTHONIC;
    else if (has(tp, n, "<|start_header_id|>") &&
             (has(tp, n, "ipython") || has(tp, n, "<|python_tag|>")))
        f = AI_TOOLCALL_LLAMA3_JSON;
    if (!f) {
        *format = AI_TOOLCALL_GENERIC_JSON;
        return AI_E_NOT_FOUND;
    }
    *format = f;
    return AI_OK;
}

ai_status ai_model_toolcall_format(const ai_model *model, int32_t *format) {
    if (!model || !format) return AI_E_INVAL;
    size_t need = 0;
    ai_status st = ai_model_meta_str(model, "tokenizer.chat_template", NULL, 0, &need);
    if (st == AI_E_NOT_FOUND) {
        *format = AI_TOOLCALL_GENERIC_JSON;
        return AI_E_NOT_FOUND;
    }
    if (st != AI_E_RANGE && st != AI_OK) return st;
    char *tp = malloc(need ? need : 1);
    if (!tp) return AI_E_NOMEM;
    st = ai_model_meta_str(model, "tokenizer.chat_template", tp, need, &need);
    if (st == AI_OK) st = ai_toolcall_format_detect(tp, need - 1, format);
    free(tp);
    return st;
}

/* ---- tools -------------------------------------------------------------- */

ai_status ai__tc_tools_parse(const char *json, size_t len, tc_tools *out, char *err,
                             size_t err_cap) {
    memset(out, 0, sizeof *out);
    char e[160];
    ai_status st = ai__json_parse(json, len, &out->doc, e, sizeof e);
    if (st != AI_OK) {
        ai__set_err(err, err_cap, "tools: %s", e);
        return st;
    }
    const ai__json *d = out->doc;
    if (d->type != AI__JSON_ARRAY) {
        ai__set_err(err, err_cap, "tools: an array is expected");
        goto bad;
    }
    out->v = calloc(d->n ? d->n : 1, sizeof *out->v);
    if (!out->v) {
        ai__tc_tools_free(out);
        return AI_E_NOMEM;
    }
    for (size_t i = 0; i < d->n; i++) {
        const ai__json *t = d->items[i], *fn = ai__json_get(t, "function");
        if (fn && fn->type == AI__JSON_OBJECT) t = fn;
        const ai__json *name = ai__json_get(t, "name");
        if (!name || name->type != AI__JSON_STRING || name->len == 0) {
            ai__set_err(err, err_cap, "tools: entry %zu has no name", i);
            goto bad;
        }
        const ai__json *params = ai__json_get(t, "parameters");
        const ai__json *props = params ? ai__json_get(params, "properties") : NULL;
        out->v[out->n].name = name->str;
        out->v[out->n].name_len = name->len;
        out->v[out->n].props = props && props->type == AI__JSON_OBJECT ? props : NULL;
        out->n++;
    }
    return AI_OK;
bad:
    ai__tc_tools_free(out);
    return AI_E_FORMAT;
}

void ai__tc_tools_free(tc_tools *t) {
    if (!t) return;
    ai__json_free(t->doc);
    free(t->v);
    memset(t, 0, sizeof *t);
}

const tc_tool *ai__tc_tools_find(const tc_tools *t, const char *name, size_t len) {
    for (size_t i = 0; t && i < t->n; i++)
        if (t->v[i].name_len == len && !memcmp(t->v[i].name, name, len)) return &t->v[i];
    return NULL;
}

/* ---- errors and calls --------------------------------------------------- */

void ai__tc_fail(tc *t, size_t at, const char *what) {
    if (t->error || t->pending) return;
    t->error = 1;
    snprintf(t->msg, sizeof t->msg, "%s at byte %zu", what, at);
}

void ai__tc_more(tc *t, size_t at, const char *what) {
    if (t->error || t->pending) return;
    if (t->partial) {
        t->pending = 1;
        return;
    }
    t->error = 1;
    t->truncated = 1;
    snprintf(t->msg, sizeof t->msg, "output ends inside %s (truncated) at byte %zu", what, at);
}

int ai__tc_add_call(tc *t, size_t at, const char *name, size_t name_len, ai__json *args,
                    const char *id, size_t id_len) {
    if (t->error || t->pending) {
        ai__json_free(args);
        return -1;
    }
    if (name_len == 0) {
        ai__json_free(args);
        ai__tc_fail(t, at, "empty tool name");
        return -1;
    }
    if (!args) {
        ai__tc_fail(t, at, "missing arguments");
        return -1;
    }
    if (args->type == AI__JSON_STRING) {
        /* a string that holds an object: decoded once, at the top only */
        ai__json *inner = NULL;
        if (ai__json_parse(args->str, args->len, &inner, NULL, 0) != AI_OK ||
            inner->type != AI__JSON_OBJECT) {
            ai__json_free(inner);
            ai__json_free(args);
            ai__tc_fail(t, at, "arguments are a string that does not hold a JSON object");
            return -1;
        }
        ai__json_free(args);
        args = inner;
    }
    if (args->type != AI__JSON_OBJECT) {
        ai__json_free(args);
        ai__tc_fail(t, at, "arguments are not an object");
        return -1;
    }
    if (t->tools && !ai__tc_tools_find(t->tools, name, name_len)) {
        ai__json_free(args);
        char m[120];
        snprintf(m, sizeof m, "tool '%.*s' was not declared", (int)(name_len > 60 ? 60 : name_len),
                 name);
        ai__tc_fail(t, at, m);
        return -1;
    }
    ai__json *c = ai__json_new(AI__JSON_OBJECT);
    if (!c || !t->calls) {
        ai__json_free(c);
        ai__json_free(args);
        t->nomem = 1;
        return -1;
    }
    int rc = ai__json_set(c, "name", 4, ai__json_new_str(name, name_len));
    rc |= ai__json_set(c, "arguments", 9, args);
    if (id) rc |= ai__json_set(c, "id", 2, ai__json_new_str(id, id_len));
    if (rc || ai__json_push(t->calls, c)) {
        if (rc) ai__json_free(c);
        t->nomem = 1;
        return -1;
    }
    return 0;
}

/* The schema "type" of a parameter: 's' string, 'n' non-string, 'u'
 * unknown (no tools, no such parameter, or no plain type). */
static char param_kind(const tc *t, const char *fn, size_t fn_len, const char *key,
                       size_t key_len) {
    const tc_tool *tool = t->tools ? ai__tc_tools_find(t->tools, fn, fn_len) : NULL;
    const ai__json *p = tool && tool->props ? ai__json_getn(tool->props, key, key_len) : NULL;
    const ai__json *ty = p ? ai__json_get(p, "type") : NULL;
    if (!ty) return 'u';
    if (ty->type == AI__JSON_STRING) return strcmp(ty->str, "string") ? 'n' : 's';
    if (ty->type == AI__JSON_ARRAY) { /* ["string", "null"] and the like */
        for (size_t i = 0; i < ty->n; i++)
            if (ty->items[i]->type == AI__JSON_STRING && !strcmp(ty->items[i]->str, "string"))
                return 's';
        return 'n';
    }
    return 'u';
}

ai__json *ai__tc_xml_value(tc *t, size_t at, const char *fn, size_t fn_len, const char *key,
                           size_t key_len, const char *v, size_t v_len) {
    char kind = param_kind(t, fn, fn_len, key, key_len);
    ai__json *j = NULL;
    if (kind == 's') {
        j = ai__json_new_str(v, v_len);
        if (!j) t->nomem = 1;
        return j;
    }
    /* trim for decoding */
    size_t a = 0, b = v_len;
    while (a < b && (v[a] == ' ' || v[a] == '\n' || v[a] == '\r' || v[a] == '\t')) a++;
    while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\n' || v[b - 1] == '\r' || v[b - 1] == '\t')) b--;
    if (ai__json_parse(v + a, b - a, &j, NULL, 0) == AI_OK) return j;
    /* Python spellings that models use for booleans and null */
    if (b - a == 4 && !memcmp(v + a, "True", 4)) return ai__json_new(AI__JSON_TRUE);
    if (b - a == 5 && !memcmp(v + a, "False", 5)) return ai__json_new(AI__JSON_FALSE);
    if (b - a == 4 && !memcmp(v + a, "None", 4)) return ai__json_new(AI__JSON_NULL);
    if (kind == 'u') { /* no schema says otherwise: keep the text */
        j = ai__json_new_str(v, v_len);
        if (!j) t->nomem = 1;
        return j;
    }
    char m[160];
    snprintf(m, sizeof m, "value of parameter '%.*s' is not valid for its declared type",
             (int)(key_len > 60 ? 60 : key_len), key);
    ai__tc_fail(t, at, m);
    return NULL;
}

/* ---- the run ------------------------------------------------------------ */

typedef struct rsn_tags {
    const char *open, *close;
} rsn_tags;

static const rsn_tags think = {"<think>", "</think>"};

/* The reasoning block markup of a format, or NULL (harmony has channels). */
static const rsn_tags *format_reasoning(int f, int alt) {
    static const rsn_tags v11 = {"[THINK]", "[/THINK]"};
    static const rsn_tags gemma = {"<|channel>thought", "<channel|>"};
    static const rsn_tags cmdr = {"<|START_THINKING|>", "<|END_THINKING|>"};
    static const rsn_tags seed = {"<seed:think>", "</seed:think>"};
    if (alt) return f == AI_TOOLCALL_QWEN3_CODER_XML ? &seed : NULL;
    switch (f) {
    case AI_TOOLCALL_GPT_OSS_HARMONY: return NULL;
    case AI_TOOLCALL_MISTRAL_V11: return &v11;
    case AI_TOOLCALL_GEMMA4: return &gemma;
    case AI_TOOLCALL_COMMAND_R: return &cmdr;
    default: return &think;
    }
}

/* Tokens that end a turn; removed from the end of the text. */
const char *const ai__tc_stops[] = {
    "<|eom_id|>", "<|eot_id|>", "<|call|>", "<|return|>", "<|im_end|>", "<|endoftext|>",
    "</s>", "<|END_OF_TURN_TOKEN|>", "<end_of_turn>", "<turn|>", "<|end_of_text|>",
    ("<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"), "[/TOOL_CALLS]",
    "<|eos|>",
};
const size_t ai__tc_n_stops = sizeof ai__tc_stops / sizeof ai__tc_stops[0];

static int is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static size_t strip_stops(const char *s, size_t n) {
    for (;;) {
        size_t m = n;
        while (m && is_ws(s[m - 1])) m--;
        int hit = 0;
        for (size_t i = 0; i < ai__tc_n_stops; i++) {
            size_t l = strlen(ai__tc_stops[i]);
            if (l <= m && !memcmp(s + m - l, ai__tc_stops[i], l)) {
                n = m - l;
                hit = 1;
                break;
            }
        }
        if (!hit) return n;
    }
}

static const char *find(const char *s, size_t from, size_t n, const char *lit) {
    size_t l = strlen(lit);
    if (from > n || n - from < l) return NULL;
    return memmem(s + from, n - from, lit, l);
}

/* 1 when s[a..n) is a proper prefix of lit (the text may become lit). */
static int cut_prefix(const char *s, size_t a, size_t n, const char *lit) {
    size_t l = strlen(lit), k = n - a;
    return k < l && !memcmp(s + a, lit, k);
}

/* Longest suffix of s[a..n) that is a proper prefix of lit. */
static size_t tail_overlap(const char *s, size_t a, size_t n, const char *lit) {
    size_t l = strlen(lit), best = 0;
    for (size_t k = 1; k < l && k <= n - a; k++)
        if (!memcmp(s + n - k, lit, k)) best = k;
    return best;
}

/* Removes the leading reasoning block(s).  Sets t->body and t->rsn_end. */
static void split_reasoning(tc *t, const rsn_tags *r, int think_open) {
    const char *s = t->s;
    size_t n = t->n, pos = 0;
    size_t lo = strlen(r->open), lc = strlen(r->close);
    if (!think_open) {
        const char *c = find(s, 0, n, r->close), *o = find(s, 0, n, r->open);
        if (c && (!o || c < o)) { /* the prompt opened the block */
            ai__buf_put(&t->reasoning, s, (size_t)(c - s));
            pos = (size_t)(c - s) + lc;
            t->rsn_end = t->body = pos;
        }
    }
    for (int first = 1;; first = 0) {
        size_t q = pos;
        while (q < n && is_ws(s[q])) q++;
        size_t start;
        if (first && think_open && pos == 0) {
            start = 0;
        } else if (q + lo <= n && !memcmp(s + q, r->open, lo)) {
            start = q + lo;
        } else {
            if (t->partial && q < n && cut_prefix(s, q, n, r->open)) t->pending = 1;
            break;
        }
        const char *c = find(s, start, n, r->close);
        if (t->reasoning.len) ai__buf_putc(&t->reasoning, '\n');
        if (!c) { /* unclosed: the output stopped while reasoning */
            size_t end = n;
            if (t->partial) end -= tail_overlap(s, start, n, r->close);
            ai__buf_put(&t->reasoning, s + start, end - start);
            t->rsn_open = 1;
            pos = n;
            t->rsn_end = n;
            break;
        }
        ai__buf_put(&t->reasoning, s + start, (size_t)(c - s) - start);
        pos = (size_t)(c - s) + lc;
        t->rsn_end = pos;
    }
    t->body = pos;
}

ai_status ai__tc_run(tc *t, int format, const char *text, size_t len, const tc_tools *tools,
                     int partial, int think_open, const tc_resume *rs) {
    memset(t, 0, sizeof *t);
    t->format = format;
    t->tools = tools;
    t->partial = partial;
    t->s = text ? text : "";
    t->n = strip_stops(t->s, len);
    t->calls = ai__json_new(AI__JSON_ARRAY);
    if (!t->calls) return AI_E_NOMEM;
    const rsn_tags *r = format_reasoning(format, 0);
    if (rs && partial) {
        ai__buf_put(&t->content, rs->content, rs->content_len);
        ai__buf_put(&t->reasoning, rs->reasoning, rs->reasoning_len);
        t->body = t->rsn_end = rs->pos <= t->n ? rs->pos : t->n;
    } else if (r) {
        split_reasoning(t, r, think_open);
        const rsn_tags *alt = format_reasoning(format, 1);
        if (alt && !t->reasoning.len && !t->pending) split_reasoning(t, alt, think_open);
    }
    t->safe = t->body;
    t->safe_content = t->content.len;
    t->safe_calls = 0;
    if (!t->pending && !t->rsn_open) ai__tc_scan(t);
    if (t->nomem || t->content.oom || t->reasoning.oom) return AI_E_NOMEM;
    if (t->error) {
        /* no half batches: no calls, and the text (minus reasoning) is content */
        ai__json_free(t->calls);
        t->calls = ai__json_new(AI__JSON_ARRAY);
        t->content.len = 0;
        size_t from = format == AI_TOOLCALL_GPT_OSS_HARMONY ? 0 : t->rsn_end;
        if (format == AI_TOOLCALL_GPT_OSS_HARMONY) t->reasoning.len = 0;
        ai__buf_put(&t->content, t->s + from, t->n - from);
        if (!t->calls || t->content.oom) return AI_E_NOMEM;
    }
    return AI_OK;
}

void ai__tc_free(tc *t) {
    ai__buf_free(&t->content);
    ai__buf_free(&t->reasoning);
    ai__json_free(t->calls);
    t->calls = NULL;
}

static void trimmed(const ai__buf *b, size_t *a, size_t *e) {
    size_t x = 0, y = b->len;
    while (x < y && is_ws(b->p[x])) x++;
    while (y > x && is_ws(b->p[y - 1])) y--;
    *a = x;
    *e = y;
}

void ai__tc_write_result(ai__buf *b, const tc *t) {
    size_t a, e;
    ai__buf_puts(b, "{\"content\":");
    trimmed(&t->content, &a, &e);
    ai__json_write_str(b, t->content.p ? t->content.p + a : "", e - a, 0);
    trimmed(&t->reasoning, &a, &e);
    if (e > a) {
        ai__buf_puts(b, ",\"reasoning\":");
        ai__json_write_str(b, t->reasoning.p + a, e - a, 0);
    }
    ai__buf_puts(b, ",\"tool_calls\":");
    ai__json_write(b, t->calls, 0, -1);
    ai__buf_puts(b, t->error ? ",\"error\":true,\"message\":" : ",\"error\":false}");
    if (t->error) {
        ai__json_write_str(b, t->msg, strlen(t->msg), 0);
        ai__buf_putc(b, '}');
    }
}

ai_status ai_toolcalls_parse(int32_t format, const char *text, size_t len,
                             const char *tools_json, char *out, size_t cap, size_t *needed) {
    if (needed) *needed = 0;
    if ((!text && len) || !ai__tc_format_name(format)) return AI_E_INVAL;
    if (!ai__utf8_valid(text ? text : "", len)) return AI_E_FORMAT;
    tc_tools tools;
    int have_tools = tools_json != NULL;
    if (have_tools) {
        ai_status st = ai__tc_tools_parse(tools_json, strlen(tools_json), &tools, NULL, 0);
        if (st != AI_OK) return st;
    }
    tc t;
    ai_status st = ai__tc_run(&t, format, text, len, have_tools ? &tools : NULL, 0, 0, NULL);
    ai__buf b = {0};
    if (st == AI_OK) {
        ai__tc_write_result(&b, &t);
        st = b.oom ? AI_E_NOMEM : ai__copy_out(ai__buf_cstr(&b), b.len, out, cap, needed);
    }
    ai__buf_free(&b);
    ai__tc_free(&t);
    if (have_tools) ai__tc_tools_free(&tools);
    return st;
}
