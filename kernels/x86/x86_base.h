/*
 * x86_base.h - the small x86 helpers shared by every x86 kernel file
 * (x86_kern.h, compiled by quants_avx2.c and quants_avx512.c, and
 * gemm_avx512.c).  Everything is static inline, so each file gets copies
 * built with its own ISA flags (AVX2+FMA+F16C at least).  The batch tiles of
 * gemm_avx512.c must reproduce x86_kern.h's arithmetic bit for bit, so the
 * horizontal sum and the scale unpacking live here once.
 */
#ifndef AI_X86_BASE_H
#define AI_X86_BASE_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* The sum of the 8 lanes, in a fixed order (every kernel's final sum). */
INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE float f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* The f16 values at p0 and p1 in float lanes 0 and 1: one conversion for
 * the scales of two blocks. */
INLINE __m128 f16x2(const uint8_t *p0, const uint8_t *p1) {
    uint16_t h0, h1;
    memcpy(&h0, p0, 2);
    memcpy(&h1, p1, 2);
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int)((uint32_t)h0 | (uint32_t)h1 << 16)));
}

INLINE __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
INLINE __m128i load128(const void *p) { return _mm_loadu_si128((const __m128i *)p); }

#ifdef __AVX512BW__
/* The nibbles of two 16-byte runs p0, p1 (two blocks of 32) in element
 * order [lo_0, hi_0, lo_1, hi_1]: each run loaded to two 128-bit lanes,
 * shifted by 0 / 4 and masked.  Every AVX-512 two-blocks-per-step kernel
 * (Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS) unpacks this way. */
INLINE __m512i nib64(const uint8_t *p0, const uint8_t *p1) {
    const __m512i shv = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0,
                                          0x0004000400040004, 0x0004000400040004);
    __m512i z = _mm512_mask_broadcast_i32x4(_mm512_broadcast_i32x4(load128(p0)), 0xFF00, load128(p1));
    return _mm512_and_si512(_mm512_srlv_epi16(z, shv), _mm512_set1_epi8(0x0F));
}
#endif

/* 16 bytes of nibbles -> 32 values: low nibbles (elements 0..15), then high. */
INLINE __m256i nibbles(const uint8_t *p) {
    __m128i q = load128(p);
    __m256i v = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/*
 * Software prefetch for the matrix-vector kernels (x86_gemv.h, x86_q40.h).
 * A pass reads its R rows side by side: R short streams
 * (ws bytes each, 2304 for Q4_0 at k = 4096) that all start cold at every
 * pass, which the hardware prefetchers follow poorly (Q4_0 read a cold
 * 64 MiB matrix at 8-18 GB/s on one Zen 5 thread, against 29 GB/s of
 * plain sequential reading).  But the R rows of a pass are one contiguous
 * span of R * ws bytes, and so is the next pass: a kernel that has read
 * bytes [0, off) of each of its rows prefetches bytes [R * off, R * (off + n))
 * of the span `dist` bytes ahead (a whole number of passes, at least
 * PF_BYTES), so the matrix is fetched as one stream ahead of the reads.
 * Prefetches never fault, so the last passes may point past the matrix.
 */
enum { PF_BYTES = 8192 }; /* 4, 8 and 16 KiB measured alike (k = 1024..14336) */

INLINE size_t pf_dist(size_t ws, int R) {
    size_t pass = (size_t)R * ws;
    return pass * ((PF_BYTES + pass - 1) / pass);
}

INLINE void pf_rows(const uint8_t *w, size_t dist, int R, size_t off, size_t n) {
    uintptr_t p = (uintptr_t)w + dist + (size_t)R * off;
    _Pragma("GCC unroll 16") /* x86_gemv.h: up to 4 * 176 bytes, 11 lines; x86_q40.h: up to 4 * 544 */
    for (size_t b = 0; b < (size_t)R * n; b += 64) _mm_prefetch((const char *)(p + b), _MM_HINT_T0);
}

#endif
