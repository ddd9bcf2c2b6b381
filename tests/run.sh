#!/bin/sh
# Runs every unit test binary and integration script; prints one line per
# test and a closing "N passed, N failed, N skipped" line.  Exit status 77
# from a test means "skipped" (for example when ../shared is absent).
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${AI_FIXTURES:=$ROOT/../shared/fixtures}"
export AI_FIXTURES BUILD ROOT
# Debian's python3 (with the packages .ci/run installs) before any other on PATH
[ -x /usr/bin/python3 ] && export PATH="/usr/bin:$PATH"
export AI_BIN="$ROOT/$BUILD/bin/agentinfer"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
pass=0 fail=0 skip=0 failed=""
log=$(mktemp)
run() { # name, command...
    name=$1; shift
    "$@" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then pass=$((pass + 1)); echo "PASS  $name"
    elif [ $rc -eq 77 ]; then skip=$((skip + 1)); echo "SKIP  $name: $(tail -n 1 "$log")"
    else fail=$((fail + 1)); failed="$failed $name"; echo "FAIL  $name (exit $rc)"; sed 's/^/    /' "$log" | tail -n 60
    fi
}
for t in "$ROOT/$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d) continue ;; esac
    run "$(basename "$t")" "$t"
done
for t in "$ROOT"/tests/integration/test_*.sh; do
    [ -f "$t" ] || continue
    run "$(basename "$t" .sh)" sh "$t"
done
rm -f "$log"
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
