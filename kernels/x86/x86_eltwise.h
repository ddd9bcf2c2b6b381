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

#include <math.h>

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

/*
 * Row loads and stores of the first m (<= EW_W) elements (the rest of the
 * vector zero), and sums of float lanes in double: what LayerNorm and
 * softmax need on top of the lane arithmetic above.
 */
#if ISA_VNNI
typedef __m512d ew_dvec; /* two of them hold one ew_vec */
INLINE __mmask16 ew_mask(int64_t m) { return (__mmask16)(m >= 16 ? 0xFFFF : (1u << m) - 1); }
INLINE ew_vec ew_load_n(const float *p, int64_t m) { return _mm512_maskz_loadu_ps(ew_mask(m), p); }
INLINE void ew_store_n(float *p, ew_vec v, int64_t m) { _mm512_mask_storeu_ps(p, ew_mask(m), v); }
/* v with the lanes from m on replaced by pad */
INLINE ew_vec ew_pad_n(ew_vec v, int64_t m, float pad) { return _mm512_mask_mov_ps(_mm512_set1_ps(pad), ew_mask(m), v); }
INLINE ew_dvec ew_dzero(void) { return _mm512_setzero_pd(); }
INLINE void ew_dacc(ew_dvec *lo, ew_dvec *hi, ew_vec v) {
    *lo = _mm512_add_pd(*lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    *hi = _mm512_add_pd(*hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
}
INLINE double ew_dsum(ew_dvec lo, ew_dvec hi) { return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi)); }
INLINE float ew_hmax(ew_vec v) { return _mm512_reduce_max_ps(v); }
#else
typedef __m256d ew_dvec;
INLINE ew_vec ew_load_n(const float *p, int64_t m) {
    if (m >= EW_W) return _mm256_loadu_ps(p);
    float t[EW_W] = {0};
    memcpy(t, p, (size_t)m * sizeof *t);
    return _mm256_loadu_ps(t);
}
INLINE void ew_store_n(float *p, ew_vec v, int64_t m) {
    if (m >= EW_W) {
        _mm256_storeu_ps(p, v);
        return;
    }
    float t[EW_W];
    _mm256_storeu_ps(t, v);
    memcpy(p, t, (size_t)m * sizeof *t);
}
INLINE ew_vec ew_pad_n(ew_vec v, int64_t m, float pad) {
    if (m >= EW_W) return v;
    __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_blendv_ps(_mm256_set1_ps(pad), v, _mm256_castsi256_ps(keep));
}
INLINE ew_dvec ew_dzero(void) { return _mm256_setzero_pd(); }
INLINE void ew_dacc(ew_dvec *lo, ew_dvec *hi, ew_vec v) {
    *lo = _mm256_add_pd(*lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    *hi = _mm256_add_pd(*hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}
INLINE double ew_dsum(ew_dvec lo, ew_dvec hi) {
    double t[4];
    _mm256_storeu_pd(t, _mm256_add_pd(lo, hi));
    return (t[0] + t[1]) + (t[2] + t[3]);
}
INLINE float ew_hmax(ew_vec v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
#endif

/*
 * LayerNorm of one row, the reference's arithmetic (kernels/ref/act.c) in
 * lanes: the float values and float squares are summed in double (only the
 * order of the additions differs, so the mean and variance agree with the
 * reference's nearly always to the bit), and every element gets the same
 * unfused (x - mean) * scale * w + b.  The zero lanes past n add nothing.
 */
static void layernorm_f32(float *out, const float *x, const float *w, const float *b, int64_t n,
                          float eps) {
    ew_dvec lo = ew_dzero(), hi = ew_dzero();
    for (int64_t i = 0; i < n; i += EW_W) ew_dacc(&lo, &hi, ew_load_n(x + i, n - i));
    float mean = (float)(ew_dsum(lo, hi) / (double)n);
    ew_vec vm = EW_SET1(mean);
    lo = hi = ew_dzero();
    for (int64_t i = 0; i < n; i += EW_W) {
        ew_vec d = EW_SUB(ew_load_n(x + i, n - i), vm);
        ew_dacc(&lo, &hi, ew_pad_n(EW_MUL(d, d), n - i, 0.0f));
    }
    float scale = 1.0f / sqrtf((float)(ew_dsum(lo, hi) / (double)n) + eps);
    ew_vec vs = EW_SET1(scale);
    for (int64_t i = 0; i < n; i += EW_W) {
        ew_vec v = EW_MUL(EW_SUB(ew_load_n(x + i, n - i), vm), vs);
        if (w) v = EW_MUL(v, ew_load_n(w + i, n - i));
        if (b) v = EW_ADD(v, ew_load_n(b + i, n - i));
        ew_store_n(out + i, v, n - i);
    }
}

/*
 * x = softmax(scale * x) over one row: the reference's steps (scale, max,
 * exp of the difference summed in double, times 1/sum) with the lane exp
 * of GELU, its argument clamped at -87 (e^-87 ~ 1.6e-38: nothing next to
 * the 1 of the maximum).  Within a few 1e-7 of the reference.
 */
static void softmax_f32(float *x, int64_t n, float scale) {
    ew_vec vs = EW_SET1(scale), vmax = EW_SET1(-INFINITY);
    for (int64_t i = 0; i < n; i += EW_W) {
        ew_vec v = EW_MUL(ew_load_n(x + i, n - i), vs);
        vmax = EW_MAX(vmax, ew_pad_n(v, n - i, -INFINITY)); /* lanes past n never win */
        ew_store_n(x + i, v, n - i);
    }
    ew_vec vm = EW_SET1(ew_hmax(vmax));
    ew_dvec lo = ew_dzero(), hi = ew_dzero();
    for (int64_t i = 0; i < n; i += EW_W) {
        ew_vec u = EW_MAX(EW_SUB(ew_load_n(x + i, n - i), vm), EW_SET1(-87.0f));
        ew_vec e = ew_pad_n(ew_exp(u), n - i, 0.0f);
        ew_dacc(&lo, &hi, e);
        ew_store_n(x + i, e, n - i);
    }
    ew_vec inv = EW_SET1((float)(1.0 / ew_dsum(lo, hi)));
    for (int64_t i = 0; i < n; i += EW_W) ew_store_n(x + i, EW_MUL(ew_load_n(x + i, n - i), inv), n - i);
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
    ks->layernorm = layernorm_f32;
    ks->softmax = softmax_f32;
    ks->rope = rope_f32;
}
