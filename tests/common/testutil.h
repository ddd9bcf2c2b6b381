/* testutil.h - helpers shared by the unit tests. */
#ifndef AI_TESTUTIL_H
#define AI_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* The fixtures folder ($AI_FIXTURES, else ../shared/fixtures from the
 * project root), or NULL when it does not exist. */
const char *tu_fixtures(void);
/* tu_fixtures() joined with a relative path, in a static buffer. */
const char *tu_fixture_path(const char *rel);
/* Exits with status 77 (skipped) and a message when fixtures are absent;
 * call at the start of main() of a test that needs them throughout. */
void tu_require_fixtures(void);
/* Reads a whole file into a malloc'd, NUL-terminated buffer (free with free);
 * NULL on error. */
char *tu_read_file(const char *path, size_t *len);
/* Deterministic pseudo-random numbers for tests (xorshift). */
uint64_t tu_rand(uint64_t *state);
float tu_randf(uint64_t *state); /* uniform in [-1, 1) */

#endif
