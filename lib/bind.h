/*
 * bind.h - checks shared by the loaders that bind GGUF tensors to a model's
 * weights (lib/weights.c for decoders, lib/encoder.c for encoders): find a
 * tensor, check its shape and type, and say what is wrong with its name.
 */
#ifndef AI_BIND_H
#define AI_BIND_H

#include "gguf.h"
#include "runtime.h"

typedef struct ai__bind {
    const ai__gguf *g;
    const char *arch;   /* for messages */
    char *err;          /* caller's message buffer (may be NULL) */
    size_t err_cap;
} ai__bind;

/* The tensor called name, or NULL.  Absent and required: AI_E_FORMAT in *st
 * with a message; absent and optional: *st untouched. */
const ai__gguf_tensor *ai__bind_find(const ai__bind *b, const char *name, int required,
                                     ai_status *st);
/* AI_E_FORMAT with "tensor NAME has shape [...], expected [c, r]". */
ai_status ai__bind_bad_shape(const ai__bind *b, const char *name, const ai__gguf_tensor *t,
                             int64_t c, int64_t r);
/* Binds a matrix of `rows` rows of `cols` elements (GGUF ne = {cols, rows})
 * in place.  rows < 0: any number of rows.  Absent and optional: m stays
 * zeroed and AI_OK.  A type without kernels gives AI_E_UNSUPPORTED. */
ai_status ai__bind_mat(const ai__bind *b, ai__mat *m, const char *name, int64_t cols,
                       int64_t rows, int required);

#endif /* AI_BIND_H */
