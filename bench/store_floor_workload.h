// noqueue-bench's store floor: raw SQLite writes of the rows a tag and a
// schedule leave, on the server's schema, beside what the server does with
// them.
#ifndef NOQUEUE_BENCH_STORE_FLOOR_WORKLOAD_H_
#define NOQUEUE_BENCH_STORE_FLOOR_WORKLOAD_H_

#include <string>

#include "bench/bench_run.h"

namespace noqueue::bench {

// Adds to `run` the store's floors (points of kind "sqlite"): the rows of
// StoreFloor::kTagBatch tags per transaction, and of each schedule the
// server answered (BenchRun::served), written on a database of the server's
// schema in folder `dir`, on the planner's core. Without a floor (a
// database that does not open, a write that fails), a note says why.
void MeasureStoreFloors(BenchRun& run, const std::string& dir);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_STORE_FLOOR_WORKLOAD_H_
