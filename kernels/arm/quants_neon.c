/* quants_neon.c - the aarch64 kernels (arm_kern.h) for baseline Advanced SIMD. */
#define DOTPROD 0
#define FILL_NAME ai__kset_fill_neon
#include "arm_kern.h"
