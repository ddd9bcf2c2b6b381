#!/bin/sh
# ABI checks of ../shared/STYLE.md section (c), items 1, 2 and 4, plus the
# enum pins of tests/abi/pins.c.  Prints each finding; exits 1 on any.
BUILD=${BUILD:-build}
CC=${CC:-cc}
SO=$(ls "$BUILD"/libagentinfer.so.*.*.* | head -n 1)
A=$BUILD/libagentinfer.a
H=include/agentinfer.h
bad=0
finding() { echo "check-abi: $*"; bad=1; }

# 1a: only ai_* exported (ai__* internals must not leak)
leaks=$(nm -D --defined-only "$SO" | awk '$2!="A"{print $3}' | sed 's/@.*//' | grep -v '^ai_[a-z0-9]')
[ -n "$leaks" ] && finding "non-API symbols exported from $SO: $leaks"
# 1b: every export is versioned
n=$(objdump -T "$SO" | grep -v '\*UND\*' | grep -c ' Base ')
[ "$n" -ne 0 ] && finding "$n unversioned exports in $SO"
# 1c: header and exports agree
hdr=$(mktemp); exp=$(mktemp)
grep -o 'ai_[a-z0-9_]*(' "$H" | tr -d '(' | sort -u > "$hdr"
nm -D --defined-only "$SO" | awk '$2=="T"{sub(/@.*/,"",$3);print $3}' | sort -u > "$exp"
d=$(diff "$hdr" "$exp") || finding "header (<) and exports (>) differ: $d"
rm -f "$hdr" "$exp"
# 1d: SONAME and dependencies
readelf -d "$SO" | grep -q "SONAME.*libagentinfer.so.0" || finding "SONAME is not libagentinfer.so.0"
deps=$(readelf -d "$SO" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | grep -v -E '^(libc|libm|libzstd|libopenblas|libpthread|libasan|libubsan|libstdc\+\+|libgcc_s)\.so')
[ -n "$deps" ] && finding "unexpected dependencies: $deps"
# 2: the static archive leaks no unprefixed globals
g=$(nm -g --defined-only "$A" | awk 'NF==3 && $2~/[TDBR]/{print $3}' | grep -v '^ai_')
[ -n "$g" ] && finding "unprefixed globals in $A: $g"
# 4: the header compiles on its own, C99, C11 and C++11, without warnings
for s in c99 c11; do
    echo '#include <agentinfer.h>' | $CC -x c -std=$s -Wall -Wextra -Wpedantic \
        -Wstrict-prototypes -Werror -fsyntax-only -Iinclude - || finding "header fails as $s"
done
if command -v g++ >/dev/null 2>&1; then
    echo '#include <agentinfer.h>' | g++ -x c++ -std=c++11 -Wall -Wextra -Wpedantic \
        -Werror -fsyntax-only -Iinclude - || finding "header fails as C++11"
fi
# enum values are ABI (abidiff cannot see an enum passed as int)
$CC -std=c11 -Wall -Werror -fsyntax-only -Iinclude tests/abi/pins.c || finding "enum pins changed"
if [ $bad -eq 0 ]; then echo "check-abi: ok ($(nm -D --defined-only "$SO" | awk '$2=="T"' | wc -l) exported functions)"; fi
exit $bad
