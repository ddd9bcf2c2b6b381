#!/bin/sh
# Writes the King James Bible as "Book<TAB>chapter<TAB>verse<TAB>text" lines
# (31,102 verses, canonical book names) to $1, from Debian's bible-kjv
# package (the `bible` program; apt-get install bible-kjv).  Used by
# `make demo` for examples/agent's --verses; tools/train/kjv.py reads the
# same program the same way for training.
#
# `bible -l100000 Gen1:1-Rev22:21` prints "Book N" chapter headings and
# "  V text" verse lines (the huge line width keeps every verse on one line).
set -e
out=${1:?usage: kjv_tsv.sh OUT.tsv}
if ! command -v bible >/dev/null 2>&1; then
    echo "kjv_tsv.sh: the 'bible' program is missing: apt-get install bible-kjv" >&2
    exit 1
fi
bible -l100000 Gen1:1-Rev22:21 | awk '
    /^[[:space:]]*$/ { next }
    /^[[:space:]]+[0-9]+ / {
        if (book == "") { print "kjv_tsv.sh: verse before a heading" > "/dev/stderr"; exit 1 }
        line = $0; sub(/^[[:space:]]+/, "", line)
        v = line; sub(/ .*/, "", v)
        t = line; sub(/^[0-9]+ /, "", t); sub(/[[:space:]]+$/, "", t)
        printf "%s\t%d\t%d\t%s\n", book, chap, v, t
        n++
        next
    }
    /^[^[:space:]].* [0-9]+$/ {
        book = $0; sub(/ [0-9]+$/, "", book)
        chap = $NF
        next
    }
    { print "kjv_tsv.sh: unexpected line: " substr($0, 1, 60) > "/dev/stderr"; bad = 1; exit 1 }
    END { if (!bad && n != 31102) { print "kjv_tsv.sh: expected 31102 verses, got " n > "/dev/stderr"; exit 1 } }
' > "$out.tmp"
mv "$out.tmp" "$out"
