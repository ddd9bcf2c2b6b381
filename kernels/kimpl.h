/*
 * kimpl.h - what the kernel files share behind kernels/kernels.h (private to
 * kernels/ and its tests).
 *
 * A kernel set is a table of per-type operations.  kernels/ref/ fills the
 * whole table; an ISA variant (kernels/x86/, kernels/arm/) starts from a copy
 * of the reference table and replaces the entries it speeds up, so every type
 * always works and the reference remains the truth to test against.
 *
 * Activations.  A matrix multiplication first converts each activation row
 * (k floats) into the form the weight type meets, the "act" row:
 *
 *   ACT_F32     k floats, unchanged                         (F32 weights)
 *   ACT_F16     k uint16 f16 values, rounded to nearest      (F16 weights)
 *   ACT_BF16    k uint16 bf16 values, rounded to nearest     (BF16 weights)
 *   ACT_Q8_32   blocks of 32: int8 q[k] | float d[k/32] | float s[k/32]
 *               d = amax/127 rounded to f16, q = nearest(x*(127/amax)),
 *               s = d*sum(q) rounded to f16 (used by the types with a min)
 *   ACT_Q8_256  blocks of 256: int8 q[k] | float d[k/256] | int16 bs[k/16]
 *               d = -max/127 where max is the element of largest magnitude
 *               (so d may be negative), q = min(127, nearest(x/d)),
 *               bs[j] = sum of q[16j .. 16j+15]
 *
 * "nearest" rounds half to even, as the peer's x86 code does.  The q array
 * comes first so that it is aligned like the row; the row is padded to 64
 * bytes (ai__act_row_size).
 */
#ifndef AI_KIMPL_H
#define AI_KIMPL_H

#include "kernels.h"
#include "types.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { ACT_F32 = 0, ACT_F16 = 1, ACT_BF16 = 2, ACT_Q8_32 = 3, ACT_Q8_256 = 4, ACT_KINDS = 5 };

/* Bytes of one act row of k elements of the given kind (a multiple of 64). */
size_t ai__act_row_size(int kind, int64_t k);

/* Views into an ACT_Q8_32 / ACT_Q8_256 row of k elements. */
static inline const int8_t *act_q(const void *a) { return (const int8_t *)a; }
static inline const float *act_d(const void *a, int64_t k) {
    return (const float *)((const uint8_t *)a + k);
}
static inline const float *act_s32(const void *a, int64_t k) { return act_d(a, k) + k / 32; }
static inline const int16_t *act_bs256(const void *a, int64_t k) {
    return (const int16_t *)(act_d(a, k) + k / 256);
}

/* Converts one activation row x[k] to act kind `kind` at dst. */
typedef void (*ai__act_fn)(const float *x, void *dst, int64_t k);

/* Dot product of one weight row (k elements) with one act row. */
typedef float (*ai__dot_fn)(const void *w, const void *act, int64_t k);

/*
 * A block of the product: rows [0, nr) of w (row stride ws bytes) against act
 * rows [0, nb) (stride as bytes):  y[b*ldy + r] = dot(w_r, act_b).
 * NULL in a table means "loop over dot".
 */
typedef void (*ai__gemm_fn)(const void *w, size_t ws, int64_t nr,
                            const void *act, size_t as, int64_t nb, int64_t k,
                            float *y, int64_t ldy);

/*
 * The matrix-vector case: rows [0, nr) of w (stride ws) against one act row,
 * y[r] = dot(w_r, act).  Each y[r] must be bit-identical to dot's (and so to
 * gemm's column results: batch invariance); a kernel may work on several
 * rows per pass to share the activation loads.  NULL: gemm with nb = 1.
 */
typedef void (*ai__gemv_fn)(const void *w, size_t ws, int64_t nr,
                            const void *act, int64_t k, float *y);

typedef struct ai__type_ops {
    int act;                                          /* ACT_* */
    void (*dequant)(const void *src, float *dst, int64_t n);
    void (*quant)(const float *src, void *dst, int64_t n);
    ai__dot_fn dot;
    ai__gemm_fn gemm;
    ai__gemv_fn gemv;
} ai__type_ops;

/*
 * Elementwise and attention pieces with the peer's exact rounding (its x86
 * AVX-512 build), for lib/ops.c.  Every variant gives the reference's bits:
 * each output is the same sequence of correctly rounded operations.
 *
 *   dot_f16     a.b over n f16 values in the peer's order: lanes of 64
 *               (16 x 4 accumulators) over the first n & ~63 values, the
 *               accumulators folded 0+2, 1+3, 0+1, a 16-lane tree
 *               (i, i+8), (i, i+4), (i, i+2), (0, 1); then the rest of the
 *               products added in double
 *   mad_f16     y[i] = f16(fma(v[i], s, y[i]))          (y, v f16)
 *   scale_f16   y[i] = f16(y[i] * s)
 *   exp         y[i] = the peer's vector exp: r = x*log2(e) rounded, two
 *               fma steps of the reduction, a degree-5 polynomial, times
 *               2^r; 0 below and inf above |r| > 192
 *   swiglu      x[i] = x[i] / (1 + exp(0 - x[i])) * y[i]
 *   kq          out[t] = fma chain over d = 0..hd-1 of k[d*ld + t] * q[d],
 *               from 0 (scores against a transposed f32 key tile)
 *   pv          acc[d] = fma chain over t = 0..nt-1 of v[t*dv + d] * p[t],
 *               from acc[d]
 *   dot_f16h    a.b over n f16 values in half precision, as the peer's
 *               build for CPUs with AVX512-FP16 computes its F16 matrix-
 *               vector products: 4 accumulators of 32 f16 lanes over the
 *               first n & ~127 values, each step one f16 fused multiply-add
 *               (rounded once to f16), folded 0+2, 1+3, 0+1 and then by
 *               halves (i, i+16), (i, i+8), ..., (0, 1), every add rounded
 *               to f16; the rest of the products added in double.  Scalar
 *               everywhere (no such hardware here): only the opt-in peer
 *               mode uses it.
 *   attn_f16    the peer's one-query flash attention over an f16 cache
 *               (lib/ops.c, ai__attention_f16, says how) from the pieces
 *               above, in one call so that they inline
 *   q4_0, iq4_nl, q4_k
 *               rows [0, nr) of Q4_0 / IQ4_NL / Q4_K weights (row stride ws
 *               bytes) against one ACT_Q8_32 / ACT_Q8_256 row, y[r], summed
 *               as the peer's kernels for the weights it repacks at load
 *               time (8 rows interleaved, on x86 with AVX2, when the row
 *               count is a multiple of 8) do.  The integer part is exact in
 *               any order; the float part is one accumulator per output:
 *                 q4_0, iq4_nl: acc = fma(float(isum_b), d_w*d_a, acc)
 *                       block after block (its matrix-vector and its
 *                       matrix kernels agree);
 *                 q4_k: acc = fma(float(S), d_w*d_a, acc) and, apart,
 *                       accm = fma(float(M), dmin_w*d_a, accm), y =
 *                       acc - accm, where S = sum sc_s*isum_s and M =
 *                       sum m_s*asum_s over the sub-blocks s of a group:
 *                       the whole super-block for tile == 0 (its
 *                       matrix-vector kernel), each pair of sub-blocks
 *                       (2j, 2j+1) for tile == 1 (its matrix kernel,
 *                       which takes the batch rows below the last
 *                       multiple of 4).
 *               Only the opt-in peer mode uses them (ai__mm_ws_set_peer).
 *   q8_0        rows [0, nr) of Q8_0 weights against nb ACT_Q8_32 rows, as
 *               ai__gemm_fn, summed as the peer's Q8_0 kernels do: per block
 *               8 int32 lanes of 4 products, acc = fma(float(lanes),
 *               d_w*d_a, acc) over 8 float lanes block after block, then
 *               x86_base.h's hsum.  NULL in the sets whose own Q8_0 kernels
 *               sum that way (the AVX-512 set's do not: x86_q40.h).  Used by
 *               the opt-in peer mode only.
 */
typedef struct ai__peer_ops {
    float (*dot_f16)(const uint16_t *a, const uint16_t *b, int64_t n);
    void (*mad_f16)(uint16_t *y, const uint16_t *v, float s, int64_t n);
    void (*scale_f16)(uint16_t *y, float s, int64_t n);
    void (*exp)(const float *x, float *y, int64_t n);
    void (*swiglu)(float *x, const float *y, int64_t n);
    void (*kq)(const float *q, const float *k, int64_t ld, int64_t hd, int64_t nt, float *out);
    void (*pv)(float *acc, const float *p, const float *v, int64_t nt, int64_t dv);
    float (*dot_f16h)(const uint16_t *a, const uint16_t *b, int64_t n);
    void (*attn_f16)(float *out, const float *q, const uint16_t *k, const uint16_t *v,
                     int64_t n_kv, int64_t hd, int64_t hdv, float scale, uint16_t *scratch);
    void (*q4_0)(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y);
    void (*iq4_nl)(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y);
    void (*q4_k)(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y, int tile);
    void (*q8_0)(const void *w, size_t ws, int64_t nr, const void *act, size_t as, int64_t nb, int64_t k,
                 float *y, int64_t ldy);
} ai__peer_ops;

typedef struct ai__kset {
    const char *name;
    /* Batches of at least this many rows go through OpenBLAS sgemm (weights
     * dequantized to f32 in tiles, activations converted to their act form
     * and back, so the numbers are those of the integer path up to float
     * rounding); 0: never.  Set by dispatch.c for the ISA sets when BLAS is
     * built in; the reference set never uses it. */
    int64_t blas_min_batch;
    ai__act_fn act[ACT_KINDS];
    ai__type_ops ops[AI__TYPE_COUNT]; /* dot == NULL: unsupported type */
    void (*axpy_f16)(float alpha, const uint16_t *a, float *y, int64_t n);
    ai__peer_ops peer;
    /* GELU, tanh form, in place over n floats (kernels.h ai__gelu_f32). */
    void (*gelu)(float *x, int64_t n);
    /* LayerNorm of one row and softmax of one row of scores (kernels.h
     * ai__layernorm_f32, ai__softmax_f32). */
    void (*layernorm)(float *out, const float *x, const float *w, const float *b, int64_t n,
                      float eps);
    void (*softmax)(float *x, int64_t n, float scale);
    /* RoPE in place (kernels.h ai__rope_f32). */
    void (*rope)(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int neox, const float *cs);
    /* Extra data that this set's gemm tiles read after each act row of a
     * kind, at offset ai__act_row_size(kind, k): act_ext_bytes(kind, k)
     * bytes (0: none), filled by act_ext from the finished act row.  The
     * rows that matmul.c hands to a gemm have it when the product has more
     * than one row (a gemm must not read it for nb == 1); NULL: none. */
    size_t (*act_ext_bytes)(int kind, int64_t k);
    void (*act_ext)(int kind, void *row, int64_t k);
    /* The one-query attention peer.attn_f16 for a block of queries
     * (kernels.h ai__peer_attn_f16_rows, same arguments): each result
     * bit-identical to attn_f16's for that query alone.  Returns 0, having
     * done nothing, for shapes it does not take; scratch holds
     * attn_f16_rows_scratch(hd, hdv) floats.  NULL: one query at a time. */
    int (*attn_f16_rows)(float *out, int64_t ldo, const float *q, int64_t ldq, int64_t nb, int64_t ng,
                         const uint16_t *k, const uint16_t *v, int64_t n_kv0, int64_t hd, int64_t hdv,
                         float scale, float *scratch);
    size_t (*attn_f16_rows_scratch)(int64_t hd, int64_t hdv);
} ai__kset;

/* The reference set (kernels/ref/ref.c), complete. */
extern const ai__kset ai__kset_ref;

/* ISA variants fill a copy of the reference set (they exist only in builds
 * for their architecture; see dispatch.c). */
void ai__kset_fill_avx2(ai__kset *ks);
void ai__kset_fill_avx512(ai__kset *ks);
void ai__kset_fill_neon(ai__kset *ks);
void ai__kset_fill_neon_dotprod(ai__kset *ks); /* the same kernels built with SDOT */
void ai__kset_fill_gemm_avx512(ai__kset *ks);  /* on top of avx512 (gemm_avx512.c) */
/* attn_f16_rows of the avx512 set (attn_avx512.c). */
int ai__attn_f16_rows_avx512(float *out, int64_t ldo, const float *q, int64_t ldq, int64_t nb, int64_t ng,
                             const uint16_t *k, const uint16_t *v, int64_t n_kv0, int64_t hd, int64_t hdv,
                             float scale, float *scratch);
size_t ai__attn_f16_rows_scratch_avx512(int64_t hd, int64_t hdv);

/* The set chosen for this process (dispatch.c), and a set by name for tests
 * ("ref", "avx2", "avx512", "neon", "neon-dotprod"); NULL when the CPU
 * lacks it. */
const ai__kset *ai__kset_get(void);
const ai__kset *ai__kset_by_name(const char *name);

/* ai__matmul with an explicit kernel set (tests compare sets with it). */
ai_status ai__matmul_ks(const ai__kset *ks, ai__pool *pool, uint32_t wtype,
                        const void *w, int64_t n_rows, int64_t k,
                        const float *x, int64_t n_batch, float *y, int64_t ldy);

/* OpenBLAS is used where its headers were found at build time (the
 * cross-compiled aarch64 build has none). */
#if defined(__has_include)
#if __has_include(<cblas.h>)
#define AI__USE_BLAS 1
#endif
#endif

/* x86 features usable by this process (CPU and OS both), from cpuid and
 * xgetbv directly (compilers disagree on __builtin_cpu_supports names);
 * 0 elsewhere (dispatch.c). */
enum {
    AI__X86_AVX2 = 1 << 0, AI__X86_FMA = 1 << 1, AI__X86_F16C = 1 << 2, AI__X86_AVX512F = 1 << 3,
    AI__X86_AVX512BW = 1 << 4, AI__X86_AVX512VL = 1 << 5, AI__X86_AVX512DQ = 1 << 6,
    AI__X86_AVX512VNNI = 1 << 7
};
unsigned ai__x86_features(void);

/* Number of online CPUs, 1..1024: the default thread count (system.c). */
int ai__default_threads(void);

/* ---- reference pieces, also used by the variants for their tails --------- */

/* Round half to even (the activation quantizers' "nearest"). */
static inline int nearest_int(float f) {
    /* Adding 1.5*2^23 leaves the rounded integer in the low mantissa bits;
     * valid for |f| < 2^22, which holds for every caller (|f| <= 127.5). */
    union { float f; int32_t i; } u;
    u.f = f + 12582912.0f;
    return (u.i & 0x007fffff) - 0x00400000;
}

/* The first of x[0..n) whose magnitude is amax, with its sign (0 if none):
 * the element the reference's 256-block activation scale is taken from,
 * looked up by the vector quantizers after their vector max. */
static inline float first_signed_max(const float *x, int n, float amax) {
    for (int j = 0; j < n; j++)
        if (x[j] == amax || x[j] == -amax) return x[j];
    return 0;
}

/* The non-linear 4-bit codebook of IQ4_NL and IQ4_XS. */
extern const int8_t ai__iq4nl_values[16];

/* Scale and min of sub-block j of a Q4_K/Q5_K block from its 12 packed
 * bytes (six bits each). */
static inline void k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* All 8 six-bit scales and mins of a Q4_K/Q5_K block (12 bytes at p), as
 * bytes sc[0..7] and m[0..7]: k4_scale_min's unpacking, four at a time on
 * 32-bit words (the SIMD kernels' form; plain C, so every ISA file shares
 * it). */
static inline void k4_unpack(const uint8_t *p, uint8_t sc[8], uint8_t m[8]) {
    uint32_t w0, w1, w2;
    memcpy(&w0, p, 4);
    memcpy(&w1, p + 4, 4);
    memcpy(&w2, p + 8, 4);
    uint32_t s_lo = w0 & 0x3f3f3f3f, m_lo = w1 & 0x3f3f3f3f;
    uint32_t s_hi = (w2 & 0x0f0f0f0f) | ((w0 >> 2) & 0x30303030);
    uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0f) | ((w1 >> 2) & 0x30303030);
    memcpy(sc, &s_lo, 4);
    memcpy(sc + 4, &s_hi, 4);
    memcpy(m, &m_lo, 4);
    memcpy(m + 4, &m_hi, 4);
}

/* The 16 signed six-bit scales of a Q3_K block (12 packed bytes). */
static inline void k3_scales(const uint8_t *p, int8_t out[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? (p[j] & 0xF) : (p[j - 8] >> 4);
        int hi = (p[8 + (j % 4)] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

#endif /* AI_KIMPL_H */
