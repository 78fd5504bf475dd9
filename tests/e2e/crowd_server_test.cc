// End to end: crowd reports and the live venue status through the real
// server, its SQLite file and gRPC.
#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/noqueue_client.h"
#include "server/noqueue_server.h"
#include "tests/support/running_server.h"
#include "tests/support/sqlite_peek.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

using testing::CountRows;
using testing::ExpectError;
using testing::QueryInt;
using testing::Running;
using testing::TempDir;

v1::ReportQueueRequest Report(const std::string& token, absl::Time at,
                              double waited_min, bool finished = true) {
  v1::ReportQueueRequest r;
  r.set_venue_id("clinic-1");
  *r.mutable_observed_at() = ToTimestamp(at);
  r.mutable_waited()->set_seconds(static_cast<int64_t>(waited_min * 60));
  r.set_wait_state(finished ? v1::WAIT_STATE_FINISHED : v1::WAIT_STATE_WAITING);
  r.set_reporter_token(token);
  return r;
}

std::string DbFile(const TempDir& dir) { return dir.file("var/noqueue.db"); }

TEST_CASE(
    "Bad crowd reports are refused with the field and rule and store "
    "nothing") {
  TempDir dir;
  Running s(dir);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  const absl::Time now = absl::Now();

  v1::ReportQueueRequest r = Report("token-0001", now, 10);
  r.set_venue_id("nowhere");
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kNotFound,
              "venue_id");
  r = Report("token-0001", now + absl::Hours(1), 10);
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kInvalidArgument,
              "observed_at: must not be in the future");
  r = Report("token-0001", now - absl::Hours(25), 10);
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kInvalidArgument,
              "observed_at: must be within the last 24 hours");
  r = Report("token-0001", now, 10);
  r.mutable_waited()->set_seconds(-60);
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kInvalidArgument,
              "waited: must be between 0 and 24 hours");
  r.mutable_waited()->set_seconds(25 * 3600);
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kInvalidArgument,
              "waited");
  r = Report("token-0001", now, 10);
  r.clear_waited();
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kInvalidArgument,
              "queue_length: or waited must be set");
  r.set_queue_length(-3);
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kInvalidArgument,
              "queue_length: must be between 0 and 100000");
  r = Report("token-0001", now, 10);
  r.set_wait_state(v1::WAIT_STATE_UNSPECIFIED);
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kInvalidArgument,
              "wait_state");
  r = Report("short", now, 10);
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kInvalidArgument,
              "reporter_token: must be at least 8 characters");
  r = Report("bad token!", now, 10);
  ExpectError(s.client->ReportQueue(r), absl::StatusCode::kInvalidArgument,
              "reporter_token");
  ExpectError(s.client->GetVenueStatus("nowhere"), absl::StatusCode::kNotFound,
              "venue_id");
  ExpectError(s.client->GetVenueStatus(""), absl::StatusCode::kInvalidArgument,
              "venue_id");

  // A good one is stored; none of the refused ones were.
  REQUIRE(s.client->ReportQueue(Report("token-0001", now, 10)).ok());
  s.server->Shutdown(absl::Seconds(5));
  CHECK(CountRows(DbFile(dir), "crowd_reports") == 1);
}

TEST_CASE(
    "Reports make a live status, are stored with their verdict, and "
    "the status survives a restart") {
  TempDir dir;
  const absl::Time now = absl::Now();
  double p50_before = 0.0;
  {
    Running s(dir);
    REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
    auto empty = s.client->GetVenueStatus("clinic-1");
    REQUIRE(empty.ok());
    CHECK(empty->state() == v1::STATUS_STATE_UNKNOWN);
    CHECK_FALSE(empty->has_wait_p50());
    CHECK(empty->reports_used() == 0);

    // Eight people who waited about 20 minutes, each on their own phone.
    for (int i = 0; i < 8; ++i) {
      auto r = s.client->ReportQueue(Report(absl::StrCat("phone-000", i),
                                            now - absl::Minutes(40 - 4 * i),
                                            18.0 + i % 5));
      REQUIRE(r.ok());
      CHECK(r->report_id().rfind("rep_", 0) == 0);
    }
    auto status = s.client->GetVenueStatus("clinic-1");
    REQUIRE(status.ok());
    CHECK(status->state() == v1::STATUS_STATE_KNOWN);
    const double p50 = status->wait_p50().seconds() / 60.0;
    CHECK(p50 > 12.0);
    CHECK(p50 < 28.0);
    CHECK(status->wait_p90().seconds() >= status->wait_p50().seconds());
    CHECK(status->reports_used() >= 1);
    CHECK(status->confidence() > 0.0);
    CHECK(status->confidence() <= 1.0);
    p50_before = p50;

    // The same phone again a minute later: accepted, stored, but counted
    // for nothing, and the reporter is not told.
    auto again = s.client->ReportQueue(
        Report("phone-0007", now - absl::Minutes(11), 19.0));
    REQUIRE(again.ok());
    s.server->Shutdown(absl::Seconds(5));
    CHECK(CountRows(DbFile(dir), "crowd_reports") == 9);
    CHECK(QueryInt(DbFile(dir),
                   "SELECT weight = 0 AND rejection != '' FROM crowd_reports "
                   "WHERE report_id = '" +
                       again->report_id() + "'") == 1);
    CHECK(QueryInt(DbFile(dir),
                   "SELECT count(*) FROM crowd_reports WHERE weight > 0") >= 1);
  }
  // Restarted on the same file: the same evidence, the same estimate (a
  // few seconds older).
  Running s(dir);
  auto status = s.client->GetVenueStatus("clinic-1");
  REQUIRE(status.ok());
  CHECK(status->state() == v1::STATUS_STATE_KNOWN);
  CHECK(status->wait_p50().seconds() / 60.0 == Approx(p50_before).margin(1.0));
}

TEST_CASE(
    "A report that contradicts the venue's throughput counts for "
    "nothing") {
  TempDir dir;
  Running s(dir);
  // 2 desks x 10 minutes: 0.2 served per minute. 150 people ahead cannot
  // be a 2-minute wait.
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  v1::ReportQueueRequest r = Report("phone-liar1", absl::Now(), 2.0);
  r.set_queue_length(150);
  auto stored = s.client->ReportQueue(r);
  REQUIRE(stored.ok());
  s.server->Shutdown(absl::Seconds(5));
  CHECK(QueryInt(DbFile(dir),
                 "SELECT weight = 0 AND rejection != '' FROM crowd_reports "
                 "WHERE report_id = '" +
                     stored->report_id() + "'") == 1);
}

TEST_CASE("A token that floods is refused and its extra reports not stored") {
  TempDir dir;
  Running s(dir);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  const absl::Time now = absl::Now();
  int refused = 0;
  for (int i = 0; i < 35; ++i) {
    auto r = s.client->ReportQueue(
        Report("flooder-01", now - absl::Seconds(35 - i), 5.0));
    if (!r.ok()) {
      CHECK(r.status().code() == absl::StatusCode::kResourceExhausted);
      CHECK(std::string(r.status().message()).find("reporter_token") !=
            std::string::npos);
      ++refused;
    }
  }
  CHECK(refused == 5);
  // Another reporter is not affected.
  CHECK(s.client->ReportQueue(Report("someone-else", now, 5.0)).ok());
  s.server->Shutdown(absl::Seconds(5));
  CHECK(CountRows(DbFile(dir), "crowd_reports") == 31);
}

TEST_CASE(
    "Tags measure waits and service times that feed the status and "
    "the next schedule") {
  Running s;
  v1::Venue venue = testing::ClinicVenue();  // declares 10-minute services
  REQUIRE(s.client->UpsertVenue(venue).ok());
  const absl::Time now = absl::Now();
  v1::CreateScheduleRequest request = testing::ScheduleRequest("clinic-1", 12);
  *request.mutable_window_start() = ToTimestamp(now - absl::Hours(3));
  *request.mutable_window_end() = ToTimestamp(now);
  auto schedule = s.client->CreateSchedule(request);
  REQUIRE(schedule.ok());
  // Each patient arrives, waits 15 minutes, and is seen for 25 minutes.
  std::vector<v1::ArrivalEvent> tags;
  for (int i = 0; i < 12; ++i) {
    const std::string a = "a-" + std::to_string(i);
    const absl::Time arrived = now - absl::Minutes(120 - 8 * i);
    const absl::Time started = arrived + absl::Minutes(15);
    const absl::Time ended = started + absl::Minutes(25);
    const std::string id = schedule->schedule_id();
    tags.push_back(testing::Tag("arr-" + a, id, a, v1::ARRIVED, arrived));
    tags.push_back(
        testing::Tag("sta-" + a, id, a, v1::SERVICE_STARTED, started));
    if (ended < now) {
      tags.push_back(testing::Tag("end-" + a, id, a, v1::SERVICE_ENDED, ended));
    }
  }
  REQUIRE(s.client->RecordArrivals(tags).ok());

  auto status = s.client->GetVenueStatus("clinic-1");
  REQUIRE(status.ok());
  CHECK(status->tags_used() >= 1);
  CHECK(status->state() == v1::STATUS_STATE_KNOWN);
  CHECK(status->wait_p50().seconds() / 60.0 == Approx(15.0).margin(3.0));

  // The planner now knows services take longer than declared.
  const server::VenueLive live =
      s.server->crowd().ForPlanning(venue, absl::Now());
  CHECK(live.service.services > 5);
  CHECK(live.service.day.mean_min > 12.0);
  // GetModelInfo shows what the planner uses.
  auto info = s.client->GetModelInfo("clinic-1");
  REQUIRE(info.ok());
  CHECK(info->venue_service().services_measured() > 5);
  CHECK(info->venue_service().mean().seconds() > 12 * 60);
  CHECK(info->venue_service().declared_mean().seconds() ==
        venue.mean_service_time().seconds());
  CHECK(info->venue_service().cv() > 0.0);
  REQUIRE(live.recent_wait.has_value());
  // ... and the next schedule, for the same people, sees it: fewer of them
  // fit, so the promised wait or overtime grows.
  v1::CreateScheduleRequest next = testing::ScheduleRequest("clinic-1", 12, 1);
  auto fresh_dir = TempDir();
  Running declared_only(fresh_dir);
  REQUIRE(declared_only.client->UpsertVenue(venue).ok());
  auto learned = s.client->CreateSchedule(next);
  auto declared = declared_only.client->CreateSchedule(next);
  REQUIRE(learned.ok());
  REQUIRE(declared.ok());
  const auto cost = [](const v1::Schedule& sch) {
    return sch.kpis().expected_mean_wait().seconds() +
           sch.kpis().overtime().seconds();
  };
  CHECK(cost(*learned) > cost(*declared));
}

}  // namespace
}  // namespace noqueue
