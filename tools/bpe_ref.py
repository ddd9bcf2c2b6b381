#!/usr/bin/env python3
"""bpe_ref.py - a plain, slow byte-level BPE written from the textbook
definition, as an independent check of lib/tok_bpe.c (which uses a heap,
per-call caches and a Bloom filter).  Used by tests/unit/test_tokenizer_ref.c.

  python3 tools/bpe_ref.py VOCAB.gguf IN OUT

Reads tokenizer.ggml.tokens/merges/pre from the GGUF file, splits each
NUL-ended UTF-8 string of IN with the pre-tokenizer pattern (Python `regex`
module; NFC first for "qwen2"), maps bytes to GPT-2's byte-level characters,
and repeatedly merges the adjacent pair of lowest rank (leftmost on ties).
Llama 3 ("llama-bpe") takes a word that is a token as it is.  Writes the
ids of each string as decimal numbers separated by spaces, one line per
string.  Exit status 3 when `regex` is missing.
"""
import struct
import sys
import unicodedata

try:
    import regex
except ImportError:
    sys.exit(3)

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")


def read_gguf(path):
    d = open(path, "rb").read()
    o = [4]

    def u(fmt):
        v = struct.unpack_from("<" + fmt, d, o[0])
        o[0] += struct.calcsize(fmt)
        return v[0]

    def s():
        n = u("Q")
        v = d[o[0]:o[0] + n]
        o[0] += n
        return v.decode("utf-8", "replace")

    sc = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def val(t):
        if t == 8:
            return s()
        if t == 9:
            et = u("I")
            return [val(et) for _ in range(u("Q"))]
        return u(sc[t])

    u("I")
    u("Q")
    kv = {}
    for _ in range(u("Q")):
        k = s()
        kv[k] = val(u("I"))
    return kv


def byte_chars():
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    m, n = {}, 0
    for b in range(256):
        if b in keep:
            m[b] = chr(b)
        else:
            m[b] = chr(256 + n)
            n += 1
    return m


def main():
    kv = read_gguf(sys.argv[1])
    tokens = kv["tokenizer.ggml.tokens"]
    tid = {}
    for i, t in enumerate(tokens):
        tid[t] = i
    ranks = {}
    for r, m in enumerate(kv.get("tokenizer.ggml.merges", [])):
        a, b = m.split(" ", 1)
        ranks.setdefault((a, b), r)
    pre = kv.get("tokenizer.ggml.pre", "default")
    pat = {"llama-bpe": LLAMA3, "qwen2": QWEN2}.get(pre, GPT2)
    bc = byte_chars()
    strs = [x.decode("utf-8") for x in open(sys.argv[2], "rb").read().split(b"\0")[:-1]]
    out = []
    for s in strs:
        if pre == "qwen2":
            s = unicodedata.normalize("NFC", s)
        ids = []
        for w in regex.findall(pat, s):
            sym = [bc[b] for b in w.encode("utf-8")]
            if pre == "llama-bpe" and "".join(sym) in tid:
                ids.append(tid["".join(sym)])
                continue
            while len(sym) > 1:
                best, bi = None, -1
                for i in range(len(sym) - 1):
                    r = ranks.get((sym[i], sym[i + 1]))
                    if r is not None and sym[i] + sym[i + 1] in tid and (best is None or r < best):
                        best, bi = r, i
                if bi < 0:
                    break
                sym[bi:bi + 2] = [sym[bi] + sym[bi + 1]]
            ids.extend(tid[x] for x in sym)
        out.append(" ".join(map(str, ids)))
    open(sys.argv[3], "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
