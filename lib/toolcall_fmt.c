/*
 * toolcall_fmt.c - one scanner per tool-call format.
 *
 * Each scanner walks t->s[t->body..t->n) once, appending content pieces and
 * calls to t.  Call ends are found by parsing (JSON, Python and Gemma
 * literals are read by their grammars, so a closing tag or a brace inside a
 * string never ends a call); only raw-text values (XML-style parameters) and
 * plain content are delimited by searching, as their markup defines.
 *
 * In partial mode (streaming) a scanner stops with t->pending at the first
 * point where more text could change the outcome; the calls of an unfinished
 * block are dropped and the trailing content that could be the start of a
 * marker is held back.
 */
#include "toolcall.h"

#include <stdio.h>
#include <string.h>

#define FAILED ((size_t)-1)

/* Markers (byte-exact; DeepSeek's use U+FF5C and U+2581). */
#define DS_CALLS_BEGIN "<\xef\xbd\x9ctool\xe2\x96\x81" "calls\xe2\x96\x81" "begin\xef\xbd\x9c>"
#define DS_CALLS_END "<\xef\xbd\x9ctool\xe2\x96\x81" "calls\xe2\x96\x81" "end\xef\xbd\x9c>"
#define DS_CALL_BEGIN "<\xef\xbd\x9ctool\xe2\x96\x81" "call\xe2\x96\x81" "begin\xef\xbd\x9c>"
#define DS_CALL_END "<\xef\xbd\x9ctool\xe2\x96\x81" "call\xe2\x96\x81" "end\xef\xbd\x9c>"
#define DS_SEP "<\xef\xbd\x9ctool\xe2\x96\x81sep\xef\xbd\x9c>"

/* ---- small helpers ------------------------------------------------------ */

static int is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static size_t skip_ws(const tc *t, size_t p) {
    while (p < t->n && is_ws(t->s[p])) p++;
    return p;
}

static size_t find(const tc *t, size_t from, const char *lit) {
    size_t l = strlen(lit);
    if (from > t->n || t->n - from < l) return FAILED;
    const char *h = memmem(t->s + from, t->n - from, lit, l);
    return h ? (size_t)(h - t->s) : FAILED;
}

/* 1: lit is at p; 0: it is not; -1: the text ends inside a prefix of lit. */
static int at(const tc *t, size_t p, const char *lit) {
    size_t l = strlen(lit);
    if (p + l <= t->n) return !memcmp(t->s + p, lit, l) ? 1 : 0;
    return !memcmp(t->s + p, lit, t->n - p) ? -1 : 0;
}

/* Longest suffix of s[a..n) that is a proper prefix of lit. */
static size_t overlap(const tc *t, size_t a, const char *lit) {
    size_t l = strlen(lit), best = 0;
    for (size_t k = 1; k < l && k <= t->n - a; k++)
        if (!memcmp(t->s + t->n - k, lit, k)) best = k;
    return best;
}

static void text(tc *t, size_t a, size_t b) {
    if (b > a) ai__buf_put(&t->content, t->s + a, b - a);
}

/* The last content piece, s[a..n).  In partial mode, a tail that could grow
 * into one of the markers (or a stop token) is held back. */
static void tail(tc *t, size_t a, const char *const *marks, size_t nm) {
    size_t hold = 0;
    if (t->partial) {
        for (size_t i = 0; i < nm; i++) {
            size_t o = overlap(t, a, marks[i]);
            if (o > hold) hold = o;
        }
        /* stop tokens are stripped from the end: hold their beginnings */
        for (size_t i = 0; i < ai__tc_n_stops; i++) {
            size_t o = overlap(t, a, ai__tc_stops[i]);
            if (o > hold) hold = o;
        }
        if (hold) t->pending = 1;
    }
    text(t, a, t->n - hold);
}

/* Skips whitespace, then expects lit.  Returns the offset after it, or
 * FAILED after recording an error (or pending). */
static size_t expect(tc *t, size_t p, const char *lit, const char *what) {
    p = skip_ws(t, p);
    int r = at(t, p, lit);
    if (r == 1) return p + strlen(lit);
    if (r == -1) {
        ai__tc_more(t, p, what);
        return FAILED;
    }
    char m[120];
    snprintf(m, sizeof m, "expected %s", lit);
    ai__tc_fail(t, p, m);
    return FAILED;
}

/* Reads one JSON value at p (after whitespace). */
static size_t json_at(tc *t, size_t p, ai__json **out, const char *what) {
    *out = NULL;
    p = skip_ws(t, p);
    if (p >= t->n) {
        ai__tc_more(t, p, what);
        return FAILED;
    }
    size_t used;
    int trunc;
    char e[160];
    ai_status st = ai__json_parse_partial(t->s + p, t->n - p, out, &used, &trunc, e, sizeof e);
    if (st == AI_E_NOMEM) {
        t->nomem = 1;
        return FAILED;
    }
    if (st != AI_OK) {
        if (trunc) {
            ai__tc_more(t, p, what);
        } else {
            char m[240];
            snprintf(m, sizeof m, "invalid JSON in %s (%s, from byte %zu)", what, e, p);
            ai__tc_fail(t, p, m);
        }
        return FAILED;
    }
    /* a number at the very end could still grow */
    if (t->partial && p + used == t->n && (*out)->type == AI__JSON_NUMBER) {
        ai__json_free(*out);
        *out = NULL;
        ai__tc_more(t, p, what);
        return FAILED;
    }
    return p + used;
}

/* A call written as a JSON object: {"name", "arguments"|"parameters", "id"}
 * with Command R's "tool_name"/"tool_call_id" and the OpenAI nesting
 * {"function": {"name", "arguments"}} accepted too.  Takes obj. */
static int json_call(tc *t, size_t p, ai__json *obj, int want_id) {
    if (!obj || obj->type != AI__JSON_OBJECT) {
        ai__json_free(obj);
        ai__tc_fail(t, p, "a tool call must be a JSON object");
        return -1;
    }
    ai__json *o = obj, *fn = (ai__json *)ai__json_get(obj, "function");
    if (fn && fn->type == AI__JSON_OBJECT && !ai__json_get(obj, "name")) o = fn;
    const ai__json *name = ai__json_get(o, "name");
    if (!name) name = ai__json_get(o, "tool_name");
    int has_args = ai__json_get(o, "arguments") || ai__json_get(o, "parameters");
    const ai__json *id = want_id ? ai__json_get(obj, "id") : NULL;
    if (want_id && !id) id = ai__json_get(obj, "tool_call_id");
    if (!name || name->type != AI__JSON_STRING) {
        ai__json_free(obj);
        ai__tc_fail(t, p, name ? "tool name is not a string" : "tool call without a name");
        return -1;
    }
    /* the arguments move out of the parsed object (no copy) */
    ai__json *a = !has_args ? ai__json_new(AI__JSON_OBJECT)
                            : ai__json_get(o, "arguments") ? ai__json_take(o, "arguments")
                                                          : ai__json_take(o, "parameters");
    if (!a) {
        ai__json_free(obj);
        t->nomem = 1;
        return -1;
    }
    const char *ids = NULL;
    size_t idl = 0;
    if (id && (id->type == AI__JSON_STRING || id->type == AI__JSON_NUMBER)) {
        ids = id->str;
        idl = id->len;
    }
    int rc = ai__tc_add_call(t, p, name->str, name->len, a, ids, idl);
    ai__json_free(obj);
    return rc;
}

/* A JSON array of call objects (or one object). */
static int json_calls(tc *t, size_t p, ai__json *v, int want_id) {
    if (v && v->type == AI__JSON_ARRAY) {
        if (v->n == 0) {
            ai__json_free(v);
            ai__tc_fail(t, p, "empty list of tool calls");
            return -1;
        }
        for (size_t i = 0; i < v->n; i++) {
            ai__json *c = v->items[i];
            v->items[i] = ai__json_new(AI__JSON_NULL); /* c moves out */
            if (json_call(t, p, c, want_id)) {
                ai__json_free(v);
                return -1;
            }
        }
        ai__json_free(v);
        return 0;
    }
    return json_call(t, p, v, want_id);
}

/* A JSON array of call objects (or a single object) at p, read element by
 * element so that, while streaming, each call shows as soon as its object
 * is closed.  Returns the offset after the array. */
static size_t json_call_list(tc *t, size_t p, int want_id, const char *what) {
    p = skip_ws(t, p);
    if (p >= t->n) {
        ai__tc_more(t, p, what);
        return FAILED;
    }
    if (t->s[p] != '[') {
        ai__json *v;
        size_t e = json_at(t, p, &v, what);
        if (e == FAILED) return FAILED;
        return json_calls(t, p, v, want_id) ? FAILED : e;
    }
    size_t q = p + 1;
    for (int k = 0;; k++) {
        q = skip_ws(t, q);
        if (q >= t->n) {
            ai__tc_more(t, q, what);
            return FAILED;
        }
        if (t->s[q] == ']') {
            ai__tc_fail(t, q, k ? "invalid JSON (trailing comma) in the list of tool calls"
                                : "empty list of tool calls");
            return FAILED;
        }
        ai__json *c;
        size_t e = json_at(t, q, &c, what);
        if (e == FAILED) return FAILED;
        if (json_call(t, q, c, want_id)) return FAILED;
        q = skip_ws(t, e);
        if (q >= t->n) {
            ai__tc_more(t, q, what);
            return FAILED;
        }
        if (t->s[q] == ']') return q + 1;
        if (t->s[q] != ',') {
            ai__tc_fail(t, q, "invalid JSON (',' or ']' expected) in the list of tool calls");
            return FAILED;
        }
        q++;
    }
}

/* Sets key in an arguments object, replacing an earlier value. */
static int put_arg(tc *t, ai__json *obj, const char *k, size_t kl, ai__json *v) {
    for (size_t i = 0; i < obj->n; i++)
        if (obj->key_lens[i] == kl && !memcmp(obj->keys[i], k, kl)) {
            ai__json_free(obj->items[i]);
            obj->items[i] = v;
            return 0;
        }
    if (ai__json_set(obj, k, kl, v)) {
        t->nomem = 1;
        return -1;
    }
    return 0;
}

/* Raw text up to `close`, where the close must be followed (after
 * whitespace) by one of `next` (NULL-terminated).  Values may contain the
 * close tag itself; this picks the first occurrence the markup allows.
 * Returns the offset of the close tag, or FAILED (error or pending). */
static size_t raw_until(tc *t, size_t p, const char *close, const char *const *next,
                        const char *what) {
    size_t from = p, cl = strlen(close);
    for (;;) {
        size_t c = find(t, from, close);
        if (c == FAILED) {
            ai__tc_more(t, p, what);
            return FAILED;
        }
        size_t q = skip_ws(t, c + cl);
        if (q >= t->n) {
            ai__tc_more(t, p, what);
            return FAILED;
        }
        for (size_t i = 0; next[i]; i++) {
            int r = at(t, q, next[i]);
            if (r == 1) return c;
            if (r == -1) {
                ai__tc_more(t, p, what);
                return FAILED;
            }
        }
        from = c + 1;
    }
}

/* Name characters up to a delimiter set; trims spaces. */
static size_t read_name(tc *t, size_t p, const char *stopset, size_t *nb, size_t *ne) {
    size_t q = p;
    while (q < t->n && !strchr(stopset, t->s[q])) q++;
    if (q >= t->n) {
        ai__tc_more(t, p, "a tool name");
        return FAILED;
    }
    size_t a = p, b = q;
    while (a < b && is_ws(t->s[a])) a++;
    while (b > a && is_ws(t->s[b - 1])) b--;
    *nb = a;
    *ne = b;
    return q;
}

/* ---- the common loop for calls embedded in free text -------------------- */

typedef size_t (*block_fn)(tc *t, size_t at, int which);

static void scan_tagged(tc *t, const char *const *starts, size_t ns, block_fn fn) {
    size_t pos = t->body;
    /* next occurrence of each marker, searched again only once passed (a
     * marker that never occurs is searched for once, not once per call) */
    size_t next[4];
    int known[4] = {0, 0, 0, 0};
    for (;;) {
        t->safe = pos; /* everything before pos is final */
        t->safe_content = t->content.len;
        t->safe_calls = t->calls->n;
        size_t best = FAILED;
        int which = -1;
        for (size_t i = 0; i < ns; i++) {
            if (!known[i] || (next[i] != FAILED && next[i] < pos)) {
                next[i] = find(t, pos, starts[i]);
                known[i] = 1;
            }
            size_t f = next[i];
            if (f != FAILED && (best == FAILED || f < best)) {
                best = f;
                which = (int)i;
            }
        }
        if (which < 0) {
            tail(t, pos, starts, ns);
            return;
        }
        text(t, pos, best);
        size_t e = fn(t, best, which);
        if (e == FAILED || t->error || t->pending) return; /* calls of an unfinished
                                                              block stay: each is complete */
        pos = e;
    }
}

/* ---- hermes ------------------------------------------------------------- */

static size_t hermes_block(tc *t, size_t p, int which) {
    (void)which;
    ai__json *obj;
    size_t e = json_at(t, p + strlen("<tool_call>"), &obj, "a <tool_call> block");
    if (e == FAILED) return FAILED;
    e = expect(t, e, "</tool_call>", "a <tool_call> block");
    if (e == FAILED) {
        ai__json_free(obj);
        return FAILED;
    }
    return json_call(t, p, obj, 0) ? FAILED : e;
}

/* ---- Python-style call lists (pythonic, lfm2, Llama built-ins) ---------- */

static int ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* Reads name(kw=v, ...) at p.  Returns the offset after ')'. */
static size_t py_call(tc *t, size_t p, const char *drop) {
    size_t nb = p;
    while (p < t->n && (ident_char(t->s[p]) || t->s[p] == '.')) p++;
    size_t ne = p;
    p = skip_ws(t, p);
    if (p >= t->n) {
        ai__tc_more(t, nb, "a Python-style call");
        return FAILED;
    }
    if (ne == nb || t->s[p] != '(') {
        ai__tc_fail(t, p, ne == nb ? "function name expected" : "'(' expected after function name");
        return FAILED;
    }
    p++;
    ai__json *args = ai__json_new(AI__JSON_OBJECT);
    if (!args) {
        t->nomem = 1;
        return FAILED;
    }
    for (;;) {
        p = skip_ws(t, p);
        if (p >= t->n) goto more;
        if (t->s[p] == ')') {
            p++;
            break;
        }
        size_t kb = p;
        while (p < t->n && ident_char(t->s[p])) p++;
        size_t ke = p;
        p = skip_ws(t, p);
        if (p >= t->n) goto more;
        if (ke == kb || t->s[p] != '=' || (p + 1 < t->n && t->s[p + 1] == '=')) {
            ai__json_free(args);
            ai__tc_fail(t, kb, "positional or non-keyword argument in a Python-style call");
            return FAILED;
        }
        p = skip_ws(t, p + 1);
        ai__json *v;
        char msg[160];
        int r = ai__tc_py_value(t->s, t->n, &p, &v, msg, sizeof msg);
        if (r == 1) goto more;
        if (r < 0) {
            ai__json_free(args);
            ai__tc_fail(t, kb, msg);
            return FAILED;
        }
        if (put_arg(t, args, t->s + kb, ke - kb, v)) {
            ai__json_free(args);
            return FAILED;
        }
        p = skip_ws(t, p);
        if (p >= t->n) goto more;
        if (t->s[p] == ',') {
            p++;
            continue;
        }
        if (t->s[p] == ')') {
            p++;
            break;
        }
        ai__json_free(args);
        ai__tc_fail(t, p, "non-literal argument or missing ',' in a Python-style call");
        return FAILED;
    }
    if (drop && ne - nb > strlen(drop) && !memcmp(t->s + ne - strlen(drop), drop, strlen(drop)))
        ne -= strlen(drop); /* brave_search.call(...) calls brave_search */
    return ai__tc_add_call(t, nb, t->s + nb, ne - nb, args, NULL, 0) ? FAILED : p;
more:
    ai__json_free(args);
    ai__tc_more(t, nb, "a Python-style call");
    return FAILED;
}

/* Reads [call, call, ...] at p (which is '['). */
static size_t py_list(tc *t, size_t p) {
    p++;
    int any = 0;
    for (;;) {
        p = skip_ws(t, p);
        if (p >= t->n) {
            ai__tc_more(t, p, "a list of calls");
            return FAILED;
        }
        if (t->s[p] == ']') {
            if (!any) {
                ai__tc_fail(t, p, "empty list of calls");
                return FAILED;
            }
            return p + 1;
        }
        p = py_call(t, p, NULL);
        if (p == FAILED) return FAILED;
        any = 1;
        p = skip_ws(t, p);
        if (p >= t->n) {
            ai__tc_more(t, p, "a list of calls");
            return FAILED;
        }
        if (t->s[p] == ',') p++;
        else if (t->s[p] != ']') {
            ai__tc_fail(t, p, "',' or ']' expected in the list of calls");
            return FAILED;
        }
    }
}

/* Does p start "[name(" ?  1 yes, 0 no, -1 cannot tell yet. */
static int looks_like_py_list(const tc *t, size_t p) {
    if (p >= t->n) return -1;
    if (t->s[p] != '[') return 0;
    p = skip_ws(t, p + 1);
    size_t nb = p;
    while (p < t->n && (ident_char(t->s[p]) || t->s[p] == '.')) p++;
    if (p >= t->n) return -1;
    if (p == nb || (t->s[nb] >= '0' && t->s[nb] <= '9')) return 0;
    p = skip_ws(t, p);
    if (p >= t->n) return -1;
    return t->s[p] == '(';
}

static void scan_pythonic(tc *t) {
    static const char *const marks[] = {"<|python_start|>", "["};
    size_t pos = t->body, cur = t->body;
    for (;;) {
        if (cur > t->body) { /* a line start: what precedes it is settled */
            text(t, pos, cur);
            pos = cur;
            t->safe = cur;
            t->safe_content = t->content.len;
            t->safe_calls = t->calls->n;
        }
        size_t q = cur;
        while (q < t->n && (t->s[q] == ' ' || t->s[q] == '\t' || (cur == t->body && is_ws(t->s[q]))))
            q++;
        int wrapped = 0;
        size_t lq = q;
        int w = q < t->n ? at(t, q, "<|python_start|>") : 0;
        if (w == -1) {
            text(t, pos, q);
            t->pending = 1;
            return;
        }
        if (w == 1) {
            wrapped = 1;
            lq = skip_ws(t, q + strlen("<|python_start|>"));
        }
        int r = looks_like_py_list(t, lq);
        if (r == -1 && (t->partial || wrapped)) {
            if (!t->partial) {
                ai__tc_more(t, lq, "<|python_start|>");
                return;
            }
            text(t, pos, q);
            t->pending = 1;
            return;
        }
        if (r == 1) {
            text(t, pos, q);
            size_t e = py_list(t, lq);
            if (e != FAILED && wrapped) {
                size_t f = skip_ws(t, e);
                int x = at(t, f, "<|python_end|>");
                if (x == 1) e = f + strlen("<|python_end|>");
                else if (x == -1) {
                    ai__tc_more(t, f, "<|python_start|>");
                    e = FAILED;
                }
            }
            if (e == FAILED) return;
            pos = cur = e;
            /* the rest of that line, if any, is content */
        } else if (wrapped) {
            ai__tc_fail(t, lq, "<|python_start|> without a list of calls");
            return;
        }
        const char *nl = memchr(t->s + cur, '\n', t->n - cur);
        if (!nl) break;
        cur = (size_t)(nl - t->s) + 1;
    }
    tail(t, pos, marks, 1);
}

/* ---- llama3_json -------------------------------------------------------- */

static int call_shaped(const ai__json *o) {
    if (!o || o->type != AI__JSON_OBJECT) return 0;
    const ai__json *n = ai__json_get(o, "name");
    return n && n->type == AI__JSON_STRING &&
           (ai__json_get(o, "parameters") || ai__json_get(o, "arguments"));
}

/* One or more JSON calls separated by ';'.  strict: every object must be a
 * call (after <|python_tag|>); otherwise a first object that is not a
 * declared call makes the whole text content. */
static void llama_json_calls(tc *t, size_t p, int strict) {
    size_t start = p;
    for (int first = 1;; first = 0) {
        ai__json *o;
        size_t e = json_at(t, p, &o, "a JSON tool call");
        if (e == FAILED) {
            if (!strict && first && t->error && !t->truncated) { /* not JSON: prose */
                t->error = 0;
                t->msg[0] = '\0';
                tail(t, start, NULL, 0);
            }
            return;
        }
        if (!strict && first) {
            const ai__json *nm = ai__json_get(o, "name");
            int declared = !t->tools || (call_shaped(o) &&
                                         ai__tc_tools_find(t->tools, nm->str, nm->len));
            if (!call_shaped(o) || !declared) { /* data JSON, not a call */
                ai__json_free(o);
                tail(t, start, NULL, 0);
                return;
            }
        }
        if (json_call(t, p, o, 0)) return;
        size_t q = skip_ws(t, e);
        if (q < t->n && t->s[q] == ';') {
            p = q + 1;
            continue;
        }
        tail(t, e, NULL, 0);
        return;
    }
}

static void scan_llama3(tc *t) {
    static const char *const marks[] = {"<|python_tag|>"};
    size_t tag = find(t, t->body, marks[0]);
    if (tag != FAILED) {
        text(t, t->body, tag);
        size_t p = skip_ws(t, tag + strlen(marks[0]));
        if (p >= t->n) {
            ai__tc_more(t, p, "<|python_tag|>");
            return;
        }
        if (t->s[p] == '{') {
            llama_json_calls(t, p, 1);
            return;
        }
        /* built-in tools: brave_search.call(query="...") */
        size_t q = p;
        while (q < t->n && ident_char(t->s[q])) q++;
        int r = at(t, q, ".call(");
        if (q > p && r == 1) {
            size_t e = py_call(t, p, ".call");
            if (e != FAILED) tail(t, e, NULL, 0);
            return;
        }
        if (r == -1 || (q == t->n && t->partial)) {
            ai__tc_more(t, p, "<|python_tag|>");
            return;
        }
        ai__tc_fail(t, p, "<|python_tag|> is not followed by a JSON or built-in tool call");
        return;
    }
    size_t q = skip_ws(t, t->body);
    if (q < t->n && t->s[q] == '{') {
        llama_json_calls(t, q, 0);
        return;
    }
    tail(t, t->body, marks, 1);
}

/* ---- lfm2 --------------------------------------------------------------- */

static size_t lfm2_block(tc *t, size_t p, int which) {
    (void)which;
    size_t q = skip_ws(t, p + strlen("<|tool_call_start|>"));
    if (q >= t->n) {
        ai__tc_more(t, q, "<|tool_call_start|>");
        return FAILED;
    }
    size_t e;
    if (t->s[q] != '[') {
        ai__tc_fail(t, q, "'[' expected after <|tool_call_start|>");
        return FAILED;
    }
    size_t r = skip_ws(t, q + 1);
    if (r >= t->n) {
        ai__tc_more(t, q, "<|tool_call_start|>");
        return FAILED;
    }
    if (t->s[r] == '{') { /* a JSON list, when the system prompt asked for it */
        e = json_call_list(t, q, 0, "<|tool_call_start|>");
        if (e == FAILED) return FAILED;
    } else {
        e = py_list(t, q);
        if (e == FAILED) return FAILED;
    }
    return expect(t, e, "<|tool_call_end|>", "<|tool_call_start|>");
}

/* ---- mistral ------------------------------------------------------------ */

static size_t mistral_block(tc *t, size_t p, int which) {
    (void)which;
    return json_call_list(t, p + strlen("[TOOL_CALLS]"), 1, "[TOOL_CALLS]");
}

static size_t mistral_v11_block(tc *t, size_t p, int which) {
    (void)which;
    size_t q = skip_ws(t, p + strlen("[TOOL_CALLS]"));
    size_t nb = q;
    while (q < t->n && t->s[q] != '[' && t->s[q] != '{' && !is_ws(t->s[q])) q++;
    size_t ne = q;
    if (q >= t->n) {
        ai__tc_more(t, p, "[TOOL_CALLS]");
        return FAILED;
    }
    const char *id = NULL;
    size_t idl = 0;
    int r = at(t, q, "[CALL_ID]");
    if (r == -1) {
        ai__tc_more(t, p, "[TOOL_CALLS]");
        return FAILED;
    }
    if (r == 1) {
        size_t ib = q + strlen("[CALL_ID]"), ie = ib;
        while (ie < t->n && t->s[ie] != '[' && t->s[ie] != '{') ie++;
        if (ie >= t->n) {
            ai__tc_more(t, p, "[TOOL_CALLS]");
            return FAILED;
        }
        id = t->s + ib;
        idl = ie - ib;
        q = ie;
    }
    if (t->s[q] == '[') {
        q = expect(t, q, "[ARGS]", "[TOOL_CALLS]");
        if (q == FAILED) return FAILED;
    }
    ai__json *args;
    size_t e = json_at(t, q, &args, "[ARGS]");
    if (e == FAILED) return FAILED;
    return ai__tc_add_call(t, p, t->s + nb, ne - nb, args, id, idl) ? FAILED : e;
}

/* ---- qwen3_coder_xml ---------------------------------------------------- */

static size_t qwen_xml_block(tc *t, size_t p, int which) {
    static const char *const closes[] = {"</tool_call>", "</seed:tool_call>"};
    static const char *const after_param[] = {"<parameter=", "</function>", NULL};
    size_t q = p + strlen(which ? "<seed:tool_call>" : "<tool_call>");
    for (int nfn = 0;; nfn++) {
        q = skip_ws(t, q);
        int r = at(t, q, "<function=");
        if (r == 0 && nfn > 0) break;
        if (r != 1) {
            if (r == -1 || q >= t->n) ai__tc_more(t, q, "a <tool_call> block");
            else ai__tc_fail(t, q, "expected <function=");
            return FAILED;
        }
        size_t nb, ne;
        q = read_name(t, q + strlen("<function="), ">\n<", &nb, &ne);
        if (q == FAILED) return FAILED;
        if (t->s[q] != '>') {
            ai__tc_fail(t, q, "'>' expected after the function name");
            return FAILED;
        }
        q++;
        ai__json *args = ai__json_new(AI__JSON_OBJECT);
        if (!args) {
            t->nomem = 1;
            return FAILED;
        }
        for (;;) {
            q = skip_ws(t, q);
            int pr = at(t, q, "<parameter=");
            int fr = at(t, q, "</function>");
            if (pr == 1) {
                size_t kb, ke;
                q = read_name(t, q + strlen("<parameter="), ">\n<", &kb, &ke);
                if (q == FAILED) goto fail;
                if (t->s[q] != '>' || ke == kb) {
                    ai__tc_fail(t, q, "bad <parameter=...> tag");
                    goto fail;
                }
                size_t vb = q + 1;
                size_t ve = raw_until(t, vb, "</parameter>", after_param, "a <parameter> value");
                if (ve == FAILED) goto fail;
                q = ve + strlen("</parameter>");
                /* exactly one newline after the tag and one before the close
                 * are markup */
                if (vb < ve && t->s[vb] == '\n') vb++;
                else if (vb + 1 < ve && t->s[vb] == '\r' && t->s[vb + 1] == '\n') vb += 2;
                if (ve > vb && t->s[ve - 1] == '\n') {
                    ve--;
                    if (ve > vb && t->s[ve - 1] == '\r') ve--;
                }
                ai__json *v = ai__tc_xml_value(t, vb, t->s + nb, ne - nb, t->s + kb, ke - kb,
                                               t->s + vb, ve - vb);
                if (!v || put_arg(t, args, t->s + kb, ke - kb, v)) goto fail;
            } else if (fr == 1) {
                q += strlen("</function>");
                if (ai__tc_add_call(t, nb, t->s + nb, ne - nb, args, NULL, 0)) return FAILED;
                break;
            } else {
                if (pr == -1 || fr == -1 || q >= t->n) ai__tc_more(t, q, "a <function> block");
                else ai__tc_fail(t, q, "expected <parameter= or </function>");
                goto fail;
            }
            continue;
        fail:
            ai__json_free(args);
            return FAILED;
        }
    }
    return expect(t, q, closes[which], "a <tool_call> block");
}

/* ---- gemma4 ------------------------------------------------------------- */

static size_t gemma_block(tc *t, size_t p, int which) {
    (void)which;
    size_t q = expect(t, p + strlen("<|tool_call>"), "call:", "<|tool_call>");
    if (q == FAILED) return FAILED;
    size_t nb = q;
    while (q < t->n && t->s[q] != '{' && t->s[q] != '<' && !is_ws(t->s[q])) q++;
    if (q >= t->n) {
        ai__tc_more(t, p, "<|tool_call>");
        return FAILED;
    }
    size_t ne = q;
    if (t->s[q] != '{') {
        ai__tc_fail(t, q, "'{' expected after the function name");
        return FAILED;
    }
    ai__json *args;
    char msg[160];
    int r = ai__tc_gemma_value(t->s, t->n, &q, &args, msg, sizeof msg);
    if (r == 1) {
        ai__tc_more(t, p, "<|tool_call>");
        return FAILED;
    }
    if (r < 0) {
        ai__tc_fail(t, p, msg);
        return FAILED;
    }
    size_t e = expect(t, q, "<tool_call|>", "<|tool_call>");
    if (e == FAILED) {
        ai__json_free(args);
        return FAILED;
    }
    return ai__tc_add_call(t, p, t->s + nb, ne - nb, args, NULL, 0) ? FAILED : e;
}

/* ---- functionary -------------------------------------------------------- */

static size_t fv31_block(tc *t, size_t p, int which) {
    (void)which;
    size_t nb, ne;
    size_t q = read_name(t, p + strlen("<function="), ">\n{", &nb, &ne);
    if (q == FAILED) return FAILED;
    if (t->s[q] != '>') {
        ai__tc_fail(t, q, "'>' expected after the function name");
        return FAILED;
    }
    ai__json *args;
    size_t e = json_at(t, q + 1, &args, "a <function=...> call");
    if (e == FAILED) return FAILED;
    e = expect(t, e, "</function>", "a <function=...> call");
    if (e == FAILED) {
        ai__json_free(args);
        return FAILED;
    }
    return ai__tc_add_call(t, p, t->s + nb, ne - nb, args, NULL, 0) ? FAILED : e;
}

static void scan_fv32(tc *t) {
    static const char *const marks[] = {">>>"};
    size_t p = t->body;
    if (at(t, p, ">>>") == 1) p += 3;
    for (int first = 1;; first = 0) {
        size_t nb = p;
        while (p < t->n && (ident_char(t->s[p]) || t->s[p] == '.')) p++;
        size_t ne = p;
        if (p >= t->n) {
            if (t->partial) {
                t->pending = 1;
                return;
            }
            if (ne > nb && !(ne - nb == 3 && !memcmp(t->s + nb, "all", 3)) && !first)
                ai__tc_more(t, nb, "a >>> message");
            else if (ne > nb && !(ne - nb == 3 && !memcmp(t->s + nb, "all", 3)) && first)
                text(t, nb, t->n); /* one bare word: plain text */
            return;
        }
        if (t->s[p] != '\n' || ne == nb) {
            if (first) { /* no recipient line: plain text */
                tail(t, t->body, marks, 1);
                return;
            }
            ai__tc_fail(t, nb, "recipient name expected after >>>");
            return;
        }
        p++;
        if (ne - nb == 3 && !memcmp(t->s + nb, "all", 3)) {
            size_t e = find(t, p, ">>>");
            if (e == FAILED) {
                tail(t, p, marks, 1);
                return;
            }
            text(t, p, e);
            p = e + 3;
            continue;
        }
        size_t q = skip_ws(t, p);
        if (q >= t->n) {
            ai__tc_more(t, q, "a >>> call");
            return;
        }
        size_t e;
        if (t->s[q] != '{' && ne - nb == 6 && !memcmp(t->s + nb, "python", 6)) {
            /* the python tool takes raw code */
            e = find(t, p, ">>>");
            if (e == FAILED) {
                if (t->partial) {
                    t->pending = 1;
                    return;
                }
                e = t->n;
            }
            ai__json *args = ai__json_new(AI__JSON_OBJECT);
            if (!args || ai__json_set(args, "code", 4, ai__json_new_str(t->s + p, e - p))) {
                ai__json_free(args);
                t->nomem = 1;
                return;
            }
            if (ai__tc_add_call(t, nb, t->s + nb, ne - nb, args, NULL, 0)) return;
        } else {
            ai__json *args;
            e = json_at(t, q, &args, "a >>> call");
            if (e == FAILED) return;
            if (ai__tc_add_call(t, nb, t->s + nb, ne - nb, args, NULL, 0)) return;
        }
        size_t f = skip_ws(t, e);
        int r = at(t, f, ">>>");
        if (r == 1) {
            p = f + 3;
            continue;
        }
        if (r == -1 && t->partial) {
            t->pending = 1;
            return;
        }
        tail(t, e, marks, 1);
        return;
    }
}

/* ---- deepseek ----------------------------------------------------------- */

static size_t ds_call(tc *t, size_t p) {
    size_t q = p + strlen(DS_CALL_BEGIN);
    size_t nb, ne, e;
    int r1 = at(t, q, "function" DS_SEP);
    if (r1 == -1) {
        ai__tc_more(t, q, "a DeepSeek tool call");
        return FAILED;
    }
    ai__json *args;
    size_t after = r1 == 1 ? skip_ws(t, q + strlen("function" DS_SEP)) : q;
    if (r1 == 1 && after < t->n && t->s[after] != '{') {
        /* R1: function<sep>NAME\n```json\n{...}\n``` */
        q = read_name(t, q + strlen("function" DS_SEP), "\n", &nb, &ne);
        if (q == FAILED) return FAILED;
        q = skip_ws(t, q);
        int f = at(t, q, "```json");
        int g = at(t, q, "```");
        if (f == -1 || g == -1) {
            ai__tc_more(t, q, "a DeepSeek tool call");
            return FAILED;
        }
        int fenced = g == 1;
        if (f == 1) q += 7;
        else if (g == 1) q += 3;
        e = json_at(t, q, &args, "a DeepSeek tool call");
        if (e == FAILED) return FAILED;
        if (fenced) {
            e = expect(t, e, "```", "a DeepSeek tool call");
            if (e == FAILED) {
                ai__json_free(args);
                return FAILED;
            }
        }
    } else if (r1 == 1 && after >= t->n) {
        ai__tc_more(t, q, "a DeepSeek tool call");
        return FAILED;
    } else {
        /* V3.1: NAME<sep>{...} ("function" as a name lands here too) */
        size_t sep = find(t, q, DS_SEP);
        if (sep == FAILED) {
            ai__tc_more(t, q, "a DeepSeek tool call");
            return FAILED;
        }
        nb = q;
        ne = sep;
        while (nb < ne && is_ws(t->s[nb])) nb++;
        while (ne > nb && is_ws(t->s[ne - 1])) ne--;
        if (memchr(t->s + nb, '<', ne - nb)) {
            ai__tc_fail(t, q, "bad tool name in a DeepSeek tool call");
            return FAILED;
        }
        e = json_at(t, sep + strlen(DS_SEP), &args, "a DeepSeek tool call");
        if (e == FAILED) return FAILED;
    }
    e = expect(t, e, DS_CALL_END, "a DeepSeek tool call");
    if (e == FAILED) {
        ai__json_free(args);
        return FAILED;
    }
    return ai__tc_add_call(t, p, t->s + nb, ne - nb, args, NULL, 0) ? FAILED : e;
}

static size_t ds_block(tc *t, size_t p, int which) {
    int section = which == 0;
    size_t q = section ? p + strlen(DS_CALLS_BEGIN) : p;
    for (int k = 0;; k++) {
        q = skip_ws(t, q);
        int c = at(t, q, DS_CALL_BEGIN);
        if (c == 1) {
            q = ds_call(t, q);
            if (q == FAILED) return FAILED;
            continue;
        }
        if (!section && k > 0 && (c == 0 || (c == -1 && !t->partial))) return q;
        int e = at(t, q, DS_CALLS_END);
        if (section && e == 1 && k > 0) return q + strlen(DS_CALLS_END);
        if (c == -1 || e == -1 || q >= t->n) ai__tc_more(t, q, "the DeepSeek tool calls section");
        else ai__tc_fail(t, q, k ? "expected the next tool call or the end of the tool calls"
                                 : "expected a tool call");
        return FAILED;
    }
}

/* ---- kimi_k2 ------------------------------------------------------------ */

static size_t kimi_block(tc *t, size_t p, int which) {
    static const char *const ends[] = {"<|tool_calls_section_end|>", "<|tool_call_section_end|>"};
    size_t q = p + strlen(which ? "<|tool_call_section_begin|>" : "<|tool_calls_section_begin|>");
    for (int k = 0;; k++) {
        q = skip_ws(t, q);
        int c = at(t, q, "<|tool_call_begin|>");
        if (c == 1) {
            size_t ib = skip_ws(t, q + strlen("<|tool_call_begin|>"));
            size_t ae = find(t, ib, "<|tool_call_argument_begin|>");
            if (ae == FAILED) {
                ai__tc_more(t, q, "a Kimi tool call");
                return FAILED;
            }
            size_t ie = ae;
            while (ie > ib && is_ws(t->s[ie - 1])) ie--;
            if (memchr(t->s + ib, '<', ie - ib)) {
                ai__tc_fail(t, ib, "bad tool call id");
                return FAILED;
            }
            /* functions.NAME:IDX */
            size_t nb = ib, ne = ie;
            if (ne - nb > 10 && !memcmp(t->s + nb, "functions.", 10)) nb += 10;
            for (size_t i = ne; i > nb; i--)
                if (t->s[i - 1] == ':') {
                    ne = i - 1;
                    break;
                }
            ai__json *args;
            size_t e = json_at(t, ae + strlen("<|tool_call_argument_begin|>"), &args,
                               "a Kimi tool call");
            if (e == FAILED) return FAILED;
            e = expect(t, e, "<|tool_call_end|>", "a Kimi tool call");
            if (e == FAILED) {
                ai__json_free(args);
                return FAILED;
            }
            if (ai__tc_add_call(t, ib, t->s + nb, ne - nb, args, t->s + ib, ie - ib)) return FAILED;
            q = e;
            continue;
        }
        int e = at(t, q, ends[which]);
        if (e == 1 && k > 0) return q + strlen(ends[which]);
        if (c == -1 || e == -1 || q >= t->n) ai__tc_more(t, q, "the Kimi tool calls section");
        else ai__tc_fail(t, q, "expected <|tool_call_begin|> or the end of the section");
        return FAILED;
    }
}

/* ---- glm45 -------------------------------------------------------------- */

static size_t glm_block(tc *t, size_t p, int which) {
    (void)which;
    static const char *const after_val[] = {"<arg_key>", "</tool_call>", NULL};
    size_t q = p + strlen("<tool_call>");
    /* the name ends at a newline, <arg_key> or </tool_call> */
    size_t nb = q;
    while (q < t->n && t->s[q] != '\n' && t->s[q] != '<') q++;
    if (q >= t->n) {
        ai__tc_more(t, p, "a <tool_call> block");
        return FAILED;
    }
    size_t ne = q;
    while (nb < ne && is_ws(t->s[nb])) nb++;
    while (ne > nb && is_ws(t->s[ne - 1])) ne--;
    ai__json *args = ai__json_new(AI__JSON_OBJECT);
    if (!args) {
        t->nomem = 1;
        return FAILED;
    }
    for (;;) {
        q = skip_ws(t, q);
        int k = at(t, q, "<arg_key>"), c = at(t, q, "</tool_call>");
        if (k == 1) {
            size_t kb = q + strlen("<arg_key>");
            size_t ke = find(t, kb, "</arg_key>");
            if (ke == FAILED) {
                ai__tc_more(t, q, "an <arg_key>");
                break;
            }
            q = expect(t, ke + strlen("</arg_key>"), "<arg_value>", "an argument");
            if (q == FAILED) break;
            size_t vb = q;
            size_t ve = raw_until(t, vb, "</arg_value>", after_val, "an <arg_value>");
            if (ve == FAILED) break;
            q = ve + strlen("</arg_value>");
            ai__json *v = ai__tc_xml_value(t, vb, t->s + nb, ne - nb, t->s + kb, ke - kb,
                                           t->s + vb, ve - vb);
            if (!v || put_arg(t, args, t->s + kb, ke - kb, v)) break;
            continue;
        }
        if (c == 1) {
            if (ai__tc_add_call(t, p, t->s + nb, ne - nb, args, NULL, 0)) return FAILED;
            return q + strlen("</tool_call>");
        }
        if (k == -1 || c == -1 || q >= t->n) ai__tc_more(t, q, "a <tool_call> block");
        else ai__tc_fail(t, q, "expected <arg_key> or </tool_call>");
        break;
    }
    ai__json_free(args);
    return FAILED;
}

/* ---- minimax_m2 --------------------------------------------------------- */

/* Reads name="..." (quotes optional) up to '>'. */
static size_t attr_name(tc *t, size_t q, size_t *nb, size_t *ne) {
    q = skip_ws(t, q);
    int r = at(t, q, "name=");
    if (r != 1) {
        if (r == -1 || q >= t->n) ai__tc_more(t, q, "a tag");
        else ai__tc_fail(t, q, "name= expected");
        return FAILED;
    }
    q += 5;
    if (q >= t->n) {
        ai__tc_more(t, q, "a tag");
        return FAILED;
    }
    char quote = t->s[q] == '"' || t->s[q] == '\'' ? t->s[q] : 0;
    if (quote) q++;
    size_t b = q;
    while (q < t->n && (quote ? t->s[q] != quote : t->s[q] != '>') && t->s[q] != '\n') q++;
    if (q >= t->n) {
        ai__tc_more(t, q, "a tag");
        return FAILED;
    }
    *nb = b;
    *ne = q;
    if (quote) {
        if (t->s[q] != quote) {
            ai__tc_fail(t, q, "unterminated name");
            return FAILED;
        }
        q++;
    }
    return expect(t, q, ">", "a tag");
}

static size_t minimax_block(tc *t, size_t p, int which) {
    (void)which;
    static const char *const after_val[] = {"<parameter", "</invoke>", NULL};
    size_t q = p + strlen("<minimax:tool_call>");
    for (int k = 0;; k++) {
        q = skip_ws(t, q);
        int iv = at(t, q, "<invoke");
        if (iv == 1) {
            size_t nb, ne;
            q = attr_name(t, q + 7, &nb, &ne);
            if (q == FAILED) return FAILED;
            ai__json *args = ai__json_new(AI__JSON_OBJECT);
            if (!args) {
                t->nomem = 1;
                return FAILED;
            }
            for (;;) {
                q = skip_ws(t, q);
                int pr = at(t, q, "<parameter"), ei = at(t, q, "</invoke>");
                if (pr == 1) {
                    size_t kb, ke;
                    q = attr_name(t, q + 10, &kb, &ke);
                    if (q == FAILED) break;
                    size_t ve = raw_until(t, q, "</parameter>", after_val, "a <parameter> value");
                    if (ve == FAILED) break;
                    ai__json *v = ai__tc_xml_value(t, q, t->s + nb, ne - nb, t->s + kb, ke - kb,
                                                   t->s + q, ve - q);
                    if (!v || put_arg(t, args, t->s + kb, ke - kb, v)) break;
                    q = ve + strlen("</parameter>");
                    continue;
                }
                if (ei == 1) {
                    if (ai__tc_add_call(t, nb, t->s + nb, ne - nb, args, NULL, 0)) return FAILED;
                    args = NULL;
                    q += strlen("</invoke>");
                    break;
                }
                if (pr == -1 || ei == -1 || q >= t->n) ai__tc_more(t, q, "an <invoke> block");
                else ai__tc_fail(t, q, "expected <parameter or </invoke>");
                break;
            }
            if (args) {
                ai__json_free(args);
                return FAILED;
            }
            continue;
        }
        int e = at(t, q, "</minimax:tool_call>");
        if (e == 1 && k > 0) return q + strlen("</minimax:tool_call>");
        if (iv == -1 || e == -1 || q >= t->n) ai__tc_more(t, q, "a <minimax:tool_call> block");
        else ai__tc_fail(t, q, "expected <invoke or </minimax:tool_call>");
        return FAILED;
    }
}

/* ---- command_r, granite, firefunction ----------------------------------- */

static size_t cmdr_block(tc *t, size_t p, int which) {
    if (which == 1) return p + strlen("<|START_RESPONSE|>"); /* wrappers */
    if (which == 2) return p + strlen("<|END_RESPONSE|>");
    size_t e = json_call_list(t, p + strlen("<|START_ACTION|>"), 1, "<|START_ACTION|>");
    if (e == FAILED) return FAILED;
    return expect(t, e, "<|END_ACTION|>", "<|START_ACTION|>");
}

static size_t granite_block(tc *t, size_t p, int which) {
    (void)which;
    return json_call_list(t, p + strlen("<|tool_call|>"), 0, "<|tool_call|>");
}

static size_t fire_block(tc *t, size_t p, int which) {
    (void)which;
    size_t q = p + strlen("functools");
    if (q >= t->n || t->s[q] != '[') {
        if (q >= t->n) ai__tc_more(t, q, "functools[");
        else ai__tc_fail(t, q, "'[' expected after functools");
        return FAILED;
    }
    return json_call_list(t, q, 0, "functools[");
}

/* ---- generic_json ------------------------------------------------------- */

static void scan_generic(tc *t) {
    size_t q = skip_ws(t, t->body);
    if (q >= t->n || t->s[q] != '{') {
        tail(t, t->body, NULL, 0);
        return;
    }
    ai__json *o;
    size_t e = json_at(t, q, &o, "the JSON output");
    if (e == FAILED) return;
    const ai__json *tcs = ai__json_get(o, "tool_calls"), *one = ai__json_get(o, "tool_call"),
                   *resp = ai__json_get(o, "response");
    if (tcs) {
        ai__json *v = ai__json_clone(tcs);
        if (!v) t->nomem = 1;
        else if (v->type != AI__JSON_ARRAY) {
            ai__json_free(v);
            ai__tc_fail(t, q, "\"tool_calls\" is not an array");
        } else if (json_calls(t, q, v, 1) == 0) {
            /* ok */
        }
    } else if (one) {
        ai__json *v = ai__json_clone(one);
        if (!v) t->nomem = 1;
        else json_call(t, q, v, 1);
    } else if (resp && resp->type == AI__JSON_STRING) {
        ai__buf_put(&t->content, resp->str, resp->len);
    } else {
        text(t, q, e); /* some other JSON: it is the answer itself */
    }
    ai__json_free(o);
    if (!t->error && !t->pending) tail(t, e, NULL, 0);
}

/* ---- gpt-oss harmony ---------------------------------------------------- */

static const char *const H_ENDS[] = {"<|end|>", "<|call|>", "<|return|>", "<|start|>"};

/* The next occurrence of a literal, searched again only once passed: with
 * many messages, a token that occurs rarely (or never) is not searched for
 * to the end of the text once per message. */
typedef struct nextpos {
    size_t at;
    int known;
} nextpos;

static size_t find_next(const tc *t, nextpos *c, size_t from, const char *lit) {
    if (!c->known || (c->at != FAILED && c->at < from)) {
        c->at = find(t, from, lit);
        c->known = 1;
    }
    return c->at;
}

/* The first message end token at or after p (FAILED if none). */
static size_t harmony_end(const tc *t, nextpos *cache, size_t p, size_t *len) {
    size_t best = FAILED;
    for (size_t i = 0; i < 4; i++) {
        size_t f = find_next(t, &cache[i], p, H_ENDS[i]);
        if (f != FAILED && (best == FAILED || f < best)) {
            best = f;
            *len = i == 3 ? 0 : strlen(H_ENDS[i]); /* <|start|> opens the next one */
        }
    }
    return best;
}

/* Finds the value of "to=" in the header s[a..b): [*rb, *re). */
static int header_recipient(const tc *t, size_t a, size_t b, size_t *rb, size_t *re) {
    for (size_t i = a; i + 3 <= b; i++)
        if (!memcmp(t->s + i, "to=", 3) && (i == a || is_ws(t->s[i - 1]) || t->s[i - 1] == '>')) {
            size_t e = i + 3;
            while (e < b && !is_ws(t->s[e]) && t->s[e] != '<') e++;
            *rb = i + 3;
            *re = e;
            return 1;
        }
    return 0;
}

static void scan_harmony(tc *t) {
    static const char *const marks[] = {"<|start|>", "<|channel|>", "<|end|>", "<|message|>"};
    size_t p = t->body;
    int nmsg = 0;
    nextpos ends[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}}; /* H_ENDS */
    nextpos c_msg = {0, 0}, c_chan = {0, 0};
    while (p < t->n) {
        size_t h = p;
        int st = at(t, p, "<|start|>");
        if (st == 1) h = p + strlen("<|start|>");
        /* a header runs to <|message|>; it must hold a channel (or, for
         * the first message, the recipient of the generation prompt's role) */
        size_t m = find_next(t, &c_msg, h, "<|message|>");
        size_t ch = find_next(t, &c_chan, h, "<|channel|>");
        int header = st == 1 || at(t, p, "<|channel|>") == 1 ||
                     (nmsg == 0 && ch != FAILED && (m == FAILED || ch < m) &&
                      !memchr(t->s + p, '\n', ch - p) && ch - p < 128);
        if (!header && nmsg == 0 && t->partial) {
            /* " to=functions.f<|channel|>..." may still be arriving (the
             * generation prompt ends in the role, so the recipient comes first) */
            size_t q = skip_ws(t, p);
            if (at(t, q, "to=") != 0) {
                t->pending = 1;
                return;
            }
        }
        if (!header) {
            if (st == -1 || at(t, p, "<|channel|>") == -1) {
                t->pending = t->partial;
                if (!t->partial) text(t, p, t->n);
                return;
            }
            /* plain text up to the next message */
            size_t nx = find_next(t, &ends[3], p, "<|start|>");
            size_t nc = ch;
            if (nc != FAILED && (nx == FAILED || nc < nx)) nx = nc;
            if (nx == FAILED) {
                tail(t, p, marks, 2);
                return;
            }
            text(t, p, nx);
            p = nx;
            nmsg++;
            continue;
        }
        if (m == FAILED) {
            ai__tc_more(t, p, "a harmony message header");
            return;
        }
        size_t e0 = find_next(t, &ends[0], h, "<|end|>"), e3 = find_next(t, &ends[3], h, "<|start|>");
        if ((e0 != FAILED && e0 < m) || (e3 != FAILED && e3 < m)) {
            ai__tc_fail(t, p, "harmony message header without <|message|>");
            return;
        }
        size_t chb = 0, che = 0;
        if (ch != FAILED && ch < m) {
            chb = ch + strlen("<|channel|>");
            che = chb;
            while (che < m && !is_ws(t->s[che]) && t->s[che] != '<') che++;
        }
        size_t rb = 0, re = 0;
        int to = header_recipient(t, h, m, &rb, &re);
        size_t b = m + strlen("<|message|>");
        size_t elen = 0;
        nmsg++;
        if (to) {
            ai__json *args;
            size_t e = json_at(t, b, &args, "a harmony tool call");
            if (e == FAILED) return;
            size_t f = skip_ws(t, e), next = t->n;
            int more = 0, ok = f >= t->n;
            for (size_t i = 0; i < 4 && !ok; i++) {
                int r = at(t, f, H_ENDS[i]);
                if (r == 1) {
                    ok = 1;
                    next = f + (i == 3 ? 0 : strlen(H_ENDS[i]));
                }
                if (r == -1) more = 1;
            }
            if (!ok || (f >= t->n && t->partial)) {
                ai__json_free(args);
                if (more || (ok && t->partial)) t->pending = t->partial ? 1 : 0;
                if (!t->pending) {
                    if (more) ai__tc_more(t, f, "a harmony tool call");
                    else ai__tc_fail(t, f, "text after the arguments of a harmony tool call");
                }
                return;
            }
            size_t nb = rb;
            if (re - rb > 10 && !memcmp(t->s + rb, "functions.", 10)) nb += 10;
            if (ai__tc_add_call(t, rb, t->s + nb, re - nb, args, NULL, 0)) return;
            p = next;
            continue;
        }
        size_t end = harmony_end(t, ends, b, &elen);
        int analysis = che - chb == 8 && !memcmp(t->s + chb, "analysis", 8);
        ai__buf *dst = analysis ? &t->reasoning : &t->content;
        if (dst->len) ai__buf_putc(dst, '\n');
        if (end == FAILED) {
            size_t hold = 0;
            if (t->partial) {
                for (size_t i = 0; i < 4; i++) {
                    size_t o = overlap(t, b, H_ENDS[i]);
                    if (o > hold) hold = o;
                }
                t->pending = 1;
            }
            ai__buf_put(dst, t->s + b, t->n - hold - b);
            return;
        }
        ai__buf_put(dst, t->s + b, end - b);
        p = end + elen;
    }
}

/* ---- dispatch ----------------------------------------------------------- */

void ai__tc_scan(tc *t) {
    switch (t->format) {
    case AI_TOOLCALL_HERMES: {
        static const char *const m[] = {"<tool_call>"};
        scan_tagged(t, m, 1, hermes_block);
        break;
    }
    case AI_TOOLCALL_LLAMA3_JSON: scan_llama3(t); break;
    case AI_TOOLCALL_PYTHONIC: scan_pythonic(t); break;
    case AI_TOOLCALL_LFM2: {
        static const char *const m[] = {"<|tool_call_start|>"};
        scan_tagged(t, m, 1, lfm2_block);
        break;
    }
    case AI_TOOLCALL_MISTRAL: {
        static const char *const m[] = {"[TOOL_CALLS]"};
        scan_tagged(t, m, 1, mistral_block);
        break;
    }
    case AI_TOOLCALL_MISTRAL_V11: {
        static const char *const m[] = {"[TOOL_CALLS]"};
        scan_tagged(t, m, 1, mistral_v11_block);
        break;
    }
    case AI_TOOLCALL_QWEN3_CODER_XML: {
        static const char *const m[] = {"<tool_call>", "<seed:tool_call>"};
        scan_tagged(t, m, 2, qwen_xml_block);
        break;
    }
    case AI_TOOLCALL_GEMMA4: {
        static const char *const m[] = {"<|tool_call>"};
        scan_tagged(t, m, 1, gemma_block);
        break;
    }
    case AI_TOOLCALL_FUNCTIONARY_V3_1: {
        static const char *const m[] = {"<function="};
        scan_tagged(t, m, 1, fv31_block);
        break;
    }
    case AI_TOOLCALL_FUNCTIONARY_V3_2: scan_fv32(t); break;
    case AI_TOOLCALL_DEEPSEEK_R1:
    case AI_TOOLCALL_DEEPSEEK_V3_1: {
        static const char *const m[] = {DS_CALLS_BEGIN, DS_CALL_BEGIN};
        scan_tagged(t, m, 2, ds_block);
        break;
    }
    case AI_TOOLCALL_GPT_OSS_HARMONY: scan_harmony(t); break;
    case AI_TOOLCALL_COMMAND_R: {
        static const char *const m[] = {"<|START_ACTION|>", "<|START_RESPONSE|>", "<|END_RESPONSE|>"};
        scan_tagged(t, m, 3, cmdr_block);
        break;
    }
    case AI_TOOLCALL_GRANITE: {
        static const char *const m[] = {"<|tool_call|>"};
        scan_tagged(t, m, 1, granite_block);
        break;
    }
    case AI_TOOLCALL_KIMI_K2: {
        static const char *const m[] = {"<|tool_calls_section_begin|>", "<|tool_call_section_begin|>"};
        scan_tagged(t, m, 2, kimi_block);
        break;
    }
    case AI_TOOLCALL_GLM45: {
        static const char *const m[] = {"<tool_call>"};
        scan_tagged(t, m, 1, glm_block);
        break;
    }
    case AI_TOOLCALL_MINIMAX_M2: {
        static const char *const m[] = {"<minimax:tool_call>"};
        scan_tagged(t, m, 1, minimax_block);
        break;
    }
    case AI_TOOLCALL_FIREFUNCTION_V2: {
        static const char *const m[] = {"functools["};
        scan_tagged(t, m, 1, fire_block);
        break;
    }
    case AI_TOOLCALL_GENERIC_JSON: scan_generic(t); break;
    default: ai__tc_fail(t, 0, "unknown format"); break;
    }
}
