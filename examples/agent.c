/*
 * agent.c - a local agent: the model answers a question and may call tools on
 * the way; this program runs the tools and feeds their results back until the
 * model gives an answer.
 *
 *   agent -m MODEL [--sandbox DIR] [--yes] [--verses FILE] [--tools LIST]
 *         [--template FILE] [--format NAME] [--system TEXT] [--script FILE]
 *         [-n N] [--temp T] [-c CTX] [--rounds N] [-v] QUESTION...
 *
 * Tools (declared to the model through its chat template; --tools picks
 * them by name, comma-separated; the default is the four below, or with
 * --verses lookup_verse,search_verses,calculator,current_time, the set the
 * default model models/default.gguf was trained with).  Each result is a
 * JSON object, {"error": "..."} when the call failed:
 *   calculator(expression)    arithmetic (+ - * / % ^, parentheses), our own
 *                             parser: nothing is ever handed to a shell
 *   current_time()            the local date, weekday and time
 *   lookup_verse(ref), search_verses(query)
 *                             over a file of Book<TAB>chapter<TAB>verse<TAB>
 *                             text lines (--verses FILE)
 *   read_file(path)           a file inside the sandbox folder (--sandbox)
 *   write_file(path, content) writes a file inside the sandbox folder.  It
 *                             has side effects, so it only runs after the
 *                             user says yes on the terminal, or with --yes;
 *                             without a terminal the answer is no.
 * Paths are relative to the sandbox; "..", absolute paths, symbolic links
 * (anywhere on the path) and files that are not plain single-link files are
 * refused, so a tool cannot leave the folder.
 *
 * Each question is its own conversation.  One round: render the conversation
 * with the template (tools included), generate, parse the output with
 * ai_toolcalls_parse() in the format detected from the template (hermes when
 * none is recognised), and either print the answer (no tool call) or run
 * each call and append the results as "tool" messages.  The answer goes to
 * stdout; the steps ([model], [call], [result], timings) go to stderr;
 * -v adds prompt sizes, -v -v the rendered prompts.
 *
 * Test hook: --script FILE (or the environment variable AI_AGENT_SCRIPT)
 * replaces generation with canned assistant turns, one per round, separated
 * by lines "---".  The prompt is still rendered and tokenized; nothing is
 * sampled, so the tool loop runs the same way every time.
 *
 * AI_AGENT_NOW="YYYY-MM-DD HH:MM" fixes the clock of current_time (another
 * test hook).
 *
 * Exit status: 0 answered, 1 usage error, 2 error (model, template, script
 * exhausted, no answer within --rounds).  Uses only <agentinfer.h>.
 */
#define _POSIX_C_SOURCE 200809L
#include <agentinfer.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- strings ----------------------------------------------------------- */

/* A growable NUL-terminated string; `oom` sticks once memory ran out. */
typedef struct str {
    char *p;
    size_t len, cap;
    int oom;
} str;

static void put(str *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(str *b, const char *s) { put(b, s, strlen(s)); }

/* s[0..n) as a JSON string literal. */
static void put_json(str *b, const char *s, size_t n) {
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c == '\n') put(b, "\\n", 2);
        else if (c == '\t') put(b, "\\t", 2);
        else if (c == '\r') put(b, "\\r", 2);
        else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        } else put(b, s + i, 1);
    }
    put(b, "\"", 1);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    str b = {0};
    put(&b, "", 0);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) put(&b, chunk, got);
    int bad = ferror(f);
    fclose(f);
    if (b.oom || bad) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- a minimal JSON reader for the parser's result ------------------------
 * Enough to walk {"content": ..., "tool_calls": [{"name", "arguments", "id"}],
 * "error": ...}: the library produced it, but we still check every step. */

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    return p;
}

/* End of the JSON value at p (after skipping it), or NULL if malformed. */
static const char *skip_value(const char *p, int depth) {
    p = ws(p);
    if (depth > 64) return NULL;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && !*++p) return NULL;
        return *p == '"' ? p + 1 : NULL;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (!(p = skip_value(p, depth + 1))) return NULL;
                p = ws(p);
                if (*p++ != ':') return NULL;
            }
            if (!(p = skip_value(p, depth + 1))) return NULL;
            p = ws(p);
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
    }
    const char *s = p;
    while (*p && !strchr(",}] \n\r\t", *p)) p++;
    return p > s ? p : NULL;
}

static int hexval(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}

static void put_utf8(str *b, unsigned cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) u[0] = (char)cp, n = 1;
    else if (cp < 0x800) u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    put(b, u, n);
}

/* Decodes the JSON string at p into out (appended); returns the end or NULL. */
static const char *get_string(const char *p, str *out) {
    p = ws(p);
    if (*p != '"') return NULL;
    put(out, "", 0);
    for (p++; *p != '"'; p++) {
        if (!*p) return NULL;
        if (*p != '\\') {
            put(out, p, 1);
            continue;
        }
        char c = *++p, e = 0;
        switch (c) {
        case '"': case '\\': case '/': e = c; break;
        case 'b': e = '\b'; break;
        case 'f': e = '\f'; break;
        case 'n': e = '\n'; break;
        case 'r': e = '\r'; break;
        case 't': e = '\t'; break;
        case 'u': {
            int v = hexval(p + 1);
            if (v < 0) return NULL;
            p += 4;
            unsigned cp = (unsigned)v;
            if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
                int lo = hexval(p + 3);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
                    p += 6;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
            put_utf8(out, cp);
            continue;
        }
        default: return NULL;
        }
        put(out, &e, 1);
    }
    return p + 1;
}

/* The value of `key` in the object at p, or NULL. */
static const char *obj_get(const char *p, const char *key) {
    p = ws(p);
    if (*p != '{') return NULL;
    p = ws(p + 1);
    if (*p == '}') return NULL;
    for (;;) {
        str k = {0};
        p = get_string(p, &k);
        int hit = p && !k.oom && !strcmp(k.p, key);
        free(k.p);
        if (!p) return NULL;
        p = ws(p);
        if (*p++ != ':') return NULL;
        if (hit) return ws(p);
        if (!(p = skip_value(p, 0))) return NULL;
        p = ws(p);
        if (*p++ != ',') return NULL;
    }
}

/* A string member as a malloc'd string (NULL when absent or not a string);
 * a number or boolean is taken as its text, so {"expression": 12} works. */
static char *obj_str(const char *obj, const char *key, size_t *len) {
    const char *v = obj_get(obj, key);
    if (!v) return NULL;
    str s = {0};
    if (*v == '"') {
        if (!get_string(v, &s) || s.oom) {
            free(s.p);
            return NULL;
        }
    } else if (*v != '{' && *v != '[') {
        const char *e = skip_value(v, 0);
        if (!e) return NULL;
        put(&s, v, (size_t)(e - v));
        if (s.oom) {
            free(s.p);
            return NULL;
        }
    } else return NULL;
    if (len) *len = s.len;
    return s.p;
}

/* ---- tool: calculator ----------------------------------------------------
 * Recursive descent over doubles:
 *   expr := term (('+'|'-') term)*      term := unary (('*'|'/'|'%') unary)*
 *   unary := ('+'|'-') unary | power    power := atom ('^'|'**' unary)?
 *   atom := number | '(' expr ')'
 * Depth and length are bounded; division by zero and overflow are errors. */

typedef struct calc {
    const char *p;
    const char *err;
    int depth;
} calc;

static double c_expr(calc *c);

static void c_ws(calc *c) {
    while (*c->p == ' ' || *c->p == '\t') c->p++;
}

static double c_atom(calc *c) {
    c_ws(c);
    if (*c->p == '(') {
        c->p++;
        double v = c_expr(c);
        c_ws(c);
        if (!c->err && *c->p != ')') c->err = "missing ')'";
        else c->p++;
        return v;
    }
    if ((*c->p >= '0' && *c->p <= '9') || *c->p == '.') {
        char *end;
        double v = strtod(c->p, &end);
        if (end == c->p) c->err = "bad number";
        c->p = end;
        return v;
    }
    c->err = *c->p ? "unexpected character" : "unexpected end";
    return 0;
}

static double c_unary(calc *c);

static double c_power(calc *c) {
    double v = c_atom(c);
    c_ws(c);
    if (c->err) return 0;
    if (*c->p == '^' || (c->p[0] == '*' && c->p[1] == '*')) {
        c->p += *c->p == '^' ? 1 : 2;
        double e = c_unary(c); /* right-associative: 2^3^2 = 2^9 */
        return pow(v, e);
    }
    return v;
}

static double c_unary(calc *c) {
    c_ws(c);
    if (++c->depth > 100) {
        c->err = "expression nested too deeply";
        return 0;
    }
    double v;
    if (*c->p == '-') c->p++, v = -c_unary(c);
    else if (*c->p == '+') c->p++, v = c_unary(c);
    else v = c_power(c);
    c->depth--;
    return v;
}

static double c_term(calc *c) {
    double v = c_unary(c);
    for (;;) {
        c_ws(c);
        char op = *c->p;
        if (c->err || !(op == '*' || op == '/' || op == '%') || c->p[1] == '*') return v;
        c->p++;
        double r = c_unary(c);
        if ((op == '/' || op == '%') && r == 0 && !c->err) c->err = "division by zero";
        if (c->err) return 0;
        v = op == '*' ? v * r : op == '/' ? v / r : fmod(v, r);
    }
}

static double c_expr(calc *c) {
    if (++c->depth > 100) {
        c->err = "expression nested too deeply";
        return 0;
    }
    double v = c_term(c);
    for (;;) {
        c_ws(c);
        char op = *c->p;
        if (c->err || (op != '+' && op != '-')) break;
        c->p++;
        double r = c_term(c);
        v = op == '+' ? v + r : v - r;
    }
    c->depth--;
    return v;
}

/* A tool's result is one JSON object: the value(s), or {"error": text}. */
static void res_error(str *out, const char *msg) {
    puts_(out, "{\"error\": ");
    put_json(out, msg, strlen(msg));
    puts_(out, "}");
}

static void tool_calculator(const char *args, str *out) {
    size_t n = 0;
    char *e = obj_str(args, "expression", &n);
    if (!e) {
        res_error(out, "calculator needs a string argument \"expression\"");
        return;
    }
    calc c = {e, NULL, 0};
    double v = 0;
    if (n > 1000 || strlen(e) != n) c.err = "expression too long or holds a NUL";
    else {
        v = c_expr(&c);
        c_ws(&c);
        if (!c.err && *c.p) c.err = "unexpected character";
        if (!c.err && !isfinite(v)) c.err = "the result is not a finite number";
    }
    char buf[128];
    if (c.err) {
        snprintf(buf, sizeof buf, "%s at offset %d", c.err, (int)(c.p - e));
        res_error(out, buf);
    } else {
        /* integers plainly, other values with up to 4 decimals */
        if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, sizeof buf, "%.0f", v);
        else {
            snprintf(buf, sizeof buf, "%.4f", v);
            size_t k = strlen(buf);
            while (k > 0 && buf[k - 1] == '0') buf[--k] = '\0';
            if (k > 0 && buf[k - 1] == '.') buf[--k] = '\0';
        }
        if (!strcmp(buf, "-0") || !buf[0]) strcpy(buf, "0");
        puts_(out, "{\"result\": ");
        puts_(out, buf);
        puts_(out, "}");
    }
    free(e);
}

/* ---- tool: current_time (the local clock; TZ applies) --------------------- */

/* Test hook: AI_AGENT_NOW="YYYY-MM-DD HH:MM" fixes the clock (evaluations
 * and tests compare the answer with a known time). */
static int fixed_now(struct tm *tm) {
    const char *s = getenv("AI_AGENT_NOW");
    int y, mo, d, h, mi;
    char end;
    if (!s || sscanf(s, "%d-%d-%d %d:%d%c", &y, &mo, &d, &h, &mi, &end) != 5) return 0;
    memset(tm, 0, sizeof *tm);
    tm->tm_year = y - 1900, tm->tm_mon = mo - 1, tm->tm_mday = d;
    tm->tm_hour = h, tm->tm_min = mi, tm->tm_isdst = -1;
    return mktime(tm) != (time_t)-1; /* fills tm_wday */
}

static void tool_current_time(str *out) {
    time_t t = time(NULL);
    struct tm tm;
    char buf[128];
    if (!(fixed_now(&tm) || localtime_r(&t, &tm)) ||
        !strftime(buf, sizeof buf, "{\"date\": \"%Y-%m-%d\", \"weekday\": \"%A\", \"time\": \"%H:%M\"}", &tm))
        res_error(out, "no clock");
    else puts_(out, buf);
}

/* ---- tools: read_file, write_file (inside the sandbox) -------------------- */

/* Opens `rel` under the folder `root` one component at a time with
 * O_NOFOLLOW, so no symbolic link is ever followed (a link inside the
 * sandbox could point anywhere) and ".." never appears.  Returns the file
 * descriptor, or -1 with *why set. */
static int sandbox_open(const char *root, const char *rel, size_t rel_len, int flags, const char **why) {
    if (!root) {
        *why = "no sandbox folder was given (--sandbox DIR)";
        return -1;
    }
    if (rel_len == 0 || strlen(rel) != rel_len || rel_len > 1024) {
        *why = "the path is empty, too long or holds a NUL";
        return -1;
    }
    if (rel[0] == '/') {
        *why = "absolute paths are not allowed; give a path inside the sandbox";
        return -1;
    }
    int dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        *why = "cannot open the sandbox folder";
        return -1;
    }
    char comp[1025];
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        memcpy(comp, p, n);
        comp[n] = '\0';
        p = slash ? slash + 1 : p + n;
        int last = !slash || !*p;
        if (n == 0 || !strcmp(comp, ".")) {
            if (last) {
                close(dir);
                *why = "the path names a folder, not a file";
                return -1;
            }
            continue;
        }
        if (!strcmp(comp, "..")) {
            close(dir);
            *why = "\"..\" is not allowed in paths";
            return -1;
        }
        int fd = last ? openat(dir, comp, flags | O_NOFOLLOW | O_CLOEXEC, 0644)
                      : openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(dir);
        if (fd < 0) {
            *why = e == ELOOP || e == EMLINK ? "symbolic links are not followed"
                 : e == ENOENT              ? "no such file"
                 : e == ENOTDIR             ? "a component of the path is not a folder (or is a link)"
                 : e == EISDIR              ? "the path names a folder, not a file"
                                            : "cannot open the file";
            return -1;
        }
        if (last) {
            /* Only plain files: no FIFO (could block), no device, and no
             * file with a second name (a hard link could lead outside). */
            struct stat st;
            if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                *why = "not a regular file";
                return -1;
            }
            if (st.st_nlink > 1) {
                close(fd);
                *why = "the file has several hard links; refused";
                return -1;
            }
            if ((flags & O_ACCMODE) != O_RDONLY && ftruncate(fd, 0) != 0) {
                close(fd);
                *why = "cannot truncate the file";
                return -1;
            }
            return fd;
        }
        dir = fd;
    }
}

enum { READ_MAX = 16384 };

static void tool_read_file(const char *sandbox, const char *args, str *out) {
    size_t n = 0;
    char *path = obj_str(args, "path", &n);
    const char *why = "read_file needs a string argument \"path\"";
    int fd = path ? sandbox_open(sandbox, path, n, O_RDONLY | O_NONBLOCK, &why) : -1;
    if (fd < 0) {
        res_error(out, why);
        free(path);
        return;
    }
    char buf[READ_MAX + 1];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf && (r = read(fd, buf + got, sizeof buf - got)) > 0) got += (size_t)r;
    close(fd);
    puts_(out, "{\"path\": ");
    put_json(out, path, n);
    puts_(out, ", \"content\": ");
    put_json(out, buf, got > READ_MAX ? READ_MAX : got);
    puts_(out, got > READ_MAX ? ", \"truncated\": true}" : "}");
    free(path);
}

/* Asks on the terminal; anything but y/yes, and no terminal at all, is no. */
static int confirm(const char *what, int yes) {
    if (yes) return 1;
    if (!isatty(STDIN_FILENO)) {
        fprintf(stderr, "[confirm] %s: no terminal to ask, not run (use --yes to allow)\n", what);
        return 0;
    }
    fprintf(stderr, "[confirm] %s? [y/N] ", what);
    fflush(stderr);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got = getline(&line, &cap, stdin);
    int ok = got > 0 && (!strcmp(line, "y\n") || !strcmp(line, "yes\n") || !strcmp(line, "y") ||
                         !strcmp(line, "Y\n") || !strcmp(line, "yes"));
    free(line);
    return ok;
}

static void tool_write_file(const char *sandbox, int yes, const char *args, str *out) {
    size_t n = 0, clen = 0;
    char *path = obj_str(args, "path", &n);
    char *content = obj_str(args, "content", &clen);
    if (!path || !content) {
        res_error(out, "write_file needs string arguments \"path\" and \"content\"");
        free(path);
        free(content);
        return;
    }
    char what[256];
    snprintf(what, sizeof what, "write_file: write %zu bytes to \"%.150s\" in the sandbox", clen, path);
    if (!confirm(what, yes)) {
        res_error(out, "the user did not allow this write; nothing was written");
        free(path);
        free(content);
        return;
    }
    const char *why = "";
    int fd = sandbox_open(sandbox, path, n, O_WRONLY | O_CREAT | O_NONBLOCK, &why);
    if (fd < 0) {
        res_error(out, why);
    } else {
        size_t done = 0;
        ssize_t w = 0;
        while (done < clen && (w = write(fd, content + done, clen - done)) > 0) done += (size_t)w;
        if (close(fd) != 0 || done < clen) res_error(out, "the write failed");
        else {
            char buf[64];
            puts_(out, "{\"path\": ");
            put_json(out, path, n);
            snprintf(buf, sizeof buf, ", \"bytes_written\": %zu}", clen);
            puts_(out, buf);
        }
    }
    free(path);
    free(content);
}

/* ---- tools: lookup_verse, search_verses (over a verse file) --------------
 * --verses FILE names a text file of "Book<TAB>chapter<TAB>verse<TAB>text"
 * lines (the KJV as tools/train caches it).  The results have the shape the
 * default model (models/default.gguf) was trained on. */

typedef struct verse {
    const char *book, *text;
    int ch, v;
} verse;

typedef struct bible {
    char *data;      /* the file, cut into strings in place */
    verse *v;
    size_t n;
} bible;

static void bible_free(bible *b) {
    free(b->data);
    free(b->v);
}

/* 0 ok, -1 unreadable or malformed (message printed). */
static int bible_load(bible *b, const char *path) {
    if (!(b->data = slurp(path))) {
        fprintf(stderr, "agent: %s: cannot read the verse file\n", path);
        return -1;
    }
    size_t cap = 0;
    char *line = b->data;
    size_t lineno = 0;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        lineno++;
        if (*line) {
            char *f[4];
            f[0] = line;
            for (int i = 1; i < 4; i++) {
                char *tab = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
                if (tab) *tab = '\0';
                f[i] = tab ? tab + 1 : NULL;
            }
            if (!f[3] || atoi(f[1]) <= 0 || atoi(f[2]) <= 0) {
                fprintf(stderr, "agent: %s:%zu: not Book<TAB>chapter<TAB>verse<TAB>text\n", path, lineno);
                return -1;
            }
            if (b->n == cap) {
                cap = cap ? cap * 2 : 1024;
                verse *nv = realloc(b->v, cap * sizeof *nv);
                if (!nv) return -1;
                b->v = nv;
            }
            b->v[b->n++] = (verse){f[0], f[3], atoi(f[1]), atoi(f[2])};
        }
        if (!nl) break;
        line = nl + 1;
    }
    return 0;
}

static int ieq(const char *a, const char *b, size_t n) { /* n bytes, ASCII case-insensitive */
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y || !x) return 0;
    }
    return 1;
}

/* The book a name means: the full name, a few common short forms, or an
 * unambiguous prefix; NULL otherwise. */
static const char *find_book(const bible *b, const char *name, size_t n) {
    static const char *const abbrev[][2] = {
        {"jn", "John"}, {"mt", "Matthew"}, {"mk", "Mark"}, {"lk", "Luke"}, {"ps", "Psalms"},
        {"psalm", "Psalms"}, {"dt", "Deuteronomy"}, {"song of songs", "Song of Solomon"},
        {"revelations", "Revelation"}, {"1 jn", "1 John"}, {"2 jn", "2 John"}, {"3 jn", "3 John"}};
    for (size_t i = 0; i < sizeof abbrev / sizeof abbrev[0]; i++)
        if (strlen(abbrev[i][0]) == n && ieq(name, abbrev[i][0], n)) name = abbrev[i][1], n = strlen(name);
    const char *hit = NULL;
    for (size_t i = 0; i < b->n; i++) {
        const char *bk = b->v[i].book;
        if (i > 0 && !strcmp(bk, b->v[i - 1].book)) continue;
        if (strlen(bk) == n && ieq(bk, name, n)) return bk;
        if (n >= 2 && strlen(bk) > n && ieq(bk, name, n)) {
            if (hit && strcmp(hit, bk)) return NULL; /* ambiguous */
            hit = bk;
        }
    }
    return hit;
}

static void tool_lookup_verse(const bible *b, const char *args, str *out) {
    size_t n = 0;
    char *ref = obj_str(args, "ref", &n);
    if (!ref) {
        res_error(out, "lookup_verse needs a string argument \"ref\"");
        return;
    }
    /* "Book C:V" or "Book C V": the numbers from the end, the rest is the book */
    size_t e = n;
    while (e > 0 && ref[e - 1] == ' ') e--;
    size_t vend = e;
    while (e > 0 && ref[e - 1] >= '0' && ref[e - 1] <= '9') e--;
    size_t vstart = e;
    int ok = vstart < vend && e > 0 && (ref[e - 1] == ':' || ref[e - 1] == ' ' || ref[e - 1] == '.');
    size_t cend = ok ? --e : 0;
    while (ok && e > 0 && ref[e - 1] >= '0' && ref[e - 1] <= '9') e--;
    ok = ok && e < cend && vend - vstart < 5 && cend - e < 5;
    int ch = ok ? atoi(ref + e) : 0, vn = ok ? atoi(ref + vstart) : 0;
    size_t blen = e;
    while (blen > 0 && ref[blen - 1] == ' ') blen--;
    size_t bstart = 0;
    while (bstart < blen && ref[bstart] == ' ') bstart++;
    const char *book = ok && blen > bstart ? find_book(b, ref + bstart, blen - bstart) : NULL;
    char msg[256];
    if (!book) {
        snprintf(msg, sizeof msg, "cannot parse reference: %.200s", ref);
        res_error(out, msg);
        free(ref);
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (b->v[i].book == book || !strcmp(b->v[i].book, book)) {
            if (b->v[i].ch != ch || b->v[i].v != vn) continue;
            snprintf(msg, sizeof msg, "%s %d:%d", book, ch, vn);
            puts_(out, "{\"ref\": ");
            put_json(out, msg, strlen(msg));
            puts_(out, ", \"text\": ");
            put_json(out, b->v[i].text, strlen(b->v[i].text));
            puts_(out, "}");
            free(ref);
            return;
        }
    }
    snprintf(msg, sizeof msg, "no such verse: %s %d:%d", book, ch, vn);
    res_error(out, msg);
    free(ref);
}

/* Does `text` hold the lower-case ASCII word w[0..n) as a whole word? */
static int has_word(const char *text, const char *w, size_t n) {
    for (const char *p = text; *p; p++) {
        int start = p == text || !((p[-1] | 32) >= 'a' && (p[-1] | 32) <= 'z');
        if (start && ieq(p, w, n) && !((p[n] | 32) >= 'a' && (p[n] | 32) <= 'z')) return 1;
    }
    return 0;
}

static void tool_search_verses(const bible *b, const char *args, str *out) {
    size_t n = 0;
    char *q = obj_str(args, "query", &n);
    if (!q) {
        res_error(out, "search_verses needs a string argument \"query\"");
        return;
    }
    /* the query's words: runs of ASCII letters, lower-cased */
    char *words[16];
    size_t lens[16], nw = 0;
    for (char *p = q; *p && nw < 16;) {
        while (*p && !((*p | 32) >= 'a' && (*p | 32) <= 'z')) p++;
        char *w = p;
        while ((*p | 32) >= 'a' && (*p | 32) <= 'z') *p = (char)(*p | 32), p++;
        if (p > w) words[nw] = w, lens[nw++] = (size_t)(p - w);
    }
    if (nw == 0) {
        res_error(out, "empty query");
        free(q);
        return;
    }
    size_t count = 0;
    str matches = {0};
    put(&matches, "", 0);
    for (size_t i = 0; i < b->n; i++) {
        size_t k = 0;
        while (k < nw && has_word(b->v[i].text, words[k], lens[k])) k++;
        if (k < nw) continue;
        if (count++ < 2) {
            char ref[160];
            snprintf(ref, sizeof ref, "%.120s %d:%d", b->v[i].book, b->v[i].ch, b->v[i].v);
            puts_(&matches, count > 1 ? ", {\"ref\": " : "{\"ref\": ");
            put_json(&matches, ref, strlen(ref));
            puts_(&matches, ", \"text\": ");
            put_json(&matches, b->v[i].text, strlen(b->v[i].text));
            puts_(&matches, "}");
        }
    }
    char head[64];
    snprintf(head, sizeof head, "{\"count\": %zu, \"matches\": [", count);
    puts_(out, head);
    put(out, matches.p, matches.len);
    puts_(out, "]}");
    if (matches.oom) out->oom = 1;
    free(matches.p);
    free(q);
}

/* ---- the tool table ------------------------------------------------------
 * The definitions handed to the template and to the parser (the OpenAI
 * "tools" form).  calculator, current_time and the verse tools are worded
 * exactly as in the default model's training dialogues. */

typedef struct tool {
    const char *name;
    const char *def;
    int side_effects; /* asks before running (write_file) */
} tool;

static const tool TOOL_TABLE[] = {
    {"lookup_verse", "{\"type\": \"function\", \"function\": {\"name\": \"lookup_verse\", "
                     "\"description\": \"Get the text of one verse of the King James Bible.\", "
                     "\"parameters\": {\"type\": \"object\", \"properties\": {\"ref\": {\"type\": \"string\", "
                     "\"description\": \"Reference like John 3:16\"}}, \"required\": [\"ref\"]}}}", 0},
    {"search_verses", "{\"type\": \"function\", \"function\": {\"name\": \"search_verses\", "
                      "\"description\": \"Find King James Bible verses containing all the given words.\", "
                      "\"parameters\": {\"type\": \"object\", \"properties\": {\"query\": {\"type\": \"string\", "
                      "\"description\": \"Words to search for\"}}, \"required\": [\"query\"]}}}", 0},
    {"calculator", "{\"type\": \"function\", \"function\": {\"name\": \"calculator\", "
                   "\"description\": \"Evaluate an arithmetic expression with + - * / ^ and parentheses.\", "
                   "\"parameters\": {\"type\": \"object\", \"properties\": {\"expression\": {\"type\": \"string\", "
                   "\"description\": \"Expression like (2 + 3) * 4\"}}, \"required\": [\"expression\"]}}}", 0},
    {"current_time", "{\"type\": \"function\", \"function\": {\"name\": \"current_time\", "
                     "\"description\": \"Get the current date, weekday and time.\", "
                     "\"parameters\": {\"type\": \"object\", \"properties\": {}, \"required\": []}}}", 0},
    {"read_file", "{\"type\": \"function\", \"function\": {\"name\": \"read_file\", "
                  "\"description\": \"Read a text file from the working folder.\", "
                  "\"parameters\": {\"type\": \"object\", \"properties\": {\"path\": {\"type\": \"string\", "
                  "\"description\": \"Path relative to the working folder\"}}, \"required\": [\"path\"]}}}", 0},
    {"write_file", "{\"type\": \"function\", \"function\": {\"name\": \"write_file\", "
                   "\"description\": \"Write a text file in the working folder (the user is asked first).\", "
                   "\"parameters\": {\"type\": \"object\", \"properties\": {\"path\": {\"type\": \"string\"}, "
                   "\"content\": {\"type\": \"string\"}}, \"required\": [\"path\", \"content\"]}}}", 1},
};
enum { N_TOOLS = sizeof TOOL_TABLE / sizeof TOOL_TABLE[0] };

/* Builds the tools JSON array for a comma-separated list of names into
 * out; returns 0, or -1 naming the unknown tool on stderr. */
static int tools_json(const char *list, str *out) {
    puts_(out, "[");
    int first = 1;
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int found = 0;
        for (int i = 0; i < N_TOOLS; i++) {
            if (strlen(TOOL_TABLE[i].name) == n && !strncmp(TOOL_TABLE[i].name, p, n)) {
                if (!first) puts_(out, ", ");
                puts_(out, TOOL_TABLE[i].def);
                first = 0;
                found = 1;
            }
        }
        if (!found && n) {
            fprintf(stderr, "agent: unknown tool '%.*s'\n", (int)n, p);
            return -1;
        }
        p += n + (comma != NULL);
    }
    puts_(out, "]");
    return out->oom ? -1 : 0;
}

/* Runs one call; the result JSON goes to out. */
static void run_tool(const char *name, const char *args, const char *sandbox, const bible *bib, int yes,
                     str *out) {
    if (!strcmp(name, "calculator")) tool_calculator(args, out);
    else if (!strcmp(name, "current_time")) tool_current_time(out);
    else if (!strcmp(name, "read_file")) tool_read_file(sandbox, args, out);
    else if (!strcmp(name, "write_file")) tool_write_file(sandbox, yes, args, out);
    else if (!strcmp(name, "lookup_verse") && bib->n) tool_lookup_verse(bib, args, out);
    else if (!strcmp(name, "search_verses") && bib->n) tool_search_verses(bib, args, out);
    else if (!strcmp(name, "lookup_verse") || !strcmp(name, "search_verses"))
        res_error(out, "no verse file was given (--verses FILE)");
    else res_error(out, "no such tool");
}

/* ---- the loop ------------------------------------------------------------ */

typedef struct agent {
    ai_model *m;
    ai_session *s;
    ai_opts *ro;          /* render options (AI_OPT_CHAT_TEMPLATE) */
    int32_t format;
    const char *sandbox;
    int yes, verbose, rounds;
    char *script;         /* canned turns (test hook), or NULL */
    const char *script_pos;
    char *bos;            /* the BOS token's text, "" when none */
    char *tools;          /* the tools JSON array */
    bible bib;            /* --verses, or empty */
} agent;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The next canned turn into out; 0 when the script is exhausted. */
static int script_next(agent *a, str *out) {
    const char *p = a->script_pos;
    if (!p || !*p) return 0;
    const char *end = p;
    for (;;) {
        const char *nl = strchr(end, '\n');
        if (!nl) {
            put(out, p, strlen(p));
            a->script_pos = p + strlen(p);
            break;
        }
        if (!strncmp(nl + 1, "---\n", 4) || !strcmp(nl + 1, "---")) {
            put(out, p, (size_t)(nl - p));
            a->script_pos = nl + 1 + (nl[4] ? 4 : 3);
            break;
        }
        end = nl + 1;
    }
    return 1;
}

/* Renders msgs with the tools into a malloc'd prompt (NULL on error). */
static char *render(agent *a, const char *msgs) {
    char err[512] = "";
    size_t need = 0;
    uint32_t fl = AI_CHAT_ADD_GENERATION_PROMPT;
    ai_status st = ai_chat_render(a->m, msgs, a->tools, a->ro, fl, NULL, 0, &need, err, sizeof err);
    if (st == AI_E_RANGE) {
        char *out = malloc(need);
        if (!out) return NULL;
        st = ai_chat_render(a->m, msgs, a->tools, a->ro, fl, out, need, &need, err, sizeof err);
        if (st == AI_OK) return out;
        free(out);
    }
    fprintf(stderr, "agent: the template failed: %s\n", err[0] ? err : ai_status_string(st));
    return NULL;
}

/* One model turn on `prompt`: the output text into out.  0 ok, 2 error. */
static int model_turn(agent *a, const char *prompt, str *out) {
    size_t len = strlen(prompt), n = 0;
    uint32_t fl = AI_TOKENIZE_PARSE_SPECIAL;
    /* Templates that print bos_token already start with it. */
    if (!a->bos[0] || strncmp(prompt, a->bos, strlen(a->bos))) fl |= AI_TOKENIZE_ADD_SPECIAL;
    int32_t *toks = malloc((3 * len + 3) * sizeof *toks);
    ai_status st = toks ? ai_tokenize(a->m, prompt, len, fl, toks, 3 * len + 3, &n) : AI_E_NOMEM;
    if (st != AI_OK) {
        fprintf(stderr, "agent: cannot tokenize the prompt: %s\n", ai_status_string(st));
        free(toks);
        return 2;
    }
    if (a->script) { /* the test hook: no sampling */
        free(toks);
        if (a->verbose) fprintf(stderr, "[prompt] %zu tokens\n", n);
        if (!script_next(a, out)) {
            fprintf(stderr, "agent: the script has no more turns\n");
            return 2;
        }
        return 0;
    }
    /* Only what differs from the previous round is evaluated. */
    st = ai_session_prompt(a->s, toks, n, 0);
    free(toks);
    if (a->verbose && st == AI_OK)
        fprintf(stderr, "[prompt] %zu tokens, %d reused\n", n, (int)ai_session_n_reused(a->s));
    char piece[512];
    size_t need;
    while (st == AI_OK) {
        st = ai_session_step(a->s, piece, sizeof piece, &need);
        if (st == AI_OK) puts_(out, piece);
    }
    if (st != AI_DONE) {
        fprintf(stderr, "agent: %s\n", ai_session_errmsg(a->s)[0] ? ai_session_errmsg(a->s) : ai_status_string(st));
        return 2;
    }
    return out->oom ? 2 : 0;
}

/* Parses the model's output into a malloc'd result JSON (NULL on error). */
static char *parse_calls(agent *a, const str *text) {
    size_t need = 0;
    ai_status st = ai_toolcalls_parse(a->format, text->p, text->len, a->tools, NULL, 0, &need);
    char *res = st == AI_E_RANGE ? malloc(need) : NULL;
    if (res && ai_toolcalls_parse(a->format, text->p, text->len, a->tools, res, need, &need) == AI_OK) return res;
    free(res);
    fprintf(stderr, "agent: cannot parse the output: %s\n", ai_status_string(st));
    return NULL;
}

/* Drops the closing ']' of the messages array and adds a separator. */
static void open_msg(str *msgs) {
    msgs->len--;
    if (msgs->len > 1) puts_(msgs, ", ");
}

/* Answers one question: 0 answered, 2 error. */
static int ask(agent *a, const char *system, const char *question) {
    str msgs = {0};
    puts_(&msgs, "[");
    if (system) {
        puts_(&msgs, "{\"role\": \"system\", \"content\": ");
        put_json(&msgs, system, strlen(system));
        puts_(&msgs, "}, ");
    }
    puts_(&msgs, "{\"role\": \"user\", \"content\": ");
    put_json(&msgs, question, strlen(question));
    puts_(&msgs, "}]");
    a->script_pos = a->script;
    int rc = 2;
    fprintf(stderr, "[question] %s\n", question);
    for (int round = 0; round < a->rounds && !msgs.oom; round++) {
        double t0 = now_s();
        char *prompt = render(a, msgs.p);
        if (!prompt) break;
        if (a->verbose > 1) fprintf(stderr, "[rendered]\n%s\n[/rendered]\n", prompt);
        str text = {0};
        put(&text, "", 0);
        int r = model_turn(a, prompt, &text);
        free(prompt);
        char *res = r == 0 ? parse_calls(a, &text) : NULL;
        double t1 = now_s();
        if (!res) {
            free(text.p);
            break;
        }
        fprintf(stderr, "[model %.2fs] %s\n", t1 - t0, text.p);
        const char *calls = obj_get(res, "tool_calls");
        const char *errv = obj_get(res, "error");
        char *content = obj_str(res, "content", NULL);
        int malformed = errv && !strncmp(errv, "true", 4);
        if (malformed) {
            char *msg = obj_str(res, "message", NULL);
            fprintf(stderr, "[malformed tool call] %s\n", msg ? msg : "");
            free(msg);
        }
        if (!calls || !content || (calls = ws(calls))[0] != '[' || ws(calls + 1)[0] == ']') {
            /* No call: this is the answer. */
            printf("%s\n", content ? content : text.p);
            fflush(stdout);
            rc = content ? 0 : 2;
            free(content);
            free(res);
            free(text.p);
            break;
        }
        /* The assistant turn with its calls, in OpenAI form, then one tool
         * message per call. */
        open_msg(&msgs);
        puts_(&msgs, "{\"role\": \"assistant\", \"content\": ");
        put_json(&msgs, content, strlen(content));
        puts_(&msgs, ", \"tool_calls\": [");
        str results = {0};
        put(&results, "", 0);
        const char *c = ws(calls + 1);
        int i = 0, ok = 1;
        while (ok && *c == '{') {
            char *name = obj_str(c, "name", NULL);
            char *id = obj_str(c, "id", NULL);
            const char *args = obj_get(c, "arguments");
            const char *args_end = args ? skip_value(args, 0) : NULL;
            const char *end = skip_value(c, 0);
            if (!name || !args_end || !end) {
                ok = 0;
            } else {
                char idbuf[32];
                if (!id) snprintf(idbuf, sizeof idbuf, "call_%d_%d", round, i);
                if (i) puts_(&msgs, ", ");
                puts_(&msgs, "{\"id\": ");
                put_json(&msgs, id ? id : idbuf, strlen(id ? id : idbuf));
                puts_(&msgs, ", \"type\": \"function\", \"function\": {\"name\": ");
                put_json(&msgs, name, strlen(name));
                puts_(&msgs, ", \"arguments\": ");
                put(&msgs, args, (size_t)(args_end - args));
                puts_(&msgs, "}}");
                fprintf(stderr, "[call] %s %.*s\n", name, (int)(args_end - args), args);
                double t2 = now_s();
                str out = {0};
                put(&out, "", 0);
                char *args_copy = malloc((size_t)(args_end - args) + 1);
                if (args_copy) {
                    memcpy(args_copy, args, (size_t)(args_end - args));
                    args_copy[args_end - args] = '\0';
                    run_tool(name, args_copy, a->sandbox, &a->bib, a->yes, &out);
                    free(args_copy);
                } else out.oom = 1;
                fprintf(stderr, "[result %.3fs] %s\n", now_s() - t2, out.oom ? "" : out.p);
                puts_(&results, ", {\"role\": \"tool\", \"tool_call_id\": ");
                put_json(&results, id ? id : idbuf, strlen(id ? id : idbuf));
                puts_(&results, ", \"name\": ");
                put_json(&results, name, strlen(name));
                puts_(&results, ", \"content\": ");
                if (out.oom) results.oom = 1;
                else put_json(&results, out.p, out.len);
                puts_(&results, "}");
                free(out.p);
                c = ws(end);
                if (*c == ',') c = ws(c + 1);
                i++;
            }
            free(name);
            free(id);
        }
        puts_(&msgs, "]}");
        put(&msgs, results.p, results.len);
        puts_(&msgs, "]");
        if (results.oom) msgs.oom = 1;
        free(results.p);
        free(content);
        free(res);
        free(text.p);
        if (!ok) {
            fprintf(stderr, "agent: unexpected parser result\n");
            break;
        }
        if (round + 1 == a->rounds) fprintf(stderr, "agent: no answer after %d rounds\n", a->rounds);
    }
    if (msgs.oom) fprintf(stderr, "agent: out of memory\n");
    free(msgs.p);
    return rc;
}

static void usage(void) {
    fprintf(stderr,
            "usage: agent -m MODEL [--sandbox DIR] [--yes] [--verses FILE] [--tools LIST]\n"
            "             [--template FILE] [--format NAME] [--system TEXT] [--script FILE]\n"
            "             [-n N] [--temp T] [-c CTX] [--rounds N] [-v] QUESTION...\n");
}

int main(int argc, char **argv) {
    agent a = {0};
    a.rounds = 8;
    const char *path = NULL, *tpl_path = NULL, *fmt_name = NULL, *system = NULL;
    const char *script_path = getenv("AI_AGENT_SCRIPT");
    const char *tool_list = NULL, *verses = NULL;
    ai_opts *so = NULL;
    if (ai_opts_new(&so) != AI_OK || ai_opts_new(&a.ro) != AI_OK) return 2;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        ai_status st = AI_OK;
        if (!strcmp(o, "--yes")) {
            a.yes = 1;
            continue;
        }
        if (!strcmp(o, "-v")) {
            a.verbose++;
            continue;
        }
        if (!strcmp(o, "--")) {
            i++;
            break;
        }
        if (!v) st = AI_E_INVAL;
        else if (!strcmp(o, "-m")) path = v;
        else if (!strcmp(o, "--sandbox")) a.sandbox = v;
        else if (!strcmp(o, "--template")) tpl_path = v;
        else if (!strcmp(o, "--format")) fmt_name = v;
        else if (!strcmp(o, "--system")) system = v;
        else if (!strcmp(o, "--script")) script_path = v;
        else if (!strcmp(o, "--tools")) tool_list = v;
        else if (!strcmp(o, "--verses")) verses = v;
        else if (!strcmp(o, "--rounds")) a.rounds = atoi(v);
        else if (!strcmp(o, "-n")) st = ai_opts_set_int(so, AI_OPT_MAX_TOKENS, atoll(v));
        else if (!strcmp(o, "--temp")) st = ai_opts_set_double(so, AI_OPT_TEMPERATURE, atof(v));
        else if (!strcmp(o, "-c")) st = ai_opts_set_int(so, AI_OPT_N_CTX, atoll(v));
        else st = AI_E_INVAL;
        if (st != AI_OK) break;
        i++;
    }
    int rc = 0;
    if (!path || i >= argc || (i < argc && argv[i][0] == '-') || a.rounds < 1) {
        usage();
        rc = 1;
    }
    char err[512] = "";
    /* The default tool set: the default model's four with a verse file, the
     * file tools otherwise. */
    if (!tool_list)
        tool_list = verses ? "lookup_verse,search_verses,calculator,current_time"
                           : "calculator,current_time,read_file,write_file";
    str tj = {0};
    if (!rc && tools_json(tool_list, &tj) != 0) rc = 1;
    a.tools = tj.p;
    if (!rc && verses && bible_load(&a.bib, verses) != 0) rc = 2;
    if (!rc && tpl_path) {
        char *tpl = slurp(tpl_path);
        if (!tpl || ai_opts_set_str(a.ro, AI_OPT_CHAT_TEMPLATE, tpl) != AI_OK) {
            fprintf(stderr, "agent: %s: cannot read the template\n", tpl_path);
            rc = 2;
        } else if (ai_toolcall_format_detect(tpl, strlen(tpl), &a.format) != AI_OK) {
            a.format = AI_TOOLCALL_HERMES;
        }
        free(tpl);
    }
    if (!rc && script_path && !(a.script = slurp(script_path))) {
        fprintf(stderr, "agent: %s: cannot read the script\n", script_path);
        rc = 2;
    }
    if (!rc && ai_model_load(path, NULL, &a.m, err, sizeof err) != AI_OK) {
        fprintf(stderr, "agent: %s: %s\n", path, err);
        rc = 2;
    }
    if (!rc && !a.script && ai_session_new(a.m, so, &a.s, err, sizeof err) != AI_OK) {
        fprintf(stderr, "agent: %s\n", err);
        rc = 2;
    }
    ai_opts_free(so);
    if (!rc) {
        /* The tool-call format: named, else from the template, else hermes. */
        if (fmt_name) {
            if (ai_toolcall_format_from_name(fmt_name, &a.format) != AI_OK) {
                fprintf(stderr, "agent: unknown tool-call format '%s'\n", fmt_name);
                rc = 1;
            }
        } else if (!tpl_path && ai_model_toolcall_format(a.m, &a.format) != AI_OK) {
            a.format = AI_TOOLCALL_HERMES;
        }
    }
    if (!rc) {
        fprintf(stderr, "[format] %s\n", ai_toolcall_format_name(a.format));
        int32_t bos;
        size_t need = 0;
        if (ai_vocab_special(a.m, AI_SPECIAL_BOS, &bos) == AI_OK &&
            ai_token_to_piece(a.m, bos, AI_DETOKENIZE_RENDER_SPECIAL, NULL, 0, &need) == AI_E_RANGE &&
            (a.bos = malloc(need)) &&
            ai_token_to_piece(a.m, bos, AI_DETOKENIZE_RENDER_SPECIAL, a.bos, need, &need) == AI_OK) {
        } else {
            free(a.bos);
            a.bos = calloc(1, 1);
        }
        if (!a.bos) rc = 2;
        for (; !rc && i < argc; i++) rc = ask(&a, system, argv[i]);
    }
    free(a.bos);
    free(a.script);
    free(a.tools);
    bible_free(&a.bib);
    ai_opts_free(a.ro);
    ai_session_free(a.s);
    ai_model_free(a.m);
    return rc;
}
