#!/usr/bin/env python3
"""spm_ref.py - a plain, slow SentencePiece BPE as llama.cpp runs GGUF
"llama" vocabularies, written from the definition, as an independent check
of lib/tok_spm.c (which uses a heap and merges independent segments).  Used
by tests/unit/test_tokenizer_ref.c.

  python3 tools/spm_ref.py VOCAB.gguf IN OUT

Each NUL-ended UTF-8 string of IN gets a space in front, spaces become
U+2581, and starting from one symbol per character the adjacent pair whose
concatenation is a piece of highest score (leftmost on ties; control,
unknown and byte pieces excluded) is merged until none is left.  Symbols
that are not pieces become their bytes' <0xXX> tokens.  One line of ids per
string.
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bpe_ref import read_gguf  # noqa: E402


def main():
    kv = read_gguf(sys.argv[1])
    tokens = kv["tokenizer.ggml.tokens"]
    scores = kv["tokenizer.ggml.scores"]
    types = kv["tokenizer.ggml.token_type"]
    tid = {}
    for i, t in enumerate(tokens):
        tid[t] = i
    strs = [x.decode("utf-8") for x in open(sys.argv[2], "rb").read().split(b"\0")[:-1]]
    out = []
    for s in strs:
        if not s:
            out.append("")
            continue
        sym = list((" " + s).replace(" ", "\u2581"))
        while True:
            best, bi = None, -1
            for i in range(len(sym) - 1):
                t = tid.get(sym[i] + sym[i + 1])
                if t is None or types[t] in (2, 3, 6):
                    continue
                if best is None or scores[t] > best:
                    best, bi = scores[t], i
            if bi < 0:
                break
            sym[bi:bi + 2] = [sym[bi] + sym[bi + 1]]
        ids = []
        for x in sym:
            t = tid.get(x)
            if t is not None and types[t] not in (3, 6):
                ids.append(t)
            else:
                ids.extend(tid["<0x%02X>" % b] for b in x.encode("utf-8"))
        out.append(" ".join(map(str, ids)))
    open(sys.argv[3], "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
