/*
 * test_quantize.c - the GGUF writer and ai_model_quantize.
 *  - writer: a file written with every kind of kv (copied from a parsed file
 *    made by the test GGUF builder) and tensors parses back to the same
 *    keys, values and bytes; wrong byte counts are refused;
 *  - quantize: the fixture llama-f16 model rewritten in several types has
 *    the same metadata (general.file_type aside), matrices in the target
 *    type whose bytes equal quantizing the dequantized input rows, 1-D
 *    tensors in f32 equal to the input values; errors for bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ggufb.h"
#include "gguf.h"
#include "gguf_write.h"
#include "kernels.h"
#include "testutil.h"
#include "types.h"

static void test_writer_roundtrip(void **state) {
    (void)state;
    /* a source file with scalar, string, array and nested array values */
    gb b = {0};
    gb_header(&b, 3, 0, 5);
    gb_kv_u32(&b, "a.u32", 7);
    gb_kv_str(&b, "a.str", "hello");
    gb_key(&b, "a.arr", 9);
    gb_u32(&b, 8); gb_u64(&b, 2); gb_str(&b, "x"); gb_str(&b, "yz");
    gb_key(&b, "a.nested", 9);
    gb_u32(&b, 9); gb_u64(&b, 2);
    gb_u32(&b, 5); gb_u64(&b, 1); gb_u32(&b, 0xdeadbeef);
    gb_u32(&b, 8); gb_u64(&b, 1); gb_str(&b, "q");
    gb_key(&b, "a.f64", 12);
    gb_f64(&b, 2.5);
    ai__gguf *src = NULL;
    assert_int_equal(ai__gguf_parse(b.p, b.len, &src, NULL, 0), AI_OK);

    ai__gguf_writer *w = NULL;
    assert_int_equal(ai__gguf_writer_new(64, &w), AI_OK);
    for (size_t i = 0; i < src->n_kv; i++) assert_int_equal(ai__gguf_w_copy_kv(w, &src->kv[i]), AI_OK);
    int64_t ne1[1] = {5}, ne2[2] = {64, 3};
    assert_int_equal(ai__gguf_w_tensor(w, "v", AI_TYPE_F32, 1, ne1), AI_OK);
    assert_int_equal(ai__gguf_w_tensor(w, "m", AI_TYPE_Q8_0, 2, ne2), AI_OK);
    assert_int_equal(ai__gguf_w_tensor(w, "m", AI_TYPE_F32, 1, ne1), AI_E_INVAL);   /* duplicate */
    assert_int_equal(ai__gguf_w_tensor(w, "bad", AI_TYPE_Q4_K, 2, ne2), AI_E_INVAL); /* 64 % 256 */
    char path[] = "/tmp/ai_test_gguf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    float v[5] = {1, 2, 3, 4, 5};
    uint8_t m[3 * 2 * 34];
    for (size_t i = 0; i < sizeof m; i++) m[i] = (uint8_t)(i * 7);
    assert_int_equal(ai__gguf_w_begin(w, f), AI_OK);
    assert_int_equal(ai__gguf_w_end_tensor(w, f), AI_E_INVAL); /* no bytes yet */
    assert_int_equal(ai__gguf_w_data(w, f, v, sizeof v), AI_OK);
    assert_int_equal(ai__gguf_w_data(w, f, v, 1), AI_E_INVAL);  /* too many */
    assert_int_equal(ai__gguf_w_end_tensor(w, f), AI_OK);
    assert_int_equal(ai__gguf_w_data(w, f, m, 100), AI_OK);
    assert_int_equal(ai__gguf_w_data(w, f, m + 100, sizeof m - 100), AI_OK);
    assert_int_equal(ai__gguf_w_end_tensor(w, f), AI_OK);
    fclose(f);
    ai__gguf_writer_free(w);

    ai__gguf *g = NULL;
    char err[256];
    ai_status st = ai__gguf_open(path, 0, &g, err, sizeof err);
    if (st) fail_msg("%s", err);
    assert_int_equal(g->version, 3);
    assert_int_equal(g->alignment, 64);
    assert_int_equal(g->n_kv, src->n_kv + 1); /* + general.alignment */
    for (size_t i = 0; i < src->n_kv; i++) {
        const ai__gguf_kv *a = &src->kv[i], *c = ai__gguf_find(g, a->key);
        assert_non_null(c);
        assert_int_equal(a->type, c->type);
        assert_int_equal(a->arr_type, c->arr_type);
        assert_int_equal(a->n, c->n);
    }
    const char *s;
    size_t len;
    assert_int_equal(ai__gguf_get_str(g, "a.str", &s, &len), 0);
    assert_true(len == 5 && !memcmp(s, "hello", 5));
    assert_int_equal(ai__gguf_arr_str(ai__gguf_find(g, "a.arr"), 1, &s, &len), 0);
    assert_true(len == 2 && !memcmp(s, "yz", 2));
    double d;
    assert_int_equal(ai__gguf_get_float(g, "a.f64", &d), 0);
    assert_true(d == 2.5);
    const ai__gguf_tensor *tv = ai__gguf_tensor_find(g, "v"), *tm = ai__gguf_tensor_find(g, "m");
    assert_non_null(tv);
    assert_non_null(tm);
    assert_memory_equal(tv->data, v, sizeof v);
    assert_int_equal(tm->type, AI_TYPE_Q8_0);
    assert_int_equal(tm->ne[0], 64);
    assert_int_equal(tm->ne[1], 3);
    assert_memory_equal(tm->data, m, sizeof m);
    ai__gguf_free(g);
    ai__gguf_free(src);
    gb_free(&b);
    unlink(path);
}

static void check_quantized(const ai__gguf *in, const ai__gguf *out, uint32_t type) {
    assert_int_equal(out->n_tensors, in->n_tensors);
    for (size_t i = 0; i < in->n_kv; i++) {
        const ai__gguf_kv *a = &in->kv[i], *b = ai__gguf_find(out, a->key);
        assert_non_null(b);
        if (!strcmp(a->key, "general.file_type")) continue;
        assert_int_equal(a->type, b->type);
        assert_int_equal(a->n, b->n);
    }
    int64_t ft;
    assert_int_equal(ai__gguf_get_int(out, "general.file_type", &ft), 0);
    for (size_t i = 0; i < in->n_tensors; i++) {
        const ai__gguf_tensor *a = &in->tensors[i], *b = ai__gguf_tensor_find(out, a->name);
        assert_non_null(b);
        assert_int_equal(a->n_dims, b->n_dims);
        assert_memory_equal(a->ne, b->ne, sizeof a->ne);
        uint32_t want = a->n_dims >= 2 && ai__row_size(type, a->ne[0]) ? type : AI_TYPE_F32;
        assert_int_equal(b->type, want);
        int64_t k = a->ne[0], rows = (int64_t)(a->nbytes / ai__row_size(a->type, k));
        size_t rs = ai__row_size(want, k);
        float *x = malloc((size_t)k * 4);
        uint8_t *q = malloc(rs);
        for (int64_t r = 0; r < rows; r++) {
            assert_int_equal(ai__dequant_row(a->type, (const uint8_t *)a->data + r * ai__row_size(a->type, k), x, k), AI_OK);
            if (want == a->type) memcpy(q, (const uint8_t *)a->data + r * rs, rs);
            else assert_int_equal(ai__quant_row(want, x, q, k), AI_OK);
            if (memcmp(q, (const uint8_t *)b->data + r * rs, rs))
                fail_msg("%s row %lld differs from quantizing the input row", a->name, (long long)r);
        }
        free(x);
        free(q);
    }
}

static void test_quantize_model(void **state) {
    (void)state;
    if (!tu_fixtures()) skip();
    char in[4096];
    snprintf(in, sizeof in, "%s", tu_fixture_path("models/llama-f16.gguf"));
    ai__gguf *g = NULL;
    assert_int_equal(ai__gguf_open(in, 1, &g, NULL, 0), AI_OK);
    const uint32_t types[] = {AI_TYPE_Q4_0, AI_TYPE_Q8_0, AI_TYPE_Q4_K, AI_TYPE_Q6_K, AI_TYPE_IQ4_NL, AI_TYPE_F16};
    char out[] = "/tmp/ai_test_quant_XXXXXX";
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    ai_opts *o = NULL;
    assert_int_equal(ai_opts_new(&o), AI_OK);
    assert_int_equal(ai_opts_set_int(o, AI_OPT_N_THREADS, 2), AI_OK);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        char err[256] = "";
        ai_status st = ai_model_quantize(in, out, (int32_t)types[t], o, err, sizeof err);
        if (st) fail_msg("quantize to %s: %s", ai_type_name((int32_t)types[t]), err);
        ai__gguf *q = NULL;
        assert_int_equal(ai__gguf_open(out, 1, &q, err, sizeof err), AI_OK);
        check_quantized(g, q, types[t]);
        ai__gguf_free(q);
    }
    /* errors */
    char err[256];
    assert_int_equal(ai_model_quantize(in, in, AI_TYPE_Q8_0, NULL, err, sizeof err), AI_E_INVAL);
    assert_int_equal(ai_model_quantize(in, out, AI_TYPE_Q8_K, NULL, err, sizeof err), AI_E_UNSUPPORTED);
    assert_int_equal(ai_model_quantize(in, out, 999, NULL, err, 0), AI_E_UNSUPPORTED);
    assert_int_equal(ai_model_quantize(NULL, out, AI_TYPE_Q8_0, NULL, NULL, 0), AI_E_INVAL);
    assert_int_equal(ai_model_quantize("/nonexistent/x.gguf", out, AI_TYPE_Q8_0, NULL, err, sizeof err), AI_E_IO);
    assert_int_equal(ai_model_quantize(in, "/nonexistent/dir/x.gguf", AI_TYPE_Q8_0, NULL, err, sizeof err), AI_E_IO);
    ai_opts_free(o);
    ai__gguf_free(g);
    unlink(out);
}

static void test_system_info(void **state) {
    (void)state;
    size_t need = 0;
    char small[4];
    assert_int_equal(ai_system_info(small, sizeof small, &need), AI_E_RANGE);
    assert_true(need > sizeof small);
    char *buf = malloc(need);
    assert_int_equal(ai_system_info(buf, need, &need), AI_OK);
    assert_int_equal(strlen(buf) + 1, need);
    char want[64];
    snprintf(want, sizeof want, "kernels=%s ", ai__kernels_name());
    assert_true(!strncmp(buf, want, strlen(want)));
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_roundtrip),
        cmocka_unit_test(test_quantize_model),
        cmocka_unit_test(test_system_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
