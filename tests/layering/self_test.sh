#!/usr/bin/env bash
# The layering check must pass on the tree and fail on a tree that breaks the
# order, so that a check which could never fail is caught too.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$1
shift
"$here/check.sh" "$root" "$@" || { echo "FAIL: the tree breaks the layering (above)"; exit 1; }
"$here/cycles.sh" "$root" || { echo "FAIL: the tree has include loops (above)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lib/low" "$tmp/lib/high" "$tmp/lib/high/sub"
printf '#include "lib/high/x.h"\n' > "$tmp/lib/low/a.cc"
printf '#include "lib/low/a.h"\n#include "lib/high/sub/y.h"\n' > "$tmp/lib/high/x.cc"
printf '#include "tools/common/cli.h"\n' > "$tmp/lib/high/sub/y.cc"
printf '\n' > "$tmp/lib/top.cc"
out=$("$here/check.sh" "$tmp" low high high/sub) && { echo "FAIL: a broken tree passed"; exit 1; }
expected="lib/high/sub/y.cc:1: includes tools/common/cli.h; the library never includes the command-line layer
lib/high/x.cc:2: high/ includes lib/high/sub/y.h of high/sub/, which comes after it in the order
lib/low/a.cc:1: low/ includes lib/high/x.h of high/, which comes after it in the order
lib/top.cc: not in a listed folder (top-level files and unlisted folders are not allowed)"
if [[ "$out" != "$expected" ]]; then
  echo "FAIL: the check reported"; echo "$out"; echo "expected"; echo "$expected"; exit 1
fi

# Include loops: through a source file (x.h -> y.h, y.cc -> x.h), through
# three units, and a unit that only includes into a loop (not reported).
loops="$tmp/loops"
mkdir -p "$loops/lib/a"
printf '#include "lib/a/y.h"\n' > "$loops/lib/a/x.h"
printf '#include "lib/a/y.h"\n#include "lib/a/x.h"\n' > "$loops/lib/a/y.cc"
printf '#include "lib/a/q.h"\n' > "$loops/lib/a/p.h"
printf '#include "lib/a/r.h"\n' > "$loops/lib/a/q.h"
printf '#include "lib/a/p.h"\n' > "$loops/lib/a/r.cc"
printf '#include "lib/a/z.h"\n' > "$loops/lib/a/z.cc"
printf '#include "lib/a/x.h"\n' > "$loops/lib/a/z.h"
out=$("$here/cycles.sh" "$loops") && { echo "FAIL: a tree with include loops passed"; exit 1; }
expected="include loop between a/p, a/q, a/r: lib/a/p.h includes lib/a/q.h; lib/a/q.h includes lib/a/r.h; lib/a/r.cc includes lib/a/p.h
include loop between a/x, a/y: lib/a/x.h includes lib/a/y.h; lib/a/y.cc includes lib/a/x.h"
if [[ "$out" != "$expected" ]]; then
  echo "FAIL: the loop check reported"; echo "$out"; echo "expected"; echo "$expected"; exit 1
fi
rm "$loops/lib/a/r.cc" "$loops/lib/a/y.cc"
"$here/cycles.sh" "$loops" || { echo "FAIL: a tree without include loops failed"; exit 1; }
echo "layering: ok"
