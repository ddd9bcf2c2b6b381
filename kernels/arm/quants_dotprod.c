/* quants_dotprod.c - the aarch64 kernels (arm_kern.h) with the Armv8.2
 * dot-product extension (SDOT); used when the CPU reports asimddp. */
#define DOTPROD 1
#define FILL_NAME ai__kset_fill_neon_dotprod
#include "arm_kern.h"
