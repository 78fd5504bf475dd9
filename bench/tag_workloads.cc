// What tags cost the server. Throughput: tags streamed by C devices at
// once (StreamArrivals, each stream keeping a window of tags unanswered),
// tags of a big station's days (TagPlan) so that the store and the model do
// the work of real tags, against the echo of streams of the same message
// sizes. Memory: the server's resident set per million stored convocations
// (the tag plan's pool, stored before any measurement) and per thousand
// open streams.
#include "bench/tag_workloads.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/echo_server.h"
#include "bench/workloads.h"
#include "echo.grpc.pb.h"
#include "noqueue/v1/arrival.grpc.pb.h"

namespace noqueue::bench {

bool MakeTagPlan(BenchRun& run, int schedules) {
  const pid_t pid = run.noqueue_pid();
  const ProcessUsage before = ReadUsage(pid);
  std::vector<TagPlan::Schedule> pool;
  const bool ok = MakeTagSchedules(
      {run.noqueue_channels()[0]}, schedules,
      [&](int k) {
        v1::CreateScheduleRequest req =
            ScheduleRequest(TagPlan::kAttendees, schedules - 1 - k);
        req.set_request_id(absl::StrCat("bench-", run.id(), "-tags-", k));
        return req;
      },
      "CreateSchedule", &pool);
  if (ok)
    run.set_tag_plan(std::make_unique<TagPlan>(std::move(pool), run.id()));
  if (pid > 0) {
    const ProcessUsage after = ReadUsage(pid);
    MemoryFigures* memory = run.mutable_memory();
    memory->convocations = int64_t{schedules} * TagPlan::kAttendees;
    memory->before_convocations = {before.rss_mb, before.anon_mb};
    memory->after_convocations = {after.rss_mb, after.anon_mb};
  }
  return ok;
}

void MeasureOpenStreams(BenchRun& run, int streams) {
  const pid_t pid = run.noqueue_pid();
  TagPlan* tags = run.tag_plan();
  if (pid <= 0 || tags == nullptr) return;
  BenchRun::Progress("open streams", "memory", streams);
  const auto& channels = run.noqueue_channels();
  const ProcessUsage before = ReadUsage(pid);
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<std::unique_ptr<OpenStream>> open;
  for (int s = 0; s < streams; ++s) {
    v1::ArrivalEvent first;
    tags->Next(absl::StrCat("gate-", run.NewDevices(1)), &first);
    ctxs.push_back(NewContext());
    open.push_back(std::make_unique<OpenStream>(std::move(first)));
    v1::ArrivalService::NewStub(channels[s % channels.size()])
        ->async()
        ->StreamArrivals(ctxs.back().get(), open.back().get());
    open.back()->Begin();
  }
  int acked = 0;
  for (auto& o : open) acked += o->AwaitAck() ? 1 : 0;
  // Let the server settle what the acknowledgements started.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const ProcessUsage with = ReadUsage(pid);
  MemoryFigures* memory = run.mutable_memory();
  memory->streams = acked;
  memory->before_streams = {before.rss_mb, before.anon_mb};
  memory->with_streams = {with.rss_mb, with.anon_mb};
  for (auto& o : open) o->Close();
  for (auto& o : open) o->AwaitDone();
}

void MeasureArrivals(BenchRun& run) {
  v1::ArrivalEvent sample;
  TagPlan::Synthetic(run.id()).Next("gate-0", &sample);
  const size_t tag_bytes = sample.ByteSizeLong();
  v1::ArrivalAck sample_ack;
  sample_ack.set_event_id(sample.event_id());
  sample_ack.set_status(v1::ACCEPTED);
  const size_t ack_bytes = sample_ack.ByteSizeLong();
  const EchoMessage m = EchoOf(tag_bytes, ack_bytes);
  const auto& channels = run.noqueue_channels();
  const auto& echo_channels = run.echo_channels();
  TagPlan* plan = run.tag_plan();
  for (int c : run.levels()) {
    auto check = [](const v1::ArrivalAck& ack) -> std::string {
      if (ack.status() == v1::ACCEPTED) return "";
      return absl::StrCat(
          v1::AckStatus_Name(ack.status()), "/",
          Recorder::StatusName(static_cast<grpc::StatusCode>(ack.code())));
    };
    auto tags = [&, c] {
      const int64_t base = run.NewDevices(c);
      auto make = [&](int s) {
        return [plan, device = absl::StrCat("gate-", base + s)](
                   int64_t, v1::ArrivalEvent* e) { plan->Next(device, e); };
      };
      return run.MeasureStreams<v1::ArrivalEvent, v1::ArrivalAck>(
          "StreamArrivals", "noqueue", c, run.noqueue_pid(),
          [&](int s, grpc::ClientContext* ctx,
              LoadStream<v1::ArrivalEvent, v1::ArrivalAck>* r) {
            v1::ArrivalService::NewStub(channels[s % channels.size()])
                ->async()
                ->StreamArrivals(ctx, r);
          },
          make, check);
    };
    auto echo = [&, c] {
      return run.MeasureStreams<EchoMessage, EchoMessage>(
          "StreamArrivals", "echo", c, run.echo_pid(),
          [&](int s, grpc::ClientContext* ctx,
              LoadStream<EchoMessage, EchoMessage>* r) {
            Echo::NewStub(echo_channels[s % echo_channels.size()])
                ->async()
                ->Stream(ctx, r);
          },
          [m](int) { return [m](int64_t, EchoMessage* e) { *e = m; }; },
          [](const EchoMessage&) { return std::string(); });
    };
    for (Point& p : run.Interleaved({tags, echo})) run.Add(std::move(p));
  }
}

}  // namespace noqueue::bench
