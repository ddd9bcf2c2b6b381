/*
 * state_file.c - the session state file: the tokens of a context, the
 * logits after its last token and its KV cache rows, compressed with zstd.
 *
 * Layout (version 1; integers little-endian):
 *
 *   off  size
 *     0     8  magic "AISTATE\0"
 *     8     4  u32 format version (1)
 *    12     4  u32 header size H (128), including the header checksum
 *    16     4  u32 flags: bit 0 = the logits after the last token follow
 *    20     4  u32 KV cache type (ai_type)
 *    24     8  u64 model fingerprint (ai__model_fingerprint)
 *    32     8  u64 n_layer
 *    40     8  u64 n_head_kv
 *    48     8  u64 bytes of a K row
 *    56     8  u64 bytes of a V row
 *    64     8  u64 n_vocab
 *    72     8  u64 n_tokens
 *    80     4  i32 rope variant (1: phi3 long factors)
 *    84     4  reserved, 0
 *    88     8  u64 payload bytes before compression
 *    96     8  u64 payload bytes as stored (the file is H + this long)
 *   104     8  u64 ai__hash64 of the stored payload
 *   112     8  reserved, 0
 *   120     8  u64 ai__hash64 of bytes [0, H - 8)
 *     H        payload: one zstd frame (with its own content checksum) of
 *                i32 tokens[n_tokens]
 *                f32 logits[n_vocab]                    (flag bit 0)
 *                K rows [n_layer][n_head_kv][n_tokens]
 *                V rows [n_layer][n_head_kv][n_tokens]
 *
 * The header checksum is checked before any other field is believed, so a
 * damaged byte anywhere reads as AI_E_FORMAT; a header that is intact but
 * of another version, or with flag bits this reader does not know, reads as
 * AI_E_MISMATCH.  Later versions keep bytes 0..15 and the rule "checksum in
 * the last 8 bytes of the header".
 */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

enum { HDR_SIZE = 128, FORMAT_VERSION = 1, FLAG_LOGITS = 1 };
static const char MAGIC[8] = {'A', 'I', 'S', 'T', 'A', 'T', 'E', 0};

long long ai__state_fail_after = -1;

/* ---- hashing ----------------------------------------------------------------------- */

#define K1 0x9E3779B97F4A7C15ull /* odd constants with well-spread bits */
#define K2 0xD6E8FEB86659FD93ull
#define K3 0xA0761D6478BD642Full

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t rd64(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w; /* little-endian hosts only (checked where files are made) */
}
static inline uint64_t step(uint64_t v, uint64_t w) {
    v ^= w * K2;
    return rotl64(v, 29) * K1;
}
/* A final avalanche: every input bit reaches every output bit. */
static inline uint64_t avalanche(uint64_t h) {
    h ^= h >> 31;
    h *= K3;
    h ^= h >> 29;
    h *= K2;
    h ^= h >> 32;
    return h;
}

typedef struct hasher {
    uint64_t v[4];
    uint8_t buf[32];
    size_t nbuf;
    uint64_t total;
} hasher;

static void h_init(hasher *h, uint64_t seed) {
    for (int i = 0; i < 4; i++) h->v[i] = seed + (uint64_t)(i + 1) * K1;
    h->nbuf = 0;
    h->total = 0;
}

static void h_block(hasher *h, const uint8_t *p) {
    for (int i = 0; i < 4; i++) h->v[i] = step(h->v[i], rd64(p + 8 * i));
}

static void h_update(hasher *h, const void *data, size_t n) {
    const uint8_t *p = data;
    h->total += n;
    if (h->nbuf) {
        size_t take = 32 - h->nbuf < n ? 32 - h->nbuf : n;
        memcpy(h->buf + h->nbuf, p, take);
        h->nbuf += take;
        p += take;
        n -= take;
        if (h->nbuf < 32) return;
        h_block(h, h->buf);
        h->nbuf = 0;
    }
    for (; n >= 32; p += 32, n -= 32) h_block(h, p);
    memcpy(h->buf, p, n);
    h->nbuf = n;
}

static uint64_t h_final(const hasher *h) {
    uint64_t r = h->total * K3;
    for (int i = 0; i < 4; i++) r = step(r ^ rotl64(h->v[i], 7 * i + 1), K3 + (uint64_t)i);
    size_t i = 0;
    for (; i + 8 <= h->nbuf; i += 8) r = step(r, rd64(h->buf + i));
    uint64_t tail = 0;
    for (size_t j = 0; i + j < h->nbuf; j++) tail |= (uint64_t)h->buf[i + j] << (8 * j);
    r = step(r, tail ^ ((uint64_t)(h->nbuf & 7) << 56));
    return avalanche(r);
}

uint64_t ai__hash64(const void *data, size_t n, uint64_t seed) {
    hasher h;
    h_init(&h, seed);
    h_update(&h, data, n);
    return h_final(&h);
}

uint64_t ai__tokens_key(const int32_t *tokens, int64_t n, const ai__kvgeom *g) {
    uint64_t geo[6] = {g->type, (uint64_t)g->n_layer, (uint64_t)g->n_head_kv, g->k_row,
                       g->v_row, (uint64_t)g->rope_long};
    uint64_t seed = ai__hash64(geo, sizeof geo, 0x5EED);
    return ai__hash64(tokens, (size_t)n * sizeof *tokens, seed);
}

/* ---- little-endian fields -------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int little_endian(void) {
    uint16_t x = 1;
    uint8_t b;
    memcpy(&b, &x, 1);
    return b == 1;
}

/* Payload bytes before compression; -1 on overflow. */
static int raw_size(const ai__kvgeom *g, uint64_t n_tokens, uint64_t n_vocab, int logits,
                    size_t *out) {
    size_t segs, rows, kb, vb, t, total;
    if (ai__mul_size((size_t)g->n_layer, (size_t)g->n_head_kv, &segs) ||
        ai__mul_size(segs, (size_t)n_tokens, &rows) || ai__mul_size(rows, g->k_row, &kb) ||
        ai__mul_size(rows, g->v_row, &vb) || ai__mul_size((size_t)n_tokens, 4, &t) ||
        ai__add_size(kb, vb, &total) || ai__add_size(total, t, &total))
        return -1;
    if (logits) {
        size_t lb;
        if (ai__mul_size((size_t)n_vocab, 4, &lb) || ai__add_size(total, lb, &total)) return -1;
    }
    *out = total;
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------- */

typedef struct writer {
    int fd;
    uint64_t written;
    hasher h;                /* over the compressed payload                */
    ZSTD_CCtx *cctx;
    uint8_t *out;            /* compressed output staging                  */
    size_t out_cap;
    char *msg;
    size_t cap;
    const char *tmp;
} writer;

/* Writes n bytes at the end of the file (honouring the test hook). */
static ai_status put(writer *w, const void *data, size_t n) {
    const uint8_t *p = data;
    while (n > 0) {
        size_t chunk = n;
        if (ai__state_fail_after >= 0) {
            if (w->written >= (uint64_t)ai__state_fail_after) {
                ai__set_err(w->msg, w->cap, "cannot write %s: %s (after %llu bytes)", w->tmp,
                            strerror(ENOSPC), (unsigned long long)w->written);
                return AI_E_IO;
            }
            uint64_t left = (uint64_t)ai__state_fail_after - w->written;
            if (chunk > left) chunk = (size_t)left;
        }
        ssize_t r = write(w->fd, p, chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            ai__set_err(w->msg, w->cap, "cannot write %s: %s", w->tmp,
                        r < 0 ? strerror(errno) : "no progress");
            return AI_E_IO;
        }
        p += r;
        n -= (size_t)r;
        w->written += (uint64_t)r;
    }
    return AI_OK;
}

/* Compresses n bytes (end: finishes the frame) and writes what comes out. */
static ai_status feed(writer *w, const void *data, size_t n, int end) {
    ZSTD_inBuffer in = {data, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->out, w->out_cap, 0};
        size_t r = ZSTD_compressStream2(w->cctx, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(r)) {
            ai__set_err(w->msg, w->cap, "zstd: %s", ZSTD_getErrorName(r));
            return AI_E_NOMEM;
        }
        if (out.pos) {
            h_update(&w->h, w->out, out.pos);
            ai_status st = put(w, w->out, out.pos);
            if (st) return st;
        }
        if (end ? r == 0 : in.pos == in.size) return AI_OK;
    }
}

/* The segments of one half of the cache, in file order. */
static ai_status feed_half(writer *w, const ai__kvview *kv, int v, int64_t n) {
    size_t row = v ? kv->g.v_row : kv->g.k_row;
    const uint8_t *base = v ? kv->v : kv->k;
    size_t seg_bytes = (size_t)n * row;
    for (int64_t s = 0; s < kv->g.n_layer * kv->g.n_head_kv; s++) {
        ai_status st = feed(w, base + (size_t)s * (size_t)kv->stride * row, seg_bytes, 0);
        if (st) return st;
    }
    return AI_OK;
}

static void header(uint8_t *h, const ai__state *st, size_t raw, uint64_t stored,
                   uint64_t payload_hash) {
    memset(h, 0, HDR_SIZE);
    memcpy(h, MAGIC, 8);
    put32(h + 8, FORMAT_VERSION);
    put32(h + 12, HDR_SIZE);
    put32(h + 16, st->logits ? FLAG_LOGITS : 0);
    put32(h + 20, st->kv.g.type);
    put64(h + 24, st->fingerprint);
    put64(h + 32, (uint64_t)st->kv.g.n_layer);
    put64(h + 40, (uint64_t)st->kv.g.n_head_kv);
    put64(h + 48, st->kv.g.k_row);
    put64(h + 56, st->kv.g.v_row);
    put64(h + 64, (uint64_t)st->n_vocab);
    put64(h + 72, (uint64_t)st->n_tokens);
    put32(h + 80, (uint32_t)st->kv.g.rope_long);
    put64(h + 88, raw);
    put64(h + 96, stored);
    put64(h + 104, payload_hash);
    put64(h + 120, ai__hash64(h, HDR_SIZE - 8, 0));
}

/* The folder part of path ("." when there is none), in buf. */
static void dir_of(const char *path, char *buf, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(buf, cap, ".");
    } else if (slash == path) {
        snprintf(buf, cap, "/");
    } else {
        snprintf(buf, cap, "%.*s", (int)(slash - path), path);
    }
}

ai_status ai__state_write(const char *path, const ai__state *st, int level, int n_workers,
                          char *msg, size_t cap) {
    if (!little_endian()) {
        ai__set_err(msg, cap, "state files are written by little-endian hosts only");
        return AI_E_UNSUPPORTED;
    }
    size_t raw;
    if (raw_size(&st->kv.g, (uint64_t)st->n_tokens, (uint64_t)st->n_vocab, st->logits != NULL,
                 &raw)) {
        ai__set_err(msg, cap, "state of %lld tokens is too large", (long long)st->n_tokens);
        return AI_E_NOMEM;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return AI_E_NOMEM;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);

    writer w = {.fd = -1, .msg = msg, .cap = cap, .tmp = tmp};
    ai_status rc = AI_E_NOMEM;
    int created = 0; /* the temporary file exists and is ours to remove */
    w.cctx = ZSTD_createCCtx();
    w.out_cap = ZSTD_CStreamOutSize();
    w.out = malloc(w.out_cap);
    if (!w.cctx || !w.out) {
        ai__set_err(msg, cap, "out of memory for the zstd compressor");
        goto out;
    }
    ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_checksumFlag, 1);
    if (n_workers > 1) /* ignored by a libzstd built without threads */
        ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_nbWorkers, n_workers);
    ZSTD_CCtx_setPledgedSrcSize(w.cctx, raw);
    h_init(&w.h, 0);

    w.fd = mkstemp(tmp);
    if (w.fd < 0) {
        ai__set_err(msg, cap, "cannot create a temporary file next to %s: %s", path,
                    strerror(errno));
        rc = AI_E_IO;
        goto out;
    }
    created = 1;
    uint8_t hdr[HDR_SIZE];
    memset(hdr, 0, sizeof hdr); /* placeholder: the real header goes in last */
    if ((rc = put(&w, hdr, sizeof hdr)) ||
        (rc = feed(&w, st->tokens, (size_t)st->n_tokens * sizeof *st->tokens, 0)) ||
        (st->logits && (rc = feed(&w, st->logits, (size_t)st->n_vocab * sizeof(float), 0))) ||
        (rc = feed_half(&w, &st->kv, 0, st->n_tokens)) ||
        (rc = feed_half(&w, &st->kv, 1, st->n_tokens)) || (rc = feed(&w, NULL, 0, 1)))
        goto out;
    header(hdr, st, raw, w.written - HDR_SIZE, h_final(&w.h));
    if (lseek(w.fd, 0, SEEK_SET) != 0) {
        ai__set_err(msg, cap, "cannot seek in %s: %s", tmp, strerror(errno));
        rc = AI_E_IO;
        goto out;
    }
    w.written = 0; /* the hook counts the header rewrite as bytes too */
    if ((rc = put(&w, hdr, sizeof hdr))) goto out;
    if (fsync(w.fd) != 0) {
        ai__set_err(msg, cap, "cannot flush %s to disk: %s", tmp, strerror(errno));
        rc = AI_E_IO;
        goto out;
    }
    int fd = w.fd;
    w.fd = -1;
    if (close(fd) != 0) {
        ai__set_err(msg, cap, "cannot close %s: %s", tmp, strerror(errno));
        rc = AI_E_IO;
        goto out;
    }
    if (rename(tmp, path) != 0) {
        ai__set_err(msg, cap, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        rc = AI_E_IO;
        goto out;
    }
    created = 0; /* renamed: nothing to remove */
    /* make the rename itself durable */
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        if (fsync(dfd) != 0) ai__log(AI_LOG_WARN, "cannot fsync folder %s: %s", dir, strerror(errno));
        close(dfd);
    }
    rc = AI_OK;
out:
    if (w.fd >= 0) close(w.fd);
    if (created) unlink(tmp);
    free(tmp);
    free(w.out);
    ZSTD_freeCCtx(w.cctx);
    return rc;
}

/* ---- reading ---------------------------------------------------------------------------------- */

static ai_status read_all(const char *path, uint8_t **data, size_t *size, char *msg, size_t cap) {
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        ai__set_err(msg, cap, "cannot open %s: %s", path, strerror(errno));
        return AI_E_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        ai__set_err(msg, cap, "%s is not a regular file", path);
        close(fd);
        return AI_E_IO;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX - 1) {
        close(fd);
        ai__set_err(msg, cap, "%s is too large", path);
        return AI_E_NOMEM;
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        ai__set_err(msg, cap, "out of memory reading %s (%zu bytes)", path, n);
        return AI_E_NOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            ai__set_err(msg, cap, "cannot read %s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return AI_E_IO;
        }
        if (r == 0) break; /* shrank meanwhile: the checks below see it */
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = got;
    return AI_OK;
}

ai_status ai__state_open(const char *path, ai__state_file *f, char *msg, size_t cap) {
    memset(f, 0, sizeof *f);
    uint8_t *data;
    size_t size;
    ai_status st = read_all(path, &data, &size, msg, cap);
    if (st) return st;
    return ai__state_open_mem(f, data, size, path, msg, cap);
}

ai_status ai__state_open_mem(ai__state_file *f, uint8_t *data, size_t size, const char *path,
                             char *msg, size_t cap) {
    memset(f, 0, sizeof *f);
    f->data = data;
    f->size = size;
    const uint8_t *h = f->data;
    if (f->size == 0) {
        ai__set_err(msg, cap, "%s is empty, not a state file", path);
        return AI_E_FORMAT;
    }
    if (f->size < 16 || memcmp(h, MAGIC, 8) != 0) {
        ai__set_err(msg, cap, "%s is not a libagentinfer state file (bad magic)", path);
        return AI_E_FORMAT;
    }
    uint32_t hsize = get32(h + 12);
    if (hsize < HDR_SIZE || hsize > 4096 || hsize % 8 != 0) {
        ai__set_err(msg, cap, "%s: damaged header (header size %u)", path, hsize);
        return AI_E_FORMAT;
    }
    if (f->size < hsize) {
        ai__set_err(msg, cap, "%s is truncated: %zu bytes, the header alone has %u", path,
                    f->size, hsize);
        return AI_E_FORMAT;
    }
    if (ai__hash64(h, hsize - 8, 0) != get64(h + hsize - 8)) {
        ai__set_err(msg, cap, "%s: damaged header (checksum mismatch)", path);
        return AI_E_FORMAT;
    }
    uint32_t version = get32(h + 8);
    if (version != FORMAT_VERSION) {
        ai__set_err(msg, cap, "%s has state format version %u; this library reads version %d",
                    path, version, FORMAT_VERSION);
        return AI_E_MISMATCH;
    }
    if (!little_endian()) {
        ai__set_err(msg, cap, "state files are read by little-endian hosts only");
        return AI_E_UNSUPPORTED;
    }
    uint32_t flags = get32(h + 16);
    f->has_logits = (flags & FLAG_LOGITS) != 0;
    f->g.type = get32(h + 20);
    f->fingerprint = get64(h + 24);
    uint64_t n_layer = get64(h + 32), n_head_kv = get64(h + 40);
    uint64_t k_row = get64(h + 48), v_row = get64(h + 56);
    uint64_t n_vocab = get64(h + 64), n_tokens = get64(h + 72);
    f->g.rope_long = (int32_t)get32(h + 80);
    uint64_t raw = get64(h + 88), stored = get64(h + 96), phash = get64(h + 104);
    if (flags & ~(uint32_t)FLAG_LOGITS) { /* the header is intact: a newer writer */
        ai__set_err(msg, cap, "%s uses state file features this library does not read "
                    "(flags 0x%x)", path, flags);
        return AI_E_MISMATCH;
    }
    if (n_layer > 65536 || n_head_kv > 65536 ||
        k_row > (1u << 24) || v_row > (1u << 24) || n_vocab > INT32_MAX ||
        n_tokens > INT32_MAX) {
        ai__set_err(msg, cap, "%s: header fields out of range", path);
        return AI_E_FORMAT;
    }
    f->g.n_layer = (int64_t)n_layer;
    f->g.n_head_kv = (int64_t)n_head_kv;
    f->g.k_row = (size_t)k_row;
    f->g.v_row = (size_t)v_row;
    f->n_vocab = (int64_t)n_vocab;
    f->n_tokens = (int64_t)n_tokens;
    size_t want;
    if (raw_size(&f->g, n_tokens, n_vocab, f->has_logits, &want) || want != raw) {
        ai__set_err(msg, cap, "%s: payload size %llu does not match the header", path,
                    (unsigned long long)raw);
        return AI_E_FORMAT;
    }
    if (stored != f->size - hsize) {
        ai__set_err(msg, cap, "%s is %s: %zu payload bytes, the header says %llu", path,
                    stored > f->size - hsize ? "truncated" : "longer than written",
                    f->size - hsize, (unsigned long long)stored);
        return AI_E_FORMAT;
    }
    f->payload_off = hsize;
    f->payload_len = (size_t)stored;
    f->raw_len = raw;
    if (ai__hash64(f->data + hsize, f->payload_len, 0) != phash) {
        ai__set_err(msg, cap, "%s is corrupted (payload checksum mismatch)", path);
        return AI_E_FORMAT;
    }
    unsigned long long fcs = ZSTD_getFrameContentSize(f->data + hsize, f->payload_len);
    if (fcs != raw) {
        ai__set_err(msg, cap, "%s: the compressed payload does not declare %zu bytes", path,
                    raw);
        return AI_E_FORMAT;
    }
    return AI_OK;
}

/* Decoding state, kept in the file struct between the two decode calls. */
typedef struct decoder {
    ZSTD_DCtx *d;
    ZSTD_inBuffer in;
    size_t last;             /* last return of ZSTD_decompressStream        */
} decoder;

/* Decompresses exactly n bytes into dst. */
static ai_status pull(decoder *dc, void *dst, size_t n, char *msg, size_t cap) {
    ZSTD_outBuffer out = {dst, n, 0};
    while (out.pos < out.size) {
        size_t before_in = dc->in.pos, before_out = out.pos;
        size_t r = ZSTD_decompressStream(dc->d, &out, &dc->in);
        if (ZSTD_isError(r)) {
            ai__set_err(msg, cap, "corrupted state payload: zstd %s", ZSTD_getErrorName(r));
            return AI_E_FORMAT;
        }
        dc->last = r;
        if (out.pos < out.size && dc->in.pos == before_in && out.pos == before_out) {
            ai__set_err(msg, cap, "the state payload ends early");
            return AI_E_FORMAT;
        }
    }
    return AI_OK;
}

static decoder *dec_of(const ai__state_file *f) { return (decoder *)f->dec; }

ai_status ai__state_decode_tokens(ai__state_file *f, int32_t *tokens, float *logits, char *msg,
                                  size_t cap) {
    decoder *dc = calloc(1, sizeof *dc);
    if (!dc) return AI_E_NOMEM;
    dc->d = ZSTD_createDCtx();
    if (!dc->d) {
        free(dc);
        ai__set_err(msg, cap, "out of memory for the zstd decompressor");
        return AI_E_NOMEM;
    }
    dc->in.src = f->data + f->payload_off;
    dc->in.size = f->payload_len;
    dc->last = 1; /* the frame has not ended */
    f->dec = dc;
    ai_status st = pull(dc, tokens, (size_t)f->n_tokens * sizeof *tokens, msg, cap);
    if (st) return st;
    for (int64_t i = 0; i < f->n_tokens; i++)
        if (tokens[i] < 0 || tokens[i] >= f->n_vocab) {
            ai__set_err(msg, cap, "state token %lld is %d, outside the vocabulary",
                        (long long)i, tokens[i]);
            return AI_E_FORMAT;
        }
    if (!f->has_logits) return AI_OK;
    if (logits) return pull(dc, logits, (size_t)f->n_vocab * sizeof *logits, msg, cap);
    float skip[1024]; /* the caller does not want them */
    for (size_t left = (size_t)f->n_vocab; left > 0;) {
        size_t k = left < 1024 ? left : 1024;
        if ((st = pull(dc, skip, k * sizeof(float), msg, cap))) return st;
        left -= k;
    }
    return AI_OK;
}

ai_status ai__state_decode_kv(ai__state_file *f, const ai__kvview *dst, char *msg,
                              size_t cap) {
    decoder *dc = dec_of(f);
    if (!dc) return AI_E_INTERNAL;
    int64_t n = f->n_tokens, segs = f->g.n_layer * f->g.n_head_kv;
    for (int half = 0; half < 2; half++) {
        size_t row = half ? dst->g.v_row : dst->g.k_row;
        uint8_t *base = half ? dst->v : dst->k;
        for (int64_t s = 0; s < segs; s++) {
            ai_status st = pull(dc, base + (size_t)s * (size_t)dst->stride * row,
                                (size_t)n * row, msg, cap);
            if (st) return st;
        }
    }
    /* the frame must end here; finishing it checks zstd's content checksum */
    for (int guard = 0; dc->last != 0; guard++) {
        uint8_t extra;
        ZSTD_outBuffer out = {&extra, 1, 0};
        size_t before = dc->in.pos;
        size_t r = ZSTD_decompressStream(dc->d, &out, &dc->in);
        if (ZSTD_isError(r) || out.pos != 0 || (r != 0 && (dc->in.pos == before || guard > 64))) {
            ai__set_err(msg, cap, "corrupted state payload: %s",
                        ZSTD_isError(r) ? ZSTD_getErrorName(r) : "the frame does not end after "
                                                                 "the last row");
            return AI_E_FORMAT;
        }
        dc->last = r;
    }
    if (dc->in.pos != dc->in.size) {
        ai__set_err(msg, cap, "corrupted state payload: bytes after the zstd frame");
        return AI_E_FORMAT;
    }
    return AI_OK;
}

void ai__state_close(ai__state_file *f) {
    if (!f) return;
    decoder *dc = dec_of(f);
    if (dc) {
        ZSTD_freeDCtx(dc->d);
        free(dc);
    }
    free(f->data);
    memset(f, 0, sizeof *f);
}
