#!/bin/sh
# `agentinfer info`: the right shape for every fixture model (the table in
# ../shared/fixtures/README.md is the truth), and exit status 2 with a single
# line on stderr for inputs that are not GGUF models.
set -u
AI_BIN=${AI_BIN:-build/bin/agentinfer}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# --- bad inputs (no fixtures needed) ---
expect_exit2() { # description, path
    "$AI_BIN" info "$2" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || bad "$1: exit $rc, expected 2"
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || bad "$1: stderr is not one line: $(cat "$tmp/err")"
    [ -s "$tmp/out" ] && bad "$1: printed to stdout"
}
head -c 4096 /dev/urandom > "$tmp/random.bin"
: > "$tmp/empty.gguf"
printf 'GGUF\003\000\000\000\001\000\000' > "$tmp/truncated.gguf"
mkdir "$tmp/dir.gguf"
expect_exit2 "random bytes" "$tmp/random.bin"
expect_exit2 "empty file" "$tmp/empty.gguf"
expect_exit2 "truncated file" "$tmp/truncated.gguf"
expect_exit2 "directory" "$tmp/dir.gguf"
expect_exit2 "missing path" "$tmp/missing.gguf"
"$AI_BIN" info >/dev/null 2>&1; [ $? -eq 1 ] || bad "no argument: exit status is not 1"
"$AI_BIN" info --bogus x >/dev/null 2>&1; [ $? -eq 1 ] || bad "unknown option: exit status is not 1"
"$AI_BIN" --help | grep -q "info" || bad "--help does not list info"

# --- fixtures ---
F=${AI_FIXTURES:-}
if [ -z "$F" ] || [ ! -d "$F/models" ]; then
    [ $fail -eq 0 ] || exit 1
    echo "fixtures not found: only the bad-input checks ran"; exit 77
fi
# file: arch n_embd n_layer n_head n_head_kv n_ff (README table)
while read -r file arch embd layers heads kv ff; do
    path="$F/models/$file"
    "$AI_BIN" info --json "$path" > "$tmp/j" 2>"$tmp/err" || { bad "$file: $(cat "$tmp/err")"; continue; }
    python3 - "$tmp/j" "$arch" "$embd" "$layers" "$heads" "$kv" "$file" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
arch, embd, layers, heads, kv, name = sys.argv[2], *map(int, sys.argv[3:7]), sys.argv[7]
keys = ["arch", "name", "n_params", "n_vocab", "n_ctx_train", "n_embd", "n_layer", "n_head",
        "n_head_kv", "tokenizer", "has_chat_template", "tensor_types"]
assert list(j) == keys, (name, list(j))
got = (j["arch"], j["n_embd"], j["n_layer"], j["n_head"], j["n_head_kv"])
assert got == (arch, embd, layers, heads, kv), (name, got)
assert j["n_vocab"] == (4096 if arch in ("llama", "qwen2", "qwen3") else 8192), (name, j["n_vocab"])
quant = name.split("-")[-1].split(".")[0].replace("q4_k_m", "q4_k")
assert quant in j["tensor_types"], (name, j["tensor_types"])
assert sum(j["tensor_types"].values()) > 4 * 9, name
assert 3_000_000 < j["n_params"] < 7_000_000, (name, j["n_params"])
PY
    "$AI_BIN" info "$path" > "$tmp/t" || bad "$file: text mode failed"
    grep -q "^architecture: *$arch$" "$tmp/t" || bad "$file: text mode lacks the architecture"
done <<'EOF2'
llama-f16.gguf llama 256 4 8 4 768
llama-q8_0.gguf llama 256 4 8 4 768
llama-q4_0.gguf llama 256 4 8 4 768
llama-q4_k_m.gguf llama 256 4 8 4 768
llama-q6_k.gguf llama 256 4 8 4 768
qwen2-f16.gguf qwen2 256 4 8 2 768
qwen2-q8_0.gguf qwen2 256 4 8 2 768
qwen3-f16.gguf qwen3 256 4 8 2 768
qwen3-q4_k_m.gguf qwen3 256 4 8 2 768
bert-f16.gguf bert 256 4 8 8 768
bert-q8_0.gguf bert 256 4 8 8 768
nomic-bert-f16.gguf nomic-bert 256 4 8 8 768
EOF2
# every other fixture GGUF loads too
for f in "$F"/vocab/*.gguf "$F"/quants/*.gguf; do
    "$AI_BIN" info --json "$f" > /dev/null 2>"$tmp/err" || bad "$f: $(cat "$tmp/err")"
done
"$AI_BIN" info --json "$F/vocab/vocab-qwen3.gguf" | grep -q '"has_chat_template": true' || bad "qwen3 vocab has a chat template"
exit $fail
