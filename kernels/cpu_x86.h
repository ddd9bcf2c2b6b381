/*
 * cpu_x86.h - CPU feature bits that __builtin_cpu_supports() cannot name on
 * every compiler (clang 14 rejects "f16c").  Private to kernels/.
 */
#ifndef AI_CPU_X86_H
#define AI_CPU_X86_H

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* F16C: CPUID leaf 1, ECX bit 29.  Only meaningful where AVX is usable,
 * which callers check first through __builtin_cpu_supports("avx2"). */
static inline int ai__cpu_has_f16c(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c >> 29) & 1;
}
#endif

#endif /* AI_CPU_X86_H */
