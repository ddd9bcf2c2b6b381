/*
 * sampler.c - picks the next token from a row of logits.  The chain, in
 * order:
 *
 *   penalties   repetition (divide positive / multiply negative logits),
 *               presence and frequency, over the last N tokens
 *   greedy      when temperature <= 0: the best token, lowest id on ties
 *   top-k       keep the k best
 *   top-p       keep the smallest head whose probability reaches p
 *   min-p       keep tokens with probability >= min_p * the best one's
 *   temperature reshape the survivors' distribution, then draw
 *
 * top-p and min-p judge the model's own distribution (temperature 1); the
 * temperature only reshapes what survives them.  Candidates are ordered by
 * logit, then by id, so a seed fixes the output completely; nothing here
 * depends on the thread count.
 */
#include "runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double ai__rand_unit(uint64_t *state) {
    /* splitmix64: one state word, good enough statistics for sampling */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

ai_status ai__sampler_init(ai__sampler *s, const ai__sparams *p,
                           int64_t n_vocab) {
    memset(s, 0, sizeof *s);
    if (!p || n_vocab <= 0) return AI_E_INVAL;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->rng = p->seed;
    s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
    s->count = calloc((size_t)n_vocab, sizeof *s->count);
    if (!s->cand || !s->count) {
        ai__sampler_free(s);
        return AI_E_NOMEM;
    }
    return AI_OK;
}

void ai__sampler_free(ai__sampler *s) {
    if (!s) return;
    free(s->cand);
    free(s->count);
    s->cand = NULL;
    s->count = NULL;
}

void ai__sampler_reseed(ai__sampler *s, uint64_t seed) {
    s->p.seed = seed;
    s->rng = seed;
}

/* a ranks before b: higher logit, then lower id */
static int better(const ai__cand *a, const ai__cand *b) {
    return a->v > b->v || (a->v == b->v && a->id < b->id);
}

static int cmp_cand(const void *pa, const void *pb) {
    const ai__cand *a = pa, *b = pb;
    if (better(a, b)) return -1;
    if (better(b, a)) return 1;
    return 0;
}

static void penalize(ai__sampler *s, const int32_t *hist, size_t n_hist) {
    const ai__sparams *p = &s->p;
    if (p->last_n <= 0 || !hist || n_hist == 0) return;
    if (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f &&
        p->frequency_penalty == 0.0f)
        return;
    size_t w0 = n_hist > (size_t)p->last_n ? n_hist - (size_t)p->last_n : 0;
    for (size_t i = w0; i < n_hist; i++)
        if (hist[i] >= 0 && hist[i] < s->n_vocab) s->count[hist[i]]++;
    for (size_t i = w0; i < n_hist; i++) {
        int32_t t = hist[i];
        if (t < 0 || t >= s->n_vocab || s->count[t] == 0) continue;
        float v = s->cand[t].v;
        if (p->repeat_penalty != 1.0f)
            v = v > 0 ? v / p->repeat_penalty : v * p->repeat_penalty;
        v -= (float)s->count[t] * p->frequency_penalty + p->presence_penalty;
        s->cand[t].v = v;
        s->count[t] = 0; /* once per distinct token; leaves count zeroed */
    }
}

/* Moves the k best of c[0..n) to c[0..k), sorted (a bounded min-heap:
 * O(n log k), as the vocabulary can be large and k small). */
static void keep_top_k(ai__cand *c, int64_t n, int64_t k) {
    /* heap on c[0..k): the root is the worst of the kept */
    for (int64_t i = 0; i < n; i++) {
        ai__cand x = c[i];
        int64_t size = i < k ? i : k;
        if (i >= k) {
            if (!better(&x, &c[0])) continue;
            /* replace the root and sift down */
            int64_t j = 0;
            for (;;) {
                int64_t l = 2 * j + 1, r = l + 1, m = j;
                const ai__cand *cm = &x;
                if (l < size && better(cm, &c[l])) m = l, cm = &c[l];
                if (r < size && better(cm, &c[r])) m = r, cm = &c[r];
                if (m == j) break;
                c[j] = c[m];
                j = m;
            }
            c[j] = x;
        } else {
            /* append and sift up */
            int64_t j = size;
            while (j > 0) {
                int64_t parent = (j - 1) / 2;
                if (!better(&c[parent], &x)) break;
                c[j] = c[parent];
                j = parent;
            }
            c[j] = x;
        }
    }
    qsort(c, (size_t)k, sizeof *c, cmp_cand);
}

int32_t ai__sampler_sample(ai__sampler *s, const float *logits,
                           const int32_t *hist, size_t n_hist) {
    const ai__sparams *p = &s->p;
    int64_t n = s->n_vocab;
    ai__cand *c = s->cand;
    for (int64_t i = 0; i < n; i++) {
        c[i].id = (int32_t)i;
        c[i].v = isnan(logits[i]) ? -INFINITY : logits[i];
    }
    penalize(s, hist, n_hist);

    if (p->temperature <= 0.0f) {
        int64_t best = 0;
        for (int64_t i = 1; i < n; i++)
            if (better(&c[i], &c[best])) best = i;
        return c[best].id;
    }

    /* the candidates, best first */
    if (p->top_k > 0 && p->top_k < n) {
        keep_top_k(c, n, p->top_k);
        n = p->top_k;
    } else {
        if (p->min_p > 0.0f) {
            /* p_i >= min_p * p_max  <=>  v_i >= v_max + log(min_p): drop the
             * rest before sorting */
            float max = c[0].v;
            for (int64_t i = 1; i < n; i++)
                if (c[i].v > max) max = c[i].v;
            float cut = max + logf(p->min_p);
            int64_t m = 0;
            for (int64_t i = 0; i < n; i++)
                if (c[i].v >= cut) c[m++] = c[i];
            n = m;
        }
        qsort(c, (size_t)n, sizeof *c, cmp_cand);
    }

    /* probabilities at temperature 1, for top-p and min-p */
    float max = c[0].v;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += exp((double)c[i].v - max);
    if (p->top_p < 1.0f) {
        double cum = 0.0;
        int64_t i = 0;
        while (i < n) {
            cum += exp((double)c[i].v - max) / sum;
            i++;
            if (cum >= p->top_p) break;
        }
        n = i;
    }
    if (p->min_p > 0.0f) {
        /* the best token's probability is exp(0)/sum */
        int64_t i = 1;
        while (i < n && exp((double)c[i].v - max) >= p->min_p) i++;
        n = i;
    }

    /* temperature, then one draw */
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double w = exp(((double)c[i].v - max) / p->temperature);
        c[i].v = (float)w;
        total += w;
    }
    double u = ai__rand_unit(&s->rng) * total, acc = 0.0;
    for (int64_t i = 0; i < n; i++) {
        acc += c[i].v;
        if (u < acc) return c[i].id;
    }
    return c[n - 1].id;
}
