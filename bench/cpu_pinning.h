// CPU pinning for noqueue-bench: the server under test (or the echo
// ceiling) and the load generator on disjoint cores, so that a ratio
// measures the server and not how the generator competes with it for the
// same cores.
//
//   PinThisThread(1);            // children forked now inherit core 1
//   ServerProcess server(...);
//   PinProcess(getpid(), 0);     // every thread of the generator on core 0
//   std::string where = AllowedCpus(server.pid());  // "1"
//
// Linux only (sched_setaffinity, /proc).
#ifndef NOQUEUE_BENCH_CPU_PINNING_H_
#define NOQUEUE_BENCH_CPU_PINNING_H_

#include <sys/types.h>

#include <string>

namespace noqueue::bench {

// Restricts the calling thread to `cpu`; threads and processes it creates
// afterwards inherit it. False (errno set) when the kernel refuses.
bool PinThisThread(int cpu);

// Restricts every thread process `pid` has now to `cpu` (threads created
// later inherit their creator's). False when one of them could not be
// pinned.
bool PinProcess(pid_t pid, int cpu);

// The CPUs the threads of `pid` may run on, as /proc lists them (e.g. "1",
// "0-1"); when its threads disagree, each distinct list joined by "+".
// Empty when /proc cannot be read.
std::string AllowedCpus(pid_t pid);

// The CPU time the calling thread has used, seconds.
double ThreadCpuSeconds();

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_CPU_PINNING_H_
