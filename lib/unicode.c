/*
 * unicode.c - UTF-8 decoding, lowercase and canonical normalization over the
 * generated tables in unicode_data.c.  See unicode.h.
 */
#include "unicode.h"

#include <stdlib.h>
#include <string.h>

uint32_t ai__uc_tolower(uint32_t cp) {
    if (cp < 128) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    size_t lo = 0, hi = ai__uc_lower_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t k = ai__uc_lower[2 * mid];
        if (k == cp) return ai__uc_lower[2 * mid + 1];
        if (k < cp) lo = mid + 1;
        else hi = mid;
    }
    return cp;
}

/* ---- UTF-8 ---------------------------------------------------------------- */

int ai__utf8_check(const uint8_t *s, size_t len) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;       /* no overlong forms  */
        else if (c == 0xED) hi = 0x9F;  /* no surrogates      */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        else if (c == 0xF4) hi = 0x8F;  /* nothing above 10FFFF */
    } else return -1;
    for (size_t i = 1; i < need; i++) {
        if (i >= len) return 0;
        uint8_t b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return -1;
    }
    return (int)need;
}

size_t ai__utf8_decode(const uint8_t *s, size_t len, uint32_t *cp) {
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int n = ai__utf8_check(s, len);
    if (n <= 0) {
        *cp = AI__UC_REPLACEMENT;
        return 1;
    }
    if (n == 2) *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
    else if (n == 3)
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    else
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    return (size_t)n;
}

size_t ai__utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- vectors ---------------------------------------------------------------- */

void ai__u32vec_push(ai__u32vec *v, uint32_t x) {
    if (v->oom) return;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(uint32_t)) {
            v->oom = 1;
            return;
        }
        uint32_t *p = realloc(v->p, cap * sizeof(uint32_t));
        if (!p) {
            v->oom = 1;
            return;
        }
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n++] = x;
}

void ai__u32vec_free(ai__u32vec *v) {
    free(v->p);
    memset(v, 0, sizeof *v);
}

void ai__utf8_to_cps(const char *s, size_t len, ai__u32vec *v) {
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        i += ai__utf8_decode(p + i, len - i, &cp);
        ai__u32vec_push(v, cp);
    }
}

/* ---- normalization ------------------------------------------------------------ */

/* Hangul syllables decompose and compose by arithmetic (Unicode ch. 3.12). */
enum {
    HS_BASE = 0xAC00, HL_BASE = 0x1100, HV_BASE = 0x1161, HT_BASE = 0x11A7,
    HL_COUNT = 19, HV_COUNT = 21, HT_COUNT = 28, HN_COUNT = HV_COUNT * HT_COUNT,
    HS_COUNT = HL_COUNT * HN_COUNT
};

static void decompose(uint32_t cp, ai__u32vec *out) {
    if (cp >= HS_BASE && cp < HS_BASE + HS_COUNT) {
        uint32_t s = cp - HS_BASE;
        ai__u32vec_push(out, HL_BASE + s / HN_COUNT);
        ai__u32vec_push(out, HV_BASE + (s % HN_COUNT) / HT_COUNT);
        if (s % HT_COUNT) ai__u32vec_push(out, HT_BASE + s % HT_COUNT);
        return;
    }
    if (cp >= 0xC0) {
        size_t lo = 0, hi = ai__uc_decomp_n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            uint32_t k = ai__uc_decomp_cp[mid];
            if (k == cp) {
                uint32_t at = ai__uc_decomp_at[mid];
                for (uint32_t i = 0; i < (at & 255); i++)
                    ai__u32vec_push(out, ai__uc_decomp_pool[(at >> 8) + i]);
                return;
            }
            if (k < cp) lo = mid + 1;
            else hi = mid;
        }
    }
    ai__u32vec_push(out, cp);
}

/* Canonical ordering: a stable sort by combining class of every run of
 * non-starters.  Runs are short, so insertion sort. */
static void reorder(uint32_t *p, size_t n) {
    for (size_t i = 1; i < n; i++) {
        int cc = ai__uc_ccc(p[i]);
        if (cc == 0) continue;
        size_t j = i;
        uint32_t x = p[i];
        while (j > 0) {
            int pc = ai__uc_ccc(p[j - 1]);
            if (pc == 0 || pc <= cc) break;
            p[j] = p[j - 1];
            j--;
        }
        p[j] = x;
    }
}

void ai__uc_nfd(const uint32_t *in, size_t n, ai__u32vec *out) {
    size_t start = out->n;
    for (size_t i = 0; i < n; i++) decompose(in[i], out);
    if (!out->oom) reorder(out->p + start, out->n - start);
}

/* The primary composite of (a, b), or 0. */
static uint32_t compose(uint32_t a, uint32_t b) {
    if (a >= HL_BASE && a < HL_BASE + HL_COUNT && b >= HV_BASE && b < HV_BASE + HV_COUNT)
        return HS_BASE + ((a - HL_BASE) * HV_COUNT + (b - HV_BASE)) * HT_COUNT;
    if (a >= HS_BASE && a < HS_BASE + HS_COUNT && (a - HS_BASE) % HT_COUNT == 0 &&
        b > HT_BASE && b < HT_BASE + HT_COUNT)
        return a + (b - HT_BASE);
    uint64_t key = ((uint64_t)a << 21) | b;
    size_t lo = 0, hi = ai__uc_comp_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ai__uc_comp_key[mid] == key) return ai__uc_comp_val[mid];
        if (ai__uc_comp_key[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

void ai__uc_nfc(const uint32_t *in, size_t n, ai__u32vec *out) {
    size_t start = out->n;
    /* Quick check: text without a code point flagged in bit 6 is in NFC. */
    size_t i = 0;
    while (i < n && (in[i] < 0x300 || !(ai__uc_props(in[i]) & 0x40))) i++;
    if (i == n) {
        for (i = 0; i < n; i++) ai__u32vec_push(out, in[i]);
        return;
    }
    ai__uc_nfd(in, n, out);
    if (out->oom) return;
    /* Compose in place: w is the write position, starter the index of the
     * last starter written (or SIZE_MAX), last_cc the class of the last
     * character written after it. */
    uint32_t *p = out->p;
    size_t w = start, starter = SIZE_MAX;
    int last_cc = 0;
    for (size_t r = start; r < out->n; r++) {
        uint32_t c = p[r];
        int cc = ai__uc_ccc(c);
        if (starter != SIZE_MAX) {
            int adjacent = (w == starter + 1);
            if (adjacent || (last_cc != 0 && last_cc < cc)) {
                uint32_t k = compose(p[starter], c);
                if (k) {
                    p[starter] = k;
                    continue;
                }
            }
        }
        if (cc == 0) starter = w;
        last_cc = cc;
        p[w++] = c;
    }
    out->n = w;
}
