#!/bin/sh
# bench_tokenize.sh - tokenization throughput per tokenizer type.
#
#   sh tools/bench_tokenize.sh [BUILD_DIR] [FIXTURES_DIR]
#
# Builds a ~3 MB mixed corpus in a temporary file: 1.5 MB English (the
# system's git release notes and licence texts), 1 MB C code (this
# repository), 0.5 MB CJK (vim's Chinese, Japanese and Korean tutors, 157 kB
# of real prose, plus generated Chinese: random common ideographs with
# full-width punctuation, fixed seed, a worst case for caching), interleaved
# in 50 chunks.  Then runs `agentinfer tokenize --bench` with every vocabulary
# of the fixtures.  One thread; MB/s(cpu) counts this process's CPU time,
# which is the fairer number on a shared machine.
set -e
BUILD=${1:-build}
FX=${2:-../shared/fixtures}
BIN=$BUILD/bin/agentinfer
CORPUS=$(mktemp /tmp/ai_tok_corpus.XXXXXX)
trap 'rm -f "$CORPUS"' EXIT
python3 - "$CORPUS" <<'PY'
import glob, random, sys
random.seed(7)
en = []
for f in sorted(glob.glob('/usr/share/doc/git/RelNotes/*.txt')) + sorted(glob.glob('/usr/share/common-licenses/*')):
    try:
        en.append(open(f, encoding='utf-8', errors='replace').read())
    except (IsADirectoryError, OSError):
        pass
en = "\n".join(en)[:1_500_000]
code = []
for f in sorted(glob.glob('lib/*.[ch]') + glob.glob('examples/cli/*.c') + glob.glob('tests/unit/*.c')):
    if 'unicode_data' not in f:
        code.append(open(f, encoding='utf-8').read())
code = "\n".join(code)
while len(code) < 1_000_000:
    code += code
code = code[:1_000_000]
common = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
punct = "，。、；：？！"
cjk = []
for f in ['zh_cn', 'zh_tw', 'ja', 'ko']:
    try:
        cjk.append(open('/usr/share/vim/vim90/tutor/tutor.%s.utf-8' % f, encoding='utf-8').read())
    except OSError:
        pass
n = sum(len(x) for x in cjk)
while n < 170_000:  # characters; ~0.5 MB in UTF-8
    s = "".join(random.choice(common) for _ in range(random.randint(8, 30))) + random.choice(punct)
    cjk.append(s)
    n += len(s)
cjk = "".join(cjk)
# interleave in chunks so every part of the text mixes the three kinds
parts = []
step_en, step_code, step_cjk = len(en) // 50, len(code) // 50, len(cjk) // 50
for i in range(50):
    parts += [en[i*step_en:(i+1)*step_en], code[i*step_code:(i+1)*step_code], cjk[i*step_cjk:(i+1)*step_cjk]]
open(sys.argv[1], 'w', encoding='utf-8').write("\n".join(parts))
PY
echo "corpus: $(wc -c < "$CORPUS") bytes"
for v in ggml-vocab-llama-spm ggml-vocab-gpt-2 vocab-llama3 vocab-qwen3 ggml-vocab-bert-bge; do
    printf '%-22s ' "$v"
    "$BIN" tokenize -m "$FX/vocab/$v.gguf" -f "$CORPUS" --bench
done
