/*
 * agentinfer.h - the public contract of libagentinfer.
 *
 * libagentinfer is an embeddable C library for running local AI agents: load a
 * GGUF model, tokenize, generate, embed, render the model's chat template and
 * turn the model's output into structured tool calls.
 *
 * This header is the whole public API: anything not declared here is private
 * and may change at any time.  It reads top-down, from simple to advanced:
 *
 *   1. version            5. model (GGUF loading, metadata, tensors)
 *   2. status codes       6. tokenizer
 *   3. memory, logging    7. session and generation
 *   4. options            8. embeddings, chat templates, tool calls
 *
 * Conventions that hold for every call (read these once):
 *
 *  - Errors.  Every call that can fail returns an ai_status; results come back
 *    through out-parameters.  AI_OK is 0 and every error is negative.
 *  - Ownership.  Handles are opaque and come in create/free pairs; every
 *    *_free() accepts NULL.  Input strings and buffers are copied by the call
 *    that takes them.  A returned `const char *` is owned by the handle it came
 *    from (or is static) and its lifetime is stated next to the call.  Memory
 *    the library allocates for the caller is released with ai_free().
 *  - Caller buffers.  Bulk output is written to `(buf, cap, size_t *needed)`:
 *    when `cap` is too small the call returns AI_E_RANGE and `*needed` holds the
 *    size that would have been enough.  Text output is NUL-terminated and
 *    `*needed` counts the terminator.
 *  - Text.  All text is UTF-8; paths too.
 *  - Threads.  An ai_model is read-only after load and may be shared by any
 *    number of threads.  Every other handle is used by one thread at a time.
 *    No global initialisation is required.
 *  - Error messages.  Calls that have no handle yet fill an optional caller
 *    buffer `(char *err, size_t err_cap)`: err may be NULL; otherwise at most
 *    err_cap bytes are written, always NUL-terminated.
 *
 * Binary compatibility: the library follows semantic versioning with the
 * SONAME major equal to AI_VERSION_MAJOR.  Enum values below are ABI: they are
 * only ever appended, never renumbered.  No struct is passed by value and no
 * call is variadic, so the header binds cleanly through any FFI.
 */
#ifndef AGENTINFER_H
#define AGENTINFER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* AI_API marks exported symbols.  It stands before the return type, never
 * around the name, so that each function name followed by "(" stays
 * greppable (tests/abi/check.sh depends on it). */
#if defined(_WIN32) && defined(AI_BUILDING_DLL)
#define AI_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define AI_API __attribute__((visibility("default")))
#else
#define AI_API
#endif

/* ==========================================================================
 * 1. Version
 * ========================================================================== */

#define AI_VERSION_MAJOR 0
#define AI_VERSION_MINOR 1
#define AI_VERSION_PATCH 0
#define AI_VERSION_STRING "0.1.0"
/* MAJOR*1000000 + MINOR*1000 + PATCH, as SQLite does. */
#define AI_VERSION_NUMBER                                                      \
    (AI_VERSION_MAJOR * 1000000 + AI_VERSION_MINOR * 1000 + AI_VERSION_PATCH)

/* Runtime twins of the macros above: a binding compares them with the header
 * it was written against.  The string is static.  Thread-safe.  Since 0.1. */
AI_API const char *ai_version_string(void);
AI_API int32_t ai_version_number(void);

/* ==========================================================================
 * 2. Status codes
 * ========================================================================== */

/* Values are ABI: append only, never renumber, retired codes keep their slot. */
typedef enum ai_status {
    AI_OK = 0,
    AI_DONE = 1,              /* a step/stream has no more output            */
    AI_E_INVAL = -1,          /* invalid argument (NULL handle, bad value)   */
    AI_E_NOMEM = -2,          /* out of memory                               */
    AI_E_IO = -3,             /* file system error (missing path, ...)       */
    AI_E_FORMAT = -4,         /* malformed input: GGUF, UTF-8, JSON, state   */
    AI_E_RANGE = -5,          /* caller buffer too small; *needed is set     */
    AI_E_UNKNOWN_OPT = -6,    /* option key unknown or of another type       */
    AI_E_CANCELLED = -7,      /* a callback asked to stop                    */
    AI_E_UNSUPPORTED = -8,    /* valid input this build cannot handle        */
    AI_E_CONTEXT_FULL = -9,   /* the context window has no room left         */
    AI_E_MISMATCH = -10,      /* state made by another model or version      */
    AI_E_NOT_FOUND = -11,     /* no such key, tensor, token or entry         */
    AI_E_INTERNAL = -12       /* a bug in the library; please report it      */
} ai_status;

/* A short static English description of a status ("invalid argument").
 * Unknown values give "unknown status".  Thread-safe.  Since 0.1. */
AI_API const char *ai_status_string(ai_status status);

/* ==========================================================================
 * 3. Memory and logging
 * ========================================================================== */

/* Releases memory that the library allocated for the caller (the calls that
 * do so say "free with ai_free").  NULL is fine.  Since 0.1. */
AI_API void ai_free(void *p);

typedef enum ai_log_level {
    AI_LOG_ERROR = 1,
    AI_LOG_WARN = 2,
    AI_LOG_INFO = 3,
    AI_LOG_DEBUG = 4
} ai_log_level;

/* A log sink.  `msg` is one line without a trailing newline, valid only
 * during the call.  It may be called from any thread that uses the library,
 * but never twice at the same time; it must not call back into the library. */
typedef void (*ai_log_fn)(int32_t level, const char *msg, void *user_data);

/* Installs `fn` for every message at `max_level` or more important
 * (AI_LOG_WARN passes errors and warnings).  fn == NULL silences the library,
 * which is the default.  Thread-safe: the sink and its user_data change
 * together.  Since 0.1. */
AI_API void ai_log_set(ai_log_fn fn, int32_t max_level, void *user_data);

/* ==========================================================================
 * 4. Options
 * ========================================================================== */

/* An option bag: a set of typed key/value pairs read by the call it is given
 * to (ai_model_load, ai_session_new, ...).  The call copies what it needs, so
 * the bag may be freed or changed afterwards.  A call ignores keys that do not
 * concern it.  One thread at a time. */
typedef struct ai_opts ai_opts;

/* Option keys.  The number range tells the value type (as in libcurl):
 *   100-199 integer (int64_t), 200-299 double, 300-399 UTF-8 string (copied).
 * Values are ABI: append only.  The name used by ai_opt_from_name() is given
 * in quotes; the default follows "=". */
typedef enum ai_opt {
    /* model loading */
    AI_OPT_USE_MMAP = 100,   /* "use_mmap" = 1: map the file; 0 reads it into memory */
    /* sessions (see section 7) */
    AI_OPT_N_THREADS = 101,  /* "n_threads" = number of online CPUs          */
    AI_OPT_N_CTX = 102,      /* "n_ctx" = 4096 capped by the model's training context */
    AI_OPT_N_BATCH = 103,    /* "n_batch" = 512: tokens per forward pass     */
    AI_OPT_SEED = 104,       /* "seed" = 0xA6E57 (fixed, so runs repeat)     */
    AI_OPT_TOP_K = 105,      /* "top_k" = 40; 0 disables                     */
    AI_OPT_REPEAT_LAST_N = 106, /* "repeat_last_n" = 64: penalty window      */
    AI_OPT_MAX_TOKENS = 107, /* "max_tokens" = 256: generation limit         */
    AI_OPT_TEMPERATURE = 200, /* "temperature" = 0.8; 0 means greedy         */
    AI_OPT_TOP_P = 201,      /* "top_p" = 0.95; 1 disables                   */
    AI_OPT_MIN_P = 202,      /* "min_p" = 0.05; 0 disables                   */
    AI_OPT_REPEAT_PENALTY = 203,   /* "repeat_penalty" = 1.0 (off)           */
    AI_OPT_PRESENCE_PENALTY = 204, /* "presence_penalty" = 0.0 (off)         */
    AI_OPT_FREQUENCY_PENALTY = 205, /* "frequency_penalty" = 0.0 (off)       */
    AI_OPT_CHAT_TEMPLATE = 300, /* "chat_template": overrides the model's    */
    /* chat templates (see section 8b) */
    AI_OPT_CHAT_TIME = 135,  /* "chat_time" = -1: the clock strftime_now() in a
                                template reads, as Unix seconds (formatted as
                                UTC); -1 uses the current local time        */
    AI_OPT_CHAT_VARS = 306,  /* "chat_vars": a JSON object of extra template
                                variables ({"enable_thinking": false})      */
    /* sessions (section 7) */
    AI_OPT_KV_TYPE = 115,    /* "kv_type" = AI_TYPE_F16: KV cache element
                                type, AI_TYPE_F16, AI_TYPE_F32 or AI_TYPE_Q8_0 */
    AI_OPT_PREFIX_REUSE = 124, /* "prefix_reuse" = 1: ai_session_prompt()
                                keeps the common prefix; 0 re-evaluates all */
    AI_OPT_STATE_ZSTD_LEVEL = 125, /* "state_zstd_level" = 1: zstd level of
                                state files (-5 fastest .. 19 smallest)    */
    AI_OPT_PREFIX_CACHE_MIB = 126, /* "prefix_cache_mib" = 1024: memory
                                budget of an ai_prefix_cache, in MiB        */
    /* embeddings (see section 8a) */
    AI_OPT_EMBD_POOLING = 130,   /* "embd_pooling" = -1: the model's
                                    ARCH.pooling_type (mean when absent for
                                    an encoder, last for a decoder); else an
                                    ai_pooling value                        */
    AI_OPT_EMBD_NORMALIZE = 131, /* "embd_normalize" = 1: scale each vector
                                    to unit L2 norm; 0 leaves it as it is   */
    AI_OPT_EMBD_TRUNCATE = 132,  /* "embd_truncate" = 0: a text longer than
                                    the context fails with AI_E_CONTEXT_FULL;
                                    1 cuts it (keeping a final [SEP]/EOS) and
                                    reports it                              */
    AI_OPT_EMBD_ADD_EOS = 133,   /* "embd_add_eos" = -1: decoders with last
                                    pooling get the EOS token appended when
                                    the tokenizer did not add it; 0 never,
                                    1 always (any model)                    */
    AI_OPT_EMBD_BLAS_MIN_BATCH = 134, /* "embd_blas_min_batch" = -1: encoder
                                    passes of at least this many tokens
                                    multiply through OpenBLAS sgemm (several
                                    times faster on big batches, but a text's
                                    vector then depends in the last bits on
                                    the texts batched with it); 0 never; -1
                                    as the AI_BLAS_MIN_BATCH environment
                                    variable says (off when unset)          */
    /* sections 6-8 append their keys here */
    /* kernel benchmark (section 9) */
    AI_OPT_BENCH_MIB = 145,   /* "bench_mib" = 64: MiB of weights for the
                                 matrix-vector runs (pick more than the L3) */
    AI_OPT_BENCH_BATCH = 146, /* "bench_batch" = 512: rows of the
                                 matrix-matrix runs                          */
    AI_OPT_BENCH_TYPES = 147, /* "bench_types" = 0: bit (1 << ai_type) per
                                 type to measure; 0 measures every type the
                                 kernels support                            */
} ai_opt;

/* Creates an empty bag (every option at its default).  Free with
 * ai_opts_free().  Errors: AI_E_INVAL (out NULL), AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_opts_new(ai_opts **out);
AI_API void ai_opts_free(ai_opts *opts); /* NULL is fine */

/* Typed setters.  A key of the wrong type or unknown to this library version
 * gives AI_E_UNKNOWN_OPT (so a newer application still runs on an older
 * library and can tell); a value out of the option's bounds gives
 * AI_E_INVAL.  Strings are copied; NULL resets the option to its default. */
AI_API ai_status ai_opts_set_int(ai_opts *opts, ai_opt key, int64_t value);
AI_API ai_status ai_opts_set_double(ai_opts *opts, ai_opt key, double value);
AI_API ai_status ai_opts_set_str(ai_opts *opts, ai_opt key, const char *utf8);

/* Looks a key up by its name ("n_ctx"), for bindings and configuration
 * files.  AI_E_UNKNOWN_OPT when no such option exists.  Since 0.1. */
AI_API ai_status ai_opt_from_name(const char *name, ai_opt *out);

/* ==========================================================================
 * 5. Model: GGUF loading, metadata and tensors
 * ========================================================================== */

/* A loaded model: the GGUF file (memory-mapped unless AI_OPT_USE_MMAP is 0)
 * plus what was derived from it.  Read-only after load: any number of threads
 * may use one model at the same time. */
typedef struct ai_model ai_model;

/* Loads a GGUF file (versions 2 and 3).  Tensor data is used in place, never
 * copied at load (AI_OPT_USE_MMAP).  The file is validated strictly (bounds,
 * counts, names, types, alignment, overlaps, duplicates); anything malformed
 * or in a form this library does not read (another GGUF version, big-endian
 * byte order) gives AI_E_FORMAT with a message naming the field and byte
 * offset.  A file without tensors (a vocabulary-only GGUF) loads too.
 * Errors: AI_E_INVAL (NULL path/out), AI_E_IO (missing, unreadable, a
 * directory), AI_E_FORMAT, AI_E_NOMEM.  On error *out is NULL.  `opts` may
 * be NULL.  Thread-safe.  Since 0.1. */
AI_API ai_status ai_model_load(const char *path_utf8, const ai_opts *opts,
                               ai_model **out, char *err, size_t err_cap);
/* Unmaps and frees the model.  No session made from it may still exist.
 * NULL is fine.  Since 0.1. */
AI_API void ai_model_free(ai_model *model);

/* GGUF metadata value types (the numbers are those of the file format). */
typedef enum ai_meta_type {
    AI_META_U8 = 0, AI_META_I8 = 1, AI_META_U16 = 2, AI_META_I16 = 3,
    AI_META_U32 = 4, AI_META_I32 = 5, AI_META_F32 = 6, AI_META_BOOL = 7,
    AI_META_STRING = 8, AI_META_ARRAY = 9, AI_META_U64 = 10, AI_META_I64 = 11,
    AI_META_F64 = 12
} ai_meta_type;

/* Number of metadata keys.  0 for NULL.  Since 0.1. */
AI_API size_t ai_model_meta_count(const ai_model *model);
/* The key at index i (0 <= i < count), in file order.  The string is owned by
 * the model.  Errors: AI_E_INVAL, AI_E_RANGE (i out of bounds).  Since 0.1. */
AI_API ai_status ai_model_meta_key(const ai_model *model, size_t i,
                                   const char **key);
/* Type of a value; for arrays also the element type and length (otherwise
 * elem_type is -1 and len 1).  Any out pointer may be NULL.
 * Errors: AI_E_INVAL, AI_E_NOT_FOUND.  Since 0.1. */
AI_API ai_status ai_model_meta_type(const ai_model *model, const char *key,
                                    int32_t *type, int32_t *elem_type,
                                    uint64_t *len);
/* A value as text: strings as they are, numbers in decimal, booleans as
 * true/false, arrays as JSON.  Errors: AI_E_INVAL, AI_E_NOT_FOUND, AI_E_RANGE
 * (*needed set, including the NUL).  Since 0.1. */
AI_API ai_status ai_model_meta_str(const ai_model *model, const char *key,
                                   char *buf, size_t cap, size_t *needed);
/* A value of any integer type or bool.  A u64 above INT64_MAX gives
 * AI_E_RANGE.  Other types give AI_E_INVAL.  Since 0.1. */
AI_API ai_status ai_model_meta_int(const ai_model *model, const char *key,
                                   int64_t *value);
/* A value of any numeric type.  Other types give AI_E_INVAL.  Since 0.1. */
AI_API ai_status ai_model_meta_float(const ai_model *model, const char *key,
                                     double *value);
/* Length of an array value (AI_E_INVAL if the value is not an array). */
AI_API ai_status ai_model_meta_arr_len(const ai_model *model, const char *key,
                                       uint64_t *len);

/* Tensor element types (the numbers are those of the GGUF format). */
typedef enum ai_type {
    AI_TYPE_F32 = 0, AI_TYPE_F16 = 1, AI_TYPE_Q4_0 = 2, AI_TYPE_Q4_1 = 3,
    AI_TYPE_Q5_0 = 6, AI_TYPE_Q5_1 = 7, AI_TYPE_Q8_0 = 8, AI_TYPE_Q8_1 = 9,
    AI_TYPE_Q2_K = 10, AI_TYPE_Q3_K = 11, AI_TYPE_Q4_K = 12, AI_TYPE_Q5_K = 13,
    AI_TYPE_Q6_K = 14, AI_TYPE_Q8_K = 15, AI_TYPE_IQ2_XXS = 16,
    AI_TYPE_IQ2_XS = 17, AI_TYPE_IQ3_XXS = 18, AI_TYPE_IQ1_S = 19,
    AI_TYPE_IQ4_NL = 20, AI_TYPE_IQ3_S = 21, AI_TYPE_IQ2_S = 22,
    AI_TYPE_IQ4_XS = 23, AI_TYPE_I8 = 24, AI_TYPE_I16 = 25, AI_TYPE_I32 = 26,
    AI_TYPE_I64 = 27, AI_TYPE_F64 = 28, AI_TYPE_IQ1_M = 29, AI_TYPE_BF16 = 30,
    AI_TYPE_TQ1_0 = 34, AI_TYPE_TQ2_0 = 35, AI_TYPE_MXFP4 = 39
} ai_type;

/* Lower-case name of a type ("q4_k"), static; NULL for an unknown value. */
AI_API const char *ai_type_name(int32_t type);

/* Number of tensors.  0 for NULL.  Since 0.1. */
AI_API size_t ai_model_tensor_count(const ai_model *model);
/* Tensor i, in file order: its name (owned by the model), ai_type, number of
 * dimensions (1..4) and dimensions, fastest-varying first, written to the
 * caller's array of 4 (unused entries are 1).  Any out pointer may be NULL.
 * Errors: AI_E_INVAL, AI_E_RANGE (i out of bounds).  Since 0.1. */
AI_API ai_status ai_model_tensor_info(const ai_model *model, size_t i,
                                      const char **name, int32_t *type,
                                      int32_t *n_dims, int64_t dims[4]);

/* ==========================================================================
 * 6. Tokenizer
 * ========================================================================== */

/* The tokenizer comes from the model's tokenizer.ggml.* metadata: SentencePiece
 * ("llama"), byte-level BPE ("gpt2", with the pre-tokenizer named by
 * tokenizer.ggml.pre) or WordPiece ("bert").  A vocabulary-only GGUF file (no
 * tensors) loads and tokenizes.  Every call below is read-only on the model:
 * any number of threads may tokenize with one model at the same time.  Calls
 * on a model without a (supported) tokenizer give AI_E_UNSUPPORTED.
 *
 * The ids are those of the model's reference tokenizer: byte-level BPE
 * applies NFC first where the reference does (tokenizer.ggml.pre "qwen2");
 * WordPiece follows uncased BERT (lower-case, accents stripped, punctuation
 * and CJK ideographs split off), so its detokenized text is not the input.
 * An unknown tokenizer.ggml.pre falls back to the GPT-2 pattern and logs a
 * warning at load.
 *
 * Invalid UTF-8 in the input never fails: each byte that does not start a
 * well-formed UTF-8 sequence (stray continuation byte, overlong form,
 * surrogate, value above U+10FFFF, truncated sequence) is replaced by U+FFFD
 * before tokenizing, one U+FFFD per byte. */

/* Flags of ai_tokenize() (bits, combine with |). */
#define AI_TOKENIZE_ADD_SPECIAL 1u   /* add BOS/EOS (CLS/SEP) as the model's
                                        add_bos/add_eos flags ask           */
#define AI_TOKENIZE_PARSE_SPECIAL 2u /* recognise the text of control tokens
                                        ("<|im_start|>") as those tokens      */
/* Flag of ai_token_to_piece(), ai_detokenize() and ai_detokenizer_new(). */
#define AI_DETOKENIZE_RENDER_SPECIAL 4u /* write control tokens' text instead
                                           of nothing                       */
#define AI_DETOKENIZE_CONTINUE 8u       /* ai_detokenizer_new(): the text goes
                                           on from earlier text (a prompt), so
                                           a leading space is kept instead of
                                           being dropped as at the start of a
                                           text.  Since 0.1.                */

/* Token attributes (bits), from the GGUF token types. */
#define AI_TOKEN_ATTR_NORMAL 1u
#define AI_TOKEN_ATTR_UNKNOWN 2u
#define AI_TOKEN_ATTR_CONTROL 4u      /* BOS, EOS, <|im_start|>, ...         */
#define AI_TOKEN_ATTR_USER_DEFINED 8u /* added tokens: always recognised in text */
#define AI_TOKEN_ATTR_UNUSED 16u
#define AI_TOKEN_ATTR_BYTE 32u        /* SentencePiece byte fallback <0xXX>  */
#define AI_TOKEN_ATTR_EOG 64u         /* ends generation: EOS, EOT, <|im_end|>, ... */

/* Turns `len` bytes of UTF-8 text into token ids, written to out[0..cap).
 * *n receives the number of tokens.  Without AI_TOKENIZE_PARSE_SPECIAL the
 * text of control tokens is tokenized as plain text (user-defined tokens are
 * still recognised, as the reference tokenizers do).  `text` may be NULL when
 * len is 0.  A cap of 3 * len + 3 is always enough (on AI_E_RANGE the work
 * was done for nothing, so size generously).
 * Errors: AI_E_INVAL (NULL model or n, NULL text with len > 0, unknown flag
 * bits), AI_E_UNSUPPORTED (no tokenizer), AI_E_RANGE (cap too small: *n holds
 * the count needed and out is left unspecified), AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_tokenize(const ai_model *model, const char *text, size_t len,
                             uint32_t flags, int32_t *out, size_t cap, size_t *n);

/* The bytes one token stands for, plus a NUL: "▁Hello" gives " Hello", a
 * byte token <0xE2> gives the single byte 0xE2 (so a piece may be part of a
 * UTF-8 character, or a NUL byte: the piece length is *needed - 1).  Control
 * tokens give "" unless flags has AI_DETOKENIZE_RENDER_SPECIAL; unknown and
 * user-defined tokens give their text (SentencePiece: "▁" as a space).
 * Errors: AI_E_INVAL (NULL model, token out of range), AI_E_UNSUPPORTED,
 * AI_E_RANGE (*needed set).  Since 0.1. */
AI_API ai_status ai_token_to_piece(const ai_model *model, int32_t token, uint32_t flags,
                                   char *buf, size_t cap, size_t *needed);

/* The text of a token sequence: the pieces joined, except that the leading
 * space SentencePiece and WordPiece put on the first word is dropped, so that
 * detokenize(tokenize(s)) == s for SentencePiece and byte-level BPE (for
 * Qwen-style vocabularies, s in NFC).  The bytes are written as they are,
 * valid UTF-8 or not, plus a NUL.  Errors: AI_E_INVAL (NULL model, NULL tokens
 * with n > 0, a token out of range), AI_E_UNSUPPORTED, AI_E_RANGE (*needed
 * set, including the NUL).  Since 0.1. */
AI_API ai_status ai_detokenize(const ai_model *model, const int32_t *tokens, size_t n,
                               uint32_t flags, char *buf, size_t cap, size_t *needed);

/* A streaming detokenizer: feed tokens one at a time and get text that only
 * ever contains complete, valid UTF-8 characters.  Bytes of a character that
 * is still incomplete are held back until a later token completes it; bytes
 * that can never form a valid character come out as U+FFFD (one per byte).
 * The model must outlive it.  One thread at a time. */
typedef struct ai_detokenizer ai_detokenizer;

/* flags: AI_DETOKENIZE_RENDER_SPECIAL and/or AI_DETOKENIZE_CONTINUE.  Free
 * with ai_detokenizer_free().
 * Errors: AI_E_INVAL, AI_E_UNSUPPORTED, AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_detokenizer_new(const ai_model *model, uint32_t flags,
                                    ai_detokenizer **out);
AI_API void ai_detokenizer_free(ai_detokenizer *d); /* NULL is fine */
/* Adds one token and writes the text that became complete (possibly "") plus
 * a NUL to buf.  On AI_E_RANGE (*needed set) the token was not consumed:
 * call again with a larger buffer.  Errors: AI_E_INVAL (token out of range),
 * AI_E_RANGE, AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_detokenizer_push(ai_detokenizer *d, int32_t token, char *buf,
                                     size_t cap, size_t *needed);
/* Ends the stream: writes what is held back (an incomplete character becomes
 * U+FFFD per byte) and resets the detokenizer for a new text.  Errors:
 * AI_E_INVAL, AI_E_RANGE (nothing consumed).  Since 0.1. */
AI_API ai_status ai_detokenizer_flush(ai_detokenizer *d, char *buf, size_t cap,
                                      size_t *needed);

/* Number of tokens in the vocabulary; 0 for NULL or a model without one.
 * Since 0.1. */
AI_API size_t ai_vocab_size(const ai_model *model);

/* Which special token ai_vocab_special() looks up. */
typedef enum ai_special_token {
    AI_SPECIAL_BOS = 0, AI_SPECIAL_EOS = 1, AI_SPECIAL_EOT = 2,
    AI_SPECIAL_EOM = 3, AI_SPECIAL_UNK = 4, AI_SPECIAL_SEP = 5,
    AI_SPECIAL_PAD = 6, AI_SPECIAL_CLS = 7, AI_SPECIAL_MASK = 8,
    AI_SPECIAL_NL = 9  /* the token of "\n" */
} ai_special_token;

/* The id of a special token.  Errors: AI_E_INVAL (NULL, unknown `which`),
 * AI_E_UNSUPPORTED (no tokenizer), AI_E_NOT_FOUND (the model has none).
 * Since 0.1. */
AI_API ai_status ai_vocab_special(const ai_model *model, int32_t which, int32_t *id);

/* AI_TOKEN_ATTR_* bits of a token.  Errors: AI_E_INVAL (NULL, out of range),
 * AI_E_UNSUPPORTED.  Since 0.1. */
AI_API ai_status ai_token_attr(const ai_model *model, int32_t token, uint32_t *attr);

/* The token's text exactly as stored in the vocabulary ("▁Hello", "Ġworld",
 * "<0x0A>"), owned by the model and NOT NUL-terminated: *len bytes.
 * Errors: AI_E_INVAL, AI_E_UNSUPPORTED.  Since 0.1. */
AI_API ai_status ai_token_text(const ai_model *model, int32_t token, const char **text,
                               size_t *len);

/* ==========================================================================
 * 7. Session and generation
 * ========================================================================== */

/* A session runs a decoder model: it owns a KV cache (the context window), a
 * thread pool, the logits of the last evaluation and a sampler.  Many
 * sessions may share one model, each on its own thread; one session is used
 * by one thread at a time.
 *
 * The usual loop: ai_session_eval() the prompt tokens (from ai_tokenize),
 * then call ai_session_step() until it returns AI_DONE, or hand a callback
 * to ai_session_generate().  Lower level: ai_session_next_token() samples and
 * evaluates one token; ai_session_logits() and ai_session_sample() give the
 * logits and the sampler's choice.
 *
 * Options read by ai_session_new(): AI_OPT_N_CTX, AI_OPT_N_THREADS,
 * AI_OPT_N_BATCH, AI_OPT_KV_TYPE, AI_OPT_PREFIX_REUSE,
 * AI_OPT_STATE_ZSTD_LEVEL and the sampling options below. */
typedef struct ai_session ai_session;

/* Flags of ai_session_eval(). */
typedef enum ai_eval_flag {
    AI_EVAL_LOGITS_ALL = 1   /* keep the logits of every evaluated position,
                                not only the last one's                      */
} ai_eval_flag;

/* Cancellation callback: asked between batches of a long evaluation and
 * between tokens of a generation; non-zero stops the call with
 * AI_E_CANCELLED.  It runs on the session's thread. */
typedef int (*ai_cancel_fn)(void *user_data);

/* Receives one piece of generated text (UTF-8, complete characters, not
 * NUL-terminated, valid during the call).  Non-zero stops the generation. */
typedef int (*ai_piece_fn)(const char *piece, size_t len, void *user_data);

/* Creates a session on a decoder model: allocates the KV cache for
 * AI_OPT_N_CTX positions (default 4096, capped by the model's training
 * context) and starts AI_OPT_N_THREADS threads.  The model must outlive the
 * session.  Free with ai_session_free().  `opts` may be NULL; it is read only
 * during the call.  Errors: AI_E_INVAL (NULL model/out, bad option value),
 * AI_E_UNSUPPORTED (the model has no decoder weights: a vocabulary-only file,
 * an encoder; or an unsupported KV cache type), AI_E_NOMEM.  The message goes
 * to (err, err_cap).  On error *out is NULL.  Thread-safe with respect to the
 * model.  Since 0.1. */
AI_API ai_status ai_session_new(const ai_model *model, const ai_opts *opts,
                                ai_session **out, char *err, size_t err_cap);
/* Frees the session and stops its threads.  NULL is fine.  Since 0.1. */
AI_API void ai_session_free(ai_session *session);

/* The message of the session's last failed call ("" when none).  Owned by
 * the session, valid until its next call.  Since 0.1. */
AI_API const char *ai_session_errmsg(const ai_session *session);

/* Size of the context window, the number of positions filled, and the
 * vocabulary size (the length of a row of logits).  0 for NULL.  Since 0.1. */
AI_API int32_t ai_session_n_ctx(const ai_session *session);
AI_API int32_t ai_session_n_past(const ai_session *session);
AI_API int32_t ai_session_n_vocab(const ai_session *session);

/* Appends n tokens to the context and runs them through the model in batches
 * of AI_OPT_N_BATCH.  Afterwards ai_session_logits() reads the logits of the
 * last token, or of every token when flags has AI_EVAL_LOGITS_ALL.  It also
 * starts a new generation: the count towards AI_OPT_MAX_TOKENS and the text
 * held by ai_session_step() are reset.  The cancel callback is asked
 * before each batch; a cancelled or failed call leaves the context at the
 * tokens of the batches that completed (see ai_session_n_past).
 * Errors: AI_E_INVAL (NULL, n == 0, a token outside the vocabulary),
 * AI_E_CONTEXT_FULL (n_past + n > n_ctx: nothing is evaluated, nothing is
 * truncated), AI_E_CANCELLED, AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_session_eval(ai_session *session, const int32_t *tokens,
                                 size_t n, int32_t flags);

/* Copies one row of logits of the last evaluation (n_vocab floats) into buf.
 * row is the index into that evaluation's tokens when it kept all logits,
 * and -1 for the last token in any case.  `cap` and `*needed` count floats.
 * Errors: AI_E_INVAL (NULL, nothing evaluated yet), AI_E_RANGE (row not
 * kept, or cap too small: *needed set).  Since 0.1. */
AI_API ai_status ai_session_logits(const ai_session *session, int32_t row,
                                   float *buf, size_t cap, size_t *needed);

/* Forgets every position from n_past on (0 clears the context), so that a
 * new prompt can reuse a common prefix.  The logits are dropped too.
 * Errors: AI_E_INVAL (NULL, n_past < 0 or beyond the filled part).
 * Since 0.1. */
AI_API ai_status ai_session_rewind(ai_session *session, int32_t n_past);

/* Installs (or with fn == NULL removes) the cancellation callback.
 * Since 0.1. */
AI_API ai_status ai_session_set_cancel(ai_session *session, ai_cancel_fn fn,
                                       void *user_data);

/* Re-reads the sampling options from `opts` (AI_OPT_TEMPERATURE, TOP_K,
 * TOP_P, MIN_P, REPEAT_PENALTY, PRESENCE_PENALTY, FREQUENCY_PENALTY,
 * REPEAT_LAST_N, MAX_TOKENS and SEED, which restarts the random sequence);
 * keys not set in opts take their defaults.  Errors: AI_E_INVAL.
 * Since 0.1. */
AI_API ai_status ai_session_set_sampling(ai_session *session,
                                         const ai_opts *opts);

/* Picks a token from the last logits with the session's sampler.  The
 * penalties look at the last AI_OPT_REPEAT_LAST_N tokens of the context.
 * The same seed and the same calls give the same tokens whatever the
 * thread count.  Nothing is evaluated.  Errors: AI_E_INVAL (NULL, nothing
 * evaluated yet).  Since 0.1. */
AI_API ai_status ai_session_sample(ai_session *session, int32_t *token);

/* One token of generation: samples it, and unless it ends the generation
 * evaluates it so that the next call can follow.  Returns AI_OK with
 * *token set, or AI_DONE (and *token = -1) when the sampled token is an
 * end-of-generation token of the model (EOS, EOT, ...; it is not
 * evaluated) or AI_OPT_MAX_TOKENS tokens were generated since the last
 * ai_session_eval().  Stop strings do not apply at this level.
 * Errors: as ai_session_eval; AI_E_CONTEXT_FULL when no position is left.
 * Since 0.1. */
AI_API ai_status ai_session_next_token(ai_session *session, int32_t *token);

/* Adds a stop string (copied; len bytes of UTF-8): generation through
 * ai_session_step() ends where the text first contains one, and the stop
 * string and what follows are not returned.  Errors: AI_E_INVAL (NULL,
 * len 0), AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_session_add_stop(ai_session *session, const char *utf8,
                                     size_t len);
/* Removes every stop string.  Since 0.1. */
AI_API ai_status ai_session_clear_stops(ai_session *session);

/* Pull-style generation: produces the next piece of text, a NUL-terminated
 * run of complete UTF-8 characters (never empty), sampling and evaluating
 * as many tokens as that takes.  Text that could be the start of a stop
 * string is held back until it is known not to be one.  Returns AI_DONE
 * (and "") once the generation has ended: an end-of-generation token, a
 * stop string, or AI_OPT_MAX_TOKENS tokens since the last ai_session_eval();
 * the next ai_session_eval() starts a new one.  On AI_E_RANGE *needed holds
 * the size required and the piece stays for the next call.
 * Errors: AI_E_INVAL (NULL, nothing evaluated), AI_E_UNSUPPORTED (the model
 * has no tokenizer), AI_E_RANGE, AI_E_CONTEXT_FULL, AI_E_CANCELLED (the
 * cancel callback), AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_session_step(ai_session *session, char *buf, size_t cap,
                                 size_t *needed);

/* Push-style generation: calls ai_session_step() until the generation ends
 * and hands each piece to fn (on this thread).  fn returning non-zero stops
 * the generation with AI_E_CANCELLED.  Returns AI_OK when the generation
 * ended normally, else the error of the step.  Since 0.1. */
AI_API ai_status ai_session_generate(ai_session *session, ai_piece_fn fn,
                                     void *user_data);

/* ---- 7.1 Prefix reuse, snapshots, forks, state files, prefix cache -------
 *
 * An agent re-sends its whole conversation at every step.  The session
 * remembers which tokens its KV cache holds, so ai_session_prompt() only
 * evaluates what changed.  Snapshots and forks copy that state in memory (to
 * try a branch and roll back, or run two plans from one prefix); state
 * files keep it across processes; a prefix cache keeps warm prefixes (a
 * system prompt with its tool definitions) for new sessions.
 *
 * "State" below means: the tokens of the context, their KV cache rows and,
 * when available, the logits after the last token.  It never includes the
 * options, the sampler (its random sequence), stop strings or the cancel
 * callback; those stay with the session. */

/* Makes the context exactly tokens[0..n) and evaluates only what is new:
 * the longest common prefix of the current context and `tokens` is kept,
 * the context is cut back where they diverge, and the rest is evaluated as
 * ai_session_eval() would.  The last token is always evaluated, so its
 * logits are fresh.  If a prefix cache is attached and holds a longer prefix
 * of `tokens` than the context shares, that entry is restored first.  The
 * resulting logits are bit for bit those of evaluating `tokens` into an
 * empty context.  With AI_EVAL_LOGITS_ALL, row r of ai_session_logits() is
 * position ai_session_n_reused() + r.  AI_OPT_PREFIX_REUSE = 0 clears the
 * context and evaluates everything.  Like ai_session_eval() it starts a new
 * generation.  Errors: AI_E_INVAL (NULL, n == 0, a token outside the
 * vocabulary) and AI_E_CONTEXT_FULL (n > n_ctx) leave the context
 * unchanged; AI_E_CANCELLED, AI_E_NOMEM and kernel errors leave the kept
 * prefix plus the batches that completed.  Since 0.1. */
AI_API ai_status ai_session_prompt(ai_session *session, const int32_t *tokens,
                                   size_t n, int32_t flags);

/* How many positions the last ai_session_prompt() kept instead of
 * evaluating (from the context or the prefix cache); 0 before the first
 * call and for NULL.  Since 0.1. */
AI_API int32_t ai_session_n_reused(const ai_session *session);

/* Copies the tokens of the context (ai_session_n_past() of them) into buf;
 * `cap` and `*needed` count tokens.  Errors: AI_E_INVAL (NULL session),
 * AI_E_RANGE (*needed set).  Since 0.1. */
AI_API ai_status ai_session_tokens(const ai_session *session, int32_t *buf,
                                   size_t cap, size_t *needed);

/* An in-memory copy of a session's state.  Immutable: any number of
 * threads may restore one snapshot at the same time.  It does not refer to
 * the session it came from, only to the model, which must outlive it. */
typedef struct ai_snapshot ai_snapshot;

/* Copies the session's state into a new snapshot (memory: the KV rows of
 * ai_session_n_past() positions).  Free with ai_snapshot_free().
 * Errors: AI_E_INVAL (NULL), AI_E_NOMEM (message on the session).
 * Since 0.1. */
AI_API ai_status ai_session_snapshot(ai_session *session, ai_snapshot **out);

/* Replaces the session's state with the snapshot's, in any session of the
 * same model (or an identical copy of it) with the same KV cache type and
 * enough context.  Afterwards ai_session_step()/next_token() continue from
 * the snapshot's last token exactly as the original session would have
 * (same logits; sampling as the session's own sampler decides).  Starts a
 * new generation.  Errors: AI_E_INVAL (NULL), AI_E_MISMATCH (another
 * model, KV type or RoPE variant), AI_E_CONTEXT_FULL (more tokens than
 * n_ctx), AI_E_NOMEM; on error the session is unchanged.  Since 0.1. */
AI_API ai_status ai_session_restore(ai_session *session,
                                    const ai_snapshot *snapshot);

/* Bytes the session's state takes uncompressed (the KV rows of its
 * ai_session_n_past() positions, the tokens and the last logits): what a
 * snapshot holds, and what a state file holds before compression.  0 for
 * NULL.  Since 0.1. */
AI_API int64_t ai_session_state_size(const ai_session *session);

/* Number of tokens in a snapshot; 0 for NULL.  Since 0.1. */
AI_API int32_t ai_snapshot_n_tokens(const ai_snapshot *snapshot);
/* Frees a snapshot.  NULL is fine.  Since 0.1. */
AI_API void ai_snapshot_free(ai_snapshot *snapshot);

/* A new, independent session with the same model, options (context, batch,
 * threads, KV type, sampling, including the sampler's current random
 * state), stop strings and state as `session`; the cancel callback and the
 * prefix cache are not carried over.  The two then evolve separately.
 * Free with ai_session_free().  Errors: AI_E_INVAL (NULL), AI_E_NOMEM; the
 * message goes to (err, err_cap); on error *out is NULL.  Since 0.1. */
AI_API ai_status ai_session_fork(ai_session *session, ai_session **out,
                                 char *err, size_t err_cap);

/* Writes the session's state to a file, compressed with zstd at
 * AI_OPT_STATE_ZSTD_LEVEL (read at ai_session_new).  The file starts with a
 * header holding a format version and a fingerprint of the model (its
 * architecture, shapes, tensor types and a sample of its weights) and ends
 * with a checksum.  The write is atomic: a temporary file next to `path` is
 * written, flushed to disk (fsync) and renamed over `path`, so a failure or
 * a crash leaves the previous file intact.  The file is created with mode
 * 0600 (it holds the conversation).  Errors: AI_E_INVAL (NULL), AI_E_IO
 * (cannot create, write or rename; message says which), AI_E_NOMEM.
 * Since 0.1. */
AI_API ai_status ai_session_save(ai_session *session, const char *path_utf8);

/* Replaces the session's state with a state file's.  Everything is checked
 * before the session is touched: on any error the session is unchanged.
 * Errors: AI_E_INVAL (NULL), AI_E_IO (missing or unreadable file),
 * AI_E_FORMAT (not a state file, empty, truncated or corrupted: checksum),
 * AI_E_MISMATCH (made by another model, another KV cache type or RoPE
 * variant, or another format version), AI_E_CONTEXT_FULL (more tokens than
 * n_ctx), AI_E_NOMEM.  The message names the reason.  Since 0.1. */
AI_API ai_status ai_session_load(ai_session *session, const char *path_utf8);

/* A cache of prefixes (tokens and their KV rows) of one model, keyed by a
 * hash of the tokens, so that new sessions start warm.  Its memory is
 * bounded by AI_OPT_PREFIX_CACHE_MIB; when a new entry does not fit, the
 * least recently used entries are evicted.  Thread-safe: one cache may serve
 * sessions on several threads (its calls take an internal lock). */
typedef struct ai_prefix_cache ai_prefix_cache;

/* Creates an empty cache for `model` (which must outlive it).  Reads
 * AI_OPT_PREFIX_CACHE_MIB and AI_OPT_STATE_ZSTD_LEVEL (for
 * ai_prefix_cache_save); opts may be NULL.  Free with
 * ai_prefix_cache_free().  Errors: AI_E_INVAL, AI_E_UNSUPPORTED (the model
 * has no decoder weights), AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_prefix_cache_new(const ai_model *model, const ai_opts *opts,
                                     ai_prefix_cache **out);
/* Frees the cache.  No session may still use it.  NULL is fine.
 * Since 0.1. */
AI_API void ai_prefix_cache_free(ai_prefix_cache *cache);

/* Stores the first n_tokens positions of the session's context (for
 * instance the system prompt and tool definitions), evicting least recently
 * used entries to stay within the budget.  Storing a prefix already present
 * only marks it as used.  Errors: AI_E_INVAL (NULL, n_tokens < 1 or beyond
 * ai_session_n_past()), AI_E_MISMATCH (a session of another model),
 * AI_E_NOMEM (out of memory, or the entry alone exceeds the budget); the
 * message is on the session.  Since 0.1. */
AI_API ai_status ai_prefix_cache_put(ai_prefix_cache *cache, ai_session *session,
                                     int32_t n_tokens);

/* Attaches a cache (borrowed: it must outlive the attachment) that
 * ai_session_prompt() consults, or detaches with NULL.  Errors: AI_E_INVAL
 * (NULL session), AI_E_MISMATCH (a cache of another model).  Since 0.1. */
AI_API ai_status ai_session_set_prefix_cache(ai_session *session,
                                             ai_prefix_cache *cache);

/* Entries held and their memory in bytes; either pointer may be NULL.
 * Errors: AI_E_INVAL (NULL cache).  Since 0.1. */
AI_API ai_status ai_prefix_cache_stats(ai_prefix_cache *cache, int64_t *n_entries,
                                       int64_t *bytes);

/* Writes every entry as a state file "prefix-<16 hex digits>.aistate" in
 * the folder dir_utf8 (which must exist), each atomically as
 * ai_session_save does; files already there for the same prefix are
 * replaced, others are left alone.  Errors: AI_E_INVAL, AI_E_IO,
 * AI_E_NOMEM; the message goes to (err, err_cap).  Since 0.1. */
AI_API ai_status ai_prefix_cache_save(ai_prefix_cache *cache, const char *dir_utf8,
                                      char *err, size_t err_cap);

/* Adds the entries of the "*.aistate" files of a folder written by
 * ai_prefix_cache_save (or ai_session_save) that belong to this model;
 * files of other models or versions, and damaged files, are skipped and
 * counted in *n_skipped (may be NULL).  Entries beyond the budget evict as
 * ai_prefix_cache_put does.  *n_loaded (may be NULL) gets the number of
 * entries added.  Errors: AI_E_INVAL, AI_E_IO (cannot read the folder),
 * AI_E_NOMEM; message in (err, err_cap).  Since 0.1. */
AI_API ai_status ai_prefix_cache_load(ai_prefix_cache *cache, const char *dir_utf8,
                                      int32_t *n_loaded, int32_t *n_skipped,
                                      char *err, size_t err_cap);

/* ==========================================================================
 * 8a. Embeddings
 * ========================================================================== */

/* One vector per text (or per token) for retrieval and similarity: BERT-family
 * encoders ("bert", "nomic-bert") read the whole text with bidirectional
 * attention; decoders (llama, qwen2, qwen3, phi3, e.g. Qwen3-Embedding) run
 * their usual causal pass and the final normed hidden states are pooled.
 *
 * A text is tokenized with the model's special tokens ([CLS] ... [SEP], BOS,
 * EOS as the tokenizer's flags ask; control-token text is not parsed), so
 * the empty text still gives [CLS] [SEP] for BERT.  Invalid UTF-8 is
 * replaced as section 6 says, never an error.  The token vectors are pooled
 * (ai_pooling) and, by default, scaled to unit length, so that the cosine
 * similarity of two results is their dot product.
 *
 * Options read by ai_embedder_new(): AI_OPT_EMBD_POOLING, _NORMALIZE,
 * _TRUNCATE, _ADD_EOS, _BLAS_MIN_BATCH; AI_OPT_N_THREADS; AI_OPT_N_CTX (longest text in
 * tokens; default and maximum the model's training context for encoders,
 * 4096 capped by it for decoders); AI_OPT_N_BATCH (tokens per forward pass,
 * default 2048 for encoders and 512 for decoders; an encoder pass holds at
 * least one whole text, so it is raised to n_ctx if smaller); AI_OPT_KV_TYPE
 * (decoders). */

/* How the vectors of a text's tokens become one (values as ARCH.pooling_type
 * in GGUF; ABI).  NONE returns every token's vector. */
typedef enum ai_pooling {
    AI_POOLING_NONE = 0,
    AI_POOLING_MEAN = 1,     /* average over all tokens, [CLS]/[SEP] included */
    AI_POOLING_CLS = 2,      /* the first token's vector                      */
    AI_POOLING_LAST = 3      /* the last token's vector (decoder embedders)   */
} ai_pooling;

/* Width of the model's embeddings (its hidden size): the number of floats
 * of one vector.  0 for NULL or a model without weights.  Thread-safe.
 * Since 0.1. */
AI_API int32_t ai_model_embedding_dim(const ai_model *model);

/* An embedder: the scratch memory of the forward pass and a thread pool on
 * a shared model.  One thread at a time; make one per thread to embed in
 * parallel. */
typedef struct ai_embedder ai_embedder;

/* Creates an embedder.  The model must outlive it.  `opts` may be NULL; it is
 * read only during the call.  Free with ai_embedder_free().  Errors:
 * AI_E_INVAL (NULL model/out, bad option value), AI_E_UNSUPPORTED (the model
 * has no tokenizer or no weights, pooling not valid for it), AI_E_NOMEM.
 * Message in (err, err_cap).  On error *out is NULL.  Since 0.1. */
AI_API ai_status ai_embedder_new(const ai_model *model, const ai_opts *opts,
                                 ai_embedder **out, char *err, size_t err_cap);
/* Frees it and stops its threads.  NULL is fine.  Since 0.1. */
AI_API void ai_embedder_free(ai_embedder *embedder);
/* The message of the embedder's last failed call ("" when none).  Owned by
 * the embedder, valid until its next call.  Since 0.1. */
AI_API const char *ai_embedder_errmsg(const ai_embedder *embedder);
/* The pooling in effect (ai_pooling value).  -1 for NULL.  Since 0.1. */
AI_API int32_t ai_embedder_pooling(const ai_embedder *embedder);

/* Embeds one text (len bytes of UTF-8; text may be NULL when len is 0) into
 * out[0..cap): ai_model_embedding_dim() floats, or n_tokens times that with
 * AI_POOLING_NONE (one row per token, in order).  `cap` and *needed count
 * floats; *needed is always set.  n_tokens (may be NULL) gets the number of
 * tokens embedded; truncated (may be NULL) gets 1 when the text was cut to
 * the context (AI_OPT_EMBD_TRUNCATE), else 0.  The size is checked before
 * any computation, so a call with out NULL and cap 0 is a cheap query.
 * Errors: AI_E_INVAL (NULL embedder, text NULL with len > 0, a text with no
 * tokens at all), AI_E_CONTEXT_FULL (the text has more tokens than n_ctx and
 * truncation is off; nothing written), AI_E_RANGE (cap < *needed), AI_E_NOMEM.
 * Since 0.1. */
AI_API ai_status ai_embed(ai_embedder *embedder, const char *text, size_t len,
                          float *out, size_t cap, size_t *needed,
                          int32_t *n_tokens, int32_t *truncated);

/* Embeds n_texts texts in as few forward passes as AI_OPT_N_BATCH allows
 * (encoders put several texts into one pass, each attending only to its own
 * tokens; decoders run one text after another).  texts[i] has lens[i] bytes;
 * lens may be NULL for NUL-terminated texts.  The vectors are written one
 * after another (text i at out + i * dim, or with AI_POOLING_NONE the token
 * rows of text 0, then of text 1, ...), each equal to what ai_embed() gives
 * for that text alone (bit for bit, unless AI_OPT_EMBD_BLAS_MIN_BATCH or
 * AI_BLAS_MIN_BATCH sends big passes through sgemm: then equal up to float
 * rounding).  n_tokens and truncated (may be NULL) are arrays of
 * n_texts entries.  Errors: as ai_embed(); the message names the first
 * failing text.  Since 0.1. */
AI_API ai_status ai_embed_batch(ai_embedder *embedder, const char *const *texts,
                                const size_t *lens, size_t n_texts, float *out,
                                size_t cap, size_t *needed, int32_t *n_tokens,
                                int32_t *truncated);

/* ==========================================================================
 * 8b. Chat templates
 * ========================================================================== */

/* A model carries its prompt format as a Jinja template in its GGUF metadata
 * (`tokenizer.chat_template`).  These calls render a conversation with it,
 * the way Hugging Face transformers' apply_chat_template() does: Jinja2 with
 * trim_blocks and lstrip_blocks, the template variables `messages`, `tools`
 * (the list, or none), `documents` (none), `add_generation_prompt`,
 * `bos_token`, `eos_token`, the functions raise_exception() and
 * strftime_now(), and `tojson` as Hugging Face defines it (non-ASCII kept,
 * separators ", " and ": ", key order as given).
 *
 * Inputs are OpenAI-style JSON:
 *   messages_json  an array of {"role": "system"|"user"|"assistant"|"tool",
 *                  "content": ..., "tool_calls": [...], "tool_call_id": ...,
 *                  "name": ..., "reasoning_content": ...}; every key is passed
 *                  to the template as it is.
 *   tools_json     NULL, "null", or an array of {"type": "function",
 *                  "function": {"name", "description", "parameters"}}.
 * Options read from `opts` (may be NULL): AI_OPT_CHAT_TEMPLATE (use this
 * template instead of the model's), AI_OPT_CHAT_VARS (extra variables; they
 * override the standard ones), AI_OPT_CHAT_TIME (pins strftime_now()).
 *
 * The renderer implements the subset of Jinja2 real chat templates use
 * (statements for/if/set/macro/filter/break/continue, Python string and dict
 * methods, the common filters and tests).  A template that raises, uses an
 * unsupported feature or runs too long is an error, never a crash: every
 * render has a step limit (20 million evaluation steps: AI_E_FORMAT, "step
 * limit exceeded") and a memory limit (256 MiB: AI_E_NOMEM).
 *
 * Output is written to (out, cap, needed) as UTF-8 text plus a NUL; the text
 * itself may contain NUL bytes when the messages do ("\u0000"), so use
 * *needed - 1 as its length.  The error buffer (err, err_cap) gets one line:
 * "line N: reason" for template errors, "line N: raise_exception: <the
 * template's message>" when the template raises, or what is wrong with the
 * JSON ("messages: ..." / "tools: ..." / "chat_vars: ...").
 *
 * Errors: AI_E_INVAL (NULL arguments, no template source at all),
 * AI_E_FORMAT (malformed JSON or template, the template raised or failed
 * while rendering), AI_E_UNSUPPORTED (the template uses a Jinja feature this
 * library does not implement), AI_E_RANGE (cap too small; *needed set),
 * AI_E_NOMEM.  On AI_E_RANGE call again with a buffer of *needed bytes (the
 * render is repeated).  Thread-safe: a model may be shared; each call is
 * independent. */

/* Flags for the render calls (OR them together). */
typedef enum ai_chat_flag {
    AI_CHAT_ADD_GENERATION_PROMPT = 1, /* end with the opening of an assistant
                                          turn (add_generation_prompt=true)  */
    AI_CHAT_PARSE_ARGUMENTS = 2        /* messages[].tool_calls[].function.
                                          arguments given as a JSON string
                                          (OpenAI form) is parsed into an
                                          object first, as most templates
                                          expect an object                  */
} ai_chat_flag;

/* Renders with the model's template (or AI_OPT_CHAT_TEMPLATE) and its BOS
 * and EOS token texts (from its tokenizer; "" when it has none).  A model
 * without a template uses ChatML:
 *   <|im_start|>ROLE\nCONTENT<|im_end|>\n ... [<|im_start|>assistant\n]
 * (CONTENT only when it is a string; tools are not shown).  model may be NULL when AI_OPT_CHAT_TEMPLATE is
 * set (BOS and EOS are then "").  Since 0.1. */
AI_API ai_status ai_chat_render(const ai_model *model, const char *messages_json,
                                const char *tools_json, const ai_opts *opts,
                                uint32_t flags, char *out, size_t cap,
                                size_t *needed, char *err, size_t err_cap);

/* The same with a template given as text (for tests, and for applications
 * that bring their own), and the BOS/EOS texts to expose (NULL means "").
 * AI_OPT_CHAT_TEMPLATE in opts is ignored.  Since 0.1. */
AI_API ai_status ai_chat_render_template(const char *template_utf8,
                                         const char *bos_token,
                                         const char *eos_token,
                                         const char *messages_json,
                                         const char *tools_json,
                                         const ai_opts *opts, uint32_t flags,
                                         char *out, size_t cap, size_t *needed,
                                         char *err, size_t err_cap);

/* ==========================================================================
 * 8c. Tool calls
 * ========================================================================== */

/* Turns a model's output into content, reasoning and tool calls.  The text
 * is the decoded output after the generation prompt, special tokens rendered
 * as text.  The result is one JSON object (UTF-8, compact):
 *
 *   {"content": str, "reasoning": str, "tool_calls": [{"name": str,
 *    "arguments": {...}, "id": str}], "error": bool, "message": str}
 *
 *  - content: the text outside calls, reasoning and wrapper tokens, pieces
 *    joined in order and trimmed at both ends.
 *  - reasoning: only present when not empty.  A reasoning block is removed
 *    before calls are looked for (markup inside it is never a call); a
 *    closing tag with no opening tag before it means the prompt opened the
 *    block, so everything before the tag is reasoning.
 *  - tool_calls: in order; "arguments" is always an object (a JSON string
 *    holding an object is decoded once); "id" only where the markup has one.
 *    XML-style values are typed by the declared tools' parameter schemas.
 *  - error: true when the output is malformed (truncated or invalid JSON,
 *    unclosed markup, an empty name, a tool not among `tools_json`,
 *    positional or non-literal pythonic arguments, arguments that are not an
 *    object).  Then "tool_calls" is empty (never half a batch), "message"
 *    says what and where, and "content" is the whole text minus a
 *    well-formed reasoning block.  Malformed output is not an error status.
 *
 * Formats.  Values are ABI (append only); names are those of
 * ai_toolcall_format_from_name().  See each model family in the comments. */
typedef enum ai_toolcall_format {
    AI_TOOLCALL_HERMES = 1,           /* "hermes": <tool_call>{json}</tool_call>; Qwen2.5/3, Hermes, Granite 4 */
    AI_TOOLCALL_LLAMA3_JSON = 2,      /* "llama3_json": {"name", "parameters"}, <|python_tag|>; Llama 3.1-3.3 */
    AI_TOOLCALL_PYTHONIC = 3,         /* "pythonic": [f(a=1), g()]; Llama 3.2 1B/3B, Llama 4 */
    AI_TOOLCALL_LFM2 = 4,             /* "lfm2": <|tool_call_start|>[pythonic]<|tool_call_end|> */
    AI_TOOLCALL_MISTRAL = 5,          /* "mistral": [TOOL_CALLS][{...}]; tokenizer < v11 */
    AI_TOOLCALL_MISTRAL_V11 = 6,      /* "mistral_v11": [TOOL_CALLS]name[ARGS]{...} */
    AI_TOOLCALL_QWEN3_CODER_XML = 7,  /* "qwen3_coder_xml": <function=N><parameter=k> */
    AI_TOOLCALL_GEMMA4 = 8,           /* "gemma4": <|tool_call>call:N{k:v}<tool_call|> */
    AI_TOOLCALL_FUNCTIONARY_V3_1 = 9, /* "functionary_v3_1": <function=N>{json}</function> */
    AI_TOOLCALL_FUNCTIONARY_V3_2 = 10, /* "functionary_v3_2": N\n{json}>>>... */
    AI_TOOLCALL_DEEPSEEK_R1 = 11,     /* "deepseek_r1": tool calls begin/sep, ```json``` */
    AI_TOOLCALL_DEEPSEEK_V3_1 = 12,   /* "deepseek_v3_1": N<tool sep>{json} */
    AI_TOOLCALL_GPT_OSS_HARMONY = 13, /* "gpt_oss_harmony": channels, to=functions.N */
    AI_TOOLCALL_COMMAND_R = 14,       /* "command_r": <|START_ACTION|>[...]<|END_ACTION|> */
    AI_TOOLCALL_GRANITE = 15,         /* "granite": <|tool_call|>[...]; Granite 3.x */
    AI_TOOLCALL_KIMI_K2 = 16,         /* "kimi_k2": tool calls section, functions.N:IDX */
    AI_TOOLCALL_GLM45 = 17,           /* "glm45": <tool_call>N<arg_key>k</arg_key>... */
    AI_TOOLCALL_MINIMAX_M2 = 18,      /* "minimax_m2": <minimax:tool_call><invoke name=...> */
    AI_TOOLCALL_FIREFUNCTION_V2 = 19, /* "firefunction_v2": " functools[...]" */
    AI_TOOLCALL_GENERIC_JSON = 20     /* "generic_json": {"tool_call"|"tool_calls"|"response"} */
} ai_toolcall_format;

/* Looks a format up by its name (the quoted names above).  Errors:
 * AI_E_INVAL (NULL argument), AI_E_NOT_FOUND (unknown name).  Thread-safe.
 * Since 0.1. */
AI_API ai_status ai_toolcall_format_from_name(const char *name, int32_t *format);

/* The name of a format (static string), or NULL for an unknown value.
 * Thread-safe.  Since 0.1. */
AI_API const char *ai_toolcall_format_name(int32_t format);

/* Picks the format from a chat template's source text (UTF-8, len bytes),
 * with ordered substring rules, most specific first.  When no rule matches,
 * returns AI_E_NOT_FOUND and sets *format to AI_TOOLCALL_GENERIC_JSON as a
 * fallback the caller may use.  Errors: AI_E_INVAL.  Thread-safe.  Since 0.1. */
AI_API ai_status ai_toolcall_format_detect(const char *chat_template, size_t len,
                                           int32_t *format);

/* The same for a loaded model, from its "tokenizer.chat_template" metadata.
 * Errors: AI_E_INVAL, AI_E_NOT_FOUND (no template, or no rule matched: then
 * *format is AI_TOOLCALL_GENERIC_JSON).  Thread-safe.  Since 0.1. */
AI_API ai_status ai_model_toolcall_format(const ai_model *model, int32_t *format);

/* Parses `text` (len bytes of UTF-8) in `format` and writes the result JSON
 * described above to (out, cap), NUL-terminated.  `tools_json` is the OpenAI
 * "tools" array ([{"type": "function", "function": {"name", "description",
 * "parameters"}}]; bare {"name", "parameters"} objects are accepted too), or
 * NULL for no name check and untyped XML values.  Call with out NULL and
 * cap 0 to learn the size.  Errors: AI_E_INVAL (text NULL with len > 0,
 * unknown format), AI_E_FORMAT (text is not UTF-8, or tools_json is
 * malformed), AI_E_RANGE (*needed set, nothing written), AI_E_NOMEM.
 * Thread-safe.  Since 0.1. */
AI_API ai_status ai_toolcalls_parse(int32_t format, const char *text, size_t len,
                                    const char *tools_json, char *out, size_t cap,
                                    size_t *needed);

/* Incremental parsing of output as it is generated.  Create a stream, feed
 * it the text pieces in order (split anywhere, even inside a UTF-8
 * character), and read what became certain after each feed:
 *
 *   {"content": str, "reasoning": str, "tool_calls": [...]}
 *
 * "content" and "reasoning" are deltas to append (reasoning only present
 * when not empty); "tool_calls" holds the calls completed since the last
 * read, each exactly as in the final result.  A tail that could be the start
 * of a marker is held back until it is resolved, never shown as content.
 * After ai_toolcall_stream_finish(), ai_toolcall_stream_result() gives the
 * final result, which is always identical to ai_toolcalls_parse() of the
 * whole text.  If that final result has "error": true, the deltas read so
 * far were provisional: only execute the calls of the final result.
 * One thread at a time per stream. */
typedef struct ai_toolcall_stream ai_toolcall_stream;

/* Stream flags. */
typedef enum ai_toolcall_flag {
    /* The prompt already opened a reasoning block (it ended in <think>):
     * the text is parsed as if that format's opening tag came first. */
    AI_TOOLCALL_REASONING_OPEN = 1
} ai_toolcall_flag;

/* Creates a stream.  tools_json as for ai_toolcalls_parse (copied).
 * flags: 0 or AI_TOOLCALL_REASONING_OPEN.  Free with
 * ai_toolcall_stream_free().  Errors: AI_E_INVAL (unknown format or flag),
 * AI_E_FORMAT (tools_json malformed; message in err), AI_E_NOMEM.
 * Since 0.1. */
AI_API ai_status ai_toolcall_stream_new(int32_t format, const char *tools_json,
                                        int32_t flags, ai_toolcall_stream **out,
                                        char *err, size_t err_cap);
/* Appends text.  Errors: AI_E_INVAL (NULL stream, or already finished),
 * AI_E_FORMAT (the text so far is not UTF-8), AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_toolcall_stream_feed(ai_toolcall_stream *stream, const char *text,
                                         size_t len);
/* Ends the text: runs the final strict parse.  Errors: AI_E_INVAL,
 * AI_E_FORMAT (the text ends inside a UTF-8 character), AI_E_NOMEM.
 * Since 0.1. */
AI_API ai_status ai_toolcall_stream_finish(ai_toolcall_stream *stream);
/* Writes the output that became certain since the last successful read (see
 * above) and forgets it; on AI_E_RANGE (*needed set) it is kept.  After
 * finish, the last read releases what was held back.  Errors: AI_E_INVAL,
 * AI_E_RANGE.  Since 0.1. */
AI_API ai_status ai_toolcall_stream_read(ai_toolcall_stream *stream, char *buf, size_t cap,
                                         size_t *needed);
/* Writes the final result (as ai_toolcalls_parse).  Errors: AI_E_INVAL
 * (not finished yet), AI_E_RANGE.  Since 0.1. */
AI_API ai_status ai_toolcall_stream_result(ai_toolcall_stream *stream, char *buf,
                                           size_t cap, size_t *needed);
/* Frees a stream.  NULL is fine.  Since 0.1. */
AI_API void ai_toolcall_stream_free(ai_toolcall_stream *stream);

/* ==========================================================================
 * 9. System: compute kernels, quantization, benchmark
 * ========================================================================== */

/* One line describing the compute kernels this process uses, e.g.
 * "kernels=avx512 cpu=avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni
 * threads=2 blas=off".  `kernels` is the set picked at first use from the
 * CPU's features (ref, avx2, avx512, neon, neon-dotprod), which the
 * environment variable AI_KERNELS=ref|avx2|avx512|neon|neon-dotprod can
 * override; `threads` is the default for
 * AI_OPT_N_THREADS; `blas` says whether large batches go through OpenBLAS
 * (off unless the environment variable AI_BLAS_MIN_BATCH=N asks for it:
 * faster, but a row's result then depends on the batch it is in).  Written to (buf, cap) with *needed set (NUL
 * included); AI_E_RANGE when cap is too small.  Thread-safe.  Since 0.1. */
AI_API ai_status ai_system_info(char *buf, size_t cap, size_t *needed);

/* Writes a copy of the GGUF model at in_path to out_path with every 2-D
 * weight tensor converted to `type` (an ai_type: f32, f16, bf16, q4_0, q4_1,
 * q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k, iq4_nl or iq4_xs), laid
 * out as llama.cpp's quantizer with --pure lays it out.  Tensors of one
 * dimension (norms, biases) are written as F32; matrices llama.cpp does not
 * quantize (names not ending in "weight", norms, position and token-type
 * tables, MoE gates) are copied unchanged; matrices whose rows are not a
 * multiple of the type's block take llama.cpp's fallback type (q4_k -> q5_0,
 * q5_k -> q5_1, q6_k -> q8_0, q2_k/q3_k -> q4_0, iq4_xs -> iq4_nl) or F16.
 * Metadata is copied in order, then general.quantization_version (2) and
 * general.file_type (llama.cpp's numbering) end the list; tensors are
 * ordered by layer, then name.  One part of a split model is refused
 * (AI_E_UNSUPPORTED).  Reads
 * AI_OPT_N_THREADS from opts (may be NULL).  The output is written to a
 * temporary name next to out_path and renamed at the end, so a failure
 * leaves no partial file.  Errors: AI_E_INVAL (NULL path, same path twice),
 * AI_E_UNSUPPORTED (type not in the list above, or an input tensor of a type
 * that cannot be read), AI_E_IO, AI_E_FORMAT (malformed input, message names
 * the field), AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_model_quantize(const char *in_path, const char *out_path,
                                   int32_t type, const ai_opts *opts,
                                   char *err, size_t err_cap);

/* Measures the compute kernels and returns a text report (several lines,
 * NUL-terminated; free with ai_free): the machine's read bandwidth, then per
 * weight type the matrix-vector throughput in GB/s of weights on
 * AI_OPT_BENCH_MIB of weights, and the matrix-matrix throughput in GOP/s for
 * a batch of AI_OPT_BENCH_BATCH rows, next to a per-column loop of the
 * matrix-vector kernel and a dequantize + BLAS sgemm path.  Uses
 * AI_OPT_N_THREADS threads.  Takes seconds to minutes; the numbers are only
 * meaningful on an otherwise idle machine.  Errors: AI_E_INVAL (out NULL),
 * AI_E_NOMEM.  Since 0.1. */
AI_API ai_status ai_system_bench(const ai_opts *opts, char **out);

#ifdef __cplusplus
}
#endif

#endif /* AGENTINFER_H */
