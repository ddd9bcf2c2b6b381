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
 * stays in L1 while the activation rows stream past it.  Two more steps
 * (see "Widened panels" and "Prefetch" below): a batch of FG_PANEL_MINB rows
 * or more (AVX-512 16, AVX2 4) widens each F16/BF16 panel to f32 once, and
 * each panel's first tile prefetches the next panel.
 */

/* ---- loads: 16 elements widened to f32 ------------------------------------------- */

#if ISA_VNNI
#define FG_MR 4
#define FG_NR 6
#define FG_PANEL_MINB 16      /* batch rows from which panels are widened (below: slower) */
#define FG_PANEL_BYTES 24576  /* largest widened panel: k <= 1024 */
typedef __m512 fg_vec;
INLINE fg_vec fg_zero(void) { return _mm512_setzero_ps(); }
INLINE fg_vec fg_ld_f32(const uint8_t *p) { return _mm512_loadu_ps((const float *)p); }
INLINE fg_vec fg_ld_f16(const uint8_t *p) { return _mm512_cvtph_ps(load256(p)); }
INLINE fg_vec fg_ld_bf16(const uint8_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(load256(p)), 16));
}
INLINE void fg_st(float *p, fg_vec v) { _mm512_store_ps(p, v); } /* p 64-byte aligned */
INLINE fg_vec fg_fma(fg_vec a, fg_vec b, fg_vec c) { return _mm512_fmadd_ps(a, b, c); }
/* lanes 0..7 + lanes 8..15, then x86_kern.h's tree */
INLINE float fg_sum(fg_vec v) {
    return hsum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}
#else
#define FG_MR 2
#define FG_NR 3
#define FG_PANEL_MINB 4
#define FG_PANEL_BYTES 262144 /* k <= 21845 */
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
INLINE void fg_st(float *p, fg_vec v) { /* p 32-byte aligned */
    _mm256_store_ps(p, v.lo);
    _mm256_store_ps(p + 8, v.hi);
}
INLINE fg_vec fg_fma(fg_vec a, fg_vec b, fg_vec c) {
    fg_vec v = {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
    return v;
}
INLINE float fg_sum(fg_vec v) { return hsum(_mm256_add_ps(v.lo, v.hi)); }
#endif

/* ---- the tile ------------------------------------------------------------------------ */

/*
 * NAME: weight rows n < NR x activation rows a[0..MR) (stride as bytes):
 * y[m*ldy + n] for m < MR.  The 16-lane loop reads weight row n at wv + n*wvs
 * as LW (the rows themselves, or their f32 copy in a widened panel); the
 * k % 16 tail reads them at w + n*ws as T.  pf (may be NULL): NR rows of
 * stride ws to prefetch, the next panel (see "Prefetch" below).  MR and NR
 * are constants after inlining, so the accumulators live in registers.
 */
#define FG_TILE(NAME, LW, WESZ, T, ESZ)                                                    \
    INLINE void NAME(const uint8_t *wv, size_t wvs, const uint8_t *w, size_t ws,          \
                     const uint8_t *a, size_t as, int64_t k, float *y, int64_t ldy,       \
                     const int MR, const int NR, const uint8_t *pf) {                      \
        fg_vec acc[FG_MR][FG_NR];                                                          \
        _Pragma("GCC unroll 8") for (int m = 0; m < MR; m++)                               \
            _Pragma("GCC unroll 8") for (int n = 0; n < NR; n++) acc[m][n] = fg_zero();    \
        int64_t i = 0;                                                                     \
        for (; i + 16 <= k; i += 16) {                                                     \
            fg_vec wq[FG_NR];                                                              \
            _Pragma("GCC unroll 8") for (int n = 0; n < NR; n++) {                         \
                wq[n] = fg_ld_##LW(wv + (size_t)n * wvs + WESZ * i);                       \
                if (pf)                                                                    \
                    _mm_prefetch((const char *)pf + (size_t)n * ws + ESZ * i, _MM_HINT_T0); \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int m = 0; m < MR; m++) {                         \
                fg_vec x = fg_ld_##T(a + (size_t)m * as + ESZ * i);                        \
                _Pragma("GCC unroll 8") for (int n = 0; n < NR; n++)                       \
                    acc[m][n] = fg_fma(wq[n], x, acc[m][n]);                               \
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
 * NAME: NR weight rows against the whole batch, in tiles of FG_MR activation
 * rows, then the nb % FG_MR rows left as one narrower tile; the first tile
 * prefetches pf.
 */
#define FG_ROWS(NAME, TILE, NR)                                                            \
    INLINE void NAME(const uint8_t *wv, size_t wvs, const uint8_t *w, size_t ws,          \
                     const uint8_t *A, size_t as, int64_t nb, int64_t k, float *y,        \
                     int64_t ldy, const uint8_t *pf) {                                     \
        int64_t b = 0;                                                                     \
        if (pf && nb >= FG_MR) {                                                           \
            TILE(wv, wvs, w, ws, A, as, k, y, ldy, FG_MR, NR, pf);                         \
            b = FG_MR;                                                                     \
        }                                                                                  \
        for (; b + FG_MR <= nb; b += FG_MR)                                                \
            TILE(wv, wvs, w, ws, A + (size_t)b * as, as, k, y + b * ldy, ldy, FG_MR, NR, NULL); \
        const uint8_t *ab = A + (size_t)b * as;                                            \
        float *yb = y + b * ldy;                                                           \
        const uint8_t *pe = b == 0 ? pf : NULL;                                            \
        switch (nb - b) {                                                                  \
        case 3: if (FG_MR > 3) TILE(wv, wvs, w, ws, ab, as, k, yb, ldy, 3, NR, pe); break; \
        case 2: if (FG_MR > 2) TILE(wv, wvs, w, ws, ab, as, k, yb, ldy, 2, NR, pe); break; \
        case 1: TILE(wv, wvs, w, ws, ab, as, k, yb, ldy, 1, NR, pe); break;                \
        default: break;                                                                    \
        }                                                                                  \
    }

/*
 * Widened panels.  A tile of F16 or BF16 weights widens its FG_NR weight
 * vectors at every step, once per tile of the batch, and the widening
 * competes with the FMAs (AVX-512: 6 vcvtph2ps per 24 FMAs).  When the batch
 * has at least FG_PANEL_MINB rows, T_fg_gemm widens each panel's 16-lane part
 * once into an f32 copy (FG_NR rows of k & ~15 floats, 64-byte aligned,
 * allocated per call) and the tiles load from it.  The copy holds the exact
 * f32 values the tile would have widened to, so every product and every sum
 * is the same (the contract above).  Without memory for it the tiles widen
 * as before.  F32 weights need no copy.  Measured (one Zen 5 core, BERT-base
 * and Qwen3-0.6B shapes):
 *  - AVX-512: 6-10% faster for batches of 64 rows and k = 768, but only
 *    while the copy stays in L1 beside the activations (FG_PANEL_BYTES): a
 *    copy read from L2 by every tile costs more than the widening it saves
 *    (k = 3072: 8% slower), and so does the widening pass itself for fewer
 *    than 16 rows (15% slower at 8 rows);
 *  - AVX2: 20-50% faster from 8 rows on, whatever k (tried up to 16384: a
 *    copy in L2 too).  The 2 x 3 tile has no registers left for its widened
 *    weights (12 + 6 + 2 ymm), so it widens them again for each use; from the
 *    copy they are FMA memory operands.
 *
 * Prefetch.  With a short batch (one text of ~30 tokens: 7 tiles per panel)
 * the first tile of a panel waited for its weights from DRAM, since the
 * hardware prefetchers do not run ahead across six row streams.  So the first
 * tile of each panel also prefetches the next panel's rows (into L1), at the
 * pace it reads its own: 25% faster on BERT-base shapes (k = 768, 27 rows),
 * 8% at k = 3072.  Prefetches change no result.
 */
#define FG_WIDE_f32 0
#define FG_WIDE_f16 1
#define FG_WIDE_bf16 1

/*
 * The nr % FG_NR weight rows after the last panel: one narrower panel of
 * that many rows (each activation vector loaded once for all of them, not
 * once per row as in one-row tiles; a product's tile of 64 rows leaves 4).
 */
#if ISA_VNNI
#define FG_REST_DEFS(T)                                                                    \
    FG_ROWS(T##_fg_row3, T##_fg_tile, 3)                                                   \
    FG_ROWS(T##_fg_row4, T##_fg_tile, 4)                                                   \
    FG_ROWS(T##_fg_row5, T##_fg_tile, 5)
#define FG_REST_CASES(T, ARGS)                                                             \
    case 5: T##_fg_row5 ARGS; break;                                                       \
    case 4: T##_fg_row4 ARGS; break;                                                       \
    case 3: T##_fg_row3 ARGS; break;
#else
#define FG_REST_DEFS(T)
#define FG_REST_CASES(T, ARGS)
#endif

#define FG_GEMM(T, ESZ)                                                                    \
    FG_TILE(T##_fg_tile, T, ESZ, T, ESZ)                                                   \
    FG_TILE(T##_fg_ptile, f32, 4, T, ESZ)                                                  \
    FG_ROWS(T##_fg_rows, T##_fg_tile, FG_NR)                                               \
    FG_ROWS(T##_fg_prows, T##_fg_ptile, FG_NR)                                             \
    FG_ROWS(T##_fg_row1, T##_fg_tile, 1)                                                   \
    FG_ROWS(T##_fg_row2, T##_fg_tile, 2)                                                   \
    FG_REST_DEFS(T)                                                                        \
    static void T##_fg_gemm(const void *w, size_t ws, int64_t nr, const void *act,        \
                            size_t as, int64_t nb, int64_t k, float *y, int64_t ldy) {     \
        const uint8_t *W = w, *A = act;                                                    \
        int64_t kv = k & ~(int64_t)15, r = 0;                                              \
        float *pw = NULL;                                                                  \
        if (FG_WIDE_##T && nb >= FG_PANEL_MINB && nr >= FG_NR && kv > 0 &&                 \
            kv <= FG_PANEL_BYTES / (FG_NR * (int64_t)sizeof(float)))                       \
            pw = aligned_alloc(64, (size_t)(FG_NR * kv) * sizeof(float));                  \
        for (; r + FG_NR <= nr; r += FG_NR) {                                              \
            const uint8_t *wr = W + (size_t)r * ws;                                        \
            const uint8_t *pf = r + 2 * FG_NR <= nr ? wr + FG_NR * ws : NULL;              \
            if (pw) {                                                                      \
                for (int n = 0; n < FG_NR; n++)                                            \
                    for (int64_t i = 0; i < kv; i += 16)                                   \
                        fg_st(pw + n * kv + i, fg_ld_##T(wr + (size_t)n * ws + ESZ * i));  \
                T##_fg_prows((const uint8_t *)pw, (size_t)kv * sizeof(float), wr, ws, A, as, nb, k, \
                             y + r, ldy, pf);                                              \
            } else {                                                                       \
                T##_fg_rows(wr, ws, wr, ws, A, as, nb, k, y + r, ldy, pf);                 \
            }                                                                              \
        }                                                                                  \
        free(pw);                                                                          \
        const uint8_t *wr = W + (size_t)r * ws;                                            \
        switch (nr - r) {                                                                  \
        FG_REST_CASES(T, (wr, ws, wr, ws, A, as, nb, k, y + r, ldy, NULL))                 \
        case 2: T##_fg_row2(wr, ws, wr, ws, A, as, nb, k, y + r, ldy, NULL); break;        \
        case 1: T##_fg_row1(wr, ws, wr, ws, A, as, nb, k, y + r, ldy, NULL); break;        \
        default: break;                                                                    \
        }                                                                                  \
    }

FG_GEMM(f32, 4)
FG_GEMM(f16, 2)
FG_GEMM(bf16, 2)

/* ---- BF16 activation rows ---------------------------------------------------------- */

/*
 * x -> ACT_BF16 rows, 16 at a time, bit for bit ai__f32_to_bf16 (round to
 * nearest even by adding 0x7fff plus the kept lowest bit, NaN kept quiet).
 * The reference's scalar loop took most of the time of a product with few
 * weight rows: agentinfer bench-kernels --type bf16 (64 x 4096 weights, 64
 * rows, one core) 77 -> 167 GOP/s.
 */
static void act_bf16(const float *x, void *dst, int64_t k) {
    uint16_t *h = dst;
    const __m256i absm = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i one = _mm256_set1_epi32(1), half = _mm256_set1_epi32(0x7fff);
    const __m256i quiet = _mm256_set1_epi32(0x40);
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        __m256i r[2];
        for (int j = 0; j < 2; j++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(x + i + 8 * j));
            __m256i hi = _mm256_srli_epi32(v, 16);
            __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(v, absm), inf);
            __m256i rnd = _mm256_add_epi32(v, _mm256_add_epi32(half, _mm256_and_si256(hi, one)));
            r[j] = _mm256_blendv_epi8(_mm256_srli_epi32(rnd, 16), _mm256_or_si256(hi, quiet), nan);
        }
        /* values 0..0xffff: packus keeps them; it interleaves the 128-bit
         * lanes (r0 0-3, r1 0-3, r0 4-7, r1 4-7), the permute restores order */
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xD8);
        _mm256_storeu_si256((__m256i *)(h + i), p);
    }
    for (; i < k; i++) h[i] = ai__f32_to_bf16(x[i]);
}

static void fg_fill(ai__kset *ks) {
    ks->act[ACT_BF16] = act_bf16;
    ks->ops[AI_TYPE_F32].gemm = f32_fg_gemm;
    ks->ops[AI_TYPE_F16].gemm = f16_fg_gemm;
    ks->ops[AI_TYPE_BF16].gemm = bf16_fg_gemm;
}
