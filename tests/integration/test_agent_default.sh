#!/bin/sh
# The agent example on the default model (models/default.gguf, issue 11),
# generating for real: the tools it was trained with (lookup_verse over a
# small verse file, search_verses, calculator, current_time) are declared
# through its own chat template, and for three questions the loop must end
# with an answer, every call must be to a declared tool and parse, and the
# expected tool must be called for at least one of them (end to end: template,
# model, parser, tool, result fed back).  Skipped while the model is absent.
set -u
ROOT=${ROOT:-$(pwd)}
BUILD=${BUILD:-build}
MODEL=$ROOT/models/default.gguf
[ -f "$MODEL" ] || { echo "models/default.gguf absent"; exit 77; }
cd "$ROOT" || exit 1
make -s examples BUILD="$BUILD" >/dev/null || { echo "FAIL: make examples"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
printf '%s\t%s\t%s\t%s\n' John 3 16 \
    "For God so loved the world, that he gave his only begotten Son, that whosoever believeth in him should not perish, but have everlasting life." \
    Genesis 1 1 "In the beginning God created the heaven and the earth." >"$tmp/v.tsv"
hits=0
for q in "calculator|What is 12 times 7?" "lookup_verse|What does John 3:16 say?" "current_time|What time is it now?"; do
    want=${q%%|*}
    question=${q#*|}
    "$BUILD/examples/agent" -m "$MODEL" --verses "$tmp/v.tsv" --temp 0 -n 128 --rounds 4 "$question" \
        </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    sed 's/^/    /' "$tmp/err"
    [ $rc -eq 0 ] || bad "'$question': exit $rc"
    [ -s "$tmp/out" ] || bad "'$question': no answer"
    grep '^\[call\] ' "$tmp/err" | grep -Ev '^\[call\] (lookup_verse|search_verses|calculator|current_time) \{' &&
        bad "'$question': a call to an undeclared tool"
    grep -q "^\[call\] $want " "$tmp/err" && hits=$((hits + 1))
done
[ $hits -ge 1 ] || bad "no question led to its tool call"
echo "$hits of 3 questions called the expected tool"
exit $fail
