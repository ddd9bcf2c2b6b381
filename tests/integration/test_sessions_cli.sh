#!/bin/sh
# `agentinfer generate --session FILE` and `agentinfer bench-agent` on the
# fixture models: a second run with the same prompt reuses the saved prefix
# and prints the same greedy text as the first; a state file that is not
# valid for the model gives exit 2 with the reason and is left untouched.
set -u
AI_BIN=${AI_BIN:-build/bin/agentinfer}
F=${AI_FIXTURES:-../shared/fixtures}
[ -d "$F/models" ] || { echo "fixtures not found"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
M="$F/models/llama-f16.gguf"
P="The agent reads the file, then searches the code for the pattern and reports"
gen() { "$AI_BIN" generate -m "$M" -p "$P" -n 8 --temp 0 -t 2 -c 256 "$@"; }

# reference: no session
gen > "$tmp/plain.txt" 2>"$tmp/err" || bad "generate without --session: exit $?"
# first run creates the file, second reuses it
gen --session "$tmp/s.aistate" > "$tmp/one.txt" 2>"$tmp/err1" || bad "first --session run: exit $? ($(cat "$tmp/err1"))"
[ -s "$tmp/s.aistate" ] || bad "no state file written"
grep -q "reused 0 of" "$tmp/err1" || bad "first run: $(cat "$tmp/err1")"
gen --session "$tmp/s.aistate" > "$tmp/two.txt" 2>"$tmp/err2" || bad "second --session run: exit $? ($(cat "$tmp/err2"))"
n=$(sed -n 's/.*reused \([0-9]*\) of \([0-9]*\) prompt tokens.*/\1 \2/p' "$tmp/err2")
set -- $n
if [ $# -eq 2 ]; then
    [ "$1" -eq $(($2 - 1)) ] || bad "second run reused $1 of $2 tokens (want $(($2 - 1)))"
else
    bad "second run: no reuse line ($(cat "$tmp/err2"))"
fi
cmp -s "$tmp/plain.txt" "$tmp/one.txt" || bad "text with --session differs from without"
cmp -s "$tmp/one.txt" "$tmp/two.txt" || bad "text after reuse differs: '$(cat "$tmp/one.txt")' vs '$(cat "$tmp/two.txt")'"

# invalid state files: exit 2, reason on stderr, file unchanged
printf 'not a state file' > "$tmp/junk.aistate"
: > "$tmp/empty.aistate"
head -c 300 "$tmp/s.aistate" > "$tmp/cut.aistate"
"$AI_BIN" generate -m "$F/models/qwen2-f16.gguf" -p "$P" -n 2 --temp 0 -t 2 -c 256 \
    --session "$tmp/other.aistate" >/dev/null 2>&1 || bad "qwen2 state: exit $?"
for f in junk empty cut other; do
    cp "$tmp/$f.aistate" "$tmp/$f.copy"
    gen --session "$tmp/$f.aistate" > /dev/null 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || bad "$f state file: exit $rc, want 2"
    grep -q "session $tmp/$f.aistate" "$tmp/err" || bad "$f: no reason on stderr ($(cat "$tmp/err"))"
    cmp -s "$tmp/$f.aistate" "$tmp/$f.copy" || bad "$f state file was changed"
done
grep -q "another model" "$tmp/err" || bad "other model: $(cat "$tmp/err")"

# the benchmark, scaled down
"$AI_BIN" bench-agent -m "$M" -t 2 -c 512 --system 120 --turns 3 --result 12 --gen 4 \
    > "$tmp/bench.txt" 2>"$tmp/err" || bad "bench-agent: exit $? ($(cat "$tmp/err"))"
grep -q "next token after load matches" "$tmp/bench.txt" || bad "bench-agent: $(cat "$tmp/bench.txt")"
grep -Eq "^ +3 +164 +152 +[0-9]" "$tmp/bench.txt" || bad "bench-agent turn 3 line: $(cat "$tmp/bench.txt")"
"$AI_BIN" bench-agent -m "$M" --turns x >/dev/null 2>&1
[ $? -eq 1 ] || bad "bench-agent bad option: want exit 1"
exit $fail
