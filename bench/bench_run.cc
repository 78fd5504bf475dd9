// The measuring every workload of noqueue-bench does the same way: closed
// loops of unary calls with the server's CPU read around the measured part,
// the echo ceiling of a unary call, and points measured once per repeat
// (interleaved with their ceilings) and merged.
#include "bench/bench_run.h"

#include <algorithm>
#include <cstdio>

#include "bench/echo_server.h"
#include "echo.grpc.pb.h"

namespace noqueue::bench {

Point NewPoint(const std::string& workload, const std::string& kind, int c,
               double items) {
  Point p;
  p.workload = workload;
  p.kind = kind;
  p.concurrency = c;
  p.per_call_items = items;
  return p;
}

void SetServerUsage(pid_t pid, const ProcessUsage& at_start,
                    const ProcessUsage& after, Point* p) {
  if (pid <= 0) return;
  p->server_cpu_s = after.cpu_s - at_start.cpu_s;
  p->server_cpu_s_by_role = CpuByRoleSince(at_start, after);
  p->server_peak_mb = after.peak_rss_mb;
}

BenchRun::BenchRun(std::string noqueue_target, pid_t noqueue_pid,
                   std::string echo_target, pid_t echo_pid, Timing timing,
                   std::vector<int> levels, int repeats, int planner_cpu,
                   int window)
    : nq_target_(std::move(noqueue_target)),
      nq_pid_(noqueue_pid),
      echo_target_(std::move(echo_target)),
      echo_pid_(echo_pid),
      timing_(timing),
      levels_(std::move(levels)),
      repeats_(repeats),
      planner_cpu_(planner_cpu),
      window_(window) {
  nq_channels_ = Channels(nq_target_, 4);
  echo_channels_ = Channels(echo_target_, 4);
}

bool BenchRun::Setup(const std::vector<int>& sizes) {
  return UpsertBenchVenues(nq_channels_[0], sizes, "UpsertVenue");
}

void BenchRun::Progress(const std::string& workload, const std::string& kind,
                        int c) {
  std::fprintf(stderr, "noqueue-bench: %s (%s), C=%d\n", workload.c_str(),
               kind.c_str(), c);
}

Point BenchRun::Measure(const std::string& workload, const std::string& kind,
                        int c, double items, pid_t pid,
                        const Issue& issue) const {
  Recorder recorder;
  Point p = NewPoint(workload, kind, c, items);
  // CPU is read around the measured part only.
  Timing t = timing_;
  ProcessUsage at_start;
  std::thread sampler([&] {
    std::this_thread::sleep_for(std::chrono::duration<double>(t.warmup_s));
    at_start = ReadUsage(pid);
  });
  RunUnary(c, t, issue, &recorder, &p.seconds);
  sampler.join();
  const ProcessUsage after = ReadUsage(pid);
  recorder.Into(&p);
  SetServerUsage(pid, at_start, after, &p);
  return p;
}

Point BenchRun::EchoUnary(const std::string& workload, int c, size_t req_bytes,
                          size_t resp_bytes) const {
  const EchoMessage m = EchoOf(req_bytes, resp_bytes);
  std::vector<std::unique_ptr<Echo::Stub>> stubs;
  for (auto& ch : echo_channels_) stubs.push_back(Echo::NewStub(ch));
  struct Slot {
    EchoMessage resp;
    std::unique_ptr<grpc::ClientContext> ctx;
  };
  std::vector<Slot> slots(c);
  return Measure(workload, "echo", c, 1, echo_pid_, [&](int slot, Done done) {
    Slot& s = slots[slot];
    s.ctx = NewContext();
    stubs[slot % stubs.size()]->async()->Unary(s.ctx.get(), &m, &s.resp,
                                               std::move(done));
  });
}

std::vector<Point> BenchRun::Repeated(
    const std::function<std::vector<Point>()>& once) const {
  std::vector<std::vector<Point>> got;
  for (int r = 0; r < repeats_; ++r) {
    std::vector<Point> points = once();
    got.resize(std::max(got.size(), points.size()));
    for (size_t i = 0; i < points.size(); ++i) {
      got[i].push_back(std::move(points[i]));
    }
  }
  std::vector<Point> out;
  for (std::vector<Point>& g : got) out.push_back(Merge(std::move(g)));
  return out;
}

std::vector<Point> BenchRun::Interleaved(
    const std::vector<std::function<Point()>>& runs) const {
  return Repeated([&] {
    std::vector<Point> once;
    for (const std::function<Point()>& run : runs) once.push_back(run());
    return once;
  });
}

}  // namespace noqueue::bench
