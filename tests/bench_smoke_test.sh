#!/usr/bin/env bash
# noqueue-bench in a short smoke run (issue 6): it starts its own server and
# echo ceiling, drives every workload through the real API, and writes its
# JSON and SVG. Checks behaviour (no errors, every workload measured, files
# written), not speed.
# Usage: bench_smoke_test.sh <noqueue-bench>
set -euo pipefail
bench=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bench" --quick --duration_s=0.2 --repeats=2 --sizes=10,100 --concurrency=1,4 \
  --memory_streams=50 --isolation_schedules=4 --isolation_size=1000 \
  --json="$out/bench.json" --svg="$out/bench.svg" | tee "$out/table.txt"
for w in "CreateSchedule/10" "CreateSchedule/100" "CreateSchedule/100 budget=0ms" \
         "ReportQueue" "GetVenueStatus" \
         "StreamArrivals" "Mixed: CreateSchedule/100" "Mixed: StreamArrivals" \
         "GetVenue" "GetVenue beside 4 x CreateSchedule/1000"; do
  grep -q "\"workload\": \"$w\", \"kind\": \"noqueue\"" "$out/bench.json" ||
    { echo "FAIL: no noqueue point for $w"; exit 1; }
done
grep -q '"kind": "echo"' "$out/bench.json" || { echo "FAIL: no echo ceiling"; exit 1; }
grep -q '"workload": "CreateSchedule/100 budget=0ms", "kind": "planner"' "$out/bench.json" ||
  { echo "FAIL: no in-process planner ceiling"; exit 1; }
grep -q '"pinning": {"enabled": ' "$out/bench.json" || { echo "FAIL: no pinning"; exit 1; }
grep -q '"calls_per_s": \[[^,]*, [^,]*\]' "$out/bench.json" ||
  { echo "FAIL: no repeats"; exit 1; }
grep -q '"open_streams": 50,' "$out/bench.json" || { echo "FAIL: no memory figures"; exit 1; }
grep -q '"kind": "sqlite"' "$out/bench.json" || { echo "FAIL: no SQLite ceiling"; exit 1; }
if grep -q '"calls": 0,' "$out/bench.json"; then
  echo "FAIL: a point completed no call"; exit 1
fi
grep -q "<svg" "$out/bench.svg" || { echo "FAIL: no SVG"; exit 1; }
grep -q "^## Targets" "$out/table.txt" || { echo "FAIL: no targets section"; exit 1; }
echo "bench_smoke_test: ok"
