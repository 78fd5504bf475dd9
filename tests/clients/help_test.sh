#!/usr/bin/env bash
# Every tool's --help lists its own flags with their defaults (not Abseil's
# "No flags matched"). Abseil ends --help with status 1, as it does any
# usage message: the test reads the text.
# Usage: help_test.sh <binary>=<one of its flags> ...
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
for pair in "$@"; do
  binary=${pair%=*}
  flag=${pair##*=}
  name=$(basename "$binary")
  status=0
  out=$("$binary" --help 2>&1) || status=$?
  ((status <= 1)) || fail "$name --help exited $status:"$'\n'"$out"
  grep -q "No flags matched" <<<"$out" && fail "$name --help lists no flag"
  grep -q -- "-$flag (.*default" <<<"$out" ||
    grep -A3 -- "-$flag (" <<<"$out" | grep -q "default:" ||
    fail "$name --help does not list --$flag with its default:"$'\n'"$out"
done
echo "every tool lists its flags"
