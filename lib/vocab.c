/*
 * vocab.c - reads the tokenizer.ggml.* metadata into a struct ai__vocab:
 * token texts/scores/types, the text -> id hash, BPE merge ranks, special
 * token ids and flags.  See vocab.h.
 */
#include "vocab.h"

#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* GGUF token types (tokenizer.ggml.token_type). */
enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

static uint64_t hash_bytes(const char *s, size_t n) {
    /* FNV-1a over bytes, finished with a multiply-xorshift so the low bits
     * used as the slot index are well mixed. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static uint64_t hash_pair(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    return k ^ (k >> 33);
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

int32_t ai__vocab_find(const struct ai__vocab *v, const char *s, size_t len) {
    uint64_t h = hash_bytes(s, len);
    uint32_t tag = (uint32_t)(h >> 32);
    size_t i = (size_t)h & v->map.mask;
    for (;;) {
        ai__tokslot e = v->map.slot[i];
        if (!e.id1) return -1;
        if (e.tag == tag) {
            const ai__token *t = &v->tokens[e.id1 - 1];
            if (t->len == len && !memcmp(t->text, s, len)) return e.id1 - 1;
        }
        i = (i + 1) & v->map.mask;
    }
}

int64_t ai__vocab_merge(const struct ai__vocab *v, int32_t a, int32_t b, int32_t *merged) {
    if (!v->merges) return -1;
    uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    uint64_t h = hash_pair(k), bit = h >> (64 - AI__MERGE_BLOOM_BITS);
    if (!(v->merge_bloom[bit >> 6] >> (bit & 63) & 1)) return -1;
    size_t i = (size_t)h & v->merge_mask;
    for (;;) {
        const struct ai__merge *e = &v->merges[i];
        if (e->key == k) {
            *merged = e->out;
            return e->rank;
        }
        if (e->key == UINT64_MAX) return -1;
        i = (i + 1) & v->merge_mask;
    }
}

void ai__toks_push(ai__toks *t, int32_t id) {
    if (t->oom) return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        int32_t *p = cap > SIZE_MAX / 4 ? NULL : realloc(t->p, cap * sizeof *p);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    t->p[t->n++] = id;
}

void ai__vocab_free(struct ai__vocab *v) {
    if (!v) return;
    free(v->tokens);
    free(v->map.slot);
    free(v->merges);
    free(v->merge_bloom);
    free(v->special);
    free(v);
}

/* GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for
 * themselves, the other 68 (0x00-0x20, 0x7F-0xA0, 0xAD) for U+0100..U+0143
 * in byte order. */
static uint32_t bytelevel_cp(int b) {
    if (b <= 0x20) return 256u + (uint32_t)b;
    if (b >= 0x7F && b <= 0xA0) return 256u + 33u + (uint32_t)(b - 0x7F);
    if (b == 0xAD) return 256u + 67u;
    return (uint32_t)b;
}

int ai__bytelevel_byte(uint32_t cp) {
    if (cp < 256) return (cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD) ? -1 : (int)cp;
    if (cp < 256 + 33) return (int)(cp - 256);
    if (cp < 256 + 67) return (int)(cp - 256 - 33 + 0x7F);
    if (cp == 256 + 67) return 0xAD;
    return -1;
}

static void get_id(const ai__gguf *g, const char *key, int32_t n, int32_t *dst) {
    int64_t x;
    if (ai__gguf_get_int(g, key, &x) != 0) return;
    if (x < 0 || x >= n) {
        ai__log(AI_LOG_WARN, "tokenizer: %s = %lld is out of range, ignored", key, (long long)x);
        *dst = -1;
        return;
    }
    *dst = (int32_t)x;
}

static void get_flag(const ai__gguf *g, const char *key, int *dst) {
    int b;
    int64_t x;
    if (ai__gguf_get_bool(g, key, &b) == 0) *dst = b != 0;
    else if (ai__gguf_get_int(g, key, &x) == 0) *dst = x != 0;
}

static int is_eog_text(const ai__token *t) {
    static const char *const names[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
        "<|eom_id|>", "<EOT>", "<|end_of_text|>", "<|return|>", "<|call|>",
        "<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>", /* <｜end▁of▁sentence｜> */
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (t->len == strlen(names[i]) && !memcmp(t->text, names[i], t->len)) return 1;
    return 0;
}

/* Longer texts first, then lower ids: the longest special token wins. */
static int special_before(const ai__token *toks, int32_t a, int32_t b) {
    if (toks[a].len != toks[b].len) return toks[a].len > toks[b].len;
    return a < b;
}

static ai_status build_specials(struct ai__vocab *v) {
    uint32_t count[256] = {0};
    size_t total = 0;
    const uint32_t want = AI_TOKEN_ATTR_CONTROL | AI_TOKEN_ATTR_USER_DEFINED | AI_TOKEN_ATTR_UNKNOWN;
    for (int32_t i = 0; i < v->n_tokens; i++)
        if ((v->tokens[i].attr & want) && v->tokens[i].len > 0) {
            count[(uint8_t)v->tokens[i].text[0]]++;
            total++;
        }
    v->special = malloc((total ? total : 1) * sizeof(int32_t));
    if (!v->special) return AI_E_NOMEM;
    uint32_t pos[256];
    v->special_start[0] = 0;
    for (int b = 0; b < 256; b++) {
        v->special_start[b + 1] = v->special_start[b] + count[b];
        pos[b] = v->special_start[b];
    }
    for (int32_t i = 0; i < v->n_tokens; i++)
        if ((v->tokens[i].attr & want) && v->tokens[i].len > 0)
            v->special[pos[(uint8_t)v->tokens[i].text[0]]++] = i;
    for (int b = 0; b < 256; b++) { /* insertion sort: buckets are small */
        int32_t *p = v->special + v->special_start[b];
        for (uint32_t i = 1; i < count[b]; i++) {
            int32_t x = p[i];
            uint32_t j = i;
            while (j > 0 && special_before(v->tokens, x, p[j - 1])) {
                p[j] = p[j - 1];
                j--;
            }
            p[j] = x;
        }
    }
    return AI_OK;
}

static ai_status build_merges(struct ai__vocab *v, const ai__gguf_kv *kv, char *err,
                              size_t err_cap) {
    if (!kv) return AI_OK;
    if (kv->type != AI__GGUF_ARRAY || kv->arr_type != AI__GGUF_STRING) {
        ai__set_err(err, err_cap, "tokenizer.ggml.merges: not an array of strings");
        return AI_E_FORMAT;
    }
    size_t cap = pow2_at_least((size_t)kv->n * 2 + 2);
    v->merge_mask = cap - 1;
    v->merges = malloc(cap * sizeof *v->merges);
    v->merge_bloom = calloc((size_t)1 << (AI__MERGE_BLOOM_BITS - 6), sizeof(uint64_t));
    if (!v->merges || !v->merge_bloom) return AI_E_NOMEM;
    for (size_t i = 0; i < cap; i++) v->merges[i].key = UINT64_MAX;
    size_t skipped = 0;
    char stack[512];
    for (uint64_t r = 0; r < kv->n; r++) {
        const char *s;
        size_t len;
        if (ai__gguf_arr_str(kv, r, &s, &len) != 0) return AI_E_FORMAT;
        /* "left right": split at the first space after the first byte (a
         * byte-level token never holds a space, but be strict anyway) */
        const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
        if (!sp) {
            skipped++;
            continue;
        }
        size_t ln = (size_t)(sp - s), rn = len - ln - 1;
        int32_t a = ai__vocab_find(v, s, ln), b = ai__vocab_find(v, sp + 1, rn), m = -1;
        if (a >= 0 && b >= 0) {
            char *cat = ln + rn <= sizeof stack ? stack : malloc(ln + rn);
            if (!cat) return AI_E_NOMEM;
            memcpy(cat, s, ln);
            memcpy(cat + ln, sp + 1, rn);
            m = ai__vocab_find(v, cat, ln + rn);
            if (cat != stack) free(cat);
        }
        if (m < 0) {
            skipped++;
            continue;
        }
        uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
        uint64_t h = hash_pair(k), bit = h >> (64 - AI__MERGE_BLOOM_BITS);
        v->merge_bloom[bit >> 6] |= (uint64_t)1 << (bit & 63);
        size_t i = (size_t)h & v->merge_mask;
        while (v->merges[i].key != UINT64_MAX && v->merges[i].key != k) i = (i + 1) & v->merge_mask;
        if (v->merges[i].key == k) continue; /* duplicate: the first rank wins */
        v->merges[i].key = k;
        v->merges[i].rank = (uint32_t)r;
        v->merges[i].out = m;
    }
    if (skipped)
        ai__log(AI_LOG_WARN, "tokenizer: %zu of %llu merges name unknown tokens, ignored", skipped,
                (unsigned long long)kv->n);
    return AI_OK;
}

ai_status ai__vocab_load(const ai__gguf *g, struct ai__vocab **out, char *err, size_t err_cap) {
    *out = NULL;
    const char *model;
    size_t model_len;
    if (ai__gguf_get_str(g, "tokenizer.ggml.model", &model, &model_len) != 0) return AI_OK;
    int type;
    if (model_len == 5 && !memcmp(model, "llama", 5)) type = AI__VOCAB_SPM;
    else if (model_len == 4 && !memcmp(model, "gpt2", 4)) type = AI__VOCAB_BPE;
    else if (model_len == 4 && !memcmp(model, "bert", 4)) type = AI__VOCAB_WPM;
    else {
        ai__log(AI_LOG_WARN, "tokenizer: model type '%.*s' is not supported; no tokenizer",
                (int)model_len, model);
        return AI_OK;
    }
    const ai__gguf_kv *tk = ai__gguf_find(g, "tokenizer.ggml.tokens");
    if (!tk || tk->type != AI__GGUF_ARRAY || tk->arr_type != AI__GGUF_STRING || tk->n == 0 ||
        tk->n > INT32_MAX / 2) {
        ai__set_err(err, err_cap, "tokenizer.ggml.tokens: missing, empty or not strings");
        return AI_E_FORMAT;
    }
    const ai__gguf_kv *sc = ai__gguf_find(g, "tokenizer.ggml.scores");
    const ai__gguf_kv *ty = ai__gguf_find(g, "tokenizer.ggml.token_type");
    if (sc && (sc->type != AI__GGUF_ARRAY || sc->n != tk->n)) {
        ai__set_err(err, err_cap, "tokenizer.ggml.scores: not an array of %llu numbers",
                    (unsigned long long)tk->n);
        return AI_E_FORMAT;
    }
    if (ty && (ty->type != AI__GGUF_ARRAY || ty->n != tk->n)) {
        ai__set_err(err, err_cap, "tokenizer.ggml.token_type: not an array of %llu integers",
                    (unsigned long long)tk->n);
        return AI_E_FORMAT;
    }
    struct ai__vocab *v = calloc(1, sizeof *v);
    if (!v) return AI_E_NOMEM;
    ai_status st = AI_E_NOMEM;
    v->type = type;
    v->n_tokens = (int32_t)tk->n;
    v->tokens = calloc((size_t)v->n_tokens, sizeof *v->tokens);
    size_t cap = pow2_at_least((size_t)v->n_tokens * 2);
    v->map.slot = calloc(cap, sizeof *v->map.slot);
    v->map.mask = cap - 1;
    if (!v->tokens || !v->map.slot) goto fail;
    st = AI_E_FORMAT;
    for (int32_t i = 0; i < v->n_tokens; i++) {
        ai__token *t = &v->tokens[i];
        const char *s;
        size_t len;
        double score = 0;
        int64_t tt = TT_NORMAL;
        if (ai__gguf_arr_str(tk, (uint64_t)i, &s, &len) != 0 || len > UINT32_MAX) goto fail;
        if (sc && ai__gguf_arr_float(sc, (uint64_t)i, &score) != 0) {
            ai__set_err(err, err_cap, "tokenizer.ggml.scores[%d]: not a number", i);
            goto fail;
        }
        if (ty && ai__gguf_arr_int(ty, (uint64_t)i, &tt) != 0) {
            ai__set_err(err, err_cap, "tokenizer.ggml.token_type[%d]: not an integer", i);
            goto fail;
        }
        t->text = s;
        t->len = (uint32_t)len;
        t->score = (float)score;
        switch (tt) {
        case TT_UNKNOWN: t->attr = AI_TOKEN_ATTR_UNKNOWN; break;
        case TT_CONTROL: t->attr = AI_TOKEN_ATTR_CONTROL; break;
        case TT_USER: t->attr = AI_TOKEN_ATTR_USER_DEFINED; break;
        case TT_UNUSED: t->attr = AI_TOKEN_ATTR_UNUSED; break;
        case TT_BYTE: t->attr = AI_TOKEN_ATTR_BYTE; break;
        default: t->attr = AI_TOKEN_ATTR_NORMAL; break;
        }
        /* without token types, SentencePiece byte pieces are known by name */
        if (!ty && type == AI__VOCAB_SPM && len == 6 && !memcmp(s, "<0x", 3) && s[5] == '>')
            t->attr = AI_TOKEN_ATTR_BYTE;
        if (len > v->max_token_len) v->max_token_len = len;
        /* insert; a repeated text maps to its last id */
        uint64_t hh = hash_bytes(s, len);
        uint32_t tag = (uint32_t)(hh >> 32);
        size_t h = (size_t)hh & v->map.mask;
        for (;;) {
            ai__tokslot *e = &v->map.slot[h];
            if (!e->id1) {
                *e = (ai__tokslot){i + 1, tag};
                break;
            }
            const ai__token *o = &v->tokens[e->id1 - 1];
            if (e->tag == tag && o->len == len && !memcmp(o->text, s, len)) {
                e->id1 = i + 1;
                break;
            }
            h = (h + 1) & v->map.mask;
        }
    }

    /* special ids and flags, with the defaults of each model type */
    v->bos = v->eos = v->eot = v->eom = v->unk = v->sep = v->pad = v->cls = v->mask = -1;
    v->add_bos = 0;
    v->add_eos = 0;
    if (type == AI__VOCAB_SPM) {
        v->add_bos = 1;
        v->add_space_prefix = 1;
        v->unk = v->n_tokens > 0 ? 0 : -1;
        if (v->n_tokens > 2) {
            v->bos = 1;
            v->eos = 2;
        }
    } else if (type == AI__VOCAB_WPM) {
        v->add_bos = v->add_eos = 1;
        v->unk = ai__vocab_find(v, "[UNK]", 5);
        v->cls = ai__vocab_find(v, "[CLS]", 5);
        v->sep = ai__vocab_find(v, "[SEP]", 5);
    }
    get_id(g, "tokenizer.ggml.bos_token_id", v->n_tokens, &v->bos);
    get_id(g, "tokenizer.ggml.eos_token_id", v->n_tokens, &v->eos);
    get_id(g, "tokenizer.ggml.eot_token_id", v->n_tokens, &v->eot);
    get_id(g, "tokenizer.ggml.eom_token_id", v->n_tokens, &v->eom);
    get_id(g, "tokenizer.ggml.unknown_token_id", v->n_tokens, &v->unk);
    get_id(g, "tokenizer.ggml.seperator_token_id", v->n_tokens, &v->sep);
    get_id(g, "tokenizer.ggml.padding_token_id", v->n_tokens, &v->pad);
    get_id(g, "tokenizer.ggml.cls_token_id", v->n_tokens, &v->cls);
    get_id(g, "tokenizer.ggml.mask_token_id", v->n_tokens, &v->mask);
    if (type == AI__VOCAB_WPM) {
        /* BERT: the "BOS" that is added is [CLS], the "EOS" [SEP] */
        if (v->cls < 0) v->cls = v->bos;
        if (v->sep < 0) v->sep = v->eos;
        v->bos = v->cls;
        v->eos = v->sep;
    }
    get_flag(g, "tokenizer.ggml.add_bos_token", &v->add_bos);
    get_flag(g, "tokenizer.ggml.add_eos_token", &v->add_eos);
    get_flag(g, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix);

    if (v->eos >= 0) v->tokens[v->eos].attr |= AI_TOKEN_ATTR_EOG;
    if (v->eot >= 0) v->tokens[v->eot].attr |= AI_TOKEN_ATTR_EOG;
    if (v->eom >= 0) v->tokens[v->eom].attr |= AI_TOKEN_ATTR_EOG;
    for (int32_t i = 0; i < v->n_tokens; i++) {
        ai__token *t = &v->tokens[i];
        if ((t->attr & (AI_TOKEN_ATTR_CONTROL | AI_TOKEN_ATTR_USER_DEFINED)) && is_eog_text(t)) {
            t->attr |= AI_TOKEN_ATTR_EOG;
            if (v->eot < 0 && !(t->len == 13 && !memcmp(t->text, "<|endoftext|>", 13)))
                v->eot = i;
        }
    }

    for (int b = 0; b < 256; b++) v->byte_tok[b] = -1;
    if (type == AI__VOCAB_SPM) {
        static const char hex[] = "0123456789ABCDEF";
        for (int b = 0; b < 256; b++) {
            char name[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
            v->byte_tok[b] = ai__vocab_find(v, name, 6);
        }
        v->nl = v->byte_tok['\n'];
        if (v->nl < 0) v->nl = ai__vocab_find(v, "\n", 1);
        for (int c = 0; c < 128; c++) v->spm_wall[c] = 1;
        const uint32_t never = AI_TOKEN_ATTR_CONTROL | AI_TOKEN_ATTR_UNKNOWN | AI_TOKEN_ATTR_BYTE;
        for (int32_t i = 0; i < v->n_tokens; i++) {
            const ai__token *t = &v->tokens[i];
            if ((t->attr & never) || t->len < 2) continue;
            for (uint32_t j = 0; j < t->len; j++)
                if ((uint8_t)t->text[j] < 128) v->spm_wall[(uint8_t)t->text[j]] = 0;
        }
    } else if (type == AI__VOCAB_BPE) {
        for (int b = 0; b < 256; b++) {
            v->byte_chr_len[b] = (uint8_t)ai__utf8_encode(bytelevel_cp(b), v->byte_chr[b]);
            v->byte_tok[b] = ai__vocab_find(v, v->byte_chr[b], v->byte_chr_len[b]);
        }
        v->nl = v->byte_tok['\n'];
        const char *pre = "default";
        size_t pre_len = 7;
        if (ai__gguf_get_str(g, "tokenizer.ggml.pre", &pre, &pre_len) != 0) {
            pre = "default";
            pre_len = 7;
        }
        int p = ai__pre_from_name(pre, pre_len);
        if (p < 0) {
            ai__log(AI_LOG_WARN,
                    "tokenizer: unknown pre-tokenizer '%.*s', using the GPT-2 default; "
                    "tokens may differ from the model's reference tokenizer",
                    (int)(pre_len > 64 ? 64 : pre_len), pre);
            p = AI__PRE_GPT2;
        }
        v->pre = p;
        v->nfc = p == AI__PRE_QWEN2;
        /* Llama 3's tokenizer takes a word that is in the vocabulary as it is
         * ("ignore_merges"); the other users of its pattern do not. */
        v->ignore_merges = (pre_len == 9 && !memcmp(pre, "llama-bpe", 9)) ||
                           (pre_len == 6 && !memcmp(pre, "llama3", 6)) ||
                           (pre_len == 8 && !memcmp(pre, "llama-v3", 8)) ||
                           (pre_len == 7 && !memcmp(pre, "falcon3", 7));
        st = build_merges(v, ai__gguf_find(g, "tokenizer.ggml.merges"), err, err_cap);
        if (st) goto fail;
    } else {
        v->nl = ai__vocab_find(v, "\n", 1);
    }
    st = build_specials(v);
    if (st) goto fail;
    *out = v;
    return AI_OK;
fail:
    if (st == AI_E_FORMAT && err && err_cap && !err[0])
        ai__set_err(err, err_cap, "tokenizer metadata is malformed");
    if (st == AI_E_NOMEM) ai__set_err(err, err_cap, "tokenizer: out of memory");
    ai__vocab_free(v);
    return st;
}
