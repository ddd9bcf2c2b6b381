/* quants_avx2.c - the x86 kernels (x86_kern.h) built for AVX2+FMA+F16C. */
#define ISA_VNNI 0
#define FILL_NAME ai__kset_fill_avx2
#include "x86_kern.h"
