/*
 * tok_bpe.c - byte-level BPE ("gpt2" vocabularies: GPT-2, Llama 3, Qwen, ...).
 *
 * The text is decoded to code points (invalid bytes become U+FFFD, see
 * unicode.h), NFC-normalised when the vocabulary asks (Qwen), split into
 * words by the pre-tokenizer (tok_pre.c), and each word's UTF-8 bytes start
 * as one symbol per byte (the token of the byte's byte-level character).
 * Then the adjacent pair with the lowest merge rank is merged, leftmost
 * first among equal ranks, until no pair has a rank.  Pairs are kept in a
 * binary heap; entries made stale by a merge are recognised when popped (the
 * ids at both ends no longer match) and dropped.
 */
#include "vocab.h"

#include <stdlib.h>
#include <string.h>

typedef struct pair {
    uint32_t rank;
    uint32_t left;      /* symbol index of the left side */
    int32_t a, b;       /* ids the pair was made of, to detect stale entries */
} pair;

typedef struct work {
    int32_t *id;        /* per symbol: token id, -1 if the byte has none */
    int32_t *prev, *next;
    pair *heap;
    size_t cap, heap_cap, n_heap;
    char *bytes;        /* the word's UTF-8 */
    size_t bytes_cap;
    char *mapped;       /* the word in byte-level form (ignore_merges) */
    size_t mapped_cap;
    int oom;
} work;

/* Makes room for `need` elements of `elem` bytes in *p (capacity *cap);
 * -1 on failure, leaving *p as it was. */
#define GROW(p, cap, need) grow_impl((void *)&(p), &(cap), (need), sizeof *(p))
static int grow_impl(void *pp, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *old;
    memcpy(&old, pp, sizeof old);
    void *q = c > SIZE_MAX / elem ? NULL : realloc(old, c * elem);
    if (!q) return -1;
    memcpy(pp, &q, sizeof q);
    *cap = c;
    return 0;
}

static int reserve(work *w, size_t n) {
    if (n <= w->cap) return 0;
    size_t c = w->cap, c1 = c, c2 = c;
    if (GROW(w->id, c, n) || GROW(w->prev, c1, n) || GROW(w->next, c2, n)) return -1;
    w->cap = c;
    return 0;
}

static int before(const pair *x, const pair *y) {
    return x->rank != y->rank ? x->rank < y->rank : x->left < y->left;
}

static void heap_push(work *w, pair p) {
    if (GROW(w->heap, w->heap_cap, w->n_heap + 1)) {
        w->oom = 1;
        return;
    }
    size_t i = w->n_heap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&p, &w->heap[parent])) break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = p;
}

static pair heap_pop(work *w) {
    pair top = w->heap[0], last = w->heap[--w->n_heap];
    size_t i = 0, n = w->n_heap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const pair *best = &last;
        if (l < n && before(&w->heap[l], best)) {
            m = l;
            best = &w->heap[l];
        }
        if (r < n && before(&w->heap[r], best)) m = r;
        if (m == i) break;
        w->heap[i] = w->heap[m];
        i = m;
    }
    if (n) w->heap[i] = last;
    return top;
}

static void try_pair(const struct ai__vocab *v, work *w, int32_t l) {
    if (l < 0) return;
    int32_t r = w->next[l];
    if (r < 0 || w->id[l] < 0 || w->id[r] < 0) return;
    int32_t m;
    int64_t rank = ai__vocab_merge(v, w->id[l], w->id[r], &m);
    if (rank < 0) return;
    heap_push(w, (pair){(uint32_t)rank, (uint32_t)l, w->id[l], w->id[r]});
}

/* BPE of one word given as bytes. */
static void bpe_word(const struct ai__vocab *v, work *w, const uint8_t *s, size_t n,
                     ai__toks *out) {
    if (v->ignore_merges) {
        /* Llama 3: a word that is a token as a whole is taken as it is.  The
         * vocabulary holds it in byte-level form (2 bytes per byte at most). */
        if (GROW(w->mapped, w->mapped_cap, 2 * n + 1)) {
            w->oom = 1;
            return;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(w->mapped + k, v->byte_chr[s[i]], v->byte_chr_len[s[i]]);
            k += v->byte_chr_len[s[i]];
        }
        int32_t id = ai__vocab_find(v, w->mapped, k);
        if (id >= 0) {
            ai__toks_push(out, id);
            return;
        }
    }
    if (reserve(w, n)) {
        w->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        w->id[i] = v->byte_tok[s[i]];
        w->prev[i] = (int32_t)i - 1;
        w->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    w->n_heap = 0;
    for (size_t i = 0; i + 1 < n; i++) try_pair(v, w, (int32_t)i);
    while (w->n_heap && !w->oom) {
        pair p = heap_pop(w);
        int32_t l = (int32_t)p.left, r = w->next[l];
        if (w->id[l] != p.a || r < 0 || w->id[r] != p.b) continue; /* stale */
        int32_t m;
        ai__vocab_merge(v, p.a, p.b, &m);
        w->id[l] = m;
        w->id[r] = -2; /* dead */
        w->next[l] = w->next[r];
        if (w->next[r] >= 0) w->prev[w->next[r]] = l;
        try_pair(v, w, w->prev[l]);
        try_pair(v, w, l);
    }
    for (int32_t i = 0; i >= 0; i = w->next[i]) {
        int32_t id = w->id[i];
        if (id >= 0) ai__toks_push(out, id);
        else if (v->unk >= 0) ai__toks_push(out, v->unk);
    }
}

void ai__bpe_tokenize(const struct ai__vocab *v, const char *text, size_t len, ai__toks *out) {
    ai__u32vec cps = {0}, norm = {0}, ends = {0};
    work w = {0};
    ai__utf8_to_cps(text, len, &cps);
    const uint32_t *c = cps.p;
    size_t n = cps.n;
    if (v->nfc && !cps.oom) {
        ai__uc_nfc(cps.p, cps.n, &norm);
        c = norm.p;
        n = norm.n;
    }
    if (cps.oom || norm.oom) goto done;
    ai__pretokenize(v->pre, c, n, &ends);
    if (ends.oom) goto done;
    size_t s = 0;
    for (size_t k = 0; k < ends.n && !w.oom && !out->oom; k++) {
        size_t e = ends.p[k];
        /* the word's UTF-8 into w.bytes (at most 4 bytes per code point) */
        if (GROW(w.bytes, w.bytes_cap, 4 * (e - s) + 1)) {
            w.oom = 1;
            break;
        }
        size_t nb = 0;
        for (size_t i = s; i < e; i++) nb += ai__utf8_encode(c[i], w.bytes + nb);
        bpe_word(v, &w, (const uint8_t *)w.bytes, nb, out);
        s = e;
    }
done:
    if (cps.oom || norm.oom || ends.oom || w.oom) out->oom = 1;
    ai__u32vec_free(&cps);
    ai__u32vec_free(&norm);
    ai__u32vec_free(&ends);
    free(w.id);
    free(w.prev);
    free(w.next);
    free(w.heap);
    free(w.bytes);
    free(w.mapped);
}
