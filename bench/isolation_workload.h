// noqueue-bench's isolation workload: whether cheap calls stay cheap beside
// large schedules.
#ifndef NOQUEUE_BENCH_ISOLATION_WORKLOAD_H_
#define NOQUEUE_BENCH_ISOLATION_WORKLOAD_H_

#include "bench/bench_run.h"

namespace noqueue::bench {

// Adds to `run` GetVenue of "bench-<n>" at C=1 alone, then GetVenue at C=1
// while `schedules` CreateSchedule(n) run at once (closed loop, the
// constructive plan), then those schedules' own point. The venue
// BenchVenue(n) must exist.
void MeasureIsolation(BenchRun& run, int schedules, int n);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_ISOLATION_WORKLOAD_H_
