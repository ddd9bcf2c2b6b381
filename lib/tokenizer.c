/*
 * tokenizer.c - the public tokenizer calls (section 6 of agentinfer.h):
 * special-token splitting, BOS/EOS, token pieces, detokenization and the
 * streaming detokenizer.  The algorithms live in tok_spm.c, tok_bpe.c and
 * tok_wpm.c; the vocabulary in vocab.c.
 */
#include "internal.h"
#include "model.h"
#include "vocab.h"

#include <stdlib.h>
#include <string.h>

static ai_status get_vocab(const ai_model *m, const struct ai__vocab **v) {
    if (!m) return AI_E_INVAL;
    if (!m->vocab) return AI_E_UNSUPPORTED;
    *v = m->vocab;
    return AI_OK;
}

/* ---- tokenize ------------------------------------------------------------------ */

static void plain(const struct ai__vocab *v, const char *s, size_t n, int first, ai__toks *out) {
    if (n == 0) return;
    switch (v->type) {
    case AI__VOCAB_SPM: ai__spm_tokenize(v, s, n, first, out); break;
    case AI__VOCAB_BPE: ai__bpe_tokenize(v, s, n, out); break;
    default: ai__wpm_tokenize(v, s, n, out); break;
    }
}

/* The longest special token that starts at s[0..n), or -1.  Without
 * parse_special only user-defined tokens count. */
static int32_t special_at(const struct ai__vocab *v, const char *s, size_t n, int parse_special) {
    uint8_t b = (uint8_t)s[0];
    for (uint32_t k = v->special_start[b]; k < v->special_start[b + 1]; k++) {
        const ai__token *t = &v->tokens[v->special[k]];
        if (!parse_special && !(t->attr & AI_TOKEN_ATTR_USER_DEFINED)) continue;
        if (t->len <= n && !memcmp(t->text, s, t->len)) return v->special[k];
    }
    return -1;
}

ai_status ai__tokenize(const struct ai__vocab *v, const char *text, size_t len, uint32_t flags,
                       ai__toks *out) {
    int add = (flags & AI_TOKENIZE_ADD_SPECIAL) != 0;
    int parse = (flags & AI_TOKENIZE_PARSE_SPECIAL) != 0;
    if (add && v->add_bos && v->bos >= 0) ai__toks_push(out, v->bos);
    /* Every run of plain text starts the text or follows a special token,
     * so SentencePiece gives each its space prefix. */
    size_t start = 0;
    for (size_t i = 0; i < len;) {
        int32_t id = v->special_start[(uint8_t)text[i]] < v->special_start[(uint8_t)text[i] + 1]
                         ? special_at(v, text + i, len - i, parse)
                         : -1;
        if (id < 0) {
            i++;
            continue;
        }
        plain(v, text + start, i - start, 1, out);
        ai__toks_push(out, id);
        i += v->tokens[id].len;
        start = i;
    }
    if (start < len) plain(v, text + start, len - start, 1, out);
    if (add && v->add_eos && v->eos >= 0) ai__toks_push(out, v->eos);
    return out->oom ? AI_E_NOMEM : AI_OK;
}

ai_status ai_tokenize(const ai_model *m, const char *text, size_t len, uint32_t flags,
                      int32_t *out, size_t cap, size_t *n) {
    const struct ai__vocab *v;
    if (!n || (!text && len) || (flags & ~(AI_TOKENIZE_ADD_SPECIAL | AI_TOKENIZE_PARSE_SPECIAL)))
        return AI_E_INVAL;
    *n = 0;
    ai_status st = get_vocab(m, &v);
    if (st) return st;
    if (!out) cap = 0;
    ai__toks t = {0};
    st = ai__tokenize(v, text ? text : "", len, flags, &t);
    if (st == AI_OK) {
        *n = t.n;
        if (t.n > cap) st = AI_E_RANGE;
        else if (t.n) memcpy(out, t.p, t.n * sizeof *out);
    }
    free(t.p);
    return st;
}

/* ---- pieces ---------------------------------------------------------------------- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Appends the piece of token id to b. */
static void piece(const struct ai__vocab *v, int32_t id, uint32_t flags, ai__buf *b) {
    const ai__token *t = &v->tokens[id];
    if (t->attr & AI_TOKEN_ATTR_CONTROL) {
        if (flags & AI_DETOKENIZE_RENDER_SPECIAL) ai__buf_put(b, t->text, t->len);
        return;
    }
    if ((t->attr & AI_TOKEN_ATTR_UNKNOWN) ||
        ((t->attr & AI_TOKEN_ATTR_USER_DEFINED) && v->type != AI__VOCAB_SPM)) {
        ai__buf_put(b, t->text, t->len); /* as written (not byte-level coded) */
        return;
    }
    if ((t->attr & AI_TOKEN_ATTR_BYTE) && t->len == 6 && !memcmp(t->text, "<0x", 3) &&
        t->text[5] == '>' && hexval(t->text[3]) >= 0 && hexval(t->text[4]) >= 0) {
        ai__buf_putc(b, (char)(hexval(t->text[3]) * 16 + hexval(t->text[4])));
        return;
    }
    const char *s = t->text;
    size_t n = t->len;
    if (v->type == AI__VOCAB_BPE) {
        const uint8_t *p = (const uint8_t *)s;
        for (size_t i = 0; i < n;) {
            uint32_t c;
            size_t k = ai__utf8_decode(p + i, n - i, &c);
            int byte = ai__bytelevel_byte(c);
            if (byte >= 0) ai__buf_putc(b, (char)byte);
            else ai__buf_put(b, s + i, k);
            i += k;
        }
        return;
    }
    if (v->type == AI__VOCAB_WPM) {
        if (n >= 3 && !memcmp(s, "\xe2\x96\x81", 3)) {
            ai__buf_putc(b, ' ');
            s += 3;
            n -= 3;
        }
        ai__buf_put(b, s, n);
        return;
    }
    for (size_t i = 0; i < n;) { /* SentencePiece: every ▁ is a space */
        if (i + 3 <= n && !memcmp(s + i, "\xe2\x96\x81", 3)) {
            ai__buf_putc(b, ' ');
            i += 3;
        } else {
            ai__buf_putc(b, s[i++]);
        }
    }
}

/* Tokenizers that put a space before the first word: detokenizing drops it. */
static int strips_first_space(const struct ai__vocab *v) {
    return (v->type == AI__VOCAB_SPM && v->add_space_prefix) || v->type == AI__VOCAB_WPM;
}

ai_status ai_token_to_piece(const ai_model *m, int32_t token, uint32_t flags, char *buf,
                            size_t cap, size_t *needed) {
    const struct ai__vocab *v;
    if (needed) *needed = 0;
    ai_status st = get_vocab(m, &v);
    if (st) return st;
    if (token < 0 || token >= v->n_tokens) return AI_E_INVAL;
    ai__buf b = {0};
    piece(v, token, flags, &b);
    if (b.oom) st = AI_E_NOMEM;
    else st = ai__copy_out(b.p ? b.p : "", b.len, buf, cap, needed);
    ai__buf_free(&b);
    return st;
}

ai_status ai_detokenize(const ai_model *m, const int32_t *tokens, size_t n, uint32_t flags,
                        char *buf, size_t cap, size_t *needed) {
    const struct ai__vocab *v;
    if (needed) *needed = 0;
    if (!tokens && n) return AI_E_INVAL;
    ai_status st = get_vocab(m, &v);
    if (st) return st;
    ai__buf b = {0};
    int strip = strips_first_space(v);
    for (size_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= v->n_tokens) {
            ai__buf_free(&b);
            return AI_E_INVAL;
        }
        piece(v, tokens[i], flags, &b);
        if (strip && b.len > 0) { /* only the first text that comes out */
            if (b.p[0] == ' ') {
                memmove(b.p, b.p + 1, b.len - 1);
                b.len--;
            }
            strip = 0;
        }
    }
    if (b.oom) st = AI_E_NOMEM;
    else st = ai__copy_out(b.p ? b.p : "", b.len, buf, cap, needed);
    ai__buf_free(&b);
    return st;
}

/* ---- streaming ------------------------------------------------------------------------ */

struct ai_detokenizer {
    const struct ai__vocab *v;
    uint32_t flags;
    int started;        /* some text came out (the first-space rule is done) */
    uint8_t held[4];    /* a proper prefix of a UTF-8 sequence */
    size_t n_held;
};

ai_status ai_detokenizer_new(const ai_model *m, uint32_t flags, ai_detokenizer **out) {
    const struct ai__vocab *v;
    if (!out) return AI_E_INVAL;
    *out = NULL;
    if (flags & ~(AI_DETOKENIZE_RENDER_SPECIAL | AI_DETOKENIZE_CONTINUE)) return AI_E_INVAL;
    ai_status st = get_vocab(m, &v);
    if (st) return st;
    ai_detokenizer *d = calloc(1, sizeof *d);
    if (!d) return AI_E_NOMEM;
    d->v = v;
    d->flags = flags;
    d->started = (flags & AI_DETOKENIZE_CONTINUE) != 0;
    *out = d;
    return AI_OK;
}

void ai_detokenizer_free(ai_detokenizer *d) { free(d); }

/* Converts held + new bytes into complete UTF-8 in o; what remains a proper
 * prefix goes to *rest (at most 3 bytes).  At the end (final) a prefix
 * becomes U+FFFD per byte. */
static void complete(const uint8_t *p, size_t n, int final, ai__buf *o, uint8_t rest[4],
                     size_t *n_rest) {
    *n_rest = 0;
    for (size_t i = 0; i < n;) {
        int k = ai__utf8_check(p + i, n - i);
        if (k > 0) {
            ai__buf_put(o, p + i, (size_t)k);
            i += (size_t)k;
        } else if (k == 0 && !final) {
            memcpy(rest, p + i, n - i);
            *n_rest = n - i;
            return;
        } else {
            ai__buf_put(o, "\xef\xbf\xbd", 3);
            i++;
        }
    }
}

static ai_status stream_out(ai_detokenizer *d, ai__buf *in, int final, char *buf, size_t cap,
                            size_t *needed) {
    ai__buf o = {0};
    uint8_t rest[4];
    size_t n_rest;
    complete((const uint8_t *)in->p, in->len, final, &o, rest, &n_rest);
    size_t skip = 0;
    if (!d->started && o.len > 0 && o.p[0] == ' ' && strips_first_space(d->v)) skip = 1;
    ai_status st;
    if (o.oom || in->oom) st = AI_E_NOMEM;
    else st = ai__copy_out(o.len ? o.p + skip : "", o.len - skip, buf, cap, needed);
    if (st == AI_OK) { /* commit */
        if (o.len > 0) d->started = 1;
        memcpy(d->held, rest, n_rest);
        d->n_held = n_rest;
        if (final) d->started = (d->flags & AI_DETOKENIZE_CONTINUE) != 0;
    }
    ai__buf_free(&o);
    return st;
}

ai_status ai_detokenizer_push(ai_detokenizer *d, int32_t token, char *buf, size_t cap,
                              size_t *needed) {
    if (needed) *needed = 0;
    if (!d || token < 0 || token >= d->v->n_tokens) return AI_E_INVAL;
    ai__buf in = {0};
    ai__buf_put(&in, d->held, d->n_held);
    piece(d->v, token, d->flags, &in);
    ai_status st = stream_out(d, &in, 0, buf, cap, needed);
    ai__buf_free(&in);
    return st;
}

ai_status ai_detokenizer_flush(ai_detokenizer *d, char *buf, size_t cap, size_t *needed) {
    if (needed) *needed = 0;
    if (!d) return AI_E_INVAL;
    ai__buf in = {0};
    ai__buf_put(&in, d->held, d->n_held);
    ai_status st = stream_out(d, &in, 1, buf, cap, needed);
    ai__buf_free(&in);
    return st;
}

/* ---- accessors ----------------------------------------------------------------------- */

size_t ai_vocab_size(const ai_model *m) {
    return (m && m->vocab) ? (size_t)m->vocab->n_tokens : 0;
}

ai_status ai_vocab_special(const ai_model *m, int32_t which, int32_t *id) {
    const struct ai__vocab *v;
    if (!id) return AI_E_INVAL;
    *id = -1;
    ai_status st = get_vocab(m, &v);
    if (st) return st;
    int32_t x;
    switch (which) {
    case AI_SPECIAL_BOS: x = v->bos; break;
    case AI_SPECIAL_EOS: x = v->eos; break;
    case AI_SPECIAL_EOT: x = v->eot; break;
    case AI_SPECIAL_EOM: x = v->eom; break;
    case AI_SPECIAL_UNK: x = v->unk; break;
    case AI_SPECIAL_SEP: x = v->sep; break;
    case AI_SPECIAL_PAD: x = v->pad; break;
    case AI_SPECIAL_CLS: x = v->cls; break;
    case AI_SPECIAL_MASK: x = v->mask; break;
    case AI_SPECIAL_NL: x = v->nl; break;
    default: return AI_E_INVAL;
    }
    if (x < 0) return AI_E_NOT_FOUND;
    *id = x;
    return AI_OK;
}

ai_status ai_token_attr(const ai_model *m, int32_t token, uint32_t *attr) {
    const struct ai__vocab *v;
    if (!attr) return AI_E_INVAL;
    ai_status st = get_vocab(m, &v);
    if (st) return st;
    if (token < 0 || token >= v->n_tokens) return AI_E_INVAL;
    *attr = v->tokens[token].attr;
    return AI_OK;
}

ai_status ai_token_text(const ai_model *m, int32_t token, const char **text, size_t *len) {
    const struct ai__vocab *v;
    if (!text || !len) return AI_E_INVAL;
    ai_status st = get_vocab(m, &v);
    if (st) return st;
    if (token < 0 || token >= v->n_tokens) return AI_E_INVAL;
    *text = v->tokens[token].text;
    *len = v->tokens[token].len;
    return AI_OK;
}
