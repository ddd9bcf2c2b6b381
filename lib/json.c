/*
 * json.c - the strict RFC 8259 reader and the writer of json.h.
 *
 * Reader: one pass over the text with an explicit stack of open containers
 * (no recursion, so nesting depth costs heap, not C stack, and is capped at
 * AI__JSON_MAX_DEPTH).  Every node is attached to its parent as soon as it
 * is created, so on error freeing the root frees everything.
 *
 * Writer, clone and free walk the tree with explicit stacks too: a tree built
 * by hand may be deeper than the parse limit.
 */
#include "json.h"
#include "unicode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 -------------------------------------------------------------- */

size_t ai__utf8_seq(const unsigned char *s, size_t avail, int *incomplete) {
    if (incomplete) *incomplete = 0;
    if (avail == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;   /* no overlong forms          */
        if (c == 0xED) hi = 0x9F;   /* no UTF-16 surrogates       */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;   /* nothing above U+10FFFF     */
    } else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (i >= avail) {
            if (incomplete) *incomplete = 1;
            return 0;
        }
        unsigned b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
    }
    return n;
}

int ai__utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = ai__utf8_seq(p + i, len - i, NULL);
        if (!n) return 0;
        i += n;
    }
    return 1;
}

/* ---- nodes -------------------------------------------------------------- */

ai__json *ai__json_new(ai__json_type type) {
    ai__json *j = calloc(1, sizeof *j);
    if (j) j->type = type;
    return j;
}

ai__json *ai__json_new_str(const char *s, size_t len) {
    ai__json *j = ai__json_new(AI__JSON_STRING);
    if (!j) return NULL;
    j->str = ai__strndup(s ? s : "", s ? len : 0);
    if (!j->str) {
        free(j);
        return NULL;
    }
    j->len = s ? len : 0;
    return j;
}

ai__json *ai__json_new_num(const char *text, size_t len) {
    ai__json *j = ai__json_new_str(text, len);
    if (j) j->type = AI__JSON_NUMBER;
    return j;
}

ai__json *ai__json_new_int(int64_t v) {
    char t[32];
    int n = snprintf(t, sizeof t, "%lld", (long long)v);
    return ai__json_new_num(t, (size_t)n);
}

/* Formats a double the way Python's repr() does (which is what json.dumps
 * writes): the shortest digits that read back to the same value, fixed
 * notation for exponents in [-4, 16), else d.ddde+XX; integral values get a
 * ".0".  Non-finite values become NaN / Infinity / -Infinity as Python writes
 * them (they are not JSON; the caller decides whether to allow them). */
static size_t fmt_double(char *out, double v) {
    if (isnan(v)) return (size_t)sprintf(out, "NaN");
    if (isinf(v)) return (size_t)sprintf(out, v < 0 ? "-Infinity" : "Infinity");
    if (v == 0) return (size_t)sprintf(out, signbit(v) ? "-0.0" : "0.0");
    char e[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    if (prec > 17) prec = 17;
    snprintf(e, sizeof e, "%.*e", prec - 1, v);
    /* e = [-]D[.DDD]e[+-]XX : collect digits and exponent */
    char digits[24];
    int nd = 0, neg = 0;
    const char *p = e;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    while (*p && *p != 'e') {
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
        p++;
    }
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    size_t o = 0;
    if (neg) out[o++] = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = 0; i < -exp10 - 1; i++) out[o++] = '0';
            for (int i = 0; i < nd; i++) out[o++] = digits[i];
        } else {
            for (int i = 0; i <= exp10; i++) out[o++] = i < nd ? digits[i] : '0';
            out[o++] = '.';
            if (nd > exp10 + 1)
                for (int i = exp10 + 1; i < nd; i++) out[o++] = digits[i];
            else
                out[o++] = '0';
        }
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++) out[o++] = digits[i];
        }
        o += (size_t)sprintf(out + o, "e%c%02d", exp10 < 0 ? '-' : '+',
                             exp10 < 0 ? -exp10 : exp10);
    }
    out[o] = '\0';
    return o;
}

ai__json *ai__json_new_double(double v) {
    char t[64];
    size_t n = fmt_double(t, v);
    return ai__json_new_num(t, n);
}

/* Capacity is implicit: 0 for n == 0, else max(4, next power of two >= n).
 * Grows the arrays so that item n can be stored. */
static int grow(ai__json *c) {
    size_t n = c->n;
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0)) return 0;
    size_t cap = n == 0 ? 4 : n * 2;
    if (cap > SIZE_MAX / sizeof(void *)) return -1;
    ai__json **it = realloc(c->items, cap * sizeof *it);
    if (!it) return -1;
    c->items = it;
    if (c->type == AI__JSON_OBJECT) {
        char **k = realloc(c->keys, cap * sizeof *k);
        if (!k) return -1;
        c->keys = k;
        size_t *kl = realloc(c->key_lens, cap * sizeof *kl);
        if (!kl) return -1;
        c->key_lens = kl;
    }
    return 0;
}

int ai__json_push(ai__json *arr, ai__json *item) {
    if (!arr || !item || arr->type != AI__JSON_ARRAY || grow(arr)) {
        ai__json_free(item);
        return -1;
    }
    arr->items[arr->n++] = item;
    return 0;
}

/* Appends with an already allocated key (ownership of key passes). */
static int set_owned(ai__json *obj, char *key, size_t key_len, ai__json *val) {
    if (grow(obj)) {
        free(key);
        ai__json_free(val);
        return -1;
    }
    obj->keys[obj->n] = key;
    obj->key_lens[obj->n] = key_len;
    obj->items[obj->n++] = val;
    return 0;
}

int ai__json_set(ai__json *obj, const char *key, size_t key_len, ai__json *val) {
    if (!obj || !val || obj->type != AI__JSON_OBJECT) {
        ai__json_free(val);
        return -1;
    }
    char *k = ai__strndup(key, key_len);
    if (!k) {
        ai__json_free(val);
        return -1;
    }
    return set_owned(obj, k, key_len, val);
}

static void free_node_only(ai__json *j) {
    if (j->keys)
        for (size_t i = 0; i < j->n; i++) free(j->keys[i]);
    free(j->keys);
    free(j->key_lens);
    free(j->items);
    free(j->str);
    free(j);
}

static void free_rec(ai__json *j) { /* fallback when the stack cannot grow */
    for (size_t i = 0; i < j->n; i++) free_rec(j->items[i]);
    free_node_only(j);
}

void ai__json_free(ai__json *j) {
    if (!j) return;
    ai__json *local[64];
    ai__json **st = local;
    size_t sp = 0, cap = 64;
    st[sp++] = j;
    while (sp) {
        ai__json *x = st[--sp];
        if (x->n && (x->type == AI__JSON_ARRAY || x->type == AI__JSON_OBJECT)) {
            if (sp + x->n > cap) {
                size_t nc = cap;
                while (nc < sp + x->n) nc *= 2;
                ai__json **ns = st == local ? malloc(nc * sizeof *ns)
                                            : realloc(st, nc * sizeof *ns);
                if (!ns) {
                    free_rec(x);
                    continue;
                }
                if (st == local) memcpy(ns, local, sp * sizeof *ns);
                st = ns;
                cap = nc;
            }
            for (size_t i = 0; i < x->n; i++) st[sp++] = x->items[i];
        }
        free_node_only(x);
    }
    if (st != local) free(st);
}

static ai__json *copy_shallow(const ai__json *s) {
    ai__json *d;
    if (s->type == AI__JSON_STRING || s->type == AI__JSON_NUMBER) {
        d = ai__json_new_str(s->str, s->len);
        if (d) d->type = s->type;
    } else
        d = ai__json_new(s->type);
    return d;
}

ai__json *ai__json_clone(const ai__json *j) {
    if (!j) return NULL;
    ai__json *root = copy_shallow(j);
    if (!root) return NULL;
    /* pairs (source, copy) whose children are still to be copied */
    size_t cap = 16, sp = 0;
    const ai__json **ss = malloc(cap * sizeof *ss);
    ai__json **ds = malloc(cap * sizeof *ds);
    if (!ss || !ds) goto oom;
    ss[sp] = j;
    ds[sp++] = root;
    while (sp) {
        sp--;
        const ai__json *s = ss[sp];
        ai__json *d = ds[sp];
        for (size_t i = 0; i < s->n; i++) {
            ai__json *c = copy_shallow(s->items[i]);
            if (!c) goto oom;
            int rc = s->type == AI__JSON_OBJECT
                         ? ai__json_set(d, s->keys[i], s->key_lens[i], c)
                         : ai__json_push(d, c);
            if (rc) goto oom;
            if (s->items[i]->n) {
                if (sp == cap) {
                    cap *= 2;
                    const ai__json **s2 = realloc(ss, cap * sizeof *s2);
                    if (!s2) goto oom;
                    ss = s2;
                    ai__json **d2 = realloc(ds, cap * sizeof *d2);
                    if (!d2) goto oom;
                    ds = d2;
                }
                ss[sp] = s->items[i];
                ds[sp++] = c;
            }
        }
    }
    free(ss);
    free(ds);
    return root;
oom:
    free(ss);
    free(ds);
    ai__json_free(root);
    return NULL;
}

const ai__json *ai__json_getn(const ai__json *obj, const char *key, size_t len) {
    if (!obj || obj->type != AI__JSON_OBJECT) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->key_lens[i] == len && memcmp(obj->keys[i], key, len) == 0)
            return obj->items[i];
    return NULL;
}

const ai__json *ai__json_get(const ai__json *obj, const char *key) {
    return ai__json_getn(obj, key, strlen(key));
}

ai__json *ai__json_take(ai__json *obj, const char *key) {
    if (!obj || obj->type != AI__JSON_OBJECT) return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < obj->n; i++)
        if (obj->key_lens[i] == len && memcmp(obj->keys[i], key, len) == 0) {
            ai__json *v = obj->items[i];
            free(obj->keys[i]);
            size_t rest = obj->n - i - 1;
            memmove(obj->items + i, obj->items + i + 1, rest * sizeof *obj->items);
            memmove(obj->keys + i, obj->keys + i + 1, rest * sizeof *obj->keys);
            memmove(obj->key_lens + i, obj->key_lens + i + 1, rest * sizeof *obj->key_lens);
            obj->n--;
            return v;
        }
    return NULL;
}

double ai__json_num(const ai__json *j) {
    if (!j || j->type != AI__JSON_NUMBER || !j->str) return 0.0;
    /* strtod honours the locale's decimal point while JSON always uses '.':
     * hand it a copy with the point replaced by the locale's one. */
    char probe[8];
    snprintf(probe, sizeof probe, "%.1f", 1.5);
    if (probe[1] == '.') return strtod(j->str, NULL);
    char *tmp = ai__strndup(j->str, j->len);
    if (!tmp) return 0.0;
    char *dot = strchr(tmp, '.');
    if (dot) *dot = probe[1];
    double v = strtod(tmp, NULL);
    free(tmp);
    return v;
}

/* ---- reader ------------------------------------------------------------- */

typedef struct parser {
    const char *s;
    size_t len, i;
    char *err;
    size_t err_cap;
    int eof;        /* the failure was running out of input */
    int failed;
    int nomem;
} parser;

static void fail(parser *p, size_t at, const char *what) {
    if (p->failed) return;
    p->failed = 1;
    p->eof = at >= p->len;
    if (p->eof)
        ai__set_err(p->err, p->err_cap, "unexpected end of input (%s) at byte %zu", what, at);
    else
        ai__set_err(p->err, p->err_cap, "%s at byte %zu", what, at);
}

static void skip_ws(parser *p) {
    while (p->i < p->len) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->i++;
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(parser *p, size_t at, uint32_t *out) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
        if (at + k >= p->len) {
            fail(p, p->len, "\\u escape");
            return -1;
        }
        int h = hexval(p->s[at + k]);
        if (h < 0) {
            fail(p, at + k, "bad hex digit in \\u escape");
            return -1;
        }
        v = v * 16 + (uint32_t)h;
    }
    *out = v;
    return 0;
}

/* Reads a string literal at p->i (which is '"').  Decodes into a fresh
 * allocation: the decoded form is never longer than the literal. */
static char *read_string(parser *p, size_t *out_len) {
    const unsigned char *s = (const unsigned char *)p->s;
    size_t start = p->i + 1, i = start;
    /* find the closing quote; when there is none, still decode what is
     * there so that an invalid string is told apart from a truncated one */
    int closed = 0;
    while (i < p->len) {
        unsigned char c = s[i];
        if (c == '"') {
            closed = 1;
            break;
        }
        i += c == '\\' ? 2 : 1;
    }
    size_t end = i < p->len ? i : p->len;
    char *d = malloc(end - start + 1);
    if (!d) {
        p->nomem = 1;
        fail(p, start, "out of memory");
        return NULL;
    }
    size_t o = 0;
    i = start;
    while (i < end) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '\\' && c < 0x80) {
            /* run of plain ASCII */
            size_t j = i + 1;
            while (j < end && s[j] >= 0x20 && s[j] != '\\' && s[j] < 0x80) j++;
            memcpy(d + o, s + i, j - i);
            o += j - i;
            i = j;
        } else if (c < 0x20) {
            fail(p, i, "control character in string");
            goto bad;
        } else if (c >= 0x80) {
            int inc;
            size_t n = ai__utf8_seq(s + i, end - i, &inc);
            if (!n) {
                fail(p, inc && !closed ? p->len : i, "invalid UTF-8 in string");
                goto bad;
            }
            memcpy(d + o, s + i, n);
            o += n;
            i += n;
        } else { /* backslash */
            if (i + 1 >= p->len) {
                fail(p, p->len, "escape");
                goto bad;
            }
            char e = (char)s[i + 1];
            i += 2;
            switch (e) {
            case '"': d[o++] = '"'; break;
            case '\\': d[o++] = '\\'; break;
            case '/': d[o++] = '/'; break;
            case 'b': d[o++] = '\b'; break;
            case 'f': d[o++] = '\f'; break;
            case 'n': d[o++] = '\n'; break;
            case 'r': d[o++] = '\r'; break;
            case 't': d[o++] = '\t'; break;
            case 'u': {
                uint32_t cp;
                if (hex4(p, i, &cp)) goto bad;
                i += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail(p, i - 6, "lone low surrogate");
                    goto bad;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    static const char want[] = "\\u";
                    for (size_t k = 0; k < 2; k++) {
                        if (i + k >= end) {
                            fail(p, closed ? i : p->len, "high surrogate without low surrogate");
                            goto bad;
                        }
                        if (s[i + k] != (unsigned char)want[k]) {
                            fail(p, i, "high surrogate without low surrogate");
                            goto bad;
                        }
                    }
                    if (hex4(p, i + 2, &lo)) goto bad;
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        fail(p, i, "high surrogate without low surrogate");
                        goto bad;
                    }
                    i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                o += ai__utf8_encode(cp, d + o);
                break;
            }
            default:
                fail(p, i - 2, "invalid escape");
                goto bad;
            }
        }
    }
    if (!closed) {
        fail(p, p->len, "unterminated string");
        goto bad;
    }
    d[o] = '\0';
    p->i = end + 1;
    *out_len = o;
    return d;
bad:
    free(d);
    return NULL;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static ai__json *read_number(parser *p) {
    size_t st = p->i, i = st;
    const char *s = p->s;
    if (i < p->len && s[i] == '-') i++;
    if (i >= p->len) {
        fail(p, i, "number");
        return NULL;
    }
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < p->len && is_digit(s[i])) i++;
    } else {
        fail(p, i, "invalid number");
        return NULL;
    }
    if (i < p->len && s[i] == '.') {
        i++;
        if (i >= p->len) {
            fail(p, i, "number");
            return NULL;
        }
        if (!is_digit(s[i])) {
            fail(p, i, "digit expected after decimal point");
            return NULL;
        }
        while (i < p->len && is_digit(s[i])) i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len) {
            fail(p, i, "number");
            return NULL;
        }
        if (!is_digit(s[i])) {
            fail(p, i, "digit expected in exponent");
            return NULL;
        }
        while (i < p->len && is_digit(s[i])) i++;
    }
    ai__json *j = ai__json_new_num(s + st, i - st);
    if (!j) {
        p->nomem = 1;
        fail(p, st, "out of memory");
    }
    p->i = i;
    return j;
}

static int read_literal(parser *p, const char *lit) {
    size_t n = strlen(lit);
    for (size_t k = 0; k < n; k++) {
        if (p->i + k >= p->len) {
            fail(p, p->len, "literal");
            return -1;
        }
        if (p->s[p->i + k] != lit[k]) {
            fail(p, p->i, "invalid literal");
            return -1;
        }
    }
    p->i += n;
    return 0;
}

/* Reads `"key" :` (whitespace already skipped before the key). */
static char *read_key(parser *p, size_t *klen) {
    if (p->i >= p->len) {
        fail(p, p->len, "object key");
        return NULL;
    }
    if (p->s[p->i] != '"') {
        fail(p, p->i, "object key (a string) expected");
        return NULL;
    }
    char *k = read_string(p, klen);
    if (!k) return NULL;
    skip_ws(p);
    if (p->i >= p->len || p->s[p->i] != ':') {
        fail(p, p->i, "':' expected after object key");
        free(k);
        return NULL;
    }
    p->i++;
    return k;
}

static ai_status parse_value(parser *p, ai__json **out) {
    ai__json *root = NULL;
    ai__json *stack[AI__JSON_MAX_DEPTH];
    size_t sp = 0;
    char *key = NULL; /* pending object key for the next value */
    size_t key_len = 0;
    ai_status st = AI_E_FORMAT;

    for (;;) {
        /* ---- a value is expected here ---- */
        skip_ws(p);
        if (p->i >= p->len) {
            fail(p, p->len, "value");
            goto bad;
        }
        ai__json *v = NULL;
        char c = p->s[p->i];
        int opened = 0;
        switch (c) {
        case '{':
        case '[':
            if (sp >= AI__JSON_MAX_DEPTH) {
                fail(p, p->i, "nesting too deep");
                goto bad;
            }
            v = ai__json_new(c == '{' ? AI__JSON_OBJECT : AI__JSON_ARRAY);
            if (!v) goto oom;
            p->i++;
            opened = 1;
            break;
        case '"': {
            size_t n;
            size_t at = p->i;
            char *str = read_string(p, &n);
            if (!str) {
                if (!p->failed) fail(p, at, "string");
                goto bad;
            }
            v = ai__json_new(AI__JSON_STRING);
            if (!v) {
                free(str);
                goto oom;
            }
            v->str = str;
            v->len = n;
            break;
        }
        case 't':
        case 'f':
        case 'n':
            if (read_literal(p, c == 't' ? "true" : c == 'f' ? "false" : "null")) goto bad;
            v = ai__json_new(c == 't' ? AI__JSON_TRUE : c == 'f' ? AI__JSON_FALSE : AI__JSON_NULL);
            if (!v) goto oom;
            break;
        default:
            if (c == '-' || is_digit(c)) {
                v = read_number(p);
                if (!v) goto bad;
            } else {
                fail(p, p->i, "unexpected character");
                goto bad;
            }
        }
        /* attach v */
        if (sp == 0) {
            root = v;
        } else if (stack[sp - 1]->type == AI__JSON_ARRAY) {
            if (ai__json_push(stack[sp - 1], v)) goto oom;
        } else {
            int rc = set_owned(stack[sp - 1], key, key_len, v);
            key = NULL;
            if (rc) goto oom;
        }
        if (opened) {
            stack[sp++] = v;
            skip_ws(p);
            if (p->i >= p->len) {
                fail(p, p->len, v->type == AI__JSON_OBJECT ? "object" : "array");
                goto bad;
            }
            char e = p->s[p->i];
            if ((v->type == AI__JSON_OBJECT && e == '}') || (v->type == AI__JSON_ARRAY && e == ']')) {
                p->i++;
                sp--;
            } else {
                if (v->type == AI__JSON_OBJECT && !(key = read_key(p, &key_len))) goto bad;
                continue;
            }
        }
        /* ---- after a complete value: ',' or a close, or done ---- */
        for (;;) {
            if (sp == 0) {
                *out = root;
                return AI_OK;
            }
            skip_ws(p);
            if (p->i >= p->len) {
                fail(p, p->len, stack[sp - 1]->type == AI__JSON_OBJECT ? "object" : "array");
                goto bad;
            }
            char e = p->s[p->i];
            int is_obj = stack[sp - 1]->type == AI__JSON_OBJECT;
            if (e == ',') {
                p->i++;
                if (is_obj) {
                    skip_ws(p);
                    if (!(key = read_key(p, &key_len))) goto bad;
                }
                break; /* next value */
            }
            if ((is_obj && e == '}') || (!is_obj && e == ']')) {
                p->i++;
                sp--;
                continue;
            }
            fail(p, p->i, is_obj ? "',' or '}' expected" : "',' or ']' expected");
            goto bad;
        }
    }
oom:
    p->nomem = 1;
    if (!p->failed) {
        p->failed = 1;
        ai__set_err(p->err, p->err_cap, "out of memory");
    }
bad:
    free(key);
    ai__json_free(root);
    *out = NULL;
    if (p->nomem) st = AI_E_NOMEM;
    return st;
}

ai_status ai__json_parse_partial(const char *text, size_t len, ai__json **out,
                                 size_t *consumed, int *truncated, char *err,
                                 size_t err_cap) {
    if (truncated) *truncated = 0;
    if (out) *out = NULL;
    if (!out || (!text && len)) {
        ai__set_err(err, err_cap, "invalid argument");
        return AI_E_INVAL;
    }
    parser p = {text ? text : "", len, 0, err, err_cap, 0, 0, 0};
    ai_status st = parse_value(&p, out);
    if (st != AI_OK) {
        if (truncated) *truncated = p.eof;
        return st;
    }
    if (consumed) *consumed = p.i;
    return AI_OK;
}

ai_status ai__json_parse_prefix(const char *text, size_t len, ai__json **out,
                                size_t *consumed, char *err, size_t err_cap) {
    return ai__json_parse_partial(text, len, out, consumed, NULL, err, err_cap);
}

ai_status ai__json_parse(const char *text, size_t len, ai__json **out, char *err,
                         size_t err_cap) {
    size_t used = 0;
    ai_status st = ai__json_parse_partial(text, len, out, &used, NULL, err, err_cap);
    if (st != AI_OK) return st;
    parser p = {text, len, used, NULL, 0, 0, 0, 0};
    skip_ws(&p);
    if (p.i != len) {
        ai__set_err(err, err_cap, "trailing characters after JSON value at byte %zu", p.i);
        ai__json_free(*out);
        *out = NULL;
        return AI_E_FORMAT;
    }
    return AI_OK;
}

/* ---- writer ------------------------------------------------------------- */

static const char hexd[] = "0123456789abcdef";

static void put_u(ai__buf *b, uint32_t cp) {
    char t[6] = {'\\', 'u', hexd[(cp >> 12) & 15], hexd[(cp >> 8) & 15],
                 hexd[(cp >> 4) & 15], hexd[cp & 15]};
    ai__buf_put(b, t, 6);
}

void ai__json_write_str(ai__buf *b, const char *str, size_t len, int flags) {
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    if (!str) len = 0;
    int ascii = (flags & AI__JSON_W_ASCII) != 0;
    ai__buf_putc(b, '"');
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        if (ascii)
            while (j < len && s[j] >= 0x20 && s[j] < 0x7F && s[j] != '"' && s[j] != '\\') j++;
        else
            while (j < len && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\') j++;
        if (j > i) ai__buf_put(b, s + i, j - i);
        i = j;
        if (i >= len) break;
        unsigned char c = s[i];
        if (c < 0x80) {
            switch (c) {
            case '"': ai__buf_put(b, "\\\"", 2); break;
            case '\\': ai__buf_put(b, "\\\\", 2); break;
            case '\n': ai__buf_put(b, "\\n", 2); break;
            case '\r': ai__buf_put(b, "\\r", 2); break;
            case '\t': ai__buf_put(b, "\\t", 2); break;
            case '\b': ai__buf_put(b, "\\b", 2); break;
            case '\f': ai__buf_put(b, "\\f", 2); break;
            default: put_u(b, c); break; /* other controls, and DEL if ascii */
            }
            i++;
            continue;
        }
        size_t n = ai__utf8_seq(s + i, len - i, NULL);
        uint32_t cp;
        if (!n) { /* invalid bytes in a hand-built string: U+FFFD */
            cp = 0xFFFD;
            n = 1;
            if (!ascii) {
                ai__buf_put(b, "\xEF\xBF\xBD", 3);
                i += n;
                continue;
            }
        } else if (!ascii) {
            ai__buf_put(b, s + i, n);
            i += n;
            continue;
        } else if (n == 2) {
            cp = ((uint32_t)(s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F);
        } else if (n == 3) {
            cp = ((uint32_t)(s[i] & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
                 (s[i + 2] & 0x3F);
        } else {
            cp = ((uint32_t)(s[i] & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
                 ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
        }
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            put_u(b, 0xD800 + (v >> 10));
            put_u(b, 0xDC00 + (v & 0x3FF));
        } else
            put_u(b, cp);
        i += n;
    }
    ai__buf_putc(b, '"');
}

typedef struct wframe {
    const ai__json *j;
    size_t idx;
    size_t *order; /* sorted member order (SORT_KEYS), else NULL */
} wframe;

static int key_cmp(const ai__json *o, size_t a, size_t b) {
    size_t la = o->key_lens[a], lb = o->key_lens[b];
    int c = memcmp(o->keys[a], o->keys[b], la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb ? 1 : 0;
}

/* Stable insertion/merge sort of member indices by key bytes (UTF-8 byte
 * order equals code point order, which is what Python's sort_keys uses). */
static size_t *sort_members(const ai__json *o) {
    size_t n = o->n;
    size_t *a = malloc(n * sizeof *a), *t = malloc(n * sizeof *t);
    if (!a || !t) {
        free(a);
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) a[i] = i;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t x = lo, y = mid, k = lo;
            while (x < mid && y < hi) t[k++] = key_cmp(o, a[y], a[x]) < 0 ? a[y++] : a[x++];
            while (x < mid) t[k++] = a[x++];
            while (y < hi) t[k++] = a[y++];
        }
        size_t *sw = a;
        a = t;
        t = sw;
    }
    free(t);
    return a;
}

static void newline(ai__buf *b, int indent, size_t depth) {
    ai__buf_putc(b, '\n');
    size_t n = (size_t)indent * depth;
    static const char sp[] = "                                ";
    while (n) {
        size_t k = n < sizeof sp - 1 ? n : sizeof sp - 1;
        ai__buf_put(b, sp, k);
        n -= k;
    }
}

/* Writes a scalar, or the opening of a container; returns 1 when a container
 * with members was opened (the caller pushes a frame). */
static int write_open(ai__buf *b, const ai__json *j, int flags) {
    switch (j->type) {
    case AI__JSON_NULL: ai__buf_put(b, "null", 4); return 0;
    case AI__JSON_TRUE: ai__buf_put(b, "true", 4); return 0;
    case AI__JSON_FALSE: ai__buf_put(b, "false", 5); return 0;
    case AI__JSON_NUMBER: ai__buf_put(b, j->str, j->len); return 0;
    case AI__JSON_STRING: ai__json_write_str(b, j->str, j->len, flags); return 0;
    case AI__JSON_ARRAY:
        if (!j->n) {
            ai__buf_put(b, "[]", 2);
            return 0;
        }
        ai__buf_putc(b, '[');
        return 1;
    case AI__JSON_OBJECT:
        if (!j->n) {
            ai__buf_put(b, "{}", 2);
            return 0;
        }
        ai__buf_putc(b, '{');
        return 1;
    }
    return 0;
}

void ai__json_write(ai__buf *b, const ai__json *j, int flags, int indent) {
    if (!j) {
        ai__buf_put(b, "null", 4);
        return;
    }
    wframe local[32];
    wframe *st = local;
    size_t sp = 0, cap = 32;
    int spaces = (flags & AI__JSON_W_SPACES) != 0;
    int sort = (flags & AI__JSON_W_SORT_KEYS) != 0;
    if (!write_open(b, j, flags)) return;
    st[sp++] = (wframe){j, 0, sort && j->type == AI__JSON_OBJECT ? sort_members(j) : NULL};
    if (sort && j->type == AI__JSON_OBJECT && !st[0].order) b->oom = 1;
    while (sp && !b->oom) {
        wframe *f = &st[sp - 1];
        const ai__json *c = f->j;
        if (f->idx == c->n) {
            if (indent >= 0) newline(b, indent, sp - 1);
            ai__buf_putc(b, c->type == AI__JSON_OBJECT ? '}' : ']');
            free(f->order);
            sp--;
            continue;
        }
        size_t k = f->order ? f->order[f->idx] : f->idx;
        if (f->idx > 0) {
            if (indent >= 0) ai__buf_putc(b, ',');
            else if (spaces) ai__buf_put(b, ", ", 2);
            else ai__buf_putc(b, ',');
        }
        if (indent >= 0) newline(b, indent, sp);
        f->idx++;
        if (c->type == AI__JSON_OBJECT) {
            ai__json_write_str(b, c->keys[k], c->key_lens[k], flags);
            if (spaces || indent >= 0) ai__buf_put(b, ": ", 2);
            else ai__buf_putc(b, ':');
        }
        const ai__json *v = c->items[k];
        if (write_open(b, v, flags)) {
            if (sp == cap) {
                size_t nc = cap * 2;
                wframe *ns = st == local ? malloc(nc * sizeof *ns) : realloc(st, nc * sizeof *ns);
                if (!ns) {
                    b->oom = 1;
                    break;
                }
                if (st == local) memcpy(ns, local, sp * sizeof *ns);
                st = ns;
                cap = nc;
            }
            size_t *ord = NULL;
            if (sort && v->type == AI__JSON_OBJECT && !(ord = sort_members(v))) {
                b->oom = 1;
                break;
            }
            st[sp++] = (wframe){v, 0, ord};
        }
    }
    while (sp) free(st[--sp].order); /* only after an allocation failure */
    if (st != local) free(st);
}
