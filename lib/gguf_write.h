/*
 * gguf_write.h - a GGUF v3 writer (private).  Used by the quantizer and by
 * tools that generate models (benchmark models, tests).
 *
 * Use: collect metadata and tensor descriptions, then write the header, then
 * each tensor's bytes in the order they were added:
 *
 *   ai__gguf_writer *w;  ai__gguf_writer_new(32, &w);
 *   ai__gguf_w_u32(w, "general.quantization_version", 2);  ... more kvs
 *   ai__gguf_w_tensor(w, "blk.0.attn_q.weight", type, 2, ne);  ... more
 *   ai__gguf_w_begin(w, f);              header, kvs, tensor infos, padding
 *   ai__gguf_w_data(w, f, bytes, n);     repeated: each tensor's bytes, in
 *   ai__gguf_w_end_tensor(w, f);         order, closed by the padding
 *   ai__gguf_writer_free(w);
 *
 * Keys and strings are copied.  The writer checks that every tensor gets
 * exactly the bytes its type and shape call for.  Errors: AI_E_INVAL (bad
 * arguments, wrong byte counts, duplicate names), AI_E_NOMEM, AI_E_IO.
 */
#ifndef AI_GGUF_WRITE_H
#define AI_GGUF_WRITE_H

#include "agentinfer.h"
#include "gguf.h"

#include <stdint.h>
#include <stdio.h>

typedef struct ai__gguf_writer ai__gguf_writer;

/* alignment: a power of two (GGUF's default is 32).  When it is not 32 and
 * no general.alignment kv was given, the writer puts one first in the file.
 * A general.alignment kv given by the caller (e.g. copied from the input)
 * keeps its place and must be a u32 equal to `alignment`. */
ai_status ai__gguf_writer_new(uint32_t alignment, ai__gguf_writer **out);
void ai__gguf_writer_free(ai__gguf_writer *w);

/* Metadata.  Values keep the order of the calls; a key given twice is
 * refused (AI_E_INVAL), as the peer's reader refuses such files. */
ai_status ai__gguf_w_u32(ai__gguf_writer *w, const char *key, uint32_t v);
ai_status ai__gguf_w_str(ai__gguf_writer *w, const char *key, const char *s);
/* A value already encoded as in a GGUF file: `type` and, for arrays, the
 * element type and count, then `size` bytes (for arrays: the elements, for
 * strings: u64 length + bytes).  How a parsed file's kvs are copied. */
ai_status ai__gguf_w_raw(ai__gguf_writer *w, const char *key, uint32_t type,
                         uint32_t arr_type, uint64_t n, const void *data,
                         size_t size);
/* Copies kv from a parsed file (ai__gguf_parse), value bytes unchanged. */
ai_status ai__gguf_w_copy_kv(ai__gguf_writer *w, const ai__gguf_kv *kv);

/* A tensor: ne[0] varies fastest; ne[0] a multiple of the type's block;
 * the name at most 63 bytes (the peer's limit). */
ai_status ai__gguf_w_tensor(ai__gguf_writer *w, const char *name, uint32_t type,
                            uint32_t n_dims, const int64_t *ne);

ai_status ai__gguf_w_begin(ai__gguf_writer *w, FILE *f);
ai_status ai__gguf_w_data(ai__gguf_writer *w, FILE *f, const void *data, size_t n);
ai_status ai__gguf_w_end_tensor(ai__gguf_writer *w, FILE *f);

/* Bytes of a tensor's data (0 for a bad type or shape). */
size_t ai__gguf_tensor_bytes(uint32_t type, uint32_t n_dims, const int64_t *ne);

#endif /* AI_GGUF_WRITE_H */
