/* ggufb.c - see ggufb.h. */
#include "ggufb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gb_bytes(gb *b, const void *data, size_t n) {
    if (n == 0) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "ggufb: out of memory\n");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void gb_u8(gb *b, uint8_t v) { gb_bytes(b, &v, 1); }
void gb_u16(gb *b, uint16_t v) { gb_bytes(b, &v, 2); }
void gb_u32(gb *b, uint32_t v) { gb_bytes(b, &v, 4); }
void gb_u64(gb *b, uint64_t v) { gb_bytes(b, &v, 8); }
void gb_f32(gb *b, float v) { gb_bytes(b, &v, 4); }
void gb_f64(gb *b, double v) { gb_bytes(b, &v, 8); }

void gb_str(gb *b, const char *s) {
    gb_u64(b, strlen(s));
    gb_bytes(b, s, strlen(s));
}

void gb_header(gb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    gb_bytes(b, "GGUF", 4);
    gb_u32(b, version);
    gb_u64(b, n_tensors);
    gb_u64(b, n_kv);
}

void gb_key(gb *b, const char *key, uint32_t type) {
    gb_str(b, key);
    gb_u32(b, type);
}

void gb_kv_u32(gb *b, const char *key, uint32_t v) {
    gb_key(b, key, 4);
    gb_u32(b, v);
}

void gb_kv_str(gb *b, const char *key, const char *v) {
    gb_key(b, key, 8);
    gb_str(b, v);
}

void gb_tensor(gb *b, const char *name, uint32_t n_dims, const uint64_t *dims, uint32_t type,
               uint64_t offset) {
    gb_str(b, name);
    gb_u32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) gb_u64(b, dims[i]);
    gb_u32(b, type);
    gb_u64(b, offset);
}

void gb_zeros(gb *b, size_t n) {
    static const unsigned char z[64];
    while (n) {
        size_t k = n < sizeof z ? n : sizeof z;
        gb_bytes(b, z, k);
        n -= k;
    }
}

void gb_align(gb *b, size_t alignment) { gb_zeros(b, (alignment - b->len % alignment) % alignment); }

void gb_free(gb *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
