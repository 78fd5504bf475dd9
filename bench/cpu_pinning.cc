#include "bench/cpu_pinning.h"

#include <sched.h>
#include <time.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace noqueue::bench {
namespace {

bool PinTask(pid_t tid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(tid, sizeof set, &set) == 0;
}

// The thread ids of `pid`, from /proc/<pid>/task.
std::vector<pid_t> Tasks(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", pid, "/task"), ec)) {
    int tid = 0;
    if (absl::SimpleAtoi(entry.path().filename().string(), &tid)) {
      out.push_back(tid);
    }
  }
  return out;
}

}  // namespace

bool PinThisThread(int cpu) { return PinTask(0, cpu); }

bool PinProcess(pid_t pid, int cpu) {
  const std::vector<pid_t> tasks = Tasks(pid);
  bool ok = !tasks.empty();
  for (pid_t tid : tasks) ok = PinTask(tid, cpu) && ok;
  return ok;
}

std::string AllowedCpus(pid_t pid) {
  std::set<std::string> lists;
  for (pid_t tid : Tasks(pid)) {
    std::ifstream status(absl::StrCat("/proc/", pid, "/task/", tid, "/status"));
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Cpus_allowed_list:", 0) == 0) {
        const size_t v = line.find_first_not_of(" \t", 18);
        if (v != std::string::npos) lists.insert(line.substr(v));
      }
    }
  }
  return absl::StrJoin(lists, "+");
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace noqueue::bench
