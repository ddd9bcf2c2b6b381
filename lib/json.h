/*
 * json.h - a strict RFC 8259 JSON reader and writer (private).
 *
 * The reader builds a tree of ai__json nodes.  It validates UTF-8, decodes
 * escapes (surrogate pairs included; a lone surrogate is an error), keeps
 * numbers exactly as written, keeps duplicate keys (in document order), and
 * has a depth limit.  It never
 * recurses on the document's nesting, so deep input cannot blow the stack.
 *
 * Ownership: a tree is freed with ai__json_free() on its root.
 */
#ifndef AI_JSON_H
#define AI_JSON_H

#include "internal.h"

#include <stddef.h>

typedef enum ai__json_type {
    AI__JSON_NULL = 0,
    AI__JSON_FALSE,
    AI__JSON_TRUE,
    AI__JSON_NUMBER,
    AI__JSON_STRING,
    AI__JSON_ARRAY,
    AI__JSON_OBJECT
} ai__json_type;

#define AI__JSON_MAX_DEPTH 512

typedef struct ai__json ai__json;
struct ai__json {
    ai__json_type type;
    char *str;        /* STRING: decoded UTF-8 (may hold NUL bytes), NUL-
                         terminated; NUMBER: the text as written          */
    size_t len;       /* byte length of str                               */
    size_t n;         /* ARRAY/OBJECT: number of items                    */
    ai__json **items; /* ARRAY/OBJECT: the values, in document order      */
    char **keys;      /* OBJECT: decoded keys (NUL-terminated)            */
    size_t *key_lens; /* OBJECT: their byte lengths                       */
};

/* Parses exactly one JSON text (surrounding whitespace allowed, nothing
 * else).  AI_E_FORMAT with "what at byte N" in err; AI_E_NOMEM. */
ai_status ai__json_parse(const char *text, size_t len, ai__json **out,
                         char *err, size_t err_cap);

/* Parses one JSON value that starts at text (after optional whitespace) and
 * may be followed by anything; *consumed is the offset just past the value.
 * For finding where an embedded value ends (tool calls). */
ai_status ai__json_parse_prefix(const char *text, size_t len, ai__json **out,
                                size_t *consumed, char *err, size_t err_cap);

/* Like ai__json_parse_prefix; on failure *truncated (may be NULL) is 1 when
 * the text ended inside the value, so that more input could complete it
 * (used by the streaming tool-call parser), 0 when it is invalid as is. */
ai_status ai__json_parse_partial(const char *text, size_t len, ai__json **out,
                                 size_t *consumed, int *truncated, char *err,
                                 size_t err_cap);

void ai__json_free(ai__json *j);

/* Builders (NULL on out-of-memory; a NULL child makes push/set fail). */
ai__json *ai__json_new(ai__json_type type);
ai__json *ai__json_new_str(const char *s, size_t len);
ai__json *ai__json_new_num(const char *text, size_t len); /* text as written */
ai__json *ai__json_new_int(int64_t v);
ai__json *ai__json_new_double(double v);
int ai__json_push(ai__json *arr, ai__json *item);      /* 0 ok; takes item */
int ai__json_set(ai__json *obj, const char *key, size_t key_len,
                 ai__json *val);                       /* appends; takes val */
ai__json *ai__json_clone(const ai__json *j);

/* Object member by key (the first one with that key), or NULL. */
const ai__json *ai__json_get(const ai__json *obj, const char *key);
const ai__json *ai__json_getn(const ai__json *obj, const char *key, size_t len);
/* Removes the first member with that key from obj and returns it (the
 * caller owns it), or NULL when there is none. */
ai__json *ai__json_take(ai__json *obj, const char *key);
/* Value of a NUMBER node as double. */
double ai__json_num(const ai__json *j);

/* Writer flags. */
enum {
    AI__JSON_W_SPACES = 1,  /* Python's default separators ", " and ": "   */
    AI__JSON_W_ASCII = 2,   /* escape every non-ASCII character as \uXXXX   */
    AI__JSON_W_SORT_KEYS = 4 /* object members in key order (Python sort_keys) */
};

/* Serialises j.  indent < 0: one line; indent >= 0: pretty-printed with
 * that many spaces per level (items separated by ",\n", keys by ": ").
 * Strings are escaped minimally (", \, control characters) as Python does;
 * invalid UTF-8 in a hand-built string is written as U+FFFD. */
void ai__json_write(ai__buf *b, const ai__json *j, int flags, int indent);
/* Writes one JSON string literal for the UTF-8 bytes s[0..len). */
void ai__json_write_str(ai__buf *b, const char *s, size_t len, int flags);

/* UTF-8 helpers.  ai__utf8_seq: length (1-4) of the well-formed sequence at
 * s (shortest form, no surrogates, at most U+10FFFF), or 0 when it is not
 * one; *incomplete (may be NULL) is 1 when the bytes so far are a valid
 * beginning cut off by `avail`.  ai__utf8_valid: 1 when all of s is UTF-8. */
size_t ai__utf8_seq(const unsigned char *s, size_t avail, int *incomplete);
int ai__utf8_valid(const char *s, size_t len);

#endif /* AI_JSON_H */
