#!/bin/sh
# make test-arm: cross-compiles the kernels and their unit tests for aarch64
# and runs them under qemu-user, twice: on a CPU with the dot-product
# extension (qemu's "max": both the "neon" and the "neon-dotprod" sets are
# checked against the scalar reference, dispatch must pick neon-dotprod, and
# neon when AI_KERNELS=neon says so)
# and on one without it (cortex-a53: "neon" is checked, neon-dotprod must be
# absent, and AI_KERNELS=neon-dotprod must fall back to neon).  The
# AI_TEST_* variables make test_kernels_simd fail, not skip, when a set is
# not there.  test_matmul_group runs the grouped and caller-split products
# (ai__matmul_group, ai__matmul_rows) through the chosen NEON set and wants
# them bit-identical to ai__matmul.  The tests use a small cmocka stand-in (tests/arm/cmocka.h)
# instead of a cross-built cmocka.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
ARM_CC=${ARM_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU:-qemu-aarch64}
SYSROOT=${SYSROOT:-/usr/aarch64-linux-gnu}
OUT=build-arm
command -v "$ARM_CC" >/dev/null 2>&1 || { echo "test-arm: $ARM_CC not found"; exit 77; }
command -v "$QEMU" >/dev/null 2>&1 || { echo "test-arm: $QEMU not found"; exit 77; }
mkdir -p "$OUT/obj"
CF="-std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror -Iinclude -Ilib -Ikernels"
SRC="lib/threads.c lib/types.c lib/log.c lib/mem.c lib/errors.c lib/opts.c $(ls kernels/*.c kernels/ref/*.c kernels/arm/*.c)"
OBJS=""
for f in $SRC; do
    o="$OUT/obj/$(echo "$f" | tr / _).o"
    extra=""
    case "$f" in *_dotprod.c) extra="-march=armv8.2-a+dotprod" ;; esac
    $ARM_CC $CF $extra -c "$f" -o "$o"
    OBJS="$OBJS $o"
done
export AI_FIXTURES="${AI_FIXTURES:-$ROOT/../shared/fixtures}"
fail=0
for t in test_kernels_ref test_kernels_simd test_matmul_group; do
    $ARM_CC $CF -Itests/arm -Itests/common tests/unit/$t.c tests/common/testutil.c tests/common/kt_gguf.c \
        $OBJS -lm -lpthread -o "$OUT/$t"
    echo "== $t on qemu -cpu max"
    env AI_TEST_REQUIRE_SETS="neon neon-dotprod" AI_TEST_EXPECT_CHOSEN=neon-dotprod \
        $QEMU -cpu max -L "$SYSROOT" "$OUT/$t" || { fail=1; echo "FAIL $t (max)"; }
    if [ $t = test_kernels_simd ]; then
        echo "== $t on qemu -cpu max, AI_KERNELS=neon (dispatch only)"
        env AI_KERNELS=neon AI_TEST_EXPECT_CHOSEN=neon AI_TEST_DISPATCH_ONLY=1 \
            $QEMU -cpu max -L "$SYSROOT" "$OUT/$t" || { fail=1; echo "FAIL $t (max, AI_KERNELS=neon)"; }
    fi
    echo "== $t on qemu -cpu cortex-a53"
    env AI_TEST_REQUIRE_SETS=neon AI_TEST_ABSENT_SETS=neon-dotprod AI_KERNELS=neon-dotprod \
        AI_TEST_EXPECT_CHOSEN=neon \
        $QEMU -cpu cortex-a53 -L "$SYSROOT" "$OUT/$t" || { fail=1; echo "FAIL $t (cortex-a53)"; }
done
[ $fail -eq 0 ] && echo "test-arm: all passed"
exit $fail
