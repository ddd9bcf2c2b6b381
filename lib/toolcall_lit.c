/*
 * toolcall_lit.c - readers for the non-JSON literal syntaxes that models
 * write arguments in: Python literals (pythonic, lfm2, Llama built-in tools)
 * and Gemma 4's bare-key objects with <|"|>-quoted strings.  Both build
 * ai__json trees.  Nesting recurses, so it is capped at MAX_DEPTH.
 */
#include "toolcall.h"

#include <stdio.h>
#include <string.h>

enum { MAX_DEPTH = 128 };

static int ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static size_t skip(const char *s, size_t n, size_t p) {
    while (p < n && ws(s[p])) p++;
    return p;
}

static int bad(char *msg, size_t cap, const char *what, size_t at) {
    snprintf(msg, cap, "%s at byte %zu", what, at);
    return -1;
}

static int ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Reads a number in Python or JSON spelling and writes it as JSON text. */
static int read_number(const char *s, size_t n, size_t *pos, ai__json **out, char *msg,
                       size_t cap) {
    size_t p = *pos, st = p;
    char buf[128];
    size_t o = 0;
    if (p < n && (s[p] == '-' || s[p] == '+')) {
        if (s[p] == '-') buf[o++] = '-';
        p++;
    }
    size_t ib = p;
    while (p < n && ((s[p] >= '0' && s[p] <= '9') || s[p] == '_')) p++;
    size_t ie = p;
    int has_frac = 0;
    size_t fb = 0, fe = 0;
    if (p < n && s[p] == '.') {
        has_frac = 1;
        fb = ++p;
        while (p < n && s[p] >= '0' && s[p] <= '9') p++;
        fe = p;
    }
    if (ie == ib && (!has_frac || fe == fb)) {
        if (p >= n) return 1;
        return bad(msg, cap, "invalid number", st);
    }
    size_t eb = 0, ee = 0;
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        eb = p++;
        if (p < n && (s[p] == '+' || s[p] == '-')) p++;
        size_t d = p;
        while (p < n && s[p] >= '0' && s[p] <= '9') p++;
        if (p == d) return p >= n ? 1 : bad(msg, cap, "invalid number", st);
        ee = p;
    }
    if (p >= n) return 1; /* more digits may follow */
    if (ident_start(s[p]) || (s[p] >= '0' && s[p] <= '9'))
        return bad(msg, cap, "invalid number", st);
    /* integer part without '_' and leading zeros (Python forbids 007) */
    size_t digits = 0;
    for (size_t i = ib; i < ie; i++)
        if (s[i] != '_') {
            if (o + 8 >= sizeof buf) return bad(msg, cap, "number too long", st);
            buf[o++] = s[i];
            digits++;
        }
    if (!digits) buf[o++] = '0';
    else if (digits > 1 && buf[o - digits] == '0') {
        for (size_t i = o - digits; i < o; i++)
            if (buf[i] != '0') return bad(msg, cap, "invalid number (leading zero)", st);
        o -= digits - 1; /* 000 is 0 */
    }
    if (has_frac) {
        buf[o++] = '.';
        if (fe == fb) buf[o++] = '0';
        for (size_t i = fb; i < fe; i++) {
            if (o + 8 >= sizeof buf) return bad(msg, cap, "number too long", st);
            buf[o++] = s[i];
        }
    }
    if (ee) {
        for (size_t i = eb; i < ee; i++) {
            if (o + 2 >= sizeof buf) return bad(msg, cap, "number too long", st);
            buf[o++] = s[i];
        }
    }
    *out = ai__json_new_num(buf, o);
    *pos = p;
    return *out ? 0 : bad(msg, cap, "out of memory", st);
}

static int hexn(const char *s, size_t n, size_t p, int k, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < k; i++) {
        if (p + (size_t)i >= n) return 1;
        char c = s[p + (size_t)i];
        int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (h < 0) return -1;
        *v = *v * 16 + (uint32_t)h;
    }
    return 0;
}

static void put_cp(ai__buf *b, uint32_t cp) {
    char d[4];
    size_t k;
    if (cp < 0x80) { d[0] = (char)cp; k = 1; }
    else if (cp < 0x800) { d[0] = (char)(0xC0 | (cp >> 6)); d[1] = (char)(0x80 | (cp & 0x3F)); k = 2; }
    else if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12)); d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F)); k = 3;
    } else {
        d[0] = (char)(0xF0 | (cp >> 18)); d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        d[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); d[3] = (char)(0x80 | (cp & 0x3F)); k = 4;
    }
    ai__buf_put(b, d, k);
}

/* A Python string literal ('..' or "..", also triple-quoted). */
static int read_pystr(const char *s, size_t n, size_t *pos, ai__json **out, char *msg,
                      size_t cap) {
    size_t p = *pos, st = p;
    char q = s[p];
    int triple = 0;
    if (p + 1 < n && s[p + 1] == q) {
        if (p + 2 >= n) return 1; /* an empty string or the start of a triple quote */
        triple = s[p + 2] == q;
    }
    p += triple ? 3 : 1;
    ai__buf b = {0};
    for (;;) {
        if (p >= n) {
            ai__buf_free(&b);
            return 1;
        }
        char c = s[p];
        if (c == q) {
            if (!triple) {
                p++;
                break;
            }
            if (p + 2 < n && s[p + 1] == q && s[p + 2] == q) {
                p += 3;
                break;
            }
            if (p + 2 >= n) {
                ai__buf_free(&b);
                return 1;
            }
        }
        if ((c == '\n' || c == '\r') && !triple) {
            ai__buf_free(&b);
            return bad(msg, cap, "newline in string", p);
        }
        if (c != '\\') {
            ai__buf_putc(&b, c);
            p++;
            continue;
        }
        if (p + 1 >= n) {
            ai__buf_free(&b);
            return 1;
        }
        char e = s[p + 1];
        p += 2;
        uint32_t v;
        int r;
        switch (e) {
        case '\\': ai__buf_putc(&b, '\\'); break;
        case '\'': ai__buf_putc(&b, '\''); break;
        case '"': ai__buf_putc(&b, '"'); break;
        case 'n': ai__buf_putc(&b, '\n'); break;
        case 't': ai__buf_putc(&b, '\t'); break;
        case 'r': ai__buf_putc(&b, '\r'); break;
        case 'b': ai__buf_putc(&b, '\b'); break;
        case 'f': ai__buf_putc(&b, '\f'); break;
        case 'v': ai__buf_putc(&b, '\v'); break;
        case 'a': ai__buf_putc(&b, '\a'); break;
        case '0': ai__buf_putc(&b, '\0'); break;
        case '\n': break; /* line continuation */
        case 'x':
        case 'u':
        case 'U':
            r = hexn(s, n, p, e == 'x' ? 2 : e == 'u' ? 4 : 8, &v);
            if (r == 1) {
                ai__buf_free(&b);
                return 1;
            }
            if (r < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
                ai__buf_free(&b);
                return bad(msg, cap, "invalid escape in string", p - 2);
            }
            put_cp(&b, v);
            p += e == 'x' ? 2 : e == 'u' ? 4 : 8;
            break;
        default: /* Python keeps unknown escapes as written */
            ai__buf_putc(&b, '\\');
            ai__buf_putc(&b, e);
        }
    }
    if (b.oom) {
        ai__buf_free(&b);
        return bad(msg, cap, "out of memory", st);
    }
    *out = ai__json_new_str(b.p ? b.p : "", b.len);
    ai__buf_free(&b);
    *pos = p;
    return *out ? 0 : bad(msg, cap, "out of memory", st);
}

static int word_at(const char *s, size_t n, size_t p, const char *w, int *partial) {
    size_t l = strlen(w);
    *partial = 0;
    if (p + l > n) {
        if (!memcmp(s + p, w, n - p)) *partial = 1;
        return 0;
    }
    if (memcmp(s + p, w, l)) return 0;
    if (p + l < n && (ident_start(s[p + l]) || (s[p + l] >= '0' && s[p + l] <= '9'))) return 0;
    if (p + l == n) *partial = 1; /* "True" could still become "Truex" */
    return 1;
}

static int py_value(const char *s, size_t n, size_t *pos, ai__json **out, char *msg,
                    size_t cap, int depth) {
    size_t p = *pos;
    *out = NULL;
    if (p >= n) return 1;
    char c = s[p];
    if (c == '\'' || c == '"') return read_pystr(s, n, pos, out, msg, cap);
    if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'))
        return read_number(s, n, pos, out, msg, cap);
    static const struct {
        const char *w;
        ai__json_type t;
    } words[] = {{"True", AI__JSON_TRUE}, {"False", AI__JSON_FALSE}, {"None", AI__JSON_NULL},
                 {"true", AI__JSON_TRUE}, {"false", AI__JSON_FALSE}, {"null", AI__JSON_NULL}};
    if (ident_start(c)) {
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
            int part;
            int hit = word_at(s, n, p, words[i].w, &part);
            if (part) return 1;
            if (hit) {
                *out = ai__json_new(words[i].t);
                *pos = p + strlen(words[i].w);
                return *out ? 0 : bad(msg, cap, "out of memory", p);
            }
        }
        return bad(msg, cap, "non-literal argument value", p);
    }
    if (c != '[' && c != '(' && c != '{') return bad(msg, cap, "non-literal argument value", p);
    if (depth >= MAX_DEPTH) return bad(msg, cap, "nesting too deep", p);
    int dict = c == '{';
    char close = c == '[' ? ']' : c == '(' ? ')' : '}';
    ai__json *cont = ai__json_new(dict ? AI__JSON_OBJECT : AI__JSON_ARRAY);
    if (!cont) return bad(msg, cap, "out of memory", p);
    p++;
    for (;;) {
        p = skip(s, n, p);
        if (p >= n) goto more;
        if (s[p] == close) {
            p++;
            break;
        }
        ai__json *k = NULL, *v = NULL;
        int r;
        if (dict) {
            r = py_value(s, n, &p, &k, msg, cap, depth + 1);
            if (r) {
                ai__json_free(cont);
                return r;
            }
            if (k->type != AI__JSON_STRING && k->type != AI__JSON_NUMBER) {
                ai__json_free(k);
                ai__json_free(cont);
                return bad(msg, cap, "dictionary key must be a string or number", p);
            }
            p = skip(s, n, p);
            if (p >= n) {
                ai__json_free(k);
                goto more;
            }
            if (s[p] != ':') {
                ai__json_free(k);
                ai__json_free(cont);
                return bad(msg, cap, "':' expected in dictionary", p);
            }
            p = skip(s, n, p + 1);
        }
        r = py_value(s, n, &p, &v, msg, cap, depth + 1);
        if (r) {
            ai__json_free(k);
            ai__json_free(cont);
            return r;
        }
        int rc = dict ? ai__json_set(cont, k->str, k->len, v) : ai__json_push(cont, v);
        ai__json_free(k);
        if (rc) {
            ai__json_free(cont);
            return bad(msg, cap, "out of memory", p);
        }
        p = skip(s, n, p);
        if (p >= n) goto more;
        if (s[p] == ',') {
            p++;
            continue;
        }
        if (s[p] == close) {
            p++;
            break;
        }
        ai__json_free(cont);
        return bad(msg, cap, "',' or closing bracket expected", p);
    }
    *out = cont;
    *pos = p;
    return 0;
more:
    ai__json_free(cont);
    return 1;
}

int ai__tc_py_value(const char *s, size_t n, size_t *pos, ai__json **out, char *msg,
                    size_t msg_cap) {
    return py_value(s, n, pos, out, msg, msg_cap, 0);
}

/* ---- Gemma 4 ------------------------------------------------------------ */

static const char GQ[] = "<|\"|>"; /* Gemma's string delimiter token */
enum { GQ_LEN = 5 };

static int gq_at(const char *s, size_t n, size_t p, int *partial) {
    size_t k = n - p < GQ_LEN ? n - p : GQ_LEN;
    *partial = k < GQ_LEN && !memcmp(s + p, GQ, k);
    return k == GQ_LEN && !memcmp(s + p, GQ, GQ_LEN);
}

static int gemma_str(const char *s, size_t n, size_t *pos, ai__json **out, char *msg,
                     size_t cap) {
    size_t b = *pos + GQ_LEN;
    const char *e = b <= n ? memmem(s + b, n - b, GQ, GQ_LEN) : NULL;
    if (!e) return 1;
    *out = ai__json_new_str(s + b, (size_t)(e - s) - b);
    *pos = (size_t)(e - s) + GQ_LEN;
    return *out ? 0 : bad(msg, cap, "out of memory", b);
}

static int gemma_value(const char *s, size_t n, size_t *pos, ai__json **out, char *msg,
                       size_t cap, int depth) {
    size_t p = *pos;
    *out = NULL;
    if (p >= n) return 1;
    int part;
    if (gq_at(s, n, p, &part)) return gemma_str(s, n, pos, out, msg, cap);
    if (part) return 1;
    char c = s[p];
    if (c == '{' || c == '[') {
        if (depth >= MAX_DEPTH) return bad(msg, cap, "nesting too deep", p);
        int obj = c == '{';
        char close = obj ? '}' : ']';
        ai__json *cont = ai__json_new(obj ? AI__JSON_OBJECT : AI__JSON_ARRAY);
        if (!cont) return bad(msg, cap, "out of memory", p);
        p++;
        for (;;) {
            p = skip(s, n, p);
            if (p >= n) goto more;
            if (s[p] == close) {
                p++;
                break;
            }
            const char *key = NULL;
            size_t klen = 0;
            ai__json *kq = NULL;
            if (obj) {
                if (gq_at(s, n, p, &part)) {
                    int r = gemma_str(s, n, &p, &kq, msg, cap);
                    if (r) {
                        ai__json_free(cont);
                        return r;
                    }
                    key = kq->str;
                    klen = kq->len;
                    p = skip(s, n, p);
                } else {
                    if (part) goto more;
                    size_t kb = p;
                    while (p < n && s[p] != ':' && s[p] != ',' && s[p] != '}' && s[p] != '{' &&
                           s[p] != '<' && !ws(s[p]))
                        p++;
                    key = s + kb;
                    klen = p - kb;
                    p = skip(s, n, p);
                    if (p >= n) goto more;
                    if (klen == 0) {
                        ai__json_free(cont);
                        return bad(msg, cap, "object key expected", p);
                    }
                }
                if (p >= n) {
                    ai__json_free(kq);
                    goto more;
                }
                if (s[p] != ':') {
                    ai__json_free(kq);
                    ai__json_free(cont);
                    return bad(msg, cap, "':' expected after key", p);
                }
                p = skip(s, n, p + 1);
            }
            ai__json *v;
            int r = gemma_value(s, n, &p, &v, msg, cap, depth + 1);
            if (r) {
                ai__json_free(kq);
                ai__json_free(cont);
                return r;
            }
            int rc = obj ? ai__json_set(cont, key, klen, v) : ai__json_push(cont, v);
            ai__json_free(kq);
            if (rc) {
                ai__json_free(cont);
                return bad(msg, cap, "out of memory", p);
            }
            p = skip(s, n, p);
            if (p >= n) goto more;
            if (s[p] == ',') {
                p++;
                continue;
            }
            if (s[p] == close) {
                p++;
                break;
            }
            ai__json_free(cont);
            return bad(msg, cap, "',' or closing bracket expected", p);
        }
        *out = cont;
        *pos = p;
        return 0;
    more:
        ai__json_free(cont);
        return 1;
    }
    if (c == '"') { /* a JSON string, in case the model used one */
        size_t used;
        int trunc;
        ai_status st = ai__json_parse_partial(s + p, n - p, out, &used, &trunc, NULL, 0);
        if (st == AI_OK) {
            *pos = p + used;
            return 0;
        }
        return trunc ? 1 : bad(msg, cap, "invalid string", p);
    }
    /* a bare scalar: runs to the next delimiter */
    size_t b = p;
    while (p < n && s[p] != ',' && s[p] != '}' && s[p] != ']' && s[p] != '<' && !ws(s[p])) p++;
    if (p >= n) return 1;
    ai__json *j = NULL;
    if (ai__json_parse(s + b, p - b, &j, NULL, 0) != AI_OK || j->type == AI__JSON_ARRAY ||
        j->type == AI__JSON_OBJECT) {
        ai__json_free(j);
        return bad(msg, cap, "invalid bare value", b);
    }
    *out = j;
    *pos = p;
    return 0;
}

int ai__tc_gemma_value(const char *s, size_t n, size_t *pos, ai__json **out, char *msg,
                       size_t msg_cap) {
    return gemma_value(s, n, pos, out, msg, msg_cap, 0);
}
