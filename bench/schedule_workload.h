// noqueue-bench's CreateSchedule workload: schedules of one size at every
// concurrency level, once per search budget, beside their ceilings (the
// echo, and the server's own planner run in process).
#ifndef NOQUEUE_BENCH_SCHEDULE_WORKLOAD_H_
#define NOQUEUE_BENCH_SCHEDULE_WORKLOAD_H_

#include <optional>
#include <vector>

#include "bench/bench_run.h"

namespace noqueue::bench {

// Adds to `run` CreateSchedule(n) (the venue BenchVenue(n) must exist) at
// every level, once per search budget of `budgets_ms` (nullopt: the
// server's default), beside the echo ceiling and, at one core, the planner
// run in process on the same request (or a note saying why there is no fair
// ceiling). Keeps a schedule the server answered for the store's floor and
// each variant's budget.
void MeasureCreateSchedule(
    BenchRun& run, int n, const std::vector<std::optional<double>>& budgets_ms);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_SCHEDULE_WORKLOAD_H_
