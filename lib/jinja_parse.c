/* jinja_parse.c - template lexer and parser (see jinja_int.h).
 *
 * The lexer copies Jinja2's rules under Hugging Face's settings:
 *  - the source's newlines are normalised to \n and one trailing \n dropped;
 *  - `{%-`, `{{-`, `{#-` strip all whitespace before the tag, `-%}`, `-}}`,
 *    `-#}` all whitespace after it (Python's notion of whitespace);
 *  - trim_blocks: the first \n after `%}` or `#}` is dropped (`+%}` keeps it);
 *  - lstrip_blocks: whitespace between the start of a line and `{%` or `{#`
 *    is dropped (`{%+` keeps it); never for `{{`;
 *  - inside brackets a `}}` or `%}` does not end the tag.
 * The parser is recursive descent with Jinja's operator precedence.
 */
#include "jinja_int.h"
#include "unicode.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_EOF, T_DATA, T_VAR_BEGIN, T_VAR_END, T_BLOCK_BEGIN, T_BLOCK_END,
       T_NAME, T_STRING, T_INT, T_FLOAT, T_OP };

typedef struct tok {
    int type;
    int line;
    const char *s; /* DATA/NAME/OP text, STRING decoded value */
    size_t n;
    int64_t i;
    double f;
} tok;

typedef struct parser {
    ai__jfail fail;
    ai__jtpl *t;
    tok *toks;
    size_t n_toks, cap_toks, pos;
    size_t cap_syms;
    int depth;
    int loops; /* for-loops open around the current statement (break) */
    int in_macro;
} parser;

static void *palloc(parser *p, size_t n) {
    void *m = ai__ja_alloc(&p->t->arena, n);
    if (!m) ai__jfailf(&p->fail, AI_E_NOMEM, 0, "out of memory");
    return m;
}

/* ---- lexer ------------------------------------------------------------------ */

static tok *push_tok(parser *p, int type, int line) {
    if (p->n_toks == p->cap_toks) {
        size_t cap = p->cap_toks ? p->cap_toks * 2 : 256;
        tok *nt = palloc(p, cap * sizeof *nt);
        if (p->n_toks) memcpy(nt, p->toks, p->n_toks * sizeof *nt);
        p->toks = nt;
        p->cap_toks = cap;
    }
    tok *t = &p->toks[p->n_toks++];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->line = line;
    return t;
}

/* Python whitespace at s[i] (ASCII fast path); returns its byte length or 0. */
static size_t ws_len(const char *s, size_t n, size_t i) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) return ai__jisspace(c) ? 1 : 0;
    size_t j = i;
    uint32_t cp = ai__ju8_next(s, n, &j);
    return ai__jisspace(cp) ? j - i : 0;
}

/* Length of s[0..n) without its trailing Python whitespace. */
static size_t rstrip_len(const char *s, size_t n) {
    while (n > 0) {
        size_t k = n - 1;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        if (ws_len(s, n, k) != n - k) break;
        n = k;
    }
    return n;
}

static int count_nl(const char *s, size_t n) {
    int c = 0;
    for (size_t i = 0; i < n; i++) c += s[i] == '\n';
    return c;
}

/* Python's unicode-escape decoding of a string literal body. */
static void lex_string(parser *p, tok *t, const char *s, size_t n, int line) {
    char *out = palloc(p, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\' || i + 1 >= n) { out[o++] = c; continue; }
        char e = s[++i];
        uint32_t cp;
        int digits = 0;
        switch (e) {
        case 'n': out[o++] = '\n'; continue;
        case 't': out[o++] = '\t'; continue;
        case 'r': out[o++] = '\r'; continue;
        case '\\': out[o++] = '\\'; continue;
        case '\'': out[o++] = '\''; continue;
        case '"': out[o++] = '"'; continue;
        case 'a': out[o++] = '\a'; continue;
        case 'b': out[o++] = '\b'; continue;
        case 'f': out[o++] = '\f'; continue;
        case 'v': out[o++] = '\v'; continue;
        case '\n': continue; /* line continuation */
        case 'x': digits = 2; break;
        case 'u': digits = 4; break;
        case 'U': digits = 8; break;
        default:
            if (e >= '0' && e <= '7') {
                cp = 0;
                int k = 0;
                while (k < 3 && i < n && s[i] >= '0' && s[i] <= '7') cp = cp * 8 + (uint32_t)(s[i++] - '0'), k++;
                i--;
                char u[4];
                size_t ul = ai__utf8_encode(cp, u);
                memcpy(out + o, u, ul);
                o += ul;
                continue;
            }
            out[o++] = '\\';
            out[o++] = e;
            continue;
        }
        cp = 0;
        for (int k = 0; k < digits; k++) {
            if (i + 1 >= n) ai__jfailf(&p->fail, AI_E_FORMAT, line, "truncated \\%c escape in a string", e);
            char h = s[++i];
            int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                  : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (v < 0) ai__jfailf(&p->fail, AI_E_FORMAT, line, "bad \\%c escape in a string", e);
            cp = cp * 16 + (uint32_t)v;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            ai__jfailf(&p->fail, AI_E_UNSUPPORTED, line, "string escape U+%X is not a character", cp);
        char u[4];
        size_t ul = ai__utf8_encode(cp, u);
        memcpy(out + o, u, ul);
        o += ul;
    }
    out[o] = '\0';
    t->s = out;
    t->n = o;
}

static int is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Lexes the inside of a `{{ }}` or `{% %}` starting at *pos; stops after the
 * closing delimiter.  Returns the strip sign seen before it ('-', '+', 0). */
static int lex_tag(parser *p, const char *s, size_t n, size_t *pos, int *line, int is_block) {
    size_t i = *pos;
    int depth = 0;
    int open_line = *line;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
                         s[i] == '\f' || s[i] == '\v')) {
            if (s[i] == '\n') (*line)++;
            i++;
        }
        if (i >= n)
            ai__jfailf(&p->fail, AI_E_FORMAT, open_line, "unexpected end of template, expected '%s'",
                       is_block ? "%}" : "}}");
        char c = s[i];
        char close = is_block ? '%' : '}';
        if (depth == 0) {
            int sign = 0;
            size_t k = i;
            if ((c == '-' || (c == '+' && is_block)) && k + 1 < n && s[k + 1] == close) { sign = c; k++; }
            if (s[k] == close && k + 1 < n && s[k + 1] == '}') {
                push_tok(p, is_block ? T_BLOCK_END : T_VAR_END, *line);
                *pos = k + 2;
                return sign;
            }
        }
        int tl = *line;
        if (is_name_start(c)) {
            size_t b = i;
            while (i < n && (is_name_start(s[i]) || is_digit(s[i]))) i++;
            tok *t = push_tok(p, T_NAME, tl);
            t->s = s + b;
            t->n = i - b;
            continue;
        }
        if (is_digit(c)) {
            size_t b = i;
            while (i < n && (is_digit(s[i]) || (s[i] == '_' && i + 1 < n && is_digit(s[i + 1])))) i++;
            int is_float = 0;
            if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
                is_float = 1;
                i++;
                while (i < n && (is_digit(s[i]) || (s[i] == '_' && i + 1 < n && is_digit(s[i + 1])))) i++;
            }
            if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                size_t k = i + 1;
                if (k < n && (s[k] == '+' || s[k] == '-')) k++;
                if (k < n && is_digit(s[k])) {
                    is_float = 1;
                    i = k;
                    while (i < n && is_digit(s[i])) i++;
                }
            }
            char buf[64];
            size_t bl = 0;
            for (size_t k = b; k < i && bl < sizeof buf - 1; k++)
                if (s[k] != '_') buf[bl++] = s[k];
            buf[bl] = '\0';
            if (i - b >= sizeof buf - 1) ai__jfailf(&p->fail, AI_E_UNSUPPORTED, tl, "number too long");
            tok *t = push_tok(p, is_float ? T_FLOAT : T_INT, tl);
            if (is_float) t->f = strtod(buf, NULL);
            else {
                char *end;
                unsigned long long v = strtoull(buf, &end, 10);
                if (v > INT64_MAX || bl > 19) ai__jfailf(&p->fail, AI_E_UNSUPPORTED, tl, "integer literal too large");
                t->i = (int64_t)v;
            }
            continue;
        }
        if (c == '\'' || c == '"') {
            size_t b = ++i;
            while (i < n && s[i] != c) {
                if (s[i] == '\\' && i + 1 < n) i++;
                if (s[i] == '\n') (*line)++;
                i++;
            }
            if (i >= n) ai__jfailf(&p->fail, AI_E_FORMAT, tl, "unterminated string literal");
            tok *t = push_tok(p, T_STRING, tl);
            lex_string(p, t, s + b, i - b, tl);
            i++;
            continue;
        }
        static const char *const two[] = {"//", "**", "==", "!=", "<=", ">="};
        size_t oplen = 0;
        for (size_t k = 0; k < sizeof two / sizeof two[0]; k++)
            if (i + 1 < n && s[i] == two[k][0] && s[i + 1] == two[k][1]) oplen = 2;
        if (!oplen && strchr("+-/*%~<>=()[]{},.:|;", c) && c) oplen = 1;
        if (!oplen) ai__jfailf(&p->fail, AI_E_FORMAT, tl, "unexpected character '%c' in a tag",
                               (unsigned char)c >= 0x20 && (unsigned char)c < 0x7F ? c : '?');
        if (oplen == 1) {
            if (c == '(' || c == '[' || c == '{') depth++;
            if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) ai__jfailf(&p->fail, AI_E_FORMAT, tl, "unexpected '%c'", c);
                depth--;
            }
        }
        tok *t = push_tok(p, T_OP, tl);
        t->s = s + i;
        t->n = oplen;
        i += oplen;
    }
}

static void lex(parser *p, const char *s, size_t n) {
    size_t pos = 0;
    int line = 1;
    int lstrip_next = 0;   /* previous tag ended with '-'              */
    int line_starting = 1; /* what precedes pos is a newline (or start) */
    while (pos < n) {
        /* find the next tag start */
        size_t ts = pos;
        while (ts + 1 < n && !(s[ts] == '{' && (s[ts + 1] == '{' || s[ts + 1] == '%' || s[ts + 1] == '#'))) ts++;
        if (ts + 1 >= n) ts = n;
        size_t db = pos, de = ts;
        if (lstrip_next) {
            size_t w;
            while (db < de && (w = ws_len(s, de, db)) != 0) {
                if (s[db] == '\n') line++;
                db += w;
            }
            line_starting = db > pos && s[db - 1] == '\n';
        }
        char kind = ts < n ? s[ts + 1] : 0;
        char sign = ts + 2 < n ? s[ts + 2] : 0;
        if (kind && sign == '-') {
            de = db + rstrip_len(s + db, de - db);
        } else if ((kind == '%' || kind == '#') && sign != '+') {
            /* lstrip_blocks: when only whitespace (Python's, as Jinja 3.1.6's
             * \s+ does) stands between the line start and the tag */
            size_t l = de;
            while (l > db && s[l - 1] != '\n') l--;
            int all_ws = 1;
            for (size_t k = l, w; k < de && all_ws; k += w) all_ws = (w = ws_len(s, de, k)) != 0;
            if (all_ws && (l > db || line_starting)) de = l;
        }
        if (de > db) {
            tok *t = push_tok(p, T_DATA, line);
            t->s = s + db;
            t->n = de - db;
        }
        line += count_nl(s + db, ts - db);
        if (ts >= n) break;
        lstrip_next = 0;
        line_starting = 0;
        pos = ts + 2;
        if (sign == '-' || (sign == '+' && kind != '{')) pos++;
        int tag_line = line;
        if (kind == '#') {
            size_t e = pos;
            while (e + 1 < n && !(s[e] == '#' && s[e + 1] == '}')) e++;
            if (e + 1 >= n) ai__jfailf(&p->fail, AI_E_FORMAT, tag_line, "unclosed comment");
            line += count_nl(s + pos, e - pos);
            int esign = (e > pos && (s[e - 1] == '-' || s[e - 1] == '+')) ? s[e - 1] : 0;
            pos = e + 2;
            if (esign == '-') lstrip_next = 1;
            else if (esign != '+' && pos < n && s[pos] == '\n') {
                pos++;
                line++;
                line_starting = 1;
            }
            continue;
        }
        int is_block = kind == '%';
        push_tok(p, is_block ? T_BLOCK_BEGIN : T_VAR_BEGIN, tag_line);
        int esign = lex_tag(p, s, n, &pos, &line, is_block);
        if (esign == '-') lstrip_next = 1;
        else if (is_block && esign != '+' && pos < n && s[pos] == '\n') {
            pos++;
            line++;
            line_starting = 1;
        }
    }
    push_tok(p, T_EOF, line);
}

/* ---- parser helpers ----------------------------------------------------------- */

static tok *cur(parser *p) { return &p->toks[p->pos]; }
static tok *peek(parser *p, size_t k) {
    size_t i = p->pos + k;
    return &p->toks[i < p->n_toks ? i : p->n_toks - 1];
}
static void adv(parser *p) { if (p->pos + 1 < p->n_toks) p->pos++; }

static int is_op(const tok *t, const char *op) {
    return t->type == T_OP && t->n == strlen(op) && !memcmp(t->s, op, t->n);
}
static int is_name(const tok *t, const char *name) {
    return t->type == T_NAME && ai__jnames_eq(t->s, t->n, name);
}

static const char *tok_desc(const tok *t) {
    switch (t->type) {
    case T_EOF: return "end of template";
    case T_DATA: return "template text";
    case T_VAR_BEGIN: return "'{{'";
    case T_VAR_END: return "'}}'";
    case T_BLOCK_BEGIN: return "'{%'";
    case T_BLOCK_END: return "'%}'";
    case T_STRING: return "a string";
    case T_INT: case T_FLOAT: return "a number";
    default: return NULL;
    }
}

static _Noreturn void unexpected(parser *p, const char *what) {
    tok *t = cur(p);
    const char *d = tok_desc(t);
    if (d) ai__jfailf(&p->fail, AI_E_FORMAT, t->line, "expected %s, got %s", what, d);
    ai__jfailf(&p->fail, AI_E_FORMAT, t->line, "expected %s, got '%.*s'", what,
               (int)(t->n > 40 ? 40 : t->n), t->s);
}

static void expect_op(parser *p, const char *op) {
    if (!is_op(cur(p), op)) {
        char w[16];
        snprintf(w, sizeof w, "'%s'", op);
        unexpected(p, w);
    }
    adv(p);
}

static void expect_type(parser *p, int type, const char *what) {
    if (cur(p)->type != type) unexpected(p, what);
    adv(p);
}

static ai__jnode *mk(parser *p, int kind, int line) {
    ai__jnode *n = palloc(p, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = line;
    n->sym = -1;
    return n;
}

static int intern(parser *p, const char *s, size_t n) {
    ai__jtpl *t = p->t;
    for (size_t i = 0; i < t->n_syms; i++)
        if (t->sym_lens[i] == n && !memcmp(t->syms[i], s, n)) return (int)i;
    if (t->n_syms == p->cap_syms) {
        size_t cap = p->cap_syms ? p->cap_syms * 2 : 32;
        const char **ns = palloc(p, cap * sizeof *ns);
        size_t *nl = palloc(p, cap * sizeof *nl);
        if (t->n_syms) {
            memcpy(ns, t->syms, t->n_syms * sizeof *ns);
            memcpy(nl, t->sym_lens, t->n_syms * sizeof *nl);
        }
        t->syms = ns;
        t->sym_lens = nl;
        p->cap_syms = cap;
    }
    char *c = palloc(p, n + 1);
    memcpy(c, s, n);
    c[n] = '\0';
    t->syms[t->n_syms] = c;
    t->sym_lens[t->n_syms] = n;
    return (int)t->n_syms++;
}

/* A growable array of node pointers (arena). */
typedef struct nvec {
    ai__jnode **v;
    size_t n, cap;
} nvec;

static void nv_push(parser *p, nvec *a, ai__jnode *x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        ai__jnode **nv = palloc(p, cap * sizeof *nv);
        if (a->n) memcpy(nv, a->v, a->n * sizeof *nv);
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = x;
}

static void enter(parser *p) {
    if (++p->depth > AI__JINJA_MAX_DEPTH)
        ai__jfailf(&p->fail, AI_E_UNSUPPORTED, cur(p)->line, "template nested too deeply");
}

/* ---- expressions ------------------------------------------------------------- */

static ai__jnode *parse_expr(parser *p, int with_cond);
static ai__jnode *parse_or(parser *p);
static ai__jnode *parse_unary(parser *p, int with_filter);

/* Call arguments after '(' up to and including ')'. */
static void parse_args(parser *p, ai__jnode *n) {
    nvec pos = {0}, kw = {0};
    const char *names[64];
    size_t lens[64];
    while (!is_op(cur(p), ")")) {
        if (pos.n || kw.n) expect_op(p, ",");
        if (is_op(cur(p), ")")) break; /* trailing comma */
        if (is_op(cur(p), "*") || is_op(cur(p), "**"))
            ai__jfailf(&p->fail, AI_E_UNSUPPORTED, cur(p)->line, "*args and **kwargs are not supported");
        if (cur(p)->type == T_NAME && is_op(peek(p, 1), "=")) {
            if (kw.n >= 64) ai__jfailf(&p->fail, AI_E_UNSUPPORTED, cur(p)->line, "too many keyword arguments");
            names[kw.n] = cur(p)->s;
            lens[kw.n] = cur(p)->n;
            adv(p);
            adv(p);
            nv_push(p, &kw, parse_expr(p, 1));
        } else {
            if (kw.n) ai__jfailf(&p->fail, AI_E_FORMAT, cur(p)->line, "positional argument after keyword argument");
            nv_push(p, &pos, parse_expr(p, 1));
        }
    }
    adv(p);
    n->list = pos.v;
    n->n = pos.n;
    n->list2 = kw.v;
    n->n2 = kw.n;
    if (kw.n) {
        n->names = palloc(p, kw.n * sizeof *n->names);
        n->name_lens = palloc(p, kw.n * sizeof *n->name_lens);
        memcpy(n->names, names, kw.n * sizeof *names);
        memcpy(n->name_lens, lens, kw.n * sizeof *lens);
    }
}

static ai__jnode *lit(parser *p, int line, ai__jv v) {
    ai__jnode *n = mk(p, JN_LIT, line);
    n->val = v;
    return n;
}

static ai__jnode *parse_primary(parser *p) {
    tok *t = cur(p);
    int line = t->line;
    switch (t->type) {
    case T_NAME: {
        adv(p);
        if (ai__jnames_eq(t->s, t->n, "true") || ai__jnames_eq(t->s, t->n, "True"))
            return lit(p, line, ai__jv_bool(1));
        if (ai__jnames_eq(t->s, t->n, "false") || ai__jnames_eq(t->s, t->n, "False"))
            return lit(p, line, ai__jv_bool(0));
        if (ai__jnames_eq(t->s, t->n, "none") || ai__jnames_eq(t->s, t->n, "None"))
            return lit(p, line, ai__jv_none());
        ai__jnode *n = mk(p, JN_NAME, line);
        n->sym = intern(p, t->s, t->n);
        return n;
    }
    case T_STRING: {
        /* adjacent literals are concatenated */
        size_t total = 0, k = 0;
        while (peek(p, k)->type == T_STRING) total += peek(p, k++)->n;
        ai__jv v = {.t = AI__JV_STR};
        if (k == 1) {
            v.u.s = t->s;
            v.n = t->n;
        } else {
            char *b = palloc(p, total + 1);
            size_t o = 0;
            for (size_t j = 0; j < k; j++) {
                memcpy(b + o, peek(p, j)->s, peek(p, j)->n);
                o += peek(p, j)->n;
            }
            b[o] = '\0';
            v.u.s = b;
            v.n = o;
        }
        for (size_t j = 0; j < k; j++) adv(p);
        return lit(p, line, v);
    }
    case T_INT: adv(p); return lit(p, line, ai__jv_int(t->i));
    case T_FLOAT: adv(p); return lit(p, line, ai__jv_float(t->f));
    case T_OP:
        if (is_op(t, "(")) {
            adv(p);
            ai__jnode *tup = mk(p, JN_TUPLE, line);
            nvec items = {0};
            int comma = 0;
            while (!is_op(cur(p), ")")) {
                if (items.n) { expect_op(p, ","); comma = 1; }
                if (is_op(cur(p), ")")) break;
                nv_push(p, &items, parse_expr(p, 1));
            }
            adv(p);
            if (items.n == 1 && !comma) return items.v[0];
            tup->list = items.v;
            tup->n = items.n;
            return tup;
        }
        if (is_op(t, "[")) {
            adv(p);
            ai__jnode *l = mk(p, JN_LIST, line);
            nvec items = {0};
            while (!is_op(cur(p), "]")) {
                if (items.n) expect_op(p, ",");
                if (is_op(cur(p), "]")) break;
                nv_push(p, &items, parse_expr(p, 1));
            }
            adv(p);
            l->list = items.v;
            l->n = items.n;
            return l;
        }
        if (is_op(t, "{")) {
            adv(p);
            ai__jnode *d = mk(p, JN_DICT, line);
            nvec ks = {0}, vs = {0};
            while (!is_op(cur(p), "}")) {
                if (ks.n) expect_op(p, ",");
                if (is_op(cur(p), "}")) break;
                nv_push(p, &ks, parse_expr(p, 1));
                expect_op(p, ":");
                nv_push(p, &vs, parse_expr(p, 1));
            }
            adv(p);
            d->list = ks.v;
            d->n = ks.n;
            d->list2 = vs.v;
            d->n2 = vs.n;
            return d;
        }
        break;
    default: break;
    }
    unexpected(p, "an expression");
}

static ai__jnode *parse_subscript(parser *p, ai__jnode *obj) {
    tok *t = cur(p);
    if (is_op(t, ".")) {
        adv(p);
        tok *a = cur(p);
        if (a->type == T_NAME) {
            adv(p);
            ai__jnode *n = mk(p, JN_ATTR, a->line);
            n->a = obj;
            n->str = a->s;
            n->len = a->n;
            return n;
        }
        if (a->type == T_INT) {
            adv(p);
            ai__jnode *n = mk(p, JN_ITEM, a->line);
            n->a = obj;
            n->b = lit(p, a->line, ai__jv_int(a->i));
            return n;
        }
        unexpected(p, "an attribute name");
    }
    /* '[' */
    adv(p);
    ai__jnode *parts[3] = {NULL, NULL, NULL};
    int colons = 0;
    for (;;) {
        if (is_op(cur(p), "]")) break;
        if (is_op(cur(p), ":")) {
            if (++colons > 2) unexpected(p, "']'");
            adv(p);
            continue;
        }
        if (parts[colons]) unexpected(p, "']' or ':'");
        parts[colons] = parse_expr(p, 1);
    }
    adv(p);
    if (!colons) {
        if (!parts[0]) ai__jfailf(&p->fail, AI_E_FORMAT, t->line, "empty subscript");
        ai__jnode *n = mk(p, JN_ITEM, t->line);
        n->a = obj;
        n->b = parts[0];
        return n;
    }
    ai__jnode *n = mk(p, JN_SLICE, t->line);
    n->a = obj;
    n->b = parts[0];
    n->c = parts[1];
    n->d = parts[2];
    return n;
}

static ai__jnode *parse_postfix(parser *p, ai__jnode *n) {
    for (;;) {
        tok *t = cur(p);
        if (is_op(t, ".") || is_op(t, "[")) n = parse_subscript(p, n);
        else if (is_op(t, "(")) {
            adv(p);
            ai__jnode *c = mk(p, JN_CALL, t->line);
            c->a = n;
            parse_args(p, c);
            n = c;
        } else return n;
    }
}

static ai__jnode *parse_filter_expr(parser *p, ai__jnode *n) {
    for (;;) {
        tok *t = cur(p);
        if (is_op(t, "|")) {
            adv(p);
            tok *f = cur(p);
            if (f->type != T_NAME) unexpected(p, "a filter name");
            adv(p);
            ai__jnode *fn = mk(p, JN_FILTER, f->line);
            fn->a = n;
            fn->str = f->s;
            fn->len = f->n;
            if (is_op(cur(p), "(")) {
                adv(p);
                parse_args(p, fn);
            }
            n = fn;
        } else if (is_name(t, "is")) {
            adv(p);
            ai__jnode *tn = mk(p, JN_TEST, t->line);
            if (is_name(cur(p), "not")) {
                tn->op = 1;
                adv(p);
            }
            tok *f = cur(p);
            if (f->type != T_NAME) unexpected(p, "a test name");
            adv(p);
            tn->a = n;
            tn->str = f->s;
            tn->len = f->n;
            tok *x = cur(p);
            if (is_op(x, "(")) {
                adv(p);
                parse_args(p, tn);
            } else if ((x->type == T_NAME || x->type == T_STRING || x->type == T_INT ||
                        x->type == T_FLOAT || is_op(x, "[") || is_op(x, "{")) &&
                       !is_name(x, "else") && !is_name(x, "or") && !is_name(x, "and")) {
                if (is_name(x, "is")) ai__jfailf(&p->fail, AI_E_FORMAT, x->line, "cannot chain tests with 'is'");
                ai__jnode *arg = parse_postfix(p, parse_primary(p));
                tn->list = palloc(p, sizeof *tn->list);
                tn->list[0] = arg;
                tn->n = 1;
            }
            n = tn;
        } else if (is_op(t, "(")) {
            adv(p);
            ai__jnode *c = mk(p, JN_CALL, t->line);
            c->a = n;
            parse_args(p, c);
            n = c;
        } else return n;
    }
}

static ai__jnode *parse_unary(parser *p, int with_filter) {
    enter(p);
    tok *t = cur(p);
    ai__jnode *n;
    if (is_op(t, "-") || is_op(t, "+")) {
        adv(p);
        n = mk(p, is_op(t, "-") ? JN_NEG : JN_POS, t->line);
        n->a = parse_unary(p, 0);
    } else {
        n = parse_primary(p);
    }
    n = parse_postfix(p, n);
    if (with_filter) n = parse_filter_expr(p, n);
    p->depth--;
    return n;
}

static ai__jnode *bin(parser *p, int op, int line, ai__jnode *a, ai__jnode *b) {
    ai__jnode *n = mk(p, JN_BIN, line);
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

static ai__jnode *parse_pow(parser *p) {
    ai__jnode *n = parse_unary(p, 1);
    while (is_op(cur(p), "**")) {
        int line = cur(p)->line;
        adv(p);
        n = bin(p, JO_POW, line, n, parse_unary(p, 1));
    }
    return n;
}

static ai__jnode *parse_math2(parser *p) {
    ai__jnode *n = parse_pow(p);
    for (;;) {
        tok *t = cur(p);
        int op = is_op(t, "*") ? JO_MUL : is_op(t, "/") ? JO_DIV : is_op(t, "//") ? JO_FLOORDIV
               : is_op(t, "%") ? JO_MOD : -1;
        if (op < 0) return n;
        adv(p);
        n = bin(p, op, t->line, n, parse_pow(p));
    }
}

static ai__jnode *parse_concat(parser *p) {
    ai__jnode *n = parse_math2(p);
    while (is_op(cur(p), "~")) {
        int line = cur(p)->line;
        adv(p);
        n = bin(p, JO_CONCAT, line, n, parse_math2(p));
    }
    return n;
}

static ai__jnode *parse_math1(parser *p) {
    ai__jnode *n = parse_concat(p);
    for (;;) {
        tok *t = cur(p);
        int op = is_op(t, "+") ? JO_ADD : is_op(t, "-") ? JO_SUB : -1;
        if (op < 0) return n;
        adv(p);
        n = bin(p, op, t->line, n, parse_concat(p));
    }
}

static ai__jnode *parse_compare(parser *p) {
    ai__jnode *left = parse_math1(p);
    ai__jnode *result = NULL;
    for (;;) {
        tok *t = cur(p);
        int op = is_op(t, "==") ? JO_EQ : is_op(t, "!=") ? JO_NE : is_op(t, "<") ? JO_LT
               : is_op(t, "<=") ? JO_LE : is_op(t, ">") ? JO_GT : is_op(t, ">=") ? JO_GE
               : is_name(t, "in") ? JO_IN : -1;
        if (op < 0 && is_name(t, "not") && is_name(peek(p, 1), "in")) {
            op = JO_NOTIN;
            adv(p);
        }
        if (op < 0) break;
        adv(p);
        ai__jnode *right = parse_math1(p);
        ai__jnode *c = bin(p, op, t->line, left, right);
        if (result) {
            /* a < b < c means (a < b) and (b < c) */
            ai__jnode *and = mk(p, JN_AND, t->line);
            and->a = result;
            and->b = c;
            result = and;
        } else {
            result = c;
        }
        left = right;
    }
    return result ? result : left;
}

static ai__jnode *parse_not(parser *p) {
    if (is_name(cur(p), "not")) {
        enter(p);
        int line = cur(p)->line;
        adv(p);
        ai__jnode *n = mk(p, JN_NOT, line);
        n->a = parse_not(p);
        p->depth--;
        return n;
    }
    return parse_compare(p);
}

static ai__jnode *parse_and(parser *p) {
    ai__jnode *n = parse_not(p);
    while (is_name(cur(p), "and")) {
        int line = cur(p)->line;
        adv(p);
        ai__jnode *a = mk(p, JN_AND, line);
        a->a = n;
        a->b = parse_not(p);
        n = a;
    }
    return n;
}

static ai__jnode *parse_or(parser *p) {
    ai__jnode *n = parse_and(p);
    while (is_name(cur(p), "or")) {
        int line = cur(p)->line;
        adv(p);
        ai__jnode *o = mk(p, JN_OR, line);
        o->a = n;
        o->b = parse_and(p);
        n = o;
    }
    return n;
}

static ai__jnode *parse_expr(parser *p, int with_cond) {
    enter(p);
    ai__jnode *n = parse_or(p);
    while (with_cond && is_name(cur(p), "if")) {
        int line = cur(p)->line;
        adv(p);
        ai__jnode *c = mk(p, JN_COND, line);
        c->a = parse_or(p);
        c->b = n;
        if (is_name(cur(p), "else")) {
            adv(p);
            c->c = parse_expr(p, 1);
        }
        n = c;
    }
    p->depth--;
    return n;
}

/* expr [, expr ...] -> a tuple when there is a comma. */
static ai__jnode *parse_tuple(parser *p, int with_cond) {
    int line = cur(p)->line;
    ai__jnode *first = parse_expr(p, with_cond);
    if (!is_op(cur(p), ",")) return first;
    nvec items = {0};
    nv_push(p, &items, first);
    while (is_op(cur(p), ",")) {
        adv(p);
        if (cur(p)->type == T_BLOCK_END || cur(p)->type == T_VAR_END || is_name(cur(p), "if")) break;
        nv_push(p, &items, parse_expr(p, with_cond));
    }
    ai__jnode *t = mk(p, JN_TUPLE, line);
    t->list = items.v;
    t->n = items.n;
    return t;
}

/* ---- statements ---------------------------------------------------------------- */

static ai__jnode *parse_body(parser *p, const char *const *ends);

/* Assignment targets: name or name, name, ... (optionally in parentheses). */
static void parse_targets(parser *p, ai__jnode *n) {
    int paren = 0;
    if (is_op(cur(p), "(")) { paren = 1; adv(p); }
    int syms[16];
    size_t k = 0;
    for (;;) {
        tok *t = cur(p);
        if (t->type != T_NAME) unexpected(p, "a variable name");
        if (k == 16) ai__jfailf(&p->fail, AI_E_UNSUPPORTED, t->line, "too many targets");
        syms[k++] = intern(p, t->s, t->n);
        adv(p);
        if (!is_op(cur(p), ",")) break;
        adv(p);
        if (paren && is_op(cur(p), ")")) break;
    }
    if (paren) expect_op(p, ")");
    n->syms = palloc(p, k * sizeof *n->syms);
    memcpy(n->syms, syms, k * sizeof *syms);
    n->nn = k;
}

static void end_tag(parser *p) { expect_type(p, T_BLOCK_END, "'%}'"); }

/* Consumes `{% name %}` where name is the end tag the body stopped at. */
static void expect_end(parser *p, const char *name) {
    if (!is_name(cur(p), name)) {
        char w[32];
        snprintf(w, sizeof w, "'%s'", name);
        unexpected(p, w);
    }
    adv(p);
    end_tag(p);
}

static ai__jnode *parse_statement(parser *p) {
    tok *t = cur(p);
    int line = t->line;
    if (t->type != T_NAME) unexpected(p, "a statement name");
    adv(p);
    enter(p);
    ai__jnode *n = NULL;
    if (ai__jnames_eq(t->s, t->n, "for")) {
        n = mk(p, JN_FOR, line);
        parse_targets(p, n);
        if (!is_name(cur(p), "in")) unexpected(p, "'in'");
        adv(p);
        n->a = parse_tuple(p, 0);
        if (is_name(cur(p), "if")) {
            adv(p);
            n->b = parse_expr(p, 1);
        }
        if (is_name(cur(p), "recursive"))
            ai__jfailf(&p->fail, AI_E_UNSUPPORTED, cur(p)->line, "recursive loops are not supported");
        end_tag(p);
        static const char *const ends[] = {"endfor", "else", NULL};
        static const char *const ends2[] = {"endfor", NULL};
        p->loops++;
        n->c = parse_body(p, ends);
        p->loops--;
        if (is_name(cur(p), "else")) {
            adv(p);
            end_tag(p);
            n->d = parse_body(p, ends2);
        }
        expect_end(p, "endfor");
    } else if (ai__jnames_eq(t->s, t->n, "if")) {
        static const char *const ends[] = {"elif", "else", "endif", NULL};
        static const char *const ends2[] = {"endif", NULL};
        n = mk(p, JN_IF, line);
        n->a = parse_tuple(p, 0);
        end_tag(p);
        n->c = parse_body(p, ends);
        ai__jnode *last = n;
        while (is_name(cur(p), "elif")) {
            ai__jnode *e = mk(p, JN_IF, cur(p)->line);
            adv(p);
            e->a = parse_tuple(p, 0);
            end_tag(p);
            e->c = parse_body(p, ends);
            last->d = e;
            last = e;
        }
        if (is_name(cur(p), "else")) {
            adv(p);
            end_tag(p);
            last->d = parse_body(p, ends2);
        }
        expect_end(p, "endif");
    } else if (ai__jnames_eq(t->s, t->n, "set")) {
        tok *a = cur(p);
        if (a->type == T_NAME && is_op(peek(p, 1), ".")) {
            tok *attr = peek(p, 2);
            if (attr->type != T_NAME) { adv(p); adv(p); unexpected(p, "an attribute name"); }
            n = mk(p, JN_SETATTR, line);
            n->sym = intern(p, a->s, a->n);
            n->str = attr->s;
            n->len = attr->n;
            adv(p); adv(p); adv(p);
            expect_op(p, "=");
            n->a = parse_tuple(p, 1);
            end_tag(p);
        } else {
            n = mk(p, JN_SET, line);
            parse_targets(p, n);
            if (is_op(cur(p), "=")) {
                adv(p);
                n->a = parse_tuple(p, 1);
                end_tag(p);
            } else {
                if (n->nn != 1) unexpected(p, "'='");
                if (is_op(cur(p), "|"))
                    ai__jfailf(&p->fail, AI_E_UNSUPPORTED, line, "filtered block set is not supported");
                end_tag(p);
                static const char *const ends[] = {"endset", NULL};
                n->kind = JN_SETBLOCK;
                n->c = parse_body(p, ends);
                expect_end(p, "endset");
            }
            n->sym = n->syms[0];
        }
    } else if (ai__jnames_eq(t->s, t->n, "macro")) {
        n = mk(p, JN_MACRO, line);
        tok *name = cur(p);
        if (name->type != T_NAME) unexpected(p, "a macro name");
        n->sym = intern(p, name->s, name->n);
        adv(p);
        expect_op(p, "(");
        int syms[64];
        ai__jnode *defs[64];
        size_t k = 0;
        while (!is_op(cur(p), ")")) {
            if (k) expect_op(p, ",");
            if (is_op(cur(p), ")")) break;
            tok *a = cur(p);
            if (a->type != T_NAME) unexpected(p, "a parameter name");
            if (k == 64) ai__jfailf(&p->fail, AI_E_UNSUPPORTED, a->line, "too many macro parameters");
            syms[k] = intern(p, a->s, a->n);
            defs[k] = NULL;
            adv(p);
            if (is_op(cur(p), "=")) {
                adv(p);
                defs[k] = parse_expr(p, 1);
            } else if (k && defs[k - 1]) {
                ai__jfailf(&p->fail, AI_E_FORMAT, a->line, "non-default argument follows default argument");
            }
            k++;
        }
        adv(p);
        end_tag(p);
        n->syms = palloc(p, (k ? k : 1) * sizeof *n->syms);
        n->list2 = palloc(p, (k ? k : 1) * sizeof *n->list2);
        if (k) {
            memcpy(n->syms, syms, k * sizeof *syms);
            memcpy(n->list2, defs, k * sizeof *defs);
        }
        n->nn = k;
        n->n2 = k;
        static const char *const ends[] = {"endmacro", NULL};
        int saved = p->loops;
        p->loops = 0;
        p->in_macro++;
        n->c = parse_body(p, ends);
        p->in_macro--;
        p->loops = saved;
        expect_end(p, "endmacro");
    } else if (ai__jnames_eq(t->s, t->n, "filter")) {
        n = mk(p, JN_FILTERBLOCK, line);
        /* a filter chain applied to a placeholder (a NULL operand) */
        ai__jnode *chain = NULL;
        for (;;) {
            tok *f = cur(p);
            if (f->type != T_NAME) unexpected(p, "a filter name");
            adv(p);
            ai__jnode *fn = mk(p, JN_FILTER, f->line);
            fn->a = chain;
            fn->str = f->s;
            fn->len = f->n;
            if (is_op(cur(p), "(")) {
                adv(p);
                parse_args(p, fn);
            }
            chain = fn;
            if (!is_op(cur(p), "|")) break;
            adv(p);
        }
        n->a = chain;
        end_tag(p);
        static const char *const ends[] = {"endfilter", NULL};
        n->c = parse_body(p, ends);
        expect_end(p, "endfilter");
    } else if (ai__jnames_eq(t->s, t->n, "generation")) {
        end_tag(p);
        static const char *const ends[] = {"endgeneration", NULL};
        /* transformers makes it a call block: its body is scoped */
        n = mk(p, JN_FILTERBLOCK, line);
        n->c = parse_body(p, ends);
        expect_end(p, "endgeneration");
    } else if (ai__jnames_eq(t->s, t->n, "break") || ai__jnames_eq(t->s, t->n, "continue")) {
        if (!p->loops) ai__jfailf(&p->fail, AI_E_FORMAT, line, "'%.*s' outside a loop", (int)t->n, t->s);
        n = mk(p, t->n == 5 ? JN_BREAK : JN_CONTINUE, line);
        end_tag(p);
    } else {
        ai__jfailf(&p->fail, AI_E_UNSUPPORTED, line, "unsupported tag '%.*s'",
                   (int)(t->n > 40 ? 40 : t->n), t->s);
    }
    p->depth--;
    return n;
}

/* Statements until `{% <one of ends> ...`; stops on that name (ends == NULL:
 * until the end of the template). */
static ai__jnode *parse_body(parser *p, const char *const *ends) {
    ai__jnode *body = mk(p, JN_BODY, cur(p)->line);
    nvec st = {0};
    for (;;) {
        tok *t = cur(p);
        if (t->type == T_EOF) {
            if (ends) {
                char w[64];
                snprintf(w, sizeof w, "'{%% %s %%}'", ends[0]);
                unexpected(p, w);
            }
            break;
        }
        if (t->type == T_DATA) {
            ai__jnode *x = mk(p, JN_TEXT, t->line);
            x->val.t = AI__JV_STR;
            x->val.u.s = t->s;
            x->val.n = t->n;
            nv_push(p, &st, x);
            adv(p);
        } else if (t->type == T_VAR_BEGIN) {
            adv(p);
            ai__jnode *x = mk(p, JN_OUT, t->line);
            x->a = parse_tuple(p, 1);
            expect_type(p, T_VAR_END, "'}}'");
            nv_push(p, &st, x);
        } else if (t->type == T_BLOCK_BEGIN) {
            tok *name = peek(p, 1);
            if (ends && name->type == T_NAME)
                for (const char *const *e = ends; *e; e++)
                    if (is_name(name, *e)) {
                        adv(p);
                        body->list = st.v;
                        body->n = st.n;
                        return body;
                    }
            adv(p);
            nv_push(p, &st, parse_statement(p));
        } else {
            unexpected(p, "template text or a tag");
        }
    }
    body->list = st.v;
    body->n = st.n;
    return body;
}

/* ---- entry ---------------------------------------------------------------- */

ai_status ai__jtpl_parse(const char *src, size_t len, ai__jtpl **out, char *err, size_t err_cap) {
    if (!out || (!src && len)) {
        ai__set_err(err, err_cap, "invalid argument");
        return AI_E_INVAL;
    }
    *out = NULL;
    if (!ai__utf8_valid(src, len)) {
        ai__set_err(err, err_cap, "template is not valid UTF-8");
        return AI_E_FORMAT;
    }
    ai__jtpl *t = calloc(1, sizeof *t);
    parser *p = calloc(1, sizeof *p);
    if (!t || !p) {
        free(t);
        free(p);
        ai__set_err(err, err_cap, "out of memory");
        return AI_E_NOMEM;
    }
    p->t = t;
    if (setjmp(p->fail.jmp)) {
        ai_status st = p->fail.st;
        ai__set_err(err, err_cap, "%s", p->fail.msg);
        ai__ja_free(&t->arena);
        free(t);
        free(p);
        return st;
    }
    /* Normalise newlines (\r\n and \r become \n) and drop one trailing \n,
     * as Jinja does before lexing. */
    char *s = palloc(p, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            s[n++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n') i++;
        } else {
            s[n++] = src[i];
        }
    }
    if (n && s[n - 1] == '\n') n--;
    s[n] = '\0';
    lex(p, s, n);
    t->root = parse_body(p, NULL);
    free(p);
    *out = t;
    return AI_OK;
}

void ai__jtpl_free(ai__jtpl *t) {
    if (!t) return;
    ai__ja_free(&t->arena);
    free(t);
}
