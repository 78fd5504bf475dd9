// Watchers: every tag stored used to wake each watcher of its schedule, which
// then read the store on the completion thread that acknowledges everyone's
// tags. Here one venue's day takes batched tags at a steady rate while
// another venue's device sends one tag at a time; the second point adds
// `watchers` attendees of the first day watching their convocation. The one
// tag's P99 should not move much (the target: within 1.5 x).
#include "bench/watch_workload.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/load.h"
#include "bench/workloads.h"
#include "noqueue/v1/arrival.grpc.pb.h"
#include "noqueue/v1/attendee.grpc.pb.h"
#include "noqueue/v1/scheduling.grpc.pb.h"
#include "noqueue/v1/venue.grpc.pb.h"
#include "proto/base/wire_time.h"

namespace noqueue::bench {
namespace {

constexpr int kBatch = 50;  // tags per call of the busy day

// One attendee's WatchMyConvocation, read as fast as it comes.
class Watch final : public grpc::ClientReadReactor<v1::ScheduleEvent> {
 public:
  Watch(v1::AttendeeService::Stub& stub, const std::string& token) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
    stub.async()->WatchMyConvocation(&ctx_, &request_, this);
    StartRead(&event_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    events_.fetch_add(1, std::memory_order_relaxed);
    StartRead(&event_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }
  int64_t events() const { return events_.load(); }
  // Ends the watch; its status (CANCELLED when it was still open).
  grpc::Status Close() {
    ctx_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

 private:
  grpc::ClientContext ctx_;
  v1::WatchMyConvocationRequest request_;
  v1::ScheduleEvent event_;
  std::atomic<int64_t> events_{0};
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// A fresh schedule of `venue_id` (kAttendees, the constructive plan), or
// nullopt after saying why.
std::optional<v1::Schedule> NewDay(BenchRun& run, const std::string& venue_id,
                                   const std::string& name) {
  auto sched = v1::SchedulingService::NewStub(run.noqueue_channels()[0]);
  v1::CreateScheduleRequest req = ScheduleRequest(TagPlan::kAttendees);
  req.set_venue_id(venue_id);
  req.set_request_id(absl::StrCat("bench-", run.id(), "-watch-", name));
  *req.mutable_planning()->mutable_time_budget() =
      ToProtoDuration(absl::ZeroDuration());
  v1::CreateScheduleResponse resp;
  auto ctx = NewContext();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
  const grpc::Status st = sched->CreateSchedule(ctx.get(), req, &resp);
  if (!st.ok()) {
    std::fprintf(stderr, "noqueue-bench: watchers: CreateSchedule: %s\n",
                 st.error_message().c_str());
    return std::nullopt;
  }
  return resp.schedule();
}

TagPlan PlanOf(const v1::Schedule& day, const std::string& run) {
  TagPlan::Schedule s{day.schedule_id(), {}};
  for (const v1::Convocation& c : day.convocations()) {
    s.convocations.emplace_back(c.attendee_id(), ToTime(c.convocation_time()));
  }
  return TagPlan({std::move(s)}, run);
}

// Tags `busy`'s day in calls of kBatch at `tags_per_s` until `stop`; the
// tags acknowledged.
int64_t TagSteadily(BenchRun& run, TagPlan& busy, int tags_per_s,
                    const std::atomic<bool>& stop) {
  auto arrivals = v1::ArrivalService::NewStub(run.noqueue_channels()[1]);
  const auto every = std::chrono::duration<double>(static_cast<double>(kBatch) /
                                                   std::max(1, tags_per_s));
  auto next = std::chrono::steady_clock::now();
  int64_t acked = 0, failed = 0;
  while (!stop.load()) {
    v1::RecordArrivalsRequest req;
    for (int i = 0; i < kBatch; ++i) busy.Next("gate-busy", req.add_events());
    v1::RecordArrivalsResponse resp;
    auto ctx = NewContext();
    const grpc::Status st = arrivals->RecordArrivals(ctx.get(), req, &resp);
    if (st.ok()) {
      for (const v1::ArrivalAck& a : resp.acks()) acked += a.code() == 0;
    } else if (failed++ == 0) {
      std::fprintf(stderr, "noqueue-bench: watchers: RecordArrivals: %s\n",
                   st.error_message().c_str());
    }
    next +=
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(every);
    std::this_thread::sleep_until(next);
  }
  return acked;
}

}  // namespace

std::string WatchersBaseWorkload() {
  return "RecordArrivals/1 beside another venue's tags";
}

std::string WatchersWorkload(int watchers) {
  return absl::StrCat(WatchersBaseWorkload(), " and ", watchers, " watchers");
}

void MeasureWatchers(BenchRun& run, int watchers, int tags_per_s) {
  const auto& channels = run.noqueue_channels();
  // The venue whose device sends one tag at a time.
  v1::Venue other = BenchVenue(TagPlan::kAttendees);
  other.set_venue_id("bench-watch-other");
  {
    auto venues = v1::VenueService::NewStub(channels[0]);
    v1::UpsertVenueRequest req;
    *req.mutable_venue() = other;
    v1::UpsertVenueResponse resp;
    auto ctx = NewContext();
    if (!venues->UpsertVenue(ctx.get(), req, &resp).ok()) {
      std::fprintf(stderr, "noqueue-bench: watchers: UpsertVenue failed\n");
      return;
    }
  }
  const std::string busy_venue = BenchVenue(TagPlan::kAttendees).venue_id();
  std::optional<v1::Schedule> probe_day =
      NewDay(run, other.venue_id(), "probe");
  std::optional<v1::Schedule> quiet_day = NewDay(run, busy_venue, "quiet");
  std::optional<v1::Schedule> watched_day = NewDay(run, busy_venue, "watched");
  if (!probe_day || !quiet_day || !watched_day) return;
  TagPlan probe = PlanOf(*probe_day, run.id() + "-probe");
  auto arrivals = v1::ArrivalService::NewStub(channels[0]);
  struct Reply {
    v1::RecordArrivalsRequest req;
    v1::RecordArrivalsResponse resp;
    std::unique_ptr<grpc::ClientContext> ctx;
  };
  Reply reply;
  const Issue one_tag = [&](int, Done done) {
    reply.req.Clear();
    probe.Next("gate-probe", reply.req.add_events());
    reply.ctx = NewContext();
    arrivals->async()->RecordArrivals(reply.ctx.get(), &reply.req, &reply.resp,
                                      std::move(done));
  };

  // One point: the busy day tagged steadily around the measured calls.
  auto measure = [&](const std::string& workload, const std::string& name,
                     const v1::Schedule& busy_day) {
    TagPlan busy = PlanOf(busy_day, absl::StrCat(run.id(), "-", name));
    std::atomic<bool> stop{false};
    int64_t acked = 0;
    const auto began = std::chrono::steady_clock::now();
    std::thread load([&] { acked = TagSteadily(run, busy, tags_per_s, stop); });
    BenchRun::Progress(workload, "noqueue", 1);
    run.Add(run.Measure(workload, "noqueue", 1, 1, run.noqueue_pid(), one_tag));
    stop = true;
    load.join();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began)
            .count();
    run.AddNote(absl::StrCat(
        workload, ": the other day took ", static_cast<int64_t>(acked / s),
        " tags/s acknowledged (paced at ", tags_per_s, ")"));
  };
  measure(WatchersBaseWorkload(), "quiet", *quiet_day);

  // Each of the first `watchers` attendees watches their convocation.
  // On the channels the two loads do not use.
  std::vector<std::unique_ptr<v1::AttendeeService::Stub>> stubs;
  for (size_t c = std::min<size_t>(2, channels.size() - 1); c < channels.size();
       ++c) {
    stubs.push_back(v1::AttendeeService::NewStub(channels[c]));
  }
  std::vector<std::unique_ptr<Watch>> open;
  const int n = std::min(watchers, watched_day->convocations_size());
  for (int i = 0; i < n; ++i) {
    open.push_back(
        std::make_unique<Watch>(*stubs[i % stubs.size()],
                                watched_day->convocations(i).attendee_token()));
  }
  // Each has its first event (the day's creation) before the tags come.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto all_open = [&] {
    return std::all_of(open.begin(), open.end(),
                       [](const auto& w) { return w->events() > 0; });
  };
  while (!all_open() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  measure(WatchersWorkload(n), "watched", *watched_day);
  int64_t events = 0, ended = 0;
  for (auto& w : open) {
    events += w->events();
    ended += w->Close().error_code() != grpc::StatusCode::CANCELLED;
  }
  run.AddNote(absl::StrCat(WatchersWorkload(n), ": the watchers received ",
                           events, " events; ", ended,
                           " watches had ended before they were closed"));
}

}  // namespace noqueue::bench
