// Faults a reliability probe found on a running server, each kept as a test
// of the fix: what concurrent calls and restarts must not do twice.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "clients/noqueue_client.h"
#include "noqueue/v1/attendee.grpc.pb.h"
#include "noqueue/v1/live.grpc.pb.h"
#include "server/store/sqlite/sqlite_store.h"
#include "tests/support/http_get.h"
#include "tests/support/running_server.h"
#include "tests/support/sqlite_peek.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

using testing::Running;
using testing::ScheduleRequest;
using testing::TempDir;

// 40 cancellations of one attendee at once: each had checked the state,
// then appended, so 2-3 of them answered already_cancelled: false, stored
// EVENT_CANCELLED and sent a webhook each.
TEST_CASE("Concurrent cancellations of one attendee cancel once") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  // The replay clock: the schedule's morning is not over.
  options.clock = server::LiveClock::Kind::kEvents;
  Running s(options);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
  auto schedule = s.client->CreateSchedule(ScheduleRequest("clinic-1", 3));
  REQUIRE(schedule.ok());
  const v1::Convocation& who = schedule->convocations(1);
  constexpr int kCalls = 40;
  std::vector<std::unique_ptr<client::NoQueueClient>> phones;
  for (int i = 0; i < kCalls; ++i) {
    phones.push_back(testing::ClientOf(*s.server, who.attendee_token()));
  }
  std::atomic<int> ok{0}, first{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      auto r = phones[i]->CancelConvocation();
      if (!r.ok()) return;
      ++ok;
      if (!r->already_cancelled()) ++first;
    });
  }
  go = true;
  for (std::thread& t : threads) t.join();
  CHECK(ok == kCalls);
  CHECK(first == 1);
  const std::string db = dir.file("var/noqueue.db");
  CHECK(testing::QueryInt(
            db, "SELECT count(*) FROM schedule_events WHERE kind = " +
                    std::to_string(v1::EVENT_CANCELLED) +
                    " AND attendee_id = '" + who.attendee_id() + "'") == 1);
  auto mine = phones[0]->GetMyConvocation();
  REQUIRE(mine.ok());
  CHECK(mine->convocation().state() == v1::ATTENDEE_CANCELLED);
}

// The replay clock started at 1970 after a restart: a delay was stored at
// 1970-01-01, and a day already over took cancellations again.
TEST_CASE("The replay clock goes on from where it stood after a restart") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.clock = server::LiveClock::Kind::kEvents;
  std::string token_late, token_over;
  {
    Running s(options);
    REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
    auto day = s.client->CreateSchedule(ScheduleRequest("clinic-1", 3));
    auto next = s.client->CreateSchedule(ScheduleRequest("clinic-1", 3, 1));
    REQUIRE(day.ok());
    REQUIRE(next.ok());
    token_over = day->convocations(1).attendee_token();
    token_late = next->convocations(1).attendee_token();
    // A tag past the first day's window: that day is over.
    REQUIRE(s.client
                ->RecordArrivals(
                    {testing::Tag("t1", day->schedule_id(), "a-0", v1::ARRIVED,
                                  testing::Morning() + absl::Hours(4))})
                .ok());
  }
  Running s(options);
  testing::ExpectError(
      testing::ClientOf(*s.server, token_over)->CancelConvocation(),
      absl::StatusCode::kFailedPrecondition, "day is over");
  const auto delayed =
      testing::ClientOf(*s.server, token_late)->DeclareDelay(absl::Minutes(10));
  INFO(delayed.status());
  REQUIRE(delayed.ok());
  const int64_t at_us =
      testing::QueryInt(dir.file("var/noqueue.db"),
                        "SELECT max(at_us) FROM schedule_events WHERE kind = " +
                            std::to_string(v1::EVENT_DELAY_DECLARED));
  CHECK(at_us >= absl::ToUnixMicros(testing::Morning() + absl::Hours(4)));
}

// A load balancer reads an HTTP status, not gRPC's trailers: /healthz says
// 200 while the server serves and 503 while it drains.
TEST_CASE("/healthz answers 200 serving, then 503 while the server drains") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.metrics_listen = "127.0.0.1:0";
  options.clock = server::LiveClock::Kind::kEvents;
  Running s(options);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(s.server->http_port()) + "/healthz";
  testing::HttpReply serving = testing::HttpCall(url);
  CHECK(serving.status == 200);
  CHECK(serving.body == "serving\n");
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
  auto day = s.client->CreateSchedule(ScheduleRequest("clinic-1", 2));
  REQUIRE(day.ok());
  // A watcher keeps a call running, so the shutdown's grace lasts.
  auto phone =
      testing::ClientOf(*s.server, day->convocations(0).attendee_token());
  std::atomic<bool> watching{false};
  std::thread watcher([&] {
    phone
        ->WatchMyConvocation(0,
                             [&](const v1::ScheduleEvent&) {
                               watching = true;
                               return true;
                             })
        .IgnoreError();
  });
  for (int i = 0; i < 250 && !watching; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  REQUIRE(watching);
  std::thread stopping([&] { s.server->Shutdown(absl::Seconds(3)); });
  long status = 0;
  for (int i = 0; i < 100 && status != 503; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    status = testing::HttpCall(url).status;
  }
  CHECK(status == 503);
  stopping.join();
  watcher.join();
}

// Watchers are fed by the wakes, not by reading the store: whatever order
// tags, re-timings and watches come in, each watcher gets every event of its
// own once, in the store's order, with none missed.
TEST_CASE("Many watchers see every event of theirs in order while tags flow") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.clock = server::LiveClock::Kind::kEvents;
  Running s(options);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
  constexpr int kPeople = 24;
  auto day = s.client->CreateSchedule(ScheduleRequest("clinic-1", kPeople));
  REQUIRE(day.ok());
  const std::string id = day->schedule_id();
  // Each attendee watches with two phones; the venue with two screens.
  struct Seen {
    std::string attendee;  // empty: the venue's
    std::vector<int64_t> seqs;
  };
  std::vector<Seen> seen;
  for (const v1::Convocation& c : day->convocations()) {
    seen.push_back({c.attendee_id(), {}});
    seen.push_back({c.attendee_id(), {}});
  }
  seen.push_back({"", {}});
  seen.push_back({"", {}});
  std::atomic<int> open{0};
  std::vector<std::thread> watchers;
  for (size_t i = 0; i < seen.size(); ++i) {
    watchers.emplace_back([&, i] {
      std::string credential = s.admin_key;
      for (const v1::Convocation& c : day->convocations()) {
        if (c.attendee_id() == seen[i].attendee) {
          credential = c.attendee_token();
        }
      }
      auto c = testing::ClientOf(*s.server, credential, absl::Seconds(4));
      auto take = [&](const v1::ScheduleEvent& e) {
        if (seen[i].seqs.empty()) ++open;
        seen[i].seqs.push_back(e.seq());
        return true;
      };
      absl::Status st = seen[i].attendee.empty()
                            ? c->WatchSchedule(id, 0, take)
                            : c->WatchMyConvocation(0, take);
      CHECK(st.code() == absl::StatusCode::kDeadlineExceeded);
    });
  }
  // Every watcher has read the day's first event before the tags come.
  for (int i = 0; i < 400 && open.load() < static_cast<int>(seen.size()); ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  REQUIRE(open.load() == static_cast<int>(seen.size()));
  // Two devices tag the day, one attendee per call.
  std::vector<std::thread> devices;
  for (int d = 0; d < 2; ++d) {
    devices.emplace_back([&, d] {
      for (int i = d; i < kPeople; i += 2) {
        const v1::Convocation& c = day->convocations(i);
        const absl::Time at = ToTime(c.convocation_time());
        const std::string a = c.attendee_id();
        CHECK(s.client
                  ->RecordArrivals(
                      {testing::Tag("arr-" + a, id, a, v1::ARRIVED, at),
                       testing::Tag("beg-" + a, id, a, v1::SERVICE_STARTED, at),
                       testing::Tag("end-" + a, id, a, v1::SERVICE_ENDED,
                                    at + absl::Minutes(5))})
                  .ok());
        // Midway, a desk closes for the rest of the day.
        if (i == kPeople / 2) {
          v1::UpdateServicePointsRequest desks;
          desks.set_venue_id("clinic-1");
          desks.set_service_points(1);
          *desks.mutable_effective_from() =
              ToTimestamp(testing::Morning() + absl::Minutes(150));
          const auto changed = s.client->UpdateServicePoints(desks);
          INFO(changed.status());
          CHECK(changed.ok());
        }
      }
    });
  }
  for (std::thread& t : devices) t.join();
  for (std::thread& t : watchers) t.join();

  // What the store holds, by seq, against what each watcher got.
  const std::string db = dir.file("var/noqueue.db");
  const int64_t stored =
      testing::QueryInt(db, "SELECT count(*) FROM schedule_events");
  CHECK(stored > 3 * kPeople);
  CHECK(testing::QueryInt(
            db, "SELECT count(*) FROM schedule_events WHERE kind = " +
                    std::to_string(v1::EVENT_SERVICE_POINTS_CHANGED)) == 1);
  for (const Seen& w : seen) {
    INFO("watcher of " << (w.attendee.empty() ? "the venue" : w.attendee));
    const std::string mine =
        w.attendee.empty()
            ? ""
            : " AND (attendee_id = '" + w.attendee + "' OR attendee_id = '')";
    const std::vector<int64_t> expected = testing::QueryInts(
        db, "SELECT seq FROM schedule_events WHERE schedule_id = '" + id + "'" +
                mine + " ORDER BY seq");
    CHECK(w.seqs == expected);
  }
}

// One commit of 300 events (more than a watcher may hold) used to end every
// watcher it woke, however fast its client read; it now reads the store in
// turn and misses nothing.
TEST_CASE("A watcher that reads keeps up with a commit larger than it holds") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.clock = server::LiveClock::Kind::kEvents;
  Running s(options);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
  auto day = s.client->CreateSchedule(ScheduleRequest("clinic-1", 300));
  REQUIRE(day.ok());
  const std::string id = day->schedule_id();
  std::vector<int64_t> seqs;
  std::atomic<bool> open{false};
  std::thread watcher([&] {
    auto c = testing::ClientOf(*s.server, s.admin_key, absl::Seconds(4));
    absl::Status st = c->WatchSchedule(id, 0, [&](const v1::ScheduleEvent& e) {
      seqs.push_back(e.seq());
      open = true;
      return true;
    });
    CHECK(st.code() == absl::StatusCode::kDeadlineExceeded);
  });
  for (int i = 0; i < 400 && !open.load(); ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  REQUIRE(open.load());
  std::vector<v1::ArrivalEvent> tags;
  for (const v1::Convocation& c : day->convocations()) {
    tags.push_back(testing::Tag("arr-" + c.attendee_id(), id, c.attendee_id(),
                                v1::ARRIVED, ToTime(c.convocation_time())));
  }
  REQUIRE(s.client->RecordArrivals(tags).ok());
  watcher.join();
  CHECK(seqs == testing::QueryInts(dir.file("var/noqueue.db"),
                                   "SELECT seq FROM schedule_events WHERE "
                                   "schedule_id = '" +
                                       id + "' ORDER BY seq"));
  CHECK(seqs.size() > 300);
}

// A client that stops reading: the server's writes wait on its flow-control
// window while events are stored. The watch used to count wakes (one per
// commit), so it went ~18,000 events behind without being ended.
TEST_CASE("A watcher that does not read is ended 256 of its events behind") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.clock = server::LiveClock::Kind::kEvents;
  Running s(options);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
  constexpr int kPeople = 300;
  auto day = s.client->CreateSchedule(ScheduleRequest("clinic-1", kPeople));
  REQUIRE(day.ok());
  // A window of 1 KiB and no probing to widen it: the server can send a
  // handful of events, then waits for this client to read.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  auto stub = v1::LiveService::NewStub(
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", s.server->port()),
                                grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + s.admin_key);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::WatchScheduleRequest request;
  request.set_schedule_id(day->schedule_id());
  auto reader = stub->WatchSchedule(&ctx, request);
  v1::ScheduleEvent e;
  REQUIRE(reader->Read(&e));  // the watch is open
  // Three tags per attendee, in calls of 30 events, while it reads nothing.
  for (int i = 0; i < kPeople; i += 10) {
    std::vector<v1::ArrivalEvent> tags;
    for (int j = i; j < i + 10; ++j) {
      const v1::Convocation& c = day->convocations(j);
      const absl::Time at = ToTime(c.convocation_time());
      const std::string a = c.attendee_id();
      tags.push_back(
          testing::Tag("arr-" + a, day->schedule_id(), a, v1::ARRIVED, at));
      tags.push_back(testing::Tag("beg-" + a, day->schedule_id(), a,
                                  v1::SERVICE_STARTED, at));
      tags.push_back(testing::Tag("end-" + a, day->schedule_id(), a,
                                  v1::SERVICE_ENDED, at + absl::Minutes(5)));
    }
    REQUIRE(s.client->RecordArrivals(tags).ok());
  }
  int got = 1;
  int64_t last = e.seq();
  while (reader->Read(&e)) {
    ++got;
    last = e.seq();
  }
  const grpc::Status st = reader->Finish();
  INFO(st.error_message());
  CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(st.error_message().find("resume_after=" + std::to_string(last)) !=
        std::string::npos);
  CHECK(got < 3 * kPeople);
}

// A desk change killed within ~20 ms of being stored was never re-timed after
// the restart: nothing tracked the running days again. Here the change is
// stored behind the server's back (as a crash leaves it: stored, not acted
// on); the restarted server re-times the day from its events.
TEST_CASE("A cause stored just before a crash is acted on after the restart") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.clock = server::LiveClock::Kind::kEvents;
  const std::string db = dir.file("var/noqueue.db");
  std::string id;
  absl::Time first = absl::InfiniteFuture();  // the day's first convocation
  {
    Running s(options);
    REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
    auto day = s.client->CreateSchedule(ScheduleRequest("clinic-1", 18));
    REQUIRE(day.ok());
    id = day->schedule_id();
    // The first half hour goes as planned.
    for (const v1::Convocation& c : day->convocations()) {
      first = std::min(first, ToTime(c.convocation_time()));
    }
    std::vector<v1::ArrivalEvent> tags;
    for (const v1::Convocation& c : day->convocations()) {
      const absl::Time at = ToTime(c.convocation_time());
      if (at >= first + absl::Minutes(30)) continue;
      const std::string a = c.attendee_id();
      tags.push_back(testing::Tag("arr-" + a, id, a, v1::ARRIVED, at));
      tags.push_back(testing::Tag("beg-" + a, id, a, v1::SERVICE_STARTED, at));
    }
    REQUIRE_FALSE(tags.empty());
    REQUIRE(s.client->RecordArrivals(tags).ok());
  }
  const int64_t retimed_before = testing::QueryInt(
      db, "SELECT count(*) FROM schedule_events WHERE kind = " +
              std::to_string(v1::EVENT_RETIMED));
  {
    // Both doctors called away from 40 to 100 minutes into the day.
    auto store = server::SqliteStore::Open(db);
    REQUIRE(store.ok());
    std::vector<v1::ScheduleEvent> changes;
    for (const auto& [from, desks] : {std::pair{40, 0}, std::pair{100, 2}}) {
      v1::ScheduleEvent e;
      e.set_schedule_id(id);
      e.set_kind(v1::EVENT_SERVICE_POINTS_CHANGED);
      *e.mutable_at() = ToTimestamp(first + absl::Minutes(30));
      e.set_service_points(desks);
      *e.mutable_effective_from() = ToTimestamp(first + absl::Minutes(from));
      changes.push_back(std::move(e));
    }
    absl::Notification stored;
    (*store)->AppendScheduleEvents(
        std::move(changes),
        [&](absl::StatusOr<std::vector<v1::ScheduleEvent>> r) {
          CHECK(r.ok());
          stored.Notify();
        });
    stored.WaitForNotification();
  }
  Running s(options);
  int64_t retimed = retimed_before;
  for (int i = 0; i < 200 && retimed == retimed_before; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    retimed = testing::QueryInt(
        db, "SELECT count(*) FROM schedule_events WHERE kind = " +
                std::to_string(v1::EVENT_RETIMED));
  }
  CHECK(retimed > retimed_before);
  // The re-timing says why.
  std::string reason;
  auto c = testing::ClientOf(*s.server, s.admin_key, absl::Seconds(1));
  c->WatchSchedule(id, 0, [&](const v1::ScheduleEvent& e) {
     if (e.kind() == v1::EVENT_RETIMED) reason = e.reason();
     return true;
   }).IgnoreError();
  CHECK(reason == "the server's restart");
}

}  // namespace
}  // namespace noqueue
