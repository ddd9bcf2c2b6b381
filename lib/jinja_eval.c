/* jinja_eval.c - runs a parsed template (see jinja_int.h).
 *
 * Scopes follow Jinja2: the root frame holds top-level `set`s and macros
 * (render variables sit behind it); each for-loop iteration gets a fresh
 * frame, so a `set` inside a loop body is gone after the iteration; `if`
 * opens no scope; block sets, filter blocks and generation blocks do; a
 * macro body runs in its own frame whose parent is the scope the macro was
 * defined in (read at call time, as a closure).  namespace() objects are the one way to carry a value out of a loop.
 */
#include "jinja_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_DEPTH 1000 /* C recursion through eval/exec, macros included */
#define CAPTURE_MAX 1100    /* nested capture buffers (bounded by EVAL_DEPTH)  */

struct ai__jframe {
    ai__jframe *parent;
    size_t n, cap;
    int *syms;
    ai__jv *vals;
};

typedef struct run {
    ai__jrun r;
    ai__buf *tmp[CAPTURE_MAX]; /* capture buffers to free if the render fails */
    size_t n_tmp;
    int loop_sym;          /* symbol id of "loop", -1 when unused         */
} run;

/* ---- helpers shared with the builtins ---------------------------------------- */

_Noreturn void ai__jr_fail(ai__jrun *r, const char *fmt, ...) {
    char tmp[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    ai__jfailf(&r->fail, AI_E_FORMAT, r->line, "%s", tmp);
}

void *ai__jr_alloc(ai__jrun *r, size_t n) {
    void *p = ai__ja_alloc(r->arena, n);
    if (!p) ai__jfailf(&r->fail, AI_E_NOMEM, r->line, "out of memory (render memory limit)");
    return p;
}

ai__jv ai__jr_str(ai__jrun *r, const char *s, size_t n) {
    char *p = ai__jr_alloc(r, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    ai__jv v = {.t = AI__JV_STR};
    v.u.s = p;
    v.n = n;
    return v;
}

size_t ai__jr_limit(const ai__jrun *r) {
    return r->arena->limit ? r->arena->limit : AI__JINJA_MAX_MEM;
}

void ai__jr_check(ai__jrun *r, const ai__buf *b) {
    if (b->oom || b->len > ai__jr_limit(r))
        ai__jfailf(&r->fail, AI_E_NOMEM, r->line, "output too large (render memory limit)");
}

ai__buf *ai__jr_tmp(ai__jrun *rr) {
    run *r = (run *)rr;
    if (r->n_tmp == CAPTURE_MAX) ai__jr_fail(rr, "nesting too deep");
    ai__buf *b = ai__jr_alloc(rr, sizeof *b);
    memset(b, 0, sizeof *b);
    r->tmp[r->n_tmp++] = b;
    return b;
}

ai__jv ai__jr_tmp_str(ai__jrun *rr, ai__buf *b) {
    run *r = (run *)rr;
    ai__jr_check(rr, b);
    ai__jv v = ai__jr_str(rr, b->p ? b->p : "", b->len);
    ai__buf_free(b);
    if (r->n_tmp && r->tmp[r->n_tmp - 1] == b) r->n_tmp--;
    return v;
}

ai__jv ai__jr_list(ai__jrun *r, size_t cap) {
    ai__jlist *l = ai__jr_alloc(r, sizeof *l);
    l->n = 0;
    l->cap = cap;
    l->v = cap ? ai__jr_alloc(r, cap * sizeof *l->v) : NULL;
    ai__jv v = {.t = AI__JV_LIST};
    v.u.l = l;
    return v;
}

void ai__jr_push(ai__jrun *r, ai__jv list, ai__jv item) {
    ai__jlist *l = list.u.l;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        if (cap > SIZE_MAX / 2 / sizeof *l->v) ai__jr_fail(r, "list too long");
        ai__jv *nv = ai__jr_alloc(r, cap * sizeof *nv);
        if (l->n) memcpy(nv, l->v, l->n * sizeof *nv);
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = item;
}

ai__jv ai__jr_dict(ai__jrun *r, size_t cap) {
    ai__jdict *d = ai__jr_alloc(r, sizeof *d);
    d->n = 0;
    d->cap = cap;
    d->k = cap ? ai__jr_alloc(r, cap * sizeof *d->k) : NULL;
    d->v = cap ? ai__jr_alloc(r, cap * sizeof *d->v) : NULL;
    ai__jv v = {.t = AI__JV_DICT};
    v.u.d = d;
    return v;
}

void ai__jr_dict_set(ai__jrun *r, ai__jdict *d, ai__jv key, ai__jv val) {
    for (size_t i = 0; i < d->n; i++)
        if (ai__jv_equal(d->k[i], key) && d->k[i].t == key.t) {
            d->v[i] = val;
            return;
        }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        ai__jv *nk = ai__jr_alloc(r, cap * sizeof *nk);
        ai__jv *nv = ai__jr_alloc(r, cap * sizeof *nv);
        if (d->n) {
            memcpy(nk, d->k, d->n * sizeof *nk);
            memcpy(nv, d->v, d->n * sizeof *nv);
        }
        d->k = nk;
        d->v = nv;
        d->cap = cap;
    }
    d->k[d->n] = key;
    d->v[d->n++] = val;
}

static _Noreturn void undefined_error(ai__jrun *r, ai__jv u) {
    if (u.u.s) ai__jr_fail(r, "'%.*s' is undefined", (int)(u.n > 60 ? 60 : u.n), u.u.s);
    ai__jr_fail(r, "undefined value used");
}

ai__jlist *ai__jr_iter(ai__jrun *r, ai__jv v) {
    switch (v.t) {
    case AI__JV_UNDEF: return ai__jr_list(r, 0).u.l;
    case AI__JV_LIST: return v.u.l;
    case AI__JV_DICT: {
        ai__jv l = ai__jr_list(r, v.u.d->n);
        for (size_t i = 0; i < v.u.d->n; i++) l.u.l->v[i] = v.u.d->k[i];
        l.u.l->n = v.u.d->n;
        return l.u.l;
    }
    case AI__JV_STR: {
        size_t cnt = ai__ju8_count(v.u.s, v.n);
        ai__jv l = ai__jr_list(r, cnt);
        size_t i = 0;
        while (i < v.n) {
            size_t b = i;
            ai__ju8_next(v.u.s, v.n, &i);
            ai__jv c = {.t = AI__JV_STR};
            c.u.s = v.u.s + b; /* a slice of the same storage; no NUL needed */
            c.n = i - b;
            l.u.l->v[l.u.l->n++] = c;
        }
        return l.u.l;
    }
    default: ai__jr_fail(r, "'%s' object is not iterable", ai__jv_typename(v));
    }
}

static ai__jv loop_attr(ai__jrun *r, const ai__jloop *lp, const char *name, size_t n) {
    (void)r;
    int64_t i = lp->idx, len = lp->len;
    if (ai__jnames_eq(name, n, "index")) return ai__jv_int(i + 1);
    if (ai__jnames_eq(name, n, "index0")) return ai__jv_int(i);
    if (ai__jnames_eq(name, n, "first")) return ai__jv_bool(i == 0);
    if (ai__jnames_eq(name, n, "last")) return ai__jv_bool(i == len - 1);
    if (ai__jnames_eq(name, n, "length")) return ai__jv_int(len);
    if (ai__jnames_eq(name, n, "revindex")) return ai__jv_int(len - i);
    if (ai__jnames_eq(name, n, "revindex0")) return ai__jv_int(len - i - 1);
    if (ai__jnames_eq(name, n, "depth")) return ai__jv_int(1);
    if (ai__jnames_eq(name, n, "depth0")) return ai__jv_int(0);
    if (ai__jnames_eq(name, n, "previtem") && i > 0) return lp->items[i - 1];
    if (ai__jnames_eq(name, n, "nextitem") && i + 1 < len) return lp->items[i + 1];
    ai__jv u = {.t = AI__JV_UNDEF};
    u.u.s = name;
    u.n = n;
    return u;
}

ai__jv ai__jr_getattr(ai__jrun *r, ai__jv obj, const char *name, size_t n) {
    ai__jv u = {.t = AI__JV_UNDEF};
    u.u.s = name;
    u.n = n;
    switch (obj.t) {
    case AI__JV_UNDEF:
        if (obj.u.s)
            ai__jr_fail(r, "'%.*s' is undefined (reading its '%.*s')", (int)(obj.n > 60 ? 60 : obj.n),
                        obj.u.s, (int)(n > 60 ? 60 : n), name);
        ai__jr_fail(r, "undefined value has no attribute '%.*s'", (int)(n > 60 ? 60 : n), name);
    case AI__JV_DICT: case AI__JV_NS: {
        ai__jv *v = ai__jdict_get(obj.u.d, name, n);
        return v ? *v : u;
    }
    case AI__JV_LOOP: return loop_attr(r, obj.u.p, name, n);
    default: return u;
    }
}

static int64_t norm_index(int64_t i, int64_t len) { return i < 0 ? i + len : i; }

/* Byte offset of code point k in s (k <= count). */
static size_t cp_offset(const char *s, size_t n, size_t k) {
    size_t i = 0;
    while (k && i < n) {
        ai__ju8_next(s, n, &i);
        k--;
    }
    return i;
}

ai__jv ai__jr_getitem(ai__jrun *r, ai__jv obj, ai__jv key) {
    ai__jv u = {.t = AI__JV_UNDEF};
    if (key.t == AI__JV_STR) { u.u.s = key.u.s; u.n = key.n; }
    switch (obj.t) {
    case AI__JV_UNDEF:
        if (obj.u.s) ai__jr_fail(r, "'%.*s' is undefined (subscripted)", (int)(obj.n > 60 ? 60 : obj.n), obj.u.s);
        ai__jr_fail(r, "undefined value is not subscriptable");
    case AI__JV_DICT: {
        if (key.t == AI__JV_STR) {
            ai__jv *v = ai__jdict_get(obj.u.d, key.u.s, key.n);
            return v ? *v : u;
        }
        for (size_t i = 0; i < obj.u.d->n; i++)
            if (ai__jv_equal(obj.u.d->k[i], key)) return obj.u.d->v[i];
        return u;
    }
    case AI__JV_LIST: {
        if (key.t != AI__JV_INT && key.t != AI__JV_BOOL) return u;
        int64_t len = (int64_t)obj.u.l->n;
        int64_t i = norm_index(key.u.i, len);
        if (i < 0 || i >= len) return u;
        return obj.u.l->v[i];
    }
    case AI__JV_STR: {
        if (key.t != AI__JV_INT && key.t != AI__JV_BOOL) return u;
        int64_t len = (int64_t)ai__ju8_count(obj.u.s, obj.n);
        int64_t i = norm_index(key.u.i, len);
        if (i < 0 || i >= len) return u;
        size_t b = cp_offset(obj.u.s, obj.n, (size_t)i), e = b;
        ai__ju8_next(obj.u.s, obj.n, &e);
        ai__jv c = {.t = AI__JV_STR};
        c.u.s = obj.u.s + b;
        c.n = e - b;
        return c;
    }
    case AI__JV_NS: case AI__JV_LOOP:
        if (key.t == AI__JV_STR) return ai__jr_getattr(r, obj, key.u.s, key.n);
        return u;
    default: return u;
    }
}

/* ---- frames ---------------------------------------------------------------- */

static ai__jframe *frame_new(ai__jrun *r, ai__jframe *parent) {
    ai__jframe *f = ai__jr_alloc(r, sizeof *f);
    memset(f, 0, sizeof *f);
    f->parent = parent;
    return f;
}

static void frame_set(ai__jrun *r, ai__jframe *f, int sym, ai__jv v) {
    for (size_t i = 0; i < f->n; i++)
        if (f->syms[i] == sym) {
            f->vals[i] = v;
            return;
        }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        int *ns = ai__jr_alloc(r, cap * sizeof *ns);
        ai__jv *nv = ai__jr_alloc(r, cap * sizeof *nv);
        if (f->n) {
            memcpy(ns, f->syms, f->n * sizeof *ns);
            memcpy(nv, f->vals, f->n * sizeof *nv);
        }
        f->syms = ns;
        f->vals = nv;
        f->cap = cap;
    }
    f->syms[f->n] = sym;
    f->vals[f->n++] = v;
}

static ai__jv lookup(ai__jrun *r, ai__jframe *f, int sym) {
    for (; f; f = f->parent)
        for (size_t i = f->n; i-- > 0;)
            if (f->syms[i] == sym) return f->vals[i];
    return r->globals[sym];
}

/* ---- evaluation --------------------------------------------------------------- */

static ai__jv eval(ai__jrun *r, ai__jframe *f, const ai__jnode *n);
static void exec(ai__jrun *r, ai__jframe *f, const ai__jnode *n, ai__buf *out);

static void step(ai__jrun *r, const ai__jnode *n) {
    r->line = n->line;
    if (++r->steps > r->max_steps) ai__jr_fail(r, "step limit exceeded (template loops too long)");
}

static int is_num(ai__jv v) {
    return v.t == AI__JV_INT || v.t == AI__JV_BOOL || v.t == AI__JV_FLOAT;
}
static double num(ai__jv v) { return v.t == AI__JV_FLOAT ? v.u.f : (double)v.u.i; }

static const char *op_name(int op) {
    static const char *const names[] = {"+", "-", "*", "/", "//", "%", "**", "~",
                                        "==", "!=", "<", "<=", ">", ">=", "in", "not in"};
    return names[op];
}

static _Noreturn void bad_operands(ai__jrun *r, int op, ai__jv a, ai__jv b) {
    if (a.t == AI__JV_UNDEF) undefined_error(r, a);
    if (b.t == AI__JV_UNDEF) undefined_error(r, b);
    if (op >= JO_LT && op <= JO_GE)
        ai__jr_fail(r, "'%s' not supported between instances of '%s' and '%s'", op_name(op),
                    ai__jv_typename(a), ai__jv_typename(b));
    ai__jr_fail(r, "unsupported operand type(s) for %s: '%s' and '%s'", op_name(op),
                ai__jv_typename(a), ai__jv_typename(b));
}

static ai__jv repeat(ai__jrun *r, ai__jv seq, int64_t times) {
    if (times < 0) times = 0;
    if (seq.t == AI__JV_STR) {
        size_t total;
        if (ai__mul_size(seq.n, (size_t)times, &total) || total > (size_t)1 << 30)
            ai__jfailf(&r->fail, AI_E_NOMEM, r->line, "string repetition too large");
        char *p = ai__jr_alloc(r, total + 1);
        for (int64_t i = 0; i < times; i++) memcpy(p + (size_t)i * seq.n, seq.u.s, seq.n);
        p[total] = '\0';
        ai__jv v = {.t = AI__JV_STR};
        v.u.s = p;
        v.n = total;
        return v;
    }
    size_t total;
    if (ai__mul_size(seq.u.l->n, (size_t)times, &total) || total > (size_t)1 << 24)
        ai__jfailf(&r->fail, AI_E_NOMEM, r->line, "list repetition too large");
    ai__jv l = ai__jr_list(r, total);
    l.aux = seq.aux; /* a tuple stays a tuple */
    for (int64_t i = 0; i < times; i++)
        for (size_t k = 0; k < seq.u.l->n; k++) l.u.l->v[l.u.l->n++] = seq.u.l->v[k];
    return l;
}

static ai__jv arith(ai__jrun *r, int op, ai__jv a, ai__jv b) {
    if (is_num(a) && is_num(b)) {
        int ints = a.t != AI__JV_FLOAT && b.t != AI__JV_FLOAT;
        int64_t x = a.u.i, y = b.u.i, z;
        double fx = num(a), fy = num(b);
        switch (op) {
        case JO_ADD:
            if (ints) {
                if (__builtin_add_overflow(x, y, &z)) ai__jr_fail(r, "integer overflow");
                return ai__jv_int(z);
            }
            return ai__jv_float(fx + fy);
        case JO_SUB:
            if (ints) {
                if (__builtin_sub_overflow(x, y, &z)) ai__jr_fail(r, "integer overflow");
                return ai__jv_int(z);
            }
            return ai__jv_float(fx - fy);
        case JO_MUL:
            if (ints) {
                if (__builtin_mul_overflow(x, y, &z)) ai__jr_fail(r, "integer overflow");
                return ai__jv_int(z);
            }
            return ai__jv_float(fx * fy);
        case JO_DIV:
            if (fy == 0) ai__jr_fail(r, "division by zero");
            return ai__jv_float(fx / fy);
        case JO_FLOORDIV:
            if (ints) {
                if (y == 0) ai__jr_fail(r, "integer division or modulo by zero");
                if (x == INT64_MIN && y == -1) ai__jr_fail(r, "integer overflow");
                z = x / y;
                if ((x % y != 0) && ((x < 0) != (y < 0))) z--;
                return ai__jv_int(z);
            }
            if (fy == 0) ai__jr_fail(r, "float floor division by zero");
            return ai__jv_float(floor(fx / fy));
        case JO_MOD:
            if (ints) {
                if (y == 0) ai__jr_fail(r, "integer division or modulo by zero");
                if (y == -1) return ai__jv_int(0);
                z = x % y;
                if (z != 0 && ((z < 0) != (y < 0))) z += y;
                return ai__jv_int(z);
            }
            if (fy == 0) ai__jr_fail(r, "float modulo");
            {
                double m = fmod(fx, fy);
                if (m != 0 && ((m < 0) != (fy < 0))) m += fy;
                return ai__jv_float(m);
            }
        case JO_POW:
            if (ints && y >= 0) {
                int64_t acc = 1, base = x;
                int64_t e = y;
                while (e) {
                    if (e & 1)
                        if (__builtin_mul_overflow(acc, base, &acc)) ai__jr_fail(r, "integer overflow");
                    e >>= 1;
                    if (e && __builtin_mul_overflow(base, base, &base)) ai__jr_fail(r, "integer overflow");
                }
                return ai__jv_int(acc);
            }
            if (fx == 0 && fy < 0) ai__jr_fail(r, "0.0 cannot be raised to a negative power");
            return ai__jv_float(pow(fx, fy));
        default: break;
        }
    }
    if (op == JO_ADD && a.t == AI__JV_STR && b.t == AI__JV_STR) {
        size_t total;
        if (ai__add_size(a.n, b.n, &total)) ai__jr_fail(r, "string too long");
        char *p = ai__jr_alloc(r, total + 1);
        if (a.n) memcpy(p, a.u.s, a.n);
        if (b.n) memcpy(p + a.n, b.u.s, b.n);
        p[total] = '\0';
        ai__jv v = {.t = AI__JV_STR};
        v.u.s = p;
        v.n = total;
        return v;
    }
    if (op == JO_ADD && a.t == AI__JV_LIST && b.t == AI__JV_LIST) {
        if (a.aux != b.aux)
            ai__jr_fail(r, "can only concatenate %s (not \"%s\") to %s", a.aux ? "tuple" : "list",
                        b.aux ? "tuple" : "list", a.aux ? "tuple" : "list");
        ai__jv l = ai__jr_list(r, a.u.l->n + b.u.l->n);
        l.aux = a.aux;
        for (size_t i = 0; i < a.u.l->n; i++) l.u.l->v[l.u.l->n++] = a.u.l->v[i];
        for (size_t i = 0; i < b.u.l->n; i++) l.u.l->v[l.u.l->n++] = b.u.l->v[i];
        return l;
    }
    if (op == JO_MUL) {
        if ((a.t == AI__JV_STR || a.t == AI__JV_LIST) && (b.t == AI__JV_INT || b.t == AI__JV_BOOL))
            return repeat(r, a, b.u.i);
        if ((b.t == AI__JV_STR || b.t == AI__JV_LIST) && (a.t == AI__JV_INT || a.t == AI__JV_BOOL))
            return repeat(r, b, a.u.i);
    }
    if (op == JO_MOD && a.t == AI__JV_STR)
        ai__jfailf(&r->fail, AI_E_UNSUPPORTED, r->line, "printf-style string formatting is not supported");
    bad_operands(r, op, a, b);
}

static int contains(ai__jrun *r, ai__jv item, ai__jv box) {
    switch (box.t) {
    case AI__JV_UNDEF: return 0;
    case AI__JV_STR:
        if (item.t != AI__JV_STR)
            ai__jr_fail(r, "'in <string>' requires string as left operand, not %s", ai__jv_typename(item));
        if (item.n == 0) return 1;
        if (item.n > box.n) return 0;
        return memmem(box.u.s, box.n, item.u.s, item.n) != NULL;
    case AI__JV_LIST:
        for (size_t i = 0; i < box.u.l->n; i++)
            if (ai__jv_equal(box.u.l->v[i], item)) return 1;
        return 0;
    case AI__JV_DICT:
        if (item.t == AI__JV_LIST || item.t == AI__JV_DICT || item.t == AI__JV_NS)
            ai__jr_fail(r, "unhashable type: '%s'", ai__jv_typename(item));
        for (size_t i = 0; i < box.u.d->n; i++)
            if (ai__jv_equal(box.u.d->k[i], item)) return 1;
        return 0;
    default:
        ai__jr_fail(r, "argument of type '%s' is not iterable", ai__jv_typename(box));
    }
}

static ai__jv binop(ai__jrun *r, int op, ai__jv a, ai__jv b) {
    switch (op) {
    case JO_EQ: return ai__jv_bool(ai__jv_equal(a, b));
    case JO_NE: return ai__jv_bool(!ai__jv_equal(a, b));
    case JO_LT: case JO_LE: case JO_GT: case JO_GE: {
        int ok;
        int c = ai__jv_cmp(a, b, &ok);
        if (!ok) bad_operands(r, op, a, b);
        if (c == 2) return ai__jv_bool(0);
        return ai__jv_bool(op == JO_LT ? c < 0 : op == JO_LE ? c <= 0 : op == JO_GT ? c > 0 : c >= 0);
    }
    case JO_IN: return ai__jv_bool(contains(r, a, b));
    case JO_NOTIN: return ai__jv_bool(!contains(r, a, b));
    case JO_CONCAT: {
        ai__buf *b2 = ai__jr_tmp(r);
        ai__jv_write_str(b2, a, ai__jr_limit(r));
        ai__jv_write_str(b2, b, ai__jr_limit(r));
        return ai__jr_tmp_str(r, b2);
    }
    default: return arith(r, op, a, b);
    }
}

static int64_t slice_bound(ai__jrun *r, const ai__jnode *n, ai__jframe *f, int *given) {
    *given = 0;
    if (!n) return 0;
    ai__jv v = eval(r, f, n);
    if (v.t == AI__JV_NONE) return 0;
    if (v.t != AI__JV_INT && v.t != AI__JV_BOOL)
        ai__jr_fail(r, "slice indices must be integers or None, not %s", ai__jv_typename(v));
    *given = 1;
    return v.u.i;
}

static ai__jv slice(ai__jrun *r, ai__jframe *f, const ai__jnode *n) {
    ai__jv obj = eval(r, f, n->a);
    int hs, he, hst;
    int64_t start = slice_bound(r, n->b, f, &hs);
    int64_t stop = slice_bound(r, n->c, f, &he);
    int64_t stp = slice_bound(r, n->d, f, &hst);
    if (!hst) stp = 1;
    if (stp == 0) ai__jr_fail(r, "slice step cannot be zero");
    if (obj.t == AI__JV_UNDEF) undefined_error(r, obj);
    /* Jinja compiles a slice to a plain Python subscript: no fallback to
     * undefined as for a[b]. */
    if (obj.t != AI__JV_LIST && obj.t != AI__JV_STR)
        ai__jr_fail(r, "'%s' object is not subscriptable", ai__jv_typename(obj));
    /* Work on a list of items (code points for strings). */
    ai__jlist *src = ai__jr_iter(r, obj);
    int64_t len = (int64_t)src->n;
    /* Python's slice.indices() */
    if (hs) {
        if (start < 0) { start += len; if (start < 0) start = stp < 0 ? -1 : 0; }
        else if (start >= len) start = stp < 0 ? len - 1 : len;
    } else start = stp < 0 ? len - 1 : 0;
    if (he) {
        if (stop < 0) { stop += len; if (stop < 0) stop = stp < 0 ? -1 : 0; }
        else if (stop >= len) stop = stp < 0 ? len - 1 : len;
    } else stop = stp < 0 ? -1 : len;
    ai__jv out = ai__jr_list(r, 0);
    if (obj.t == AI__JV_STR && stp == 1) {
        if (stop <= start) return ai__jr_str(r, "", 0);
        size_t b = cp_offset(obj.u.s, obj.n, (size_t)start);
        size_t e = cp_offset(obj.u.s, obj.n, (size_t)stop);
        ai__jv s = {.t = AI__JV_STR};
        s.u.s = obj.u.s + b;
        s.n = e - b;
        return s;
    }
    for (int64_t i = start; stp > 0 ? i < stop : i > stop; i += stp) ai__jr_push(r, out, src->v[i]);
    if (obj.t == AI__JV_LIST) return out;
    ai__buf *b = ai__jr_tmp(r);
    for (size_t i = 0; i < out.u.l->n; i++) ai__buf_put(b, out.u.l->v[i].u.s, out.u.l->v[i].n);
    return ai__jr_tmp_str(r, b);
}

/* Evaluates call arguments into arena arrays. */
typedef struct args {
    ai__jv *pos;
    size_t npos;
    ai__jv *kwv;
    size_t nkw;
    const char **kwn;
    const size_t *kwl;
} args;

static args eval_args(ai__jrun *r, ai__jframe *f, const ai__jnode *n) {
    args a = {0};
    a.npos = n->n;
    a.nkw = n->n2;
    a.kwn = n->names;
    a.kwl = n->name_lens;
    if (a.npos) {
        a.pos = ai__jr_alloc(r, a.npos * sizeof *a.pos);
        for (size_t i = 0; i < a.npos; i++) a.pos[i] = eval(r, f, n->list[i]);
    }
    if (a.nkw) {
        a.kwv = ai__jr_alloc(r, a.nkw * sizeof *a.kwv);
        for (size_t i = 0; i < a.nkw; i++) a.kwv[i] = eval(r, f, n->list2[i]);
    }
    return a;
}

/* A macro value: its definition and the scope it was defined in, which its
 * body reads at call time (Jinja macros are closures). */
typedef struct jmacro {
    const ai__jnode *node;
    ai__jframe *scope;
} jmacro;

ai__jv ai__jr_call_macro(ai__jrun *rr, ai__jv m, ai__jv *pos, size_t npos, const char **kwn,
                         const size_t *kwl, ai__jv *kwv, size_t nkw) {
    const jmacro *jm = m.u.p;
    const ai__jnode *mn = jm->node;
    const ai__jtpl *t = rr->tpl;
    if (npos > mn->nn)
        ai__jr_fail(rr, "macro '%s' takes no more than %zu argument(s)", t->syms[mn->sym], mn->nn);
    ai__jframe *f = frame_new(rr, jm->scope);
    for (size_t i = 0; i < mn->nn; i++) {
        ai__jv v = {.t = AI__JV_UNDEF};
        v.u.s = t->syms[mn->syms[i]];
        v.n = t->sym_lens[mn->syms[i]];
        int have = 0;
        if (i < npos) { v = pos[i]; have = 1; }
        for (size_t k = 0; k < nkw; k++)
            if (kwl[k] == t->sym_lens[mn->syms[i]] && !memcmp(kwn[k], t->syms[mn->syms[i]], kwl[k])) {
                if (have) ai__jr_fail(rr, "macro '%s' got multiple values for argument '%s'",
                                      t->syms[mn->sym], t->syms[mn->syms[i]]);
                v = kwv[k];
                have = 1;
            }
        if (!have && mn->list2[i]) v = eval(rr, f, mn->list2[i]);
        frame_set(rr, f, mn->syms[i], v);
    }
    for (size_t k = 0; k < nkw; k++) {
        int found = 0;
        for (size_t i = 0; i < mn->nn; i++)
            if (kwl[k] == t->sym_lens[mn->syms[i]] && !memcmp(kwn[k], t->syms[mn->syms[i]], kwl[k])) found = 1;
        if (!found)
            ai__jr_fail(rr, "macro '%s' takes no keyword argument '%.*s'", t->syms[mn->sym],
                        (int)(kwl[k] > 60 ? 60 : kwl[k]), kwn[k]);
    }
    ai__buf *b = ai__jr_tmp(rr);
    int saved_brk = rr->brk;
    exec(rr, f, mn->c, b);
    rr->brk = saved_brk;
    return ai__jr_tmp_str(rr, b);
}

static ai__jv call(ai__jrun *r, ai__jframe *f, const ai__jnode *n) {
    const ai__jnode *callee = n->a;
    if (callee->kind == JN_ATTR) {
        ai__jv obj = eval(r, f, callee->a);
        r->line = n->line;
        if (obj.t == AI__JV_UNDEF) ai__jr_getattr(r, obj, callee->str, callee->len); /* fails */
        if (obj.t == AI__JV_NS || obj.t == AI__JV_LOOP) {
            ai__jv fn = ai__jr_getattr(r, obj, callee->str, callee->len);
            if (fn.t == AI__JV_MACRO) {
                args a = eval_args(r, f, n);
                return ai__jr_call_macro(r, fn, a.pos, a.npos, a.kwn, a.kwl, a.kwv, a.nkw);
            }
            ai__jr_fail(r, "'%.*s' is not callable", (int)(callee->len > 60 ? 60 : callee->len), callee->str);
        }
        args a = eval_args(r, f, n);
        r->line = n->line;
        return ai__jb_method(r, obj, callee->str, callee->len, a.pos, a.npos, a.kwn, a.kwl, a.kwv, a.nkw);
    }
    ai__jv fn = eval(r, f, callee);
    args a = eval_args(r, f, n);
    r->line = n->line;
    if (fn.t == AI__JV_MACRO) return ai__jr_call_macro(r, fn, a.pos, a.npos, a.kwn, a.kwl, a.kwv, a.nkw);
    if (fn.t == AI__JV_FUNC) return ai__jb_call_global(r, fn.aux, a.pos, a.npos, a.kwn, a.kwl, a.kwv, a.nkw);
    if (fn.t == AI__JV_UNDEF) undefined_error(r, fn);
    ai__jr_fail(r, "'%s' object is not callable", ai__jv_typename(fn));
}

static ai__jv apply_filter(ai__jrun *r, ai__jframe *f, const ai__jnode *n, ai__jv placeholder) {
    ai__jv v = n->a ? eval(r, f, n->a) : placeholder;
    args a = eval_args(r, f, n);
    r->line = n->line;
    return ai__jb_filter(r, n->str, n->len, v, a.pos, a.npos, a.kwn, a.kwl, a.kwv, a.nkw);
}

static ai__jv eval(ai__jrun *r, ai__jframe *f, const ai__jnode *n) {
    step(r, n);
    if (++r->depth > EVAL_DEPTH) ai__jr_fail(r, "expression nested too deeply");
    ai__jv v;
    switch (n->kind) {
    case JN_LIT: v = n->val; break;
    case JN_NAME: v = lookup(r, f, n->sym); break;
    case JN_ATTR: {
        ai__jv obj = eval(r, f, n->a);
        r->line = n->line;
        v = ai__jr_getattr(r, obj, n->str, n->len);
        break;
    }
    case JN_ITEM: {
        ai__jv obj = eval(r, f, n->a);
        ai__jv key = eval(r, f, n->b);
        r->line = n->line;
        v = ai__jr_getitem(r, obj, key);
        break;
    }
    case JN_SLICE: v = slice(r, f, n); break;
    case JN_CALL: v = call(r, f, n); break;
    case JN_FILTER: v = apply_filter(r, f, n, (ai__jv){.t = AI__JV_UNDEF}); break;
    case JN_TEST: {
        ai__jv x = eval(r, f, n->a);
        args a = eval_args(r, f, n);
        r->line = n->line;
        int res = ai__jb_test(r, n->str, n->len, x, a.pos, a.npos);
        v = ai__jv_bool(n->op ? !res : res);
        break;
    }
    case JN_NEG: case JN_POS: {
        ai__jv x = eval(r, f, n->a);
        r->line = n->line;
        if (x.t == AI__JV_UNDEF) undefined_error(r, x);
        if (!is_num(x)) ai__jr_fail(r, "bad operand type for unary %c: '%s'", n->kind == JN_NEG ? '-' : '+',
                                    ai__jv_typename(x));
        if (n->kind == JN_POS) v = x.t == AI__JV_BOOL ? ai__jv_int(x.u.i) : x;
        else if (x.t == AI__JV_FLOAT) v = ai__jv_float(-x.u.f);
        else {
            if (x.u.i == INT64_MIN) ai__jr_fail(r, "integer overflow");
            v = ai__jv_int(-x.u.i);
        }
        break;
    }
    case JN_NOT: v = ai__jv_bool(!ai__jv_truthy(eval(r, f, n->a))); break;
    case JN_AND: {
        ai__jv x = eval(r, f, n->a);
        v = ai__jv_truthy(x) ? eval(r, f, n->b) : x;
        break;
    }
    case JN_OR: {
        ai__jv x = eval(r, f, n->a);
        v = ai__jv_truthy(x) ? x : eval(r, f, n->b);
        break;
    }
    case JN_COND:
        if (ai__jv_truthy(eval(r, f, n->a))) v = eval(r, f, n->b);
        else if (n->c) v = eval(r, f, n->c);
        else v = (ai__jv){.t = AI__JV_UNDEF};
        break;
    case JN_LIST: case JN_TUPLE: {
        v = ai__jr_list(r, n->n);
        v.aux = n->kind == JN_TUPLE; /* only repr() tells them apart */
        for (size_t i = 0; i < n->n; i++) v.u.l->v[v.u.l->n++] = eval(r, f, n->list[i]);
        break;
    }
    case JN_DICT: {
        v = ai__jr_dict(r, n->n);
        for (size_t i = 0; i < n->n; i++) {
            ai__jv k = eval(r, f, n->list[i]);
            ai__jv x = eval(r, f, n->list2[i]);
            r->line = n->line;
            if (k.t == AI__JV_LIST || k.t == AI__JV_DICT || k.t == AI__JV_UNDEF)
                ai__jr_fail(r, "unhashable dict key of type '%s'", ai__jv_typename(k));
            ai__jr_dict_set(r, v.u.d, k, x);
        }
        break;
    }
    case JN_BIN: {
        ai__jv a = eval(r, f, n->a);
        ai__jv b = eval(r, f, n->b);
        r->line = n->line;
        v = binop(r, n->op, a, b);
        break;
    }
    default: ai__jfailf(&r->fail, AI_E_INTERNAL, n->line, "bad expression node %d", n->kind);
    }
    r->depth--;
    return v;
}

/* ---- statements -------------------------------------------------------------- */

static void assign_targets(ai__jrun *r, ai__jframe *f, const ai__jnode *n, ai__jv v) {
    if (n->nn == 1) {
        frame_set(r, f, n->syms[0], v);
        return;
    }
    ai__jlist *items = ai__jr_iter(r, v);
    if (items->n != n->nn)
        ai__jr_fail(r, "cannot unpack %zu value(s) into %zu target(s)", items->n, n->nn);
    for (size_t i = 0; i < n->nn; i++) frame_set(r, f, n->syms[i], items->v[i]);
}

static void exec_for(ai__jrun *r, ai__jframe *f, const ai__jnode *n, ai__buf *out) {
    run *rn = (run *)r;
    ai__jv it = eval(r, f, n->a);
    r->line = n->line;
    if (it.t == AI__JV_NONE || !(it.t == AI__JV_UNDEF || it.t == AI__JV_LIST || it.t == AI__JV_DICT ||
                                 it.t == AI__JV_STR))
        ai__jr_fail(r, "'%s' object is not iterable", ai__jv_typename(it));
    ai__jlist *items = ai__jr_iter(r, it);
    ai__jframe *iter = frame_new(r, f);
    if (n->b) {
        /* Filter first, so that loop.length/last count only kept items. */
        ai__jv kept = ai__jr_list(r, 0);
        for (size_t i = 0; i < items->n; i++) {
            iter->n = 0;
            assign_targets(r, iter, n, items->v[i]);
            if (ai__jv_truthy(eval(r, iter, n->b))) ai__jr_push(r, kept, items->v[i]);
        }
        items = kept.u.l;
    }
    /* In the arena: `loop` can escape (set ns.x = loop).  After the loop it
     * keeps describing the last iteration. */
    ai__jloop *lp = ai__jr_alloc(r, sizeof *lp);
    lp->items = items->v;
    lp->len = (int64_t)items->n;
    lp->idx = 0;
    ai__jv loopv = {.t = AI__JV_LOOP};
    loopv.u.p = lp;
    for (size_t i = 0; i < items->n; i++) {
        iter->n = 0;
        lp->idx = (int64_t)i;
        if (rn->loop_sym >= 0) frame_set(r, iter, rn->loop_sym, loopv);
        r->line = n->line;
        assign_targets(r, iter, n, items->v[i]);
        exec(r, iter, n->c, out);
        if (r->brk == 1) { r->brk = 0; break; }
        r->brk = 0;
    }
    if (items->n == 0 && n->d) exec(r, f, n->d, out);
}

static void exec(ai__jrun *r, ai__jframe *f, const ai__jnode *n, ai__buf *out) {
    step(r, n);
    if (++r->depth > EVAL_DEPTH) ai__jr_fail(r, "template nested too deeply");
    switch (n->kind) {
    case JN_BODY:
        for (size_t i = 0; i < n->n && !r->brk; i++) exec(r, f, n->list[i], out);
        break;
    case JN_TEXT:
        ai__buf_put(out, n->val.u.s, n->val.n);
        ai__jr_check(r, out);
        break;
    case JN_OUT:
        ai__jv_write_str(out, eval(r, f, n->a), ai__jr_limit(r));
        ai__jr_check(r, out);
        break;
    case JN_IF:
        if (ai__jv_truthy(eval(r, f, n->a))) exec(r, f, n->c, out);
        else if (n->d) exec(r, f, n->d, out);
        break;
    case JN_FOR: exec_for(r, f, n, out); break;
    case JN_SET: {
        ai__jv v = eval(r, f, n->a);
        r->line = n->line;
        assign_targets(r, f, n, v);
        break;
    }
    case JN_SETATTR: {
        ai__jv ns = lookup(r, f, n->sym);
        ai__jv v = eval(r, f, n->a);
        r->line = n->line;
        if (ns.t != AI__JV_NS) ai__jr_fail(r, "cannot assign attribute on non-namespace object");
        ai__jv key = ai__jr_str(r, n->str, n->len);
        ai__jr_dict_set(r, ns.u.d, key, v);
        break;
    }
    case JN_SETBLOCK: {
        /* The body has its own scope: what it sets stays inside. */
        ai__buf *b = ai__jr_tmp(r);
        exec(r, frame_new(r, f), n->c, b);
        frame_set(r, f, n->sym, ai__jr_tmp_str(r, b));
        break;
    }
    case JN_MACRO: {
        jmacro *jm = ai__jr_alloc(r, sizeof *jm);
        jm->node = n;
        jm->scope = f;
        ai__jv m = {.t = AI__JV_MACRO};
        m.u.p = jm;
        frame_set(r, f, n->sym, m);
        break;
    }
    case JN_FILTERBLOCK: {
        /* Own scope as for a block set; a NULL chain is a plain scoped
         * block ({% generation %}). */
        ai__buf *b = ai__jr_tmp(r);
        exec(r, frame_new(r, f), n->c, b);
        ai__jv body = ai__jr_tmp_str(r, b);
        /* n->a is a filter chain whose innermost operand is the body */
        const ai__jnode *chain[64];
        size_t k = 0;
        for (const ai__jnode *c = n->a; c && k < 64; c = c->a) chain[k++] = c;
        ai__jv v = body;
        while (k-- > 0) {
            const ai__jnode *c = chain[k];
            args a = eval_args(r, f, c);
            r->line = c->line;
            v = ai__jb_filter(r, c->str, c->len, v, a.pos, a.npos, a.kwn, a.kwl, a.kwv, a.nkw);
        }
        ai__jv_write_str(out, v, ai__jr_limit(r));
        ai__jr_check(r, out);
        break;
    }
    case JN_BREAK: r->brk = 1; break;
    case JN_CONTINUE: r->brk = 2; break;
    default: ai__jfailf(&r->fail, AI_E_INTERNAL, n->line, "bad statement node %d", n->kind);
    }
    r->depth--;
}

/* ---- entry ----------------------------------------------------------------- */

ai_status ai__jtpl_render(const ai__jtpl *t, ai__jctx *c, ai__buf *out, char *err, size_t err_cap) {
    if (!t || !c || !out) {
        ai__set_err(err, err_cap, "invalid argument");
        return AI_E_INVAL;
    }
    if (c->oom) {
        ai__set_err(err, err_cap, "out of memory while building the variables");
        return AI_E_NOMEM;
    }
    run *rn = calloc(1, sizeof *rn);
    if (!rn) {
        ai__set_err(err, err_cap, "out of memory");
        return AI_E_NOMEM;
    }
    ai__jrun *r = &rn->r;
    r->ctx = c;
    r->tpl = t;
    r->arena = &c->arena;
    r->max_steps = c->max_steps ? c->max_steps : AI__JINJA_MAX_STEPS;
    rn->loop_sym = -1;
    ai__buf *volatile result = NULL;
    if (setjmp(r->fail.jmp)) {
        for (size_t i = 0; i < rn->n_tmp; i++) ai__buf_free(rn->tmp[i]);
        ai_status st = r->fail.st;
        ai__set_err(err, err_cap, "%s", r->fail.msg);
        free(rn);
        return st;
    }
    /* Resolve every template name once: render variable, global function,
     * or undefined (remembering the name for error messages). */
    r->globals = ai__jr_alloc(r, (t->n_syms ? t->n_syms : 1) * sizeof *r->globals);
    for (size_t i = 0; i < t->n_syms; i++) {
        ai__jv v = {.t = AI__JV_UNDEF};
        v.u.s = t->syms[i];
        v.n = t->sym_lens[i];
        int fn = ai__jb_global(t->syms[i], t->sym_lens[i]);
        if (fn) {
            v.t = AI__JV_FUNC;
            v.aux = fn;
        }
        for (size_t k = 0; k < c->n_vars; k++)
            if (!strcmp(c->names[k], t->syms[i])) v = c->vals[k];
        r->globals[i] = v;
        if (!strcmp(t->syms[i], "loop")) rn->loop_sym = (int)i;
    }
    r->root = frame_new(r, NULL);
    result = ai__jr_tmp(r);
    exec(r, r->root, t->root, result);
    if (result->oom) ai__jfailf(&r->fail, AI_E_NOMEM, 0, "out of memory");
    ai__buf_put(out, result->p ? result->p : "", result->len);
    ai__buf_free(result);
    free(rn);
    if (out->oom) {
        ai__set_err(err, err_cap, "out of memory");
        return AI_E_NOMEM;
    }
    return AI_OK;
}
