/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *tu_fixtures(void) {
    static char dir[4096];
    const char *env = getenv("AI_FIXTURES");
    const char *root = getenv("ROOT");
    if (env && *env) snprintf(dir, sizeof dir, "%s", env);
    else snprintf(dir, sizeof dir, "%s/../shared/fixtures", root ? root : ".");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    return dir;
}

const char *tu_fixture_path(const char *rel) {
    static char path[4096];
    const char *d = tu_fixtures();
    snprintf(path, sizeof path, "%s/%s", d ? d : "(no fixtures)", rel);
    return path;
}

void tu_require_fixtures(void) {
    if (!tu_fixtures()) {
        printf("fixtures not found (set AI_FIXTURES or put ../shared/fixtures beside the project)\n");
        exit(77);
    }
}

char *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

uint64_t tu_rand(uint64_t *s) {
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

float tu_randf(uint64_t *s) {
    return (float)((tu_rand(s) >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}
