// End to end: the real server on a free port, a real SQLite file, and the
// C++ client talking gRPC to it.
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

#include "clients/demo_day.h"
#include "clients/noqueue_client.h"
#include "server/learning_loop.h"
#include "server/noqueue_server.h"
#include "tests/test_util.h"

namespace noqueue {
namespace {

using client::NoQueueClient;
using testing::Morning;
using testing::ScheduleRequest;
using testing::Tag;
using testing::TempDir;

struct Running {
  explicit Running(const TempDir& dir, int max_attendees = 500) {
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.db_path = dir.file("var/noqueue.db");
    options.snapshot_every = 50;
    options.limits.max_attendees = max_attendees;
    auto started = server::NoQueueServer::Start(options);
    REQUIRE(started.ok());
    server = *std::move(started);
    client = NoQueueClient::Connect(
        "127.0.0.1:" + std::to_string(server->port()), absl::Seconds(20));
  }
  std::unique_ptr<server::NoQueueServer> server;
  std::unique_ptr<NoQueueClient> client;
};

// Checks that `r` failed with `code` and a message that contains `needle`.
template <typename T>
void ExpectError(const absl::StatusOr<T>& r, absl::StatusCode code,
                 const std::string& needle) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == code);
  INFO(r.status().message());
  CHECK(std::string(r.status().message()).find(needle) != std::string::npos);
}

TEST_CASE("A venue is created then updated and read back over gRPC") {
  TempDir dir;
  Running s(dir);
  auto created = s.client->UpsertVenue(testing::ClinicVenue());
  REQUIRE(created.ok());
  CHECK(created->created());
  v1::Venue v = testing::ClinicVenue();
  v.set_display_name("Renamed");
  auto updated = s.client->UpsertVenue(v);
  REQUIRE(updated.ok());
  CHECK_FALSE(updated->created());
  auto got = s.client->GetVenue("clinic-1");
  REQUIRE(got.ok());
  CHECK(got->display_name() == "Renamed");
  CHECK(got->has_create_time());
  ExpectError(s.client->GetVenue("nowhere"), absl::StatusCode::kNotFound,
              "venue_id");
}

TEST_CASE("Bad venues are refused with the field and the rule") {
  TempDir dir;
  Running s(dir);
  v1::Venue v = testing::ClinicVenue();
  v.set_time_zone("Mars/Olympus_Mons");
  ExpectError(s.client->UpsertVenue(v), absl::StatusCode::kInvalidArgument,
              "venue.time_zone");
  v = testing::ClinicVenue();
  v.set_service_points(0);
  ExpectError(s.client->UpsertVenue(v), absl::StatusCode::kInvalidArgument,
              "venue.service_points");
  v = testing::ClinicVenue();
  v.set_convocation_type(v1::CONVOCATION_TYPE_UNSPECIFIED);
  ExpectError(s.client->UpsertVenue(v), absl::StatusCode::kInvalidArgument,
              "venue.convocation_type");
  v = testing::ClinicVenue();
  v.set_venue_id("");
  ExpectError(s.client->UpsertVenue(v), absl::StatusCode::kInvalidArgument,
              "venue.venue_id");
  v = testing::ClinicVenue();
  v.clear_mean_service_time();
  ExpectError(s.client->UpsertVenue(v), absl::StatusCode::kInvalidArgument,
              "venue.mean_service_time");
  ExpectError(s.client->GetVenue("clinic-1"), absl::StatusCode::kNotFound,
              "clinic-1");
}

TEST_CASE("A schedule convokes every attendee inside the window with promises") {
  TempDir dir;
  Running s(dir);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto request = ScheduleRequest("clinic-1", 12);
  const absl::Time fixed = Morning() + absl::Minutes(90);
  *request.mutable_attendees(3)->mutable_fixed_convocation_time() =
      testing::Ts(fixed);
  request.mutable_attendees(4)->set_party_size(3);
  (*request.mutable_attendees(5)->mutable_features())["distance_km"] = 12.5;
  auto schedule = s.client->CreateSchedule(request);
  REQUIRE(schedule.ok());
  CHECK(schedule->schedule_id().rfind("sch_", 0) == 0);
  REQUIRE(schedule->convocations_size() == 12);
  for (int i = 0; i < 12; ++i) {
    const v1::Convocation& c = schedule->convocations(i);
    CHECK(c.attendee_id() == request.attendees(i).attendee_id());
    const absl::Time at = testing::FromTs(c.convocation_time());
    CHECK(at >= Morning());
    CHECK(at < Morning() + absl::Hours(3));
    CHECK(absl::ToUnixSeconds(at) % 60 == 0);
    CHECK(testing::FromTs(c.predicted_arrival().p10()) <=
          testing::FromTs(c.predicted_arrival().p50()));
    CHECK(testing::FromTs(c.predicted_arrival().p50()) <=
          testing::FromTs(c.predicted_arrival().p90()));
    CHECK(c.no_show_probability() > 0.0);
    CHECK(c.no_show_probability() < 1.0);
  }
  CHECK(testing::FromTs(schedule->convocations(3).convocation_time()) == fixed);
  CHECK(schedule->convocations(3).fixed());
  CHECK(schedule->convocations(4).party_size() == 3);
  CHECK(schedule->kpis().has_expected_mean_wait());
  CHECK(schedule->naive_kpis().has_staff_idle_time());
  CHECK(schedule->kpis().staff_idle_time().seconds() > 0);

  auto again = s.client->GetSchedule(schedule->schedule_id());
  REQUIRE(again.ok());
  CHECK(again->SerializeAsString() == schedule->SerializeAsString());
}

TEST_CASE("A retried schedule request returns the first schedule") {
  TempDir dir;
  Running s(dir);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto request = ScheduleRequest("clinic-1", 5);
  request.set_request_id("booking-42");
  auto first = s.client->CreateSchedule(request);
  auto second = s.client->CreateSchedule(request);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->schedule_id() == second->schedule_id());
  auto all = s.client->ListAllSchedules("clinic-1");
  REQUIRE(all.ok());
  CHECK(all->size() == 1);
}

TEST_CASE("Bad schedule requests are refused and store nothing") {
  TempDir dir;
  Running s(dir, /*max_attendees=*/50);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  const auto good = ScheduleRequest("clinic-1", 4);

  auto r = good;
  std::swap(*r.mutable_window_start(), *r.mutable_window_end());
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "window_end: must be after window_start");
  r = good;
  *r.mutable_window_end() = r.window_start();
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "window_end");
  r = good;
  r.clear_window_start();
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "window_start: is required");
  r = good;
  r.set_venue_id("unknown-venue");
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kNotFound,
              "venue_id");
  r = good;
  r.mutable_attendees(2)->set_attendee_id("a-0");
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "attendees[2].attendee_id: duplicate of attendees[0].attendee_id");
  r = good;
  r.mutable_attendees(1)->set_attendee_id("");
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "attendees[1].attendee_id: must not be empty");
  r = good;
  (*r.mutable_attendees(0)->mutable_features())["lead_days"] =
      std::numeric_limits<double>::quiet_NaN();
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "attendees[0].features[\"lead_days\"]: must be a finite number");
  r = good;
  (*r.mutable_attendees(0)->mutable_features())["x"] =
      std::numeric_limits<double>::infinity();
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "finite");
  r = ScheduleRequest("clinic-1", 51);
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "attendees: 51 exceeds the limit of 50");
  r = good;
  r.clear_attendees();
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "attendees: must not be empty");
  r = good;
  *r.mutable_attendees(0)->mutable_fixed_convocation_time() =
      testing::Ts(Morning() - absl::Minutes(5));
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "attendees[0].fixed_convocation_time");
  r = good;
  r.set_convocation_type(static_cast<v1::ConvocationType>(42));
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "convocation_type");

  auto all = s.client->ListAllSchedules("clinic-1");
  REQUIRE(all.ok());
  CHECK(all->empty());
  ExpectError(s.client->GetSchedule("sch_missing"), absl::StatusCode::kNotFound,
              "schedule_id");
}

TEST_CASE("Recorded tags are acknowledged once and a bad batch stores nothing") {
  TempDir dir;
  Running s(dir);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto schedule = s.client->CreateSchedule(ScheduleRequest("clinic-1", 3));
  REQUIRE(schedule.ok());
  const std::string sid = schedule->schedule_id();
  const auto good = Tag("t-1", sid, "a-0", v1::ARRIVED, Morning());

  auto bad = s.client->RecordArrivals({good, Tag("t-2", sid, "intruder",
                                                 v1::ARRIVED, Morning())});
  ExpectError(bad, absl::StatusCode::kNotFound, "events[1].attendee_id");
  auto unknown = s.client->RecordArrivals(
      {Tag("t-3", "sch_nope", "a-0", v1::ARRIVED, Morning())});
  ExpectError(unknown, absl::StatusCode::kNotFound, "events[0].schedule_id");
  auto invalid = s.client->RecordArrivals(
      {Tag("t-4", sid, "a-0", v1::ARRIVAL_KIND_UNSPECIFIED, Morning())});
  ExpectError(invalid, absl::StatusCode::kInvalidArgument, "events[0].kind");
  auto no_time = good;
  no_time.clear_observed_at();
  ExpectError(s.client->RecordArrivals({no_time}),
              absl::StatusCode::kInvalidArgument,
              "events[0].observed_at: is required");
  ExpectError(s.client->RecordArrivals({}), absl::StatusCode::kInvalidArgument,
              "events: must not be empty");

  // The good tag of the refused batch was not stored: now it is new.
  auto first = s.client->RecordArrivals({good});
  REQUIRE(first.ok());
  CHECK((*first)[0].status() == v1::ACCEPTED);
  auto retry = s.client->RecordArrivals({good});
  REQUIRE(retry.ok());
  CHECK((*retry)[0].status() == v1::DUPLICATE);
  CHECK(s.server->learning().events_learned() == 1);
}

TEST_CASE("Streamed tags are acknowledged in order and bad ones rejected alone") {
  TempDir dir;
  Running s(dir);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto schedule = s.client->CreateSchedule(ScheduleRequest("clinic-1", 200));
  REQUIRE(schedule.ok());
  const std::string sid = schedule->schedule_id();
  std::vector<v1::ArrivalEvent> tags;
  for (int i = 0; i < 200; ++i) {
    const std::string a = "a-" + std::to_string(i);
    tags.push_back(Tag("arr-" + a, sid, a, v1::ARRIVED,
                       testing::FromTs(schedule->convocations(i).convocation_time()) +
                           absl::Minutes(i % 7 - 3)));
  }
  tags[17].set_event_id("");                    // invalid
  tags[42].set_attendee_id("nobody");           // unknown attendee
  tags.push_back(tags[5]);                      // a retry within the stream
  std::vector<v1::ArrivalAck> acks;
  REQUIRE(s.client->StreamArrivals(tags, &acks).ok());
  REQUIRE(acks.size() == tags.size());
  for (size_t i = 0; i < tags.size(); ++i) CHECK(acks[i].event_id() == tags[i].event_id());
  CHECK(acks[17].status() == v1::REJECTED);
  CHECK(acks[17].code() == static_cast<int>(absl::StatusCode::kInvalidArgument));
  CHECK(acks[17].message().find("event.event_id") != std::string::npos);
  CHECK(acks[42].status() == v1::REJECTED);
  CHECK(acks[42].code() == static_cast<int>(absl::StatusCode::kNotFound));
  CHECK(acks[200].status() == v1::DUPLICATE);
  int accepted = 0;
  for (const auto& a : acks) accepted += a.status() == v1::ACCEPTED;
  CHECK(accepted == 198);
  CHECK(s.server->learning().events_learned() == 198);
}

TEST_CASE("Tagged habits change the next schedule") {
  TempDir dir;
  Running s(dir);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  // Attendee a-0 is always 25 minutes late; a-1 always on time.
  for (int day = 0; day < 6; ++day) {
    auto schedule = s.client->CreateSchedule(ScheduleRequest("clinic-1", 2, day));
    REQUIRE(schedule.ok());
    std::vector<v1::ArrivalEvent> tags;
    for (int i = 0; i < 2; ++i) {
      const auto& c = schedule->convocations(i);
      tags.push_back(Tag(absl::StrCat("d", day, "-", i), schedule->schedule_id(),
                         c.attendee_id(), v1::ARRIVED,
                         testing::FromTs(c.convocation_time()) +
                             absl::Minutes(i == 0 ? 25 : 0)));
    }
    REQUIRE(s.client->RecordArrivals(tags).ok());
  }
  auto next = s.client->CreateSchedule(ScheduleRequest("clinic-1", 2, 7));
  REQUIRE(next.ok());
  auto offset = [&](int i) {
    const auto& c = next->convocations(i);
    return absl::ToDoubleMinutes(testing::FromTs(c.predicted_arrival().p50()) -
                                 testing::FromTs(c.convocation_time()));
  };
  // The late attendee is predicted clearly later than the punctual one.
  CHECK(offset(0) - offset(1) > 12.0);
  CHECK(next->model_events_learned() == 12);
}

TEST_CASE("What was stored and learned survives a server restart") {
  TempDir dir;
  std::string schedule_id;
  std::string model_bytes;
  {
    Running s(dir);
    REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
    auto schedule = s.client->CreateSchedule(ScheduleRequest("clinic-1", 60));
    REQUIRE(schedule.ok());
    schedule_id = schedule->schedule_id();
    std::vector<v1::ArrivalEvent> tags;
    for (int i = 0; i < 60; ++i) {
      const auto& c = schedule->convocations(i);
      tags.push_back(Tag("e" + std::to_string(i), schedule_id, c.attendee_id(),
                         i % 9 == 0 ? v1::NO_SHOW : v1::ARRIVED,
                         testing::FromTs(c.convocation_time()) +
                             absl::Minutes(i % 11 - 5)));
    }
    REQUIRE(s.client->RecordArrivals(tags).ok());
    model_bytes = s.server->learning().SerializedModel();
    s.server->Shutdown(absl::Seconds(2));
  }
  Running again(dir);
  auto venue = again.client->GetVenue("clinic-1");
  REQUIRE(venue.ok());
  auto schedule = again.client->GetSchedule(schedule_id);
  REQUIRE(schedule.ok());
  CHECK(schedule->convocations_size() == 60);
  CHECK(again.server->learning().events_learned() == 60);
  CHECK(again.server->learning().SerializedModel() == model_bytes);
  auto rebuilt = server::LearningLoop::RebuildFromLog(&again.server->store());
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->Serialize() == model_bytes);
}

TEST_CASE("The demo's second day predicts arrivals better than its first") {
  TempDir dir;
  Running s(dir);
  client::DemoOptions options;
  auto first = client::RunDemo(*s.client, options);
  REQUIRE(first.ok());
  REQUIRE(first->size() == 1);
  auto second = client::RunDemo(*s.client, options);
  REQUIRE(second.ok());
  REQUIRE(second->size() == 2);
  const auto& d1 = (*second)[0];
  const auto& d2 = (*second)[1];
  CHECK(d1.schedule_id == (*first)[0].schedule_id);
  INFO("day 1 error " << d1.offset_error_min << ", day 2 error "
                      << d2.offset_error_min);
  CHECK(d2.offset_error_min < d1.offset_error_min);
  CHECK(d2.offset_error_min < d2.punctual_error_min);
}

}  // namespace
}  // namespace noqueue
