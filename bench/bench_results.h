// What noqueue-bench measured and how it says it: points (one workload at
// one concurrency, of one kind: NoQueue or one of its ceilings) with their
// repeats, the server's memory, the conditions of the run (pinning, load,
// budgets), and the Markdown table, the JSON, the SVG and the issue's
// targets made from them.
//
//   std::vector<Point> runs = ...;     // one per repeat of a point
//   Point p = Merge(std::move(runs));  // median, spread, pooled latencies
//   PrintTable(points, facts);
#ifndef NOQUEUE_BENCH_BENCH_RESULTS_H_
#define NOQUEUE_BENCH_BENCH_RESULTS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace noqueue::bench {

// What one repeat of a point measured.
struct Repeat {
  double seconds = 0;
  int64_t calls = 0;
  double p50_ms = std::nan("");
  double p99_ms = std::nan("");
  double cpu_s = -1;  // the server's (or the planner thread's); < 0 unknown

  double Rate() const { return seconds > 0 ? calls / seconds : 0; }
  // Calls per second of CPU time: per core kept busy.
  double PerCoreRate() const {
    return cpu_s > 0 ? calls / cpu_s : std::nan("");
  }
};

// The median of the values that are not NaN (NaN when none).
double Median(std::vector<double> v);

struct Point {
  std::string workload;  // e.g. "CreateSchedule/100"
  // "noqueue"; a ceiling: "echo" (gRPC alone), "sqlite" (the store's floor:
  // raw writes of the rows on the server's schema, server_cpu_s is its
  // thread's CPU),
  // "planner" (the planner in process: server_cpu_s is its thread's CPU)
  std::string kind;
  int concurrency = 0;        // calls or streams at once (planner: threads)
  double seconds = 0;         // measured, all repeats
  int64_t calls = 0;          // completed OK (tags for streams), all repeats
  double per_call_items = 1;  // attendees per call, for CreateSchedule
  std::vector<double> latency_ms;  // of every repeat, sorted
  std::map<std::string, int64_t> errors;
  double server_cpu_s = -1;  // all repeats; < 0 unknown
  // The server's CPU by the role of its threads (ProcessUsage), all repeats.
  std::map<std::string, double> server_cpu_s_by_role;
  double server_peak_mb = -1;
  std::vector<Repeat> repeats;  // in the order measured

  // Calls per second: the median repeat's (the run's when none).
  double Rate() const;
  // Calls per CPU-second of the server: the median repeat's.
  double PerCoreRate() const;
  // P99 latency, ms: the median repeat's.
  double P99() const;
  // Half the range of the repeats' rates over their median (0 for one).
  double RateSpread() const;
  // Over all repeats' latencies.
  double Quantile(double q) const;
  double CpuUsPerCall() const;
  // Server CPU per call of the threads of one role, us (NaN when unknown).
  double CpuUsPerCall(const std::string& role) const;
  template <typename F>
  std::vector<double> Each(F f) const {
    std::vector<double> out;
    for (const Repeat& r : repeats) out.push_back(std::invoke(f, r));
    return out;
  }
};

// The runs of one point (one per repeat) as one point: totals, every
// latency, every error, the highest peak, each run as a repeat.
Point Merge(std::vector<Point> runs);

// The server's resident memory, MB: all of it (VmRSS), and its anonymous
// part (RssAnon: the heap and SQLite's page caches, without the pages of
// the database file it maps or the shared WAL index).
struct Resident {
  double rss_mb = -1;
  double anon_mb = -1;
};

// The server's memory around what it holds: the convocations of the tag
// pool once stored, and open tag streams; its peak.
struct MemoryFigures {
  int64_t convocations = 0;
  Resident before_convocations, after_convocations;
  int streams = 0;
  Resident before_streams, with_streams;
  double peak_mb = -1;  // VmHWM at the end of the run

  // MB per million convocations and per thousand streams: of the whole RSS,
  // and of its anonymous part.
  Resident PerMillionConvocations() const;
  Resident PerThousandStreams() const;
};

// The conditions of a run, written beside its points.
struct RunFacts {
  int cores = 0;
  int repeats = 1;
  double measure_s = 0;  // per repeat
  bool pinned = false;
  int server_cpu = -1, generator_cpu = -1;
  // Where the threads of each process were allowed to run at the end of the
  // run (/proc's Cpus_allowed_list), and why pinning is off when it is.
  std::string server_cpus, echo_cpus, generator_cpus, pin_note;
  std::string load_start, load_end;  // /proc/loadavg
  // The search budget of each CreateSchedule workload, ms.
  std::map<std::string, double> budgets_ms;
  MemoryFigures memory;
  std::vector<std::string> notes;
};

const Point* Find(const std::vector<Point>& points, const std::string& workload,
                  const std::string& kind, int c);

void PrintTable(const std::vector<Point>& points, const RunFacts& facts);
std::string Json(const std::vector<Point>& points, const RunFacts& facts);
// Two panels: calls per second, and P99 latency, against concurrency (log
// scales), one colour per workload; NoQueue solid, its echo ceiling dashed.
std::string Svg(const std::vector<Point>& points,
                const std::vector<int>& levels);
// The targets, each PASS or MISS, from the points.
void PrintTargets(const std::vector<Point>& points, const RunFacts& facts,
                  const std::vector<int>& levels);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_BENCH_RESULTS_H_
