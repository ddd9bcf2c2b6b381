#!/bin/sh
# Runs each libFuzzer binary given for $FUZZ_TIME seconds, seeded from a
# per-target corpus folder (tests/fuzz/corpus-<name>/, not committed) and,
# for the GGUF target, from the fixture headers (the jinja target: from the
# fixture chat templates).
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
F=${AI_FIXTURES:-$ROOT/../shared/fixtures}
for bin in "$@"; do
    name=$(basename "$bin" _fuzz)
    corpus="$ROOT/tests/fuzz/corpus-$name"
    mkdir -p "$corpus"
    if [ "$name" = gguf ] && [ -d "$F" ] && [ -z "$(ls -A "$corpus")" ]; then
        # seeds: the first 64 KiB of each fixture (header + metadata)
        for f in "$F"/models/*.gguf "$F"/quants/*.gguf "$F"/vocab/*.gguf; do
            head -c 65536 "$f" > "$corpus/$(basename "$f").head"
        done
        cp "$F"/quants/*.gguf "$corpus/"
    fi
    if [ "$name" = jinja ] && [ -d "$F/templates" ] && [ -z "$(ls -A "$corpus")" ]; then
        cp "$F"/templates/*.jinja "$corpus/"  # seeds: the real chat templates
    fi
    echo "fuzzing $name for ${FUZZ_TIME:-60}s"
    dict=""
    [ -f "$ROOT/tests/fuzz/$name.dict" ] && dict="-dict=$ROOT/tests/fuzz/$name.dict"
    "$bin" -max_total_time="${FUZZ_TIME:-60}" -max_len=1048576 -rss_limit_mb=4096 \
        -print_final_stats=1 $dict "$corpus"
done
