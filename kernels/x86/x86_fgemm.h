/*
 * x86_fgemm.h - register-blocked matrix-matrix kernels for the plain float
 * weight types (F32, F16, BF16), included by x86_kern.h (so compiled once per
 * ISA file, everything static).  Kept apart from the quantized kernels.
 *
 * Arithmetic contract.  Every output y[b][r] is computed exactly as the
 * one-row kernel T_cols of x86_kern.h computes it, whatever the tile it falls
 * in and however many rows the batch has:
 *
 *   16 lanes, lane j accumulates w[i+j] * a[i+j] by FMA for i = 0, 16, 32, ...
 *   while i + 16 <= k (weights and activations widened to f32 exactly);
 *   s = hsum(lanes 0..7 + lanes 8..15)     (hsum: x86_kern.h's tree)
 *   s += w[j] * a[j] for the k % 16 tail, in order (unfused).
 *
 * So the matrix-vector path (dot), the old gemm and this one agree bit for
 * bit, and a row's result never depends on its batch.
 *
 * Speed.  The one-row kernel loads and widens one weight vector and one
 * activation vector per FMA pair.  Here a tile of MR activation rows x NR
 * weight rows keeps MR*NR accumulators (one 16-lane vector each) in
 * registers; per 16 elements it widens NR weight vectors and MR activation
 * vectors once and issues MR*NR FMAs.  AVX-512: 4 x 6 tile, 24 zmm
 * accumulators.  AVX2: a 16-lane accumulator is two ymm, 2 x 3 tile, 12 ymm.
 * Tiles walk the batch inside each panel of NR weight rows, so the panel
 * stays in L1 while the activation rows stream past it.
 */

/* ---- loads: 16 elements widened to f32 ------------------------------------------- */

#if ISA_VNNI
#define FG_MR 4
#define FG_NR 6
typedef __m512 fg_vec;
INLINE fg_vec fg_zero(void) { return _mm512_setzero_ps(); }
INLINE fg_vec fg_ld_f32(const uint8_t *p) { return _mm512_loadu_ps((const float *)p); }
INLINE fg_vec fg_ld_f16(const uint8_t *p) { return _mm512_cvtph_ps(load256(p)); }
INLINE fg_vec fg_ld_bf16(const uint8_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(load256(p)), 16));
}
INLINE fg_vec fg_fma(fg_vec a, fg_vec b, fg_vec c) { return _mm512_fmadd_ps(a, b, c); }
/* lanes 0..7 + lanes 8..15, then x86_kern.h's tree */
INLINE float fg_sum(fg_vec v) {
    return hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}
#else
#define FG_MR 2
#define FG_NR 3
typedef struct fg_vec {
    __m256 lo, hi; /* lanes 0..7, 8..15 */
} fg_vec;
INLINE fg_vec fg_zero(void) {
    fg_vec v = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    return v;
}
#define FG_LD2(T, ESZ)                                                                     \
    INLINE fg_vec fg_ld_##T(const uint8_t *p) {                                            \
        fg_vec v = {ld_##T(p), ld_##T(p + 8 * ESZ)};                                       \
        return v;                                                                          \
    }
FG_LD2(f32, 4)
FG_LD2(f16, 2)
FG_LD2(bf16, 2)
INLINE fg_vec fg_fma(fg_vec a, fg_vec b, fg_vec c) {
    fg_vec v = {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
    return v;
}
INLINE float fg_sum(fg_vec v) { return hsum(_mm256_add_ps(v.lo, v.hi)); }
#endif

/* The last nb % FG_MR activation rows of a panel, as one narrower tile. */
#if ISA_VNNI
#define FG_EDGE(T, wr, ws, ab, as, k, yb, ldy, rem)                                        \
    switch (rem) {                                                                         \
    case 3: T##_fg_tile(wr, ws, ab, as, k, yb, ldy, 3, FG_NR); break;                      \
    case 2: T##_fg_tile(wr, ws, ab, as, k, yb, ldy, 2, FG_NR); break;                      \
    case 1: T##_fg_tile(wr, ws, ab, as, k, yb, ldy, 1, FG_NR); break;                      \
    default: break;                                                                        \
    }
#else
#define FG_EDGE(T, wr, ws, ab, as, k, yb, ldy, rem)                                        \
    if (rem == 1) T##_fg_tile(wr, ws, ab, as, k, yb, ldy, 1, FG_NR);
#endif

/* ---- the tile ------------------------------------------------------------------------ */

/*
 * T_fg_tile: weight rows w[0..NR) (stride ws bytes) x activation rows
 * a[0..MR) (stride as bytes): y[m*ldy + n] for m < MR, n < NR.  MR and NR are
 * constants after inlining, so the accumulators live in registers.
 */
#define FG_TILE(T, ESZ)                                                                    \
    INLINE void T##_fg_tile(const uint8_t *w, size_t ws, const uint8_t *a, size_t as,     \
                            int64_t k, float *y, int64_t ldy, const int MR, const int NR) { \
        fg_vec acc[FG_MR][FG_NR];                                                          \
        _Pragma("GCC unroll 8") for (int m = 0; m < MR; m++)                               \
            _Pragma("GCC unroll 8") for (int n = 0; n < NR; n++) acc[m][n] = fg_zero();    \
        int64_t i = 0;                                                                     \
        for (; i + 16 <= k; i += 16) {                                                     \
            fg_vec wv[FG_NR];                                                              \
            _Pragma("GCC unroll 8") for (int n = 0; n < NR; n++)                           \
                wv[n] = fg_ld_##T(w + (size_t)n * ws + ESZ * i);                           \
            _Pragma("GCC unroll 8") for (int m = 0; m < MR; m++) {                         \
                fg_vec x = fg_ld_##T(a + (size_t)m * as + ESZ * i);                        \
                _Pragma("GCC unroll 8") for (int n = 0; n < NR; n++)                       \
                    acc[m][n] = fg_fma(wv[n], x, acc[m][n]);                               \
            }                                                                              \
        }                                                                                  \
        for (int m = 0; m < MR; m++)                                                       \
            for (int n = 0; n < NR; n++) {                                                 \
                const uint8_t *wr = w + (size_t)n * ws, *ar = a + (size_t)m * as;          \
                float s = fg_sum(acc[m][n]);                                               \
                for (int64_t j = i; j < k; j++) s += sc_##T(wr, j) * sc_##T(ar, j);        \
                y[m * ldy + n] = s;                                                        \
            }                                                                              \
    }

/*
 * T_fg_gemm: the ai__gemm_fn.  Panels of FG_NR weight rows (then the rows
 * left over, one at a time) x the whole batch in tiles of FG_MR rows (then
 * the rows left over as a narrower tile).
 */
#define FG_GEMM(T, ESZ)                                                                    \
    FG_TILE(T, ESZ)                                                                        \
    static void T##_fg_gemm(const void *w, size_t ws, int64_t nr, const void *act,        \
                            size_t as, int64_t nb, int64_t k, float *y, int64_t ldy) {     \
        const uint8_t *W = w, *A = act;                                                    \
        int64_t r = 0;                                                                     \
        for (; r + FG_NR <= nr; r += FG_NR) {                                              \
            const uint8_t *wr = W + (size_t)r * ws;                                        \
            int64_t b = 0;                                                                 \
            for (; b + FG_MR <= nb; b += FG_MR)                                            \
                T##_fg_tile(wr, ws, A + (size_t)b * as, as, k, y + b * ldy + r, ldy, FG_MR, FG_NR); \
            FG_EDGE(T, wr, ws, A + (size_t)b * as, as, k, y + b * ldy + r, ldy, nb - b);   \
        }                                                                                  \
        for (; r < nr; r++) {                                                              \
            const uint8_t *wr = W + (size_t)r * ws;                                        \
            int64_t b = 0;                                                                 \
            for (; b + FG_MR <= nb; b += FG_MR)                                            \
                T##_fg_tile(wr, ws, A + (size_t)b * as, as, k, y + b * ldy + r, ldy, FG_MR, 1); \
            for (; b < nb; b++)                                                            \
                T##_fg_tile(wr, ws, A + (size_t)b * as, as, k, y + b * ldy + r, ldy, 1, 1); \
        }                                                                                  \
    }

FG_GEMM(f32, 4)
FG_GEMM(f16, 2)
FG_GEMM(bf16, 2)

static void fg_fill(ai__kset *ks) {
    ks->ops[AI_TYPE_F32].gemm = f32_fg_gemm;
    ks->ops[AI_TYPE_F16].gemm = f16_fg_gemm;
    ks->ops[AI_TYPE_BF16].gemm = bf16_fg_gemm;
}
