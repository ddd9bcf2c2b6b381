/*
 * jinja.h - a Jinja2-subset template interpreter for chat templates (private).
 *
 * It copies the behaviour of Python Jinja2 3.1 set up the way Hugging Face
 * transformers renders `tokenizer.chat_template`: trim_blocks and
 * lstrip_blocks on, keep_trailing_newline off, no autoescape, an immutable
 * sandbox (no list.append), the loopcontrols extension (break/continue) and
 * the `{% generation %}` tag.  ../shared/fixtures/templates/JINJA_FEATURES.md
 * lists what is supported and why.
 *
 * Supported: {{ }}, {% %} and {# #} with -/+ whitespace control; for (with
 * unpacking, `if` filter, else, loop.index/index0/revindex/first/last/length/
 * previtem/nextitem), if/elif/else, set (names, tuples, ns.attr, block
 * capture), macro (defaults, keyword arguments, recursion), filter blocks,
 * break/continue, generation; all operators (+, -, *, /, //, %, **, ~, comparisons
 * chained, in / not in, and/or/not, x if c else y), literals (strings with
 * Python escapes, ints, floats, lists, tuples, dicts); filters tojson
 * (indent, ensure_ascii), length/count, trim, string, default/d, join, items,
 * dictsort, sort, list, select/reject/selectattr/rejectattr, map, safe,
 * indent, lower/upper/capitalize/title, replace, first/last, reverse,
 * unique, min/max, sum, abs, int, float, e/escape; tests defined/undefined/
 * none/string/number/integer/float/boolean/true/false/mapping/iterable/
 * sequence/callable/lower/upper/odd/even/divisibleby/eq(ualto)/ne/lt/le/gt/
 * ge/in/sameas; str methods strip/lstrip/rstrip/split/startswith/endswith/
 * replace/upper/lower/capitalize/title/find/count/join; dict methods get/
 * items/keys/values; globals namespace, range, dict, raise_exception,
 * strftime_now.
 *
 * Not supported (an error says so; none of the 68 templates in llama.cpp's
 * collection needs them): {% raw %}, {% call %}/caller(), {% with %},
 * {% include/import/extends/block %}, {% do %}, recursive loops,
 * loop.cycle(), `%` string formatting and str.format(), list mutation (the
 * sandbox forbids it anyway), *args and **kwargs, a filtered block set (set x | f),
 * tojson(separators=, sort_keys=), and the filters batch, slice, groupby,
 * round, wordcount, truncate, center, wordwrap, urlencode, xmlattr, pprint,
 * filesizeformat, format, attr, random.  Case mapping covers Latin, Greek and
 * Cyrillic; other scripts are left as they are.  Printing a list or dict
 * gives Python's repr(), including tuples.  select/reject/selectattr/
 * rejectattr/map/unique/items return lists at once, where Jinja returns lazy
 * generators: on a non-iterable they fail immediately (Jinja: when the result
 * is used), an empty result is false (a generator is always true), and
 * `| length` works without `| list` (Jinja raises).
 *
 * Two objects:
 *   ai__jtpl  a parsed template: immutable, may be rendered any number of
 *             times (one thread at a time per render context).
 *   ai__jctx  one render: its variables, its arena (every value made while
 *             rendering lives there) and its limits.  Values handed to
 *             ai__jctx_set() must have been made with the same context.
 *
 * Errors carry the template line: "line N: reason".  Nothing here aborts:
 * a template that loops too long hits the step limit, one that builds huge
 * strings hits the memory limit, deep nesting hits the depth limit.
 */
#ifndef AI_JINJA_H
#define AI_JINJA_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ai__jtpl ai__jtpl;
typedef struct ai__jctx ai__jctx;

/* A template value.  Passed by value; what it points to lives in the arena
 * of the context (or template) that made it. */
typedef enum ai__jtype {
    AI__JV_UNDEF = 0, /* an unknown name or missing key: prints as "" */
    AI__JV_NONE,
    AI__JV_BOOL,
    AI__JV_INT,
    AI__JV_FLOAT,
    AI__JV_STR,   /* UTF-8 (valid), may hold NUL bytes: (s, n)      */
    AI__JV_LIST,  /* also tuples                                      */
    AI__JV_DICT,  /* insertion-ordered                                */
    AI__JV_NS,    /* namespace(): a dict whose attributes can be set  */
    AI__JV_MACRO,
    AI__JV_LOOP,  /* the `loop` variable of a for                     */
    AI__JV_FUNC   /* a global function (namespace, range, ...)        */
} ai__jtype;

struct ai__jlist;
struct ai__jdict;

typedef struct ai__jv {
    int32_t t;    /* ai__jtype */
    int32_t aux;  /* FUNC: which; LIST: 1 for a tuple (repr only)     */
    union {
        int64_t i;                /* INT, BOOL                          */
        double f;                 /* FLOAT                              */
        const char *s;            /* STR; UNDEF: the name (may be NULL) */
        struct ai__jlist *l;      /* LIST                               */
        struct ai__jdict *d;      /* DICT, NS                           */
        const void *p;            /* MACRO (node), LOOP (state)         */
    } u;
    size_t n;     /* STR, UNDEF name: byte length                        */
} ai__jv;

typedef struct ai__jlist {
    size_t n, cap;
    ai__jv *v;
} ai__jlist;

typedef struct ai__jdict {
    size_t n, cap;
    ai__jv *k; /* keys (strings, usually) */
    ai__jv *v;
} ai__jdict;

/* Limits (defaults; a context may lower them, the fuzz target does). */
#define AI__JINJA_MAX_STEPS 20000000u   /* evaluated nodes per render     */
#define AI__JINJA_MAX_MEM ((size_t)256 << 20) /* arena bytes per render   */
#define AI__JINJA_MAX_DEPTH 200         /* parser nesting, macro calls    */

/* Parses template source (any bytes; invalid UTF-8 gives AI_E_FORMAT).
 * Errors: AI_E_FORMAT with "line N: reason" in err, AI_E_NOMEM.
 * Free with ai__jtpl_free(). */
ai_status ai__jtpl_parse(const char *src, size_t len, ai__jtpl **out,
                         char *err, size_t err_cap);
void ai__jtpl_free(ai__jtpl *t);

/* A render context.  NULL on out-of-memory. */
ai__jctx *ai__jctx_new(void);
void ai__jctx_free(ai__jctx *c);
/* Limits: 0 keeps the default. */
void ai__jctx_limits(ai__jctx *c, uint64_t max_steps, size_t max_mem);
/* Pins the clock strftime_now() uses (seconds since 1970, UTC); without it
 * the current local time is used. */
void ai__jctx_set_time(ai__jctx *c, int64_t unix_seconds);
/* Defines a render variable (copies the name).  0 ok, -1 out of memory. */
int ai__jctx_set(ai__jctx *c, const char *name, ai__jv v);

/* Value builders.  On out-of-memory they return an UNDEF value and mark the
 * context, so that the render fails with AI_E_NOMEM; callers need not check
 * each call. */
ai__jv ai__jv_none(void);
ai__jv ai__jv_bool(int b);
ai__jv ai__jv_int(int64_t i);
ai__jv ai__jv_float(double f);
ai__jv ai__jv_str(ai__jctx *c, const char *s, size_t n); /* copies */
ai__jv ai__jv_list(ai__jctx *c);
ai__jv ai__jv_dict(ai__jctx *c);
void ai__jv_push(ai__jctx *c, ai__jv list, ai__jv item);
void ai__jv_put(ai__jctx *c, ai__jv dict, const char *key, size_t klen,
                ai__jv val);

/* Renders t with the variables of c, appending the text to out.
 * Errors: AI_E_FORMAT ("line N: reason"; a raise_exception() message is
 * given as "line N: raise_exception: <message>"), AI_E_NOMEM. */
ai_status ai__jtpl_render(const ai__jtpl *t, ai__jctx *c, ai__buf *out,
                          char *err, size_t err_cap);

/* Python's json.dumps(v, ensure_ascii=ascii, indent=indent) as Hugging Face
 * uses it (indent < 0: one line with ", " and ": ").  0 ok, -1 when v holds
 * something JSON cannot express (undefined, a macro), -2 when the text grew
 * past max bytes (writing stops soon after). */
int ai__jv_tojson(ai__buf *b, ai__jv v, int indent, int ascii, size_t max);

#endif /* AI_JINJA_H */
