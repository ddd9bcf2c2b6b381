#!/usr/bin/env python3
"""pretok_regex.py - the pre-tokenizer patterns run by a real regex engine
(the Python `regex` module), as an independent check of the hand-written
matchers in lib/tok_pre.c.  Used by tests/unit/test_pretok_regex.c.

  python3 tools/pretok_regex.py IN OUT

IN holds UTF-8 strings, each ended by a NUL byte.  OUT receives, for each
pre-tokenizer 0..6 (enum ai__pre_type order) and each string, the pieces
joined by 0x01 and ended by NUL.  Exit status 3 when `regex` is missing.
Splitting follows the reference tokenizers: matches and the text between
them are pieces ("Isolated"), and each pattern of a sequence re-splits the
pieces of the one before.
"""
import sys

try:
    import regex
except ImportError:
    sys.exit(3)

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")
# DeepSeek LLM's letter class, with the range ends of its tokenizer.json
# (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A written as escapes so that
# no editor's normalisation can change them).
DSL = ("[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293"
       "\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a"
       "\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556"
       "\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b"
       "\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d"
       "\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe"
       "\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4"
       "\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128"
       "\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184"
       "\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b"
       "\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17"
       "\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3"
       "\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2"
       "\U000118a0-\U000118df\U0001e900-\U0001e943]")
CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"
SEQ = [
    [GPT2],
    [LLAMA3],
    [QWEN2],
    [r"\p{N}", GPT2],                                        # starcoder
    [r"[\p{P}\$\+<=>\^~\|`]+", GPT2, r"[0-9][0-9][0-9]"],    # falcon
    [r"[\r\n]", r"\s?" + DSL + "+",                          # deepseek-llm
     "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+", r"\s+$", CJK,
     r"\p{N}"],
    [r"[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", CJK, r"\p{N}"],  # deepseek-coder
]


def split1(pat, s):
    out, last = [], 0
    for m in regex.finditer(pat, s):
        if m.start() == m.end():
            continue
        if m.start() > last:
            out.append(s[last:m.start()])
        out.append(m.group())
        last = m.end()
    if last < len(s):
        out.append(s[last:])
    return out


def main():
    data = open(sys.argv[1], "rb").read()
    strs = [x.decode("utf-8") for x in data.split(b"\0")[:-1]]
    with open(sys.argv[2], "wb") as f:
        for seq in SEQ:
            for s in strs:
                pieces = [s] if s else []
                for p in seq:
                    pieces = [x for piece in pieces for x in split1(p, piece)]
                f.write(b"\x01".join(x.encode("utf-8") for x in pieces) + b"\0")


if __name__ == "__main__":
    main()
