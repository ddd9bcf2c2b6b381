#!/bin/sh
# `make install` lays out header, libraries, pkg-config file and program; a
# program links against the installed copy through pkg-config, both shared
# and static, and runs.
set -u
ROOT=${ROOT:-$(pwd)}
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
cd "$ROOT" || exit 1
make -s install BUILD="$BUILD" PREFIX="$tmp/prefix" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
make -s install BUILD="$BUILD" PREFIX=/usr DESTDIR="$tmp/stage" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
for f in include/agentinfer.h lib/libagentinfer.a lib/libagentinfer.so lib/libagentinfer.so.0 \
         lib/libagentinfer.so.0.1.0 lib/pkgconfig/agentinfer.pc bin/agentinfer; do
    [ -e "$tmp/prefix/$f" ] || bad "missing $f"
    [ -e "$tmp/stage/usr/$f" ] || bad "DESTDIR: missing usr/$f"
done
grep -q '^prefix=/usr$' "$tmp/stage/usr/lib/pkgconfig/agentinfer.pc" || bad "DESTDIR leaked into the .pc file"
cat > "$tmp/hello.c" <<'C'
#include <agentinfer.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    if (ai_version_number() != AI_VERSION_NUMBER) return 1;
    if (strcmp(ai_version_string(), AI_VERSION_STRING)) return 1;
    ai_opts *o;
    if (ai_opts_new(&o) != AI_OK) return 1;
    ai_opts_free(o);
    printf("%s\n", ai_status_string(AI_E_FORMAT));
    return 0;
}
C
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
SAN=""
[ "${SANITIZE:-}" = 1 ] && SAN="-fsanitize=address,undefined"
cc $SAN -o "$tmp/hello-shared" "$tmp/hello.c" $(pkg-config --cflags --libs agentinfer) || bad "shared link"
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/hello-shared" | grep -q "malformed input" || bad "shared run"
# static: only the .a in a scratch prefix, so the linker cannot pick the .so
mkdir -p "$tmp/st/lib/pkgconfig" "$tmp/st/include"
cp "$tmp/prefix/lib/libagentinfer.a" "$tmp/st/lib/"
cp "$tmp/prefix/include/agentinfer.h" "$tmp/st/include/"
sed "s|$tmp/prefix|$tmp/st|g" "$tmp/prefix/lib/pkgconfig/agentinfer.pc" > "$tmp/st/lib/pkgconfig/agentinfer.pc"
PKG_CONFIG_PATH="$tmp/st/lib/pkgconfig" cc $SAN -o "$tmp/hello-static" "$tmp/hello.c" \
    $(PKG_CONFIG_PATH="$tmp/st/lib/pkgconfig" pkg-config --cflags --static --libs agentinfer) || bad "static link"
"$tmp/hello-static" | grep -q "malformed input" || bad "static run"
readelf -d "$tmp/hello-static" | grep -q libagentinfer && bad "static binary depends on the .so"
"$tmp/prefix/bin/agentinfer" --version | grep -q "0.1.0" || bad "installed program"
exit $fail
