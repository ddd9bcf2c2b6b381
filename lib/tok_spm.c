/*
 * tok_spm.c - SentencePiece BPE ("llama" vocabularies), as llama.cpp runs it
 * on GGUF files: spaces become U+2581 "▁" (plus one in front of the text when
 * add_space_prefix is set and the run starts the text or follows a special
 * token), the text starts as one symbol per UTF-8 character, and the adjacent
 * pair whose concatenation is the vocabulary piece with the highest score is
 * merged (leftmost first on ties) until no pair forms a piece.  A final
 * symbol that is not a piece is written as its bytes' <0xXX> tokens (byte
 * fallback), or as the unknown token when the vocabulary has no byte tokens.
 * Control, unknown and byte tokens are never produced by merging.
 */
#include "vocab.h"

#include <stdlib.h>
#include <string.h>

typedef struct sym {
    uint32_t off, n;     /* bytes in the escaped text; n = 0 once merged away */
    int32_t prev, next;
} sym;

typedef struct bigram {
    float score;
    uint32_t left, right, size;
} bigram;

typedef struct heap {
    bigram *p;
    size_t n, cap;
    int oom;
} heap;

static int better(const bigram *x, const bigram *y) {
    if (x->score != y->score) return x->score > y->score;
    return x->left < y->left;
}

static void push(heap *h, bigram b) {
    if (h->oom) return;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        bigram *p = cap > SIZE_MAX / sizeof *p ? NULL : realloc(h->p, cap * sizeof *p);
        if (!p) {
            h->oom = 1;
            return;
        }
        h->p = p;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0 && better(&b, &h->p[(i - 1) / 2])) {
        h->p[i] = h->p[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->p[i] = b;
}

static bigram pop(heap *h) {
    bigram top = h->p[0], last = h->p[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const bigram *best = &last;
        if (l < h->n && better(&h->p[l], best)) {
            m = l;
            best = &h->p[l];
        }
        if (r < h->n && better(&h->p[r], best)) m = r;
        if (m == i) break;
        h->p[i] = h->p[m];
        i = m;
    }
    if (h->n) h->p[i] = last;
    return top;
}

static void try_bigram(const struct ai__vocab *v, const char *text, const sym *s, int32_t l,
                       int32_t r, heap *h) {
    if (l < 0 || r < 0) return;
    uint32_t size = s[l].n + s[r].n;
    int32_t id = ai__vocab_find(v, text + s[l].off, size);
    if (id < 0) return;
    const uint32_t never = AI_TOKEN_ATTR_CONTROL | AI_TOKEN_ATTR_UNKNOWN | AI_TOKEN_ATTR_BYTE;
    if (v->tokens[id].attr & never) return;
    push(h, (bigram){v->tokens[id].score, (uint32_t)l, (uint32_t)r, size});
}

/* Merges symbols [a, e) (linked among themselves only) and emits them. */
static void merge_segment(const struct ai__vocab *v, const char *buf, sym *s, size_t a,
                          size_t e, heap *h, ai__toks *out) {
    s[a].prev = -1;
    s[e - 1].next = -1;
    h->n = 0;
    for (size_t i = a + 1; i < e; i++) try_bigram(v, buf, s, (int32_t)i - 1, (int32_t)i, h);
    while (h->n && !h->oom) {
        bigram b = pop(h);
        sym *l = &s[b.left], *r = &s[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = (int32_t)b.left;
        try_bigram(v, buf, s, l->prev, (int32_t)b.left, h);
        try_bigram(v, buf, s, (int32_t)b.left, l->next, h);
    }
    for (int32_t i = (int32_t)a; i >= 0; i = s[i].next) {
        int32_t id = ai__vocab_find(v, buf + s[i].off, s[i].n);
        if (id >= 0 && !(v->tokens[id].attr & (AI_TOKEN_ATTR_CONTROL | AI_TOKEN_ATTR_BYTE))) {
            ai__toks_push(out, id);
            continue;
        }
        for (uint32_t j = 0; j < s[i].n; j++) {
            int32_t bt = v->byte_tok[(uint8_t)buf[s[i].off + j]];
            if (bt >= 0) ai__toks_push(out, bt);
            else if (v->unk >= 0) {
                ai__toks_push(out, v->unk);
                break; /* one unknown token per character */
            }
        }
    }
}

void ai__spm_tokenize(const struct ai__vocab *v, const char *text, size_t len, int first,
                      ai__toks *out) {
    /* escaped text: ▁ prefix, spaces as ▁, invalid bytes as U+FFFD */
    ai__u32vec cps = {0};
    ai__utf8_to_cps(text, len, &cps);
    size_t n_sym = cps.n + (first && v->add_space_prefix ? 1 : 0);
    char *buf = NULL;
    sym *s = NULL;
    heap h = {0};
    if (cps.oom || n_sym > UINT32_MAX / 4) goto oom;
    buf = malloc(4 * n_sym + 1);
    s = malloc((n_sym ? n_sym : 1) * sizeof *s);
    if (!buf || !s) goto oom;
    size_t nb = 0, k = 0;
    for (size_t i = 0; i < n_sym; i++) {
        int pre = first && v->add_space_prefix;
        uint32_t c = (pre && i == 0) ? ' ' : cps.p[i - (size_t)pre];
        s[k].off = (uint32_t)nb;
        if (c == ' ') {
            memcpy(buf + nb, "\xe2\x96\x81", 3);
            nb += 3;
        } else {
            nb += ai__utf8_encode(c, buf + nb);
        }
        s[k].n = (uint32_t)nb - s[k].off;
        s[k].prev = (int32_t)k - 1;
        s[k].next = k + 1 < n_sym ? (int32_t)k + 1 : -1;
        k++;
    }
    /* merge each segment between walls (see spm_wall in vocab.h) alone */
    size_t seg = 0;
    for (size_t i = 0; i <= n_sym && !h.oom; i++) {
        int wall = i < n_sym && s[i].n == 1 && (uint8_t)buf[s[i].off] < 128 &&
                   v->spm_wall[(uint8_t)buf[s[i].off]];
        if (i < n_sym && !wall) continue;
        if (seg < i) merge_segment(v, buf, s, seg, i, &h, out);
        if (wall) merge_segment(v, buf, s, i, i + 1, &h, out);
        seg = i + 1;
    }
    if (h.oom) goto oom;
    goto done;
oom:
    out->oom = 1;
done:
    ai__u32vec_free(&cps);
    free(buf);
    free(s);
    free(h.p);
}
