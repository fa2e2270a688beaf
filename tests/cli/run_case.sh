#!/usr/bin/env bash
# Runs one golden CLI case: tests/cli/<tool>/<case>/ holds
#   cmd     a bash snippet (run in a fresh temp dir; $CASE is the case dir,
#           $TESTDATA the repo's testdata/, tools are on PATH)
#   stdout  expected standard output (byte for byte)
#   stderr  expected standard error (optional; absent means "not checked")
#   rc      expected exit code (optional; absent means 0)
# LLMTK_REGEN=1 rewrites stdout/rc (and stderr where present) from this run;
# review the diff before committing.
set -uo pipefail
case_dir=$(cd "$1" && pwd); bindir=$(cd "$2" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export CASE="$case_dir" TESTDATA="$repo/testdata" PATH="$bindir:$PATH" LC_ALL=C
(cd "$work" && bash -o pipefail "$case_dir/cmd") >"$work/.out" 2>"$work/.err" </dev/null
rc=$?
want_rc=0; [ -f "$case_dir/rc" ] && want_rc=$(cat "$case_dir/rc")
if [ "${LLMTK_REGEN:-}" = 1 ]; then
  cp "$work/.out" "$case_dir/stdout"
  [ -f "$case_dir/stderr" ] && cp "$work/.err" "$case_dir/stderr"
  if [ "$rc" != 0 ]; then echo "$rc" >"$case_dir/rc"; else rm -f "$case_dir/rc"; fi
  echo "regenerated $case_dir"; exit 0
fi
fail=0
if [ "$rc" != "$want_rc" ]; then echo "exit code: got $rc, want $want_rc"; fail=1; fi
if ! diff -u "$case_dir/stdout" "$work/.out" >"$work/.d1"; then echo "stdout differs:"; head -50 "$work/.d1"; fail=1; fi
if [ -f "$case_dir/stderr" ] && ! diff -u "$case_dir/stderr" "$work/.err" >"$work/.d2"; then
  echo "stderr differs:"; head -50 "$work/.d2"; fail=1
fi
[ $fail = 0 ] || { echo "--- stderr of the run:"; head -30 "$work/.err"; }
exit $fail
