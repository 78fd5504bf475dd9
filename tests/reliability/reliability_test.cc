// Faults a reliability probe found on a running server, each kept as a test
// of the fix: what concurrent calls and restarts must not do twice.
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "clients/noqueue_client.h"
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

}  // namespace
}  // namespace noqueue
