/*
 * bench_kvcache.c - what a q8_0 (and f16) KV cache costs in quality, on the
 * fixture models (issue 9).  Numbers only; nothing is asserted (the
 * acceptance checks are in test_decoder and test_sessions).
 *
 * For each decoder fixture:
 *  - against the peer (refs/MODEL.pN.json, llama.cpp with an f16 cache):
 *    max |d log-prob| over the peer's top-16 at every prompt position, and
 *    whether the 16-step greedy continuation is the same, per cache type;
 *  - against our own f32 cache on a long random sequence (N positions, all
 *    logits kept): mean and max |d log-prob| over the whole vocabulary, the
 *    mean KL divergence KL(f32 || type), and top-1 agreement;
 *  - the bytes a position takes in the cache.
 * Usage: bench_kvcache [N]   (AI_FIXTURES names the fixtures folder)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentinfer.h"
#include "json.h"

static const char *fx;

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static ai_session *open_s(ai_model *m, int kv, int n_ctx) {
    ai_opts *o;
    ai_opts_new(&o);
    ai_opts_set_int(o, AI_OPT_N_CTX, n_ctx);
    ai_opts_set_int(o, AI_OPT_KV_TYPE, kv);
    ai_opts_set_int(o, AI_OPT_N_THREADS, 2);
    ai_opts_set_double(o, AI_OPT_TEMPERATURE, 0.0);
    ai_session *s = NULL;
    char err[256];
    if (ai_session_new(m, o, &s, err, sizeof err) != AI_OK) fprintf(stderr, "%s\n", err);
    ai_opts_free(o);
    return s;
}

static void logprobs(float *l, int64_t n) {
    float mx = l[0];
    for (int64_t i = 1; i < n; i++) mx = l[i] > mx ? l[i] : mx;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += exp((double)l[i] - mx);
    float lse = mx + (float)log(s);
    for (int64_t i = 0; i < n; i++) l[i] -= lse;
}

static int64_t argmax(const float *l, int64_t n) {
    int64_t b = 0;
    for (int64_t i = 1; i < n; i++)
        if (l[i] > l[b]) b = i;
    return b;
}

/* All log-probs of tokens[0..n) with cache type kv: [n][n_vocab]. */
static float *all_logprobs(ai_model *m, int kv, const int32_t *t, size_t n, int64_t *nv) {
    ai_session *s = open_s(m, kv, (int)n + 32);
    if (!s || ai_session_eval(s, t, n, AI_EVAL_LOGITS_ALL) != AI_OK) {
        ai_session_free(s);
        return NULL;
    }
    *nv = ai_session_n_vocab(s);
    float *out = malloc(n * (size_t)*nv * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        ai_session_logits(s, (int32_t)i, out + i * (size_t)*nv, (size_t)*nv, NULL);
        logprobs(out + i * (size_t)*nv, *nv);
    }
    ai_session_free(s);
    return out;
}

/* Against the peer's reference file. */
static void vs_peer(ai_model *m, const char *ref, int kv) {
    char path[512];
    snprintf(path, sizeof path, "%s/refs/%s.json", fx, ref);
    size_t len;
    char *text = slurp(path, &len);
    if (!text) return;
    ai__json *root = NULL;
    char err[128];
    if (ai__json_parse(text, len, &root, err, sizeof err) != AI_OK) {
        free(text);
        return;
    }
    const ai__json *toks = ai__json_get(root, "tokens"), *pos = ai__json_get(root, "positions");
    const ai__json *greedy = ai__json_get(root, "greedy");
    size_t n = toks->n;
    int32_t *t = malloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++) t[i] = (int32_t)ai__json_num(toks->items[i]);
    int64_t nv = 0;
    float *lp = all_logprobs(m, kv, t, n, &nv);
    double worst = 0;
    for (size_t i = 0; lp && i < n; i++) {
        const ai__json *e = pos->items[i], *top = ai__json_get(e, "top");
        double rl = ai__json_num(ai__json_get(e, "lse"));
        for (size_t j = 0; j < top->n; j++) {
            int32_t id = (int32_t)ai__json_num(top->items[j]->items[0]);
            double d = fabs(lp[i * (size_t)nv + (size_t)id] -
                            (ai__json_num(top->items[j]->items[1]) - rl));
            worst = d > worst ? d : worst;
        }
    }
    /* greedy continuation */
    ai_session *s = open_s(m, kv, (int)n + 32);
    int same = 0;
    if (s && ai_session_eval(s, t, n, 0) == AI_OK) {
        for (size_t k = 0; k < greedy->n; k++) {
            int32_t tok;
            if (ai_session_next_token(s, &tok) != AI_OK) break;
            if (tok != (int32_t)ai__json_num(ai__json_get(greedy->items[k], "id"))) break;
            same++;
        }
    }
    printf("    vs peer %-16s %-5s: max |dlogp| top-16 %.4f, greedy %d/%zu\n", ref,
           ai_type_name(kv), worst, same, greedy->n);
    ai_session_free(s);
    free(lp);
    free(t);
    ai__json_free(root);
    free(text);
}

int main(int argc, char **argv) {
    fx = getenv("AI_FIXTURES") ? getenv("AI_FIXTURES") : "../shared/fixtures";
    size_t N = argc > 1 ? (size_t)atol(argv[1]) : 512;
    static const char *models[] = {"llama-f16", "qwen2-f16", "qwen3-f16", "llama-q4_k_m"};
    static const int kvs[] = {AI_TYPE_F16, AI_TYPE_Q8_0};
    printf("KV cache quality (reference: f32 cache, %zu random tokens; and the peer)\n", N);
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        char path[512];
        snprintf(path, sizeof path, "%s/models/%s.gguf", fx, models[mi]);
        ai_model *m = NULL;
        char err[256];
        if (ai_model_load(path, NULL, &m, err, sizeof err) != AI_OK) {
            printf("%s: %s\n", models[mi], err);
            continue;
        }
        printf("  %s\n", models[mi]);
        int32_t *t = malloc(N * sizeof *t);
        uint64_t st = 0x9E3779B97F4A7C15ull ^ mi;
        size_t nvocab = ai_vocab_size(m);
        for (size_t i = 0; i < N; i++) {
            st ^= st << 13, st ^= st >> 7, st ^= st << 17;
            t[i] = (int32_t)(st % nvocab);
        }
        int64_t nv = 0;
        float *ref = all_logprobs(m, AI_TYPE_F32, t, N, &nv);
        for (size_t k = 0; ref && k < 2; k++) {
            float *lp = all_logprobs(m, kvs[k], t, N, &nv);
            double sum = 0, mx = 0, kl = 0;
            size_t agree = 0, cnt = 0;
            for (size_t i = 0; lp && i < N; i++) {
                const float *a = ref + i * (size_t)nv, *b = lp + i * (size_t)nv;
                double kli = 0;
                for (int64_t j = 0; j < nv; j++) {
                    double d = fabs((double)a[j] - b[j]);
                    sum += d;
                    mx = d > mx ? d : mx;
                    kli += exp(a[j]) * ((double)a[j] - b[j]);
                }
                kl += kli;
                cnt += (size_t)nv;
                agree += argmax(a, nv) == argmax(b, nv);
            }
            ai_session *s = open_s(m, kvs[k], 64);
            int32_t one = t[0];
            ai_session_eval(s, &one, 1, 0);
            printf("    vs f32 cache %-5s: mean |dlogp| %.2e, max %.2e, mean KL %.2e nats, "
                   "top-1 agrees %zu/%zu; %lld bytes/position\n",
                   ai_type_name(kvs[k]), sum / (double)cnt, mx, kl / (double)N, agree, N,
                   (long long)ai_session_state_size(s) - 4 - (long long)nv * 4);
            ai_session_free(s);
            free(lp);
        }
        ai_session *s = open_s(m, AI_TYPE_F32, 64);
        int32_t one = t[0];
        ai_session_eval(s, &one, 1, 0);
        printf("    (f32 cache: %lld bytes/position)\n",
               (long long)ai_session_state_size(s) - 4 - (long long)nv * 4);
        ai_session_free(s);
        for (int p = 0; p < 2; p++) {
            char ref_name[64];
            snprintf(ref_name, sizeof ref_name, "%s.p%d", models[mi], p);
            for (size_t k = 0; k < 2; k++) vs_peer(m, ref_name, kvs[k]);
        }
        free(ref);
        free(t);
        ai_model_free(m);
    }
    return 0;
}
