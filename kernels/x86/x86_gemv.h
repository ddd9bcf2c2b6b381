/*
 * x86_gemv.h - the matrix-vector kernels (ai__gemv_fn) of x86_kern.h, which
 * includes this file after its T_cols kernels, so it is compiled twice too.
 *
 * Token generation streams each weight row once against one activation row.
 * The T_cols kernels with nc = 1 reload the activation block (and redo what
 * depends on it alone) for every row; here R = 1..4 rows go through the
 * activation blocks together, so those loads and that work are shared, and
 * the per-row work is cut down where several blocks can be handled at once
 * (e.g. the f16 scales of sixteen Q4_0 blocks in one conversion).
 *
 * Batch invariance: every row's result must be bit-identical to T_cols with
 * nc = 1 (the dot product, which the matrix-matrix tiles reproduce too).  So
 * each T_rows keeps, per row, exactly the integer lanes, the float products
 * and the order of the float additions of its T_cols; only how the integers
 * are obtained and which loads are shared differ.
 */

/* y[r] = T(w_r . act) for nr rows, N (2 or 4) at a time, then the rest.  R
 * is a constant in each call, so T_rows unrolls its row loops. */
#define GEMV_ROWS_N(T, N)                                                                 \
    static void T##_gemv(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, \
                         float *y) {                                                      \
        const uint8_t *W = w, *A = act;                                                   \
        int64_t r = 0;                                                                    \
        for (; r + N <= nr; r += N) T##_rows(W + (size_t)r * ws, ws, N, A, k, y + r);     \
        switch (nr - r) {                                                                 \
        case 3: T##_rows(W + (size_t)r * ws, ws, 3, A, k, y + r); break;                  \
        case 2: T##_rows(W + (size_t)r * ws, ws, 2, A, k, y + r); break;                  \
        case 1: T##_rows(W + (size_t)r * ws, ws, 1, A, k, y + r); break;                  \
        default: break;                                                                   \
        }                                                                                 \
    }
#define GEMV_ROWS(T) GEMV_ROWS_N(T, 4)

/* (UNROLL, from x86_kern.h: the loops over rows and pairs must be unrolled
 * too, or the per-row accumulators live in memory.) */
#define ROWS_ARGS const uint8_t *w, size_t ws, int R, const uint8_t *a, int64_t k, float *out

/* Software prefetch of a pass's rows: pf_dist and pf_rows, x86_base.h. */

/* ---- float types ------------------------------------------------------------------ */

/* FLOAT_COLS with nc = 1 for R rows: each activation vector is loaded once
 * for all rows; per row the same two accumulators, the same order. */
#define FLOAT_ROWS(T, ESZ)                                                                \
    INLINE void T##_rows(ROWS_ARGS) {                                                     \
        vf acc0[4], acc1[4];                                                              \
        UNROLL for (int r = 0; r < R; r++) acc0[r] = acc1[r] = vf_zero();                 \
        const size_t pfd = pf_dist(ws, R);                                                \
        int64_t i = 0;                                                                    \
        for (; i + 2 * VF_N <= k; i += 2 * VF_N) {                                        \
            pf_rows(w, pfd, R, (size_t)(ESZ * i), 2 * VF_N * ESZ);                        \
            vf x0 = vld_##T(a + ESZ * i), x1 = vld_##T(a + ESZ * (i + VF_N));             \
            UNROLL for (int r = 0; r < R; r++) {                                          \
                const uint8_t *wr = w + (size_t)r * ws;                                   \
                acc0[r] = vf_fma(vld_##T(wr + ESZ * i), x0, acc0[r]);                     \
                acc1[r] = vf_fma(vld_##T(wr + ESZ * (i + VF_N)), x1, acc1[r]);            \
            }                                                                             \
        }                                                                                 \
        UNROLL for (int r = 0; r < R; r++) {                                              \
            const uint8_t *wr = w + (size_t)r * ws;                                       \
            float s = vf_sum2(acc0[r], acc1[r]);                                          \
            for (int64_t j = i; j < k; j++) s += sc_##T(wr, j) * sc_##T(a, j);            \
            out[r] = s;                                                                   \
        }                                                                                 \
    }

FLOAT_ROWS(f32, 4)
FLOAT_ROWS(f16, 2)
FLOAT_ROWS(bf16, 2)
GEMV_ROWS(f32)
GEMV_ROWS(f16)
GEMV_ROWS(bf16)

#if ISA_VNNI
/* ---- Q4_0 and Q8_0 (AVX-512) ------------------------------------------------------- */

/* x86_q40.h's q40_rows: 16 blocks per step, R rows sharing the activation
 * work, the summation every Q4_0 and Q8_0 path of the set follows. */
INLINE void q4_0_rows(ROWS_ARGS) { q40_rows(w, ws, R, a, k, out, 0); }
INLINE void q8_0_rows(ROWS_ARGS) { q40_rows(w, ws, R, a, k, out, 1); }
GEMV_ROWS(q4_0)
GEMV_ROWS(q8_0)

/* ---- Q4_1, Q5_0, Q5_1 and IQ4_NL (AVX-512) ------------------------------------------ */

/* leg_cols (x86_kern.h, nc = 1) for R rows: the activation bytes of a pair
 * and the start -(off . a) are loaded / computed once for all rows. */
INLINE void leg_pair_rows(const uint8_t *w, size_t ws, int R, const uint8_t *a, int64_t k, int64_t j, const int kind,
                          __m512 *acc, float *accm) {
    const int bytes = LEG_BYTES(kind);
    __m512i av = _mm512_loadu_si512((const void *)(act_q(a) + 32 * j));
    __m512i start = leg_start(av, kind);
    UNROLL for (int r = 0; r < R; r++) {
        const uint8_t *b = w + (size_t)r * ws + bytes * j;
        __m512i p = _mm512_dpbusd_epi32(start, leg_z(b, kind), av);
        acc[r] = leg_step(p, b, act_d(a, k) + j, act_s32(a, k) + j, kind, acc[r], &accm[r]);
    }
}

INLINE void leg_rows(ROWS_ARGS, const int kind) {
    const int bytes = LEG_BYTES(kind);
    __m512 acc[4], accb[4];
    __m256 acc2[4];
    float accm[4];
    UNROLL for (int r = 0; r < R; r++) {
        acc[r] = accb[r] = _mm512_setzero_ps();
        acc2[r] = _mm256_setzero_ps();
        accm[r] = 0;
    }
    const int64_t nb = k / 32;
    const size_t pfd = pf_dist(ws, R);
    int64_t j = 0;
    for (; j + 4 <= nb; j += 4) {
        pf_rows(w, pfd, R, (size_t)(bytes * j), 4 * (size_t)bytes);
        leg_pair_rows(w, ws, R, a, k, j, kind, acc, accm);
        leg_pair_rows(w, ws, R, a, k, j + 2, kind, accb, accm);
    }
    if (j + 2 <= nb) {
        leg_pair_rows(w, ws, R, a, k, j, kind, acc, accm);
        j += 2;
    }
    UNROLL for (int r = 0; r < R; r++) {
        if (j < nb)
            leg_tail(w + (size_t)r * ws + bytes * j, act_q(a) + 32 * j, act_d(a, k) + j, act_s32(a, k) + j, kind,
                     &acc2[r], &accm[r]);
        out[r] = leg_sum(acc[r], accb[r], acc2[r], accm[r], kind);
    }
}
INLINE void q4_1_rows(ROWS_ARGS) { leg_rows(w, ws, R, a, k, out, LEG_Q4_1); }
INLINE void q5_0_rows(ROWS_ARGS) { leg_rows(w, ws, R, a, k, out, LEG_Q5_0); }
INLINE void q5_1_rows(ROWS_ARGS) { leg_rows(w, ws, R, a, k, out, LEG_Q5_1); }
INLINE void iq4_nl_rows(ROWS_ARGS) { leg_rows(w, ws, R, a, k, out, LEG_IQ4_NL); }
GEMV_ROWS(q4_1)
GEMV_ROWS(q5_0)
GEMV_ROWS(q5_1)
GEMV_ROWS(iq4_nl)

/* ---- Q2_K, Q4_K and Q5_K (AVX-512) ---------------------------------------------------- */

/*
 * The float step of the k-quants with a min, one row and super-block: the
 * int32 sum isum (its 256-bit halves added: the 8 lanes of the 256-bit
 * T_cols), the min correction corr (block sums . mins), d and dmin (the
 * f16 pair at dm, converted at once) -> acc += isum * (d * d_a),
 * accm += corr * (dmin * d_a): the float products and the fmas of K45_COLS,
 * q4_k_cols and q2_k_cols, so a row equals its T_cols bit for bit.
 */
INLINE void kmin_step(__m512i isum, __m256i corr, const uint8_t *dm, __m128 da, __m256 *acc, __m256 *accm) {
    uint32_t dd;
    memcpy(&dd, dm, 4);
    __m128 sd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)dd)), da); /* d * d_a, dmin * d_a */
    __m256i is = _mm256_add_epi32(_mm512_castsi512_si256(isum), _mm512_extracti64x4_epi64(isum, 1));
    *acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_broadcastss_ps(sd), *acc);
    *accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(corr),
                            _mm256_permutevar8x32_ps(_mm256_castps128_ps256(sd), _mm256_set1_epi32(1)), *accm);
}

/*
 * Q4_K and Q5_K (K45_COLS / q4_k_cols, nc = 1) for R rows: the activation
 * chunks, block sums and scale are loaded once for all rows.  Each 32-byte
 * chunk of nibbles is loaded broadcast to both halves and shifted by 0 / 4
 * per half: [low | high], the 64 elements 64j..64j+63.  Q5_K (hb) adds the
 * fifth bit, bit 2j / 2j+1 of qh[l] for element 64j + l / 64j + 32 + l,
 * tested into a byte mask and added as 16 under it.  bytes: block size, qs:
 * offset of the nibbles (all constants after inlining).
 */
INLINE void k45_rows(ROWS_ARGS, const int bytes, const int qs, const int hb) {
    __m256 acc[4], accm[4];
    UNROLL for (int r = 0; r < R; r++) acc[r] = accm[r] = _mm256_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F), b10 = _mm512_set1_epi8(0x10);
    const __m512i sh = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    const size_t pfd = pf_dist(ws, R);
    for (int64_t i = 0; i < k / 256; i++) {
        pf_rows(w, pfd, R, (size_t)(bytes * i), (size_t)bytes);
        const int8_t *aq = act_q(a) + 256 * i;
        const uint8_t *b0 = w + bytes * i;
        __m512i sc32[4], isum[4];
        __m256i m16[4];
        UNROLL for (int r = 0; r < R; r++) {
            uint8_t sc[8], mn[8];
            k4_unpack(b0 + (size_t)r * ws + 4, sc, mn);
            sc32[r] = _mm512_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc));
            /* mins, each twice (one per 16 of its 32 elements), as int16 */
            __m128i mv = _mm_loadl_epi64((const __m128i *)mn);
            m16[r] = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mv, mv));
            isum[r] = _mm512_setzero_si512();
        }
        UNROLL for (int j = 0; j < 4; j++) {
            __m512i av = _mm512_loadu_si512((const void *)(aq + 64 * j));
            const __m512i sidx = _mm512_inserti64x4(_mm512_set1_epi32(2 * j), _mm256_set1_epi32(2 * j + 1), 1);
            const __m512i hbit =
                _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << 2 * j)), _mm256_set1_epi8((char)(2 << 2 * j)), 1);
            UNROLL for (int r = 0; r < R; r++) {
                const uint8_t *b = b0 + (size_t)r * ws;
                __m512i q = _mm512_broadcast_i64x4(load256(b + qs + 32 * j));
                __m512i z = _mm512_and_si512(_mm512_srlv_epi16(q, sh), m4);
                if (hb) {
                    __mmask64 h5 = _mm512_test_epi8_mask(_mm512_broadcast_i64x4(load256(b + 16)), hbit);
                    z = _mm512_mask_add_epi8(z, h5, z, b10);
                }
                __m512i s = _mm512_permutexvar_epi32(sidx, sc32[r]);
                isum[r] = _mm512_dpwssd_epi32(isum[r], _mm512_dpbusd_epi32(_mm512_setzero_si512(), z, av), s);
            }
        }
        __m256i bs = load256(act_bs256(a, k) + 16 * i);
        __m128 da = _mm_set1_ps(act_d(a, k)[i]);
        UNROLL for (int r = 0; r < R; r++)
            kmin_step(isum[r], _mm256_madd_epi16(bs, m16[r]), b0 + (size_t)r * ws, da, &acc[r], &accm[r]);
    }
    UNROLL for (int r = 0; r < R; r++) out[r] = hsum(acc[r]) - hsum(accm[r]);
}
INLINE void q4_k_rows(ROWS_ARGS) { k45_rows(w, ws, R, a, k, out, 144, 16, 0); }
INLINE void q5_k_rows(ROWS_ARGS) { k45_rows(w, ws, R, a, k, out, 176, 48, 1); }
GEMV_ROWS(q4_k)
GEMV_ROWS(q5_k)

/*
 * q2_k_cols (nc = 1) for R rows, 64 elements per step: the 2-bit values of
 * chunks tp, tp+1 of half h (k2_u64), their per-16 scales (k16_scales, as
 * Q3_K's), the low nibbles of the scale bytes; the high nibbles are the
 * mins, against the block sums.
 */
INLINE void q2_k_rows(ROWS_ARGS) {
    __m256 acc[4], accm[4];
    UNROLL for (int r = 0; r < R; r++) acc[r] = accm[r] = _mm256_setzero_ps();
    const __m128i m4 = _mm_set1_epi8(0x0F);
    const size_t pfd = pf_dist(ws, R);
    for (int64_t i = 0; i < k / 256; i++) {
        pf_rows(w, pfd, R, 84 * (size_t)i, 84);
        const int8_t *aq = act_q(a) + 256 * i;
        const uint8_t *b0 = w + 84 * i;
        __m512i s32[4], isum[4];
        __m256i m16[4];
        UNROLL for (int r = 0; r < R; r++) {
            __m128i sb = load128(b0 + (size_t)r * ws);
            s32[r] = _mm512_cvtepu8_epi32(_mm_and_si128(sb, m4)); /* 0..15: see SCALE16 */
            m16[r] = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sb, 4), m4));
            isum[r] = _mm512_setzero_si512();
        }
        UNROLL for (int h = 0; h < 2; h++) UNROLL for (int tp = 0; tp < 4; tp += 2) {
            __m512i av = _mm512_loadu_si512((const void *)(aq + 128 * h + 32 * tp));
            UNROLL for (int r = 0; r < R; r++) {
                __m512i u = k2_u64(b0 + (size_t)r * ws + 16 + 32 * h, tp);
                isum[r] = _mm512_dpwssd_epi32(isum[r], _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, av),
                                              k16_scales(s32[r], h, tp));
            }
        }
        __m256i bs = load256(act_bs256(a, k) + 16 * i);
        __m128 da = _mm_set1_ps(act_d(a, k)[i]);
        UNROLL for (int r = 0; r < R; r++)
            kmin_step(isum[r], _mm256_madd_epi16(bs, m16[r]), b0 + (size_t)r * ws + 80, da, &acc[r], &accm[r]);
    }
    UNROLL for (int r = 0; r < R; r++) out[r] = hsum(acc[r]) - hsum(accm[r]);
}
GEMV_ROWS(q2_k)

/* ---- Q3_K and IQ4_XS (AVX-512) ------------------------------------------------------ */

/* q3_k_cols (VNNI) for R rows against one act row: each activation step is
 * loaded once for all rows. */
INLINE void q3_k_rows(ROWS_ARGS) {
    __m256 acc[4];
    UNROLL for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    const size_t pfd = pf_dist(ws, R);
    for (int64_t i = 0; i < k / 256; i++) {
        pf_rows(w, pfd, R, 110 * i, 110);
        const int8_t *aq = act_q(a) + 256 * i;
        __m128i sc8[4];
        __m512i s32[4], isum[4];
        UNROLL for (int r = 0; r < R; r++) {
            sc8[r] = k3_unpack_v(w + (size_t)r * ws + 110 * i + 96);
            s32[r] = q3k_s32(sc8[r]);
            isum[r] = _mm512_setzero_si512();
        }
        UNROLL for (int h = 0; h < 2; h++) UNROLL for (int tp = 0; tp < 4; tp += 2) {
            __m512i av = _mm512_loadu_si512((const void *)(aq + 128 * h + 32 * tp));
            UNROLL for (int r = 0; r < R; r++) {
                __m512i u = q3k_u64(w + (size_t)r * ws + 110 * i, h, tp);
                isum[r] = _mm512_dpwssd_epi32(isum[r], _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, av),
                                              k16_scales(s32[r], h, tp));
            }
        }
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *b = w + (size_t)r * ws + 110 * i;
            acc[r] = q3k_step(isum[r], _mm256_cvtepi8_epi16(sc8[r]), a, k, i, f16(b + 108), acc[r]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) out[r] = hsum(acc[r]);
}
GEMV_ROWS(q3_k)

/*
 * iq4_xs_cols (VNNI) for R rows.  Here the codebook is looked up with 128
 * added (all entries become unsigned bytes), so vpdpbusd takes the weights
 * directly: (v + 128) . a, from a start of -(128 . a), computed once per
 * step for all rows, is v . a (the same integers as the tile's sign trick).
 */
INLINE void iq4_xs_rows(ROWS_ARGS) {
    __m256 acc[4];
    UNROLL for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    const __m512i b80 = _mm512_set1_epi8((char)0x80);
    const __m128i t = _mm_add_epi8(_mm_loadu_si128((const __m128i *)ai__iq4nl_values), _mm_set1_epi8((char)0x80));
    const __m512i tab = _mm512_broadcast_i32x4(t);
    const size_t pfd = pf_dist(ws, R);
    for (int64_t i = 0; i < k / 256; i++) {
        pf_rows(w, pfd, R, 136 * i, 136);
        const int8_t *aq = act_q(a) + 256 * i;
        __m512i sc[4], isum[4];
        UNROLL for (int r = 0; r < R; r++) {
            sc[r] = iq4xs_scales(w + (size_t)r * ws + 136 * i);
            isum[r] = _mm512_setzero_si512();
        }
        UNROLL for (int s = 0; s < 8; s += 2) {
            __m512i av = _mm512_loadu_si512((const void *)(aq + 32 * s));
            __m512i neg = _mm512_sub_epi32(_mm512_setzero_si512(),
                                           _mm512_dpbusd_epi32(_mm512_setzero_si512(), b80, av));
            UNROLL for (int r = 0; r < R; r++) {
                __m512i z = _mm512_shuffle_epi8(tab, iq4xs_idx64(w + (size_t)r * ws + 136 * i, s));
                __m512i p = _mm512_dpbusd_epi32(neg, z, av);
                isum[r] = _mm512_add_epi32(isum[r], _mm512_mullo_epi32(p, iq4xs_pair(sc[r], s)));
            }
        }
        float da = act_d(a, k)[i];
        UNROLL for (int r = 0; r < R; r++) {
            __m256i is = _mm256_add_epi32(_mm512_castsi512_si256(isum[r]), _mm512_extracti64x4_epi64(isum[r], 1));
            float d = f16(w + (size_t)r * ws + 136 * i);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(d * da), acc[r]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) out[r] = hsum(acc[r]);
}
GEMV_ROWS(iq4_xs)
#endif

static void fill_gemv(ai__kset *ks) {
    ks->ops[AI_TYPE_F32].gemv = f32_gemv;
    ks->ops[AI_TYPE_F16].gemv = f16_gemv;
    ks->ops[AI_TYPE_BF16].gemv = bf16_gemv;
#if ISA_VNNI
    ks->ops[AI_TYPE_Q4_0].gemv = q4_0_gemv;
    ks->ops[AI_TYPE_Q8_0].gemv = q8_0_gemv;
    ks->ops[AI_TYPE_Q4_1].gemv = q4_1_gemv;
    ks->ops[AI_TYPE_Q5_0].gemv = q5_0_gemv;
    ks->ops[AI_TYPE_Q5_1].gemv = q5_1_gemv;
    ks->ops[AI_TYPE_IQ4_NL].gemv = iq4_nl_gemv;
    ks->ops[AI_TYPE_Q4_K].gemv = q4_k_gemv;
    ks->ops[AI_TYPE_Q5_K].gemv = q5_k_gemv;
    ks->ops[AI_TYPE_Q2_K].gemv = q2_k_gemv;
    ks->ops[AI_TYPE_Q3_K].gemv = q3_k_gemv;
    ks->ops[AI_TYPE_IQ4_XS].gemv = iq4_xs_gemv;
#endif
}
