// noqueue-bench's mixed workload: a busy venue, every kind of call at once.
#ifndef NOQUEUE_BENCH_MIXED_WORKLOAD_H_
#define NOQUEUE_BENCH_MIXED_WORKLOAD_H_

#include "bench/bench_run.h"

namespace noqueue::bench {

// Adds to `run` four points measured together, once per repeat: schedules
// of 100, crowd reports and status polls on "bench-100" (two of each at
// once) and one device streaming tags of the run's tag plan (which must
// exist), the server's CPU shared among them by their calls.
void MeasureMixed(BenchRun& run);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_MIXED_WORKLOAD_H_
