#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang into build-fuzz/
# and runs each for SECONDS (default 60) from its seed corpus
# (tests/fuzz/corpus/<harness>/, .gz files unpacked), printing executions
# and findings per harness. Inputs that crash, leak, time out (10 s) or run out of memory
# (2 GB) are kept in build-fuzz/findings/<harness>/; the exit code is 1 when
# any harness found one. New inputs grow build-fuzz/corpus/<harness>/ only.
# Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
all=(create_schedule_fuzzer arrival_event_fuzzer upsert_venue_fuzzer
  csv_fuzzer plan_instance_fuzzer model_snapshot_fuzzer)
harnesses=("$@")
((${#harnesses[@]})) || harnesses=("${all[@]}")
"$root/scripts/install-deps.sh" fuzz
build="$root/build-fuzz"
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DBUILD_TESTING=OFF -DNOQUEUE_FUZZ=ON -DNOQUEUE_WERROR=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${harnesses[@]}"

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
found=0
printf '%-24s %12s %10s %8s  %s\n' harness executions exec/s findings corpus
for h in "${harnesses[@]}"; do
  corpus="$build/corpus/$h"
  findings="$build/findings/$h"
  seeds="$build/seeds/$h"
  rm -rf "$seeds"
  mkdir -p "$corpus" "$findings" "$seeds"
  # Seeds are kept gzipped in the repository when they are large (a model
  # snapshot is about 1 MB of mostly zeros).
  for f in "$root/tests/fuzz/corpus/$h"/*; do
    case "$f" in
      *.gz) gunzip -c "$f" >"$seeds/$(basename "$f" .gz)" ;;
      *) cp "$f" "$seeds/" ;;
    esac
  done
  log="$build/$h.log"
  stamp="$build/$h.start"
  touch "$stamp"  # the findings of this run are the inputs newer than this
  # libFuzzer cuts inputs to 1 MB unless told: allow the largest seed whole.
  max_len=$(find "$seeds" -type f -printf '%s\n' | sort -n | tail -1)
  ((${max_len:-0} > 4096)) || max_len=4096
  status=0
  "$build/tests/fuzz/$h" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
    -artifact_prefix="$findings/" "$corpus" "$seeds" \
    >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  count=$(find "$findings" -type f -newer "$stamp" | wc -l)
  printf '%-24s %12s %10s %8s  %s\n' "$h" "${execs:-?}" "${rate:-?}" \
    "$count" "$(find "$corpus" -type f | wc -l) inputs"
  if ((status != 0 || count > 0)); then
    found=1
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|broken promise|unexpected code|message of)" \
      "$log" | head -5 | sed 's/^/    /'
    echo "    (log: $log; inputs: $findings/)"
  fi
done
exit "$found"
