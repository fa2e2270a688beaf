#!/usr/bin/env bash
# Checks that lib/ has no include loops. A file X.h and its X.cc count as
# one unit X; X depends on Y when either of them includes "lib/Y.h". A loop
# is a set of units that depend on each other, e.g. Y.h includes X.h for a
# type while X.cc includes Y.h: neither unit can be read, tested or moved
# without the other. The fix is usually to move what they share into a small
# header both include.
# Usage: cycles.sh ROOT ; exit 1 with one line per loop.
set -euo pipefail
root=$1
cd "$root/lib"

# "unit file target-unit" for every include of another unit under lib/.
edges() {
  local f
  while IFS= read -r f; do
    f=${f#./}
    grep -o '^[[:space:]]*#[[:space:]]*include[[:space:]]*"lib/[^"]*"' "$f" |
      sed -e 's/.*"lib\/\(.*\)"/\1/' |
      while IFS= read -r target; do
        [[ ${target%.*} != "${f%.*}" ]] && echo "${f%.*} $f ${target%.*}"
      done || true
  done < <(find . -type f \( -name '*.h' -o -name '*.cc' \) | sort)
}

edges | awk '
  # Tarjan strongly connected components over units; each component with
  # more than one unit is a loop, reported with its units and its shortest
  # cycle through the first of them (in name order), each step naming the
  # including file.
  !(($1 SUBSEP $3) in via) {
    via[$1, $3] = $2
    n_out[$1]++
    out[$1, n_out[$1]] = $3
    node[$1] = 1
    node[$3] = 1
  }
  function connect(v,    i, w) {
    index_of[v] = low[v] = counter++
    stack[++top] = v
    on_stack[v] = 1
    for (i = 1; i <= n_out[v]; i++) {
      w = out[v, i]
      if (!(w in index_of)) {
        connect(w)
        if (low[w] < low[v]) low[v] = low[w]
      } else if (on_stack[w] && index_of[w] < low[v]) {
        low[v] = index_of[w]
      }
    }
    if (low[v] == index_of[v]) {
      n_comp++
      do {
        w = stack[top--]
        on_stack[w] = 0
        comp[w] = n_comp
        size[n_comp]++
      } while (w != v)
    }
  }
  # Shortest path from `start` back to itself inside its component (BFS).
  function cycle(start,    head, tail, queue, parent, v, i, w, path, c) {
    c = comp[start]
    head = tail = 0
    queue[tail++] = start
    while (head < tail) {
      v = queue[head++]
      for (i = 1; i <= n_out[v]; i++) {
        w = out[v, i]
        if (comp[w] != c) continue
        if (w == start) {
          path = "lib/" via[v, w] " includes lib/" w ".h"
          while (v != start) {
            path = "lib/" via[parent[v], v] " includes lib/" v ".h; " path
            v = parent[v]
          }
          return path
        }
        if (!(w in parent)) {
          parent[w] = v
          queue[tail++] = w
        }
      }
    }
    return ""
  }
  END {
    counter = 0
    n = 0
    for (v in node) names[++n] = v
    # Insertion sort: a stable order for the report (and awk has no sort).
    for (i = 2; i <= n; i++) {
      v = names[i]
      for (j = i - 1; j >= 1 && names[j] > v; j--) names[j + 1] = names[j]
      names[j + 1] = v
    }
    for (i = 1; i <= n; i++) if (!(names[i] in index_of)) connect(names[i])
    bad = 0
    for (i = 1; i <= n; i++) {
      c = comp[names[i]]
      if (size[c] < 2 || (c in reported)) continue
      reported[c] = 1
      members = ""
      for (j = 1; j <= n; j++) if (comp[names[j]] == c) members = members (members == "" ? "" : ", ") names[j]
      print "include loop between " members ": " cycle(names[i])
      bad = 1
    }
    exit bad
  }'
