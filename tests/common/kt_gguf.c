/* kt_gguf.c - see kt_gguf.h. */
#include "kt_gguf.h"

#include <string.h>

typedef struct rd {
    const uint8_t *p;
    size_t size, off;
    int bad;
} rd;

static uint64_t get(rd *r, int n) {
    if (r->bad || r->size - r->off < (size_t)n) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)r->p[r->off + i] << (8 * i);
    r->off += (size_t)n;
    return v;
}

static void skip(rd *r, uint64_t n) {
    if (r->bad || r->size - r->off < n) r->bad = 1;
    else r->off += (size_t)n;
}

static const int scalar_size[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static void skip_value(rd *r, uint32_t t, int depth) {
    if (t == 8) skip(r, get(r, 8));
    else if (t == 9 && depth == 0) {
        uint32_t et = (uint32_t)get(r, 4);
        uint64_t n = get(r, 8);
        for (uint64_t i = 0; i < n && !r->bad; i++) skip_value(r, et, 1);
    } else if (t < 13 && scalar_size[t]) skip(r, (uint64_t)scalar_size[t]);
    else r->bad = 1;
}

int kt_gguf_tensor(const uint8_t *buf, size_t size, const char *name, uint32_t *type,
                   int64_t ne[4], const uint8_t **data) {
    rd r = {buf, size, 0, 0};
    if (get(&r, 4) != 0x46554747u) return -1; /* "GGUF" */
    get(&r, 4);
    uint64_t n_t = get(&r, 8), n_kv = get(&r, 8);
    uint64_t align = 32;
    for (uint64_t i = 0; i < n_kv && !r.bad; i++) {
        uint64_t kl = get(&r, 8);
        size_t ko = r.off;
        skip(&r, kl);
        uint32_t t = (uint32_t)get(&r, 4);
        if (!r.bad && kl == 17 && !memcmp(buf + ko, "general.alignment", 17) && t == 4) {
            align = get(&r, 4);
            continue;
        }
        skip_value(&r, t, 0);
    }
    int found = 0;
    uint64_t offset = 0;
    for (uint64_t i = 0; i < n_t && !r.bad; i++) {
        uint64_t nl = get(&r, 8);
        size_t no = r.off;
        skip(&r, nl);
        uint32_t nd = (uint32_t)get(&r, 4);
        if (nd > 4) return -1;
        int64_t e[4] = {1, 1, 1, 1};
        for (uint32_t d = 0; d < nd; d++) e[d] = (int64_t)get(&r, 8);
        uint32_t t = (uint32_t)get(&r, 4);
        uint64_t o = get(&r, 8);
        if (!r.bad && nl == strlen(name) && !memcmp(buf + no, name, nl)) {
            found = 1;
            *type = t;
            memcpy(ne, e, sizeof e);
            offset = o;
        }
    }
    if (r.bad || !found || align == 0) return -1;
    size_t start = (r.off + align - 1) / align * align;
    if (start > size || offset > size - start) return -1;
    *data = buf + start + offset;
    return 0;
}
