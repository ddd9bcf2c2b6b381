/*
 * chat.c - renders a conversation with a chat template (public section 8b).
 *
 * Glue between the OpenAI-style JSON the caller gives and the template
 * interpreter (jinja.h): JSON values become template values (the JSON tree
 * stays alive during the render, so strings are not copied), the standard
 * variables are set the way Hugging Face transformers sets them, and the
 * model's GGUF metadata supplies the template, and its tokenizer the BOS/EOS
 * texts.
 */
#include "internal.h"
#include "jinja.h"
#include "json.h"
#include "model.h"
#include "vocab.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Used when a model has no template: ChatML, the most common format among
 * instruct models without one.  Content that is not a string prints as
 * nothing rather than failing. */
static const char chatml_template[] =
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";

/* ---- JSON -> template values ----------------------------------------------------- */

typedef struct conv {
    ai__jctx *c;
    int parse_args;
    ai__json **extra; /* trees made while converting (parsed arguments) */
    size_t n_extra, cap_extra;
    int oom;
} conv;

/* Where from_json is in a message, for AI_CHAT_PARSE_ARGUMENTS: only
 * messages[i].tool_calls[k].function.arguments is ever parsed. */
enum { AT_OTHER, AT_MESSAGE, AT_CALLS, AT_CALL, AT_FUNCTION };

static ai__jv from_json(conv *cv, const ai__json *j, int at);

static ai__jv number(const ai__json *j) {
    const char *s = j->str;
    int is_int = 1;
    for (size_t i = 0; i < j->len; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') is_int = 0;
    if (is_int) {
        char *end;
        long long v = strtoll(s, &end, 10);
        /* Python ints have no limit; beyond int64 we keep the nearest double. */
        if (end == s + j->len && !(v == LLONG_MAX || v == LLONG_MIN)) return ai__jv_int(v);
    }
    return ai__jv_float(strtod(s, NULL));
}

/* An "arguments" string holding a JSON object, parsed into *out
 * (AI_CHAT_PARSE_ARGUMENTS).  0 when the string is not a JSON object: it is
 * then passed as the string it is. */
static int parsed_arguments(conv *cv, const ai__json *j, ai__jv *out) {
    ai__json *t = NULL;
    if (ai__json_parse(j->str, j->len, &t, NULL, 0) != AI_OK) return 0;
    if (t->type != AI__JSON_OBJECT) {
        ai__json_free(t);
        return 0;
    }
    if (cv->n_extra == cv->cap_extra) {
        size_t cap = cv->cap_extra ? cv->cap_extra * 2 : 8;
        ai__json **ne = realloc(cv->extra, cap * sizeof *ne);
        if (!ne) {
            ai__json_free(t);
            cv->oom = 1;
            return 0;
        }
        cv->extra = ne;
        cv->cap_extra = cap;
    }
    cv->extra[cv->n_extra++] = t; /* kept until the render is over */
    *out = from_json(cv, t, AT_OTHER);
    return 1;
}

static int key_is(const ai__json *obj, size_t i, const char *k) {
    return obj->key_lens[i] == strlen(k) && !memcmp(obj->keys[i], k, obj->key_lens[i]);
}

static ai__jv from_json(conv *cv, const ai__json *j, int at) {
    switch (j->type) {
    case AI__JSON_NULL: return ai__jv_none();
    case AI__JSON_FALSE: return ai__jv_bool(0);
    case AI__JSON_TRUE: return ai__jv_bool(1);
    case AI__JSON_NUMBER: return number(j);
    case AI__JSON_STRING: {
        ai__jv v = {.t = AI__JV_STR};
        v.u.s = j->str; /* borrowed from the tree, which outlives the render */
        v.n = j->len;
        return v;
    }
    case AI__JSON_ARRAY: {
        ai__jv l = ai__jv_list(cv->c);
        for (size_t i = 0; i < j->n; i++)
            ai__jv_push(cv->c, l, from_json(cv, j->items[i], at == AT_CALLS ? AT_CALL : AT_OTHER));
        return l;
    }
    case AI__JSON_OBJECT: {
        ai__jv d = ai__jv_dict(cv->c);
        for (size_t i = 0; i < j->n; i++) {
            const ai__json *v = j->items[i];
            ai__jv x;
            int next = AT_OTHER;
            if (at == AT_MESSAGE && key_is(j, i, "tool_calls")) next = AT_CALLS;
            else if (at == AT_CALL && key_is(j, i, "function")) next = AT_FUNCTION;
            if (!(cv->parse_args && at == AT_FUNCTION && v->type == AI__JSON_STRING &&
                  key_is(j, i, "arguments") && parsed_arguments(cv, v, &x)))
                x = from_json(cv, v, next);
            ai__jv_put(cv->c, d, j->keys[i], j->key_lens[i], x);
        }
        return d;
    }
    }
    return ai__jv_none();
}

/* Parses one JSON input; NULL text counts as null when allow_null. */
static ai_status parse_input(const char *what, const char *text, int allow_null, int want,
                             ai__json **out, char *err, size_t err_cap) {
    *out = NULL;
    if (!text) {
        if (allow_null) return AI_OK;
        ai__set_err(err, err_cap, "%s: missing", what);
        return AI_E_INVAL;
    }
    char jerr[200];
    ai_status st = ai__json_parse(text, strlen(text), out, jerr, sizeof jerr);
    if (st != AI_OK) {
        ai__set_err(err, err_cap, "%s: %s", what, jerr);
        return st;
    }
    if ((*out)->type == AI__JSON_NULL && allow_null) return AI_OK;
    if ((int)(*out)->type != want) {
        ai__set_err(err, err_cap, "%s: expected a JSON %s", what,
                    want == AI__JSON_ARRAY ? "array" : "object");
        ai__json_free(*out);
        *out = NULL;
        return AI_E_FORMAT;
    }
    return AI_OK;
}

/* The whole render: template text, token texts and JSON inputs to output. */
static ai_status render(const char *tpl_src, size_t tpl_len, const char *bos, size_t bos_len,
                        const char *eos, size_t eos_len, const char *messages_json,
                        const char *tools_json, const ai_opts *opts, uint32_t flags, char *out,
                        size_t cap, size_t *needed, char *err, size_t err_cap) {
    ai__set_err(err, err_cap, "%s", "");
    if (needed) *needed = 0;
    ai__json *msgs = NULL, *tools = NULL, *vars = NULL;
    ai__jtpl *tpl = NULL;
    ai__jctx *c = NULL;
    conv cv = {0};
    ai__buf b = {0};
    ai_status st = parse_input("messages", messages_json, 0, AI__JSON_ARRAY, &msgs, err, err_cap);
    if (st) goto done;
    st = parse_input("tools", tools_json, 1, AI__JSON_ARRAY, &tools, err, err_cap);
    if (st) goto done;
    st = parse_input("chat_vars", ai__opts_str(opts, AI_OPT_CHAT_VARS, NULL), 1, AI__JSON_OBJECT,
                     &vars, err, err_cap);
    if (st) goto done;
    if (!ai__utf8_valid(bos, bos_len) || !ai__utf8_valid(eos, eos_len)) {
        ai__set_err(err, err_cap, "BOS/EOS token text is not valid UTF-8");
        st = AI_E_FORMAT;
        goto done;
    }
    st = ai__jtpl_parse(tpl_src, tpl_len, &tpl, err, err_cap);
    if (st) goto done;
    st = AI_E_NOMEM;
    if (!(c = ai__jctx_new())) goto done;
    int64_t t = ai__opts_int(opts, AI_OPT_CHAT_TIME, -1);
    if (t >= 0) ai__jctx_set_time(c, t);
    cv.c = c;
    cv.parse_args = (flags & AI_CHAT_PARSE_ARGUMENTS) != 0;
    int bad = 0;
    ai__jv mv = ai__jv_list(c);
    for (size_t i = 0; i < msgs->n; i++) ai__jv_push(c, mv, from_json(&cv, msgs->items[i], AT_MESSAGE));
    bad |= ai__jctx_set(c, "messages", mv);
    bad |= ai__jctx_set(c, "tools", tools && tools->type != AI__JSON_NULL ? from_json(&cv, tools, AT_OTHER)
                                                                           : ai__jv_none());
    bad |= ai__jctx_set(c, "documents", ai__jv_none());
    bad |= ai__jctx_set(c, "add_generation_prompt",
                        ai__jv_bool((flags & AI_CHAT_ADD_GENERATION_PROMPT) != 0));
    bad |= ai__jctx_set(c, "bos_token", ai__jv_str(c, bos, bos_len));
    bad |= ai__jctx_set(c, "eos_token", ai__jv_str(c, eos, eos_len));
    if (vars && vars->type == AI__JSON_OBJECT)
        for (size_t i = 0; i < vars->n; i++) {
            char *name = ai__strndup(vars->keys[i], vars->key_lens[i]);
            if (!name) { bad = 1; break; }
            bad |= ai__jctx_set(c, name, from_json(&cv, vars->items[i], AT_OTHER));
            free(name);
        }
    if (bad || cv.oom) {
        ai__set_err(err, err_cap, "out of memory");
        goto done;
    }
    st = ai__jtpl_render(tpl, c, &b, err, err_cap);
    if (st) goto done;
    if (b.oom) {
        st = AI_E_NOMEM;
        ai__set_err(err, err_cap, "out of memory");
        goto done;
    }
    st = ai__copy_out(b.p ? b.p : "", b.len, out, cap, needed);
    if (st == AI_E_RANGE) ai__set_err(err, err_cap, "output buffer too small: %zu bytes needed", b.len + 1);
done:
    ai__buf_free(&b);
    ai__jctx_free(c);
    ai__jtpl_free(tpl);
    for (size_t i = 0; i < cv.n_extra; i++) ai__json_free(cv.extra[i]);
    free(cv.extra);
    ai__json_free(msgs);
    ai__json_free(tools);
    ai__json_free(vars);
    return st;
}

ai_status ai_chat_render_template(const char *template_utf8, const char *bos_token,
                                  const char *eos_token, const char *messages_json,
                                  const char *tools_json, const ai_opts *opts, uint32_t flags,
                                  char *out, size_t cap, size_t *needed, char *err,
                                  size_t err_cap) {
    if (needed) *needed = 0;
    if (!template_utf8 || !messages_json) {
        ai__set_err(err, err_cap, "ai_chat_render_template: template and messages must not be NULL");
        return AI_E_INVAL;
    }
    if (!bos_token) bos_token = "";
    if (!eos_token) eos_token = "";
    return render(template_utf8, strlen(template_utf8), bos_token, strlen(bos_token), eos_token,
                  strlen(eos_token), messages_json, tools_json, opts, flags, out, cap, needed, err,
                  err_cap);
}

/* The text of the model's BOS (which = 0) or EOS (1) token, or "" when the
 * model does not say.  The tokenizer's ids come first (they include the
 * per-tokenizer defaults); without a loaded vocabulary, the GGUF ids. */
static void token_text(const ai_model *m, int which, const char **s, size_t *n) {
    *s = "";
    *n = 0;
    if (!m) return;
    const struct ai__vocab *v = m->vocab;
    if (v) {
        int32_t id = which ? v->eos : v->bos;
        if (id >= 0 && id < v->n_tokens) {
            *s = v->tokens[id].text;
            *n = v->tokens[id].len;
        }
        return;
    }
    int64_t id;
    const char *key = which ? "tokenizer.ggml.eos_token_id" : "tokenizer.ggml.bos_token_id";
    if (ai__gguf_get_int(m->gguf, key, &id) || id < 0) return;
    const ai__gguf_kv *toks = ai__gguf_find(m->gguf, "tokenizer.ggml.tokens");
    if (!toks || (uint64_t)id >= toks->n) return;
    const char *t;
    size_t tl;
    if (ai__gguf_arr_str(toks, (uint64_t)id, &t, &tl)) return;
    *s = t;
    *n = tl;
}

ai_status ai_chat_render(const ai_model *model, const char *messages_json, const char *tools_json,
                         const ai_opts *opts, uint32_t flags, char *out, size_t cap, size_t *needed,
                         char *err, size_t err_cap) {
    if (needed) *needed = 0;
    const char *tpl = ai__opts_str(opts, AI_OPT_CHAT_TEMPLATE, NULL);
    if ((!model && !tpl) || !messages_json) {
        ai__set_err(err, err_cap, "ai_chat_render: a model (or AI_OPT_CHAT_TEMPLATE) and messages are required");
        return AI_E_INVAL;
    }
    size_t tpl_len = tpl ? strlen(tpl) : 0;
    if (!tpl && model) {
        if (ai__gguf_get_str(model->gguf, "tokenizer.chat_template", &tpl, &tpl_len)) tpl = NULL;
    }
    if (!tpl) {
        tpl = chatml_template;
        tpl_len = sizeof chatml_template - 1;
    }
    const char *bos, *eos;
    size_t bos_len, eos_len;
    token_text(model, 0, &bos, &bos_len);
    token_text(model, 1, &eos, &eos_len);
    return render(tpl, tpl_len, bos, bos_len, eos, eos_len, messages_json, tools_json, opts, flags,
                  out, cap, needed, err, err_cap);
}
