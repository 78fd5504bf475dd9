// Faults a reliability probe found on a running server, each kept as a test
// of the fix: what concurrent calls and restarts must not do twice.
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "clients/noqueue_client.h"
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

}  // namespace
}  // namespace noqueue
