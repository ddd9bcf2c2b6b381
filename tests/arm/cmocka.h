/*
 * cmocka.h (tests/arm) - a tiny stand-in for the subset of cmocka the kernel
 * tests use, so that they build for aarch64 without a cross-compiled cmocka
 * (make test-arm).  Same macro names and semantics as far as used: a failed
 * assertion ends the test with a message; skip() marks it skipped.
 */
#ifndef AI_ARM_CMOCKA_SHIM_H
#define AI_ARM_CMOCKA_SHIM_H

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct CMUnitTest {
    const char *name;
    void (*fn)(void **state);
};

static jmp_buf cm_jmp;
static int cm_outcome; /* 0 pass, 1 fail, 2 skip */

#define cmocka_unit_test(f) {#f, f}

#define CM_FAIL(...)                                                            \
    do {                                                                        \
        printf("ERROR: " __VA_ARGS__);                                          \
        printf("\n    at %s:%d\n", __FILE__, __LINE__);                         \
        cm_outcome = 1;                                                         \
        longjmp(cm_jmp, 1);                                                     \
    } while (0)
#define fail_msg(...) CM_FAIL(__VA_ARGS__)
#define skip()                                                                  \
    do {                                                                        \
        cm_outcome = 2;                                                         \
        longjmp(cm_jmp, 1);                                                     \
    } while (0)
#define assert_true(c)                                                          \
    do {                                                                        \
        if (!(c)) CM_FAIL("%s", #c);                                            \
    } while (0)
#define assert_false(c) assert_true(!(c))
#define assert_non_null(p) assert_true((p) != NULL)
#define assert_int_equal(a, b)                                                  \
    do {                                                                        \
        long long cm_a = (long long)(a), cm_b = (long long)(b);                 \
        if (cm_a != cm_b) CM_FAIL("%lld != %lld (%s, %s)", cm_a, cm_b, #a, #b); \
    } while (0)
#define assert_memory_equal(a, b, n)                                            \
    do {                                                                        \
        if (memcmp((a), (b), (n))) CM_FAIL("memory differs: %s, %s", #a, #b);   \
    } while (0)

static inline int cm_run(const struct CMUnitTest *t, size_t n) {
    volatile int failed = 0, passed = 0;
    for (volatile size_t i = 0; i < n; i++) {
        cm_outcome = 0;
        printf("[ RUN      ] %s\n", t[i].name);
        fflush(stdout);
        if (!setjmp(cm_jmp)) t[i].fn(NULL);
        if (cm_outcome == 1) failed++;
        else passed++;
        printf("[ %-8s ] %s\n", cm_outcome == 1 ? "FAILED" : cm_outcome == 2 ? "SKIPPED" : "OK", t[i].name);
    }
    printf("[  PASSED  ] %d test(s), %d failed.\n", passed, failed);
    return failed;
}
#define cmocka_run_group_tests(t, a, b) cm_run(t, sizeof(t) / sizeof((t)[0]))

#endif
