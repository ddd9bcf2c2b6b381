/*
 * peer_ops.c - the runtime's entry points to the peer-rounding pieces of the
 * chosen kernel set (ai__peer_ops in kimpl.h; declared in kernels.h).
 */
#include "kimpl.h"

#include <stdlib.h>

float ai__peer_dot_f16(const uint16_t *a, const uint16_t *b, int64_t n) {
    return ai__kset_get()->peer.dot_f16(a, b, n);
}
void ai__peer_mad_f16(uint16_t *y, const uint16_t *v, float s, int64_t n) {
    ai__kset_get()->peer.mad_f16(y, v, s, n);
}
void ai__peer_scale_f16(uint16_t *y, float s, int64_t n) { ai__kset_get()->peer.scale_f16(y, s, n); }
void ai__peer_exp(const float *x, float *y, int64_t n) { ai__kset_get()->peer.exp(x, y, n); }
void ai__peer_swiglu(float *x, const float *y, int64_t n) { ai__kset_get()->peer.swiglu(x, y, n); }
void ai__peer_kq(const float *q, const float *k, int64_t ld, int64_t hd, int64_t nt, float *out) {
    ai__kset_get()->peer.kq(q, k, ld, hd, nt, out);
}
void ai__peer_pv(float *acc, const float *p, const float *v, int64_t nt, int64_t dv) {
    ai__kset_get()->peer.pv(acc, p, v, nt, dv);
}
void ai__peer_attn_f16(float *out, const float *q, const uint16_t *k, const uint16_t *v,
                       int64_t n_kv, int64_t hd, int64_t hdv, float scale, uint16_t *scratch) {
    ai__kset_get()->peer.attn_f16(out, q, k, v, n_kv, hd, hdv, scale, scratch);
}

size_t ai__peer_attn_f16_rows_scratch(int64_t hd, int64_t hdv) {
    const ai__kset *ks = ai__kset_get();
    size_t one = (size_t)(hd + hdv) / 2 + 1; /* attn_f16's hd + hdv f16 values */
    size_t rows = ks->attn_f16_rows_scratch ? ks->attn_f16_rows_scratch(hd, hdv) : 0;
    return rows > one ? rows : one;
}

void ai__peer_attn_f16_rows(float *out, int64_t ldo, const float *q, int64_t ldq, int64_t nb, int64_t ng,
                            const uint16_t *k, const uint16_t *v, int64_t n_kv0, int64_t hd, int64_t hdv,
                            float scale, float *scratch) {
    const ai__kset *ks = ai__kset_get();
    if (ks->attn_f16_rows && ks->attn_f16_rows(out, ldo, q, ldq, nb, ng, k, v, n_kv0, hd, hdv, scale, scratch))
        return;
    for (int64_t b = 0; b < nb; b++)
        for (int64_t g = 0; g < ng; g++)
            ks->peer.attn_f16(out + b * ldo + g * hdv, q + b * ldq + g * hd, k, v, n_kv0 + b, hd, hdv, scale,
                              (uint16_t *)scratch);
}

ai_status ai__peer_matvec_f16h(const uint16_t *w, int64_t n_rows, int64_t k, const float *x, float *y) {
    uint16_t *xh = malloc((size_t)k * sizeof *xh);
    if (!xh) return AI_E_NOMEM;
    for (int64_t i = 0; i < k; i++) xh[i] = ai__f32_to_f16(x[i]);
    const ai__kset *ks = ai__kset_get();
    for (int64_t r = 0; r < n_rows; r++) y[r] = ks->peer.dot_f16h(w + r * k, xh, k);
    free(xh);
    return AI_OK;
}
