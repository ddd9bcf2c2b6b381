/*
 * jinja_int.h - what the files of the template interpreter share (private
 * to lib/jinja_*.c).
 *
 *   jinja_value.c     arena, values, UTF-8 and Python string rules, str(),
 *                     repr(), tojson
 *   jinja_parse.c     lexer (whitespace control) and parser -> node tree
 *   jinja_eval.c      statements and expressions
 *   jinja_builtins.c  filters, tests, methods and global functions
 *
 * Errors unwind with longjmp to the entry point (parse or render); every
 * allocation made meanwhile is in an arena, so nothing leaks.
 */
#ifndef AI_JINJA_INT_H
#define AI_JINJA_INT_H

#include "jinja.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

/* ---- arena ------------------------------------------------------------- */

typedef struct ai__jblk ai__jblk;
typedef struct ai__jarena {
    ai__jblk *head;
    size_t total; /* bytes obtained from malloc so far */
    size_t limit;
} ai__jarena;

void *ai__ja_alloc(ai__jarena *a, size_t n); /* NULL: out of memory/limit */
void ai__ja_free(ai__jarena *a);

/* ---- failure: where errors jump to -------------------------------------- */

typedef struct ai__jfail {
    jmp_buf jmp;
    ai_status st;
    char msg[512];
} ai__jfail;

/* Formats "line N: ..." into f->msg and jumps.  line <= 0 omits the prefix. */
_Noreturn void ai__jfailf(ai__jfail *f, ai_status st, int line, const char *fmt, ...)
    AI__PRINTF(4, 5);

/* ---- the node tree ------------------------------------------------------ */

typedef enum ai__jnk {
    /* expressions */
    JN_LIT, JN_NAME, JN_ATTR, JN_ITEM, JN_SLICE, JN_CALL, JN_FILTER, JN_TEST,
    JN_NEG, JN_POS, JN_NOT, JN_BIN, JN_AND, JN_OR, JN_COND, JN_LIST, JN_TUPLE,
    JN_DICT,
    /* statements */
    JN_TEXT, JN_OUT, JN_IF, JN_FOR, JN_SET, JN_SETATTR, JN_SETBLOCK, JN_MACRO,
    JN_FILTERBLOCK, JN_BREAK, JN_CONTINUE, JN_BODY
} ai__jnk;

/* Binary operators (JN_BIN.op). */
enum { JO_ADD, JO_SUB, JO_MUL, JO_DIV, JO_FLOORDIV, JO_MOD, JO_POW, JO_CONCAT,
       JO_EQ, JO_NE, JO_LT, JO_LE, JO_GT, JO_GE, JO_IN, JO_NOTIN };

typedef struct ai__jnode ai__jnode;
struct ai__jnode {
    int kind;           /* ai__jnk */
    int op;             /* JN_BIN: JO_*; JN_TEST: 1 = negated (is not) */
    int line;
    int sym;            /* JN_NAME, JN_SET(single), JN_SETATTR, JN_MACRO,
                           JN_SETBLOCK: symbol id; -1 none */
    ai__jnode *a, *b, *c, *d; /* children (see the parser for each kind) */
    ai__jnode **list;   /* call/filter args, list items, body statements  */
    size_t n;
    ai__jnode **list2;  /* keyword-arg values, dict values, else body     */
    size_t n2;
    const char **names; /* keyword-arg names, for/set targets, params     */
    size_t *name_lens;
    int *syms;          /* for/set targets, macro params: symbol ids      */
    size_t nn;
    ai__jv val;         /* JN_LIT value; JN_TEXT text                     */
    const char *str;    /* JN_ATTR attribute, JN_FILTER/JN_TEST name      */
    size_t len;
};

struct ai__jtpl {
    ai__jarena arena;
    ai__jnode *root;    /* a JN_BODY */
    size_t n_syms;
    const char **syms;  /* names by id */
    size_t *sym_lens;
};

/* ---- values (jinja_value.c) -------------------------------------------- */

int ai__jv_truthy(ai__jv v);
int ai__jv_equal(ai__jv a, ai__jv b);
/* <0, 0, >0; -2 when the two cannot be ordered (error for the caller). */
int ai__jv_cmp(ai__jv a, ai__jv b, int *ok);
const char *ai__jv_typename(ai__jv v);
/* Python str(v) / repr(v) appended to b.  Containers stop early once b holds
 * more than max bytes (a list can repeat one huge string many times); the
 * caller checks the length. */
void ai__jv_write_str(ai__buf *b, ai__jv v, size_t max);
void ai__jv_write_repr(ai__buf *b, ai__jv v, size_t max);
/* Python float repr (shortest round-trip). */
void ai__jfloat_repr(ai__buf *b, double d);

/* UTF-8 */
size_t ai__ju8_count(const char *s, size_t n); /* code points */
/* Decodes the code point at s[*i] (valid UTF-8 assumed; a stray byte counts
 * as one code point) and advances *i. */
uint32_t ai__ju8_next(const char *s, size_t n, size_t *i);
/* Python str.isspace() for one code point. */
int ai__jisspace(uint32_t cp);

/* ---- evaluation context shared with builtins ------------------------------ */

typedef struct ai__jframe ai__jframe;

typedef struct ai__jloop {
    const ai__jv *items;
    int64_t len, idx;
} ai__jloop;

typedef struct ai__jrun {
    ai__jfail fail;
    ai__jctx *ctx;
    const ai__jtpl *tpl;
    ai__jarena *arena;      /* the context's */
    ai__jv *globals;        /* by template symbol id: render variables     */
    ai__jframe *root;
    uint64_t steps, max_steps;
    int depth;
    int brk;                /* 1 break, 2 continue pending                 */
    int line;               /* of the node being evaluated (for builtins)  */
} ai__jrun;

void *ai__jr_alloc(ai__jrun *r, size_t n);      /* fails the render on OOM */
/* Capture buffers: registered with the render, so a failure frees them, and
 * bounded by its memory limit.  ai__jr_tmp_str turns the most recent one into
 * a string value and frees it. */
ai__buf *ai__jr_tmp(ai__jrun *r);
ai__jv ai__jr_tmp_str(ai__jrun *r, ai__buf *b);
/* Fails the render (AI_E_NOMEM) when b has grown past the memory limit. */
void ai__jr_check(ai__jrun *r, const ai__buf *b);
size_t ai__jr_limit(const ai__jrun *r);
ai__jv ai__jr_str(ai__jrun *r, const char *s, size_t n); /* copies */
ai__jv ai__jr_list(ai__jrun *r, size_t cap);
void ai__jr_push(ai__jrun *r, ai__jv list, ai__jv item);
ai__jv ai__jr_dict(ai__jrun *r, size_t cap);
void ai__jr_dict_set(ai__jrun *r, ai__jdict *d, ai__jv key, ai__jv val);
_Noreturn void ai__jr_fail(ai__jrun *r, const char *fmt, ...) AI__PRINTF(2, 3);
/* Dict lookup by string key; NULL if absent. */
ai__jv *ai__jdict_get(const ai__jdict *d, const char *k, size_t n);
/* Python iteration of v into a fresh list (strings: characters, dicts:
 * keys, undefined: empty).  Fails for none, numbers. */
ai__jlist *ai__jr_iter(ai__jrun *r, ai__jv v);
/* Attribute / item lookup with Jinja's rules. */
ai__jv ai__jr_getattr(ai__jrun *r, ai__jv obj, const char *name, size_t n);
ai__jv ai__jr_getitem(ai__jrun *r, ai__jv obj, ai__jv key);
/* Calls a macro value with evaluated arguments. */
ai__jv ai__jr_call_macro(ai__jrun *r, ai__jv m, ai__jv *args, size_t nargs,
                         const char **kwn, const size_t *kwl, ai__jv *kwv,
                         size_t nkw);

/* ---- builtins (jinja_builtins.c) ----------------------------------------- */

/* Global functions (AI__JV_FUNC aux values). */
enum { JF_NAMESPACE = 1, JF_RANGE, JF_RAISE, JF_STRFTIME, JF_DICT };
int ai__jb_global(const char *name, size_t n); /* JF_* or 0 */

ai__jv ai__jb_filter(ai__jrun *r, const char *name, size_t n, ai__jv v,
                     ai__jv *args, size_t nargs, const char **kwn,
                     const size_t *kwl, ai__jv *kwv, size_t nkw);
int ai__jb_test(ai__jrun *r, const char *name, size_t n, ai__jv v,
                ai__jv *args, size_t nargs);
ai__jv ai__jb_method(ai__jrun *r, ai__jv obj, const char *name, size_t n,
                     ai__jv *args, size_t nargs, const char **kwn,
                     const size_t *kwl, ai__jv *kwv, size_t nkw);
ai__jv ai__jb_call_global(ai__jrun *r, int fn, ai__jv *args, size_t nargs,
                          const char **kwn, const size_t *kwl, ai__jv *kwv,
                          size_t nkw);

/* Context internals the evaluator reads. */
struct ai__jctx {
    ai__jarena arena;
    int oom;
    size_t n_vars, cap_vars;
    char **names;
    ai__jv *vals;
    uint64_t max_steps;
    int have_time;
    int64_t time;
};

static inline int ai__jnames_eq(const char *a, size_t an, const char *b) {
    size_t i = 0;
    for (; i < an; i++)
        if (a[i] != b[i] || !b[i]) return 0;
    return b[i] == '\0';
}

#endif /* AI_JINJA_INT_H */
