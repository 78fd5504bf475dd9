#include "server/common/executor.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>

namespace noqueue::server {

int UsableCores() {
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0) {
    return std::max(1, CPU_COUNT(&cpus));
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void NameThisThread(const char* name) {
  pthread_setname_np(pthread_self(), std::string(name).substr(0, 15).c_str());
}

BoundedExecutor::BoundedExecutor(int threads, size_t max_queued, int nice)
    : capacity_(static_cast<size_t>(std::max(threads, 1)) + max_queued) {
  for (int i = 0; i < std::max(threads, 1); ++i) {
    workers_.emplace_back([this, nice] { Work(nice); });
  }
}

BoundedExecutor::~BoundedExecutor() { Shutdown(); }

bool BoundedExecutor::TrySubmit(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() + running_ >= capacity_) return false;
  queue_.push_back(std::move(task));
  cv_.Signal();
  return true;
}

size_t BoundedExecutor::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

size_t BoundedExecutor::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

void BoundedExecutor::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.SignalAll();
  }
  for (std::thread& t : workers_) t.join();
}

void BoundedExecutor::Work(int nice) {
  NameThisThread("nq-plan");
  // On Linux a thread's nice value is its own (setpriority on its tid).
  if (nice != 0) {
    const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
    setpriority(PRIO_PROCESS, static_cast<id_t>(tid),
                getpriority(PRIO_PROCESS, static_cast<id_t>(tid)) + nice);
  }
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    task();
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace noqueue::server
