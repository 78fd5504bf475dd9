// BoundedExecutor: runs CPU-heavy work (planning a schedule) on a few
// threads of its own, off gRPC's reaction threads, so that cheap RPCs stay
// fast while large schedules are planned. Its queue is bounded: when it is
// full, TrySubmit refuses at once and the caller answers RESOURCE_EXHAUSTED
// instead of piling up work it cannot finish in time. Its threads run at a
// lower scheduling priority (nice) than the rest of the process, so that on
// a loaded machine the reaction threads get the CPU first.
//
//   BoundedExecutor planner(/*threads=*/2, /*max_queued=*/64);
//   if (!planner.TrySubmit([=] { ... })) return ResourceExhausted(...);
#ifndef NOQUEUE_SERVER_COMMON_EXECUTOR_H_
#define NOQUEUE_SERVER_COMMON_EXECUTOR_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace noqueue::server {

class BoundedExecutor {
 public:
  // `threads` >= 1 workers; at most `max_queued` tasks wait for one (so at
  // most threads + max_queued are accepted and not yet done).
  // `nice` is added to the workers' scheduling priority (0: none).
  BoundedExecutor(int threads, size_t max_queued, int nice = 5);
  // Runs what is queued, then joins the workers.
  ~BoundedExecutor();
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // Queues `task`; false, without queuing it, when the queue is full or the
  // executor is shutting down.
  bool TrySubmit(std::function<void()> task);

  // Tasks waiting for a worker, and tasks running.
  size_t queued() const;
  size_t running() const;

  // Stops accepting tasks, runs what is queued, joins the workers.
  // Idempotent.
  void Shutdown();

 private:
  void Work(int nice);

  const size_t capacity_;  // threads + max_queued
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

// The cores this process may run on: its CPU affinity (taskset, a cpuset,
// a container's --cpuset-cpus), not every core of the machine; at least 1.
// A CPU quota (cgroup cpu.max) does not show here.
int UsableCores();

// Names the calling thread (as top -H, perf and /proc show it; at most 15
// characters kept): "nq-plan" for planners, "nq-store-..." for the store's.
void NameThisThread(const char* name);
}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_COMMON_EXECUTOR_H_
