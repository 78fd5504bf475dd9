// noqueue-bench's overhead workloads: what access control and what the
// metrics cost per call, each against the same server binary without it.
#ifndef NOQUEUE_BENCH_OVERHEAD_WORKLOADS_H_
#define NOQUEUE_BENCH_OVERHEAD_WORKLOADS_H_

#include <string>

#include "bench/bench_run.h"

namespace noqueue::bench {

// Where the servers these workloads compare with start: the binary under
// test, a folder for their databases, and the cores of the server and of
// the load generator (< 0: not pinned; they start on the server's core as
// the server under test did, then the calling thread returns to the
// generator's).
struct ComparedServers {
  std::string binary;
  std::string dir;
  int server_cpu = -1;
  int generator_cpu = -1;
};

// Adds to `run` GetVenue at the lowest and the highest level on the server
// under test (every call carries an API key, hashed and compared) and on
// the same binary with --auth=none (no credential). False when that server
// does not start (after saying so on stderr).
bool MeasureAuthCost(BenchRun& run, const ComparedServers& servers);

// Adds to `run` GetVenue, the cheapest RPC, at the lowest and the highest
// level on two servers without access control, one with --metrics_listen,
// measured in turns, and a note of the throughput ratios (with / without).
// False when those servers do not start (after saying so on stderr).
bool MeasureMetricsCost(BenchRun& run, const ComparedServers& servers);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_OVERHEAD_WORKLOADS_H_
