// A busy venue: CreateSchedule(100), ReportQueue and GetVenueStatus at
// concurrency 2 each and a device streaming tags, all at the same time on
// the same server, so that each is measured beside the others' load. The
// server's CPU over the measured part is shared among the four points in
// proportion to their calls.
#include "bench/mixed_workload.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/workloads.h"
#include "noqueue/v1/arrival.grpc.pb.h"
#include "noqueue/v1/crowd.grpc.pb.h"
#include "noqueue/v1/scheduling.grpc.pb.h"

namespace noqueue::bench {
namespace {

// One repeat of the four points.
std::vector<Point> MixedOnce(BenchRun& run) {
  const int n = 100;
  const std::string venue = absl::StrCat("bench-", n);
  const auto& channels = run.noqueue_channels();
  const Timing& timing = run.timing();
  const pid_t pid = run.noqueue_pid();
  Recorder schedules, tags, reports, statuses;
  std::atomic<int64_t> seq{0};
  std::atomic<int64_t> report_seq{run.next_report() + 1000000};
  auto sched = v1::SchedulingService::NewStub(channels[0]);
  auto crowd = v1::CrowdService::NewStub(channels[1]);
  struct Slot {
    v1::CreateScheduleRequest req = ScheduleRequest(100);
    v1::CreateScheduleResponse resp;
    v1::ReportQueueRequest report;
    v1::ReportQueueResponse report_resp;
    v1::GetVenueStatusRequest status_req;
    v1::GetVenueStatusResponse status;
    std::unique_ptr<grpc::ClientContext> ctx;
  };
  std::vector<Slot> slots(6);
  for (Slot& s : slots) s.status_req.set_venue_id(venue);
  std::vector<double> seconds(4);
  std::vector<std::thread> loops;
  loops.emplace_back([&] {
    RunUnary(
        2, timing,
        [&](int slot, Done done) {
          Slot& s = slots[slot];
          s.req.set_request_id(
              absl::StrCat("bench-", run.id(), "-mixed-", seq++));
          s.ctx = NewContext();
          sched->async()->CreateSchedule(s.ctx.get(), &s.req, &s.resp,
                                         std::move(done));
        },
        &schedules, &seconds[0]);
  });
  loops.emplace_back([&] {
    RunUnary(
        2, timing,
        [&](int slot, Done done) {
          Slot& s = slots[2 + slot];
          s.report = Report(venue, report_seq++);
          s.ctx = NewContext();
          crowd->async()->ReportQueue(s.ctx.get(), &s.report, &s.report_resp,
                                      std::move(done));
        },
        &reports, &seconds[1]);
  });
  loops.emplace_back([&] {
    RunUnary(
        2, timing,
        [&](int slot, Done done) {
          Slot& s = slots[4 + slot];
          s.ctx = NewContext();
          crowd->async()->GetVenueStatus(s.ctx.get(), &s.status_req, &s.status,
                                         std::move(done));
        },
        &statuses, &seconds[2]);
  });
  grpc::ClientContext stream_ctx;
  Authorize(&stream_ctx);
  TagPlan* plan = run.tag_plan();
  LoadStream<v1::ArrivalEvent, v1::ArrivalAck> stream(
      run.window(),
      [plan, device = absl::StrCat("gate-", run.NewDevices(1))](
          int64_t, v1::ArrivalEvent* e) { plan->Next(device, e); },
      [](const v1::ArrivalAck& ack) {
        return ack.status() == v1::ACCEPTED ? std::string()
                                            : v1::AckStatus_Name(ack.status());
      },
      &tags);
  v1::ArrivalService::NewStub(channels[2])
      ->async()
      ->StreamArrivals(&stream_ctx, &stream);
  stream.Begin();
  std::this_thread::sleep_for(std::chrono::duration<double>(timing.warmup_s));
  const ProcessUsage at_start = ReadUsage(pid);
  tags.Start();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(timing.measure_s));
  tags.Stop();
  seconds[3] = Seconds(Clock::now() - t0);
  const ProcessUsage after = ReadUsage(pid);
  stream.Stop();
  stream.Await();
  for (std::thread& t : loops) t.join();
  const char* names[] = {"Mixed: CreateSchedule/100", "Mixed: ReportQueue",
                         "Mixed: GetVenueStatus", "Mixed: StreamArrivals"};
  Recorder* recorders[] = {&schedules, &reports, &statuses, &tags};
  int64_t total = 0;
  std::vector<Point> out;
  for (int i = 0; i < 4; ++i) {
    Point p = NewPoint(names[i], "noqueue", i == 3 ? 1 : 2, i == 0 ? n : 1);
    p.seconds = seconds[i];
    recorders[i]->Into(&p);
    total += p.calls;
    if (pid > 0) p.server_peak_mb = after.peak_rss_mb;
    out.push_back(std::move(p));
  }
  // The server's CPU is shared: per call of any kind.
  for (Point& p : out) {
    if (pid > 0 && total > 0) {
      p.server_cpu_s = (after.cpu_s - at_start.cpu_s) * p.calls / total;
    }
  }
  return out;
}

}  // namespace

void MeasureMixed(BenchRun& run) {
  for (Point& p : run.Repeated([&] { return MixedOnce(run); })) {
    run.Add(std::move(p));
  }
}

}  // namespace noqueue::bench
