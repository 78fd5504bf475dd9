#!/usr/bin/env bash
# noqueue-bench in a short smoke run: it starts its own server and
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
  --watchers=50 --watchers_tags_per_s=1000 \
  --json="$out/bench.json" --svg="$out/bench.svg" | tee "$out/table.txt"
# The JSON, read with Python's parser.
python3 - "$out/bench.json" <<'PY' || exit 1
import json, sys
doc = json.load(open(sys.argv[1]))
points = doc["points"]
def fail(why):
    print("FAIL:", why)
    sys.exit(1)
def has(workload, kind):
    return any(p["workload"] == workload and p["kind"] == kind for p in points)
for w in ["CreateSchedule/10", "CreateSchedule/100", "CreateSchedule/100 budget=0ms",
          "ReportQueue", "GetVenueStatus", "StreamArrivals", "Mixed: CreateSchedule/100",
          "Mixed: StreamArrivals", "GetVenue", "GetVenue beside 4 x CreateSchedule/1000",
          "GetVenue (no metrics)", "GetVenue (metrics on)",
          "RecordArrivals/1 beside another venue's tags",
          "RecordArrivals/1 beside another venue's tags and 50 watchers"]:
    if not has(w, "noqueue"):
        fail("no noqueue point for " + w)
if not any(p["kind"] == "echo" for p in points):
    fail("no echo ceiling")
if not has("CreateSchedule/100 budget=0ms", "planner"):
    fail("no in-process planner ceiling")
if not isinstance(doc["run"]["pinning"]["enabled"], bool):
    fail("no pinning")
if not any(len(p["repeats"]["calls_per_s"]) == 2 for p in points):
    fail("no repeats")
if doc["memory"]["open_streams"] != 50:
    fail("no memory figures")
for w in ["StreamArrivals", "CreateSchedule/100"]:
    if not has(w, "sqlite"):
        fail("no store floor for " + w)
if any(p["calls"] == 0 for p in points):
    fail("a point completed no call")
if not any(n.startswith("metrics on") for n in doc["run"]["notes"]):
    fail("no metrics cost note")
PY
grep -q "<svg" "$out/bench.svg" || { echo "FAIL: no SVG"; exit 1; }
grep -q "^## Targets" "$out/table.txt" || { echo "FAIL: no targets section"; exit 1; }
echo "bench_smoke_test: ok"
