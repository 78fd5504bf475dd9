// noqueue-bench's tag workloads: the pool of schedules tags go to (and the
// server's memory per stored convocation), tag ingest on streams, and the
// server's memory per open stream.
#ifndef NOQUEUE_BENCH_TAG_WORKLOADS_H_
#define NOQUEUE_BENCH_TAG_WORKLOADS_H_

#include "bench/bench_run.h"

namespace noqueue::bench {

// Makes the run's tag plan: `schedules` schedules of TagPlan::kAttendees
// (two threads at once, before any measurement), and records the server's
// memory before and after they were stored. False (no tag plan) after
// saying why on stderr.
bool MakeTagPlan(BenchRun& run, int schedules);

// Adds to `run` StreamArrivals at every level (C streams, each with up to
// the run's window of tags unacknowledged, tags of the run's tag plan,
// which must exist), each interleaved with its echo ceiling on streams.
void MeasureArrivals(BenchRun& run);

// Records the server's resident memory with `streams` tag streams open at
// once (each has sent one tag of the tag plan and had it acknowledged),
// beside the same server before they opened; then closes them. Does
// nothing without a tag plan or a server process to read.
void MeasureOpenStreams(BenchRun& run, int streams);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_TAG_WORKLOADS_H_
