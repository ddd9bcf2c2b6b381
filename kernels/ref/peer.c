/*
 * peer.c - scalar versions of the pieces whose rounding follows the peer
 * (llama.cpp's x86 AVX-512 build) bit for bit: the f16 dot product and f16
 * accumulator of its flash attention, its vector exp and SiLU, the two
 * fused multiply-add chains of its tiled attention, and the float sums of
 * its kernels for the Q4_0, IQ4_NL and Q4_K weights it repacks.  kimpl.h (ai__peer_ops)
 * states each order; the SIMD versions (kernels/x86/peer_x86.h) must give
 * the same bits.
 */
#include "ref.h"

#include <math.h>
#include <string.h>

/* Sum of 16 lanes as the AVX-512 horizontal add pairs them. */
static float tree16(const float *v) {
    float t8[8], t4[4];
    for (int i = 0; i < 8; i++) t8[i] = v[i] + v[i + 8];
    for (int i = 0; i < 4; i++) t4[i] = t8[i] + t8[i + 4];
    return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

float ai__ref_peer_dot_f16(const uint16_t *a, const uint16_t *b, int64_t n) {
    float lane[64] = {0};
    int64_t np = n & ~(int64_t)63;
    /* f16 x f16 products are exact in float, so product + add is the fma */
    for (int64_t i = 0; i < np; i += 64)
        for (int l = 0; l < 64; l++) lane[l] += ai__f16_to_f32(a[i + l]) * ai__f16_to_f32(b[i + l]);
    for (int l = 0; l < 16; l++) {
        lane[l] += lane[32 + l];
        lane[16 + l] += lane[48 + l];
    }
    for (int l = 0; l < 16; l++) lane[l] += lane[16 + l];
    double sum = np ? (double)tree16(lane) : 0.0;
    for (int64_t i = np; i < n; i++) sum += (double)(ai__f16_to_f32(a[i]) * ai__f16_to_f32(b[i]));
    return (float)sum;
}

void ai__ref_peer_mad_f16(uint16_t *y, const uint16_t *v, float s, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = ai__f32_to_f16(fmaf(ai__f16_to_f32(v[i]), s, ai__f16_to_f32(y[i])));
}

void ai__ref_peer_scale_f16(uint16_t *y, float s, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = ai__f32_to_f16(ai__f16_to_f32(y[i]) * s);
}

/*
 * exp(x) = 2^r * p(b): r = round(x * log2 e) (by adding and removing
 * 1.5 * 2^23), b = x - r*ln2 with ln2 in two parts, p a degree-5 polynomial
 * evaluated as (c5 b + c4) u + (c3 b + c2), u = b^2, then times u plus
 * (c1 b + 1).  Constants as the peer's (from Arm's optimized routines).
 */
float ai__ref_peer_exp1(float x) {
    const float shift = 0x1.8p23f;
    float z = fmaf(x, 0x1.715476p+0f, shift);
    float r = z - shift;
    float b = fmaf(-r, 0x1.7f7d1cp-20f, fmaf(-r, 0x1.62e4p-1f, x));
    float u = b * b;
    float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                   u, fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (r != r) return r;                                 /* NaN in, NaN out */
    if (fabsf(r) > 192.0f) return r > 0 ? INFINITY : 0.0f;
    return ldexpf(j, (int)r);
}

void ai__ref_peer_exp(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = ai__ref_peer_exp1(x[i]);
}

void ai__ref_peer_swiglu(float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + ai__ref_peer_exp1(0.0f - x[i])) * y[i];
}

void ai__ref_peer_kq(const float *q, const float *k, int64_t ld, int64_t hd, int64_t nt, float *out) {
    for (int64_t t = 0; t < nt; t++) {
        float acc = 0.0f;
        for (int64_t d = 0; d < hd; d++) acc = fmaf(k[d * ld + t], q[d], acc);
        out[t] = acc;
    }
}

void ai__ref_peer_pv(float *acc, const float *p, const float *v, int64_t nt, int64_t dv) {
    for (int64_t d = 0; d < dv; d++) {
        float a = acc[d];
        for (int64_t t = 0; t < nt; t++) a = fmaf(v[t * dv + d], p[t], a);
        acc[d] = a;
    }
}

/* s rounded to f16 (to nearest even), kept as a double (the scaling by a
 * power of two and rint are exact). */
static double to_half(double s) {
    double a = fabs(s);
    if (a == 0.0 || a != a || a == INFINITY) return s;
    if (a >= 65520.0) return s > 0 ? INFINITY : -INFINITY;
    int e;
    frexp(a, &e);                 /* a in [2^(e-1), 2^e) */
    e = e - 1 < -14 ? -14 : e - 1; /* below 2^-14 the quantum stays 2^-24 */
    double quantum = ldexp(1.0, e - 10);
    return rint(s / quantum) * quantum;
}

float ai__ref_peer_dot_f16h(const uint16_t *a, const uint16_t *b, int64_t n) {
    double lane[128] = {0};
    int64_t np = n & ~(int64_t)127;
    /* a product (22 bits) plus an f16 is exact in double unless the two are
     * over 2^30 apart, where the f16 result cannot differ: one rounding */
    for (int64_t i = 0; i < np; i += 128)
        for (int l = 0; l < 128; l++)
            lane[l] = to_half((double)ai__f16_to_f32(a[i + l]) * ai__f16_to_f32(b[i + l]) + lane[l]);
    for (int l = 0; l < 32; l++) {
        lane[l] = to_half(lane[l] + lane[64 + l]);
        lane[32 + l] = to_half(lane[32 + l] + lane[96 + l]);
    }
    for (int l = 0; l < 32; l++) lane[l] = to_half(lane[l] + lane[32 + l]);
    for (int w = 16; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) lane[l] = to_half(lane[l] + lane[l + w]);
    double sum = np ? lane[0] : 0.0;
    for (int64_t i = np; i < n; i++) sum += (double)(ai__f16_to_f32(a[i]) * ai__f16_to_f32(b[i]));
    return (float)sum;
}

/* One query over n_kv f16 key and value rows; scratch: hd + hdv uint16. */
void ai__ref_peer_attn_f16(float *out, const float *q, const uint16_t *k, const uint16_t *v,
                           int64_t n_kv, int64_t hd, int64_t hdv, float scale, uint16_t *scratch) {
    uint16_t *qh = scratch, *acc = scratch + hd;
    for (int64_t d = 0; d < hd; d++) qh[d] = ai__f32_to_f16(q[d]);
    memset(acc, 0, (size_t)hdv * sizeof *acc);
    float S = 0.0f, M = -INFINITY;
    for (int64_t t = 0; t < n_kv; t++) {
        float s = ai__ref_peer_dot_f16(qh, k + t * hd, hd) * scale;
        float ms = 1.0f, vs = 1.0f;
        if (s > M) { /* new max: what is summed so far shrinks by e^(M - s) */
            ms = expf(M - s);
            M = s;
            ai__ref_peer_scale_f16(acc, ms, hdv);
        } else {
            vs = expf(s - M);
        }
        ai__ref_peer_mad_f16(acc, v + t * hdv, vs, hdv);
        S = fmaf(S, ms, vs);
    }
    float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int64_t d = 0; d < hdv; d++) out[d] = ai__f16_to_f32(acc[d]) * inv;
}

/* ---- Q4_0 and Q4_K in the order of the peer's repacked kernels ----------- */

/* Integer dot of one 32-element block (18 bytes: f16 d, 16 bytes of
 * nibbles, element j the low nibble of byte j, element j+16 its high
 * nibble) with 32 act values; lut maps a nibble to its weight. */
static int32_t b32_isum(const uint8_t *b, const int8_t *qa, const int8_t *lut) {
    int32_t s = 0;
    for (int j = 0; j < 16; j++) s += lut[b[2 + j] & 0xF] * qa[j] + lut[b[2 + j] >> 4] * qa[j + 16];
    return s;
}

static void peer_b32(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y,
                     const int8_t *lut) {
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    for (int64_t r = 0; r < nr; r++) {
        const uint8_t *b = (const uint8_t *)w + (size_t)r * ws;
        float acc = 0.0f;
        for (int64_t i = 0; i < k / 32; i++, b += 18)
            acc = fmaf((float)b32_isum(b, qa + 32 * i, lut), ai__f16_to_f32(rd16(b)) * da[i], acc);
        y[r] = acc;
    }
}

static const int8_t q4_0_lut[16] = {-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7};

void ai__ref_peer_q4_0(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y) {
    peer_b32(w, ws, nr, act, k, y, q4_0_lut);
}

void ai__ref_peer_iq4_nl(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y) {
    peer_b32(w, ws, nr, act, k, y, ai__iq4nl_values);
}

/* Sub-block s of a Q4_K block (144 bytes: f16 d, f16 dmin, 12 bytes of
 * six-bit scales and mins, 128 bytes of nibbles; element e of chunk e/64
 * is in byte 16 + 32(e/64) + e%32, low nibble for e%64 < 32) against 32
 * act values: *is = sc * sum q*a, *ms = m * (sum of the act values, from
 * the two per-16 sums). */
static void q4_k_sub(const uint8_t *b, int s, const int8_t *qa, const int16_t *bs, int32_t *is,
                     int32_t *ms) {
    uint8_t sc, m;
    k4_scale_min(s, b + 4, &sc, &m);
    const uint8_t *qs = b + 16 + 32 * (s / 2);
    int shift = 4 * (s % 2);
    int32_t part = 0;
    for (int j = 0; j < 32; j++) part += ((qs[j] >> shift) & 0xF) * qa[32 * s + j];
    *is = sc * part;
    *ms = m * (bs[2 * s] + bs[2 * s + 1]);
}

void ai__ref_peer_q4_k(const void *w, size_t ws, int64_t nr, const void *act, int64_t k, float *y,
                       int tile) {
    const int8_t *qa = act_q(act);
    const float *da = act_d(act, k);
    const int16_t *bs = act_bs256(act, k);
    for (int64_t r = 0; r < nr; r++) {
        const uint8_t *b = (const uint8_t *)w + (size_t)r * ws;
        float acc = 0.0f, accm = 0.0f;
        for (int64_t i = 0; i < k / 256; i++, b += 144) {
            float dd = ai__f16_to_f32(rd16(b)) * da[i], dm = ai__f16_to_f32(rd16(b + 2)) * da[i];
            int32_t is = 0, ms = 0;
            for (int s = 0; s < 8; s++) {
                int32_t a, m;
                q4_k_sub(b, s, qa + 256 * i, bs + 16 * i, &a, &m);
                is += a;
                ms += m;
                if (tile ? s % 2 == 1 : s == 7) { /* a sum goes to the float accumulators */
                    acc = fmaf((float)is, dd, acc);
                    accm = fmaf((float)ms, dm, accm);
                    is = ms = 0;
                }
            }
        }
        y[r] = acc - accm;
    }
}
