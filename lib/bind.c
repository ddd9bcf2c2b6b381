/* bind.c - see bind.h. */
#include "bind.h"

#include "internal.h"
#include "kernels.h"
#include "types.h"

const ai__gguf_tensor *ai__bind_find(const ai__bind *b, const char *name, int required,
                                     ai_status *st) {
    const ai__gguf_tensor *t = ai__gguf_tensor_find(b->g, name);
    if (!t && required) {
        ai__set_err(b->err, b->err_cap, "%s: tensor %s is missing", b->arch, name);
        *st = AI_E_FORMAT;
    }
    return t;
}

ai_status ai__bind_bad_shape(const ai__bind *b, const char *name, const ai__gguf_tensor *t,
                             int64_t c, int64_t r) {
    ai__set_err(b->err, b->err_cap,
                "tensor %s has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]",
                name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                (long long)t->ne[3], (long long)c, (long long)r);
    return AI_E_FORMAT;
}

ai_status ai__bind_mat(const ai__bind *b, ai__mat *m, const char *name, int64_t cols,
                       int64_t rows, int required) {
    ai_status st = AI_OK;
    const ai__gguf_tensor *t = ai__bind_find(b, name, required, &st);
    if (!t) return st;
    if (rows < 0) rows = t->ne[1] > 0 ? t->ne[1] : 1;
    if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != 1 || t->ne[3] != 1)
        return ai__bind_bad_shape(b, name, t, cols, rows);
    if (!ai__type_supported(t->type)) {
        const char *tn = ai_type_name((int32_t)t->type);
        ai__set_err(b->err, b->err_cap, "tensor %s: type %s is not supported", name,
                    tn ? tn : "?");
        return AI_E_UNSUPPORTED;
    }
    size_t rs = ai__row_size(t->type, cols);
    if (rs == 0 || t->nbytes < rs * (size_t)rows) {
        ai__set_err(b->err, b->err_cap, "tensor %s: %lld columns do not fit its "
                    "type's blocks", name, (long long)cols);
        return AI_E_FORMAT;
    }
    m->type = t->type;
    m->rows = rows;
    m->cols = cols;
    m->data = t->data;
    return AI_OK;
}
