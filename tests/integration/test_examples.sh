#!/bin/sh
# examples/*.c: built by `make examples` against the static and the shared
# library, then run against the fixture models: simple against the peer's
# greedy continuation, chat's prefix reuse, embed_search's nearest
# neighbours, and agent's tool loop driven by scripted model turns
# (calculator results, sandbox escapes refused, the confirmation rule for
# write_file, format detection, malformed calls, round limit).
set -u
ROOT=${ROOT:-$(pwd)}
BUILD=${BUILD:-build}
: "${AI_FIXTURES:=$ROOT/../shared/fixtures}"
cd "$ROOT" || exit 1
make -s examples BUILD="$BUILD" >/dev/null || { echo "FAIL: make examples"; exit 1; }
[ -d "$AI_FIXTURES/models" ] || { echo "fixtures absent ($AI_FIXTURES)"; exit 77; }
M=$AI_FIXTURES/models
T=$AI_FIXTURES/templates
EX=$ROOT/$BUILD/examples
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
PY=/usr/bin/python3
[ -x $PY ] || PY=python3

for v in "" -shared; do
    # ---- simple: the continuation is the peer's greedy one --------------------
    for name in llama-f16 qwen2-f16; do
        ref=$AI_FIXTURES/refs/$name.p0.json
        prompt=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["prompt"])' "$ref")
        "$EX/simple$v" -m "$M/$name.gguf" -p "$prompt" -n 16 --temp 0 -t 2 >"$tmp/out" 2>"$tmp/err" ||
            { bad "simple$v $name exit"; cat "$tmp/err"; }
        grep -q "tokens/s" "$tmp/err" || bad "simple$v $name: no speed line"
        # the expected text: the peer's greedy ids after the prompt, detokenized
        # through the library's tokenizer (tested against its own fixtures)
        [ "${SANITIZE:-}" = 1 ] || AGENTINFER_LIB="$ROOT/$BUILD/libagentinfer.so.0" $PY -B - "$ref" "$M/$name.gguf" "$tmp/out" <<'PY' || bad "simple$v $name: not the peer's greedy continuation"
import json, sys
sys.path.insert(0, "examples/python")
import agentinfer as ai
r = json.load(open(sys.argv[1]))
m = ai.Model(sys.argv[2])
ids = [g["id"] for g in r["greedy"]]
full = m.detokenize_bytes(r["tokens"] + ids)
head = m.detokenize_bytes(r["tokens"])
want = r["prompt"].encode() + full[len(head):] + b"\n"
got = open(sys.argv[3], "rb").read()
if got != want:
    print("want", want, "\ngot ", got)
    sys.exit(1)
PY
    done
    "$EX/simple$v" -m "$tmp/none.gguf" >/dev/null 2>"$tmp/err"; [ $? -eq 2 ] || bad "simple$v: missing model not exit 2"
    "$EX/simple$v" >/dev/null 2>&1; [ $? -eq 1 ] || bad "simple$v: no arguments not exit 1"

    # ---- chat: the second turn reuses at least the whole first prompt ------------
    printf 'Hello there\nAnd a second question\n' |
        "$EX/chat$v" -m "$M/qwen2-f16.gguf" --template "$T/Qwen-Qwen2.5-7B-Instruct.jinja" -n 8 --temp 0 \
        >"$tmp/out" 2>"$tmp/err" || { bad "chat$v exit"; cat "$tmp/err"; }
    set -- $(sed -n 's/^\[reused \([0-9]*\) of \([0-9]*\) tokens\]$/\1 \2/p' "$tmp/err")
    if [ $# -ne 4 ]; then bad "chat$v: expected two turns"; cat "$tmp/err"
    else
        [ "$1" -eq 0 ] || bad "chat$v: first turn reused $1"
        [ "$3" -ge "$2" ] || bad "chat$v: second turn reused $3 < first prompt $2"
        [ "$4" -gt "$3" ] || bad "chat$v: second turn evaluated nothing new"
    fi
    [ "$(wc -l <"$tmp/out")" -ge 2 ] || bad "chat$v: fewer than two answers"

    # ---- embed_search: every line is its own nearest neighbour ------------------
    printf '%s\n' "the cat sat on the mat" "stock markets fell sharply today" "a recipe for apple pie" \
        "" "rain is expected tomorrow in the north" "the committee approved the budget" >"$tmp/docs.txt"
    grep -v '^$' "$tmp/docs.txt" >"$tmp/queries.txt"
    for em in bert-f16 nomic-bert-f16; do
        "$EX/embed_search$v" -m "$M/$em.gguf" -f "$tmp/docs.txt" -k 2 <"$tmp/queries.txt" >"$tmp/out" 2>"$tmp/err" ||
            { bad "embed_search$v $em exit"; cat "$tmp/err"; }
        grep -q "embedded 5 lines" "$tmp/err" || bad "embed_search$v $em: not 5 lines"
        $PY - "$tmp/out" <<'PY' || bad "embed_search$v $em: a line is not its own nearest neighbour"
import sys
q = None
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("query: "):
        q = line[7:]
        continue
    rank, score, text = line.split("\t")
    if rank == "1":
        n += 1
        assert text == q, (q, text)
        assert abs(float(score) - 1.0) < 1e-3, score
    else:
        assert float(score) < 1.0 - 1e-3
assert n == 5, n
PY
    done
    "$EX/embed_search$v" -m "$M/bert-f16.gguf" -f "$tmp/nofile" x >/dev/null 2>&1; [ $? -eq 2 ] ||
        bad "embed_search$v: missing file not exit 2"
done

# ---- agent: a scripted model drives the real tool loop -------------------------
A="$EX/agent"
QWEN="--template $T/Qwen-Qwen2.5-7B-Instruct.jinja"
sb=$tmp/sb
mkdir -p "$sb/sub" "$tmp/outside"
echo "secret plans" >"$sb/notes.txt"
echo "nested" >"$sb/sub/deep.txt"
echo "outside the sandbox" >"$tmp/outside/o.txt"
ln -s "$tmp/outside/o.txt" "$sb/link.txt"
ln -s "$tmp/outside" "$sb/dirlink"
call() { printf '<tool_call>\n{"name": "%s", "arguments": %s}\n</tool_call>\n' "$1" "$2"; }
{
    echo "Let me compute."
    call calculator '{"expression": "(2 + 3) * 4 - 2^3"}'
    echo "---"
    call read_file '{"path": "notes.txt"}'
    call read_file '{"path": "sub/./deep.txt"}'
    call read_file '{"path": "../outside/o.txt"}'
    call read_file "{\"path\": \"$tmp/outside/o.txt\"}"
    call read_file '{"path": "link.txt"}'
    call read_file '{"path": "dirlink/o.txt"}'
    call read_file '{"path": "sub"}'
    echo "---"
    call write_file '{"path": "out.txt", "content": "hello\nworld\n"}'
    echo "---"
    echo "The answer is 12."
} >"$tmp/s1.txt"

run_agent() { # stdin from /dev/null unless told otherwise
    "$A" -m "$M/qwen2-f16.gguf" $QWEN --sandbox "$sb" -v -v "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
}
run_agent --script "$tmp/s1.txt" "What is (2+3)*4-2^3?"
rc=$?
[ $rc -eq 0 ] || { bad "agent exit $rc"; cat "$tmp/err"; }
[ "$(cat "$tmp/out")" = "The answer is 12." ] || bad "agent answer: $(cat "$tmp/out")"
grep -q '^\[format\] hermes$' "$tmp/err" || bad "agent: hermes not detected from the Qwen template"
grep -q '^\[result [0-9.]*s\] {"result": 12}$' "$tmp/err" || bad "agent: calculator result"
grep -q '^\[result [0-9.]*s\] {"path": "notes.txt", "content": "secret plans\\n"}$' "$tmp/err" || bad "agent: read_file in the sandbox"
grep -q '^\[result [0-9.]*s\] {"path": "sub/./deep.txt", "content": "nested\\n"}$' "$tmp/err" || bad "agent: read_file in a sub-folder"
[ "$(grep -c '^\[result [0-9.]*s\] {"error": ' "$tmp/err")" -eq 6 ] || bad "agent: not 6 refusals"
grep -q '{"error": "\\"..\\" is not allowed in paths"}' "$tmp/err" || bad "agent: .. escape"
grep -q '{"error": "absolute paths are not allowed' "$tmp/err" || bad "agent: absolute path"
[ "$(grep -c '^\[result [0-9.]*s\] {"error": "\(symbolic links are not followed\|a component of the path is not a folder (or is a link)\)"}$' "$tmp/err")" -eq 2 ] ||
    bad "agent: symlink escapes"
grep -q 'outside the sandbox' "$tmp/err" && bad "agent: read a file outside the sandbox"
grep -q 'no terminal to ask, not run' "$tmp/err" || bad "agent: no confirmation refusal"
[ -e "$sb/out.txt" ] && bad "agent: write_file ran without confirmation"
# the results went back to the model as tool messages, rendered by the template
grep -q '^<tool_response>$' "$tmp/err" && grep -A1 '^<tool_response>$' "$tmp/err" | grep -q '^{"result": 12}$' ||
    bad "agent: the tool result is not in the next prompt"
grep -q 'the user did not allow this write' "$tmp/err" || bad "agent: the refusal is not fed back"

# --yes: the write happens, inside the sandbox
run_agent --yes --script "$tmp/s1.txt" "again" || bad "agent --yes exit"
[ "$(cat "$sb/out.txt" 2>/dev/null)" = "$(printf 'hello\nworld')" ] || bad "agent --yes: file not written"
grep -q '^\[result [0-9.]*s\] {"path": "out.txt", "bytes_written": 12}$' "$tmp/err" || bad "agent --yes: result"
rm -f "$sb/out.txt"

# FIFOs (which would block), hard links (a second name of an outside file)
# and a longer file being overwritten (truncated, not merged)
mkfifo "$sb/fifo"
ln "$tmp/outside/o.txt" "$sb/hard.txt" 2>/dev/null || echo x >"$sb/hard.txt"
printf 'a much longer old content\n' >"$sb/old.txt"
{
    call read_file '{"path": "fifo"}'
    call write_file '{"path": "fifo", "content": "x"}'
    call read_file '{"path": "hard.txt"}'
    call write_file '{"path": "hard.txt", "content": "overwritten"}'
    call write_file '{"path": "old.txt", "content": "new\n"}'
    call write_file '{"path": "dirlink/o.txt", "content": "escaped"}'
    echo "---"
    echo "done"
} >"$tmp/s11.txt"
if [ "$(stat -c %h "$sb/hard.txt")" -gt 1 ]; then
    timeout 60 "$A" -m "$M/qwen2-f16.gguf" $QWEN --sandbox "$sb" --yes --script "$tmp/s11.txt" q </dev/null \
        >"$tmp/out" 2>"$tmp/err" || { bad "agent special files exit"; cat "$tmp/err"; }
    sed -n 's/^\[result [0-9.]*s\] //p' "$tmp/err" >"$tmp/res"
    cat >"$tmp/want" <<'W'
{"error": "not a regular file"}
{"error": "cannot open the file"}
{"error": "the file has several hard links; refused"}
{"error": "the file has several hard links; refused"}
{"path": "old.txt", "bytes_written": 4}
{"error": "a component of the path is not a folder (or is a link)"}
W
    diff "$tmp/want" "$tmp/res" >/dev/null || { bad "agent special files"; diff "$tmp/want" "$tmp/res"; }
    [ "$(cat "$sb/old.txt")" = new ] || bad "agent: overwritten file not truncated"
    [ "$(cat "$tmp/outside/o.txt")" = "outside the sandbox" ] || bad "agent: wrote outside the sandbox"
fi
rm -f "$sb/fifo" "$sb/hard.txt" "$sb/old.txt"

# a terminal that answers: y writes, n does not (script(1) provides the pty)
if command -v script >/dev/null 2>&1 && [ "${SANITIZE:-}" != 1 ]; then
    for ans in y n; do
        printf '%s\n' "$ans" | script -qec "$A -m $M/qwen2-f16.gguf $QWEN --sandbox $sb --script $tmp/s1.txt Q" \
            /dev/null >"$tmp/tty" 2>&1
        if [ $ans = y ]; then [ -f "$sb/out.txt" ] || bad "agent: terminal 'y' did not write"
        else [ -e "$sb/out.txt" ] && bad "agent: terminal 'n' wrote"; fi
        grep -q 'write_file: write 12 bytes to "out.txt" in the sandbox? \[y/N\]' "$tmp/tty" ||
            bad "agent: no question on the terminal"
        rm -f "$sb/out.txt"
    done
fi

# calculator cases, one call each, answers checked against hand-computed values
{
    for e in '1/3' '2^3^2' '-(3 - 10) * 2' '7 % 4 + 0.5' '1/0' 'system(\"ls\")' '2 +' \
             '((((((((((1))))))))))' '3 ** 2' '1e3 - 1' '(1'; do
        call calculator "{\"expression\": \"$e\"}"
    done
    echo "---"
    echo "done"
} >"$tmp/s2.txt"
run_agent --script "$tmp/s2.txt" "calc" || bad "agent calc exit"
sed -n 's/^\[result [0-9.]*s\] //p' "$tmp/err" >"$tmp/res"
cat >"$tmp/want" <<'W'
{"result": 0.3333}
{"result": 512}
{"result": 14}
{"result": 3.5}
{"error": "division by zero at offset 3"}
{"error": "unexpected character at offset 0"}
{"error": "unexpected end at offset 3"}
{"result": 1}
{"result": 9}
{"result": 999}
{"error": "missing ')' at offset 2"}
W
diff "$tmp/want" "$tmp/res" >/dev/null || { bad "agent calculator results"; diff "$tmp/want" "$tmp/res"; }
# nesting is bounded: an error, never a crash
deep=$(printf '%0500d' 0 | tr 0 '(')
printf '<tool_call>\n{"name": "calculator", "arguments": {"expression": "%s1"}}\n</tool_call>\n---\nok\n' "$deep" >"$tmp/s3.txt"
run_agent --script "$tmp/s3.txt" "deep" || bad "agent deep exit"
grep -q '^\[result [0-9.]*s\] {"error": "expression nested too deeply' "$tmp/err" || bad "agent: nesting limit"

# current_time: ISO 8601 UTC
printf '<tool_call>\n{"name": "current_time", "arguments": {}}\n</tool_call>\n---\nok\n' >"$tmp/s4.txt"
TZ=UTC LC_ALL=C run_agent --script "$tmp/s4.txt" "time" || bad "agent time exit"
grep -q "^\[result [0-9.]*s\] {\"date\": \"$(date -u +%Y-%m-%d)\", \"weekday\": \"$(LC_ALL=C date -u +%A)\", \"time\": \"[0-2][0-9]:[0-5][0-9]\"}$" \
    "$tmp/err" || bad "agent: current_time"

# malformed output and unknown tools end the loop with the text, not a crash
printf '<tool_call>\n{"name": "calculator", "arguments": {\n</tool_call>\n' >"$tmp/s5.txt"
run_agent --script "$tmp/s5.txt" "bad" || bad "agent malformed exit"
grep -q '^\[malformed tool call\]' "$tmp/err" || bad "agent: malformed call not reported"
printf '<tool_call>\n{"name": "rm_rf", "arguments": {}}\n</tool_call>\n' >"$tmp/s6.txt"
run_agent --script "$tmp/s6.txt" "unknown" || bad "agent unknown tool exit"
grep -q '^\[call\]' "$tmp/err" && bad "agent: ran an undeclared tool"

# round limit and an exhausted script are errors (exit 2)
{ call current_time '{}'; echo "---"; call current_time '{}'; echo "---"; call current_time '{}'; } >"$tmp/s7.txt"
run_agent --rounds 2 --script "$tmp/s7.txt" "loop"; [ $? -eq 2 ] || bad "agent: round limit not exit 2"
grep -q 'no answer after 2 rounds' "$tmp/err" || bad "agent: round limit message"
run_agent --script "$tmp/s7.txt" "loop"; [ $? -eq 2 ] || bad "agent: exhausted script not exit 2"

# the Llama 3.1 template: its own format, parsed from its own markup
printf '{"name": "calculator", "parameters": {"expression": "6*7"}}\n---\nIt is 42.\n' >"$tmp/s8.txt"
AI_AGENT_SCRIPT="$tmp/s8.txt" "$A" -m "$M/llama-f16.gguf" --template "$T/meta-llama-Llama-3.1-8B-Instruct.jinja" \
    "6 times 7?" </dev/null >"$tmp/out" 2>"$tmp/err" || { bad "agent llama3 exit"; cat "$tmp/err"; }
grep -q '^\[format\] llama3_json$' "$tmp/err" || bad "agent: llama3_json not detected"
grep -q '^\[result [0-9.]*s\] {"result": 42}$' "$tmp/err" || bad "agent llama3: calculator"
[ "$(cat "$tmp/out")" = "It is 42." ] || bad "agent llama3 answer"

# a model without a template: ChatML and the hermes fallback
printf '<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}}</tool_call>\n---\ntwo\n' >"$tmp/s9.txt"
"$EX/agent-shared" -m "$M/llama-q8_0.gguf" --script "$tmp/s9.txt" "1+1?" </dev/null >"$tmp/out" 2>"$tmp/err" ||
    bad "agent no-template exit"
grep -q '^\[format\] hermes$' "$tmp/err" || bad "agent: no hermes fallback"
grep -q '^\[result [0-9.]*s\] {"result": 2}$' "$tmp/err" || bad "agent fallback: calculator"

# live generation (no script) runs to an answer or a round limit, never a crash
"$A" -m "$M/qwen2-q8_0.gguf" $QWEN --sandbox "$sb" -n 24 --temp 0 --rounds 2 "What time is it?" </dev/null \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 2 ] || { bad "agent live exit $rc"; cat "$tmp/err"; }
grep -q '^\[model [0-9.]*s\]' "$tmp/err" || bad "agent live: no model step"

"$A" >/dev/null 2>&1; [ $? -eq 1 ] || bad "agent: no arguments not exit 1"
"$A" -m "$M/qwen2-f16.gguf" --tools calculator,rm q </dev/null >/dev/null 2>&1; [ $? -eq 1 ] || bad "agent: unknown tool not exit 1"

# the verse tools over a hand-written verse file; --tools narrows the set
printf '%s\t%s\t%s\t%s\n' Genesis 1 1 "In the beginning God created the heaven and the earth." \
    Genesis 1 3 "And God said, Let there be light: and there was light." \
    John 3 16 "For God so loved the world." "1 John" 4 8 "He that loveth not knoweth not God; for God is love." >"$tmp/v.tsv"
{
    for r in "John 3:16" "jn 3 16" "1 Jn 4:8" "gen 1:3" "John 3:99" "Hezekiah 1:1" "3:16"; do
        call lookup_verse "{\"ref\": \"$r\"}"
    done
    for q in "God LIGHT" "god" "!!" "lov"; do call search_verses "{\"query\": \"$q\"}"; done
    echo "---"
    echo "done"
} >"$tmp/s10.txt"
"$A" -m "$M/qwen2-f16.gguf" $QWEN --verses "$tmp/v.tsv" -v -v --script "$tmp/s10.txt" q </dev/null >"$tmp/out" 2>"$tmp/err" ||
    { bad "agent verses exit"; cat "$tmp/err"; }
sed -n 's/^\[result [0-9.]*s\] //p' "$tmp/err" >"$tmp/res"
cat >"$tmp/want" <<'W'
{"ref": "John 3:16", "text": "For God so loved the world."}
{"ref": "John 3:16", "text": "For God so loved the world."}
{"ref": "1 John 4:8", "text": "He that loveth not knoweth not God; for God is love."}
{"ref": "Genesis 1:3", "text": "And God said, Let there be light: and there was light."}
{"error": "no such verse: John 3:99"}
{"error": "cannot parse reference: Hezekiah 1:1"}
{"error": "cannot parse reference: 3:16"}
{"count": 1, "matches": [{"ref": "Genesis 1:3", "text": "And God said, Let there be light: and there was light."}]}
{"count": 4, "matches": [{"ref": "Genesis 1:1", "text": "In the beginning God created the heaven and the earth."}, {"ref": "Genesis 1:3", "text": "And God said, Let there be light: and there was light."}]}
{"error": "empty query"}
{"count": 0, "matches": []}
W
diff "$tmp/want" "$tmp/res" >/dev/null || { bad "agent verse tools"; diff "$tmp/want" "$tmp/res"; }
grep -q '"name": "lookup_verse"' "$tmp/err" || bad "agent --verses: lookup_verse not declared"
grep -q '"name": "read_file"' "$tmp/err" && bad "agent --verses: read_file declared"
printf 'x\tnot a number\n' >"$tmp/bad.tsv"
"$A" -m "$M/qwen2-f16.gguf" --verses "$tmp/bad.tsv" q </dev/null >/dev/null 2>&1; [ $? -eq 2 ] || bad "agent: malformed verse file not exit 2"
exit $fail
