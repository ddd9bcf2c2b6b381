#!/bin/sh
# Every code block in README.md is compiled or run:
#  - ```c blocks are compiled with -Werror and linked against $BUILD's static
#    library.  A block with main() is taken as it is; a block that defines
#    functions at the top level is compiled alone (-c); any other block is a
#    snippet and is wrapped into main(), its #include lines hoisted.
#  - ```sh blocks are syntax-checked (sh -n); a block preceded by the line
#    <!-- test: run --> is also run with sh -e from the checkout (build/
#    read as $BUILD/, so that SANITIZE=1 runs the instrumented build), with
#    $BUILD/bin and $BUILD/examples on PATH, and MODEL / EMBED_MODEL naming
#    a chat model and an embedding model (skipped with a note when the
#    fixtures are absent).
#  - ```python blocks are byte-compiled; <!-- test: run --> runs them with
#    examples/python on the path and AGENTINFER_LIB set.
# Other blocks (plain ``` text, file trees) are not code and are listed.
set -u
ROOT=${ROOT:-$(pwd)}
BUILD=${BUILD:-build}
: "${AI_FIXTURES:=$ROOT/../shared/fixtures}"
cd "$ROOT" || exit 1
README=${README:-README.md}
[ -f "$README" ] || { echo "no $README"; exit 77; }
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SAN=""
[ "${SANITIZE:-}" = 1 ] && SAN="-fsanitize=address,undefined"
# Runnable blocks name their models through these variables, which a reader
# sets to their own files; here they point at the fixtures (or the default
# model once models/default.gguf exists).
if [ -f "$ROOT/models/default.gguf" ]; then MODEL=${MODEL:-$ROOT/models/default.gguf}
else MODEL=${MODEL:-$AI_FIXTURES/models/qwen2-q8_0.gguf}; fi
EMBED_MODEL=${EMBED_MODEL:-$AI_FIXTURES/models/bert-f16.gguf}
export MODEL EMBED_MODEL

# Split README.md into $tmp/NNN.{c,sh,py} plus NNN.mode (compile | run) and
# NNN.line (where the block starts).
$PY - "$README" "$tmp" <<'PY' || exit 1
import re, sys, os
src, out = sys.argv[1], sys.argv[2]
lines = open(src, encoding="utf-8").read().split("\n")
i, n, prev = 0, 0, ""
ext = {"c": "c", "sh": "sh", "bash": "sh", "shell": "sh", "python": "py", "py": "py"}
while i < len(lines):
    m = re.match(r"^(\s*)```+\s*([A-Za-z0-9_+-]*)", lines[i])
    if not m:
        if lines[i].strip():
            prev = lines[i].strip()
        i += 1
        continue
    indent, lang = m.group(1), m.group(2).lower()
    start = i + 1
    body = []
    i += 1
    while i < len(lines) and not re.match(r"^\s*```", lines[i]):
        body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
        i += 1
    i += 1
    n += 1
    base = os.path.join(out, "%03d" % n)
    if lang in ext:
        open(base + "." + ext[lang], "w", encoding="utf-8").write("\n".join(body) + "\n")
        mode = "run" if re.match(r"<!--\s*test:\s*run\s*-->", prev) else "compile"
    else:
        open(base + ".txt", "w", encoding="utf-8").write("\n".join(body) + "\n")
        mode = "none"
    open(base + ".mode", "w").write(mode)
    open(base + ".line", "w").write(str(start))
    prev = ""
PY

make -s "$BUILD/libagentinfer.a" BUILD="$BUILD" >/dev/null || { echo "FAIL: library build"; exit 1; }
DEPS=$(pkg-config --libs openblas libzstd 2>/dev/null || echo -lopenblas -lzstd)
fail=0 n_ok=0 n_none=0
bad() { echo "FAIL: $README line $1: $2"; fail=1; }
for f in "$tmp"/*.mode; do
    [ -f "$f" ] || continue
    b=${f%.mode}
    mode=$(cat "$f")
    line=$(cat "$b.line")
    if [ -f "$b.c" ]; then
        if grep -q 'int main *(' "$b.c"; then
            cp "$b.c" "$b.full.c"; how=link
        elif grep -E '^[A-Za-z_][A-Za-z0-9_ *]*[ *][A-Za-z_][A-Za-z0-9_]* *\(.*\) *\{ *$' "$b.c" |
                grep -Evq '^(if|for|while|switch|else|do|return)[ (]'; then
            { echo '#include <stdio.h>'; echo '#include <stdlib.h>'; echo '#include <string.h>'
              cat "$b.c"; } >"$b.full.c"; how=object
        else
            { echo '#include <stdio.h>'; echo '#include <stdlib.h>'; echo '#include <string.h>'
              grep '^#include' "$b.c"
              echo 'int main(void) {'; grep -v '^#include' "$b.c"; echo 'return 0;'; echo '}'; } >"$b.full.c"
            how=link
        fi
        if [ $how = object ]; then
            cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wno-unused-function -Iinclude \
                -c "$b.full.c" -o "$b.o" 2>"$b.err" || { bad "$line" "C block does not compile"; cat "$b.err"; continue; }
        else
            cc $SAN -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wno-unused-variable \
                -Wno-unused-but-set-variable -Iinclude "$b.full.c" -o "$b.bin" "$BUILD/libagentinfer.a" $DEPS -lm \
                -lpthread 2>"$b.err" || { bad "$line" "C block does not compile or link"; cat "$b.err"; continue; }
        fi
        n_ok=$((n_ok + 1))
    elif [ -f "$b.sh" ]; then
        sh -n "$b.sh" 2>"$b.err" || { bad "$line" "sh block has a syntax error"; cat "$b.err"; continue; }
        if [ "$mode" = run ]; then
            if [ ! -d "$AI_FIXTURES" ]; then echo "note: line $line not run (fixtures absent)"
            else
                PATH="$ROOT/$BUILD/bin:$ROOT/$BUILD/examples:$PATH" AI_FIXTURES="$AI_FIXTURES" BUILD="$BUILD" \
                    sh -e -c "$(sed "s|build/|$BUILD/|g" "$b.sh")" </dev/null >"$b.out" 2>&1 ||
                    { bad "$line" "sh block failed"; tail -n 30 "$b.out"; continue; }
            fi
        fi
        n_ok=$((n_ok + 1))
    elif [ -f "$b.py" ]; then
        $PY -c 'import ast,sys; ast.parse(open(sys.argv[1]).read())' "$b.py" 2>"$b.err" ||
            { bad "$line" "python block does not parse"; cat "$b.err"; continue; }
        if [ "$mode" = run ] && [ "${SANITIZE:-}" != 1 ]; then
            if [ ! -d "$AI_FIXTURES" ]; then echo "note: line $line not run (fixtures absent)"
            else
                PYTHONPATH="$ROOT/examples/python" AGENTINFER_LIB="$ROOT/$BUILD/libagentinfer.so.0" \
                    AI_FIXTURES="$AI_FIXTURES" $PY -B "$b.py" </dev/null >"$b.out" 2>&1 ||
                    { bad "$line" "python block failed"; tail -n 30 "$b.out"; continue; }
            fi
        fi
        n_ok=$((n_ok + 1))
    else
        n_none=$((n_none + 1))
        echo "note: line $line is a text block (not code)"
    fi
done
echo "$README: $n_ok code blocks checked, $n_none text blocks"
exit $fail
