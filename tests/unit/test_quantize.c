/*
 * test_quantize.c - the GGUF writer and ai_model_quantize.
 *  - writer: a file written with every kind of kv (copied from a parsed file
 *    made by the test GGUF builder) and tensors parses back to the same
 *    keys, values and bytes; wrong byte counts are refused;
 *  - writer rules the peer's reader enforces: no key twice, tensor names
 *    under 64 bytes, general.alignment a u32 equal to the padding used;
 *  - quantize: the fixture llama-f16 model rewritten in several types has
 *    the same metadata (general.file_type aside), matrices in the target
 *    type whose bytes equal quantizing the dequantized input rows, 1-D
 *    tensors in f32 equal to the input values; errors for bad arguments;
 *  - the peer's conventions on a built model: which matrices are left alone
 *    (positions, token types, non-"weight" names, MoE gates), fallback types
 *    for rows the target's blocks do not fit, trailing-1 shapes counted as
 *    1-D, tensor order (layer, then name), kv order with
 *    general.quantization_version and general.file_type last, split keys
 *    dropped, split parts refused;
 *  - the round-to-nearest types (q4_0, q4_1, q5_0, q5_1, q8_0) reproduce the
 *    peer's bytes in quants/TYPE.gguf when given the peer's own dequantized
 *    values (the peer's blocks are fixed points of our quantizer: same
 *    scale rule, same rounding, same f16 conversion of the scale).  The
 *    types that search (k-quants, iq4_*) need not, and do not.
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
#include "kt_gguf.h"
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

static void test_writer_rules(void **state) {
    (void)state;
    ai__gguf_writer *w = NULL;
    assert_int_equal(ai__gguf_writer_new(64, &w), AI_OK);
    assert_int_equal(ai__gguf_w_u32(w, "a", 1), AI_OK);
    assert_int_equal(ai__gguf_w_u32(w, "a", 2), AI_E_INVAL);      /* duplicate key */
    assert_int_equal(ai__gguf_w_str(w, "a", "x"), AI_E_INVAL);
    assert_int_equal(ai__gguf_w_u32(w, "general.alignment", 32), AI_E_INVAL); /* not the padding */
    assert_int_equal(ai__gguf_w_str(w, "general.alignment", "64"), AI_E_INVAL);
    assert_int_equal(ai__gguf_w_u32(w, "b", 3), AI_OK);
    assert_int_equal(ai__gguf_w_u32(w, "general.alignment", 64), AI_OK); /* kept in place */
    char name[80];
    memset(name, 'n', sizeof name);
    name[64] = 0;
    int64_t ne[1] = {32};
    assert_int_equal(ai__gguf_w_tensor(w, name, AI_TYPE_F32, 1, ne), AI_E_INVAL); /* 64 bytes */
    name[63] = 0;
    assert_int_equal(ai__gguf_w_tensor(w, name, AI_TYPE_F32, 1, ne), AI_OK);
    char path[] = "/tmp/ai_test_gguf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    float v[32] = {0};
    assert_int_equal(ai__gguf_w_begin(w, f), AI_OK);
    assert_int_equal(ai__gguf_w_data(w, f, v, sizeof v), AI_OK);
    assert_int_equal(ai__gguf_w_end_tensor(w, f), AI_OK);
    fclose(f);
    ai__gguf_writer_free(w);
    ai__gguf *g = NULL;
    char err[256];
    if (ai__gguf_open(path, 0, &g, err, sizeof err)) fail_msg("%s", err);
    assert_int_equal(g->n_kv, 3);
    assert_string_equal(g->kv[2].key, "general.alignment");
    assert_int_equal(g->alignment, 64);
    assert_int_equal(g->data_offset % 64, 0);
    assert_int_equal(g->size, g->data_offset + 128); /* the tensor, padded */
    ai__gguf_free(g);
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

/* ---- the peer's conventions, on a built model ------------------------------------------ */

typedef struct btensor {
    const char *name;
    uint32_t n_dims, type;
    uint64_t ne0, ne1;
} btensor;

/* Writes a GGUF with kvs (general.architecture, general.file_type,
 * split.count = n_split, z.last) and the tensors bt[0..n) filled with
 * values from seed. */
static void build_model(const char *path, const btensor *bt, size_t n, uint32_t n_split) {
    gb b = {0};
    gb_header(&b, 3, n, 4);
    gb_kv_str(&b, "general.architecture", "llama");
    gb_kv_u32(&b, "general.file_type", 1);
    gb_kv_u32(&b, "split.count", n_split);
    gb_kv_u32(&b, "z.last", 7);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t dims[2] = {bt[i].ne0, bt[i].ne1};
        gb_tensor(&b, bt[i].name, bt[i].n_dims, dims, bt[i].type, off);
        off += (ai__row_size(bt[i].type, (int64_t)bt[i].ne0) * bt[i].ne1 + 31) / 32 * 32;
    }
    gb_align(&b, 32);
    uint64_t seed = 42;
    for (size_t i = 0; i < n; i++) {
        for (uint64_t k = 0; k < bt[i].ne0 * bt[i].ne1; k++) {
            float x = tu_randf(&seed);
            if (bt[i].type == AI_TYPE_F16) gb_u16(&b, ai__f32_to_f16(x));
            else gb_f32(&b, x);
        }
        gb_align(&b, 32);
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b.p, 1, b.len, f), b.len);
    fclose(f);
    gb_free(&b);
}

static void test_quantize_conventions(void **state) {
    (void)state;
    static const btensor bt[] = {
        {"blk.10.ffn_up.weight", 2, AI_TYPE_F32, 256, 2},
        {"blk.2.ffn_up.weight", 2, AI_TYPE_F32, 256, 2},
        {"token_embd.weight", 2, AI_TYPE_F16, 256, 3},
        {"blk.2.attn_norm.weight", 1, AI_TYPE_F32, 256, 1},
        {"position_embd.weight", 2, AI_TYPE_F32, 256, 2},  /* left alone */
        {"token_types.weight", 2, AI_TYPE_F16, 256, 2},    /* left alone */
        {"blk.2.w96.weight", 2, AI_TYPE_F32, 96, 2},       /* q4_k does not fit: q5_0 */
        {"blk.2.w40.weight", 2, AI_TYPE_F32, 40, 2},       /* nor q5_0: f16 */
        {"blk.2.col.weight", 2, AI_TYPE_F16, 256, 1},      /* [256, 1] counts as 1-D: f32 */
        {"blk.2.pair.bias", 2, AI_TYPE_F32, 256, 2},       /* not a weight: left alone */
        {"blk.2.ffn_gate_inp.weight", 2, AI_TYPE_F32, 256, 2}, /* MoE gate: left alone */
    };
    /* what the output must hold, in its order (layer -1 first, then 2, 10;
     * names bytewise within a layer) */
    static const struct { const char *name; uint32_t type; } want[] = {
        {"position_embd.weight", AI_TYPE_F32},
        {"token_embd.weight", AI_TYPE_Q4_K},
        {"token_types.weight", AI_TYPE_F16},
        {"blk.2.attn_norm.weight", AI_TYPE_F32},
        {"blk.2.col.weight", AI_TYPE_F32},
        {"blk.2.ffn_gate_inp.weight", AI_TYPE_F32},
        {"blk.2.ffn_up.weight", AI_TYPE_Q4_K},
        {"blk.2.pair.bias", AI_TYPE_F32},
        {"blk.2.w40.weight", AI_TYPE_F16},
        {"blk.2.w96.weight", AI_TYPE_Q5_0},
        {"blk.10.ffn_up.weight", AI_TYPE_Q4_K},
    };
    const size_t n = sizeof bt / sizeof bt[0];
    char in[] = "/tmp/ai_test_qin_XXXXXX", out[] = "/tmp/ai_test_qout_XXXXXX";
    int fd = mkstemp(in);
    assert_true(fd >= 0);
    close(fd);
    fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    build_model(in, bt, n, 1);
    char err[256] = "";
    ai_status st = ai_model_quantize(in, out, AI_TYPE_Q4_K, NULL, err, sizeof err);
    if (st) fail_msg("quantize: %s", err);
    ai__gguf *g = NULL, *q = NULL;
    assert_int_equal(ai__gguf_open(in, 0, &g, NULL, 0), AI_OK);
    assert_int_equal(ai__gguf_open(out, 0, &q, NULL, 0), AI_OK);
    /* kvs: input order without file_type and split.count, then the two */
    static const char *const keys[] = {"general.architecture", "z.last", "general.quantization_version",
                                       "general.file_type"};
    assert_int_equal(q->n_kv, 4);
    for (size_t i = 0; i < 4; i++) assert_string_equal(q->kv[i].key, keys[i]);
    int64_t v;
    assert_int_equal(ai__gguf_get_int(q, "general.quantization_version", &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(ai__gguf_get_int(q, "general.file_type", &v), 0);
    assert_int_equal(v, 14); /* the peer's MOSTLY_Q4_K_S */
    assert_int_equal(q->n_tensors, n);
    for (size_t i = 0; i < n; i++) {
        const ai__gguf_tensor *b = &q->tensors[i], *a = ai__gguf_tensor_find(g, want[i].name);
        assert_string_equal(b->name, want[i].name);
        assert_int_equal(b->type, want[i].type);
        assert_non_null(a);
        assert_int_equal(b->n_dims, a->n_dims);
        assert_memory_equal(b->ne, a->ne, sizeof a->ne);
        if (a->type == b->type) { /* left alone: the same bytes */
            assert_int_equal(a->nbytes, b->nbytes);
            assert_memory_equal(a->data, b->data, a->nbytes);
            continue;
        }
        int64_t k = a->ne[0], rows = a->ne[1];
        size_t rs = ai__row_size(b->type, k);
        float *x = malloc((size_t)k * sizeof *x);
        uint8_t *r = malloc(rs);
        for (int64_t j = 0; j < rows; j++) {
            assert_int_equal(ai__dequant_row(a->type, (const uint8_t *)a->data + j * ai__row_size(a->type, k), x, k),
                             AI_OK);
            assert_int_equal(ai__quant_row(b->type, x, r, k), AI_OK);
            if (memcmp(r, (const uint8_t *)b->data + j * rs, rs)) fail_msg("%s row %d", b->name, (int)j);
        }
        free(x);
        free(r);
    }
    ai__gguf_free(q);
    ai__gguf_free(g);
    /* one part of a split model is refused, leaving no output */
    unlink(out);
    build_model(in, bt, n, 3);
    assert_int_equal(ai_model_quantize(in, out, AI_TYPE_Q8_0, NULL, err, sizeof err), AI_E_UNSUPPORTED);
    assert_non_null(strstr(err, "split"));
    assert_int_equal(access(out, F_OK), -1);
    unlink(in);
}

static void test_rtn_fixed_point(void **state) {
    (void)state;
    if (!tu_fixtures()) skip();
    static const char *const names[] = {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "quants/%s.gguf", names[i]);
        size_t size = 0;
        uint8_t *buf = (uint8_t *)tu_read_file(tu_fixture_path(rel), &size);
        if (!buf) fail_msg("missing fixture %s", rel);
        uint32_t type;
        int64_t ne[4];
        const uint8_t *data;
        assert_int_equal(kt_gguf_tensor(buf, size, "w", &type, ne, &data), 0);
        assert_string_equal(ai_type_name((int32_t)type), names[i]);
        size_t rs = ai__row_size(type, ne[0]);
        assert_true(rs > 0 && (size_t)(data - buf) + rs * (size_t)ne[1] <= size);
        float *x = malloc((size_t)ne[0] * sizeof *x);
        uint8_t *q = malloc(rs);
        for (int64_t r = 0; r < ne[1]; r++) {
            assert_int_equal(ai__dequant_row(type, data + r * rs, x, ne[0]), AI_OK);
            assert_int_equal(ai__quant_row(type, x, q, ne[0]), AI_OK);
            if (memcmp(q, data + r * rs, rs)) fail_msg("%s row %d: not the peer's bytes", names[i], (int)r);
        }
        free(x);
        free(q);
        free(buf);
    }
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
        cmocka_unit_test(test_writer_rules),
        cmocka_unit_test(test_quantize_model),
        cmocka_unit_test(test_quantize_conventions),
        cmocka_unit_test(test_rtn_fixed_point),
        cmocka_unit_test(test_system_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
