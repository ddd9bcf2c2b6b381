/*
 * toolcall.h - the tool-call parser's internals (private).
 *
 * One parse turns a model's output text into content, reasoning and calls
 * (see ../shared/TOOLCALLS.md for the semantics).  The same scanner runs in
 * two modes:
 *   - final: the whole text is there; running out of text inside markup is
 *     an error (truncation);
 *   - partial (streaming preview): the text may continue; the scanner stops
 *     at the first place where more text could change the outcome and
 *     reports what is certain before it.  Content after the last certain
 *     point that could be the start of a marker is held back.
 *
 * Files: toolcall.c (formats table, detection, tools, result JSON, public
 * one-shot API), toolcall_fmt.c (one scanner per format), toolcall_lit.c
 * (Python and Gemma literal readers), toolcall_stream.c (streaming handle).
 */
#ifndef AI_TOOLCALL_H
#define AI_TOOLCALL_H

#include "internal.h"
#include "json.h"

/* The declared tools: names and, for typing XML-style values, the JSON
 * schema "properties" object of each (borrowed from `doc`). */
typedef struct tc_tool {
    const char *name;
    size_t name_len;
    const ai__json *props; /* may be NULL */
} tc_tool;

typedef struct tc_tools {
    ai__json *doc; /* owned: the parsed tools JSON */
    tc_tool *v;
    size_t n;
} tc_tools;

/* Parses the OpenAI tools array (or bare {"name", "parameters"} objects).
 * AI_E_FORMAT with a message; AI_E_NOMEM. */
ai_status ai__tc_tools_parse(const char *json, size_t len, tc_tools *out, char *err,
                             size_t err_cap);
void ai__tc_tools_free(tc_tools *t);
const tc_tool *ai__tc_tools_find(const tc_tools *t, const char *name, size_t len);

/* Parse state and result. */
typedef struct tc {
    /* input */
    const char *s;   /* text with trailing stop tokens removed */
    size_t n;
    int partial;     /* streaming preview: the text may continue */
    int format;
    const tc_tools *tools; /* NULL: no name check, untyped XML values */

    /* output */
    ai__buf content;   /* content pieces, joined (trimmed when written) */
    ai__buf reasoning; /* reasoning pieces, joined with "\n" */
    ai__json *calls;   /* array of {"name", "arguments", "id"?} */
    int error;         /* malformed output: see the semantics */
    int nomem;
    char msg[256];

    /* partial mode */
    int pending;       /* stopped: more text could change what follows */
    int truncated;     /* final mode: the error is that the text ended early */
    int rsn_open;      /* partial: inside an unclosed reasoning block */

    /* partial mode, formats with calls embedded in text: everything before
     * `safe` is final (content bytes before it: safe_content, calls:
     * safe_calls), so a later run may resume there */
    size_t safe, safe_content, safe_calls;

    size_t body;       /* offset where the text after reasoning starts */
    size_t rsn_end;    /* end of the removed reasoning (for error content) */
} tc;

/* Where a partial run resumes: the scan starts at `pos` with the content
 * and reasoning found before it (reasoning is not looked for again). */
typedef struct tc_resume {
    size_t pos;
    const char *content, *reasoning;
    size_t content_len, reasoning_len;
} tc_resume;

/* Runs the parse of text[0..len) in the given mode.  `think_open`: the
 * prompt already opened a reasoning block.  `rs` (partial mode only, may be
 * NULL): resume point of an earlier run.  Fills t (free with ai__tc_free).
 * Returns AI_OK or AI_E_NOMEM (malformed output is not an error status:
 * t->error says so). */
ai_status ai__tc_run(tc *t, int format, const char *text, size_t len, const tc_tools *tools,
                     int partial, int think_open, const tc_resume *rs);
void ai__tc_free(tc *t);

/* Writes the result object {"content", "reasoning"?, "tool_calls", "error",
 * "message"?}.  Content is trimmed here. */
void ai__tc_write_result(ai__buf *b, const tc *t);

/* ---- used between the toolcall files ---- */

/* Per-format scanner (toolcall_fmt.c): parses t->s[t->body..t->n). */
void ai__tc_scan(tc *t);

/* Records an error (first one wins).  In partial mode a failure caused by
 * the end of the text sets `pending` instead. */
void ai__tc_fail(tc *t, size_t at, const char *what);
void ai__tc_more(tc *t, size_t at, const char *what); /* ran out of text */

/* Adds a call; takes `args` (any JSON: a string holding an object is
 * decoded once; anything else that is not an object is an error).  id may be
 * NULL.  Checks the name against the tools.  Returns 0, or -1 after
 * recording an error. */
int ai__tc_add_call(tc *t, size_t at, const char *name, size_t name_len, ai__json *args,
                    const char *id, size_t id_len);

/* Types a raw XML-style value by the declared schema of tool `fn`,
 * parameter `key`: string stays raw, anything else is JSON-decoded (with
 * Python True/False/None accepted for booleans and null).  NULL after
 * recording an error. */
ai__json *ai__tc_xml_value(tc *t, size_t at, const char *fn, size_t fn_len, const char *key,
                           size_t key_len, const char *v, size_t v_len);

/* Literal readers (toolcall_lit.c).  Each reads one value starting at
 * s[*pos] (no leading whitespace skipped) and advances *pos.  Return 0 ok,
 * 1 the text ended inside the value (truncated), -1 invalid (with msg). */
int ai__tc_py_value(const char *s, size_t n, size_t *pos, ai__json **out, char *msg,
                    size_t msg_cap);
int ai__tc_gemma_value(const char *s, size_t n, size_t *pos, ai__json **out, char *msg,
                       size_t msg_cap);

/* Turn-ending tokens stripped from the end of the text (toolcall.c). */
extern const char *const ai__tc_stops[];
extern const size_t ai__tc_n_stops;

/* Format ids are those of the public enum; these are for the table. */
const char *ai__tc_format_name(int format);

#endif /* AI_TOOLCALL_H */
