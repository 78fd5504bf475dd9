// Isolation: GetVenue's latency at C=1, alone and then beside `schedules`
// CreateSchedule(n) running at once, so that planning (on its own threads)
// shows whether it holds up the cheap calls. The schedules run through the
// whole GetVenue point, warm-up included, and are a point of their own.
#include "bench/isolation_workload.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/workloads.h"
#include "noqueue/v1/scheduling.grpc.pb.h"
#include "noqueue/v1/venue.grpc.pb.h"
#include "proto/base/wire_time.h"

namespace noqueue::bench {

void MeasureIsolation(BenchRun& run, int schedules, int n) {
  const auto& channels = run.noqueue_channels();
  const Timing& timing = run.timing();
  auto venues = v1::VenueService::NewStub(channels[0]);
  v1::GetVenueRequest get;
  get.set_venue_id(absl::StrCat("bench-", n));
  struct Reply {
    v1::GetVenueResponse resp;
    std::unique_ptr<grpc::ClientContext> ctx;
  };
  Reply reply;
  const Issue get_venue = [&](int, Done done) {
    reply.ctx = NewContext();
    venues->async()->GetVenue(reply.ctx.get(), &get, &reply.resp,
                              std::move(done));
  };
  BenchRun::Progress("GetVenue", "noqueue", 1);
  run.Add(
      run.Measure("GetVenue", "noqueue", 1, 1, run.noqueue_pid(), get_venue));

  const std::string loaded =
      absl::StrCat("GetVenue beside ", schedules, " x CreateSchedule/", n);
  BenchRun::Progress(loaded, "noqueue", 1);
  // The constructive plan and its KPIs (no search): planning as heavy as
  // when the figures beside it were first measured, and not a new venue's
  // guard of seconds per schedule.
  v1::CreateScheduleRequest tmpl = ScheduleRequest(n);
  *tmpl.mutable_planning()->mutable_time_budget() =
      ToProtoDuration(absl::ZeroDuration());
  struct Slot {
    v1::CreateScheduleRequest req;
    v1::CreateScheduleResponse resp;
    std::unique_ptr<grpc::ClientContext> ctx;
  };
  std::vector<Slot> slots(schedules);
  for (Slot& slot : slots) slot.req = tmpl;
  auto sched = v1::SchedulingService::NewStub(channels[1]);
  std::atomic<int64_t> seq{0};
  Recorder background;
  double background_s = 0;
  // The schedules run through the GetVenue point, warm-up included.
  Timing around = timing;
  around.warmup_s = std::max(1.0, timing.warmup_s);
  around.measure_s = timing.warmup_s + timing.measure_s + 0.5;
  std::thread load([&] {
    RunUnary(
        schedules, around,
        [&](int i, Done done) {
          Slot& slot = slots[i];
          slot.req.set_request_id(
              absl::StrCat("bench-", run.id(), "-isolation-", seq++));
          slot.ctx = NewContext();
          sched->async()->CreateSchedule(slot.ctx.get(), &slot.req, &slot.resp,
                                         std::move(done));
        },
        &background, &background_s);
  });
  std::this_thread::sleep_for(std::chrono::duration<double>(around.warmup_s));
  run.Add(run.Measure(loaded, "noqueue", 1, 1, run.noqueue_pid(), get_venue));
  load.join();
  Point p = NewPoint(absl::StrCat("CreateSchedule/", n, " beside GetVenue"),
                     "noqueue", schedules, n);
  p.seconds = background_s;
  background.Into(&p);
  run.Add(std::move(p));
}

}  // namespace noqueue::bench
