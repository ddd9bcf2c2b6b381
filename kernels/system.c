/*
 * system.c - ai_system_info: what the kernels chose and why.
 */
#include "internal.h"
#include "kimpl.h"

#include <stdio.h>
#include <unistd.h>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

int ai__default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

static void cpu_features(ai__buf *b) {
    int first = 1;
#define FEAT(name, cond)                                                       \
    if (cond) {                                                                \
        ai__buf_puts(b, first ? name : "," name);                              \
        first = 0;                                                             \
    }
#if defined(__x86_64__)
    unsigned f = ai__x86_features();
    FEAT("avx2", f & AI__X86_AVX2)
    FEAT("fma", f & AI__X86_FMA)
    FEAT("f16c", f & AI__X86_F16C)
    FEAT("avx512f", f & AI__X86_AVX512F)
    FEAT("avx512bw", f & AI__X86_AVX512BW)
    FEAT("avx512vl", f & AI__X86_AVX512VL)
    FEAT("avx512dq", f & AI__X86_AVX512DQ)
    FEAT("avx512vnni", f & AI__X86_AVX512VNNI)
#elif defined(__aarch64__) && defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
    FEAT("neon", 1)
    FEAT("asimddp", (hw & (1ul << 20)) != 0) /* HWCAP_ASIMDDP */
#endif
#undef FEAT
    if (first) ai__buf_puts(b, "none");
}

ai_status ai_system_info(char *buf, size_t cap, size_t *needed) {
    ai__buf b = {0};
    ai__buf_printf(&b, "kernels=%s cpu=", ai__kernels_name());
    cpu_features(&b);
    ai__buf_printf(&b, " threads=%d", ai__default_threads());
#ifdef AI__USE_BLAS
    int64_t bm = ai__kset_get()->blas_min_batch;
    if (bm > 0) ai__buf_printf(&b, " blas=openblas(batch>=%lld)", (long long)bm);
    else ai__buf_puts(&b, " blas=off");
#else
    ai__buf_puts(&b, " blas=none");
#endif
    if (b.oom) {
        ai__buf_free(&b);
        return AI_E_NOMEM;
    }
    ai_status st = ai__copy_out(b.p, b.len, buf, cap, needed);
    ai__buf_free(&b);
    return st;
}
