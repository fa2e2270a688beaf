#!/usr/bin/env bash
# Checks the house rules on lib/'s folders (docs/architecture.md):
#  - a folder includes only headers of folders before it in the stated order
#    (the layers, lowest first, are this script's arguments after the root);
#  - lib/ never includes tools/ or CLI11, and has no source files at its top;
#  - every file under lib/ sits in a listed folder.
# Usage: check.sh ROOT LAYER... ; exit 1 with one line per violation.
set -euo pipefail
root=$1
shift
layers=("$@")

layer_of() {  # lib-relative path -> index of its layer (the longest listed prefix), or -1
  local path=$1 best=-1 bestlen=0 i
  for i in "${!layers[@]}"; do
    local l=${layers[$i]}
    if [[ $path == "$l"/* && ${#l} -gt $bestlen ]]; then
      best=$i
      bestlen=${#l}
    fi
  done
  echo "$best"
}

bad=0
cd "$root/lib"
while IFS= read -r f; do
  f=${f#./}
  own=$(layer_of "$f")
  if [[ $own -lt 0 ]]; then
    echo "lib/$f: not in a listed folder (top-level files and unlisted folders are not allowed)"
    bad=1
    continue
  fi
  while IFS=: read -r line inc; do
    if [[ $inc =~ \"(tools/[^\"]*|CLI/[^\"]*)\" ]]; then
      echo "lib/$f:$line: includes ${BASH_REMATCH[1]}; the library never includes the command-line layer"
      bad=1
    elif [[ $inc =~ \"lib/([^\"]*)\" ]]; then
      target=${BASH_REMATCH[1]}
      t=$(layer_of "$target")
      if [[ $t -gt $own ]]; then
        echo "lib/$f:$line: ${layers[$own]}/ includes lib/$target of ${layers[$t]}/, which comes after it in the order"
        bad=1
      fi
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$f" || true)
done < <(find . -type f \( -name '*.h' -o -name '*.cc' \) | sort)
exit $bad
