/* json_fuzz.c - the JSON reader must never crash, and what it accepts must
 * survive write -> parse -> write unchanged (in every writer mode). */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ai__json *j = NULL;
    char err[128];
    size_t used;
    int trunc;
    if (ai__json_parse_partial((const char *)data, size, &j, &used, &trunc, err, sizeof err) == AI_OK) {
        if (used > size) abort();
        ai__json_free(j);
    }
    if (ai__json_parse((const char *)data, size, &j, err, sizeof err) != AI_OK) return 0;
    static const int modes[][2] = {{0, -1}, {AI__JSON_W_SPACES, 2}, {AI__JSON_W_ASCII | AI__JSON_W_SORT_KEYS, -1}};
    for (int m = 0; m < 3; m++) {
        ai__buf a = {0}, b = {0};
        ai__json_write(&a, j, modes[m][0], modes[m][1]);
        ai__json *k = NULL;
        if (ai__json_parse(a.p, a.len, &k, err, sizeof err) != AI_OK) abort();
        ai__json_write(&b, k, modes[m][0], modes[m][1]);
        if (a.len != b.len || memcmp(a.p, b.p, a.len)) abort();
        ai__json *c = ai__json_clone(k);
        ai__json_free(c);
        ai__json_free(k);
        ai__buf_free(&a);
        ai__buf_free(&b);
    }
    ai__json_free(j);
    return 0;
}
