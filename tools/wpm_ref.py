#!/usr/bin/env python3
"""wpm_ref.py - uncased BERT tokenization written from its definition (the
basic tokenizer: clean, CJK split, strip accents, lower-case, punctuation
split; then greedy longest-match WordPiece), as an independent check of
lib/tok_wpm.c.  Used by tests/unit/test_tokenizer_ref.c.

  python3 tools/wpm_ref.py VOCAB.gguf IN OUT

GGUF WordPiece vocabularies mark word-initial pieces with U+2581 and drop
the "##" of continuations.  One line of ids per NUL-ended string of IN.
"""
import sys
import unicodedata

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bpe_ref import read_gguf  # noqa: E402


def is_cjk(c):
    o = ord(c)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF or
            0x2A700 <= o <= 0x2B73F or 0x2B740 <= o <= 0x2B81F or 0x2B820 <= o <= 0x2CEAF or
            0xF900 <= o <= 0xFAFF or 0x2F800 <= o <= 0x2FA1F)


def is_punct(c):
    o = ord(c)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def is_control(c):
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C")


def main():
    kv = read_gguf(sys.argv[1])
    tokens = kv["tokenizer.ggml.tokens"]
    tid = {}
    for i, t in enumerate(tokens):
        tid[t] = i
    unk = kv.get("tokenizer.ggml.unknown_token_id", tid.get("[UNK]"))
    strs = [x.decode("utf-8") for x in open(sys.argv[2], "rb").read().split(b"\0")[:-1]]
    out = []
    for s in strs:
        # clean: drop NUL, U+FFFD and control characters; whitespace -> space
        t = "".join(" " if (c in "\t\n\r" or c.isspace()) else c for c in s
                    if c != "\0" and c != "\ufffd" and not is_control(c))
        t = "".join(" %s " % c if is_cjk(c) else c for c in t)
        t = "".join(c for c in unicodedata.normalize("NFD", t) if unicodedata.category(c) != "Mn")
        t = t.lower()
        words = []
        for w in t.split():
            cur = ""
            for c in w:
                if is_punct(c):
                    if cur:
                        words.append(cur)
                    words.append(c)
                    cur = ""
                else:
                    cur += c
            if cur:
                words.append(cur)
        ids = []
        for w in words:
            if len(w) > 100:
                ids.append(unk)
                continue
            pieces, start, ok = [], 0, True
            while start < len(w):
                end, found = len(w), None
                while end > start:
                    sub = ("\u2581" if start == 0 else "") + w[start:end]
                    if sub in tid:
                        found = tid[sub]
                        break
                    end -= 1
                if found is None:
                    ok = False
                    break
                pieces.append(found)
                start = end
            ids.extend(pieces if ok else [unk])
        out.append(" ".join(map(str, ids)))
    open(sys.argv[3], "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
