/* mem.c - ai_free, string copies and the growable buffer ai__buf. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ai_free(void *p) { free(p); }

char *ai__strndup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ai__strdup(const char *s) { return ai__strndup(s, strlen(s)); }

/* Makes room for n more bytes plus a NUL. */
static int buf_reserve(ai__buf *b, size_t n) {
    if (b->oom) return -1;
    size_t want;
    if (ai__add_size(b->len, n, &want) || ai__add_size(want, 1, &want)) {
        b->oom = 1;
        return -1;
    }
    if (want <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < want) {
        if (cap > SIZE_MAX / 2) { cap = want; break; }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void ai__buf_put(ai__buf *b, const void *data, size_t n) {
    if (buf_reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void ai__buf_putc(ai__buf *b, char c) { ai__buf_put(b, &c, 1); }

void ai__buf_puts(ai__buf *b, const char *s) { ai__buf_put(b, s, strlen(s)); }

void ai__buf_printf(ai__buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        ai__buf_put(b, small, (size_t)n);
        return;
    }
    if (buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *ai__buf_cstr(ai__buf *b) { return b->p ? b->p : ""; }

void ai__buf_free(ai__buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
