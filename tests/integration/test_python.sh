#!/bin/sh
# The ctypes binding (examples/python/agentinfer.py) and its unittest suite,
# run with Debian's /usr/bin/python3 against $BUILD's shared library and the
# fixtures.  Skipped when the fixtures are absent, and under SANITIZE=1 (an
# ASan-built .so cannot be loaded into an uninstrumented interpreter).
ROOT=${ROOT:-$(pwd)}
BUILD=${BUILD:-build}
: "${AI_FIXTURES:=$ROOT/../shared/fixtures}"
[ -d "$AI_FIXTURES/models" ] || { echo "fixtures absent ($AI_FIXTURES)"; exit 77; }
[ "${SANITIZE:-}" = 1 ] && { echo "not run under SANITIZE=1 (ASan library in a plain python)"; exit 77; }
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
export AI_FIXTURES
export AGENTINFER_LIB="$ROOT/$BUILD/libagentinfer.so.0"
[ -f "$AGENTINFER_LIB" ] || { echo "FAIL: $AGENTINFER_LIB missing (run make)"; exit 1; }
cd "$ROOT/examples/python" || exit 1
exec $PY -B -m unittest -v test_agentinfer
