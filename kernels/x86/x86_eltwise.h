/*
 * x86_eltwise.h - elementwise activation functions, included by x86_kern.h
 * (compiled once per ISA file, everything static).
 *
 * GELU, tanh form, as the reference (kernels/ref/act.c) defines it:
 *   v <= -10: 0;  v >= 10: v;  else v / (1 + e^u), u = -2 sqrt(2/pi) v (1 + 0.044715 v^2)
 * with e^u computed in vector lanes: 2^n e^r, n = nearest(u / ln 2),
 * r = u - n ln 2 (ln 2 in two parts, the first exact in a product with
 * n), e^r by its Taylor polynomial to degree 7 (|r| <= 0.347: truncation
 * below 1e-8 relative), u clamped to [-87, 87] so that 2^n stays a normal
 * float.  Within about 1e-6 relative of the scalar expf version.  The last
 * n % W elements go through the same vector code (masked or padded), so an
 * element's result does not depend on its position or on n.
 */

#if ISA_VNNI
typedef __m512 ew_vec;
#define EW_W 16
#define EW_SET1 _mm512_set1_ps
#define EW_ADD _mm512_add_ps
#define EW_SUB _mm512_sub_ps
#define EW_MUL _mm512_mul_ps
#define EW_DIV _mm512_div_ps
#define EW_FMA _mm512_fmadd_ps
#define EW_MIN _mm512_min_ps
#define EW_MAX _mm512_max_ps
INLINE ew_vec ew_round(ew_vec x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
INLINE ew_vec ew_pow2(ew_vec p, ew_vec n) { return _mm512_scalef_ps(p, n); }
INLINE ew_vec ew_tails(ew_vec y, ew_vec v) {
    __mmask16 lo = _mm512_cmp_ps_mask(v, _mm512_set1_ps(-10.0f), _CMP_LE_OQ);
    __mmask16 hi = _mm512_cmp_ps_mask(v, _mm512_set1_ps(10.0f), _CMP_GE_OQ);
    y = _mm512_mask_mov_ps(y, lo, _mm512_setzero_ps());
    return _mm512_mask_mov_ps(y, hi, v);
}
#else
typedef __m256 ew_vec;
#define EW_W 8
#define EW_SET1 _mm256_set1_ps
#define EW_ADD _mm256_add_ps
#define EW_SUB _mm256_sub_ps
#define EW_MUL _mm256_mul_ps
#define EW_DIV _mm256_div_ps
#define EW_FMA _mm256_fmadd_ps
#define EW_MIN _mm256_min_ps
#define EW_MAX _mm256_max_ps
INLINE ew_vec ew_round(ew_vec x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
INLINE ew_vec ew_pow2(ew_vec p, ew_vec n) { /* n in -126..126: 2^n in the exponent bits */
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}
INLINE ew_vec ew_tails(ew_vec y, ew_vec v) {
    __m256 lo = _mm256_cmp_ps(v, _mm256_set1_ps(-10.0f), _CMP_LE_OQ);
    __m256 hi = _mm256_cmp_ps(v, _mm256_set1_ps(10.0f), _CMP_GE_OQ);
    y = _mm256_andnot_ps(lo, y);
    return _mm256_blendv_ps(y, v, hi);
}
#endif

INLINE ew_vec ew_exp(ew_vec u) {
    ew_vec n = ew_round(EW_MUL(u, EW_SET1(1.44269504088896341f)));
    ew_vec r = EW_SUB(u, EW_MUL(n, EW_SET1(0.693145751953125f)));
    r = EW_SUB(r, EW_MUL(n, EW_SET1(1.42860682030941723e-6f)));
    ew_vec p = EW_FMA(r, EW_SET1(1.0f / 5040), EW_SET1(1.0f / 720));
    p = EW_FMA(p, r, EW_SET1(1.0f / 120));
    p = EW_FMA(p, r, EW_SET1(1.0f / 24));
    p = EW_FMA(p, r, EW_SET1(1.0f / 6));
    p = EW_FMA(p, r, EW_SET1(0.5f));
    p = EW_FMA(p, r, EW_SET1(1.0f));
    p = EW_FMA(p, r, EW_SET1(1.0f));
    return ew_pow2(p, n);
}

INLINE ew_vec ew_gelu(ew_vec v) {
    const float c2 = 2.0f * 0.7978845608028654f; /* 2 sqrt(2/pi) */
    ew_vec u = EW_MUL(EW_MUL(EW_SET1(-c2), v), EW_FMA(EW_MUL(EW_SET1(0.044715f), v), v, EW_SET1(1.0f)));
    u = EW_MIN(EW_MAX(u, EW_SET1(-87.0f)), EW_SET1(87.0f));
    return ew_tails(EW_DIV(v, EW_ADD(EW_SET1(1.0f), ew_exp(u))), v);
}

static void gelu_f32(float *x, int64_t n) {
    int64_t i = 0;
#if ISA_VNNI
    for (; i + EW_W <= n; i += EW_W) _mm512_storeu_ps(x + i, ew_gelu(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, ew_gelu(_mm512_maskz_loadu_ps(m, x + i)));
    }
#else
    for (; i + EW_W <= n; i += EW_W) _mm256_storeu_ps(x + i, ew_gelu(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float t[EW_W] = {0};
        memcpy(t, x + i, (size_t)(n - i) * sizeof *x);
        _mm256_storeu_ps(t, ew_gelu(_mm256_loadu_ps(t)));
        memcpy(x + i, t, (size_t)(n - i) * sizeof *x);
    }
#endif
}

/* RoPE (ai__ref_rope's arithmetic; fmaf is one instruction here): NEOX
 * heads eight pairs at a time, cos and sin taken apart from their
 * interleaved table. */
static void rope_f32(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int neox, const float *cs) {
    int64_t half = n_rot / 2;
    const __m256 neg = _mm256_set1_ps(-0.0f);
    for (int64_t h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        int64_t i = 0;
        if (neox)
            for (; i + 8 <= half; i += 8) {
                __m256 lo = _mm256_loadu_ps(cs + 2 * i), hi = _mm256_loadu_ps(cs + 2 * i + 8);
                /* [c0 c1 c4 c5 | c2 c3 c6 c7] -> c0..c7, likewise s */
                __m256 c = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
                __m256 s = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
                __m256 x0 = _mm256_loadu_ps(v + i), x1 = _mm256_loadu_ps(v + i + half);
                _mm256_storeu_ps(v + i, _mm256_fmadd_ps(x0, c, _mm256_xor_ps(_mm256_mul_ps(x1, s), neg)));
                _mm256_storeu_ps(v + i + half, _mm256_fmadd_ps(x0, s, _mm256_mul_ps(x1, c)));
            }
        for (; i < half; i++) {
            int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            float c = cs[2 * i], s = cs[2 * i + 1];
            float x0 = v[a], x1 = v[b];
            v[a] = fmaf(x0, c, -(x1 * s));
            v[b] = fmaf(x0, s, x1 * c);
        }
    }
}

static void ew_fill(ai__kset *ks) {
    ks->gelu = gelu_f32;
    ks->rope = rope_f32;
}
