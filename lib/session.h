/*
 * session.h - what an ai_session holds (private), and the internals shared
 * by the files that work on sessions:
 *
 *   session.c        evaluation, logits, sampling, generation
 *   session_state.c  prefix reuse (ai_session_prompt), snapshots, forks,
 *                    the model fingerprint, save/load of state files
 *   state_file.c     the state file format (zstd, checksums, atomic write)
 *   prefix_cache.c   the prefix cache
 *
 * A session belongs to one thread at a time; the model it reads is shared
 * and never written.
 */
#ifndef AI_SESSION_H
#define AI_SESSION_H

#include "internal.h"
#include "runtime.h"

#include <stddef.h>
#include <stdint.h>

struct ai_session {
    const ai_model *model;
    const struct ai__weights *w;
    ai__pool *pool;
    ai__fwd fwd;
    int64_t n_ctx, n_batch, n_vocab;
    int32_t *tokens;        /* [n_ctx] the context, tokens[0..n_past)       */
    int64_t n_past;
    float *logits;          /* [n_rows][n_vocab] of the last evaluation     */
    size_t logits_cap;      /* floats allocated                             */
    int64_t n_rows;         /* 0: no logits                                 */
    int all;                /* rows are every token of the last evaluation  */
    int64_t n_eval;         /* tokens of the last evaluation                */
    ai__sampler smp;
    int64_t max_tokens;     /* generation limit per ai_session_eval         */
    int64_t n_gen;          /* tokens generated since                       */
    ai_cancel_fn cancel;
    void *cancel_ud;
    /* text generation (ai_session_step) */
    ai_detokenizer *detok;  /* created at the first step                    */
    ai__buf pending;        /* text made but not yet handed out             */
    char *piece;            /* one token's text, piece_cap bytes            */
    size_t piece_cap;
    char **stops;           /* stop strings (copies) and their lengths      */
    size_t *stop_len;
    size_t n_stops;
    int gen_done;           /* the generation ended; only pending is left   */
    char err[256];
    /* prefix reuse, snapshots, state files (session_state.c) */
    int prefix_reuse;       /* AI_OPT_PREFIX_REUSE                          */
    int zstd_level;         /* AI_OPT_STATE_ZSTD_LEVEL                      */
    int64_t n_reused;       /* positions the last ai_session_prompt kept    */
    struct ai_prefix_cache *pcache; /* borrowed, or NULL                    */
};

/* Reads the options of session_state.c; called by ai_session_new. */
void ai__session_state_init(ai_session *s, const ai_opts *opts);

/* ---- KV geometry and copies (session_state.c) -------------------------------- */

/* What a KV cache's rows must agree on to be moved between two caches or
 * files.  rope_long: phi3 LongRoPE keys were rotated with the long factors
 * (the session's n_ctx exceeds the original context), which changes them. */
typedef struct ai__kvgeom {
    uint32_t type;           /* ai_type of the rows                         */
    int64_t n_layer, n_head_kv;
    size_t k_row, v_row;     /* bytes of one row                            */
    int32_t rope_long;
} ai__kvgeom;

/* Rows of a KV cache: segment (layer il, kv head h) holds the rows of
 * positions 0, 1, ... contiguously, starting at row (il*n_head_kv + h) *
 * stride of k (v).  A session's cache has stride n_ctx, a snapshot's its
 * token count. */
typedef struct ai__kvview {
    ai__kvgeom g;
    int64_t stride;
    uint8_t *k, *v;
} ai__kvview;

void ai__session_kvview(const ai_session *s, ai__kvview *out);
/* Copies positions [0, n) of every segment from src to dst (same geometry). */
void ai__kv_copy(const ai__kvview *dst, const ai__kvview *src, int64_t n);
/* 1 when the two geometries hold interchangeable rows. */
int ai__kvgeom_same(const ai__kvgeom *a, const ai__kvgeom *b);
/* "f16 cache, 4 layers x 2 kv heads, rows of 64/64 dims" for messages. */
void ai__kvgeom_describe(const ai__kvgeom *g, char *buf, size_t cap);

/* A hash of what makes two models' KV caches interchangeable: the
 * architecture, the hyperparameters, every tensor's name, type and shape,
 * and a sample of each tensor's bytes (so a fine-tune of the same shape
 * differs).  Never 0. */
uint64_t ai__model_fingerprint(const ai_model *m);

/* ---- snapshots (session_state.c) ---------------------------------------------- */

struct ai_snapshot {
    uint64_t fingerprint;    /* of the model it came from                   */
    ai__kvgeom g;
    int64_t n_tokens;
    int32_t *tokens;         /* [n_tokens]                                  */
    uint8_t *k, *v;          /* [n_layer][n_head_kv][n_tokens] rows         */
    int64_t n_vocab;
    float *logits;           /* [n_vocab] after the last token, or NULL     */
    /* prefix cache bookkeeping (prefix_cache.c) */
    uint64_t key;            /* ai__tokens_key of the tokens and geometry   */
    uint64_t last_use;
    size_t bytes;            /* memory held                                 */
};

/* A snapshot of positions [0, n) of s (n <= n_past); with_logits keeps the
 * last logits when n == n_past and they exist.  NULL on out of memory. */
struct ai_snapshot *ai__snapshot_take(const ai_session *s, int64_t n, int with_logits);
/* Makes s hold exactly the snapshot's state (compatibility checked by the
 * caller).  AI_E_NOMEM leaves s unchanged. */
ai_status ai__snapshot_put(ai_session *s, const struct ai_snapshot *snap);
/* AI_OK or AI_E_MISMATCH / AI_E_CONTEXT_FULL with a message in msg. */
ai_status ai__snapshot_fits(const ai_session *s, uint64_t fingerprint,
                            const ai__kvgeom *g, int64_t n_tokens, char *msg,
                            size_t cap);
void ai__snapshot_free(struct ai_snapshot *snap);
/* Sizes of a snapshot of n tokens: KV bytes, and everything held. */
size_t ai__snapshot_bytes(const ai__kvgeom *g, int64_t n_tokens, int64_t n_vocab,
                          int with_logits);

/* ---- hashing (state_file.c) ----------------------------------------------------- */

/* A fast 64-bit non-cryptographic hash (own design: four multiply-rotate
 * lanes over 8-byte words, then a final avalanche).  Its values are part of
 * the state file format: never change it. */
uint64_t ai__hash64(const void *data, size_t n, uint64_t seed);
/* Key of a cached prefix: its tokens and the geometry of its rows. */
uint64_t ai__tokens_key(const int32_t *tokens, int64_t n, const ai__kvgeom *g);

/* ---- state files (state_file.c) ---------------------------------------------------- */

/* What a state file holds, or what to write into one. */
typedef struct ai__state {
    uint64_t fingerprint;
    int64_t n_vocab;
    int64_t n_tokens;
    const int32_t *tokens;   /* write: [n_tokens]                            */
    const float *logits;     /* write: [n_vocab] or NULL                     */
    ai__kvview kv;           /* write: the rows of positions [0, n_tokens)   */
} ai__state;

/* Writes st to path atomically: a temporary file in the same folder,
 * fsync, rename over path, fsync of the folder.  On any failure the
 * temporary file is removed and path is untouched.  level: zstd level.
 * Errors: AI_E_IO, AI_E_NOMEM (message in msg). */
ai_status ai__state_write(const char *path, const ai__state *st, int level,
                          int n_workers, char *msg, size_t cap);

/* A state file read into memory and checked (header, sizes, checksums),
 * ready to decode. */
typedef struct ai__state_file {
    uint8_t *data;
    size_t size;
    uint64_t fingerprint;
    ai__kvgeom g;
    int64_t n_vocab, n_tokens;
    int has_logits;
    size_t payload_off, payload_len, raw_len;
    void *dec;               /* decoding state between the decode calls     */
} ai__state_file;

/* Reads and checks path.  Errors: AI_E_IO (missing, unreadable),
 * AI_E_FORMAT (not a state file, truncated, checksum), AI_E_MISMATCH
 * (another format version), AI_E_NOMEM; message in msg.  Close with
 * ai__state_close in any case. */
ai_status ai__state_open(const char *path, ai__state_file *f, char *msg, size_t cap);
/* The same for a file image in memory (malloc'd; f takes it over, also on
 * error); path only names it in messages. */
ai_status ai__state_open_mem(ai__state_file *f, uint8_t *data, size_t size, const char *path,
                             char *msg, size_t cap);
/* Decodes the tokens (and logits, when the file has them and logits is not
 * NULL) into the caller's arrays, nothing else.  Token ids are checked
 * against n_vocab.  Errors: AI_E_FORMAT, AI_E_NOMEM. */
ai_status ai__state_decode_tokens(ai__state_file *f, int32_t *tokens,
                                  float *logits, char *msg, size_t cap);
/* Then decodes the KV rows into dst (geometry already checked; stride >=
 * n_tokens) and checks that the frame ends there.  On failure dst holds
 * partial rows.  Errors: AI_E_FORMAT, AI_E_NOMEM. */
ai_status ai__state_decode_kv(ai__state_file *f, const ai__kvview *dst,
                              char *msg, size_t cap);
void ai__state_close(ai__state_file *f);

/* Test hook: when >= 0, the state writer fails (as a full disk would) once
 * that many bytes have been written to the temporary file.  -1: off. */
extern long long ai__state_fail_after;

/* ---- prefix cache (prefix_cache.c) ----------------------------------------------- */

/* The longest cached prefix of tokens[0..n) usable by s (same model and
 * geometry), at most max_n tokens and more than min_n; restored into s.
 * Returns its length, or 0 when none was restored. */
int64_t ai__pcache_restore(struct ai_prefix_cache *c, ai_session *s,
                           const int32_t *tokens, int64_t n, int64_t min_n,
                           int64_t max_n);

#endif /* AI_SESSION_H */
