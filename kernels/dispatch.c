/*
 * dispatch.c - picks the kernel set once per process.
 *
 * Each set starts as a copy of the reference and an ISA file replaces the
 * entries it has faster versions of.  The best set the CPU supports wins
 * unless AI_KERNELS names another (ref|avx2|avx512|neon|neon-dotprod); a
 * name the CPU cannot run falls back to the best one, with a warning in the
 * log.  On aarch64, "neon" is the baseline Advanced SIMD build and
 * "neon-dotprod" the build with SDOT (chosen when the CPU reports asimddp),
 * as "avx2" and "avx512" are two builds of one source on x86.
 */
#include "internal.h"
#include "kimpl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The Makefile builds kernels/x86/ on x86_64 and kernels/arm/ on aarch64. */
#if defined(__x86_64__)
#define AI__HAVE_X86_KERNELS 1
#endif
#if defined(__aarch64__)
#define AI__HAVE_ARM_KERNELS 1
#include <sys/auxv.h>
#endif

enum { SET_REF, SET_AVX2, SET_AVX512, SET_NEON, SET_NEON_DOTPROD, N_SETS };
static const char *const set_names[N_SETS] = {"ref", "avx2", "avx512", "neon", "neon-dotprod"};

static ai__kset sets[N_SETS];
static int have[N_SETS];
static int chosen;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__)
#include <cpuid.h>

unsigned ai__x86_features(void) {
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    unsigned lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0x6) != 0x6) return 0; /* the OS saves no YMM state */
    if ((c >> 12) & 1) f |= AI__X86_FMA;
    if ((c >> 29) & 1) f |= AI__X86_F16C;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
    if ((b >> 5) & 1) f |= AI__X86_AVX2;
    if ((lo & 0xe0) == 0xe0) { /* opmask and ZMM state saved */
        if ((b >> 16) & 1) f |= AI__X86_AVX512F;
        if ((b >> 17) & 1) f |= AI__X86_AVX512DQ;
        if ((b >> 30) & 1) f |= AI__X86_AVX512BW;
        if ((b >> 31) & 1) f |= AI__X86_AVX512VL;
        if ((c >> 11) & 1) f |= AI__X86_AVX512VNNI;
    }
    return f;
}
#else
unsigned ai__x86_features(void) { return 0; }
#endif

static void detect(void) {
    have[SET_REF] = 1;
#if defined(AI__HAVE_X86_KERNELS) && defined(__x86_64__)
    unsigned f = ai__x86_features();
    const unsigned avx2 = AI__X86_AVX2 | AI__X86_FMA | AI__X86_F16C;
    const unsigned avx512 = AI__X86_AVX512F | AI__X86_AVX512BW | AI__X86_AVX512VL | AI__X86_AVX512DQ |
                            AI__X86_AVX512VNNI;
    have[SET_AVX2] = (f & avx2) == avx2;
    have[SET_AVX512] = have[SET_AVX2] && (f & avx512) == avx512;
#endif
#if defined(AI__HAVE_ARM_KERNELS) && defined(__aarch64__)
    have[SET_NEON] = 1; /* Advanced SIMD is part of the aarch64 baseline */
    have[SET_NEON_DOTPROD] = (getauxval(AT_HWCAP) & (1ul << 20)) != 0; /* HWCAP_ASIMDDP: SDOT/UDOT */
#endif
}

static void init(void) {
    detect();
    for (int i = 0; i < N_SETS; i++) {
        sets[i] = ai__kset_ref;
        sets[i].name = set_names[i];
    }
#if defined(AI__HAVE_X86_KERNELS) && defined(__x86_64__)
    if (have[SET_AVX2]) ai__kset_fill_avx2(&sets[SET_AVX2]);
    if (have[SET_AVX512]) {
        ai__kset_fill_avx512(&sets[SET_AVX512]);
        ai__kset_fill_gemm_avx512(&sets[SET_AVX512]);
        sets[SET_AVX512].attn_f16_rows = ai__attn_f16_rows_avx512;
        sets[SET_AVX512].attn_f16_rows_scratch = ai__attn_f16_rows_scratch_avx512;
    }
#endif
#if defined(AI__HAVE_ARM_KERNELS) && defined(__aarch64__)
    ai__kset_fill_neon(&sets[SET_NEON]);
    if (have[SET_NEON_DOTPROD]) ai__kset_fill_neon_dotprod(&sets[SET_NEON_DOTPROD]);
#endif
#ifdef AI__USE_BLAS
    /* Measured with bench-kernels (Zen 5, batch 512): dequantize + sgemm is
     * faster than the tiled integer kernels, ~5x for the float types and
     * 1.0-2.5x for the quantized ones.  It is nevertheless off by default:
     * sgemm's summation order depends on the batch shape, so a row's result
     * would depend on which other rows share its batch, and with activations
     * rounded to 8 bits (or f16) in the next layer such last-bit differences
     * grow to whole logits.  The runtime relies on batch-invariant rows
     * (prompt in one batch == prompt in pieces).  AI_BLAS_MIN_BATCH=N turns
     * it on for batches of N rows and more, for those who want speed over
     * that invariance. */
    const char *bm = getenv("AI_BLAS_MIN_BATCH");
    long min_batch = bm && *bm ? strtol(bm, NULL, 10) : 0;
    for (int i = SET_AVX2; i < N_SETS; i++) sets[i].blas_min_batch = min_batch > 0 ? min_batch : 0;
#endif
    chosen = SET_REF;
    for (int i = 0; i < N_SETS; i++)
        if (have[i]) chosen = i; /* later entries are faster */
    const char *want = getenv("AI_KERNELS");
    if (want && *want) {
        int found = -1;
        for (int i = 0; i < N_SETS; i++)
            if (!strcmp(want, set_names[i])) found = i;
        if (found >= 0 && have[found]) chosen = found;
        else
            ai__log(AI_LOG_WARN, "AI_KERNELS=%s is not available on this CPU; using %s", want,
                    set_names[chosen]);
    }
}

const ai__kset *ai__kset_get(void) {
    pthread_once(&once, init);
    return &sets[chosen];
}

const ai__kset *ai__kset_by_name(const char *name) {
    pthread_once(&once, init);
    for (int i = 0; i < N_SETS; i++)
        if (name && !strcmp(name, set_names[i])) return have[i] ? &sets[i] : NULL;
    return NULL;
}

const char *ai__kernels_name(void) { return ai__kset_get()->name; }
