#!/bin/sh
# `agentinfer tokenize` / `detokenize`: ids of fixture strings equal the
# peer's (the .out files of ../shared/fixtures/vocab), the --pieces and -f
# forms, detokenize gives the text back, and the exit statuses 1 (usage) and
# 2 (bad input, one line on stderr).
set -u
AI_BIN=${AI_BIN:-build/bin/agentinfer}
F=${AI_FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# --- usage errors (no fixtures needed) ---
. "$ROOT/tests/integration/nodefault.sh" # nodefault CMD...: as if no default model existed
nodefault tokenize -p hi >/dev/null 2>&1; [ $? -eq 1 ] || bad "tokenize without -m: not exit 1"
"$AI_BIN" tokenize -m x.gguf >/dev/null 2>&1; [ $? -eq 1 ] || bad "tokenize without text: not exit 1"
nodefault detokenize 1 2 >/dev/null 2>&1; [ $? -eq 1 ] || bad "detokenize without -m: not exit 1"
# with the shipped default model, a missing -m means that model, said on stderr
if [ -f "$ROOT/models/default.gguf" ]; then
    (cd "$ROOT" && "$AI_BIN" tokenize -p "Hello" >"$tmp/out" 2>"$tmp/err") || bad "tokenize with the default model failed"
    grep -q "using the default model" "$tmp/err" || bad "default model: not said on stderr"
    [ -s "$tmp/out" ] || bad "default model: no tokens"
    (cd "$tmp" && "$AI_BIN" tokenize -p "Hello" >/dev/null 2>&1) || bad "default model not found from another folder"
fi
"$AI_BIN" tokenize -m "$tmp/missing.gguf" -p hi >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || bad "missing model: not exit 2"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || bad "missing model: stderr not one line"

[ -d "$F/vocab" ] || { [ $fail -eq 0 ] && { echo "fixtures not found: skipped the rest"; exit 77; }; exit 1; }
V=$F/vocab

# string number N of X.gguf.inp (1-based) and line N of X.gguf.out
inp() { awk -v n="$2" 'BEGIN{RS="\n__ggml_vocab_test__\n"; ORS=""} NR==n{print; exit}' "$V/$1.gguf.inp"; }
outl() { sed -n "${2}p" "$V/$1.gguf.out" | sed 's/^ //'; }

for v in ggml-vocab-llama-spm ggml-vocab-gpt-2 ggml-vocab-bert-bge vocab-qwen3 vocab-llama3; do
    for n in 1 13 18 20 33; do
        text=$(inp $v $n)
        want=$(outl $v $n)
        got=$("$AI_BIN" tokenize -m "$V/$v.gguf" -p "$text") || bad "$v #$n: tokenize failed"
        [ "$got" = "$want" ] || bad "$v #$n: got '$got', want '$want'"
    done
done

# -f, --pieces, --add-special, detokenize
printf 'Hello world' > "$tmp/t.txt"
got=$("$AI_BIN" tokenize -m "$V/vocab-llama3.gguf" -f "$tmp/t.txt" --add-special)
[ "$got" = "128000 9906 1917" ] || bad "-f --add-special: got '$got'"
got=$("$AI_BIN" tokenize -m "$V/vocab-llama3.gguf" -p "Hello world" --pieces | tr '\t' '|')
[ "$got" = "$(printf '9906|Hello\n1917| world')" ] || bad "--pieces: got '$got'"
got=$("$AI_BIN" tokenize -m "$V/vocab-qwen3.gguf" -p "<|im_start|>hi" --parse-special)
[ "${got%% *}" = "151644" ] || bad "--parse-special: got '$got'"
got=$("$AI_BIN" detokenize -m "$V/ggml-vocab-llama-spm.gguf" 15043 3186)
[ "$got" = "Hello world" ] || bad "detokenize: got '$got'"
got=$("$AI_BIN" detokenize -m "$V/vocab-qwen3.gguf" --render-special 151644 6023)
[ "$got" = "<|im_start|>hi" ] || bad "detokenize --render-special: got '$got'"

# bad ids: exit 2 with one line
"$AI_BIN" detokenize -m "$V/ggml-vocab-gpt-2.gguf" 99999999 >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || bad "id out of range: not exit 2"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || bad "id out of range: stderr not one line"
"$AI_BIN" detokenize -m "$V/ggml-vocab-gpt-2.gguf" 12x >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || bad "non-numeric id: not exit 2"
exit $fail
