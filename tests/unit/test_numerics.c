/*
 * test_numerics.c - the rounding points where the kernels follow the peer
 * (llama.cpp on x86) bit for bit, checked on values picked so that the
 * obvious alternative rounds differently.  Each case holds for the scalar
 * reference and for every ISA kernel set the host has.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "kimpl.h"
#include "testutil.h"

static const char *const sets[] = {"ref", "avx2", "avx512", "neon"};

/*
 * Q8_0 activations: q = nearest(x * (127/amax)).  With amax = 0x1.e8feb6p+1
 * (3.8202732) the scale 127/amax is 33.243694 while 1/(amax/127) is
 * 33.2437, and x = 0x1.f48bcap-1 (0.977629) gives 32.49999 against 32.50004:
 * q = 32, not 33.  Likewise amax 0x1.fb4ceep+0, x 0x1.3b909cp-1: 40, not 39.
 */
static void test_q8_0_scale(void **state) {
    (void)state;
    static const struct { float amax, x; int q; } cases[] = {
        {0x1.e8feb6p+1f, 0x1.f48bcap-1f, 32}, {0x1.fb4ceep+0f, 0x1.3b909cp-1f, 40}};
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        const ai__kset *ks = ai__kset_by_name(sets[s]);
        if (!ks) continue;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            float x[64] = {0};
            x[3] = cases[c].amax;
            x[7] = cases[c].x;
            x[40] = -cases[c].x; /* second block: amax is x itself -> 127 */
            uint8_t act[256];
            ks->act[ACT_Q8_32](x, act, 64);
            if (act_q(act)[7] != cases[c].q)
                print_error("%s: q = %d, want %d\n", sets[s], act_q(act)[7], cases[c].q);
            assert_int_equal(act_q(act)[7], cases[c].q);
            assert_int_equal(act_q(act)[3], 127);
            assert_int_equal(act_q(act)[40], -127);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q8_0_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
