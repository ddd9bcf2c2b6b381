/*
 * gguf.h - the GGUF reader (private).
 *
 * File layout (GGUF v2/v3, little-endian):
 *
 *   u32 magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv x  { string key | u32 value_type | value }
 *   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 type | u64 offset }
 *   padding to general.alignment (default 32)
 *   tensor data; each tensor at data_start + offset, offset aligned
 *
 *   string = u64 length | bytes (not NUL-terminated)
 *   array  = u32 element_type | u64 count | elements
 *
 * ai__gguf_parse() validates everything it reads against the buffer bounds
 * before use; afterwards every accessor below is safe without further checks.
 */
#ifndef AI_GGUF_H
#define AI_GGUF_H

#include "agentinfer.h"

#include <stddef.h>
#include <stdint.h>

/* Value types, as numbered by the format (== ai_meta_type). */
enum {
    AI__GGUF_U8 = 0, AI__GGUF_I8 = 1, AI__GGUF_U16 = 2, AI__GGUF_I16 = 3,
    AI__GGUF_U32 = 4, AI__GGUF_I32 = 5, AI__GGUF_F32 = 6, AI__GGUF_BOOL = 7,
    AI__GGUF_STRING = 8, AI__GGUF_ARRAY = 9, AI__GGUF_U64 = 10,
    AI__GGUF_I64 = 11, AI__GGUF_F64 = 12
};

#define AI__GGUF_MAX_DIMS 4
#define AI__GGUF_MAX_NAME 64 /* tensor names are at most 64 bytes */
#define AI__GGUF_DEFAULT_ALIGNMENT 32

typedef struct ai__gguf_kv {
    char *key;             /* NUL-terminated copy                          */
    uint32_t type;         /* AI__GGUF_*                                   */
    uint32_t arr_type;     /* element type when type == ARRAY, else 0      */
    uint64_t n;            /* element count for arrays; 1 for scalars      */
    const uint8_t *data;   /* the value bytes in the file image (for a
                              string: its u64 length prefix; for an array:
                              the first element)                           */
    uint64_t *str_off;     /* arrays of strings only: offset of element i
                              (its length prefix) from `data`; else NULL   */
} ai__gguf_kv;

typedef struct ai__gguf_tensor {
    char *name;            /* NUL-terminated copy                          */
    uint32_t type;         /* ai_type                                      */
    uint32_t n_dims;       /* 1..4                                         */
    int64_t ne[AI__GGUF_MAX_DIMS]; /* ne[0] varies fastest; unused = 1     */
    uint64_t offset;       /* from the start of the data section           */
    size_t nbytes;
    const void *data;      /* in the file image (mmap'd or read)           */
} ai__gguf_tensor;

typedef struct ai__gguf {
    uint32_t version;
    uint32_t alignment;
    const uint8_t *base;   /* the file image                               */
    size_t size;
    size_t data_offset;    /* start of the tensor data section             */
    size_t n_kv;
    ai__gguf_kv *kv;
    size_t n_tensors;
    ai__gguf_tensor *tensors;
    /* private: */
    void *owned;           /* malloc'd image (read mode) or NULL           */
    void *map;             /* mmap'd image or NULL                         */
    size_t map_size;
    uint32_t *kv_index;    /* open-addressing hash of keys (index + 1)     */
    uint32_t *t_index;     /* same for tensor names                        */
    size_t kv_index_cap, t_index_cap;
} ai__gguf;

/* Parses a GGUF image in memory.  The buffer is borrowed and must outlive the
 * result.  AI_E_FORMAT (message names field and byte offset),
 * AI_E_UNSUPPORTED (big-endian, version 1 or > 3), AI_E_NOMEM. */
ai_status ai__gguf_parse(const void *buf, size_t size, ai__gguf **out,
                         char *err, size_t err_cap);

/* Opens and parses a file: mmap'd when use_mmap, else read into memory.
 * Adds AI_E_IO (missing, unreadable, directory) to the errors above. */
ai_status ai__gguf_open(const char *path, int use_mmap, ai__gguf **out,
                        char *err, size_t err_cap);

void ai__gguf_free(ai__gguf *g);

/* Lookups; NULL when absent. */
const ai__gguf_kv *ai__gguf_find(const ai__gguf *g, const char *key);
const ai__gguf_tensor *ai__gguf_tensor_find(const ai__gguf *g, const char *name);

/* Typed getters: 0 on success, -1 when the key is missing or of a type that
 * does not convert.  get_int accepts every integer type and bool (u64 above
 * INT64_MAX fails); get_float accepts f32, f64 and integers. */
int ai__gguf_get_int(const ai__gguf *g, const char *key, int64_t *v);
int ai__gguf_get_float(const ai__gguf *g, const char *key, double *v);
int ai__gguf_get_bool(const ai__gguf *g, const char *key, int *v);
int ai__gguf_get_str(const ai__gguf *g, const char *key, const char **s,
                     size_t *len);
/* The same with the key built as "<arch>.<suffix>" (e.g. "llama",
 * "context_length"). */
int ai__gguf_get_arch_int(const ai__gguf *g, const char *arch,
                          const char *suffix, int64_t *v);
int ai__gguf_get_arch_float(const ai__gguf *g, const char *arch,
                            const char *suffix, double *v);

/* Scalar and array element readers on a kv (no bounds beyond i < kv->n are
 * needed: the parser checked them).  0 on success, -1 on type mismatch or
 * i out of range. */
int ai__gguf_kv_int(const ai__gguf_kv *kv, int64_t *v);
int ai__gguf_kv_float(const ai__gguf_kv *kv, double *v);
int ai__gguf_kv_str(const ai__gguf_kv *kv, const char **s, size_t *len);
int ai__gguf_arr_int(const ai__gguf_kv *kv, uint64_t i, int64_t *v);
int ai__gguf_arr_float(const ai__gguf_kv *kv, uint64_t i, double *v);
int ai__gguf_arr_str(const ai__gguf_kv *kv, uint64_t i, const char **s,
                     size_t *len);

/* Size in bytes of one element of a scalar value type (0 for string/array). */
size_t ai__gguf_scalar_size(uint32_t type);

#endif /* AI_GGUF_H */
