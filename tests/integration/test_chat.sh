#!/bin/sh
# `agentinfer chat`: each turn must print exactly what `agentinfer generate`
# prints for the prompt `agentinfer chat-render` makes of the conversation so
# far (greedy sampling), so reusing the context's common prefix between turns
# gives the same text as evaluating the whole prompt afresh.  Also /reset,
# /quit and usage errors.  Needs the fixture models (skips without them).
set -u
AI_BIN=${AI_BIN:-build/bin/agentinfer}
F=${AI_FIXTURES:-}
M="$F/models/qwen3-f16.gguf"
[ -n "$F" ] && [ -f "$M" ] || { echo "fixtures not found"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
OPTS="--temp 0 -n 12 -t 2"
# A prompt that does not end in a newline: these tiny random-weight models
# answer a ChatML prompt with newlines only, whatever came before; here the
# greedy answer depends on the context, so a wrong context shows.
printf '%s' "{{ messages | map(attribute='content') | join(' ') }}" > "$tmp/t.jinja"
T="--template $tmp/t.jinja"

# generate's output (with its final newline) for the rendered conversation
# in messages file $1, into file $2.
expect_turn() {
    "$AI_BIN" chat-render -m "$M" $T --messages "$1" > "$tmp/prompt" || bad "chat-render failed"
    # the prompt goes through -p whole (a trailing newline included)
    P="$(cat "$tmp/prompt"; printf x)"
    "$AI_BIN" generate -m "$M" -p "${P%x}" $OPTS > "$2" || bad "generate failed"
}

SYS="You are a terse assistant on a small test model."
printf '%s' '[{"role": "system", "content": "'"$SYS"'"}, {"role": "user", "content": "Hello there"}]' > "$tmp/m1.json"
expect_turn "$tmp/m1.json" "$tmp/want1"
printf 'Hello there\n' | "$AI_BIN" chat -m "$M" $T --system "$SYS" $OPTS > "$tmp/got1" 2>"$tmp/err1"
[ $? -eq 0 ] || bad "chat: exit status $? ($(cat "$tmp/err1"))"
cmp -s "$tmp/got1" "$tmp/want1" || bad "turn 1 differs from chat-render + generate"
# and with the model's own template (ChatML here: the model has none)
printf 'Hello there\n' | "$AI_BIN" chat -m "$M" --system "$SYS" $OPTS > "$tmp/got_own" 2>/dev/null
T_SAVE=$T; T=""; expect_turn "$tmp/m1.json" "$tmp/want_own"; T=$T_SAVE
cmp -s "$tmp/got_own" "$tmp/want_own" || bad "turn 1 with the model's template differs"

# /reset starts over: the same answer again; /quit stops before the last line
printf 'Hello there\n/reset\nHello there\n/quit\nnot read\n' | "$AI_BIN" chat -m "$M" $T --system "$SYS" $OPTS > "$tmp/got_reset" 2>/dev/null
cat "$tmp/want1" "$tmp/want1" > "$tmp/want_reset"
cmp -s "$tmp/got_reset" "$tmp/want_reset" || bad "/reset or /quit"

# turn 2: the conversation holds the first answer (needs python3 for JSON)
if command -v python3 >/dev/null 2>&1; then
    python3 - "$tmp" "$SYS" <<'PY'
import json, sys
t = sys.argv[1]
a1 = open(t + "/want1", encoding="utf-8").read()[:-1]  # generate's newline
json.dump([{"role": "system", "content": sys.argv[2]},
           {"role": "user", "content": "Hello there"}, {"role": "assistant", "content": a1},
           {"role": "user", "content": "Tell me more, please."}], open(t + "/m2.json", "w"))
PY
    expect_turn "$tmp/m2.json" "$tmp/want2"
    printf 'Hello there\nTell me more, please.\n' | "$AI_BIN" chat -m "$M" $T --system "$SYS" $OPTS > "$tmp/got2" 2>/dev/null
    cat "$tmp/want1" "$tmp/want2" > "$tmp/want12"
    cmp -s "$tmp/got2" "$tmp/want12" || bad "turn 2 differs from chat-render + generate"
fi

. "$ROOT/tests/integration/nodefault.sh" # nodefault CMD...: as if no default model existed
nodefault chat </dev/null >/dev/null 2>&1; [ $? -eq 1 ] || bad "no model: exit status is not 1"
"$AI_BIN" chat -m "$M" --bogus </dev/null >/dev/null 2>&1; [ $? -eq 1 ] || bad "unknown option: exit status is not 1"
"$AI_BIN" chat -m "$tmp/missing.gguf" </dev/null >/dev/null 2>&1; [ $? -eq 2 ] || bad "missing model: exit status is not 2"
exit $fail
