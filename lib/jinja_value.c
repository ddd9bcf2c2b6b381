/* jinja_value.c - arena, template values, Python's str/repr/json forms,
 * UTF-8 helpers (see jinja_int.h). */
#include "jinja_int.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---------------------------------------------------------------- */

struct ai__jblk {
    ai__jblk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

#define JBLK_SIZE ((size_t)32 << 10)

void *ai__ja_alloc(ai__jarena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    ai__jblk *b = a->head;
    if (b && b->cap - b->used >= n) {
        void *p = b->data + b->used;
        b->used += n;
        return p;
    }
    /* Big requests get a block of their own, put behind the head so that the
     * head's free space stays usable. */
    size_t cap = n > JBLK_SIZE / 4 ? n : JBLK_SIZE;
    size_t limit = a->limit ? a->limit : AI__JINJA_MAX_MEM;
    if (cap > limit || a->total > limit - cap) return NULL;
    ai__jblk *nb = malloc(sizeof *nb + cap);
    if (!nb) return NULL;
    a->total += cap;
    nb->cap = cap;
    nb->used = n;
    if (cap != JBLK_SIZE && b) {
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        a->head = nb;
    }
    return nb->data;
}

void ai__ja_free(ai__jarena *a) {
    ai__jblk *b = a->head;
    while (b) {
        ai__jblk *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->total = 0;
}

_Noreturn void ai__jfailf(ai__jfail *f, ai_status st, int line, const char *fmt, ...) {
    char tmp[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (line > 0) snprintf(f->msg, sizeof f->msg, "line %d: %s", line, tmp);
    else snprintf(f->msg, sizeof f->msg, "%s", tmp);
    f->st = st;
    longjmp(f->jmp, 1);
}

/* ---- context and builders ------------------------------------------------- */

ai__jctx *ai__jctx_new(void) {
    ai__jctx *c = calloc(1, sizeof *c);
    return c;
}

void ai__jctx_free(ai__jctx *c) {
    if (!c) return;
    ai__ja_free(&c->arena);
    for (size_t i = 0; i < c->n_vars; i++) free(c->names[i]);
    free(c->names);
    free(c->vals);
    free(c);
}

void ai__jctx_limits(ai__jctx *c, uint64_t max_steps, size_t max_mem) {
    if (max_steps) c->max_steps = max_steps;
    if (max_mem) c->arena.limit = max_mem;
}

void ai__jctx_set_time(ai__jctx *c, int64_t t) {
    c->have_time = 1;
    c->time = t;
}

int ai__jctx_set(ai__jctx *c, const char *name, ai__jv v) {
    for (size_t i = 0; i < c->n_vars; i++)
        if (!strcmp(c->names[i], name)) {
            c->vals[i] = v;
            return 0;
        }
    if (c->n_vars == c->cap_vars) {
        size_t cap = c->cap_vars ? c->cap_vars * 2 : 8;
        char **nn = realloc(c->names, cap * sizeof *nn);
        if (!nn) return -1;
        c->names = nn;
        ai__jv *nv = realloc(c->vals, cap * sizeof *nv);
        if (!nv) return -1;
        c->vals = nv;
        c->cap_vars = cap;
    }
    char *d = ai__strdup(name);
    if (!d) return -1;
    c->names[c->n_vars] = d;
    c->vals[c->n_vars++] = v;
    return 0;
}

ai__jv ai__jv_none(void) { ai__jv v = {.t = AI__JV_NONE}; return v; }
ai__jv ai__jv_bool(int b) { ai__jv v = {.t = AI__JV_BOOL}; v.u.i = !!b; return v; }
ai__jv ai__jv_int(int64_t i) { ai__jv v = {.t = AI__JV_INT}; v.u.i = i; return v; }
ai__jv ai__jv_float(double f) { ai__jv v = {.t = AI__JV_FLOAT}; v.u.f = f; return v; }

static void *ctx_alloc(ai__jctx *c, size_t n) {
    void *p = ai__ja_alloc(&c->arena, n);
    if (!p) c->oom = 1;
    return p;
}

ai__jv ai__jv_str(ai__jctx *c, const char *s, size_t n) {
    ai__jv v = {.t = AI__JV_UNDEF};
    char *p = ctx_alloc(c, n + 1);
    if (!p) return v;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    v.t = AI__JV_STR;
    v.u.s = p;
    v.n = n;
    return v;
}

ai__jv ai__jv_list(ai__jctx *c) {
    ai__jv v = {.t = AI__JV_UNDEF};
    ai__jlist *l = ctx_alloc(c, sizeof *l);
    if (!l) return v;
    memset(l, 0, sizeof *l);
    v.t = AI__JV_LIST;
    v.u.l = l;
    return v;
}

ai__jv ai__jv_dict(ai__jctx *c) {
    ai__jv v = {.t = AI__JV_UNDEF};
    ai__jdict *d = ctx_alloc(c, sizeof *d);
    if (!d) return v;
    memset(d, 0, sizeof *d);
    v.t = AI__JV_DICT;
    v.u.d = d;
    return v;
}

/* Grows an array of n items of size sz to hold one more (arena: the old
 * array is abandoned).  NULL on failure. */
static void *grow(ai__jarena *a, void *old, size_t n, size_t *cap, size_t sz) {
    if (n < *cap) return old;
    size_t nc = *cap ? *cap * 2 : 4;
    if (nc > (SIZE_MAX / 2) / sz) return NULL;
    void *p = ai__ja_alloc(a, nc * sz);
    if (!p) return NULL;
    if (n) memcpy(p, old, n * sz);
    *cap = nc;
    return p;
}

void ai__jv_push(ai__jctx *c, ai__jv list, ai__jv item) {
    if (list.t != AI__JV_LIST) { c->oom = 1; return; }
    ai__jlist *l = list.u.l;
    size_t cap = l->cap;
    ai__jv *v = grow(&c->arena, l->v, l->n, &cap, sizeof *v);
    if (!v) { c->oom = 1; return; }
    l->v = v;
    l->cap = cap;
    l->v[l->n++] = item;
}

void ai__jv_put(ai__jctx *c, ai__jv dict, const char *key, size_t klen, ai__jv val) {
    if (dict.t != AI__JV_DICT) { c->oom = 1; return; }
    ai__jdict *d = dict.u.d;
    ai__jv *slot = ai__jdict_get(d, key, klen);
    if (slot) { *slot = val; return; }
    ai__jv k = ai__jv_str(c, key, klen);
    if (k.t != AI__JV_STR) return;
    size_t cap = d->cap, cap2 = d->cap;
    ai__jv *ks = grow(&c->arena, d->k, d->n, &cap, sizeof *ks);
    ai__jv *vs = grow(&c->arena, d->v, d->n, &cap2, sizeof *vs);
    if (!ks || !vs) { c->oom = 1; return; }
    d->k = ks;
    d->v = vs;
    d->cap = cap;
    d->k[d->n] = k;
    d->v[d->n++] = val;
}

ai__jv *ai__jdict_get(const ai__jdict *d, const char *k, size_t n) {
    for (size_t i = 0; i < d->n; i++) {
        const ai__jv *key = &d->k[i];
        if (key->t == AI__JV_STR && key->n == n && (n == 0 || !memcmp(key->u.s, k, n)))
            return &d->v[i];
    }
    return NULL;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

uint32_t ai__ju8_next(const char *s, size_t n, size_t *i) {
    const unsigned char *p = (const unsigned char *)s;
    size_t k = *i;
    unsigned c = p[k];
    if (c < 0x80) { *i = k + 1; return c; }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len == 1 || k + (size_t)len > n) { *i = k + 1; return c; }
    uint32_t cp = c & (0x7F >> len);
    for (int j = 1; j < len; j++) {
        if ((p[k + j] & 0xC0) != 0x80) { *i = k + 1; return c; }
        cp = (cp << 6) | (p[k + j] & 0x3F);
    }
    *i = k + (size_t)len;
    return cp;
}

size_t ai__ju8_count(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

int ai__jisspace(uint32_t cp) {
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F)) return 1;
    if (cp < 0x85) return 0;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* ---- truth, equality, order ---------------------------------------------------- */

int ai__jv_truthy(ai__jv v) {
    switch (v.t) {
    case AI__JV_UNDEF: case AI__JV_NONE: return 0;
    case AI__JV_BOOL: case AI__JV_INT: return v.u.i != 0;
    case AI__JV_FLOAT: return v.u.f != 0.0;
    case AI__JV_STR: return v.n != 0;
    case AI__JV_LIST: return v.u.l->n != 0;
    case AI__JV_DICT: return v.u.d->n != 0;
    default: return 1;
    }
}

static int is_num(ai__jv v) {
    return v.t == AI__JV_BOOL || v.t == AI__JV_INT || v.t == AI__JV_FLOAT;
}

static double num(ai__jv v) { return v.t == AI__JV_FLOAT ? v.u.f : (double)v.u.i; }

int ai__jv_equal(ai__jv a, ai__jv b) {
    if (is_num(a) && is_num(b)) {
        if (a.t != AI__JV_FLOAT && b.t != AI__JV_FLOAT) return a.u.i == b.u.i;
        return num(a) == num(b);
    }
    if (a.t != b.t) return 0;
    switch (a.t) {
    case AI__JV_UNDEF: case AI__JV_NONE: return 1;
    case AI__JV_STR: return a.n == b.n && (a.n == 0 || !memcmp(a.u.s, b.u.s, a.n));
    case AI__JV_LIST:
        if (a.u.l->n != b.u.l->n) return 0;
        for (size_t i = 0; i < a.u.l->n; i++)
            if (!ai__jv_equal(a.u.l->v[i], b.u.l->v[i])) return 0;
        return 1;
    case AI__JV_DICT:
        if (a.u.d->n != b.u.d->n) return 0;
        for (size_t i = 0; i < a.u.d->n; i++) {
            ai__jv k = a.u.d->k[i];
            if (k.t != AI__JV_STR) return a.u.d == b.u.d;
            ai__jv *o = ai__jdict_get(b.u.d, k.u.s, k.n);
            if (!o || !ai__jv_equal(a.u.d->v[i], *o)) return 0;
        }
        return 1;
    case AI__JV_NS: return a.u.d == b.u.d;
    case AI__JV_FUNC: return a.aux == b.aux;
    default: return a.u.p == b.u.p;
    }
}

int ai__jv_cmp(ai__jv a, ai__jv b, int *ok) {
    *ok = 1;
    if (is_num(a) && is_num(b)) {
        if (a.t != AI__JV_FLOAT && b.t != AI__JV_FLOAT)
            return a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
        double x = num(a), y = num(b);
        if (x != x || y != y) { *ok = 1; return 2; } /* NaN: every test false */
        return x < y ? -1 : x > y;
    }
    if (a.t == AI__JV_STR && b.t == AI__JV_STR) {
        /* UTF-8 byte order is code point order. */
        size_t m = a.n < b.n ? a.n : b.n;
        int c = m ? memcmp(a.u.s, b.u.s, m) : 0;
        if (c) return c < 0 ? -1 : 1;
        return a.n < b.n ? -1 : a.n > b.n;
    }
    if (a.t == AI__JV_LIST && b.t == AI__JV_LIST) {
        size_t m = a.u.l->n < b.u.l->n ? a.u.l->n : b.u.l->n;
        for (size_t i = 0; i < m; i++) {
            if (ai__jv_equal(a.u.l->v[i], b.u.l->v[i])) continue;
            return ai__jv_cmp(a.u.l->v[i], b.u.l->v[i], ok);
        }
        return a.u.l->n < b.u.l->n ? -1 : a.u.l->n > b.u.l->n;
    }
    *ok = 0;
    return 0;
}

const char *ai__jv_typename(ai__jv v) {
    switch (v.t) {
    case AI__JV_UNDEF: return "undefined";
    case AI__JV_NONE: return "NoneType";
    case AI__JV_BOOL: return "bool";
    case AI__JV_INT: return "int";
    case AI__JV_FLOAT: return "float";
    case AI__JV_STR: return "str";
    case AI__JV_LIST: return "list";
    case AI__JV_DICT: return "dict";
    case AI__JV_NS: return "Namespace";
    case AI__JV_MACRO: return "Macro";
    case AI__JV_LOOP: return "LoopContext";
    default: return "function";
    }
}

/* ---- str() and repr() -------------------------------------------------------- */

void ai__jfloat_repr(ai__buf *b, double d) {
    if (d != d) { ai__buf_puts(b, "nan"); return; }
    if (isinf(d)) { ai__buf_puts(b, d < 0 ? "-inf" : "inf"); return; }
    if (d == 0) { ai__buf_puts(b, signbit(d) ? "-0.0" : "0.0"); return; }
    /* Shortest digits that read back to d, as Python's repr does. */
    char tmp[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d) break;
    }
    /* tmp = [-]D[.DDD]e[+-]XX: split into digits and exponent. */
    char digits[24];
    int nd = 0, neg = 0;
    const char *p = tmp;
    if (*p == '-') { neg = 1; p++; }
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    if (neg) ai__buf_putc(b, '-');
    if (exp10 < -4 || exp10 >= 16) {
        ai__buf_putc(b, digits[0]);
        if (nd > 1) {
            ai__buf_putc(b, '.');
            ai__buf_put(b, digits + 1, (size_t)nd - 1);
        }
        ai__buf_printf(b, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    } else if (exp10 < 0) {
        ai__buf_puts(b, "0.");
        for (int i = 0; i < -exp10 - 1; i++) ai__buf_putc(b, '0');
        ai__buf_put(b, digits, (size_t)nd);
    } else {
        for (int i = 0; i <= exp10; i++) ai__buf_putc(b, i < nd ? digits[i] : '0');
        ai__buf_putc(b, '.');
        if (nd > exp10 + 1) ai__buf_put(b, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
        else ai__buf_putc(b, '0');
    }
}

/* Code points Python's repr() escapes: controls, separators and format
 * characters, surrogates, private use (the common ranges of categories C and
 * Z; the space itself prints). */
static int repr_escapes(uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
           (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF ||
           (cp >= 0xD800 && cp <= 0xF8FF) || (cp >= 0xFFF0 && cp <= 0xFFFB) || cp >= 0xF0000;
}

static void repr_str(ai__buf *b, const char *s, size_t n) {
    /* Python picks ' unless the text has ' and no ". */
    int sq = 0, dq = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') sq = 1;
        if (s[i] == '"') dq = 1;
    }
    char q = (sq && !dq) ? '"' : '\'';
    ai__buf_putc(b, q);
    size_t i = 0;
    while (i < n) {
        size_t run = i; /* plain printable ASCII goes out in one piece */
        while (run < n && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] < 0x7F && s[run] != q &&
               s[run] != '\\')
            run++;
        if (run > i) {
            ai__buf_put(b, s + i, run - i);
            i = run;
            continue;
        }
        size_t start = i;
        uint32_t cp = ai__ju8_next(s, n, &i);
        if (cp == (uint32_t)q || cp == '\\') { ai__buf_putc(b, '\\'); ai__buf_putc(b, (char)cp); }
        else if (cp == '\n') ai__buf_puts(b, "\\n");
        else if (cp == '\r') ai__buf_puts(b, "\\r");
        else if (cp == '\t') ai__buf_puts(b, "\\t");
        else if (repr_escapes(cp)) {
            if (cp < 0x100) ai__buf_printf(b, "\\x%02x", cp);
            else if (cp < 0x10000) ai__buf_printf(b, "\\u%04x", cp);
            else ai__buf_printf(b, "\\U%08x", cp);
        } else ai__buf_put(b, s + start, i - start);
    }
    ai__buf_putc(b, q);
}

void ai__jv_write_repr(ai__buf *b, ai__jv v, size_t max) {
    if (b->len > max || b->oom) return;
    switch (v.t) {
    case AI__JV_STR: repr_str(b, v.u.s, v.n); return;
    case AI__JV_UNDEF: ai__buf_puts(b, "Undefined"); return;
    case AI__JV_LIST:
        ai__buf_putc(b, v.aux ? '(' : '[');
        for (size_t i = 0; i < v.u.l->n; i++) {
            if (b->len > max) return;
            if (i) ai__buf_puts(b, ", ");
            ai__jv_write_repr(b, v.u.l->v[i], max);
        }
        if (v.aux && v.u.l->n == 1) ai__buf_putc(b, ',');
        ai__buf_putc(b, v.aux ? ')' : ']');
        return;
    case AI__JV_DICT:
        ai__buf_putc(b, '{');
        for (size_t i = 0; i < v.u.d->n; i++) {
            if (b->len > max) return;
            if (i) ai__buf_puts(b, ", ");
            ai__jv_write_repr(b, v.u.d->k[i], max);
            ai__buf_puts(b, ": ");
            ai__jv_write_repr(b, v.u.d->v[i], max);
        }
        ai__buf_putc(b, '}');
        return;
    default: ai__jv_write_str(b, v, max); return;
    }
}

void ai__jv_write_str(ai__buf *b, ai__jv v, size_t max) {
    switch (v.t) {
    case AI__JV_UNDEF: return;
    case AI__JV_NONE: ai__buf_puts(b, "None"); return;
    case AI__JV_BOOL: ai__buf_puts(b, v.u.i ? "True" : "False"); return;
    case AI__JV_INT: ai__buf_printf(b, "%lld", (long long)v.u.i); return;
    case AI__JV_FLOAT: ai__jfloat_repr(b, v.u.f); return;
    case AI__JV_STR: ai__buf_put(b, v.u.s, v.n); return;
    case AI__JV_LIST: case AI__JV_DICT: ai__jv_write_repr(b, v, max); return;
    case AI__JV_NS: ai__buf_puts(b, "<Namespace>"); return;
    case AI__JV_MACRO: ai__buf_puts(b, "<Macro>"); return;
    case AI__JV_LOOP: ai__buf_puts(b, "<LoopContext>"); return;
    default: ai__buf_puts(b, "<function>"); return;
    }
}

/* ---- tojson -------------------------------------------------------------------- */

/* Strings are escaped by the JSON writer: ", \, \b \f \n \r \t short, other
 * controls as \u00XX, and with ascii every non-ASCII code point as \uXXXX
 * (surrogate pairs above the BMP), as Python's json.dumps does. */
static void json_str(ai__buf *b, const char *s, size_t n, int ascii) {
    ai__json_write_str(b, s, n, ascii ? AI__JSON_W_ASCII : 0);
}

static void newline_indent(ai__buf *b, int indent, int level) {
    ai__buf_putc(b, '\n');
    for (int i = 0; i < indent * level; i++) ai__buf_putc(b, ' ');
}

static int tojson_rec(ai__buf *b, ai__jv v, int indent, int ascii, int level, size_t max) {
    if (level > 1000) return -1;
    if (b->len > max || b->oom) return -2;
    switch (v.t) {
    case AI__JV_NONE: ai__buf_puts(b, "null"); return 0;
    case AI__JV_BOOL: ai__buf_puts(b, v.u.i ? "true" : "false"); return 0;
    case AI__JV_INT: ai__buf_printf(b, "%lld", (long long)v.u.i); return 0;
    case AI__JV_FLOAT:
        if (v.u.f != v.u.f) ai__buf_puts(b, "NaN");
        else if (isinf(v.u.f)) ai__buf_puts(b, v.u.f < 0 ? "-Infinity" : "Infinity");
        else ai__jfloat_repr(b, v.u.f);
        return 0;
    case AI__JV_STR: json_str(b, v.u.s, v.n, ascii); return 0;
    case AI__JV_LIST: {
        const ai__jlist *l = v.u.l;
        int rc;
        if (l->n == 0) { ai__buf_puts(b, "[]"); return 0; }
        ai__buf_putc(b, '[');
        for (size_t i = 0; i < l->n; i++) {
            if (i) ai__buf_puts(b, indent >= 0 ? "," : ", ");
            if (indent >= 0) newline_indent(b, indent, level + 1);
            if ((rc = tojson_rec(b, l->v[i], indent, ascii, level + 1, max))) return rc;
        }
        if (indent >= 0) newline_indent(b, indent, level);
        ai__buf_putc(b, ']');
        return 0;
    }
    case AI__JV_DICT: {
        const ai__jdict *d = v.u.d;
        int rc;
        if (d->n == 0) { ai__buf_puts(b, "{}"); return 0; }
        ai__buf_putc(b, '{');
        for (size_t i = 0; i < d->n; i++) {
            if (i) ai__buf_puts(b, indent >= 0 ? "," : ", ");
            if (indent >= 0) newline_indent(b, indent, level + 1);
            ai__jv k = d->k[i];
            /* Python converts int/float/bool/None keys to strings. */
            if (k.t == AI__JV_STR) json_str(b, k.u.s, k.n, ascii);
            else if (k.t == AI__JV_NONE) ai__buf_puts(b, "\"null\"");
            else if (k.t == AI__JV_BOOL) ai__buf_puts(b, k.u.i ? "\"true\"" : "\"false\"");
            else if (k.t == AI__JV_INT || k.t == AI__JV_FLOAT) {
                ai__buf_putc(b, '"');
                tojson_rec(b, k, indent, ascii, level + 1, max);
                ai__buf_putc(b, '"');
            } else return -1;
            ai__buf_puts(b, ": ");
            if ((rc = tojson_rec(b, d->v[i], indent, ascii, level + 1, max))) return rc;
        }
        if (indent >= 0) newline_indent(b, indent, level);
        ai__buf_putc(b, '}');
        return 0;
    }
    default: return -1;
    }
}

int ai__jv_tojson(ai__buf *b, ai__jv v, int indent, int ascii, size_t max) {
    int rc = tojson_rec(b, v, indent, ascii, 0, max);
    return rc ? rc : b->len > max ? -2 : 0;
}
