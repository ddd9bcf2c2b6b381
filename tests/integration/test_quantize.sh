#!/bin/sh
# `agentinfer quantize`: the output of a fixture model loads (agentinfer info)
# with its matrices in the requested type and 1-D tensors in f32; bad input
# gives exit 2 with one line on stderr, bad usage exit 1; a failed run leaves
# no output file.  `agentinfer bench-kernels --help` answers.
set -u
AI_BIN=${AI_BIN:-build/bin/agentinfer}
AI_FIXTURES=${AI_FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

"$AI_BIN" quantize >/dev/null 2>&1; [ $? -eq 1 ] || bad "no argument: exit status is not 1"
"$AI_BIN" quantize a b q9_9 >/dev/null 2>&1; [ $? -eq 1 ] || bad "unknown type: exit status is not 1"
"$AI_BIN" quantize "$tmp/missing.gguf" "$tmp/out.gguf" q8_0 >"$tmp/o" 2>"$tmp/e"
[ $? -eq 2 ] || bad "missing input: exit status is not 2"
[ "$(wc -l < "$tmp/e")" -eq 1 ] || bad "missing input: stderr is not one line"
[ -e "$tmp/out.gguf" ] && bad "missing input: an output file was left"
head -c 100 /dev/urandom > "$tmp/junk.gguf"
"$AI_BIN" quantize "$tmp/junk.gguf" "$tmp/out.gguf" q8_0 >/dev/null 2>&1; [ $? -eq 2 ] || bad "junk input: exit status is not 2"
"$AI_BIN" bench-kernels --help | grep -q "matrix-vector" || bad "bench-kernels --help"

m="$AI_FIXTURES/models/llama-f16.gguf"
if [ ! -f "$m" ]; then echo "fixtures not found: only the error cases ran"; [ $fail -eq 0 ] && exit 77; exit 1; fi
"$AI_BIN" quantize "$m" "$m" q8_0 >/dev/null 2>&1; [ $? -eq 2 ] || bad "same input and output: exit status is not 2"
for t in q8_0 q4_0 q4_k q6_k iq4_xs bf16; do
    "$AI_BIN" quantize --threads 2 "$m" "$tmp/$t.gguf" $t || { bad "quantize to $t failed"; continue; }
    "$AI_BIN" info "$tmp/$t.gguf" > "$tmp/info" 2>&1 || { bad "$t: output does not load"; continue; }
    grep -q "tensor types: *f32 x 9 $t x 29" "$tmp/info" || bad "$t: tensor types: $(grep 'tensor types' "$tmp/info")"
    grep -q "architecture: *llama" "$tmp/info" || bad "$t: metadata not copied"
    ls "$tmp" | grep -q '\.tmp' && bad "$t: a temporary file was left"
done
exit $fail
