/*
 * tok_wpm.c - WordPiece ("bert" vocabularies), following the BERT
 * normaliser, pre-tokenizer and model of the reference (Hugging Face)
 * tokenizer of uncased BERT models such as BGE:
 *   - drop U+0000, U+FFFD and control characters (categories C*, except tab,
 *     CR and LF, which count as whitespace);
 *   - whitespace (White_Space) separates words;
 *   - every CJK ideograph is a word of its own;
 *   - accents are stripped (NFD, then marks of category Mn dropped) and the
 *     text is lower-cased;
 *   - every punctuation character (category P*, or ASCII punctuation and
 *     symbols) is a word of its own;
 *   - each word is split greedily into the longest vocabulary pieces from
 *     the left; a word of more than 100 characters, or one that cannot be
 *     split completely, becomes the unknown token.
 * In GGUF files the word-initial pieces carry a "▁" prefix and continuation
 * pieces have no "##" (the converter rewrote them), so a word is looked up
 * as "▁" + word.
 */
#include "vocab.h"

#include <stdlib.h>
#include <string.h>

#define MAX_WORD_CHARS 100

static int is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int is_bert_punct(uint32_t c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
        (c >= 123 && c <= 126))
        return 1;
    return ai__uc_is_punct(c);
}

static int is_control(uint32_t c) {
    if (c == '\t' || c == '\n' || c == '\r') return 0;
    int g = ai__uc_gc(c);
    return g == AI__GC_CC || g == AI__GC_CF || g == AI__GC_CN || g == AI__GC_CO ||
           g == AI__GC_CS;
}

/* One word (UTF-8 in w[3..3+n), with "▁" in w[0..3)) to tokens. */
static void word_pieces(const struct ai__vocab *v, const char *w, size_t n, size_t n_chars,
                        ai__toks *out) {
    size_t mark = out->n;
    if (n_chars > MAX_WORD_CHARS) goto unk;
    size_t i = 0, total = n + 3;
    while (i < total) {
        size_t end = total;
        if (end - i > v->max_token_len) end = i + v->max_token_len;
        int32_t id = -1;
        for (; end > i; end--) {
            /* only whole characters: never end before a continuation byte */
            if (end < total && ((uint8_t)w[end] & 0xC0) == 0x80) continue;
            id = ai__vocab_find(v, w + i, end - i);
            if (id >= 0) break;
        }
        if (id < 0) {
            out->n = mark;
            goto unk;
        }
        ai__toks_push(out, id);
        i = end;
    }
    return;
unk:
    if (v->unk >= 0) ai__toks_push(out, v->unk);
}

void ai__wpm_tokenize(const struct ai__vocab *v, const char *text, size_t len, ai__toks *out) {
    ai__u32vec cps = {0}, d = {0};
    ai__utf8_to_cps(text, len, &cps);
    /* the current word, UTF-8 after a "▁" prefix; 4 bytes per code point of
     * the NFD form at most, and NFD multiplies length by at most 18 */
    char *w = NULL;
    size_t wn = 0, wcap = 0, wchars = 0;
    if (cps.oom) goto oom;
    for (size_t i = 0; i <= cps.n; i++) {
        uint32_t c = i < cps.n ? cps.p[i] : ' ';
        if (c == 0 || c == AI__UC_REPLACEMENT || is_control(c)) continue;
        int space = ai__uc_is_space(c), cjk = is_cjk(c);
        d.n = 0;
        if (!space) ai__uc_nfd(&c, 1, &d);
        if (d.oom) goto oom;
        for (size_t k = 0; k <= d.n; k++) {
            /* k == d.n is a virtual separator for spaces / CJK ends */
            uint32_t x = k < d.n ? d.p[k] : 0;
            int sep_here = k == d.n ? (space || cjk) : 0;
            if (k < d.n && ai__uc_gc(x) == AI__GC_MN) continue;
            if (k < d.n) x = ai__uc_tolower(x);
            int alone = k < d.n && (cjk || is_bert_punct(x));
            if ((sep_here || alone) && wn > 0) {
                word_pieces(v, w, wn, wchars, out);
                wn = wchars = 0;
            }
            if (k == d.n) break;
            if (wn + 8 + 3 > wcap) {
                size_t cap = wcap ? wcap * 2 : 64;
                char *p = realloc(w, cap);
                if (!p) goto oom;
                w = p;
                wcap = cap;
            }
            if (wn == 0) memcpy(w, "\xe2\x96\x81", 3);
            wn += ai__utf8_encode(x, w + 3 + wn);
            wchars++;
            if (alone) {
                word_pieces(v, w, wn, wchars, out);
                wn = wchars = 0;
            }
        }
    }
    goto done;
oom:
    out->oom = 1;
done:
    ai__u32vec_free(&cps);
    ai__u32vec_free(&d);
    free(w);
}
