#!/bin/sh
# `agentinfer logits` and `agentinfer bench` on the fixture models: logits
# prints the schema of ../shared/fixtures/refs/*.pN.json with the peer's
# greedy continuation, bench prints its JSON; bad input exits 1 or 2.
set -u
AI_BIN=${AI_BIN:-build/bin/agentinfer}
F=${AI_FIXTURES:-../shared/fixtures}
[ -d "$F/refs" ] || { echo "fixtures not found"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "python3 not found (used to read JSON)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

for ref in llama-q8_0.p0 qwen3-f16.p1 llama-f16.p1; do
    model=${ref%.*}
    toks=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['tokens'])))" "$F/refs/$ref.json")
    if [ "$ref" = llama-q8_0.p0 ]; then
        "$AI_BIN" logits -m "$F/models/$model.gguf" --tokens "$toks" -t 2 > "$tmp/out.json" 2>"$tmp/err" \
            || bad "$ref: logits --tokens exit $? ($(cat "$tmp/err"))"
    else
        prompt=$(python3 -c "import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))['prompt'])" "$F/refs/$ref.json")
        "$AI_BIN" logits -m "$F/models/$model.gguf" -p "$prompt" -t 2 > "$tmp/out.json" 2>"$tmp/err" \
            || bad "$ref: logits -p exit $? ($(cat "$tmp/err"))"
    fi
    python3 - "$tmp/out.json" "$F/refs/$ref.json" <<'PY' || bad "$ref: output does not match the refs schema"
import json, sys
ours, peer = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert set(ours) == set(peer), (sorted(ours), sorted(peer))
assert ours["tokens"] == peer["tokens"] and ours["n_vocab"] == peer["n_vocab"]
assert len(ours["positions"]) == len(peer["positions"])
assert all(len(p["top"]) == 16 for p in ours["positions"])
assert len(ours["last_logits"]) == peer["n_vocab"]
assert [g["id"] for g in ours["greedy"]] == [g["id"] for g in peer["greedy"]]
assert all(len(g["logits"]["top"]) == 8 for g in ours["greedy"])
# our own top-1 is the argmax of our logits
p = ours["positions"][-1]
assert p["top"][0][0] == max(range(len(ours["last_logits"])), key=lambda i: ours["last_logits"][i])
PY
done

"$AI_BIN" bench -m "$F/models/llama-q4_0.gguf" -p 32 -n 8 -r 2 -t 2 --json > "$tmp/bench.json" 2>"$tmp/err" \
    || bad "bench exit $? ($(cat "$tmp/err"))"
python3 -c "
import json, sys
b = json.load(open(sys.argv[1]))
assert b['pp']['n'] == 32 and b['tg']['n'] == 8
assert b['pp']['tps'] > 0 and b['tg']['tps'] > 0 and b['pp']['sd'] >= 0
" "$tmp/bench.json" || bad "bench --json: $(cat "$tmp/bench.json")"
"$AI_BIN" bench -m "$F/models/llama-q4_0.gguf" -p 8 -n 2 -r 1 | grep -q "| pp8 |" || bad "bench table"

# generate: the greedy text, cut by a stop string
"$AI_BIN" generate -m "$F/models/qwen3-f16.gguf" -p "Hello" -n 12 --temp 0 -t 2 > "$tmp/gen" 2>"$tmp/err" \
    || bad "generate exit $? ($(cat "$tmp/err"))"
[ "$(wc -c < "$tmp/gen")" -gt 4 ] || bad "generate printed too little: $(cat "$tmp/gen")"
stop=$(head -c 6 "$tmp/gen" | tail -c 2)
"$AI_BIN" generate -m "$F/models/qwen3-f16.gguf" -p "Hello" -n 12 --temp 0 -t 2 --stop "$stop" > "$tmp/gen2" 2>&1 \
    || bad "generate --stop exit $?"
python3 -c "
import sys
full, cut, stop = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3]
assert cut.rstrip('\n') == full[:full.index(stop)], (full, cut, stop)
" "$tmp/gen" "$tmp/gen2" "$stop" || bad "generate --stop '$stop' did not cut the text"
"$AI_BIN" generate -m "$F/models/qwen3-f16.gguf" >/dev/null 2>&1; [ $? -eq 1 ] || bad "generate without -p: not exit 1"

# bad input
. "$ROOT/tests/integration/nodefault.sh" # nodefault CMD...: as if no default model existed
nodefault logits --tokens 1,2 >/dev/null 2>&1; [ $? -eq 1 ] || bad "logits without -m: not exit 1"
"$AI_BIN" logits -m "$F/models/llama-q4_0.gguf" --tokens 1,x >/dev/null 2>&1; [ $? -eq 1 ] || bad "bad token list: not exit 1"
"$AI_BIN" logits -m "$F/models/llama-q4_0.gguf" --tokens 1,99999 >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || bad "token out of range: not exit 2"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || bad "token out of range: stderr not one line"
"$AI_BIN" bench -m "$tmp/missing.gguf" >/dev/null 2>&1; [ $? -eq 2 ] || bad "bench on a missing file: not exit 2"
"$AI_BIN" bench -m "$F/vocab/ggml-vocab-llama-spm.gguf" -p 8 -n 2 -r 1 >/dev/null 2>&1
[ $? -eq 2 ] || bad "bench on a vocabulary-only file: not exit 2"
exit $fail
