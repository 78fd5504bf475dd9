// CreateSchedule(n) through the API at each concurrency level, once per
// search budget, against two ceilings measured in the same run: the echo
// (gRPC alone, carrying the same bytes) and the server's planner in this
// process on the same request (PlannerCeiling, calls per CPU-second), so
// that the ratio to the planner is the API's overhead and not a core count.
// The planner's ceiling is fair only when the server planned from the
// prior too (model_events_learned = 0, the same predictions): else a note
// says why there is none.
#include "bench/schedule_workload.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/planner_ceiling.h"
#include "bench/workloads.h"
#include "noqueue/v1/scheduling.grpc.pb.h"
#include "proto/base/wire_time.h"

namespace noqueue::bench {
namespace {

// The in-process planner on `request` (a point of kind "planner"), when
// the server planned `served` from the same model state: else a note says
// why there is no fair ceiling.
void MeasurePlanner(BenchRun& run, const std::string& workload, int n,
                    const v1::CreateScheduleRequest& request,
                    const v1::Schedule& served) {
  run.KeepServed(workload.substr(0, workload.find(' ')), served);
  if (served.model_events_learned() != 0) {
    run.AddNote(absl::StrCat(
        workload, ": no planner ceiling, the server's model has learned ",
        served.model_events_learned(),
        " events and the in-process planner starts from the prior"));
    return;
  }
  const PlannerCeiling ceiling(BenchVenue(n), request);
  if (std::string d = ceiling.DifferencesFrom(served); !d.empty()) {
    run.AddNote(
        absl::StrCat(workload, ": no planner ceiling, the server's ", d));
    return;
  }
  BenchRun::Progress(workload, "planner", 1);
  for (Point& p : run.Interleaved({[&] {
         const PlannerCeiling::Run once =
             ceiling.Measure(run.timing().measure_s, run.planner_cpu());
         Point p = NewPoint(workload, "planner", 1, n);
         p.seconds = once.wall_s;
         p.calls = once.calls;
         p.latency_ms = once.latency_ms;
         std::sort(p.latency_ms.begin(), p.latency_ms.end());
         if (once.errors > 0) p.errors["PLANNER_ERROR"] = once.errors;
         p.server_cpu_s = once.cpu_s;
         return p;
       }})) {
    run.Add(std::move(p));
  }
  run.SetBudget(workload, ceiling.budget_ms());
}

}  // namespace

void MeasureCreateSchedule(
    BenchRun& run, int n,
    const std::vector<std::optional<double>>& budgets_ms) {
  struct Variant {
    std::string name;
    v1::CreateScheduleRequest tmpl;
    size_t response_bytes = 0;
  };
  const auto& channels = run.noqueue_channels();
  std::vector<Variant> variants;
  for (const std::optional<double>& budget : budgets_ms) {
    Variant v{ScheduleWorkload(n, budget), ScheduleRequest(n)};
    if (budget) {
      *v.tmpl.mutable_planning()->mutable_time_budget() =
          ToProtoDuration(absl::Milliseconds(*budget));
    }
    v1::CreateScheduleResponse sample;
    auto stub = v1::SchedulingService::NewStub(channels[0]);
    grpc::ClientContext ctx;
    Authorize(&ctx);
    if (stub->CreateSchedule(&ctx, v.tmpl, &sample).ok()) {
      MeasurePlanner(run, v.name, n, v.tmpl, sample.schedule());
    }
    v.response_bytes = sample.ByteSizeLong();
    variants.push_back(std::move(v));
  }
  const size_t req_bytes = variants.front().tmpl.ByteSizeLong();
  // Every call a new request id (a repeated one is a retry, answered from
  // the store), across all concurrency levels.
  std::atomic<int64_t> seq{0};
  struct Slot {
    v1::CreateScheduleRequest req;
    v1::CreateScheduleResponse resp;
    std::unique_ptr<grpc::ClientContext> ctx;
  };
  std::vector<std::unique_ptr<v1::SchedulingService::Stub>> stubs;
  for (auto& ch : channels) stubs.push_back(v1::SchedulingService::NewStub(ch));
  for (int c : run.levels()) {
    // 10,000 attendees take a while each: fewer at once is enough.
    if (n >= 10000 && c > 4) continue;
    std::vector<std::vector<Slot>> slots(variants.size());
    std::vector<std::function<Point()>> runs;
    for (size_t k = 0; k < variants.size(); ++k) {
      // A new venue's search at this size takes seconds (its guard
      // against the naive spread runs past the budget): at C=1 only.
      if (n >= 10000 && c > 1 && !budgets_ms[k]) continue;
      slots[k].resize(c);
      for (Slot& s : slots[k]) s.req = variants[k].tmpl;
      runs.push_back([&, k, c] {
        return run.Measure(
            variants[k].name, "noqueue", c, n, run.noqueue_pid(),
            [&, k](int slot, Done done) {
              Slot& s = slots[k][slot];
              s.req.set_request_id(
                  absl::StrCat("bench-", run.id(), "-", n, "-", seq++));
              s.ctx = NewContext();
              stubs[slot % stubs.size()]->async()->CreateSchedule(
                  s.ctx.get(), &s.req, &s.resp, std::move(done));
            });
      });
    }
    // One echo for the variants: their messages differ by a few bytes.
    runs.push_back([&, c] {
      return run.EchoUnary(ScheduleWorkload(n, std::nullopt), c, req_bytes,
                           variants.front().response_bytes);
    });
    for (Point& p : run.Interleaved(runs)) run.Add(std::move(p));
  }
}

}  // namespace noqueue::bench
