/*
 * test_gguf.c - the GGUF loader on files built byte by byte in the test
 * (every value type, every validation rule) and on the shared fixtures
 * (every file loads; truncations and byte flips never crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ggufb.h"
#include "gguf.h"
#include "internal.h"
#include "testutil.h"

enum { T_F32 = 0, T_Q4_0 = 2 };

/* Parses b; returns the status and keeps the message. */
static char msg[512];
static ai_status parse_gb(const gb *b, ai__gguf **g) {
    msg[0] = 0;
    /* An exact-size copy, so that ASan sees any read past the end. */
    void *copy = malloc(b->len ? b->len : 1);
    assert_non_null(copy);
    if (b->len) memcpy(copy, b->p, b->len);
    ai__gguf *tmp = NULL;
    ai_status st = ai__gguf_parse(copy, b->len, &tmp, msg, sizeof msg);
    if (st == AI_OK && g) {
        *g = tmp;
        /* the caller frees the copy through g->owned */
        tmp->owned = copy;
        return st;
    }
    ai__gguf_free(tmp);
    free(copy);
    return st;
}

/* Expects AI_E_FORMAT with a message that mentions `what`. */
static void expect_format(const gb *b, const char *what) {
    ai_status st = parse_gb(b, NULL);
    if (st != AI_E_FORMAT || !strstr(msg, what))
        fail_msg("expected AI_E_FORMAT mentioning '%s', got %d: %s", what, st, msg);
}

/* ---- a file with every value type --------------------------------------- */

static void build_all_types(gb *b) {
    gb_header(b, 3, 0, 20);
    gb_key(b, "t.u8", AI__GGUF_U8);    gb_u8(b, 200);
    gb_key(b, "t.i8", AI__GGUF_I8);    gb_u8(b, (uint8_t)-100);
    gb_key(b, "t.u16", AI__GGUF_U16);  gb_u16(b, 60000);
    gb_key(b, "t.i16", AI__GGUF_I16);  gb_u16(b, (uint16_t)-30000);
    gb_key(b, "t.u32", AI__GGUF_U32);  gb_u32(b, 4000000000u);
    gb_key(b, "t.i32", AI__GGUF_I32);  gb_u32(b, (uint32_t)-2000000000);
    gb_key(b, "t.f32", AI__GGUF_F32);  gb_f32(b, 1.5f);
    gb_key(b, "t.bool", AI__GGUF_BOOL); gb_u8(b, 1);
    gb_kv_str(b, "t.str", "h\xc3\xa9llo \"q\"");
    gb_key(b, "t.u64", AI__GGUF_U64);  gb_u64(b, 18000000000000000000ull);
    gb_key(b, "t.i64", AI__GGUF_I64);  gb_u64(b, (uint64_t)-5);
    gb_key(b, "t.f64", AI__GGUF_F64);  gb_f64(b, -2.25);
    gb_key(b, "a.u8", AI__GGUF_ARRAY); gb_u32(b, AI__GGUF_U8); gb_u64(b, 3);
    gb_u8(b, 1); gb_u8(b, 2); gb_u8(b, 3);
    gb_key(b, "a.i32", AI__GGUF_ARRAY); gb_u32(b, AI__GGUF_I32); gb_u64(b, 2);
    gb_u32(b, (uint32_t)-7); gb_u32(b, 9);
    gb_key(b, "a.f32", AI__GGUF_ARRAY); gb_u32(b, AI__GGUF_F32); gb_u64(b, 2);
    gb_f32(b, 0.5f); gb_f32(b, -4.0f);
    gb_key(b, "a.bool", AI__GGUF_ARRAY); gb_u32(b, AI__GGUF_BOOL); gb_u64(b, 2);
    gb_u8(b, 0); gb_u8(b, 1);
    gb_key(b, "a.str", AI__GGUF_ARRAY); gb_u32(b, AI__GGUF_STRING); gb_u64(b, 3);
    gb_str(b, "one"); gb_str(b, ""); gb_str(b, "three");
    gb_key(b, "a.nested", AI__GGUF_ARRAY); gb_u32(b, AI__GGUF_ARRAY); gb_u64(b, 2);
    gb_u32(b, AI__GGUF_U16); gb_u64(b, 1); gb_u16(b, 7);
    gb_u32(b, AI__GGUF_STRING); gb_u64(b, 1); gb_str(b, "x");
    gb_key(b, "a.empty", AI__GGUF_ARRAY); gb_u32(b, AI__GGUF_I64); gb_u64(b, 0);
    gb_key(b, "a.f64", AI__GGUF_ARRAY); gb_u32(b, AI__GGUF_F64); gb_u64(b, 1);
    gb_f64(b, 3.125);
}

static void test_all_value_types(void **state) {
    (void)state;
    gb b = {0};
    build_all_types(&b);
    ai__gguf *g = NULL;
    assert_int_equal(parse_gb(&b, &g), AI_OK);
    assert_int_equal(g->n_kv, 20);
    assert_int_equal(g->version, 3);
    int64_t i;
    double d;
    int bo;
    assert_int_equal(ai__gguf_get_int(g, "t.u8", &i), 0); assert_int_equal(i, 200);
    assert_int_equal(ai__gguf_get_int(g, "t.i8", &i), 0); assert_int_equal(i, -100);
    assert_int_equal(ai__gguf_get_int(g, "t.u16", &i), 0); assert_int_equal(i, 60000);
    assert_int_equal(ai__gguf_get_int(g, "t.i16", &i), 0); assert_int_equal(i, -30000);
    assert_int_equal(ai__gguf_get_int(g, "t.u32", &i), 0); assert_true(i == 4000000000ll);
    assert_int_equal(ai__gguf_get_int(g, "t.i32", &i), 0); assert_true(i == -2000000000ll);
    assert_int_equal(ai__gguf_get_int(g, "t.i64", &i), 0); assert_true(i == -5);
    assert_int_equal(ai__gguf_get_int(g, "t.u64", &i), -1); /* above INT64_MAX */
    assert_int_equal(ai__gguf_get_float(g, "t.u64", &d), 0); assert_true(d == 18000000000000000000.0);
    assert_int_equal(ai__gguf_get_float(g, "t.f32", &d), 0); assert_true(d == 1.5);
    assert_int_equal(ai__gguf_get_float(g, "t.f64", &d), 0); assert_true(d == -2.25);
    assert_int_equal(ai__gguf_get_float(g, "t.i8", &d), 0); assert_true(d == -100.0);
    assert_int_equal(ai__gguf_get_int(g, "t.f32", &i), -1); /* no silent float->int */
    assert_int_equal(ai__gguf_get_bool(g, "t.bool", &bo), 0); assert_int_equal(bo, 1);
    assert_int_equal(ai__gguf_get_bool(g, "t.u8", &bo), -1);
    const char *s;
    size_t len;
    assert_int_equal(ai__gguf_get_str(g, "t.str", &s, &len), 0);
    assert_int_equal(len, 10);
    assert_memory_equal(s, "h\xc3\xa9llo \"q\"", 10);
    assert_int_equal(ai__gguf_get_str(g, "t.u8", &s, &len), -1);
    assert_int_equal(ai__gguf_get_int(g, "missing", &i), -1);

    const ai__gguf_kv *kv = ai__gguf_find(g, "a.str");
    assert_non_null(kv);
    assert_int_equal(kv->n, 3);
    assert_int_equal(ai__gguf_arr_str(kv, 0, &s, &len), 0); assert_int_equal(len, 3); assert_memory_equal(s, "one", 3);
    assert_int_equal(ai__gguf_arr_str(kv, 1, &s, &len), 0); assert_int_equal(len, 0);
    assert_int_equal(ai__gguf_arr_str(kv, 2, &s, &len), 0); assert_int_equal(len, 5); assert_memory_equal(s, "three", 5);
    assert_int_equal(ai__gguf_arr_str(kv, 3, &s, &len), -1);
    kv = ai__gguf_find(g, "a.i32");
    assert_int_equal(ai__gguf_arr_int(kv, 0, &i), 0); assert_int_equal(i, -7);
    assert_int_equal(ai__gguf_arr_int(kv, 1, &i), 0); assert_int_equal(i, 9);
    assert_int_equal(ai__gguf_arr_int(kv, 2, &i), -1);
    kv = ai__gguf_find(g, "a.f32");
    assert_int_equal(ai__gguf_arr_float(kv, 1, &d), 0); assert_true(d == -4.0);
    assert_int_equal(ai__gguf_arr_str(kv, 0, &s, &len), -1);
    kv = ai__gguf_find(g, "a.nested");
    assert_int_equal(kv->arr_type, AI__GGUF_ARRAY);
    assert_int_equal(kv->n, 2);
    assert_int_equal(ai__gguf_find(g, "a.empty")->n, 0);
    ai__gguf_free(g);
    gb_free(&b);
}

/* The same file through the public API (written to a temporary file). */
static char *write_tmp(const gb *b) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ai_test_gguf_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b->p, b->len), (ssize_t)b->len);
    close(fd);
    return path;
}

static const char *meta_s(ai_model *m, const char *key) {
    static char buf[256];
    size_t need = 0;
    ai_status st = ai_model_meta_str(m, key, buf, sizeof buf, &need);
    if (st) fail_msg("meta_str(%s) = %d", key, st);
    assert_int_equal(need, strlen(buf) + 1);
    return buf;
}

static void test_public_metadata(void **state) {
    (void)state;
    gb b = {0};
    build_all_types(&b);
    char *path = write_tmp(&b);
    for (int mm = 0; mm <= 1; mm++) {
        ai_opts *o;
        assert_int_equal(ai_opts_new(&o), AI_OK);
        assert_int_equal(ai_opts_set_int(o, AI_OPT_USE_MMAP, mm), AI_OK);
        ai_model *m = NULL;
        char err[128];
        assert_int_equal(ai_model_load(path, o, &m, err, sizeof err), AI_OK);
        ai_opts_free(o);
        assert_int_equal(ai_model_meta_count(m), 20);
        const char *key;
        assert_int_equal(ai_model_meta_key(m, 0, &key), AI_OK);
        assert_string_equal(key, "t.u8");
        assert_int_equal(ai_model_meta_key(m, 20, &key), AI_E_RANGE);
        assert_string_equal(meta_s(m, "t.u8"), "200");
        assert_string_equal(meta_s(m, "t.i16"), "-30000");
        assert_string_equal(meta_s(m, "t.u64"), "18000000000000000000");
        assert_string_equal(meta_s(m, "t.f32"), "1.5");
        assert_string_equal(meta_s(m, "t.f64"), "-2.25");
        assert_string_equal(meta_s(m, "t.bool"), "true");
        assert_string_equal(meta_s(m, "t.str"), "h\xc3\xa9llo \"q\"");
        assert_string_equal(meta_s(m, "a.str"), "[\"one\",\"\",\"three\"]");
        assert_string_equal(meta_s(m, "a.nested"), "[[7],[\"x\"]]");
        assert_string_equal(meta_s(m, "a.bool"), "[false,true]");
        assert_string_equal(meta_s(m, "a.empty"), "[]");
        /* buffer too small: AI_E_RANGE and the size needed */
        char small[4];
        size_t need = 0;
        assert_int_equal(ai_model_meta_str(m, "t.str", small, sizeof small, &need), AI_E_RANGE);
        assert_int_equal(need, 11);
        assert_int_equal(ai_model_meta_str(m, "nope", small, sizeof small, &need), AI_E_NOT_FOUND);
        int64_t iv;
        double dv;
        assert_int_equal(ai_model_meta_int(m, "t.i32", &iv), AI_OK);
        assert_true(iv == -2000000000ll);
        assert_int_equal(ai_model_meta_int(m, "t.u64", &iv), AI_E_RANGE);
        assert_int_equal(ai_model_meta_int(m, "t.str", &iv), AI_E_INVAL);
        assert_int_equal(ai_model_meta_float(m, "t.f32", &dv), AI_OK);
        assert_true(dv == 1.5);
        assert_int_equal(ai_model_meta_float(m, "a.str", &dv), AI_E_INVAL);
        int32_t type, et;
        uint64_t n;
        assert_int_equal(ai_model_meta_type(m, "a.str", &type, &et, &n), AI_OK);
        assert_int_equal(type, AI_META_ARRAY);
        assert_int_equal(et, AI_META_STRING);
        assert_int_equal(n, 3);
        assert_int_equal(ai_model_meta_type(m, "t.f64", &type, &et, &n), AI_OK);
        assert_int_equal(type, AI_META_F64);
        assert_int_equal(et, -1);
        assert_int_equal(ai_model_meta_arr_len(m, "a.u8", &n), AI_OK);
        assert_int_equal(n, 3);
        assert_int_equal(ai_model_meta_arr_len(m, "t.u8", &n), AI_E_INVAL);
        assert_int_equal(ai_model_tensor_count(m), 0);
        assert_int_equal(ai_model_tensor_info(m, 0, NULL, NULL, NULL, NULL), AI_E_RANGE);
        ai_model_free(m);
    }
    unlink(path);
    gb_free(&b);
}

/* ---- tensors -------------------------------------------------------------- */

/* Two tensors: "a" f32 [4, 2] at 0 and "b" q4_0 [64] at 32, then data. */
static void build_tensors(gb *b, uint32_t align_kv) {
    uint64_t da[2] = {4, 2}, db[1] = {64};
    gb_header(b, 3, 2, align_kv ? 2 : 1);
    gb_kv_str(b, "general.architecture", "test");
    if (align_kv) gb_kv_u32(b, "general.alignment", align_kv);
    uint64_t off_b = align_kv > 32 ? align_kv : 32;
    gb_tensor(b, "a", 2, da, T_F32, 0);
    gb_tensor(b, "b", 1, db, T_Q4_0, off_b);
    gb_align(b, align_kv ? align_kv : 32);
    for (int i = 0; i < 8; i++) gb_f32(b, (float)i);
    gb_zeros(b, off_b - 32);
    gb_zeros(b, 36); /* two q4_0 blocks */
}

static void test_tensors(void **state) {
    (void)state;
    for (uint32_t align = 0; align <= 64; align += 64) {
        gb b = {0};
        build_tensors(&b, align);
        ai__gguf *g = NULL;
        ai_status st = parse_gb(&b, &g);
        if (st) fail_msg("%s", msg);
        assert_int_equal(g->n_tensors, 2);
        assert_int_equal(g->alignment, align ? align : 32);
        assert_int_equal(g->data_offset % g->alignment, 0);
        const ai__gguf_tensor *t = ai__gguf_tensor_find(g, "a");
        assert_non_null(t);
        assert_int_equal(t->n_dims, 2);
        assert_int_equal(t->ne[0], 4);
        assert_int_equal(t->ne[1], 2);
        assert_int_equal(t->ne[2], 1);
        assert_int_equal(t->nbytes, 32);
        float f;
        memcpy(&f, (const char *)t->data + 4 * 5, 4);
        assert_true(f == 5.0f);
        t = ai__gguf_tensor_find(g, "b");
        assert_int_equal(t->nbytes, 36);
        assert_int_equal(t->type, T_Q4_0);
        assert_null(ai__gguf_tensor_find(g, "c"));
        ai__gguf_free(g);
        gb_free(&b);
    }
}

/* ---- validation: one malformed file per rule ---------------------------- */

static void test_header_rules(void **state) {
    (void)state;
    gb b = {0};
    expect_format(&b, "empty file");
    gb_bytes(&b, "GGU", 3);
    expect_format(&b, "magic");
    gb_free(&b);
    gb_bytes(&b, "GGML", 4); gb_u32(&b, 3); gb_u64(&b, 0); gb_u64(&b, 0);
    expect_format(&b, "not a GGUF file");
    gb_free(&b);
    gb_header(&b, 1, 0, 0);
    expect_format(&b, "version 1");
    gb_free(&b);
    gb_header(&b, 4, 0, 0);
    expect_format(&b, "unknown GGUF version");
    gb_free(&b);
    gb_header(&b, 0x03000000u, 0, 0);
    expect_format(&b, "big-endian");
    gb_free(&b);
    gb_header(&b, 3, 0, 0);
    b.len -= 3; /* truncated in the metadata count */
    expect_format(&b, "metadata count");
    gb_free(&b);
    gb_header(&b, 2, 0, 0); /* version 2 and an empty file are fine */
    assert_int_equal(parse_gb(&b, NULL), AI_OK);
    gb_free(&b);
    gb_header(&b, 3, 0, 1000);
    gb_kv_u32(&b, "k", 1);
    expect_format(&b, "more metadata entries than the file can hold");
    gb_free(&b);
    gb_header(&b, 3, 1000000, 0);
    expect_format(&b, "more tensors than the file can hold");
    gb_free(&b);
    gb_header(&b, 3, 0, UINT64_MAX);
    expect_format(&b, "metadata count");
    gb_free(&b);
}

static void test_metadata_rules(void **state) {
    (void)state;
    gb b = {0};
    /* key length past the end */
    gb_header(&b, 3, 0, 1); gb_u64(&b, 1000); gb_bytes(&b, "abcdefghijklmnop", 16);
    expect_format(&b, "metadata key");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "", AI__GGUF_U8); gb_u8(&b, 1); gb_zeros(&b, 8);
    expect_format(&b, "empty name");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_u64(&b, 3); gb_bytes(&b, "a\0b", 3); gb_u32(&b, AI__GGUF_U8); gb_u8(&b, 1);
    expect_format(&b, "NUL");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", 13); gb_u64(&b, 0);
    expect_format(&b, "unknown value type");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_BOOL); gb_u8(&b, 2);
    expect_format(&b, "bool");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_U64); gb_u32(&b, 0);
    expect_format(&b, "truncated");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_STRING); gb_u64(&b, 1u << 30); gb_bytes(&b, "xx", 2);
    expect_format(&b, "string length runs past the end");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_ARRAY); gb_u32(&b, 77); gb_u64(&b, 0);
    expect_format(&b, "unknown array element type");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_ARRAY); gb_u32(&b, AI__GGUF_U32); gb_u64(&b, 5);
    gb_u32(&b, 1); gb_u32(&b, 2);
    expect_format(&b, "array length runs past the end");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_ARRAY); gb_u32(&b, AI__GGUF_U64);
    gb_u64(&b, UINT64_MAX / 4); gb_u64(&b, 1);
    expect_format(&b, "array length runs past the end");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_ARRAY); gb_u32(&b, AI__GGUF_STRING); gb_u64(&b, 2);
    gb_str(&b, "ok"); gb_u64(&b, 50); gb_bytes(&b, "short", 5);
    expect_format(&b, "string length runs past the end");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_ARRAY); gb_u32(&b, AI__GGUF_BOOL); gb_u64(&b, 2);
    gb_u8(&b, 1); gb_u8(&b, 9);
    expect_format(&b, "bool");
    gb_free(&b);
    /* arrays nested 9 deep */
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_ARRAY);
    for (int i = 0; i < 9; i++) { gb_u32(&b, AI__GGUF_ARRAY); gb_u64(&b, 1); }
    gb_u32(&b, AI__GGUF_U8); gb_u64(&b, 0);
    expect_format(&b, "nested too deeply");
    gb_free(&b);
    /* 8 deep is fine */
    gb_header(&b, 3, 0, 1); gb_key(&b, "k", AI__GGUF_ARRAY);
    for (int i = 0; i < 7; i++) { gb_u32(&b, AI__GGUF_ARRAY); gb_u64(&b, 1); }
    gb_u32(&b, AI__GGUF_U8); gb_u64(&b, 0);
    assert_int_equal(parse_gb(&b, NULL), AI_OK);
    gb_free(&b);
    gb_header(&b, 3, 0, 2); gb_kv_u32(&b, "dup", 1); gb_kv_u32(&b, "dup", 2);
    expect_format(&b, "duplicate key");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_kv_u32(&b, "general.alignment", 48);
    expect_format(&b, "general.alignment");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_kv_u32(&b, "general.alignment", 0);
    expect_format(&b, "general.alignment");
    gb_free(&b);
    gb_header(&b, 3, 0, 1); gb_kv_str(&b, "general.alignment", "32");
    expect_format(&b, "general.alignment");
    gb_free(&b);
}

/* A header with one tensor info (written by fn) and `data` bytes of data. */
static void one_tensor(gb *b, const char *name, uint32_t n_dims, const uint64_t *dims,
                       uint32_t type, uint64_t offset, size_t data) {
    gb_header(b, 3, 1, 0);
    gb_tensor(b, name, n_dims, dims, type, offset);
    gb_align(b, 32);
    gb_zeros(b, data);
}

static void test_tensor_rules(void **state) {
    (void)state;
    gb b = {0};
    uint64_t d1[1] = {32}, d5[5] = {1, 1, 1, 1, 1}, dz[2] = {32, 0};
    one_tensor(&b, "t", 1, d1, T_F32, 0, 128);
    assert_int_equal(parse_gb(&b, NULL), AI_OK);
    gb_free(&b);
    one_tensor(&b, "", 1, d1, T_F32, 0, 128);
    expect_format(&b, "empty name");
    gb_free(&b);
    char longname[66];
    memset(longname, 'n', 65);
    longname[65] = 0;
    one_tensor(&b, longname, 1, d1, T_F32, 0, 128);
    expect_format(&b, "name too long");
    gb_free(&b);
    one_tensor(&b, "t", 0, d1, T_F32, 0, 128);
    expect_format(&b, "n_dims");
    gb_free(&b);
    one_tensor(&b, "t", 5, d5, T_F32, 0, 128);
    expect_format(&b, "n_dims");
    gb_free(&b);
    one_tensor(&b, "t", 2, dz, T_F32, 0, 128);
    expect_format(&b, "dimension is zero");
    gb_free(&b);
    uint64_t dover[3] = {1ull << 32, 1ull << 32, 4};
    one_tensor(&b, "t", 3, dover, T_F32, 0, 128);
    expect_format(&b, "element count overflows");
    gb_free(&b);
    uint64_t dbytes[2] = {1ull << 31, 1ull << 31};
    one_tensor(&b, "t", 2, dbytes, 28 /* f64 */, 0, 128);
    expect_format(&b, "byte size overflows");
    gb_free(&b);
    one_tensor(&b, "t", 1, d1, 4 /* removed type */, 0, 128);
    expect_format(&b, "unknown tensor type");
    gb_free(&b);
    one_tensor(&b, "t", 1, d1, 99, 0, 128);
    expect_format(&b, "unknown tensor type");
    gb_free(&b);
    uint64_t d31[1] = {31};
    one_tensor(&b, "t", 1, d31, T_Q4_0, 0, 128);
    expect_format(&b, "block size");
    gb_free(&b);
    one_tensor(&b, "t", 1, d1, T_F32, 16, 256);
    expect_format(&b, "not aligned");
    gb_free(&b);
    one_tensor(&b, "t", 1, d1, T_F32, 0, 100); /* needs 128 */
    expect_format(&b, "runs past the end");
    gb_free(&b);
    one_tensor(&b, "t", 1, d1, T_F32, UINT64_MAX - 31, 128);
    expect_format(&b, "runs past the end");
    gb_free(&b);
    /* tensor info but the file ends before the data section */
    gb_header(&b, 3, 1, 0);
    gb_tensor(&b, "t", 1, d1, T_F32, 0);
    expect_format(&b, "data section is missing");
    gb_free(&b);
    /* overlap: [0,128) and [96,224) */
    gb_header(&b, 3, 2, 0);
    gb_tensor(&b, "x", 1, d1, T_F32, 0);
    gb_tensor(&b, "y", 1, d1, T_F32, 96);
    gb_align(&b, 32);
    gb_zeros(&b, 256);
    expect_format(&b, "overlap");
    gb_free(&b);
    gb_header(&b, 3, 2, 0);
    gb_tensor(&b, "x", 1, d1, T_F32, 0);
    gb_tensor(&b, "x", 1, d1, T_F32, 128);
    gb_align(&b, 32);
    gb_zeros(&b, 256);
    expect_format(&b, "duplicate tensor name");
    gb_free(&b);
    /* truncated inside a tensor info */
    const char *name40 = "a_forty_byte_long_tensor_name_0123456789";
    one_tensor(&b, name40, 1, d1, T_F32, 0, 0);
    b.len = 24 + 8 + 40 + 4 + 4; /* inside the first dimension */
    expect_format(&b, "tensor dimension");
    gb_free(&b);
}

/* Every prefix of a valid file is rejected cleanly (or, when only padding is
 * cut, accepted). */
static void test_every_truncation(void **state) {
    (void)state;
    gb b = {0};
    build_all_types(&b);
    for (size_t n = 0; n < b.len; n++) {
        gb t = {0};
        gb_bytes(&t, b.p, n ? n : 0);
        if (n == 0) t.len = 0;
        assert_int_equal(parse_gb(&t, NULL), AI_E_FORMAT);
        gb_free(&t);
    }
    gb_free(&b);
    build_tensors(&b, 64);
    for (size_t n = 0; n < b.len; n++) {
        gb t = {0};
        if (n) gb_bytes(&t, b.p, n);
        assert_int_equal(parse_gb(&t, NULL), AI_E_FORMAT);
        gb_free(&t);
    }
    gb_free(&b);
}

/* ---- the public loader's error paths ---------------------------------- */

static void test_load_errors(void **state) {
    (void)state;
    ai_model *m = (ai_model *)1;
    char err[256];
    assert_int_equal(ai_model_load("/nonexistent/x.gguf", NULL, &m, err, sizeof err), AI_E_IO);
    assert_null(m);
    assert_non_null(strstr(err, "/nonexistent/x.gguf"));
    assert_int_equal(ai_model_load("/tmp", NULL, &m, err, sizeof err), AI_E_IO);
    assert_non_null(strstr(err, "directory"));
    assert_int_equal(ai_model_load(NULL, NULL, &m, err, sizeof err), AI_E_INVAL);
    assert_int_equal(ai_model_load("/tmp", NULL, NULL, NULL, 0), AI_E_INVAL);
    gb b = {0};
    char *path = write_tmp(&b); /* empty file */
    assert_int_equal(ai_model_load(path, NULL, &m, err, sizeof err), AI_E_FORMAT);
    assert_non_null(strstr(err, "empty"));
    /* a tiny error buffer is truncated, NUL-terminated, never overrun */
    char tiny[6];
    memset(tiny, 'x', sizeof tiny);
    assert_int_equal(ai_model_load(path, NULL, &m, tiny, 5), AI_E_FORMAT);
    assert_int_equal(strlen(tiny), 4);
    assert_int_equal(tiny[5], 'x');
    assert_int_equal(ai_model_load(path, NULL, &m, NULL, 0), AI_E_FORMAT);
    unlink(path);
    ai_model_free(NULL);
    assert_int_equal(ai_model_meta_count(NULL), 0);
    assert_int_equal(ai_model_tensor_count(NULL), 0);
}

/* ---- fixtures ------------------------------------------------------------ */

typedef void (*file_fn)(const char *path);

static int for_each_fixture(file_fn fn) {
    const char *dirs[] = {"models", "vocab", "quants"};
    int n = 0;
    for (size_t k = 0; k < 3; k++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", tu_fixtures(), dirs[k]);
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 5, ".gguf")) continue;
            char path[8400];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            fn(path);
            n++;
        }
        closedir(d);
    }
    return n;
}

static void load_one(const char *path) {
    for (int mm = 0; mm <= 1; mm++) {
        ai_opts *o;
        assert_int_equal(ai_opts_new(&o), AI_OK);
        assert_int_equal(ai_opts_set_int(o, AI_OPT_USE_MMAP, mm), AI_OK);
        ai_model *m;
        char err[256];
        ai_status st = ai_model_load(path, o, &m, err, sizeof err);
        ai_opts_free(o);
        if (st) fail_msg("%s: %s", path, err);
        assert_true(ai_model_meta_count(m) > 0);
        ai_model_free(m);
    }
}

static void test_fixtures_load(void **state) {
    (void)state;
    if (!tu_fixtures()) skip();
    assert_true(for_each_fixture(load_one) >= 30);
}

/* Truncations and byte flips of a real file: AI_E_FORMAT or a clean load,
 * never a crash or an out-of-bounds read (the copies are exact-size). */
static void corrupt_one(const char *path) {
    size_t len;
    char *data = tu_read_file(path, &len);
    assert_non_null(data);
    ai__gguf *g;
    assert_int_equal(ai__gguf_parse(data, len, &g, NULL, 0), AI_OK);
    size_t meta_end = g->data_offset < len ? g->data_offset : len;
    ai__gguf_free(g);
    uint64_t rng = len * 2654435761u + 1;
    /* truncations: dense over the metadata region, a few in the data */
    int n_cuts = meta_end > (1u << 20) ? 24 : 120;
    for (int i = 0; i <= n_cuts + 4; i++) {
        size_t cut = i <= n_cuts ? (size_t)((double)meta_end * i / (n_cuts + 1))
                                 : meta_end + (size_t)(tu_rand(&rng) % (len - meta_end + 1));
        if (cut >= len) continue;
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, data, cut);
        ai_status st = ai__gguf_parse(copy, cut, &g, NULL, 0);
        if (st != AI_E_FORMAT && st != AI_OK) fail_msg("%s cut at %zu: status %d", path, cut, st);
        ai__gguf_free(g);
        free(copy);
    }
    /* byte flips in the header and metadata region */
    char *work = malloc(len);
    memcpy(work, data, len);
    int n_flips = meta_end > (1u << 20) ? 40 : 400;
    for (int i = 0; i < n_flips; i++) {
        size_t at = (size_t)(tu_rand(&rng) % meta_end);
        unsigned char old = (unsigned char)work[at];
        work[at] = (char)(old ^ (1u << (tu_rand(&rng) % 8)));
        if (i % 3 == 0) work[at] = (char)tu_rand(&rng);
        char err[256];
        ai_status st = ai__gguf_parse(work, len, &g, err, sizeof err);
        if (st != AI_E_FORMAT && st != AI_OK) fail_msg("%s flip at %zu: status %d", path, at, st);
        if (st == AI_E_FORMAT) assert_true(strlen(err) > 0);
        ai__gguf_free(g);
        work[at] = (char)old;
    }
    free(work);
    free(data);
}

static void test_fixtures_corruption(void **state) {
    (void)state;
    if (!tu_fixtures()) skip();
    assert_true(for_each_fixture(corrupt_one) >= 30);
}

/* ---- options, status strings, version, logging ---------------------------- */

static void test_opts(void **state) {
    (void)state;
    ai_opts *o;
    assert_int_equal(ai_opts_new(NULL), AI_E_INVAL);
    assert_int_equal(ai_opts_new(&o), AI_OK);
    assert_int_equal(ai__opts_int(o, AI_OPT_N_CTX, 77), 77);
    assert_int_equal(ai_opts_set_int(o, AI_OPT_N_CTX, 512), AI_OK);
    assert_int_equal(ai__opts_int(o, AI_OPT_N_CTX, 77), 512);
    assert_int_equal(ai_opts_set_int(o, AI_OPT_N_CTX, 0), AI_E_INVAL);
    assert_int_equal(ai__opts_int(o, AI_OPT_N_CTX, 77), 512);
    assert_int_equal(ai_opts_set_double(o, AI_OPT_N_CTX, 1.0), AI_E_UNKNOWN_OPT);
    assert_int_equal(ai_opts_set_int(o, (ai_opt)199, 1), AI_E_UNKNOWN_OPT);
    assert_int_equal(ai_opts_set_int(o, (ai_opt)-1, 1), AI_E_UNKNOWN_OPT);
    assert_int_equal(ai_opts_set_double(o, AI_OPT_TOP_P, 0.5), AI_OK);
    assert_true(ai__opts_double(o, AI_OPT_TOP_P, 1.0) == 0.5);
    assert_int_equal(ai_opts_set_double(o, AI_OPT_TOP_P, NAN), AI_E_INVAL);
    assert_int_equal(ai_opts_set_double(o, AI_OPT_TOP_P, 1.5), AI_E_INVAL);
    assert_int_equal(ai_opts_set_str(o, AI_OPT_CHAT_TEMPLATE, "{{ x }}"), AI_OK);
    assert_string_equal(ai__opts_str(o, AI_OPT_CHAT_TEMPLATE, NULL), "{{ x }}");
    assert_int_equal(ai_opts_set_str(o, AI_OPT_CHAT_TEMPLATE, NULL), AI_OK);
    assert_null(ai__opts_str(o, AI_OPT_CHAT_TEMPLATE, NULL));
    assert_int_equal(ai_opts_set_str(o, AI_OPT_N_CTX, "1"), AI_E_UNKNOWN_OPT);
    assert_int_equal(ai_opts_set_int(NULL, AI_OPT_N_CTX, 1), AI_E_INVAL);
    ai_opt k;
    assert_int_equal(ai_opt_from_name("n_ctx", &k), AI_OK);
    assert_int_equal(k, AI_OPT_N_CTX);
    assert_int_equal(ai_opt_from_name("temperature", &k), AI_OK);
    assert_int_equal(k, AI_OPT_TEMPERATURE);
    assert_int_equal(ai_opt_from_name("no_such_option", &k), AI_E_UNKNOWN_OPT);
    ai_opts_free(o);
    ai_opts_free(NULL);
}

static void test_status_and_version(void **state) {
    (void)state;
    for (int s = -12; s <= 1; s++) assert_string_not_equal(ai_status_string((ai_status)s), "unknown status");
    assert_string_equal(ai_status_string((ai_status)-999), "unknown status");
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", AI_VERSION_MAJOR, AI_VERSION_MINOR, AI_VERSION_PATCH);
    assert_string_equal(ai_version_string(), v);
    assert_string_equal(ai_version_string(), AI_VERSION_STRING);
    assert_int_equal(ai_version_number(),
                     AI_VERSION_MAJOR * 1000000 + AI_VERSION_MINOR * 1000 + AI_VERSION_PATCH);
    assert_string_equal(ai_type_name(AI_TYPE_Q4_K), "q4_k");
    assert_null(ai_type_name(4));
    assert_null(ai_type_name(-1));
    assert_null(ai_type_name(1000));
}

static int log_calls, log_last_level;
static char log_last[64];
static void sink(int32_t level, const char *m, void *ud) {
    log_calls++;
    log_last_level = level;
    snprintf(log_last, sizeof log_last, "%s", m);
    *(int *)ud += 1;
}

static void test_logging(void **state) {
    (void)state;
    int ud = 0;
    ai__log(AI_LOG_ERROR, "silent by default %d", 1);
    assert_int_equal(log_calls, 0);
    ai_log_set(sink, AI_LOG_WARN, &ud);
    ai__log(AI_LOG_INFO, "filtered");
    assert_int_equal(log_calls, 0);
    ai__log(AI_LOG_WARN, "kept %d", 42);
    assert_int_equal(log_calls, 1);
    assert_int_equal(ud, 1);
    assert_int_equal(log_last_level, AI_LOG_WARN);
    assert_string_equal(log_last, "kept 42");
    ai_log_set(NULL, 0, NULL);
    ai__log(AI_LOG_ERROR, "silent again");
    assert_int_equal(log_calls, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_value_types),
        cmocka_unit_test(test_public_metadata),
        cmocka_unit_test(test_tensors),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_metadata_rules),
        cmocka_unit_test(test_tensor_rules),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_fixtures_load),
        cmocka_unit_test(test_fixtures_corruption),
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_status_and_version),
        cmocka_unit_test(test_logging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
