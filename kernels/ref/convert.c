/*
 * convert.c - f16 and bf16 <-> f32, bit by bit (IEEE 754 binary16 and the
 * top half of binary32), rounding to nearest even.
 */
#include "kernels.h"

#include <string.h>

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float ai__f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0x1f) return float_of(sign | 0x7f800000 | (m << 13)); /* inf, NaN */
    if (e != 0) return float_of(sign | ((e + 112) << 23) | (m << 13));
    if (m == 0) return float_of(sign);
    /* subnormal: m * 2^-24, exact in f32 */
    float v = (float)m * (1.0f / 16777216.0f);
    return sign ? -v : v;
}

uint16_t ai__f32_to_f16(float f) {
    uint32_t x = bits_of(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffff;
    if (ax > 0x7f800000) return sign | 0x7e00;            /* NaN stays NaN */
    if (ax >= 0x477ff000) return sign | 0x7c00;           /* >= 65520: inf */
    if (ax >= 0x38800000) {                               /* normal f16 */
        uint32_t h = (ax - 0x38000000) >> 13, rem = ax & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t e = ax >> 23;
    if (e < 102) return sign;                             /* below 2^-25 */
    /* subnormal f16: the value in units of 2^-24 is m >> (126 - e) */
    uint32_t m = (ax & 0x7fffff) | 0x800000, sh = 126 - e;
    uint32_t q = m >> sh, rem = m & ((1u << sh) - 1), half = 1u << (sh - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return (uint16_t)(sign | q);
}

float ai__bf16_to_f32(uint16_t h) { return float_of((uint32_t)h << 16); }

uint16_t ai__f32_to_bf16(float f) {
    uint32_t x = bits_of(f);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}
