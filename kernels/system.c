/*
 * system.c - ai_system_info: what the kernels chose and why.
 */
#include "internal.h"
#include "kimpl.h"
#include "cpu_x86.h"

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
    __builtin_cpu_init();
    FEAT("avx2", __builtin_cpu_supports("avx2"))
    FEAT("fma", __builtin_cpu_supports("fma"))
    FEAT("f16c", ai__cpu_has_f16c())
    FEAT("avx512f", __builtin_cpu_supports("avx512f"))
    FEAT("avx512bw", __builtin_cpu_supports("avx512bw"))
    FEAT("avx512vl", __builtin_cpu_supports("avx512vl"))
    FEAT("avx512vnni", __builtin_cpu_supports("avx512vnni"))
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
