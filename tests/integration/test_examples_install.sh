#!/bin/sh
# The examples build against an installed copy, as a user would build them:
# `make install DESTDIR=...` then `pkg-config --cflags --libs agentinfer`
# (shared; PKG_CONFIG_SYSROOT_DIR points into the staging folder) and
# `pkg-config --static` (a prefix holding only the .a).  The binaries run:
# the agent on a scripted turn when the fixtures are present.
set -u
ROOT=${ROOT:-$(pwd)}
BUILD=${BUILD:-build}
: "${AI_FIXTURES:=$ROOT/../shared/fixtures}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
cd "$ROOT" || exit 1
make -s install BUILD="$BUILD" PREFIX=/usr DESTDIR="$tmp/stage" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
SAN=""
[ "${SANITIZE:-}" = 1 ] && SAN="-fsanitize=address,undefined"
CF="-std=c11 -Wall -Wextra -Werror"
pc() { PKG_CONFIG_PATH="$tmp/stage/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$tmp/stage" \
       pkg-config "$@" agentinfer; }
# shared
for ex in simple chat embed_search agent; do
    cc $SAN $CF -o "$tmp/$ex" "examples/$ex.c" $(pc --cflags --libs) -lm || bad "shared build of $ex"
done
readelf -d "$tmp/agent" | grep -q 'NEEDED.*libagentinfer.so.0' || bad "agent does not use the shared library"
LD_LIBRARY_PATH="$tmp/stage/usr/lib" "$tmp/simple" >/dev/null 2>&1; [ $? -eq 1 ] || bad "installed simple: usage"
# static: only the archive, so the linker cannot pick the .so
mkdir -p "$tmp/st/usr/lib/pkgconfig" "$tmp/st/usr/include"
cp "$tmp/stage/usr/lib/libagentinfer.a" "$tmp/st/usr/lib/"
cp "$tmp/stage/usr/include/agentinfer.h" "$tmp/st/usr/include/"
cp "$tmp/stage/usr/lib/pkgconfig/agentinfer.pc" "$tmp/st/usr/lib/pkgconfig/"
pcs() { PKG_CONFIG_PATH="$tmp/st/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$tmp/st" \
        pkg-config --static "$@" agentinfer; }
for ex in simple agent; do
    cc $SAN $CF -o "$tmp/$ex-static" "examples/$ex.c" $(pcs --cflags --libs) || bad "static build of $ex"
done
readelf -d "$tmp/agent-static" | grep -q libagentinfer && bad "static agent depends on the .so"
if [ -d "$AI_FIXTURES/models" ]; then
    printf '<tool_call>{"name": "calculator", "arguments": {"expression": "6*7"}}</tool_call>\n---\n42\n' >"$tmp/s"
    for bin in "$tmp/agent" "$tmp/agent-static"; do
        LD_LIBRARY_PATH="$tmp/stage/usr/lib" "$bin" -m "$AI_FIXTURES/models/llama-q8_0.gguf" --script "$tmp/s" q \
            </dev/null >"$tmp/out" 2>"$tmp/err" || { bad "$bin run"; cat "$tmp/err"; }
        grep -q '^\[result [0-9.]*s\] {"result": 42}$' "$tmp/err" || bad "$bin: tool result"
        [ "$(cat "$tmp/out")" = 42 ] || bad "$bin: answer"
    done
fi
exit $fail
