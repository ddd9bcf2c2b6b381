/*
 * toolcall_stream.c - the streaming tool-call parser.
 *
 * The stream keeps all text fed so far.  After each feed it runs the
 * format's scanner in partial mode over the whole text (complete UTF-8
 * characters only) and emits what became certain since the last time:
 * content and reasoning grow as deltas (leading whitespace is dropped and
 * trailing whitespace held, since the final result is trimmed), and calls
 * are emitted once their markup is closed.  finish() runs the final strict
 * parse of the whole text, which is what the result is, by construction
 * equal to the one-shot parse.
 *
 * Cost: a feed scans from the resume point, the start of the first segment
 * that is not settled yet (formats whose calls sit in free text settle at
 * every call end; whole-output formats never do, so they re-scan all text).
 */
#include "toolcall.h"

#include <stdlib.h>
#include <string.h>

struct ai_toolcall_stream {
    int format, flags;
    tc_tools tools;
    int have_tools;
    ai__buf text;        /* everything fed */
    size_t valid;        /* text[0..valid) is checked, complete UTF-8 */
    int finished;
    int stopped;         /* the preview saw malformed output */
    tc final;
    /* emitted so far: bytes of trimmed content / reasoning, number of calls */
    size_t c_done, r_done, calls_done;
    /* resume point for the next preview: text before ck_pos is settled,
     * with this content and reasoning and ck_calls calls */
    int ck_valid;
    size_t ck_pos, ck_calls;
    ai__buf ck_content, ck_reasoning;
    /* not yet read */
    ai__buf out_c, out_r;
    ai__json *out_calls;
};

ai_status ai_toolcall_stream_new(int32_t format, const char *tools_json, int32_t flags,
                                 ai_toolcall_stream **out, char *err, size_t err_cap) {
    if (out) *out = NULL;
    if (!out || !ai__tc_format_name(format) || (flags & ~(int32_t)AI_TOOLCALL_REASONING_OPEN)) {
        ai__set_err(err, err_cap, "invalid argument");
        return AI_E_INVAL;
    }
    ai_toolcall_stream *s = calloc(1, sizeof *s);
    if (!s) return AI_E_NOMEM;
    s->format = format;
    s->flags = flags;
    s->out_calls = ai__json_new(AI__JSON_ARRAY);
    if (!s->out_calls) {
        free(s);
        return AI_E_NOMEM;
    }
    if (tools_json) {
        ai_status st = ai__tc_tools_parse(tools_json, strlen(tools_json), &s->tools, err, err_cap);
        if (st != AI_OK) {
            ai__json_free(s->out_calls);
            free(s);
            return st;
        }
        s->have_tools = 1;
    }
    *out = s;
    return AI_OK;
}

void ai_toolcall_stream_free(ai_toolcall_stream *s) {
    if (!s) return;
    if (s->have_tools) ai__tc_tools_free(&s->tools);
    ai__buf_free(&s->text);
    if (s->finished) ai__tc_free(&s->final);
    ai__buf_free(&s->out_c);
    ai__buf_free(&s->out_r);
    ai__buf_free(&s->ck_content);
    ai__buf_free(&s->ck_reasoning);
    ai__json_free(s->out_calls);
    free(s);
}

static int is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Appends to `out` the part of trim(buf) beyond the first *done bytes;
 * when `all` is 0 trailing whitespace is held back. */
static void emit_text(const ai__buf *buf, size_t *done, ai__buf *out) {
    size_t a = 0, e = buf->len;
    while (a < e && is_ws(buf->p[a])) a++;
    while (e > a && is_ws(buf->p[e - 1])) e--;
    if (e - a > *done) {
        ai__buf_put(out, buf->p + a + *done, e - a - *done);
        *done = e - a;
    }
}

/* t->calls holds the calls from number `base` on (earlier ones were before
 * the resume point). */
static ai_status emit(ai_toolcall_stream *s, const tc *t, size_t base) {
    emit_text(&t->content, &s->c_done, &s->out_c);
    emit_text(&t->reasoning, &s->r_done, &s->out_r);
    for (size_t i = s->calls_done; i < base + t->calls->n; i++) {
        ai__json *c = ai__json_clone(t->calls->items[i - base]);
        if (!c || ai__json_push(s->out_calls, c)) return AI_E_NOMEM;
    }
    if (base + t->calls->n > s->calls_done) s->calls_done = base + t->calls->n;
    return s->out_c.oom || s->out_r.oom ? AI_E_NOMEM : AI_OK;
}

ai_status ai_toolcall_stream_feed(ai_toolcall_stream *s, const char *text, size_t len) {
    if (!s || s->finished || (!text && len)) return AI_E_INVAL;
    size_t old = s->text.len;
    ai__buf_put(&s->text, text, len);
    if (s->text.oom) return AI_E_NOMEM;
    /* check the new complete characters; an incomplete one may end the text */
    const unsigned char *p = (const unsigned char *)s->text.p;
    size_t i = s->valid;
    while (i < s->text.len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        int inc;
        size_t k = ai__utf8_seq(p + i, s->text.len - i, &inc);
        if (!k) {
            if (inc) break;
            s->text.len = old;
            if (s->text.p) s->text.p[old] = '\0';
            return AI_E_FORMAT;
        }
        i += k;
    }
    s->valid = i;
    if (s->stopped) return AI_OK;
    tc t;
    tc_resume rs = {s->ck_pos, s->ck_content.p, s->ck_reasoning.p, s->ck_content.len,
                    s->ck_reasoning.len};
    size_t base = s->ck_valid ? s->ck_calls : 0;
    ai_status st = ai__tc_run(&t, s->format, s->text.p, s->valid, s->have_tools ? &s->tools : NULL,
                              1, s->flags & AI_TOOLCALL_REASONING_OPEN, s->ck_valid ? &rs : NULL);
    if (st == AI_OK) {
        if (t.error) s->stopped = 1;
        else st = emit(s, &t, base);
    }
    /* move the resume point past the segments that are now settled, so the
     * next feed does not scan them again */
    if (st == AI_OK && !t.error && !t.rsn_open && t.safe > t.body) {
        s->ck_content.len = 0;
        ai__buf_put(&s->ck_content, t.content.p, t.safe_content);
        if (!s->ck_valid) ai__buf_put(&s->ck_reasoning, t.reasoning.p, t.reasoning.len);
        s->ck_calls = base + t.safe_calls;
        s->ck_pos = t.safe;
        s->ck_valid = 1;
        if (s->ck_content.oom || s->ck_reasoning.oom) st = AI_E_NOMEM;
    }
    ai__tc_free(&t);
    return st;
}

ai_status ai_toolcall_stream_finish(ai_toolcall_stream *s) {
    if (!s || s->finished) return AI_E_INVAL;
    if (s->valid != s->text.len) return AI_E_FORMAT; /* ends inside a character */
    ai_status st = ai__tc_run(&s->final, s->format, s->text.p, s->text.len,
                              s->have_tools ? &s->tools : NULL, 0,
                              s->flags & AI_TOOLCALL_REASONING_OPEN, NULL);
    if (st != AI_OK) {
        ai__tc_free(&s->final);
        return st;
    }
    s->finished = 1;
    /* catch up with the final result (it is what counts) */
    if (!s->final.error) return emit(s, &s->final, 0);
    return AI_OK;
}

ai_status ai_toolcall_stream_read(ai_toolcall_stream *s, char *buf, size_t cap, size_t *needed) {
    if (needed) *needed = 0;
    if (!s) return AI_E_INVAL;
    ai__buf b = {0};
    ai__buf_puts(&b, "{\"content\":");
    ai__json_write_str(&b, s->out_c.p ? s->out_c.p : "", s->out_c.len, 0);
    if (s->out_r.len) {
        ai__buf_puts(&b, ",\"reasoning\":");
        ai__json_write_str(&b, s->out_r.p, s->out_r.len, 0);
    }
    ai__buf_puts(&b, ",\"tool_calls\":");
    ai__json_write(&b, s->out_calls, 0, -1);
    ai__buf_putc(&b, '}');
    ai_status st = b.oom ? AI_E_NOMEM : ai__copy_out(b.p, b.len, buf, cap, needed);
    ai__buf_free(&b);
    if (st != AI_OK) return st;
    s->out_c.len = 0;
    s->out_r.len = 0;
    ai__json *fresh = ai__json_new(AI__JSON_ARRAY);
    if (fresh) {
        ai__json_free(s->out_calls);
        s->out_calls = fresh;
    } else {
        /* keep the old array but empty it */
        for (size_t i = 0; i < s->out_calls->n; i++) ai__json_free(s->out_calls->items[i]);
        s->out_calls->n = 0;
    }
    return AI_OK;
}

ai_status ai_toolcall_stream_result(ai_toolcall_stream *s, char *buf, size_t cap, size_t *needed) {
    if (needed) *needed = 0;
    if (!s || !s->finished) return AI_E_INVAL;
    ai__buf b = {0};
    ai__tc_write_result(&b, &s->final);
    ai_status st = b.oom ? AI_E_NOMEM : ai__copy_out(b.p, b.len, buf, cap, needed);
    ai__buf_free(&b);
    return st;
}
