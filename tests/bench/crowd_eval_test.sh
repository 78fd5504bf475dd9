#!/usr/bin/env bash
# The crowd status targets on the shared real data, measured by
# bench/crowd_eval: the live wait beats the posted wait (MAE) on every ride,
# and 30% liars grow the MAE by at most 20%.
# Needs ../shared/data: skips (exit 77) when it is absent.
# Usage: crowd_eval_test.sh <crowd_eval> <data_dir>
set -euo pipefail
eval_bin=$1
data=$2
if ! compgen -G "$data/waits/disney2018_*.csv.gz" >/dev/null; then
  echo "crowd_eval_test: no shared data in $data: skipped"
  exit 77
fi
out=$("$eval_bin" --data_dir="$data")
echo "$out"
for target in "Live beats posted on every ride" "MAE growth with 30% liars"; do
  line=$(grep "^$target" <<<"$out") || { echo "FAIL: no line for $target"; exit 1; }
  grep -q "PASS" <<<"$line" || { echo "FAIL: $line"; exit 1; }
done
echo "crowd_eval_test: all targets met"
