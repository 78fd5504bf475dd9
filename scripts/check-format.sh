#!/usr/bin/env bash
# Checks that every C++ file of the repository is formatted by clang-format
# (.clang-format: Google style); prints the files that are not.
# Usage: scripts/check-format.sh [repository root]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
if ! command -v clang-format >/dev/null; then
  echo "check-format: clang-format is not installed (scripts/install-deps.sh)" >&2
  exit 1
fi
# Tracked files and new ones not yet added (but not ignored ones): a local
# run sees what CI will see once they are committed.
mapfile -t files < <(git ls-files --cached --others --exclude-standard \
  '*.cc' '*.h' 2>/dev/null || find . -name '*.cc' -o -name '*.h')
existing=()
for f in "${files[@]}"; do [[ -f $f ]] && existing+=("$f"); done
# One clang-format for every file (a process each took most of the time);
# it names each file that is not formatted in its warnings.
mapfile -t bad < <(clang-format --dry-run --Werror "${existing[@]}" 2>&1 |
  sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' |
  sort -u)
if ((${#bad[@]})); then
  echo "check-format: not formatted (run clang-format -i on them):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
