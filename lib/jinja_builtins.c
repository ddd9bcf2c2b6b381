/* jinja_builtins.c - filters, tests, methods and global functions (see
 * jinja_int.h).  Each follows Jinja2 3.1 / Python semantics as far as chat
 * templates can observe them; what is left out fails with a clear error
 * rather than rendering something different. */
#include "jinja_int.h"
#include "unicode.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- argument helpers ---------------------------------------------------------- */

typedef struct argv_ {
    ai__jv *pos;
    size_t npos;
    const char **kwn;
    const size_t *kwl;
    ai__jv *kwv;
    size_t nkw;
} argv_;

/* Argument i by position, or by keyword name; NULL when not given. */
static const ai__jv *arg(const argv_ *a, size_t i, const char *name) {
    if (i < a->npos) return &a->pos[i];
    for (size_t k = 0; k < a->nkw; k++)
        if (name && ai__jnames_eq(a->kwn[k], a->kwl[k], name)) return &a->kwv[k];
    return NULL;
}

static int64_t arg_int(ai__jrun *r, const argv_ *a, size_t i, const char *name, int64_t def) {
    const ai__jv *v = arg(a, i, name);
    if (!v || v->t == AI__JV_NONE) return def;
    if (v->t == AI__JV_INT || v->t == AI__JV_BOOL) return v->u.i;
    ai__jr_fail(r, "argument '%s' must be an integer, not %s", name ? name : "?", ai__jv_typename(*v));
}

static int arg_bool(const argv_ *a, size_t i, const char *name, int def) {
    const ai__jv *v = arg(a, i, name);
    return v ? ai__jv_truthy(*v) : def;
}

static ai__jv str_of(ai__jrun *r, ai__jv v) {
    if (v.t == AI__JV_STR) return v;
    ai__buf *b = ai__jr_tmp(r);
    ai__jv_write_str(b, v, ai__jr_limit(r));
    return ai__jr_tmp_str(r, b);
}

static ai__jv need_str(ai__jrun *r, const ai__jv *v, const char *what) {
    if (!v || v->t != AI__JV_STR)
        ai__jr_fail(r, "%s must be a string, not %s", what, v ? ai__jv_typename(*v) : "nothing");
    return *v;
}

static _Noreturn void undefined_use(ai__jrun *r, ai__jv u) {
    if (u.u.s) ai__jr_fail(r, "'%.*s' is undefined", (int)(u.n > 60 ? 60 : u.n), u.u.s);
    ai__jr_fail(r, "undefined value used");
}

static ai__jv mkstr(const char *s, size_t n) {
    ai__jv v = {.t = AI__JV_STR};
    v.u.s = s;
    v.n = n;
    return v;
}

/* ---- string helpers -------------------------------------------------------------- */

/* Does code point cp occur in chars? */
static int in_chars(uint32_t cp, ai__jv chars) {
    size_t i = 0;
    while (i < chars.n)
        if (ai__ju8_next(chars.u.s, chars.n, &i) == cp) return 1;
    return 0;
}

static int strip_match(const char *s, size_t n, size_t i, size_t *next, const ai__jv *chars) {
    uint32_t cp = ai__ju8_next(s, n, &i);
    *next = i;
    return chars ? in_chars(cp, *chars) : ai__jisspace(cp);
}

/* Python str.strip/lstrip/rstrip; chars NULL: whitespace. */
static ai__jv strip(ai__jv s, const ai__jv *chars, int left, int right) {
    size_t b = 0, e = s.n, nx;
    if (left)
        while (b < e && strip_match(s.u.s, e, b, &nx, chars)) b = nx;
    if (right)
        while (e > b) {
            size_t k = e - 1;
            while (k > b && ((unsigned char)s.u.s[k] & 0xC0) == 0x80) k--;
            if (!strip_match(s.u.s, e, k, &nx, chars)) break;
            e = k;
        }
    return mkstr(s.u.s + b, e - b);
}

static const char *find_sub(const char *h, size_t hn, const char *nd, size_t nn) {
    if (nn == 0) return h;
    if (nn > hn) return NULL;
    return memmem(h, hn, nd, nn);
}

static ai__jv split(ai__jrun *r, ai__jv s, const ai__jv *sep, int64_t maxsplit) {
    ai__jv out = ai__jr_list(r, 0);
    if (sep && sep->t != AI__JV_NONE) {
        if (sep->t != AI__JV_STR) ai__jr_fail(r, "split separator must be a string");
        if (sep->n == 0) ai__jr_fail(r, "empty separator");
        size_t i = 0;
        for (;;) {
            const char *hit = maxsplit != 0 ? find_sub(s.u.s + i, s.n - i, sep->u.s, sep->n) : NULL;
            if (!hit) {
                ai__jr_push(r, out, mkstr(s.u.s + i, s.n - i));
                break;
            }
            size_t at = (size_t)(hit - s.u.s);
            ai__jr_push(r, out, mkstr(s.u.s + i, at - i));
            i = at + sep->n;
            if (maxsplit > 0) maxsplit--;
        }
        return out;
    }
    /* whitespace runs; no empty fields */
    size_t i = 0, nx;
    for (;;) {
        while (i < s.n && strip_match(s.u.s, s.n, i, &nx, NULL)) i = nx;
        if (i >= s.n) break;
        if (maxsplit == 0) { /* the rest, trailing whitespace included */
            ai__jr_push(r, out, mkstr(s.u.s + i, s.n - i));
            break;
        }
        size_t b = i;
        while (i < s.n && !strip_match(s.u.s, s.n, i, &nx, NULL)) i = nx;
        ai__jr_push(r, out, mkstr(s.u.s + b, i - b));
        if (maxsplit > 0) maxsplit--;
    }
    return out;
}

static ai__jv replace(ai__jrun *r, ai__jv s, ai__jv old, ai__jv new_, int64_t count) {
    ai__buf *b = ai__jr_tmp(r);
    size_t i = 0;
    if (old.n == 0) {
        /* Python inserts new_ between every character (and at both ends). */
        int64_t done = 0;
        while (1) {
            if (count < 0 || done < count) { ai__buf_put(b, new_.u.s, new_.n); done++; }
            if (i >= s.n) break;
            size_t k = i;
            ai__ju8_next(s.u.s, s.n, &k);
            ai__buf_put(b, s.u.s + i, k - i);
            i = k;
            ai__jr_check(r, b);
        }
        return ai__jr_tmp_str(r, b);
    }
    while (count != 0) {
        const char *hit = find_sub(s.u.s + i, s.n - i, old.u.s, old.n);
        if (!hit) break;
        size_t at = (size_t)(hit - s.u.s);
        ai__buf_put(b, s.u.s + i, at - i);
        ai__buf_put(b, new_.u.s, new_.n);
        i = at + old.n;
        if (count > 0) count--;
        ai__jr_check(r, b);
    }
    ai__buf_put(b, s.u.s + i, s.n - i);
    return ai__jr_tmp_str(r, b);
}

/* Simple case mapping for Latin-1, Latin Extended-A, Greek and Cyrillic
 * (what chat templates meet in practice); other code points are kept. */
static uint32_t case_map(uint32_t c, int up) {
    if (c < 0x80) {
        if (up && c >= 'a' && c <= 'z') return c - 32;
        if (!up && c >= 'A' && c <= 'Z') return c + 32;
        return c;
    }
    if (up) {
        if ((c >= 0xE0 && c <= 0xFE && c != 0xF7) || (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) ||
            (c >= 0x430 && c <= 0x44F))
            return c - 32;
        if (c == 0x3C2) return 0x3A3;
        if (c == 0xFF) return 0x178;
        if (c == 0xB5) return 0x39C;
        if (c >= 0x450 && c <= 0x45F) return c - 80;
        if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
            int odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
            if (odd_lower ? (c & 1) == 0 : (c & 1) == 1) return c - 1;
        }
        return c;
    }
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) ||
        (c >= 0x410 && c <= 0x42F))
        return c + 32;
    if (c == 0x178) return 0xFF;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
        int odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_lower ? (c & 1) == 1 : (c & 1) == 0) return c + 1;
    }
    return c;
}

static int is_cased(uint32_t c) { return case_map(c, 0) != c || case_map(c, 1) != c; }

/* lower, upper, capitalize (first upper, rest lower), title (each word's
 * first cased letter upper, the rest lower).  U+00DF upper-cases to "SS". */
static ai__jv recase(ai__jrun *r, ai__jv s, int mode /* 0 lower 1 upper 2 capitalize 3 title */) {
    ai__buf *b = ai__jr_tmp(r);
    size_t i = 0;
    int first = 1, prev_cased = 0;
    while (i < s.n) {
        uint32_t c = ai__ju8_next(s.u.s, s.n, &i);
        int up;
        if (mode == 0) up = 0;
        else if (mode == 1) up = 1;
        else if (mode == 2) up = first;
        else up = !prev_cased;
        prev_cased = is_cased(c) || c == 0xDF;
        first = 0;
        if (up && c == 0xDF) { ai__buf_puts(b, mode == 1 ? "SS" : "Ss"); continue; }
        char u[4];
        size_t ul = ai__utf8_encode(case_map(c, up), u);
        ai__buf_put(b, u, ul);
    }
    return ai__jr_tmp_str(r, b);
}

/* ---- sort helpers ------------------------------------------------------------------- */

typedef struct sort_ctx {
    ai__jrun *r;
    int case_sensitive;
    int failed;
} sort_ctx;

static ai__jv fold(ai__jrun *r, ai__jv v, int case_sensitive) {
    if (case_sensitive || v.t != AI__JV_STR) return v;
    return recase(r, v, 0);
}

static int cmp_vals(ai__jrun *r, ai__jv a, ai__jv b) {
    int ok;
    int c = ai__jv_cmp(a, b, &ok);
    if (!ok)
        ai__jr_fail(r, "'<' not supported between instances of '%s' and '%s'", ai__jv_typename(a),
                    ai__jv_typename(b));
    return c == 2 ? 0 : c;
}

/* Stable insertion-merge sort of keys with their values (small lists). */
static void sort_pairs(ai__jrun *r, ai__jv *keys, ai__jv *vals, size_t n, int reverse) {
    if (n < 2) return;
    ai__jv *tk = ai__jr_alloc(r, n * sizeof *tk), *tv = ai__jr_alloc(r, n * sizeof *tv);
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi) {
                int c = cmp_vals(r, keys[j], keys[i]);
                if (reverse) c = -c;
                if (c < 0) { tk[o] = keys[j]; tv[o++] = vals[j++]; }
                else { tk[o] = keys[i]; tv[o++] = vals[i++]; }
            }
            while (i < mid) { tk[o] = keys[i]; tv[o++] = vals[i++]; }
            while (j < hi) { tk[o] = keys[j]; tv[o++] = vals[j++]; }
        }
        memcpy(keys, tk, n * sizeof *keys);
        memcpy(vals, tv, n * sizeof *vals);
    }
}

/* getattr with a dotted path ("a.b") and integer parts, as Jinja's
 * make_attrgetter does. */
static ai__jv attr_path(ai__jrun *r, ai__jv v, ai__jv path) {
    if (path.t == AI__JV_INT) return ai__jr_getitem(r, v, path);
    if (path.t != AI__JV_STR) ai__jr_fail(r, "attribute must be a string");
    size_t i = 0;
    while (i <= path.n) {
        size_t e = i;
        while (e < path.n && path.u.s[e] != '.') e++;
        const char *part = path.u.s + i;
        size_t pl = e - i;
        int digits = pl > 0 && pl < 18;
        for (size_t k = 0; k < pl && digits; k++) digits = part[k] >= '0' && part[k] <= '9';
        if (v.t == AI__JV_UNDEF) return v;
        if (digits) {
            int64_t idx = 0; /* the part is a slice, not NUL-terminated */
            for (size_t k = 0; k < pl; k++) idx = idx * 10 + (part[k] - '0');
            v = ai__jr_getitem(r, v, ai__jv_int(idx));
        }
        else v = ai__jr_getitem(r, v, mkstr(part, pl));
        i = e + 1;
    }
    return v;
}

/* ---- tests ------------------------------------------------------------------------ */

int ai__jb_test(ai__jrun *r, const char *name, size_t n, ai__jv v, ai__jv *args, size_t nargs) {
#define IS(s) ai__jnames_eq(name, n, s)
    int t = v.t;
    if (IS("defined")) return t != AI__JV_UNDEF;
    if (IS("undefined")) return t == AI__JV_UNDEF;
    if (IS("none")) return t == AI__JV_NONE;
    if (IS("string")) return t == AI__JV_STR;
    if (IS("number")) return t == AI__JV_INT || t == AI__JV_FLOAT || t == AI__JV_BOOL;
    if (IS("integer")) return t == AI__JV_INT;
    if (IS("float")) return t == AI__JV_FLOAT;
    if (IS("boolean")) return t == AI__JV_BOOL;
    if (IS("true")) return t == AI__JV_BOOL && v.u.i;
    if (IS("false")) return t == AI__JV_BOOL && !v.u.i;
    if (IS("mapping")) return t == AI__JV_DICT;
    if (IS("iterable") || IS("sequence"))
        return t == AI__JV_STR || t == AI__JV_LIST || t == AI__JV_DICT || t == AI__JV_UNDEF;
    /* Jinja's Undefined has __call__ (it raises), so it counts as callable */
    if (IS("callable")) return t == AI__JV_MACRO || t == AI__JV_FUNC || t == AI__JV_UNDEF;
    if (IS("lower") || IS("upper")) {
        if (t != AI__JV_STR) return 0;
        int cased = 0;
        for (size_t i = 0; i < v.n; i++) {
            char c = v.u.s[i];
            if (c >= 'a' && c <= 'z') { if (IS("upper")) return 0; cased = 1; }
            if (c >= 'A' && c <= 'Z') { if (IS("lower")) return 0; cased = 1; }
        }
        return cased;
    }
    if (IS("odd") || IS("even") || IS("divisibleby")) {
        if (t != AI__JV_INT && t != AI__JV_BOOL) ai__jr_fail(r, "test '%.*s' needs an integer", (int)n, name);
        if (IS("odd")) return (v.u.i & 1) != 0;
        if (IS("even")) return (v.u.i & 1) == 0;
        if (nargs < 1 || (args[0].t != AI__JV_INT && args[0].t != AI__JV_BOOL))
            ai__jr_fail(r, "divisibleby needs an integer argument");
        if (args[0].u.i == 0) ai__jr_fail(r, "integer division or modulo by zero");
        if (args[0].u.i == -1) return 1;
        return v.u.i % args[0].u.i == 0;
    }
    if (IS("equalto") || IS("eq") || IS("==") || IS("sameas")) {
        if (nargs < 1) ai__jr_fail(r, "test '%.*s' needs an argument", (int)n, name);
        if (IS("sameas") && args[0].t != t && !(t == AI__JV_UNDEF)) return 0;
        return ai__jv_equal(v, args[0]);
    }
    if (IS("ne") || IS("!=")) {
        if (nargs < 1) ai__jr_fail(r, "test 'ne' needs an argument");
        return !ai__jv_equal(v, args[0]);
    }
    if (IS("lt") || IS("le") || IS("gt") || IS("ge") || IS("lessthan") || IS("greaterthan") ||
        IS("<") || IS("<=") || IS(">") || IS(">=")) {
        if (nargs < 1) ai__jr_fail(r, "test '%.*s' needs an argument", (int)n, name);
        int c = cmp_vals(r, v, args[0]);
        if (IS("lt") || IS("lessthan") || IS("<")) return c < 0;
        if (IS("le") || IS("<=")) return c <= 0;
        if (IS("gt") || IS("greaterthan") || IS(">")) return c > 0;
        return c >= 0;
    }
    if (IS("in")) {
        if (nargs < 1) ai__jr_fail(r, "test 'in' needs an argument");
        ai__jv box = args[0];
        if (box.t == AI__JV_STR) {
            if (t != AI__JV_STR) ai__jr_fail(r, "'in <string>' requires string as left operand");
            return find_sub(box.u.s, box.n, v.u.s, v.n) != NULL;
        }
        ai__jlist *l = ai__jr_iter(r, box);
        for (size_t i = 0; i < l->n; i++)
            if (ai__jv_equal(l->v[i], v)) return 1;
        return 0;
    }
#undef IS
    ai__jr_fail(r, "no test named '%.*s'", (int)(n > 60 ? 60 : n), name);
}

/* ---- filters ------------------------------------------------------------------------ */

static int64_t length_of(ai__jrun *r, ai__jv v) {
    switch (v.t) {
    case AI__JV_UNDEF: return 0;
    case AI__JV_STR: return (int64_t)ai__ju8_count(v.u.s, v.n);
    case AI__JV_LIST: return (int64_t)v.u.l->n;
    case AI__JV_DICT: return (int64_t)v.u.d->n;
    default: ai__jr_fail(r, "object of type '%s' has no len()", ai__jv_typename(v));
    }
}

/* select/reject/selectattr/rejectattr: keep items where the test (or
 * truthiness) equals want. */
static ai__jv select_items(ai__jrun *r, ai__jv seq, const argv_ *a, int by_attr, int want) {
    ai__jlist *items = ai__jr_iter(r, seq);
    size_t first = 0;
    ai__jv attr = {.t = AI__JV_UNDEF};
    if (by_attr) {
        if (a->npos < 1) ai__jr_fail(r, "selectattr/rejectattr need an attribute name");
        attr = a->pos[0];
        first = 1;
    }
    const ai__jv *test = a->npos > first ? &a->pos[first] : NULL;
    if (test && test->t != AI__JV_STR) ai__jr_fail(r, "test name must be a string");
    ai__jv out = ai__jr_list(r, 0);
    for (size_t i = 0; i < items->n; i++) {
        ai__jv x = by_attr ? attr_path(r, items->v[i], attr) : items->v[i];
        int ok = test ? ai__jb_test(r, test->u.s, test->n, x, a->pos + first + 1, a->npos - first - 1)
                      : ai__jv_truthy(x);
        if (ok == want) ai__jr_push(r, out, items->v[i]);
    }
    return out;
}

static void write_indent(ai__buf *b, ai__jv ind) { ai__buf_put(b, ind.u.s, ind.n); }

/* Python str.splitlines() boundaries. */
static size_t line_break(const char *s, size_t n, size_t i, size_t *after) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\r') { *after = (i + 1 < n && s[i + 1] == '\n') ? i + 2 : i + 1; return 1; }
    if (c == '\n' || c == '\v' || c == '\f' || (c >= 0x1C && c <= 0x1E)) { *after = i + 1; return 1; }
    if (c >= 0x80) {
        size_t k = i;
        uint32_t cp = ai__ju8_next(s, n, &k);
        if (cp == 0x85 || cp == 0x2028 || cp == 0x2029) { *after = k; return 1; }
    }
    return 0;
}

static ai__jv indent(ai__jrun *r, ai__jv s, const argv_ *a) {
    const ai__jv *w = arg(a, 0, "width");
    ai__jv ind;
    if (w && w->t == AI__JV_STR) ind = *w;
    else {
        int64_t width = arg_int(r, a, 0, "width", 4);
        if (width < 0) width = 0;
        if (width > 4096) ai__jr_fail(r, "indent width too large");
        char *p = ai__jr_alloc(r, (size_t)width + 1);
        memset(p, ' ', (size_t)width);
        ind = mkstr(p, (size_t)width);
    }
    int first = arg_bool(a, 1, "first", 0), blank = arg_bool(a, 2, "blank", 0);
    /* Jinja appends "\n" and takes splitlines(): the end of s ends the last
     * line, and a trailing line break leaves one empty line after it.  Lines
     * after the first are indented, empty ones only with blank. */
    ai__buf *b = ai__jr_tmp(r);
    if (first) write_indent(b, ind);
    size_t i = 0, ls = 0, after = 0;
    int line_no = 0;
    for (;;) {
        int end = i >= s.n;
        if (!end && !line_break(s.u.s, s.n, i, &after)) { i++; continue; }
        if (line_no++ > 0) {
            ai__buf_putc(b, '\n');
            if (blank || i > ls) write_indent(b, ind);
        }
        ai__buf_put(b, s.u.s + ls, i - ls);
        ai__jr_check(r, b);
        if (end) break;
        ls = i = after;
    }
    return ai__jr_tmp_str(r, b);
}

static ai__jv do_map(ai__jrun *r, ai__jv seq, const argv_ *a) {
    ai__jlist *items = ai__jr_iter(r, seq);
    ai__jv out = ai__jr_list(r, items->n);
    const ai__jv *attr = NULL;
    for (size_t k = 0; k < a->nkw; k++)
        if (ai__jnames_eq(a->kwn[k], a->kwl[k], "attribute")) attr = &a->kwv[k];
    if (attr) {
        const ai__jv *def = NULL;
        for (size_t k = 0; k < a->nkw; k++)
            if (ai__jnames_eq(a->kwn[k], a->kwl[k], "default")) def = &a->kwv[k];
        for (size_t i = 0; i < items->n; i++) {
            ai__jv x = attr_path(r, items->v[i], *attr);
            if (x.t == AI__JV_UNDEF && def) x = *def;
            out.u.l->v[out.u.l->n++] = x;
        }
        return out;
    }
    if (a->npos < 1 || a->pos[0].t != AI__JV_STR) ai__jr_fail(r, "map needs a filter name or attribute=");
    ai__jv fname = a->pos[0];
    for (size_t i = 0; i < items->n; i++)
        out.u.l->v[out.u.l->n++] = ai__jb_filter(r, fname.u.s, fname.n, items->v[i], a->pos + 1, a->npos - 1,
                                                 a->kwn, a->kwl, a->kwv, a->nkw);
    return out;
}

static ai__jv tojson_filter(ai__jrun *r, ai__jv v, const argv_ *a) {
    /* Hugging Face: tojson(x, ensure_ascii=False, indent=None,
     * separators=None, sort_keys=False) */
    int ascii = arg_bool(a, 0, "ensure_ascii", 0);
    const ai__jv *ind = arg(a, 1, "indent");
    int indent = -1;
    if (ind && ind->t != AI__JV_NONE) {
        if (ind->t != AI__JV_INT && ind->t != AI__JV_BOOL) ai__jr_fail(r, "tojson indent must be an integer");
        indent = ind->u.i < 0 ? 0 : ind->u.i > 64 ? 64 : (int)ind->u.i;
    }
    const ai__jv *sep = arg(a, 2, "separators");
    if (sep && sep->t != AI__JV_NONE)
        ai__jfailf(&r->fail, AI_E_UNSUPPORTED, r->line, "tojson separators= is not supported");
    if (arg_bool(a, 3, "sort_keys", 0))
        ai__jfailf(&r->fail, AI_E_UNSUPPORTED, r->line, "tojson sort_keys= is not supported");
    ai__buf *b = ai__jr_tmp(r);
    int rc = ai__jv_tojson(b, v, indent, ascii, ai__jr_limit(r));
    if (rc == -2) ai__jr_check(r, b);
    if (rc) ai__jr_fail(r, "Object of type %s is not JSON serializable", ai__jv_typename(v));
    return ai__jr_tmp_str(r, b);
}

static ai__jv minmax(ai__jrun *r, ai__jv seq, const argv_ *a, int want_max) {
    ai__jlist *items = ai__jr_iter(r, seq);
    int cs = arg_bool(a, 0, "case_sensitive", 0);
    const ai__jv *attr = arg(a, 1, "attribute");
    if (items->n == 0) {
        ai__jv u = {.t = AI__JV_UNDEF};
        return u;
    }
    size_t best = 0;
    for (size_t i = 1; i < items->n; i++) {
        ai__jv x = items->v[i], y = items->v[best];
        if (attr) { x = attr_path(r, x, *attr); y = attr_path(r, y, *attr); }
        int c = cmp_vals(r, fold(r, x, cs), fold(r, y, cs));
        if (want_max ? c > 0 : c < 0) best = i;
    }
    return items->v[best];
}

ai__jv ai__jb_filter(ai__jrun *r, const char *name, size_t n, ai__jv v, ai__jv *pos, size_t npos,
                     const char **kwn, const size_t *kwl, ai__jv *kwv, size_t nkw) {
    argv_ a = {pos, npos, kwn, kwl, kwv, nkw};
#define IS(s) ai__jnames_eq(name, n, s)
    if (IS("tojson")) return tojson_filter(r, v, &a);
    if (IS("safe")) return v;
    if (IS("length") || IS("count")) return ai__jv_int(length_of(r, v));
    if (IS("string")) return str_of(r, v);
    if (IS("trim")) {
        const ai__jv *chars = arg(&a, 0, "chars");
        if (chars && chars->t == AI__JV_NONE) chars = NULL;
        if (chars) need_str(r, chars, "trim chars");
        return strip(str_of(r, v), chars, 1, 1);
    }
    if (IS("default") || IS("d")) {
        const ai__jv *dv = arg(&a, 0, "default_value");
        int boolean = arg_bool(&a, 1, "boolean", 0);
        if (v.t == AI__JV_UNDEF || (boolean && !ai__jv_truthy(v)))
            return dv ? *dv : mkstr("", 0);
        return v;
    }
    if (IS("join")) {
        const ai__jv *sep = arg(&a, 0, "d");
        const ai__jv *attr = arg(&a, 1, "attribute");
        ai__jv s = sep ? str_of(r, *sep) : mkstr("", 0);
        ai__jlist *items = ai__jr_iter(r, v);
        ai__buf *b = ai__jr_tmp(r);
        for (size_t i = 0; i < items->n; i++) {
            if (i) ai__buf_put(b, s.u.s, s.n);
            ai__jv x = attr ? attr_path(r, items->v[i], *attr) : items->v[i];
            ai__jv_write_str(b, x, ai__jr_limit(r));
            ai__jr_check(r, b);
        }
        return ai__jr_tmp_str(r, b);
    }
    if (IS("items")) {
        if (v.t == AI__JV_UNDEF) return ai__jr_list(r, 0);
        if (v.t != AI__JV_DICT) ai__jr_fail(r, "can only get item pairs from a mapping");
        ai__jv out = ai__jr_list(r, v.u.d->n);
        for (size_t i = 0; i < v.u.d->n; i++) {
            ai__jv pair = ai__jr_list(r, 2);
            pair.u.l->v[0] = v.u.d->k[i];
            pair.u.l->v[1] = v.u.d->v[i];
            pair.u.l->n = 2;
            pair.aux = 1; /* a tuple */
            out.u.l->v[out.u.l->n++] = pair;
        }
        return out;
    }
    if (IS("dictsort")) {
        if (v.t != AI__JV_DICT) ai__jr_fail(r, "dictsort needs a mapping");
        int cs = arg_bool(&a, 0, "case_sensitive", 0);
        const ai__jv *by = arg(&a, 1, "by");
        int by_value = by && by->t == AI__JV_STR && ai__jnames_eq(by->u.s, by->n, "value");
        int rev = arg_bool(&a, 2, "reverse", 0);
        size_t cnt = v.u.d->n;
        ai__jv *keys = ai__jr_alloc(r, (cnt ? cnt : 1) * sizeof *keys);
        ai__jv *vals = ai__jr_alloc(r, (cnt ? cnt : 1) * sizeof *vals);
        for (size_t i = 0; i < cnt; i++) {
            ai__jv pair = ai__jr_list(r, 2);
            pair.u.l->v[0] = v.u.d->k[i];
            pair.u.l->v[1] = v.u.d->v[i];
            pair.u.l->n = 2;
            pair.aux = 1;
            keys[i] = fold(r, by_value ? v.u.d->v[i] : v.u.d->k[i], cs);
            vals[i] = pair;
        }
        sort_pairs(r, keys, vals, cnt, rev);
        ai__jv out = ai__jr_list(r, cnt);
        for (size_t i = 0; i < cnt; i++) out.u.l->v[out.u.l->n++] = vals[i];
        return out;
    }
    if (IS("sort")) {
        int rev = arg_bool(&a, 0, "reverse", 0), cs = arg_bool(&a, 1, "case_sensitive", 0);
        const ai__jv *attr = arg(&a, 2, "attribute");
        ai__jlist *items = ai__jr_iter(r, v);
        size_t cnt = items->n;
        ai__jv *keys = ai__jr_alloc(r, (cnt ? cnt : 1) * sizeof *keys);
        ai__jv out = ai__jr_list(r, cnt);
        for (size_t i = 0; i < cnt; i++) {
            ai__jv x = items->v[i];
            keys[i] = fold(r, attr ? attr_path(r, x, *attr) : x, cs);
            out.u.l->v[out.u.l->n++] = x;
        }
        sort_pairs(r, keys, out.u.l->v, cnt, rev);
        return out;
    }
    if (IS("list")) {
        ai__jlist *items = ai__jr_iter(r, v);
        ai__jv out = ai__jr_list(r, items->n);
        for (size_t i = 0; i < items->n; i++) out.u.l->v[out.u.l->n++] = items->v[i];
        return out;
    }
    if (IS("selectattr")) return select_items(r, v, &a, 1, 1);
    if (IS("rejectattr")) return select_items(r, v, &a, 1, 0);
    if (IS("select")) return select_items(r, v, &a, 0, 1);
    if (IS("reject")) return select_items(r, v, &a, 0, 0);
    if (IS("map")) return do_map(r, v, &a);
    if (IS("indent")) {
        if (v.t == AI__JV_UNDEF) ai__jr_fail(r, "indent of an undefined value");
        if (v.t != AI__JV_STR) ai__jr_fail(r, "indent needs a string, not %s", ai__jv_typename(v));
        return indent(r, v, &a);
    }
    if (IS("lower")) return recase(r, str_of(r, v), 0);
    if (IS("upper")) return recase(r, str_of(r, v), 1);
    if (IS("capitalize")) return recase(r, str_of(r, v), 2);
    if (IS("title")) return recase(r, str_of(r, v), 3);
    if (IS("replace")) {
        ai__jv old = need_str(r, arg(&a, 0, "old"), "replace old");
        ai__jv nw = need_str(r, arg(&a, 1, "new"), "replace new");
        return replace(r, str_of(r, v), old, nw, arg_int(r, &a, 2, "count", -1));
    }
    if (IS("first") || IS("last")) {
        ai__jlist *items = ai__jr_iter(r, v);
        if (!items->n) return (ai__jv){.t = AI__JV_UNDEF};
        return IS("first") ? items->v[0] : items->v[items->n - 1];
    }
    if (IS("reverse")) {
        ai__jlist *items = ai__jr_iter(r, v);
        if (v.t == AI__JV_STR) {
            ai__buf *b = ai__jr_tmp(r);
            for (size_t i = items->n; i-- > 0;) ai__buf_put(b, items->v[i].u.s, items->v[i].n);
            return ai__jr_tmp_str(r, b);
        }
        ai__jv out = ai__jr_list(r, items->n);
        for (size_t i = items->n; i-- > 0;) out.u.l->v[out.u.l->n++] = items->v[i];
        return out;
    }
    if (IS("unique")) {
        int cs = arg_bool(&a, 0, "case_sensitive", 0);
        const ai__jv *attr = arg(&a, 1, "attribute");
        ai__jlist *items = ai__jr_iter(r, v);
        ai__jv out = ai__jr_list(r, 0), seen = ai__jr_list(r, 0);
        for (size_t i = 0; i < items->n; i++) {
            ai__jv key = fold(r, attr ? attr_path(r, items->v[i], *attr) : items->v[i], cs);
            int dup = 0;
            for (size_t k = 0; k < seen.u.l->n && !dup; k++) dup = ai__jv_equal(seen.u.l->v[k], key);
            if (dup) continue;
            ai__jr_push(r, seen, key);
            ai__jr_push(r, out, items->v[i]);
        }
        return out;
    }
    if (IS("sum")) {
        const ai__jv *attr = arg(&a, 0, "attribute");
        const ai__jv *start = arg(&a, 1, "start");
        ai__jv acc = start ? *start : ai__jv_int(0);
        ai__jlist *items = ai__jr_iter(r, v);
        for (size_t i = 0; i < items->n; i++) {
            ai__jv x = attr ? attr_path(r, items->v[i], *attr) : items->v[i];
            int ints = acc.t != AI__JV_FLOAT && x.t != AI__JV_FLOAT;
            if ((acc.t != AI__JV_INT && acc.t != AI__JV_BOOL && acc.t != AI__JV_FLOAT) ||
                (x.t != AI__JV_INT && x.t != AI__JV_BOOL && x.t != AI__JV_FLOAT))
                ai__jr_fail(r, "unsupported operand type(s) for +: '%s' and '%s'", ai__jv_typename(acc),
                            ai__jv_typename(x));
            if (ints) {
                int64_t z;
                if (__builtin_add_overflow(acc.u.i, x.u.i, &z)) ai__jr_fail(r, "integer overflow");
                acc = ai__jv_int(z);
            } else {
                double fa = acc.t == AI__JV_FLOAT ? acc.u.f : (double)acc.u.i;
                double fx = x.t == AI__JV_FLOAT ? x.u.f : (double)x.u.i;
                acc = ai__jv_float(fa + fx);
            }
        }
        return acc;
    }
    if (IS("min")) return minmax(r, v, &a, 0);
    if (IS("max")) return minmax(r, v, &a, 1);
    if (IS("abs")) {
        if (v.t == AI__JV_FLOAT) return ai__jv_float(fabs(v.u.f));
        if (v.t == AI__JV_INT || v.t == AI__JV_BOOL) {
            if (v.u.i == INT64_MIN) ai__jr_fail(r, "integer overflow");
            return ai__jv_int(v.u.i < 0 ? -v.u.i : v.u.i);
        }
        ai__jr_fail(r, "bad operand type for abs(): '%s'", ai__jv_typename(v));
    }
    if ((IS("int") || IS("float")) && v.t == AI__JV_UNDEF) undefined_use(r, v);
    if (IS("int")) {
        int64_t def = arg_int(r, &a, 0, "default", 0);
        if (v.t == AI__JV_INT || v.t == AI__JV_BOOL) return ai__jv_int(v.u.i);
        if (v.t == AI__JV_FLOAT) {
            if (!(v.u.f > -9.2e18 && v.u.f < 9.2e18)) return ai__jv_int(def);
            return ai__jv_int((int64_t)v.u.f);
        }
        if (v.t == AI__JV_STR) {
            ai__jv t = strip(v, NULL, 1, 1);
            char buf[64];
            if (t.n == 0 || t.n >= sizeof buf) return ai__jv_int(def);
            memcpy(buf, t.u.s, t.n);
            buf[t.n] = '\0';
            char *end;
            long long x = strtoll(buf, &end, 10);
            if (*end == '\0') return ai__jv_int(x);
            double d = strtod(buf, &end);
            if (*end == '\0' && d > -9.2e18 && d < 9.2e18) return ai__jv_int((int64_t)d);
        }
        return ai__jv_int(def);
    }
    if (IS("float")) {
        const ai__jv *dv = arg(&a, 0, "default");
        double def = dv && dv->t == AI__JV_FLOAT ? dv->u.f : dv && dv->t == AI__JV_INT ? (double)dv->u.i : 0.0;
        if (v.t == AI__JV_INT || v.t == AI__JV_BOOL) return ai__jv_float((double)v.u.i);
        if (v.t == AI__JV_FLOAT) return v;
        if (v.t == AI__JV_STR) {
            ai__jv t = strip(v, NULL, 1, 1);
            char buf[64];
            if (t.n && t.n < sizeof buf) {
                memcpy(buf, t.u.s, t.n);
                buf[t.n] = '\0';
                char *end;
                double d = strtod(buf, &end);
                if (*end == '\0') return ai__jv_float(d);
            }
        }
        return ai__jv_float(def);
    }
    if (IS("e") || IS("escape") || IS("forceescape")) {
        ai__jv s = str_of(r, v);
        ai__buf *b = ai__jr_tmp(r);
        for (size_t i = 0; i < s.n; i++) {
            char c = s.u.s[i];
            switch (c) {
            case '&': ai__buf_puts(b, "&amp;"); break;
            case '<': ai__buf_puts(b, "&lt;"); break;
            case '>': ai__buf_puts(b, "&gt;"); break;
            case '"': ai__buf_puts(b, "&#34;"); break;
            case '\'': ai__buf_puts(b, "&#39;"); break;
            default: ai__buf_putc(b, c);
            }
            if ((i & 4095) == 0) ai__jr_check(r, b);
        }
        return ai__jr_tmp_str(r, b);
    }
#undef IS
    ai__jr_fail(r, "no filter named '%.*s'", (int)(n > 60 ? 60 : n), name);
}

/* ---- methods ------------------------------------------------------------------------ */

static int prefix_match(ai__jrun *r, ai__jv s, ai__jv p, int suffix) {
    if (p.t == AI__JV_LIST) {
        for (size_t i = 0; i < p.u.l->n; i++)
            if (prefix_match(r, s, p.u.l->v[i], suffix)) return 1;
        return 0;
    }
    if (p.t != AI__JV_STR)
        ai__jr_fail(r, "%s arg must be str or a tuple of str, not %s", suffix ? "endswith" : "startswith",
                    ai__jv_typename(p));
    if (p.n > s.n) return 0;
    return !memcmp(suffix ? s.u.s + s.n - p.n : s.u.s, p.u.s, p.n);
}

ai__jv ai__jb_method(ai__jrun *r, ai__jv obj, const char *name, size_t n, ai__jv *pos, size_t npos,
                     const char **kwn, const size_t *kwl, ai__jv *kwv, size_t nkw) {
    argv_ a = {pos, npos, kwn, kwl, kwv, nkw};
#define IS(s) ai__jnames_eq(name, n, s)
    if (obj.t == AI__JV_STR) {
        if (IS("strip") || IS("lstrip") || IS("rstrip")) {
            const ai__jv *chars = arg(&a, 0, "chars");
            if (chars && chars->t == AI__JV_NONE) chars = NULL;
            if (chars) need_str(r, chars, "strip chars");
            return strip(obj, chars, !IS("rstrip"), !IS("lstrip"));
        }
        if (IS("split")) return split(r, obj, arg(&a, 0, "sep"), arg_int(r, &a, 1, "maxsplit", -1));
        if (IS("startswith") || IS("endswith")) {
            const ai__jv *p = arg(&a, 0, NULL);
            if (!p) ai__jr_fail(r, "%.*s needs an argument", (int)n, name);
            return ai__jv_bool(prefix_match(r, obj, *p, IS("endswith")));
        }
        if (IS("replace")) {
            ai__jv old = need_str(r, arg(&a, 0, NULL), "replace() argument 1");
            ai__jv nw = need_str(r, arg(&a, 1, NULL), "replace() argument 2");
            return replace(r, obj, old, nw, arg_int(r, &a, 2, "count", -1));
        }
        if (IS("upper")) return recase(r, obj, 1);
        if (IS("lower")) return recase(r, obj, 0);
        if (IS("capitalize")) return recase(r, obj, 2);
        if (IS("title")) return recase(r, obj, 3);
        if (IS("find") || IS("count")) {
            ai__jv sub = need_str(r, arg(&a, 0, NULL), "argument");
            if (IS("find")) {
                const char *hit = find_sub(obj.u.s, obj.n, sub.u.s, sub.n);
                return ai__jv_int(hit ? (int64_t)ai__ju8_count(obj.u.s, (size_t)(hit - obj.u.s)) : -1);
            }
            if (sub.n == 0) return ai__jv_int((int64_t)ai__ju8_count(obj.u.s, obj.n) + 1);
            int64_t c = 0;
            size_t i = 0;
            const char *hit;
            while ((hit = find_sub(obj.u.s + i, obj.n - i, sub.u.s, sub.n))) {
                c++;
                i = (size_t)(hit - obj.u.s) + sub.n;
            }
            return ai__jv_int(c);
        }
        if (IS("join")) {
            const ai__jv *it = arg(&a, 0, NULL);
            if (!it) ai__jr_fail(r, "join() takes exactly one argument");
            ai__jlist *items = ai__jr_iter(r, *it);
            ai__buf *b = ai__jr_tmp(r);
            for (size_t i = 0; i < items->n; i++) {
                if (items->v[i].t != AI__JV_STR) {
                    ai__jr_fail(r, "sequence item %zu: expected str instance, %s found", i,
                                ai__jv_typename(items->v[i]));
                }
                if (i) ai__buf_put(b, obj.u.s, obj.n);
                ai__buf_put(b, items->v[i].u.s, items->v[i].n);
                ai__jr_check(r, b);
            }
            return ai__jr_tmp_str(r, b);
        }
        if (IS("format"))
            ai__jfailf(&r->fail, AI_E_UNSUPPORTED, r->line, "str.format() is not supported");
    } else if (obj.t == AI__JV_DICT) {
        if (IS("items")) return ai__jb_filter(r, "items", 5, obj, NULL, 0, NULL, NULL, NULL, 0);
        if (IS("keys") || IS("values")) {
            ai__jv out = ai__jr_list(r, obj.u.d->n);
            for (size_t i = 0; i < obj.u.d->n; i++)
                out.u.l->v[out.u.l->n++] = IS("keys") ? obj.u.d->k[i] : obj.u.d->v[i];
            return out;
        }
        if (IS("get")) {
            const ai__jv *k = arg(&a, 0, NULL);
            if (!k) ai__jr_fail(r, "get expected at least 1 argument");
            const ai__jv *def = arg(&a, 1, NULL);
            ai__jv v = ai__jr_getitem(r, obj, *k);
            if (v.t == AI__JV_UNDEF) return def ? *def : ai__jv_none();
            return v;
        }
    } else if (obj.t == AI__JV_LIST) {
        if (IS("append") || IS("pop") || IS("extend") || IS("insert") || IS("remove") || IS("clear") ||
            IS("sort") || IS("reverse"))
            ai__jr_fail(r, "access to '%.*s' of a list is unsafe (the sandbox is immutable)", (int)n, name);
    } else if (obj.t == AI__JV_LOOP && IS("cycle")) {
        ai__jfailf(&r->fail, AI_E_UNSUPPORTED, r->line, "loop.cycle() is not supported");
    }
#undef IS
    ai__jr_fail(r, "'%s' object has no attribute '%.*s'", ai__jv_typename(obj), (int)(n > 60 ? 60 : n), name);
}

/* ---- global functions ------------------------------------------------------------------ */

int ai__jb_global(const char *name, size_t n) {
    if (ai__jnames_eq(name, n, "namespace")) return JF_NAMESPACE;
    if (ai__jnames_eq(name, n, "range")) return JF_RANGE;
    if (ai__jnames_eq(name, n, "raise_exception")) return JF_RAISE;
    if (ai__jnames_eq(name, n, "strftime_now")) return JF_STRFTIME;
    if (ai__jnames_eq(name, n, "dict")) return JF_DICT;
    return 0;
}

ai__jv ai__jb_call_global(ai__jrun *r, int fn, ai__jv *pos, size_t npos, const char **kwn,
                          const size_t *kwl, ai__jv *kwv, size_t nkw) {
    switch (fn) {
    case JF_NAMESPACE: case JF_DICT: {
        ai__jv d = ai__jr_dict(r, nkw);
        if (npos > 1) ai__jr_fail(r, "namespace()/dict() takes at most one positional argument");
        if (npos == 1) {
            if (pos[0].t != AI__JV_DICT) ai__jr_fail(r, "namespace()/dict() argument must be a mapping");
            for (size_t i = 0; i < pos[0].u.d->n; i++) ai__jr_dict_set(r, d.u.d, pos[0].u.d->k[i], pos[0].u.d->v[i]);
        }
        for (size_t i = 0; i < nkw; i++) ai__jr_dict_set(r, d.u.d, ai__jr_str(r, kwn[i], kwl[i]), kwv[i]);
        if (fn == JF_NAMESPACE) d.t = AI__JV_NS;
        return d;
    }
    case JF_RANGE: {
        int64_t v[3] = {0, 0, 1};
        if (npos < 1 || npos > 3 || nkw) ai__jr_fail(r, "range expected 1 to 3 integer arguments");
        for (size_t i = 0; i < npos; i++) {
            if (pos[i].t != AI__JV_INT && pos[i].t != AI__JV_BOOL)
                ai__jr_fail(r, "range() arguments must be integers, not %s", ai__jv_typename(pos[i]));
        }
        if (npos == 1) v[1] = pos[0].u.i;
        else {
            v[0] = pos[0].u.i;
            v[1] = pos[1].u.i;
            if (npos == 3) v[2] = pos[2].u.i;
        }
        if (v[2] == 0) ai__jr_fail(r, "range() arg 3 must not be zero");
        ai__jv out = ai__jr_list(r, 0);
        for (int64_t i = v[0]; v[2] > 0 ? i < v[1] : i > v[1];) {
            if (out.u.l->n >= 1000000) ai__jr_fail(r, "range too large");
            ai__jr_push(r, out, ai__jv_int(i));
            if (__builtin_add_overflow(i, v[2], &i)) break;
        }
        return out;
    }
    case JF_RAISE: {
        ai__buf *b = ai__jr_tmp(r);
        if (npos >= 1) ai__jv_write_str(b, pos[0], ai__jr_limit(r));
        ai__jv msg = ai__jr_tmp_str(r, b);
        ai__jfailf(&r->fail, AI_E_FORMAT, r->line, "raise_exception: %.*s", (int)(msg.n > 400 ? 400 : msg.n),
                   msg.u.s);
    }
    case JF_STRFTIME: {
        if (npos != 1 || pos[0].t != AI__JV_STR) ai__jr_fail(r, "strftime_now() takes one string argument");
        ai__jv fmt = pos[0];
        char f[257];
        if (fmt.n > 256 || memchr(fmt.u.s, '\0', fmt.n)) ai__jr_fail(r, "strftime_now() format too long");
        memcpy(f, fmt.u.s, fmt.n);
        f[fmt.n] = '\0';
        struct tm tm;
        time_t t;
        if (r->ctx->have_time) {
            t = (time_t)r->ctx->time;
            if (!gmtime_r(&t, &tm)) ai__jr_fail(r, "strftime_now(): bad pinned time");
        } else {
            t = time(NULL);
            if (!localtime_r(&t, &tm)) ai__jr_fail(r, "strftime_now(): no local time");
        }
        if (fmt.n == 0) return mkstr("", 0);
        char out[2048];
        /* C-locale names (Jan, Thursday) whatever the process locale is. */
        locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        size_t len = c ? strftime_l(out, sizeof out, f, &tm, c) : strftime(out, sizeof out, f, &tm);
        if (c) freelocale(c);
        return ai__jr_str(r, out, len);
    }
    default: break;
    }
    ai__jr_fail(r, "unknown global function");
}
