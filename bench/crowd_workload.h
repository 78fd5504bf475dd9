// noqueue-bench's crowd workload: crowd reports in, the live venue status
// out, each beside its echo ceiling.
#ifndef NOQUEUE_BENCH_CROWD_WORKLOAD_H_
#define NOQUEUE_BENCH_CROWD_WORKLOAD_H_

#include "bench/bench_run.h"

namespace noqueue::bench {

// Adds to `run` ReportQueue (every call a new finished wait by a new
// reporter) and then GetVenueStatus on the venue "bench-100" at every
// level, each interleaved with its echo ceiling; advances the run's report
// numbers past the reports sent.
void MeasureCrowd(BenchRun& run);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_CROWD_WORKLOAD_H_
