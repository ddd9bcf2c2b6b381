/* test_sampler.c - the sampling chain: greedy, penalties, top-k, top-p,
 * min-p and temperature against distributions worked out by hand, and
 * seeded determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "runtime.h"
#include "testutil.h"

static ai__sparams greedy(void) {
    ai__sparams p = {0};
    p.temperature = 0;
    p.top_p = 1;
    p.repeat_penalty = 1;
    p.last_n = 64;
    return p;
}

static int32_t pick(const ai__sparams *p, const float *logits, int n,
                    const int32_t *hist, size_t n_hist) {
    ai__sampler s;
    assert_int_equal(ai__sampler_init(&s, p, n), AI_OK);
    int32_t t = ai__sampler_sample(&s, logits, hist, n_hist);
    ai__sampler_free(&s);
    return t;
}

static void test_greedy(void **state) {
    (void)state;
    ai__sparams p = greedy();
    float l[5] = {0.1f, 2.0f, -1.0f, 2.0f, 1.9f};
    assert_int_equal(pick(&p, l, 5, NULL, 0), 1); /* tie: lowest id */
    float nan_l[3] = {NAN, 0.5f, 0.2f};
    assert_int_equal(pick(&p, nan_l, 3, NULL, 0), 1); /* NaN never wins */
}

static void test_penalties(void **state) {
    (void)state;
    ai__sparams p = greedy();
    int32_t h0[1] = {0};
    /* repetition: positive logits are divided, 2/2 = 1 < 1.5 */
    p.repeat_penalty = 2;
    float a[2] = {2.0f, 1.5f};
    assert_int_equal(pick(&p, a, 2, h0, 1), 1);
    /* negative logits are multiplied: -1*2 = -2 < -1.5 */
    float b[2] = {-1.0f, -1.5f};
    assert_int_equal(pick(&p, b, 2, h0, 1), 1);
    /* presence: 1.0 - 0.2 = 0.8 < 0.9 */
    p = greedy();
    p.presence_penalty = 0.2f;
    float c[2] = {1.0f, 0.9f};
    assert_int_equal(pick(&p, c, 2, h0, 1), 1);
    /* frequency scales with the count: 1 - 0.05 = 0.95 > 0.9, 1 - 3*0.05 < 0.9 */
    p = greedy();
    p.frequency_penalty = 0.05f;
    int32_t h3[3] = {0, 0, 0};
    assert_int_equal(pick(&p, c, 2, h0, 1), 0);
    assert_int_equal(pick(&p, c, 2, h3, 3), 1);
    /* the window: only the last token (1) is penalized */
    p = greedy();
    p.presence_penalty = 0.2f;
    p.last_n = 1;
    int32_t hw[2] = {0, 1};
    assert_int_equal(pick(&p, c, 2, hw, 2), 0);
    p.last_n = 2;
    float d[2] = {1.0f, 0.95f};
    assert_int_equal(pick(&p, d, 2, hw, 2), 0); /* both lose 0.2 */
    /* out-of-range history entries are ignored */
    int32_t bad[2] = {-5, 99};
    assert_int_equal(pick(&p, c, 2, bad, 2), 0);
}

/* Frequencies of n draws over 3 tokens with logits log(probs). */
static void draw(const ai__sparams *p, const double *probs, double *freq, int n) {
    float l[3];
    for (int i = 0; i < 3; i++) l[i] = (float)log(probs[i]);
    ai__sampler s;
    assert_int_equal(ai__sampler_init(&s, p, 3), AI_OK);
    memset(freq, 0, 3 * sizeof *freq);
    for (int i = 0; i < n; i++) {
        int32_t t = ai__sampler_sample(&s, l, NULL, 0);
        assert_true(t >= 0 && t < 3);
        freq[t] += 1.0 / n;
    }
    ai__sampler_free(&s);
}

static void test_distributions(void **state) {
    (void)state;
    const double probs[3] = {0.5, 0.3, 0.2};
    double f[3];
    ai__sparams p = greedy();
    p.temperature = 1;
    p.seed = 7;
    const int n = 200000; /* standard error <= 0.0012 */
    draw(&p, probs, f, n);
    assert_true(fabs(f[0] - 0.5) < 0.006 && fabs(f[1] - 0.3) < 0.006 && fabs(f[2] - 0.2) < 0.006);
    /* T = 0.5 squares the probabilities: .25, .09, .04 over .38 */
    p.temperature = 0.5f;
    draw(&p, probs, f, n);
    assert_true(fabs(f[0] - 0.65789) < 0.006 && fabs(f[1] - 0.23684) < 0.006 &&
                fabs(f[2] - 0.10526) < 0.006);
    /* top-p 0.7: .5 + .3 reaches it, so token 2 goes: .625, .375 */
    p.temperature = 1;
    p.top_p = 0.7f;
    draw(&p, probs, f, n);
    assert_true(fabs(f[0] - 0.625) < 0.006 && f[2] == 0.0);
    /* min-p 0.5 keeps p >= .25: tokens 0 and 1; min-p 0.61 keeps only 0 */
    p.top_p = 1;
    p.min_p = 0.5f;
    draw(&p, probs, f, n);
    assert_true(fabs(f[0] - 0.625) < 0.006 && f[2] == 0.0);
    p.min_p = 0.61f;
    draw(&p, probs, f, 1000);
    assert_true(f[1] == 0.0 && f[2] == 0.0);
    /* top-k 2 */
    p.min_p = 0;
    p.top_k = 2;
    draw(&p, probs, f, n);
    assert_true(fabs(f[1] - 0.375) < 0.006 && f[2] == 0.0);
    /* top-k 1 is greedy */
    p.top_k = 1;
    draw(&p, probs, f, 1000);
    assert_true(f[1] == 0.0 && f[2] == 0.0);
}

/* top-k over a large vocabulary keeps exactly the k best (checked against
 * a plain count of how many logits beat each drawn one). */
static void test_top_k_large(void **state) {
    (void)state;
    enum { N = 5000 };
    static float l[N];
    uint64_t r = 42;
    for (int i = 0; i < N; i++) l[i] = tu_randf(&r) * 3;
    for (int k = 1; k <= 64; k *= 4) {
        ai__sparams p = greedy();
        p.temperature = 100; /* nearly uniform over the survivors */
        p.top_k = k;
        p.seed = (uint64_t)k;
        ai__sampler s;
        assert_int_equal(ai__sampler_init(&s, &p, N), AI_OK);
        int seen[64] = {0}, distinct = 0;
        for (int d = 0; d < 2000; d++) {
            int32_t t = ai__sampler_sample(&s, l, NULL, 0);
            int rank = 0;
            for (int i = 0; i < N; i++) rank += l[i] > l[t];
            assert_true(rank < k);
            if (!seen[rank]++) distinct++;
        }
        assert_int_equal(distinct, k);
        ai__sampler_free(&s);
    }
}

static void test_seeded(void **state) {
    (void)state;
    enum { N = 300 };
    static float l[N];
    uint64_t r = 1;
    for (int i = 0; i < N; i++) l[i] = tu_randf(&r) * 4;
    ai__sparams p = greedy();
    p.temperature = 0.9f;
    p.top_k = 50;
    p.top_p = 0.95f;
    p.min_p = 0.01f;
    int32_t seq[3][64];
    const uint64_t seeds[3] = {123, 123, 124};
    for (int k = 0; k < 3; k++) {
        ai__sampler s;
        p.seed = seeds[k];
        assert_int_equal(ai__sampler_init(&s, &p, N), AI_OK);
        for (int i = 0; i < 64; i++) seq[k][i] = ai__sampler_sample(&s, l, NULL, 0);
        /* reseeding restarts the sequence */
        ai__sampler_reseed(&s, seeds[k]);
        assert_int_equal(ai__sampler_sample(&s, l, NULL, 0), seq[k][0]);
        ai__sampler_free(&s);
    }
    assert_memory_equal(seq[0], seq[1], sizeof seq[0]);
    assert_memory_not_equal(seq[0], seq[2], sizeof seq[0]);
    uint64_t st = 5;
    for (int i = 0; i < 10000; i++) {
        double u = ai__rand_unit(&st);
        assert_true(u >= 0.0 && u < 1.0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy),        cmocka_unit_test(test_penalties),
        cmocka_unit_test(test_distributions), cmocka_unit_test(test_top_k_large),
        cmocka_unit_test(test_seeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
