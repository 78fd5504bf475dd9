#!/usr/bin/env bash
# The model's targets on the shared real data, measured by
# bench/model_eval: flights MAE of P50 <= 0.92 x the best baseline and
# P10-P90 coverage in 0.77..0.83; no-show AUC >= 0.72 on the test days.
# Needs ../shared/data: skips (exit 77) when it is absent.
# Usage: model_eval_test.sh <model_eval> <data_dir>
set -euo pipefail
eval_bin=$1
data=$2
if [[ ! -f $data/flights/nycflights13_h1.csv.gz || ! -f $data/noshow/appointments.csv.gz ]]; then
  echo "model_eval_test: no shared data in $data: skipped"
  exit 77
fi
out=$("$eval_bin" --data_dir="$data")
echo "$out"
for target in "MAE ratio to the best baseline" "P10-P90 coverage" "AUC on the test days"; do
  line=$(grep "^$target" <<<"$out") || { echo "FAIL: no line for $target"; exit 1; }
  grep -q "PASS" <<<"$line" || { echo "FAIL: $line"; exit 1; }
done
echo "model_eval_test: all targets met"
