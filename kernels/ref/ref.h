/*
 * ref.h - the scalar reference kernels, one group per type (private).
 *
 * For each type T:  ai__ref_dequant_T (n elements, a multiple of the block
 * size), ai__ref_quant_T, ai__ref_dot_T (one weight row against one act row
 * of the kind given in ref.c's table; see kimpl.h for the act layouts).
 */
#ifndef AI_REF_H
#define AI_REF_H

#include "kimpl.h"

#define AI__REF_TYPE(T)                                                       \
    void ai__ref_dequant_##T(const void *src, float *dst, int64_t n);         \
    void ai__ref_quant_##T(const float *src, void *dst, int64_t n);           \
    float ai__ref_dot_##T(const void *w, const void *act, int64_t k);

AI__REF_TYPE(f32)
AI__REF_TYPE(f16)
AI__REF_TYPE(bf16)
AI__REF_TYPE(q4_0)
AI__REF_TYPE(q4_1)
AI__REF_TYPE(q5_0)
AI__REF_TYPE(q5_1)
AI__REF_TYPE(q8_0)
AI__REF_TYPE(iq4_nl)
AI__REF_TYPE(q2_k)
AI__REF_TYPE(q3_k)
AI__REF_TYPE(q4_k)
AI__REF_TYPE(q5_k)
AI__REF_TYPE(q6_k)
AI__REF_TYPE(iq4_xs)

/* Fits n values (n <= 32) to the IQ4_NL codebook with one scale; returns the
 * scale (0 for all zeros) and writes the codebook indices (legacy.c). */
float ai__iq4_fit(const float *x, int n, uint8_t *q);

/* Index of the IQ4_NL codebook value nearest to v (legacy.c). */
int ai__iq4_nearest(float v);

/* y += alpha * a over n f16 values (act.c). */
void ai__ref_axpy_f16(float alpha, const uint16_t *a, float *y, int64_t n);
void ai__ref_gelu(float *x, int64_t n);
void ai__ref_layernorm(float *out, const float *x, const float *w, const float *b, int64_t n,
                       float eps);
void ai__ref_softmax(float *x, int64_t n, float scale);
void ai__ref_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int neox, const float *cs);

/* The peer-rounding pieces (peer.c; see ai__peer_ops in kimpl.h). */
float ai__ref_peer_dot_f16(const uint16_t *a, const uint16_t *b, int64_t n);
void ai__ref_peer_mad_f16(uint16_t *y, const uint16_t *v, float s, int64_t n);
void ai__ref_peer_scale_f16(uint16_t *y, float s, int64_t n);
float ai__ref_peer_exp1(float x);
void ai__ref_peer_exp(const float *x, float *y, int64_t n);
void ai__ref_peer_swiglu(float *x, const float *y, int64_t n);
void ai__ref_peer_kq(const float *q, const float *k, int64_t ld, int64_t hd, int64_t nt, float *out);
void ai__ref_peer_pv(float *acc, const float *p, const float *v, int64_t nt, int64_t dv);
float ai__ref_peer_dot_f16h(const uint16_t *a, const uint16_t *b, int64_t n);
void ai__ref_peer_attn_f16(float *out, const float *q, const uint16_t *k, const uint16_t *v,
                           int64_t n_kv, int64_t hd, int64_t hdv, float scale, uint16_t *scratch);
void ai__ref_peer_q4_0(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y);
void ai__ref_peer_iq4_nl(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y);
void ai__ref_peer_q4_k(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y,
                       int tile);

/* Activation converters (act.c). */
void ai__ref_act_f32(const float *x, void *dst, int64_t k);
void ai__ref_act_f16(const float *x, void *dst, int64_t k);
void ai__ref_act_bf16(const float *x, void *dst, int64_t k);
void ai__ref_act_q8_32(const float *x, void *dst, int64_t k);
void ai__ref_act_q8_256(const float *x, void *dst, int64_t k);

/* Writes a float as f16 into an unaligned little-endian slot. */
static inline void wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline float rdf16(const uint8_t *p) { return ai__f16_to_f32(rd16(p)); }
/* A float rounded through f16 and back: what a stored scale decodes to. */
static inline float f16_round(float f) { return ai__f16_to_f32(ai__f32_to_f16(f)); }

#endif /* AI_REF_H */
