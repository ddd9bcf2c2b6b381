/*
 * tok_pre.c - the pre-tokenizers of byte-level BPE vocabularies: they split
 * the text into words before BPE merges run inside each word.
 *
 * The reference tokenizers describe each split as a regular expression (or a
 * sequence of them, each applied to the pieces the previous one left).  We
 * do not run a regex engine: each pattern is a hand-written matcher that,
 * given a position, returns the length of the match the regex engine would
 * find there (alternatives tried in order, greedy quantifiers with the
 * backtracking the patterns need), or 0.  Splitting then walks the piece
 * left to right; text no alternative matches stays a piece of its own (the
 * "Isolated" split behaviour), so pieces always cover the input.
 *
 * Patterns, as the vocabularies' tokenizer.json files state them:
 *   GPT2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   LLAMA3  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *           ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *   QWEN2   LLAMA3 with \p{N} (single digits)
 *   STARCODER  \p{N} (each digit alone), then GPT2
 *   FALCON  [\p{P}\$\+<=>\^~\|`]+, then GPT2, then [0-9][0-9][0-9]
 *   DEEPSEEK_CODER  [\r\n], \s?\p{L}+, \s?\p{P}+, [一-龥ࠀ-一가-퟿]+, \p{N}
 *   DEEPSEEK_LLM    [\r\n], \s?[<cased letters>]+, \s?[!-/:-~！-／：-～‘-‟　-。]+,
 *                   \s+$, [一-龥ࠀ-一가-퟿]+, then digits one by one
 */
#include "vocab.h"

#include <string.h>

typedef size_t (*matcher)(const uint32_t *c, size_t i, size_t e);

/* ---- character classes -------------------------------------------------- */

static inline int is_L(uint32_t c) {
    if (c < 128) return (c | 32) >= 'a' && (c | 32) <= 'z';
    return ai__uc_is_letter(c);
}
static inline int is_N(uint32_t c) {
    if (c < 128) return c >= '0' && c <= '9';
    return ai__uc_is_number(c);
}
static inline int is_S(uint32_t c) { return ai__uc_is_space(c); }
static inline int is_other(uint32_t c) { return !is_S(c) && !is_L(c) && !is_N(c); }
static inline int is_nl(uint32_t c) { return c == '\r' || c == '\n'; }

static size_t run(const uint32_t *c, size_t i, size_t e, int (*f)(uint32_t)) {
    size_t j = i;
    while (j < e && f(c[j])) j++;
    return j - i;
}

/* 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive: ASCII, plus U+017F
 * LONG S, the one other character that case-folds to one of these letters. */
static size_t contraction(const uint32_t *c, size_t i, size_t e, int ci) {
    if (c[i] != '\'' || i + 1 >= e) return 0;
    uint32_t a = c[i + 1];
    if (ci && a < 128) a |= 32;
    if (ci && a == 0x17F) a = 's'; /* LONG S case-folds to s */
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (i + 2 >= e) return 0;
    uint32_t b = c[i + 2];
    if (ci && b < 128) b |= 32;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

/* \s+(?!\S)|\s+ at a whitespace run of length r (>= 1) starting at i. */
static size_t trailing_space(size_t i, size_t r, size_t e) {
    if (i + r == e || r == 1) return r; /* at the end, or the plain \s+ */
    return r - 1;                       /* leave the last one to the next word */
}

/* ---- whole patterns ---------------------------------------------------------- */

static size_t m_gpt2(const uint32_t *c, size_t i, size_t e) {
    size_t k = contraction(c, i, e, 0);
    if (k) return k;
    size_t j = (c[i] == ' ' && i + 1 < e) ? i + 1 : i; /* the optional space */
    if (is_L(c[j])) return j - i + run(c, j, e, is_L);
    if (is_N(c[j])) return j - i + run(c, j, e, is_N);
    if (is_other(c[j])) return j - i + run(c, j, e, is_other);
    return trailing_space(i, run(c, i, e, is_S), e);
}

static size_t llama3_like(const uint32_t *c, size_t i, size_t e, size_t max_digits) {
    size_t k = contraction(c, i, e, 1);
    if (k) return k;
    uint32_t x = c[i];
    if (is_L(x)) return run(c, i, e, is_L);
    if (!is_nl(x) && !is_N(x) && i + 1 < e && is_L(c[i + 1])) return 1 + run(c, i + 1, e, is_L);
    if (is_N(x)) {
        size_t r = run(c, i, e, is_N);
        return r < max_digits ? r : max_digits;
    }
    size_t j = (x == ' ' && i + 1 < e) ? i + 1 : i;
    if (is_other(c[j])) {
        j += run(c, j, e, is_other);
        while (j < e && is_nl(c[j])) j++;
        return j - i;
    }
    /* x is whitespace: \s*[\r\n]+ ends after the last newline of the run */
    size_t r = run(c, i, e, is_S);
    for (size_t p = i + r; p > i; p--)
        if (is_nl(c[p - 1])) return p - i;
    return trailing_space(i, r, e);
}

static size_t m_llama3(const uint32_t *c, size_t i, size_t e) { return llama3_like(c, i, e, 3); }
static size_t m_qwen2(const uint32_t *c, size_t i, size_t e) { return llama3_like(c, i, e, 1); }

static size_t m_one_digit(const uint32_t *c, size_t i, size_t e) {
    (void)e;
    return is_N(c[i]) ? 1 : 0;
}

static int falcon_punct(uint32_t c) {
    return ai__uc_is_punct(c) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
           c == '^' || c == '~' || c == '|' || c == '`';
}
static size_t m_falcon_punct(const uint32_t *c, size_t i, size_t e) {
    return run(c, i, e, falcon_punct);
}
static int ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static size_t m_three_digits(const uint32_t *c, size_t i, size_t e) {
    return run(c, i, e < i + 3 ? e : i + 3, ascii_digit) == 3 ? 3 : 0;
}

static size_t m_newline(const uint32_t *c, size_t i, size_t e) {
    (void)e;
    return is_nl(c[i]) ? 1 : 0;
}
/* \s?X+ for a class X */
static size_t space_then(const uint32_t *c, size_t i, size_t e, int (*f)(uint32_t)) {
    size_t j = (is_S(c[i]) && i + 1 < e && f(c[i + 1])) ? i + 1 : i;
    size_t r = run(c, j, e, f);
    return r ? j - i + r : 0;
}
static size_t m_space_letters(const uint32_t *c, size_t i, size_t e) {
    return space_then(c, i, e, is_L);
}
static int is_P(uint32_t c) { return ai__uc_is_punct(c); }
static size_t m_space_punct(const uint32_t *c, size_t i, size_t e) {
    return space_then(c, i, e, is_P);
}
/* [一-龥ࠀ-一가-퟿] */
static int cjk_hangul(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x0800 && c <= 0x4E00) ||
           (c >= 0xAC00 && c <= 0xD7FF);
}
static size_t m_cjk(const uint32_t *c, size_t i, size_t e) { return run(c, i, e, cjk_hangul); }

/* DeepSeek LLM's letter class: cased letters of many scripts, as ranges. */
static const uint32_t ds_letters[][2] = {
    {0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6},
    {0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373},
    {0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A},
    {0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F},
    {0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB},
    {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107},
    {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
    {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4},
    {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F},
    {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17},
    {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

static int ds_letter(uint32_t c) {
    size_t lo = 0, hi = sizeof ds_letters / sizeof ds_letters[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < ds_letters[mid][0]) hi = mid;
        else if (c > ds_letters[mid][1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}
static size_t m_ds_letters(const uint32_t *c, size_t i, size_t e) {
    return space_then(c, i, e, ds_letter);
}
static int ds_punct(uint32_t c) {
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) || (c >= 0xFF01 && c <= 0xFF0F) ||
           (c >= 0xFF1A && c <= 0xFF5E) || (c >= 0x2018 && c <= 0x201F) ||
           (c >= 0x3000 && c <= 0x3002);
}
static size_t m_ds_punct(const uint32_t *c, size_t i, size_t e) {
    return space_then(c, i, e, ds_punct);
}
/* \s+$ : a whitespace run that reaches the end of the piece */
static size_t m_space_at_end(const uint32_t *c, size_t i, size_t e) {
    size_t r = run(c, i, e, is_S);
    return (r && i + r == e) ? r : 0;
}

/* ---- splitting ------------------------------------------------------------------ */

/* Splits c[s..e) with m, appending piece ends to out. */
static void split(matcher m, const uint32_t *c, size_t s, size_t e, ai__u32vec *out) {
    size_t i = s, gap = s;
    while (i < e) {
        size_t k = m(c, i, e);
        if (!k) {
            i++;
            continue;
        }
        if (gap < i) ai__u32vec_push(out, (uint32_t)i);
        i += k;
        ai__u32vec_push(out, (uint32_t)i);
        gap = i;
    }
    if (gap < e) ai__u32vec_push(out, (uint32_t)e);
}

static const matcher seq_gpt2[] = {m_gpt2, NULL};
static const matcher seq_llama3[] = {m_llama3, NULL};
static const matcher seq_qwen2[] = {m_qwen2, NULL};
static const matcher seq_starcoder[] = {m_one_digit, m_gpt2, NULL};
static const matcher seq_falcon[] = {m_falcon_punct, m_gpt2, m_three_digits, NULL};
static const matcher seq_ds_coder[] = {m_newline, m_space_letters, m_space_punct, m_cjk,
                                       m_one_digit, NULL};
static const matcher seq_ds_llm[] = {m_newline, m_ds_letters, m_ds_punct, m_space_at_end,
                                     m_cjk, m_one_digit, NULL};

void ai__pretokenize(int pre, const uint32_t *cps, size_t n, ai__u32vec *ends) {
    const matcher *seq;
    switch (pre) {
    case AI__PRE_LLAMA3: seq = seq_llama3; break;
    case AI__PRE_QWEN2: seq = seq_qwen2; break;
    case AI__PRE_STARCODER: seq = seq_starcoder; break;
    case AI__PRE_FALCON: seq = seq_falcon; break;
    case AI__PRE_DEEPSEEK_CODER: seq = seq_ds_coder; break;
    case AI__PRE_DEEPSEEK_LLM: seq = seq_ds_llm; break;
    default: seq = seq_gpt2; break;
    }
    if (n == 0) return;
    size_t base = ends->n;
    split(seq[0], cps, 0, n, ends);
    /* Each further pattern re-splits every piece; work on a copy of the
     * current piece ends and write the new ones in their place. */
    for (size_t k = 1; seq[k] && !ends->oom; k++) {
        ai__u32vec prev = {0};
        for (size_t i = base; i < ends->n; i++) ai__u32vec_push(&prev, ends->p[i]);
        if (prev.oom) {
            ends->oom = 1;
            ai__u32vec_free(&prev);
            return;
        }
        ends->n = base;
        size_t s = 0;
        for (size_t i = 0; i < prev.n; i++) {
            split(seq[k], cps, s, prev.p[i], ends);
            s = prev.p[i];
        }
        ai__u32vec_free(&prev);
    }
}

int ai__pre_from_name(const char *name, size_t len) {
    static const struct { const char *name; int pre; } names[] = {
        {"default", AI__PRE_GPT2},        {"gpt-2", AI__PRE_GPT2},
        {"gpt2", AI__PRE_GPT2},           {"mpt", AI__PRE_GPT2},
        {"gpt-neox", AI__PRE_GPT2},       {"olmo", AI__PRE_GPT2},
        {"phi-2", AI__PRE_GPT2},          {"jais", AI__PRE_GPT2},
        {"llama-bpe", AI__PRE_LLAMA3},    {"llama3", AI__PRE_LLAMA3},
        {"llama-v3", AI__PRE_LLAMA3},     {"falcon3", AI__PRE_LLAMA3},
        {"chatglm4", AI__PRE_LLAMA3},     {"dbrx", AI__PRE_LLAMA3},
        {"smaug-bpe", AI__PRE_LLAMA3},    {"trillion", AI__PRE_GPT2},
        {"granite-docling", AI__PRE_GPT2},{"exaone", AI__PRE_STARCODER},
        {"minerva-7b", AI__PRE_STARCODER},
        {"qwen2", AI__PRE_QWEN2},         {"stablelm2", AI__PRE_QWEN2},
        {"starcoder", AI__PRE_STARCODER}, {"refact", AI__PRE_STARCODER},
        {"smollm", AI__PRE_STARCODER},    {"command-r", AI__PRE_STARCODER},
        {"codeshell", AI__PRE_STARCODER}, {"falcon", AI__PRE_FALCON},
        {"deepseek-llm", AI__PRE_DEEPSEEK_LLM},
        {"deepseek-coder", AI__PRE_DEEPSEEK_CODER},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == len && !memcmp(names[i].name, name, len)) return names[i].pre;
    return -1;
}
