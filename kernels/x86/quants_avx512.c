/* quants_avx512.c - the x86 kernels (x86_kern.h) built for AVX-512 F/BW/VL
 * with VNNI: 8-bit dot products through vpdpbusd. */
#define ISA_VNNI 1
#define MAXC 8 /* 32 vector registers: twice the tile of the AVX2 build */
#define FILL_NAME ai__kset_fill_avx512
#include "x86_kern.h"
