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
    int32_t m;          /* the merged token */
} pair;

/* A per-call direct-mapped cache in front of the vocabulary's merge table:
 * that table is megabytes (Llama 3: 280k merges) and every probe misses the
 * CPU cache, while the pairs a text asks for repeat a lot. */
#define PAIR_CACHE 16384
typedef struct pslot {
    uint64_t key;        /* (a << 32 | b) + 1; 0 = empty */
    uint32_t rank;       /* UINT32_MAX: no merge */
    int32_t out;
} pslot;

typedef struct work {
    pslot *pc;          /* PAIR_CACHE slots, or NULL when it could not be allocated */
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

/* Rank of the pair (a, b) and its merged token; UINT32_MAX when none. */
static uint32_t pair_rank(const struct ai__vocab *v, pslot *pc, int32_t a, int32_t b,
                          int32_t *m) {
    if (a < 0 || b < 0) return UINT32_MAX;
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    pslot *e = NULL;
    if (pc) {
        uint64_t h = key * 0x9E3779B97F4A7C15ull;
        e = &pc[(h >> 40) & (PAIR_CACHE - 1)];
        if (e->key == key) {
            *m = e->out;
            return e->rank;
        }
    }
    int64_t r = ai__vocab_merge(v, a, b, m);
    uint32_t rank = r < 0 ? UINT32_MAX : (uint32_t)r;
    if (e) *e = (pslot){key, rank, r < 0 ? -1 : *m};
    return rank;
}

static void try_pair(const struct ai__vocab *v, work *w, int32_t l) {
    if (l < 0) return;
    int32_t r = w->next[l];
    if (r < 0) return;
    int32_t m;
    uint32_t rank = pair_rank(v, w->pc, w->id[l], w->id[r], &m);
    if (rank == UINT32_MAX) return;
    heap_push(w, (pair){rank, (uint32_t)l, w->id[l], w->id[r], m});
}

/* Short words (most of them): the symbols in plain arrays, the lowest rank
 * found by a scan (leftmost wins ties), the merged pair removed by moving
 * the tail down.  Same result as the heap, less overhead. */
#define SMALL_WORD 40
static void bpe_small(const struct ai__vocab *v, pslot *pc, const uint8_t *s, size_t n,
                      ai__toks *out) {
    int32_t id[SMALL_WORD], mid[SMALL_WORD];
    uint32_t rank[SMALL_WORD];
    size_t k = n;
    for (size_t i = 0; i < k; i++) id[i] = v->byte_tok[s[i]];
    for (size_t i = 0; i + 1 < k; i++) rank[i] = pair_rank(v, pc, id[i], id[i + 1], &mid[i]);
    while (k > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < k; i++)
            if (rank[i] < rank[best]) best = i;
        if (rank[best] == UINT32_MAX) break;
        id[best] = mid[best];
        memmove(id + best + 1, id + best + 2, (k - best - 2) * sizeof *id);
        memmove(rank + best, rank + best + 1, (k - best - 2) * sizeof *rank);
        memmove(mid + best, mid + best + 1, (k - best - 2) * sizeof *mid);
        k--;
        if (best > 0) rank[best - 1] = pair_rank(v, pc, id[best - 1], id[best], &mid[best - 1]);
        if (best + 1 < k) rank[best] = pair_rank(v, pc, id[best], id[best + 1], &mid[best]);
    }
    for (size_t i = 0; i < k; i++) {
        if (id[i] >= 0) ai__toks_push(out, id[i]);
        else if (v->unk >= 0) ai__toks_push(out, v->unk);
    }
}

/* BPE of one word given as bytes. */
static void bpe_word(const struct ai__vocab *v, work *w, const uint8_t *s, size_t n,
                     ai__toks *out) {
    if (v->ignore_merges && n <= v->max_token_len) {
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
    if (n <= SMALL_WORD) {
        bpe_small(v, w->pc, s, n, out);
        return;
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
        w->id[l] = p.m;
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

/* A per-call cache of word -> tokens: natural text and code repeat their
 * words, and a hit skips the merges.  Short words only; the table grows up
 * to a fixed size and then stops taking new words. */
#define CACHE_WORD_MAX 32
#define CACHE_MAX_SLOTS (1u << 17)
typedef struct wslot {
    uint64_t h;          /* 0 = empty */
    uint32_t koff, klen; /* key bytes in keys */
    uint32_t toff, tn;   /* tokens in toks */
} wslot;
typedef struct wcache {
    wslot *slot;
    size_t cap, used;
    char *keys;
    size_t keys_n, keys_cap;
    int32_t *toks;
    size_t toks_n, toks_cap;
    int full;
} wcache;

static uint64_t whash(const uint8_t *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001B3ull;
    h ^= h >> 31;
    return h | 1;
}

static const wslot *cache_get(const wcache *c, const uint8_t *s, size_t n, uint64_t h) {
    if (!c->cap) return NULL;
    for (size_t i = (size_t)h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        const wslot *e = &c->slot[i];
        if (!e->h) return NULL;
        if (e->h == h && e->klen == n && !memcmp(c->keys + e->koff, s, n)) return e;
    }
}

static void cache_put(wcache *c, const uint8_t *s, size_t n, uint64_t h, const int32_t *t,
                      size_t tn) {
    if (c->full) return;
    if ((c->used + 1) * 2 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        if (cap > CACHE_MAX_SLOTS) {
            c->full = 1;
            return;
        }
        wslot *ns = calloc(cap, sizeof *ns);
        if (!ns) {
            c->full = 1;
            return;
        }
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->slot[i].h) continue;
            size_t j = (size_t)c->slot[i].h & (cap - 1);
            while (ns[j].h) j = (j + 1) & (cap - 1);
            ns[j] = c->slot[i];
        }
        free(c->slot);
        c->slot = ns;
        c->cap = cap;
    }
    if (GROW(c->keys, c->keys_cap, c->keys_n + n) || GROW(c->toks, c->toks_cap, c->toks_n + tn)) {
        c->full = 1;
        return;
    }
    size_t i = (size_t)h & (c->cap - 1);
    while (c->slot[i].h) i = (i + 1) & (c->cap - 1);
    c->slot[i] = (wslot){h, (uint32_t)c->keys_n, (uint32_t)n, (uint32_t)c->toks_n, (uint32_t)tn};
    memcpy(c->keys + c->keys_n, s, n);
    if (tn) memcpy(c->toks + c->toks_n, t, tn * sizeof *t);
    c->keys_n += n;
    c->toks_n += tn;
    c->used++;
}

void ai__bpe_tokenize(const struct ai__vocab *v, const char *text, size_t len, ai__toks *out) {
    ai__u32vec cps = {0}, norm = {0}, ends = {0};
    work w = {0};
    wcache cache = {0};
    /* the pair cache pays off on long texts only (NULL just skips it) */
    if (len >= 4096) w.pc = calloc(PAIR_CACHE, sizeof *w.pc);
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
        const uint8_t *wb = (const uint8_t *)w.bytes;
        if (nb <= CACHE_WORD_MAX) {
            uint64_t h = whash(wb, nb);
            const wslot *hit = cache_get(&cache, wb, nb, h);
            if (hit) {
                for (uint32_t i = 0; i < hit->tn; i++) ai__toks_push(out, cache.toks[hit->toff + i]);
            } else {
                size_t mark = out->n;
                bpe_word(v, &w, wb, nb, out);
                if (!out->oom) cache_put(&cache, wb, nb, h, out->p + mark, out->n - mark);
            }
        } else {
            bpe_word(v, &w, wb, nb, out);
        }
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
    free(w.pc);
    free(cache.slot);
    free(cache.keys);
    free(cache.toks);
}
