// BenchRun: what noqueue-bench's workloads share while they measure. The
// servers under test (NoQueue and its echo ceiling) with the channels to
// them, how long a point lasts and how often it is measured, the ids this
// run gives its requests, its tags and its streams, and what it has
// measured so far: points, notes, the planner's budgets, the server's
// memory.
//
//   BenchRun run(nq_target, nq_pid, echo_target, echo_pid, timing, levels,
//                /*repeats=*/3, /*planner_cpu=*/1, /*window=*/256);
//   if (!run.Setup({10, 100})) return 1;
//   for (Point& p : run.Interleaved({noqueue_point, echo_point})) {
//     run.Add(std::move(p));
//   }
//
// Each workload is a function of its own file (schedule_workload.h,
// crowd_workload.h, ...) that adds its points to a BenchRun.
#ifndef NOQUEUE_BENCH_BENCH_RUN_H_
#define NOQUEUE_BENCH_BENCH_RUN_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_results.h"
#include "bench/load.h"
#include "bench/workloads.h"
#include "noqueue/v1/scheduling.pb.h"

namespace noqueue::bench {

// A point of `workload` of `kind` at concurrency `c`, `items` attendees per
// call, nothing measured yet.
Point NewPoint(const std::string& workload, const std::string& kind, int c,
               double items = 1);

// Sets p's server CPU (all of it, and by the role of its threads) from
// `at_start` to `after`, and its peak memory, when `pid` is a process the
// bench reads (> 0); else leaves them unknown.
void SetServerUsage(pid_t pid, const ProcessUsage& at_start,
                    const ProcessUsage& after, Point* p);

class BenchRun {
 public:
  // NoQueue at `noqueue_target` (its process `noqueue_pid`, <= 0 when the
  // bench cannot read it), the echo ceiling at `echo_target`. Each point is
  // measured `repeats` times at each of `levels`; the in-process ceilings run
  // on `planner_cpu` (< 0: not pinned); a tag stream keeps up to `window`
  // tags unacknowledged.
  BenchRun(std::string noqueue_target, pid_t noqueue_pid,
           std::string echo_target, pid_t echo_pid, Timing timing,
           std::vector<int> levels, int repeats, int planner_cpu, int window);
  BenchRun(const BenchRun&) = delete;
  BenchRun& operator=(const BenchRun&) = delete;

  // Creates the bench's venue of each of `sizes` (BenchVenue); false after
  // saying why on stderr.
  bool Setup(const std::vector<int>& sizes);

  const std::vector<std::shared_ptr<grpc::Channel>>& noqueue_channels() const {
    return nq_channels_;
  }
  pid_t noqueue_pid() const { return nq_pid_; }
  const std::vector<std::shared_ptr<grpc::Channel>>& echo_channels() const {
    return echo_channels_;
  }
  pid_t echo_pid() const { return echo_pid_; }
  const Timing& timing() const { return timing_; }
  const std::vector<int>& levels() const { return levels_; }
  int repeats() const { return repeats_; }
  int planner_cpu() const { return planner_cpu_; }
  // Unacknowledged tags per stream at most.
  int window() const { return window_; }
  // Ids of this run's requests and tags start with it, so that a run on a
  // server that has seen others repeats none.
  const std::string& id() const { return run_; }

  // The first of `n` new device numbers (streams "gate-N"), unique in the
  // run.
  int64_t NewDevices(int n) {
    const int64_t first = next_stream_;
    next_stream_ += n;
    return first;
  }
  // The number of the next crowd report of ReportQueue's point (reports of
  // other workloads number theirs from it).
  int64_t next_report() const { return next_report_; }
  void set_next_report(int64_t next) { next_report_ = next; }

  // The pool of schedules tags go to (null until MakeTagPlan made it).
  TagPlan* tag_plan() const { return tags_.get(); }
  void set_tag_plan(std::unique_ptr<TagPlan> plan) { tags_ = std::move(plan); }

  // Says on stderr which point runs now.
  static void Progress(const std::string& workload, const std::string& kind,
                       int c);

  // A closed loop of `issue` at concurrency `c` for one repeat of the
  // timing, with the CPU of process `pid` read around the measured part.
  Point Measure(const std::string& workload, const std::string& kind, int c,
                double items, pid_t pid, const Issue& issue) const;

  // The echo ceiling of a unary call: requests of `req_bytes`, answers of
  // `resp_bytes`, at concurrency `c` (kind "echo").
  Point EchoUnary(const std::string& workload, int c, size_t req_bytes,
                  size_t resp_bytes) const;

  // Calls `once` once per repeat; each call's points merged by their place
  // (the i-th of every repeat into the i-th point).
  std::vector<Point> Repeated(
      const std::function<std::vector<Point>()>& once) const;

  // Measures each of `runs` once per repeat, in turn (A B A B ...), so that
  // a point and its ceiling see the same drift of the machine; one merged
  // point each, in the order of `runs`.
  std::vector<Point> Interleaved(
      const std::vector<std::function<Point()>>& runs) const;

  // `c` streams of process `pid` at once, each started by `start(s, ctx,
  // stream)` on the s-th stream's context, sending make_for(s)'s messages
  // and judging each answer by `check`; counts what was acknowledged inside
  // the measured time.
  template <typename Req, typename Resp, typename Start, typename MakeFor,
            typename Check>
  Point MeasureStreams(const std::string& workload, const std::string& kind,
                       int c, pid_t pid, Start start, MakeFor make_for,
                       Check check) const;

  // Keeps `p` among the run's points; returns it as kept.
  const Point& Add(Point p) {
    points_.push_back(std::move(p));
    return points_.back();
  }
  void AddNote(std::string note) { notes_.push_back(std::move(note)); }
  // The search budget of CreateSchedule workload `workload`, ms.
  void SetBudget(const std::string& workload, double ms) {
    budgets_ms_[workload] = ms;
  }
  // A schedule the server answered to CreateSchedule of `size` (e.g.
  // "CreateSchedule/100"), for the store's floor; the first one stays.
  void KeepServed(const std::string& size, const v1::Schedule& schedule) {
    served_.emplace(size, schedule);
  }
  MemoryFigures* mutable_memory() { return &memory_; }

  const std::vector<Point>& points() const { return points_; }
  const std::vector<std::string>& notes() const { return notes_; }
  const std::map<std::string, double>& budgets_ms() const {
    return budgets_ms_;
  }
  const std::map<std::string, v1::Schedule>& served() const { return served_; }
  const MemoryFigures& memory() const { return memory_; }

 private:
  std::string nq_target_;
  pid_t nq_pid_;
  std::string echo_target_;
  pid_t echo_pid_;
  Timing timing_;
  std::vector<int> levels_;
  const int repeats_;
  const int planner_cpu_;
  const int window_;
  std::vector<std::shared_ptr<grpc::Channel>> nq_channels_, echo_channels_;
  std::vector<Point> points_;
  int64_t next_report_ = 0;
  int64_t next_stream_ = 0;
  const std::string run_ = NewRunId();
  std::unique_ptr<TagPlan> tags_;
  std::vector<std::string> notes_;
  std::map<std::string, double> budgets_ms_;
  std::map<std::string, v1::Schedule> served_;
  MemoryFigures memory_;
};

template <typename Req, typename Resp, typename Start, typename MakeFor,
          typename Check>
Point BenchRun::MeasureStreams(const std::string& workload,
                               const std::string& kind, int c, pid_t pid,
                               Start start, MakeFor make_for,
                               Check check) const {
  Progress(workload, kind, c);
  Recorder recorder;
  Point p = NewPoint(workload, kind, c);
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<std::unique_ptr<LoadStream<Req, Resp>>> streams;
  for (int s = 0; s < c; ++s) {
    ctxs.push_back(NewContext());
    streams.push_back(std::make_unique<LoadStream<Req, Resp>>(
        window_, make_for(s), check, &recorder));
    start(s, ctxs.back().get(), streams.back().get());
    streams.back()->Begin();
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(timing_.warmup_s));
  const ProcessUsage at_start = ReadUsage(pid);
  recorder.Start();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(timing_.measure_s));
  // Count only what was acknowledged inside the measured time.
  recorder.Stop();
  Point counted;
  recorder.Into(&counted);
  p.seconds = Seconds(Clock::now() - t0);
  const ProcessUsage after = ReadUsage(pid);
  for (auto& s : streams) s->Stop();
  for (auto& s : streams) {
    grpc::Status st = s->Await();
    if (!st.ok()) ++counted.errors[Recorder::StatusName(st.error_code())];
  }
  p.calls = counted.calls;
  p.latency_ms = std::move(counted.latency_ms);
  p.errors = std::move(counted.errors);
  SetServerUsage(pid, at_start, after, &p);
  return p;
}

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_BENCH_RUN_H_
