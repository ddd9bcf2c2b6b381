/*
 * ggufb.h - a byte-level GGUF builder for tests.  It writes exactly what it
 * is told, so tests can build both valid files and every kind of malformed
 * one.  Allocation failure aborts the test (test code only).
 */
#ifndef AI_GGUFB_H
#define AI_GGUFB_H

#include <stddef.h>
#include <stdint.h>

typedef struct gb {
    unsigned char *p;
    size_t len, cap;
} gb;

void gb_bytes(gb *b, const void *data, size_t n);
void gb_u8(gb *b, uint8_t v);
void gb_u16(gb *b, uint16_t v);
void gb_u32(gb *b, uint32_t v);
void gb_u64(gb *b, uint64_t v);
void gb_f32(gb *b, float v);
void gb_f64(gb *b, double v);
void gb_str(gb *b, const char *s); /* u64 length + bytes */
void gb_header(gb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv);
/* A key followed by a value type (the caller writes the value). */
void gb_key(gb *b, const char *key, uint32_t type);
void gb_kv_u32(gb *b, const char *key, uint32_t v);
void gb_kv_str(gb *b, const char *key, const char *v);
/* A tensor info with n_dims dimensions. */
void gb_tensor(gb *b, const char *name, uint32_t n_dims, const uint64_t *dims, uint32_t type,
               uint64_t offset);
void gb_align(gb *b, size_t alignment); /* zero padding */
void gb_zeros(gb *b, size_t n);
void gb_free(gb *b);

#endif
