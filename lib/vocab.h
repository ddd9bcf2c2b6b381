/*
 * vocab.h - the tokenizer vocabulary of a model (private) and the entry
 * points of the three tokenizer algorithms.
 *
 * Built by ai__vocab_load() from the tokenizer.ggml.* metadata of a GGUF file
 * and owned by the ai_model (model.h).  Token texts point into the GGUF image,
 * which outlives the vocabulary.  Read-only after load, so any number of
 * threads may tokenize with one vocabulary at the same time: every call keeps
 * its scratch state on its own.
 */
#ifndef AI_VOCAB_H
#define AI_VOCAB_H

#include "agentinfer.h"
#include "gguf.h"
#include "unicode.h"

#include <stddef.h>
#include <stdint.h>

#define AI__MERGE_BLOOM_BITS 22

enum ai__vocab_type { AI__VOCAB_SPM = 1, AI__VOCAB_BPE = 2, AI__VOCAB_WPM = 3 };

/* Byte-level BPE pre-tokenizers (tokenizer.ggml.pre), see tok_pre.c. */
enum ai__pre_type {
    AI__PRE_GPT2,            /* default, gpt-2, mpt, gpt-neox, olmo, phi-2    */
    AI__PRE_LLAMA3,          /* llama-bpe: digits in groups of up to 3        */
    AI__PRE_QWEN2,           /* qwen2: single digits, NFC first               */
    AI__PRE_STARCODER,       /* starcoder, refact, smollm, command-r          */
    AI__PRE_FALCON,
    AI__PRE_DEEPSEEK_LLM,
    AI__PRE_DEEPSEEK_CODER
};

typedef struct ai__token {
    const char *text;   /* in the GGUF image; not NUL-terminated */
    uint32_t len;
    uint32_t attr;      /* AI_TOKEN_ATTR_* */
    float score;        /* SentencePiece log-probability; 0 otherwise */
} ai__token;

/* Open-addressing hash of token texts.  A slot holds id + 1 (0 = empty) and
 * the high 32 bits of the text's hash, so that a probe rarely has to touch
 * the token and its text to reject a slot. */
typedef struct ai__tokslot {
    int32_t id1;
    uint32_t tag;
} ai__tokslot;
typedef struct ai__tokmap {
    ai__tokslot *slot;
    size_t mask;
} ai__tokmap;

struct ai__vocab {
    int type;                 /* ai__vocab_type */
    int pre;                  /* ai__pre_type (BPE only) */
    int32_t n_tokens;
    ai__token *tokens;
    ai__tokmap map;
    size_t max_token_len;     /* bytes */

    /* BPE merges: key (left << 32 | right) -> rank and merged token. */
    struct ai__merge {
        uint64_t key;         /* UINT64_MAX = empty slot */
        uint32_t rank;
        int32_t out;
    } *merges;                /* one 16-byte slot per probe: one cache line */
    size_t merge_mask;
    /* A one-hash Bloom filter of the merge keys (AI__MERGE_BLOOM_BITS bits,
     * 512 KiB): most pairs asked for have no merge, and the filter answers
     * that from cache instead of a miss into the megabyte table. */
    uint64_t *merge_bloom;

    /* SentencePiece: ASCII bytes that no mergeable piece longer than one
     * byte contains; no merge can cross such a character, so the text is
     * merged in independent segments split there (keeps the heap small). */
    uint8_t spm_wall[128];

    /* Per byte: SPM the <0xXX> token, BPE the token of the byte's
     * byte-level character; -1 when absent. */
    int32_t byte_tok[256];
    char byte_chr[256][2];    /* BPE: UTF-8 of the byte-level char ... */
    uint8_t byte_chr_len[256];/* ... and its length (1 or 2)          */

    /* Tokens recognised in the text (control, user-defined, unknown),
     * bucketed by first byte, longest first within a bucket. */
    int32_t *special;
    uint32_t special_start[257];

    int32_t bos, eos, eot, eom, unk, sep, pad, cls, mask, nl;
    int add_bos, add_eos, add_space_prefix, ignore_merges, nfc;
};

/* Loads the vocabulary when the file has tokenizer.ggml.model.  *out is NULL
 * (and AI_OK returned) when there is no tokenizer metadata or the model type
 * is not supported (a warning is logged then).  AI_E_FORMAT for malformed
 * tokenizer metadata (message in err), AI_E_NOMEM. */
ai_status ai__vocab_load(const ai__gguf *g, struct ai__vocab **out, char *err,
                         size_t err_cap);
void ai__vocab_free(struct ai__vocab *v);

/* Token id of an exact text, or -1. */
int32_t ai__vocab_find(const struct ai__vocab *v, const char *s, size_t len);
/* Merge rank of (a, b) and the merged token, or -1. */
int64_t ai__vocab_merge(const struct ai__vocab *v, int32_t a, int32_t b, int32_t *merged);

/* Growable token list used by the tokenizers. */
typedef struct ai__toks {
    int32_t *p;
    size_t n, cap;
    int oom;
} ai__toks;
void ai__toks_push(ai__toks *t, int32_t id);

/* The algorithms: each appends the tokens of one run of plain text (no
 * special tokens in it) to out.  `first` says the run starts the text or
 * follows a special token (SentencePiece adds its space prefix then). */
void ai__spm_tokenize(const struct ai__vocab *v, const char *text, size_t len, int first,
                      ai__toks *out);
void ai__bpe_tokenize(const struct ai__vocab *v, const char *text, size_t len, ai__toks *out);
void ai__wpm_tokenize(const struct ai__vocab *v, const char *text, size_t len, ai__toks *out);

/* The whole pipeline (special tokens, BOS/EOS, the algorithm) into out;
 * flags as ai_tokenize().  AI_E_NOMEM only. */
ai_status ai__tokenize(const struct ai__vocab *v, const char *text, size_t len, uint32_t flags,
                       ai__toks *out);

/* Pre-tokenizer: splits cps[0..n) into words, appending the end offset of
 * each word to ends (words are contiguous and cover everything). */
void ai__pretokenize(int pre, const uint32_t *cps, size_t n, ai__u32vec *ends);
/* Maps a tokenizer.ggml.pre name to ai__pre_type; -1 when unknown. */
int ai__pre_from_name(const char *name, size_t len);

/* Byte-level BPE: the byte a character stands for, or -1. */
int ai__bytelevel_byte(uint32_t cp);

#endif /* AI_VOCAB_H */
