/*
 * kquants.c - the 256-element "super-block" types Q2_K, Q3_K, Q4_K, Q5_K,
 * Q6_K and IQ4_XS.  A super-block holds an f16 scale d (and for Q2_K, Q4_K,
 * Q5_K an f16 dmin) plus small per-sub-block scales that multiply it.
 *
 *   Q2_K (84 B)   scales[16] | qs[64] | d | dmin
 *                 16 sub-blocks of 16: x = d*(sc&15)*q - dmin*(sc>>4), q 0..3
 *                 element e: bits 2*((e%128)/32) of qs[(e/128)*32 + e%32]
 *   Q3_K (110 B)  hmask[32] | qs[64] | scales[12] | d
 *                 16 sub-blocks of 16: x = d*s*q, s six-bit signed (-32..31),
 *                 q = low two bits (as Q2_K) - 4 unless bit e/32 of
 *                 hmask[e%32] is set, so q is -4..3
 *   Q4_K (144 B)  d | dmin | scales[12] | qs[128]
 *                 8 sub-blocks of 32: x = d*sc*q - dmin*m, sc and m six-bit,
 *                 q 0..15: chunk c = e/64 uses qs[32c..32c+31], low nibble
 *                 for its first 32 elements, high nibble for the next 32
 *   Q5_K (176 B)  d | dmin | scales[12] | qh[32] | qs[128]
 *                 as Q4_K plus bit e/32 of qh[e%32] as q's fifth bit
 *   Q6_K (210 B)  ql[128] | qh[64] | int8 scales[16] | d
 *                 16 sub-blocks of 16: x = d*sc*(q - 32), q six bits: half
 *                 h = e/128, t = (e%128)/32, l = e%32; low four bits from
 *                 ql[64h + 32(t&1) + l] (low nibble for t < 2, else high),
 *                 high two from bits 2t of qh[32h + l]
 *   IQ4_XS (136 B) d | u16 scales_h | scales_l[4] | qs[128]
 *                 8 sub-blocks of 32: x = d*(ls-32)*values[nibble], ls six
 *                 bits (low four in scales_l, high two in scales_h); nibbles
 *                 as IQ4_NL, 16 bytes per sub-block
 *
 * Every type first unpacks a block into plain integers (q per element, scale
 * and min per sub-block); dequantization and the dot product both read that,
 * which keeps the bit layouts in one place per type.
 *
 * Dot products meet ACT_Q8_256 rows (kimpl.h) and sum integers per block:
 *   sum += (d_w*d_a) * sum_s sc_s * isum_s  -  (dmin_w*d_a) * sum_s m_s * bsum_s
 *
 * Quantization: each sub-block is fitted on its own (a few candidate ranges,
 * each refined by least squares, keeping the least squared error), then the
 * sub-block scales are rounded to their bit width relative to the block scale
 * and the elements are re-rounded against the scales as stored.
 */
#include "ref.h"

#include <math.h>
#include <string.h>

typedef struct unpacked {
    int8_t q[256];   /* per element, already offset (signed where the type is) */
    int sc[16];      /* per sub-block multiplier of d */
    int m[16];       /* per sub-block multiplier of dmin (0 if none) */
    float d, dmin;
} unpacked;

/* ---- unpacking -------------------------------------------------------------- */

static void unpack_q2_k(const uint8_t *b, unpacked *u) {
    for (int e = 0; e < 256; e++)
        u->q[e] = (int8_t)((b[16 + (e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3);
    for (int s = 0; s < 16; s++) {
        u->sc[s] = b[s] & 0xF;
        u->m[s] = b[s] >> 4;
    }
    u->d = rdf16(b + 80);
    u->dmin = rdf16(b + 82);
}

static void unpack_q3_k(const uint8_t *b, unpacked *u) {
    for (int e = 0; e < 256; e++) {
        int lo = (b[32 + (e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
        int hi = (b[e % 32] >> (e / 32)) & 1;
        u->q[e] = (int8_t)(lo - (hi ? 0 : 4));
    }
    int8_t s[16];
    k3_scales(b + 96, s);
    for (int j = 0; j < 16; j++) {
        u->sc[j] = s[j];
        u->m[j] = 0;
    }
    u->d = rdf16(b + 108);
    u->dmin = 0;
}

static void unpack_q4_k(const uint8_t *b, unpacked *u) {
    for (int e = 0; e < 256; e++) {
        uint8_t byte = b[16 + (e / 64) * 32 + e % 32];
        u->q[e] = (int8_t)((e % 64) < 32 ? byte & 0xF : byte >> 4);
    }
    for (int s = 0; s < 8; s++) {
        uint8_t sc, m;
        k4_scale_min(s, b + 4, &sc, &m);
        u->sc[s] = sc;
        u->m[s] = m;
    }
    u->d = rdf16(b);
    u->dmin = rdf16(b + 2);
}

static void unpack_q5_k(const uint8_t *b, unpacked *u) {
    unpack_q4_k(b, u); /* same header and nibble order; qs sits 32 B later */
    for (int e = 0; e < 256; e++) {
        uint8_t byte = b[48 + (e / 64) * 32 + e % 32];
        int lo = (e % 64) < 32 ? byte & 0xF : byte >> 4;
        int hi = (b[16 + e % 32] >> (e / 32)) & 1;
        u->q[e] = (int8_t)(lo | hi << 4);
    }
}

static void unpack_q6_k(const uint8_t *b, unpacked *u) {
    for (int e = 0; e < 256; e++) {
        int h = e / 128, t = (e % 128) / 32, l = e % 32;
        uint8_t lb = b[64 * h + 32 * (t & 1) + l];
        int lo = t < 2 ? lb & 0xF : lb >> 4;
        int hi = (b[128 + 32 * h + l] >> (2 * t)) & 3;
        u->q[e] = (int8_t)((lo | hi << 4) - 32);
    }
    for (int s = 0; s < 16; s++) {
        u->sc[s] = (int8_t)b[192 + s];
        u->m[s] = 0;
    }
    u->d = rdf16(b + 208);
    u->dmin = 0;
}

static void unpack_iq4_xs(const uint8_t *b, unpacked *u) {
    uint16_t sh = rd16(b + 2);
    for (int s = 0; s < 8; s++) {
        int ls = ((b[4 + s / 2] >> (4 * (s % 2))) & 0xF) | (((sh >> (2 * s)) & 3) << 4);
        u->sc[s] = ls - 32;
        u->m[s] = 0;
    }
    for (int e = 0; e < 256; e++) {
        int s = e / 32, r = e % 32;
        uint8_t byte = b[8 + 16 * s + r % 16];
        u->q[e] = ai__iq4nl_values[r < 16 ? byte & 0xF : byte >> 4];
    }
    u->d = rdf16(b);
    u->dmin = 0;
}

/* ---- dequantization and dot product, shared ---------------------------- */

/* x = (d*sc)*q - (dmin*m), in that order (as the format's reference
 * dequantizer computes it, so that results agree bit for bit). */
static void dequant_unpacked(const unpacked *u, int sub, float *y) {
    for (int e = 0; e < 256; e++) {
        int s = e / sub;
        float dl = u->d * (float)u->sc[s], ml = u->dmin * (float)u->m[s];
        y[e] = dl * (float)u->q[e] - ml;
    }
}

/* One block against one Q8_K-style activation block. */
static float dot_unpacked(const unpacked *u, int sub, const int8_t *qa, float da,
                          const int16_t *bs) {
    int isum = 0, msum = 0;
    for (int s = 0; s < 256 / sub; s++) {
        int part = 0;
        for (int e = s * sub; e < (s + 1) * sub; e++) part += u->q[e] * qa[e];
        isum += u->sc[s] * part;
        int bsum = 0;
        for (int j = s * sub / 16; j < (s + 1) * sub / 16; j++) bsum += bs[j];
        msum += u->m[s] * bsum;
    }
    return (u->d * da) * (float)isum - (u->dmin * da) * (float)msum;
}

#define KQUANT_DEQUANT_DOT(T, BYTES, SUB)                                       \
    void ai__ref_dequant_##T(const void *src, float *y, int64_t n) {            \
        const uint8_t *b = src;                                                 \
        unpacked u;                                                             \
        for (int64_t i = 0; i < n / 256; i++, b += BYTES, y += 256) {           \
            unpack_##T(b, &u);                                                  \
            dequant_unpacked(&u, SUB, y);                                       \
        }                                                                       \
    }                                                                           \
    float ai__ref_dot_##T(const void *w, const void *act, int64_t k) {          \
        const uint8_t *b = w;                                                   \
        const int8_t *qa = act_q(act);                                          \
        const float *da = act_d(act, k);                                        \
        const int16_t *bs = act_bs256(act, k);                                  \
        unpacked u;                                                             \
        float sum = 0;                                                          \
        for (int64_t i = 0; i < k / 256; i++, b += BYTES) {                     \
            unpack_##T(b, &u);                                                  \
            sum += dot_unpacked(&u, SUB, qa + 256 * i, da[i], bs + 16 * i);     \
        }                                                                       \
        return sum;                                                             \
    }

KQUANT_DEQUANT_DOT(q2_k, 84, 16)
KQUANT_DEQUANT_DOT(q3_k, 110, 16)
KQUANT_DEQUANT_DOT(q4_k, 144, 32)
KQUANT_DEQUANT_DOT(q5_k, 176, 32)
KQUANT_DEQUANT_DOT(q6_k, 210, 16)
KQUANT_DEQUANT_DOT(iq4_xs, 136, 32)

/* ---- fitting sub-blocks -------------------------------------------------------- */

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/*
 * Affine fit x ~ a*q - mn with q in 0..nmax, a >= 0, mn >= 0 (the formats
 * subtract the min, so the range always includes 0).  Tries ranges shrunk
 * from either end, refines each by least squares, keeps the best.
 */
static void fit_affine(const float *x, int n, int nmax, float *a_out, float *mn_out) {
    float lo = 0, hi = x[0];
    for (int j = 0; j < n; j++) {
        lo = x[j] < lo ? x[j] : lo;
        hi = x[j] > hi ? x[j] : hi;
    }
    *a_out = 0;
    *mn_out = -lo;
    if (hi <= lo) return;
    float best = INFINITY;
    for (int c = 0; c < 9; c++) {
        float shrink = 1.0f - 0.04f * (float)(c / 2);
        float a = (hi - lo) * shrink / (float)nmax;
        float mn = (c & 1) ? -lo : -(hi - a * (float)nmax); /* anchor low or high */
        if (mn < 0) mn = 0;
        for (int pass = 0; pass < 2; pass++) {
            float sx = 0, sq = 0, sxq = 0, sqq = 0, err = 0;
            for (int j = 0; j < n; j++) {
                int q = clampi(nearest_int((x[j] + mn) / a), 0, nmax);
                float e = a * (float)q - mn - x[j];
                err += e * e;
                sx += x[j];
                sq += (float)q;
                sxq += x[j] * (float)q;
                sqq += (float)(q * q);
            }
            if (err < best) {
                best = err;
                *a_out = a;
                *mn_out = mn;
            }
            /* least squares for (a, b) with x ~ a*q + b, b = -mn <= 0 */
            float det = (float)n * sqq - sq * sq;
            if (det <= 0) break;
            float na = ((float)n * sxq - sx * sq) / det, nb = (sx - na * sq) / (float)n;
            if (nb > 0) {
                nb = 0;
                na = sqq > 0 ? sxq / sqq : 0;
            }
            if (!(na > 0)) break;
            a = na;
            mn = -nb;
        }
    }
}

/* The element of largest magnitude, with its sign. */
static float signed_max(const float *x, int n) {
    float amax = 0, max = 0;
    for (int j = 0; j < n; j++)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    return max;
}

/*
 * Symmetric fit x ~ a*q with q in qmin..qmax (qmin = -qmax-1): the element of
 * largest magnitude first maps to qmin (the side with one more level), then
 * candidates around that are refined by least squares.  a may be negative.
 */
static float fit_sym(const float *x, int n, int qmin, int qmax) {
    float max = signed_max(x, n);
    if (max == 0) return 0;
    float best = INFINITY, best_a = 0;
    for (int c = -4; c <= 4; c++) {
        float a = max / ((float)qmin + 0.25f * (float)c);
        for (int pass = 0; pass < 2; pass++) {
            float sxq = 0, sqq = 0, err = 0;
            for (int j = 0; j < n; j++) {
                int q = clampi(nearest_int(x[j] / a), qmin, qmax);
                float e = a * (float)q - x[j];
                err += e * e;
                sxq += x[j] * (float)q;
                sqq += (float)(q * q);
            }
            if (err < best) {
                best = err;
                best_a = a;
            }
            if (sqq <= 0 || sxq == 0) break;
            a = sxq / sqq;
        }
    }
    return best_a;
}

/* Rounds sub-block multipliers v[ns] (all >= 0) to 0..nmax against one
 * block scale; returns that scale as stored (f16) and writes the integers. */
static float quant_scales_pos(const float *v, int ns, int nmax, int *out, uint16_t *h) {
    float max = 0;
    for (int s = 0; s < ns; s++) max = v[s] > max ? v[s] : max;
    *h = ai__f32_to_f16(max / (float)nmax);
    float d = ai__f16_to_f32(*h);
    for (int s = 0; s < ns; s++) out[s] = d > 0 ? clampi(nearest_int(v[s] / d), 0, nmax) : 0;
    return d;
}

/* The same for signed multipliers: the one of largest magnitude maps to
 * smin (= -smax-1). */
static float quant_scales_sym(const float *v, int ns, int smin, int smax, int *out, uint16_t *h) {
    float max = signed_max(v, ns);
    *h = ai__f32_to_f16(max / (float)smin);
    float d = ai__f16_to_f32(*h);
    for (int s = 0; s < ns; s++) out[s] = d != 0 ? clampi(nearest_int(v[s] / d), smin, smax) : 0;
    return d;
}

/* Element quants of sub-block s given the stored scales: nearest level. */
static void requant_affine(const float *x, int n, float a, float mn, int nmax, int8_t *q) {
    for (int j = 0; j < n; j++)
        q[j] = (int8_t)(a > 0 ? clampi(nearest_int((x[j] + mn) / a), 0, nmax) : 0);
}

static void requant_sym(const float *x, int n, float a, int qmin, int qmax, int8_t *q) {
    for (int j = 0; j < n; j++)
        q[j] = (int8_t)(a != 0 ? clampi(nearest_int(x[j] / a), qmin, qmax) : 0);
}

/* ---- Q2_K ----------------------------------------------------------------- */

void ai__ref_quant_q2_k(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 256; i++, b += 84, x += 256) {
        float a[16], mn[16];
        int sc[16], m[16];
        int8_t q[256];
        uint16_t hd, hm;
        for (int s = 0; s < 16; s++) fit_affine(x + 16 * s, 16, 3, &a[s], &mn[s]);
        float d = quant_scales_pos(a, 16, 15, sc, &hd);
        float dm = quant_scales_pos(mn, 16, 15, m, &hm);
        for (int s = 0; s < 16; s++)
            requant_affine(x + 16 * s, 16, d * (float)sc[s], dm * (float)m[s], 3, q + 16 * s);
        memset(b, 0, 84);
        for (int s = 0; s < 16; s++) b[s] = (uint8_t)(sc[s] | m[s] << 4);
        for (int e = 0; e < 256; e++)
            b[16 + (e / 128) * 32 + e % 32] |= (uint8_t)(q[e] << (2 * ((e % 128) / 32)));
        wr16(b + 80, hd);
        wr16(b + 82, hm);
    }
}

/* ---- Q3_K ----------------------------------------------------------------- */

void ai__ref_quant_q3_k(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 256; i++, b += 110, x += 256) {
        float a[16];
        int sc[16];
        int8_t q[256];
        uint16_t hd;
        for (int s = 0; s < 16; s++) a[s] = fit_sym(x + 16 * s, 16, -4, 3);
        float d = quant_scales_sym(a, 16, -32, 31, sc, &hd);
        for (int s = 0; s < 16; s++) requant_sym(x + 16 * s, 16, d * (float)sc[s], -4, 3, q + 16 * s);
        memset(b, 0, 110);
        for (int e = 0; e < 256; e++) {
            int u = q[e] + 4; /* 0..7: bit 2 goes to hmask, set means "no -4" */
            b[32 + (e / 128) * 32 + e % 32] |= (uint8_t)((u & 3) << (2 * ((e % 128) / 32)));
            if (u & 4) b[e % 32] |= (uint8_t)(1 << (e / 32));
        }
        for (int s = 0; s < 16; s++) {
            int u = sc[s] + 32;
            if (s < 8) b[96 + s] |= (uint8_t)(u & 0xF);
            else b[96 + s - 8] |= (uint8_t)((u & 0xF) << 4);
            b[96 + 8 + s % 4] |= (uint8_t)((u >> 4) << (2 * (s / 4)));
        }
        wr16(b + 108, hd);
    }
}

/* ---- Q4_K and Q5_K ----------------------------------------------------------- */

static void pack_k4_scales(const int *sc, const int *m, uint8_t *p) {
    for (int j = 0; j < 4; j++) {
        p[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
        p[j + 4] = (uint8_t)(m[j] | (m[j + 4] >> 4) << 6);
        p[j + 8] = (uint8_t)((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4);
    }
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): fits, writes d, dmin and the
 * scales at b, returns the element quants in q. */
static void quant_k45(const float *x, int nmax, uint8_t *b, int8_t *q) {
    float a[8], mn[8];
    int sc[8], m[8];
    uint16_t hd, hm;
    for (int s = 0; s < 8; s++) fit_affine(x + 32 * s, 32, nmax, &a[s], &mn[s]);
    float d = quant_scales_pos(a, 8, 63, sc, &hd);
    float dm = quant_scales_pos(mn, 8, 63, m, &hm);
    for (int s = 0; s < 8; s++)
        requant_affine(x + 32 * s, 32, d * (float)sc[s], dm * (float)m[s], nmax, q + 32 * s);
    wr16(b, hd);
    wr16(b + 2, hm);
    pack_k4_scales(sc, m, b + 4);
}

void ai__ref_quant_q4_k(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 256; i++, b += 144, x += 256) {
        int8_t q[256];
        memset(b, 0, 144);
        quant_k45(x, 15, b, q);
        for (int e = 0; e < 256; e++)
            b[16 + (e / 64) * 32 + e % 32] |= (uint8_t)(q[e] << ((e % 64) < 32 ? 0 : 4));
    }
}

void ai__ref_quant_q5_k(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 256; i++, b += 176, x += 256) {
        int8_t q[256];
        memset(b, 0, 176);
        quant_k45(x, 31, b, q);
        for (int e = 0; e < 256; e++) {
            b[48 + (e / 64) * 32 + e % 32] |= (uint8_t)((q[e] & 0xF) << ((e % 64) < 32 ? 0 : 4));
            if (q[e] & 16) b[16 + e % 32] |= (uint8_t)(1 << (e / 32));
        }
    }
}

/* ---- Q6_K ----------------------------------------------------------------- */

void ai__ref_quant_q6_k(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 256; i++, b += 210, x += 256) {
        float a[16];
        int sc[16];
        int8_t q[256];
        uint16_t hd;
        for (int s = 0; s < 16; s++) a[s] = fit_sym(x + 16 * s, 16, -32, 31);
        float d = quant_scales_sym(a, 16, -128, 127, sc, &hd);
        for (int s = 0; s < 16; s++) requant_sym(x + 16 * s, 16, d * (float)sc[s], -32, 31, q + 16 * s);
        memset(b, 0, 210);
        for (int e = 0; e < 256; e++) {
            int h = e / 128, t = (e % 128) / 32, l = e % 32, u = q[e] + 32;
            b[64 * h + 32 * (t & 1) + l] |= (uint8_t)((u & 0xF) << (t < 2 ? 0 : 4));
            b[128 + 32 * h + l] |= (uint8_t)((u >> 4) << (2 * t));
        }
        for (int s = 0; s < 16; s++) b[192 + s] = (uint8_t)(int8_t)sc[s];
        wr16(b + 208, hd);
    }
}

/* ---- IQ4_XS ----------------------------------------------------------------- */

void ai__ref_quant_iq4_xs(const float *x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / 256; i++, b += 136, x += 256) {
        float a[8];
        int sc[8];
        uint8_t q[32];
        uint16_t hd;
        for (int s = 0; s < 8; s++) a[s] = ai__iq4_fit(x + 32 * s, 32, q);
        float d = quant_scales_sym(a, 8, -32, 31, sc, &hd);
        memset(b, 0, 136);
        wr16(b, hd);
        uint16_t sh = 0;
        for (int s = 0; s < 8; s++) {
            int ls = sc[s] + 32;
            b[4 + s / 2] |= (uint8_t)((ls & 0xF) << (4 * (s % 2)));
            sh |= (uint16_t)((ls >> 4) << (2 * s));
            float dl = d * (float)sc[s];
            for (int r = 0; r < 32; r++) {
                int v = dl != 0 ? ai__iq4_nearest(x[32 * s + r] / dl) : 8;
                b[8 + 16 * s + r % 16] |= (uint8_t)(v << (r < 16 ? 0 : 4));
            }
        }
        wr16(b + 2, sh);
    }
}
