/*
 * internal.h - helpers shared by the files of lib/.  Private: never included
 * from include/.  Non-static internals use the ai__ prefix.
 */
#ifndef AI_INTERNAL_H
#define AI_INTERNAL_H

#include "agentinfer.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define AI__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define AI__PRINTF(f, a)
#endif

/* ---- error messages (errors.c) ----------------------------------------- */

/* Formats a message into the caller's optional (err, cap) buffer.  err may be
 * NULL or cap 0; the result is always NUL-terminated and truncated to fit. */
void ai__set_err(char *err, size_t cap, const char *fmt, ...) AI__PRINTF(3, 4);

/* Copies text of length len plus a NUL into (buf, cap).  *needed (if not NULL)
 * gets len + 1.  AI_E_RANGE when cap is too small (buf untouched beyond
 * nothing: on RANGE nothing is written). */
ai_status ai__copy_out(const char *s, size_t len, char *buf, size_t cap,
                       size_t *needed);

/* ---- logging (log.c) ---------------------------------------------------- */

void ai__log(int level, const char *fmt, ...) AI__PRINTF(2, 3);

/* ---- memory and strings (mem.c) ------------------------------------------ */

char *ai__strndup(const char *s, size_t n); /* NUL-terminated copy; NULL on OOM */
char *ai__strdup(const char *s);

/* A growable byte buffer.  On allocation failure `oom` is set and further
 * writes are dropped, so callers check once at the end. */
typedef struct ai__buf {
    char *p;     /* NUL-terminated when len > 0 or after ai__buf_cstr */
    size_t len;
    size_t cap;
    int oom;
} ai__buf;

void ai__buf_put(ai__buf *b, const void *data, size_t n);
void ai__buf_putc(ai__buf *b, char c);
void ai__buf_puts(ai__buf *b, const char *s);
void ai__buf_printf(ai__buf *b, const char *fmt, ...) AI__PRINTF(2, 3);
const char *ai__buf_cstr(ai__buf *b); /* "" for an empty buffer */
void ai__buf_free(ai__buf *b);

/* Multiplication and addition of sizes with overflow detection: return 0 and
 * store the result, or return -1 on overflow. */
static inline int ai__mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}
static inline int ai__add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return -1;
    *out = a + b;
    return 0;
}

/* ---- options (opts.c) ------------------------------------------------- */

/* Reads an option, or returns `def` when the bag is NULL or the key unset. */
int64_t ai__opts_int(const ai_opts *o, ai_opt key, int64_t def);
double ai__opts_double(const ai_opts *o, ai_opt key, double def);
const char *ai__opts_str(const ai_opts *o, ai_opt key, const char *def);
int ai__opts_has(const ai_opts *o, ai_opt key);

#endif /* AI_INTERNAL_H */
