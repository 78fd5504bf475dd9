// noqueue-bench's watchers workload: whether attendees watching one venue's
// day slow down the tags of another venue.
#ifndef NOQUEUE_BENCH_WATCH_WORKLOAD_H_
#define NOQUEUE_BENCH_WATCH_WORKLOAD_H_

#include <string>

#include "bench/bench_run.h"

namespace noqueue::bench {

// The names of the workload's two points: a one-tag RecordArrivals at C=1 at
// one venue while another venue's day takes batched tags, without and with
// `watchers` of its attendees watching it (WatchMyConvocation).
std::string WatchersBaseWorkload();
std::string WatchersWorkload(int watchers);

// Adds both points to `run` (the venue BenchVenue(TagPlan::kAttendees) must
// exist): each on fresh schedules of TagPlan::kAttendees, the batched tags
// paced at `tags_per_s`.
void MeasureWatchers(BenchRun& run, int watchers, int tags_per_s);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_WATCH_WORKLOAD_H_
