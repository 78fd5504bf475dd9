// The planning executor: bounded, refuses at once when full, runs what it
// accepted.
#include "server/common/executor.h"

#include <sched.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <future>

namespace noqueue::server {
namespace {

TEST_CASE("The executor refuses work beyond its threads and queue, at once") {
  BoundedExecutor executor(/*threads=*/1, /*max_queued=*/1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0};
  auto blocked = [&] {
    released.wait();
    ++ran;
  };
  REQUIRE(executor.TrySubmit(blocked));  // runs
  REQUIRE(executor.TrySubmit(blocked));  // waits
  while (executor.running() < 1) std::this_thread::yield();
  CHECK(executor.queued() == 1);
  CHECK_FALSE(executor.TrySubmit(blocked));  // full
  release.set_value();
  executor.Shutdown();
  CHECK(ran == 2);
  CHECK_FALSE(executor.TrySubmit(blocked));  // shut down
}

TEST_CASE("The executor runs everything it accepted before it shuts down") {
  std::atomic<int> ran{0};
  {
    BoundedExecutor executor(/*threads=*/2, /*max_queued=*/100);
    int accepted = 0;
    for (int i = 0; i < 100; ++i) {
      accepted += executor.TrySubmit([&] { ++ran; });
    }
    CHECK(accepted >= 100);
  }
  CHECK(ran == 100);
}

TEST_CASE(
    "One planning thread per core the process may run on, not per core "
    "of the machine") {
  cpu_set_t all;
  REQUIRE(sched_getaffinity(0, sizeof(all), &all) == 0);
  CHECK(UsableCores() == CPU_COUNT(&all));
  // Pinned to one core (taskset, a cpuset), as noqueue-bench pins the
  // server: one thread, not one per core of the machine competing for it.
  int first = 0;
  while (!CPU_ISSET(first, &all)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0);
  const int pinned = UsableCores();
  REQUIRE(sched_setaffinity(0, sizeof(all), &all) == 0);
  CHECK(pinned == 1);
}

}  // namespace
}  // namespace noqueue::server
