/* errors.c - status strings and the caller-buffer error/text helpers. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

const char *ai_status_string(ai_status status) {
    switch (status) {
    case AI_OK: return "ok";
    case AI_DONE: return "done";
    case AI_E_INVAL: return "invalid argument";
    case AI_E_NOMEM: return "out of memory";
    case AI_E_IO: return "input/output error";
    case AI_E_FORMAT: return "malformed input";
    case AI_E_RANGE: return "buffer too small";
    case AI_E_UNKNOWN_OPT: return "unknown option";
    case AI_E_CANCELLED: return "cancelled";
    case AI_E_UNSUPPORTED: return "unsupported";
    case AI_E_CONTEXT_FULL: return "context full";
    case AI_E_MISMATCH: return "mismatch";
    case AI_E_NOT_FOUND: return "not found";
    case AI_E_INTERNAL: return "internal error";
    }
    return "unknown status";
}

void ai__set_err(char *err, size_t cap, const char *fmt, ...) {
    if (!err || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

ai_status ai__copy_out(const char *s, size_t len, char *buf, size_t cap,
                       size_t *needed) {
    if (needed) *needed = len + 1;
    if (!buf || cap < len + 1) return AI_E_RANGE;
    if (len) memcpy(buf, s, len);
    buf[len] = '\0';
    return AI_OK;
}
