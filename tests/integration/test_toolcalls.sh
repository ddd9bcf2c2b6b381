#!/bin/sh
# `agentinfer toolcalls`: JSON on stdout for good and malformed outputs (exit
# 0 both times), tools file checks, streaming equal to one-shot, --format auto
# from a template file and from a model, and exit statuses 1/2 for usage and
# input errors.
set -u
AI_BIN=${AI_BIN:-build/bin/agentinfer}
AI_FIXTURES=${AI_FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

expect() { # description, expected stdout, command... (stdin from $tmp/in)
    d=$1; want=$2; shift 2
    got=$("$@" < "$tmp/in" 2>"$tmp/err"); rc=$?
    [ $rc -eq 0 ] || bad "$d: exit $rc ($(cat "$tmp/err"))"
    [ "$got" = "$want" ] || bad "$d: got $got"
}

printf 'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>' > "$tmp/in"
expect "hermes call" \
  '{"content":"Checking.","tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}],"error":false}' \
  "$AI_BIN" toolcalls --format hermes

printf '[{"type": "function", "function": {"name": "search", "parameters": {}}}]' > "$tmp/tools.json"
expect "undeclared tool is an error in the JSON, exit 0" \
  '{"content":"Checking.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>","tool_calls":[],"error":true,"message":"tool '"'"'get_weather'"'"' was not declared at byte 10"}' \
  "$AI_BIN" toolcalls --format hermes --tools "$tmp/tools.json"

# streaming in 3-byte pieces ends with the one-shot result
one=$("$AI_BIN" toolcalls --format hermes < "$tmp/in")
last=$("$AI_BIN" toolcalls --format hermes --stream 3 < "$tmp/in" | tail -n 1)
[ "$one" = "$last" ] || bad "stream result differs: $last"
deltas=$("$AI_BIN" toolcalls --format hermes --stream 3 < "$tmp/in" | grep -c get_weather)
[ "$deltas" -eq 2 ] || bad "the call should appear once in the deltas and once in the result ($deltas)"

# pythonic with a positional argument: malformed, exit 0
printf '[get_weather("Paris")]' > "$tmp/in"
out=$("$AI_BIN" toolcalls --format pythonic < "$tmp/in"); rc=$?
[ $rc -eq 0 ] || bad "malformed output: exit $rc"
case $out in *'"error":true'*positional*) ;; *) bad "positional: $out" ;; esac

# usage and input errors
"$AI_BIN" toolcalls < "$tmp/in" >/dev/null 2>&1; [ $? -eq 1 ] || bad "no --format: not exit 1"
"$AI_BIN" toolcalls --format nope < "$tmp/in" >/dev/null 2>&1; [ $? -eq 1 ] || bad "unknown format: not exit 1"
"$AI_BIN" toolcalls --format auto < "$tmp/in" >/dev/null 2>&1; [ $? -eq 1 ] || bad "auto without a model: not exit 1"
"$AI_BIN" toolcalls --format hermes --tools "$tmp/missing.json" < "$tmp/in" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || bad "missing tools file: not exit 2"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || bad "missing tools file: stderr is not one line"
printf '[{"name": }]' > "$tmp/badtools.json"
"$AI_BIN" toolcalls --format hermes --tools "$tmp/badtools.json" < "$tmp/in" >/dev/null 2>&1
[ $? -eq 2 ] || bad "malformed tools file: not exit 2"
printf 'a\377b' > "$tmp/in"
"$AI_BIN" toolcalls --format hermes < "$tmp/in" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || bad "invalid UTF-8: not exit 2"
grep -q "at byte 1" "$tmp/err" || bad "invalid UTF-8: $(cat "$tmp/err")"
"$AI_BIN" toolcalls --format hermes --stream 1 < "$tmp/in" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || bad "invalid UTF-8 streamed: not exit 2"
printf '[{"name": }]' > "$tmp/badtools.json"
printf 'x' > "$tmp/in"
"$AI_BIN" toolcalls --format hermes --tools "$tmp/badtools.json" < "$tmp/in" >/dev/null 2>"$tmp/err"
grep -q "badtools.json: tools: unexpected character at byte 10" "$tmp/err" || bad "tools message: $(cat "$tmp/err")"

# --format auto from real templates and a model
if [ -d "$AI_FIXTURES/templates" ]; then
    printf '<tool_call>{"name": "f", "arguments": {}}</tool_call>' > "$tmp/in"
    "$AI_BIN" toolcalls --format auto --template "$AI_FIXTURES/templates/Qwen-Qwen3-0.6B.jinja" \
        < "$tmp/in" >"$tmp/out" 2>"$tmp/err" || bad "auto (template): exit $?"
    grep -q 'format hermes' "$tmp/err" || bad "auto (template): $(cat "$tmp/err")"
    grep -q '"name":"f"' "$tmp/out" || bad "auto (template): $(cat "$tmp/out")"
    printf '[TOOL_CALLS][{"name": "f", "arguments": {}, "id": "abcdefghi"}]' > "$tmp/in"
    "$AI_BIN" toolcalls --format auto --template "$AI_FIXTURES/templates/mistralai-Mistral-Nemo-Instruct-2407.jinja" \
        < "$tmp/in" >"$tmp/out" 2>"$tmp/err" || bad "auto (mistral): exit $?"
    grep -q '"id":"abcdefghi"' "$tmp/out" || bad "auto (mistral): $(cat "$tmp/out")"
fi
if [ -f "$AI_FIXTURES/models/qwen3-f16.gguf" ]; then
    printf 'hello' > "$tmp/in"
    "$AI_BIN" toolcalls --format auto -m "$AI_FIXTURES/models/qwen3-f16.gguf" < "$tmp/in" >"$tmp/out" 2>"$tmp/err" \
        || bad "auto (model): exit $?"
    grep -q '"content":"hello"' "$tmp/out" || bad "auto (model): $(cat "$tmp/out")"
fi
if [ -f "$AI_FIXTURES/vocab/vocab-qwen3.gguf" ]; then
    printf '<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>' > "$tmp/in"
    "$AI_BIN" toolcalls --format auto -m "$AI_FIXTURES/vocab/vocab-qwen3.gguf" < "$tmp/in" >"$tmp/out" 2>"$tmp/err" \
        || bad "auto (qwen3 vocab): exit $?"
    grep -q 'format hermes' "$tmp/err" || bad "auto (qwen3 vocab): $(cat "$tmp/err")"
    grep -q '"arguments":{"a":1}' "$tmp/out" || bad "auto (qwen3 vocab): $(cat "$tmp/out")"
fi
"$AI_BIN" toolcalls --format auto -m "$tmp/missing.gguf" < "$tmp/in" >/dev/null 2>&1
[ $? -eq 2 ] || bad "auto with a missing model: not exit 2"
exit $fail
