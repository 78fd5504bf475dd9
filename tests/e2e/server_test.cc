// End to end: the real server on a free port, a real SQLite file, and the
// C++ client talking gRPC to it.
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"
#include "clients/demo_day.h"
#include "clients/noqueue_client.h"
#include "server/core/learner.h"
#include "server/noqueue_server.h"
#include "tests/support/running_server.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

using client::NoQueueClient;
using testing::ExpectError;
using testing::Morning;
using testing::Running;
using testing::ScheduleRequest;
using testing::Tag;
using testing::TempDir;

TEST_CASE("A venue is created then updated and read back over gRPC") {
  Running s;
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
  Running s;
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

TEST_CASE(
    "A schedule convokes every attendee inside the window with promises") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto request = ScheduleRequest("clinic-1", 12);
  const absl::Time fixed = Morning() + absl::Minutes(90);
  *request.mutable_attendees(3)->mutable_fixed_convocation_time() =
      ToTimestamp(fixed);
  request.mutable_attendees(4)->set_party_size(3);
  (*request.mutable_attendees(5)->mutable_features())["distance_km"] = 12.5;
  auto schedule = s.client->CreateSchedule(request);
  REQUIRE(schedule.ok());
  CHECK(schedule->schedule_id().rfind("sch_", 0) == 0);
  REQUIRE(schedule->convocations_size() == 12);
  for (int i = 0; i < 12; ++i) {
    const v1::Convocation& c = schedule->convocations(i);
    CHECK(c.attendee_id() == request.attendees(i).attendee_id());
    const absl::Time at = ToTime(c.convocation_time());
    CHECK(at >= Morning());
    CHECK(at < Morning() + absl::Hours(3));
    CHECK(absl::ToUnixSeconds(at) % 60 == 0);
    CHECK(ToTime(c.predicted_arrival().p10()) <=
          ToTime(c.predicted_arrival().p50()));
    CHECK(ToTime(c.predicted_arrival().p50()) <=
          ToTime(c.predicted_arrival().p90()));
    CHECK(c.no_show_probability() > 0.0);
    CHECK(c.no_show_probability() < 1.0);
  }
  CHECK(ToTime(schedule->convocations(3).convocation_time()) == fixed);
  CHECK(schedule->convocations(3).fixed());
  CHECK(schedule->convocations(4).party_size() == 3);
  CHECK(schedule->kpis().has_expected_mean_wait());
  CHECK(schedule->naive_kpis().has_staff_idle_time());
  CHECK(schedule->kpis().staff_idle_time().seconds() > 0);
  // What a single day may be: a 90% range around the expected mean wait.
  const auto& range = schedule->kpis().mean_wait_range90();
  CHECK(range.low().seconds() <=
        schedule->kpis().expected_mean_wait().seconds());
  CHECK(range.high().seconds() >=
        schedule->kpis().expected_mean_wait().seconds());
  CHECK(range.high().seconds() > range.low().seconds());

  auto again = s.client->GetSchedule(schedule->schedule_id());
  REQUIRE(again.ok());
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  CHECK(differ.Compare(*again, *schedule));
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("A retried schedule request returns the first schedule") {
  Running s;
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
  ExpectError(
      s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
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
      ToTimestamp(Morning() - absl::Minutes(5));
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

TEST_CASE("Planning options shape the schedule and bad ones are refused") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  // Two doctors x 10 minutes over three hours: 36 consultations.
  auto request = ScheduleRequest("clinic-1", 12);
  request.mutable_planning()->mutable_granularity()->set_seconds(15 * 60);
  request.mutable_planning()->mutable_time_budget()->set_nanos(2000000);
  auto* w = request.mutable_planning()->mutable_weights();
  w->set_wait(1.0);
  w->set_idle(0.0);
  w->set_overtime(3.0);
  auto schedule = s.client->CreateSchedule(request);
  REQUIRE(schedule.ok());
  for (const v1::Convocation& c : schedule->convocations()) {
    const absl::Duration from_start = ToTime(c.convocation_time()) - Morning();
    CHECK(from_start >= absl::ZeroDuration());
    CHECK(from_start < absl::Hours(3));
    CHECK(absl::ToInt64Seconds(from_start) % (15 * 60) == 0);
  }

  // 60 patients with the clinic's 20% no-show prior need 48 x 10 / 2 = 240
  // minutes: refused when asked, run over by default.
  auto crowded = ScheduleRequest("clinic-1", 60, /*day=*/1);
  auto ran_over = s.client->CreateSchedule(crowded);
  REQUIRE(ran_over.ok());
  CHECK(ran_over->kpis().overtime().seconds() > 0);
  crowded.mutable_planning()->set_overflow(v1::OVERFLOW_REFUSE);
  ExpectError(s.client->CreateSchedule(crowded),
              absl::StatusCode::kFailedPrecondition, "more minutes than the");

  const auto good = ScheduleRequest("clinic-1", 4, /*day=*/2);
  auto r = good;
  r.mutable_planning()->mutable_weights();
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "planning.weights: at least one of wait, idle and overtime must "
              "be positive");
  r = good;
  r.mutable_planning()->mutable_weights()->set_wait(1.0);
  r.mutable_planning()->mutable_weights()->set_idle(-1.0);
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "planning.weights.idle: must be a finite number >= 0");
  r = good;
  r.mutable_planning()->mutable_granularity()->set_seconds(4 * 3600);
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "planning.granularity: 4h is larger than the window (3h)");
  r = good;
  r.mutable_planning()->mutable_granularity()->set_seconds(90);
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "planning.granularity: must be a whole number of minutes");
  r = good;
  r.mutable_planning()->mutable_time_budget()->set_seconds(11);
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "planning.time_budget");
  r = good;
  r.mutable_planning()->set_overflow(static_cast<v1::OverflowPolicy>(9));
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "planning.overflow");
  // 37 fixed appointments in a window that holds 36.
  r = ScheduleRequest("clinic-1", 37, /*day=*/2);
  for (int i = 0; i < 37; ++i) {
    *r.mutable_attendees(i)->mutable_fixed_convocation_time() =
        ToTimestamp(Morning(2) + absl::Minutes(4 * i));
  }
  ExpectError(
      s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
      "attendees: 37 fixed appointments are more than the window holds");
  auto all = s.client->ListAllSchedules("clinic-1");
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
}

TEST_CASE(
    "Schedules are planned on a bounded planner: a busy one refuses at "
    "once, cheap calls still answer, an expired call stops planning") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir, 20000);
  options.planning_threads = 1;
  options.max_queued_plans = 0;  // one plan at a time
  Running s(options);
  server::NoQueueServer* server = s.server.get();
  auto& client = s.client;
  REQUIRE(client->UpsertVenue(testing::ClinicVenue()).ok());

  // 20,000 attendees searched for up to 10 s, under a 0.6 s deadline: the
  // server gives the search half the time left (0.3 s), but guarding a new
  // venue's plan of that many (15 candidates on 5 levels x 16 days, ~3 s
  // here) and stating its KPIs take far longer than the other half.
  auto slow = ScheduleRequest("clinic-1", 20000);
  slow.mutable_planning()->mutable_time_budget()->set_seconds(10);
  absl::Status slow_status;
  std::thread caller([&] {
    auto impatient =
        testing::ClientOf(*server, s.admin_key, absl::Milliseconds(600));
    slow_status = impatient->CreateSchedule(slow).status();
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (server->planner().running() == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  REQUIRE(server->planner().running() == 1);
  ExpectError(client->CreateSchedule(ScheduleRequest("clinic-1", 3, 1)),
              absl::StatusCode::kResourceExhausted, "busy planning");
  CHECK(client->GetVenue("clinic-1").ok());
  caller.join();
  CHECK(slow_status.code() == absl::StatusCode::kDeadlineExceeded);
  // The planner lets go soon after the deadline, well before the 10 s of
  // search the request allowed.
  const absl::Time stop_by = absl::Now() + absl::Seconds(3);
  while (server->planner().running() > 0 && absl::Now() < stop_by) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  CHECK(server->planner().running() == 0);
  CHECK(client->CreateSchedule(ScheduleRequest("clinic-1", 3, 1)).ok());
  auto all = client->ListAllSchedules("clinic-1");
  REQUIRE(all.ok());
  CHECK(all->size() == 1);  // nothing of the expired plan was stored
}

TEST_CASE(
    "Recorded tags are acknowledged once and a bad batch stores nothing") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto schedule = s.client->CreateSchedule(ScheduleRequest("clinic-1", 3));
  REQUIRE(schedule.ok());
  const std::string sid = schedule->schedule_id();
  const auto good = Tag("t-1", sid, "a-0", v1::ARRIVED, Morning());

  auto bad = s.client->RecordArrivals(
      {good, Tag("t-2", sid, "intruder", v1::ARRIVED, Morning())});
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

TEST_CASE(
    "Streamed tags are acknowledged in order and bad ones rejected alone") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto schedule = s.client->CreateSchedule(ScheduleRequest("clinic-1", 200));
  REQUIRE(schedule.ok());
  const std::string sid = schedule->schedule_id();
  std::vector<v1::ArrivalEvent> tags;
  for (int i = 0; i < 200; ++i) {
    const std::string a = "a-" + std::to_string(i);
    tags.push_back(Tag("arr-" + a, sid, a, v1::ARRIVED,
                       ToTime(schedule->convocations(i).convocation_time()) +
                           absl::Minutes(i % 7 - 3)));
  }
  tags[17].set_event_id("");           // invalid
  tags[42].set_attendee_id("nobody");  // unknown attendee
  tags.push_back(tags[5]);             // a retry within the stream
  std::vector<v1::ArrivalAck> acks;
  REQUIRE(s.client->StreamArrivals(tags, &acks).ok());
  REQUIRE(acks.size() == tags.size());
  for (size_t i = 0; i < tags.size(); ++i)
    CHECK(acks[i].event_id() == tags[i].event_id());
  CHECK(acks[17].status() == v1::REJECTED);
  CHECK(acks[17].code() ==
        static_cast<int>(absl::StatusCode::kInvalidArgument));
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
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  // Attendee a-0 is always 25 minutes late; a-1 always on time.
  for (int day = 0; day < 6; ++day) {
    auto schedule =
        s.client->CreateSchedule(ScheduleRequest("clinic-1", 2, day));
    REQUIRE(schedule.ok());
    std::vector<v1::ArrivalEvent> tags;
    for (int i = 0; i < 2; ++i) {
      const auto& c = schedule->convocations(i);
      tags.push_back(
          Tag(absl::StrCat("d", day, "-", i), schedule->schedule_id(),
              c.attendee_id(), v1::ARRIVED,
              ToTime(c.convocation_time()) + absl::Minutes(i == 0 ? 25 : 0)));
    }
    REQUIRE(s.client->RecordArrivals(tags).ok());
  }
  auto next = s.client->CreateSchedule(ScheduleRequest("clinic-1", 2, 7));
  REQUIRE(next.ok());
  auto offset = [&](int i) {
    const auto& c = next->convocations(i);
    return absl::ToDoubleMinutes(ToTime(c.predicted_arrival().p50()) -
                                 ToTime(c.convocation_time()));
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
      tags.push_back(
          Tag("e" + std::to_string(i), schedule_id, c.attendee_id(),
              i % 9 == 0 ? v1::NO_SHOW : v1::ARRIVED,
              ToTime(c.convocation_time()) + absl::Minutes(i % 11 - 5)));
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
  auto rebuilt = server::Learner::RebuildFromLog(&again.server->store());
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->Serialize() == model_bytes);
}

TEST_CASE("The demo's second day predicts arrivals better than its first") {
  Running s;
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

TEST_CASE("The model service reports what was learned and what was kept out") {
  TempDir dir;
  Running s(dir);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto schedule = s.client->CreateSchedule(ScheduleRequest("clinic-1", 6));
  REQUIRE(schedule.ok());
  const std::string sid = schedule->schedule_id();
  auto conv = [&](int i) {
    return ToTime(schedule->convocations(i).convocation_time());
  };
  REQUIRE(
      s.client
          ->RecordArrivals(
              {Tag("e0", sid, "a-0", v1::ARRIVED, conv(0) - absl::Minutes(12)),
               Tag("e1", sid, "a-1", v1::ARRIVED, conv(1) + absl::Minutes(3)),
               Tag("e2", sid, "a-2", v1::NO_SHOW, conv(2) + absl::Minutes(30)),
               // Kept out: a second arrival, days away, from the future.
               Tag("e3", sid, "a-0", v1::ARRIVED, conv(0)),
               Tag("e4", sid, "a-3", v1::ARRIVED, conv(3) + absl::Hours(50)),
               Tag("e5", sid, "a-4", v1::ARRIVED, absl::Now() + absl::Hours(2)),
               Tag("e6", sid, "a-5", v1::SERVICE_STARTED, conv(5))})
          .ok());
  // Three days later, a late tag for the first day is out of order.
  auto later = s.client->CreateSchedule(ScheduleRequest("clinic-1", 1, 3));
  REQUIRE(later.ok());
  REQUIRE(s.client
              ->RecordArrivals(
                  {Tag("l0", later->schedule_id(), "a-0", v1::ARRIVED,
                       ToTime(later->convocations(0).convocation_time()))})
              .ok());
  REQUIRE(
      s.client->RecordArrivals({Tag("e7", sid, "a-5", v1::ARRIVED, conv(5))})
          .ok());
  auto info = s.client->GetModelInfo("clinic-1");
  REQUIRE(info.ok());
  CHECK(info->model_version().find("arrival-model") != std::string::npos);
  CHECK(info->events_learned() == 4);
  CHECK(info->attendees_known() == 3);
  CHECK(info->venues_known() == 1);
  REQUIRE(info->types_size() == 1);
  CHECK(info->types(0).convocation_type() == v1::MEDICAL);
  const auto& all = info->types(0).metrics().all_time();
  CHECK(all.arrivals_scored() == 3);
  CHECK(all.outcomes_scored() == 4);
  CHECK(all.mae_p50_minutes() > 0);
  const auto& excluded = info->venue_metrics().excluded();
  CHECK(excluded.at("repeat") == 1);
  CHECK(excluded.at("absurd") == 1);
  CHECK(excluded.at("future") == 1);
  CHECK(excluded.at("out_of_order") == 1);
  ExpectError(s.client->GetModelInfo("nowhere"), absl::StatusCode::kNotFound,
              "venue_id");

  // The same figures after a restart: exclusions are replayed too.
  const v1::GetModelInfoResponse before = *info;
  s.server->Shutdown(absl::Seconds(2));
  Running again(dir);
  auto after = again.client->GetModelInfo("clinic-1");
  REQUIRE(after.ok());
  INFO(after->DebugString() << " vs " << before.DebugString());
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*after, before));
}

TEST_CASE("An explanation adds up to its prediction and refuses bad input") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  for (int day = 0; day < 3; ++day) {
    auto schedule =
        s.client->CreateSchedule(ScheduleRequest("clinic-1", 3, day));
    REQUIRE(schedule.ok());
    std::vector<v1::ArrivalEvent> tags;
    for (int i = 0; i < 3; ++i) {
      const auto& c = schedule->convocations(i);
      tags.push_back(
          Tag(absl::StrCat("x", day, i), schedule->schedule_id(),
              c.attendee_id(), v1::ARRIVED,
              ToTime(c.convocation_time()) + absl::Minutes(8 * i - 10)));
    }
    REQUIRE(s.client->RecordArrivals(tags).ok());
  }
  v1::ExplainPredictionRequest request;
  request.set_venue_id("clinic-1");
  *request.mutable_convocation_time() = ToTimestamp(Morning(5));
  request.mutable_attendee()->set_attendee_id("a-2");
  (*request.mutable_attendee()->mutable_features())["distance_km"] = 3.0;
  auto e = s.client->ExplainPrediction(request);
  REQUIRE(e.ok());
  double sum = 0;
  bool has_habit = false;
  for (const auto& c : e->contributions()) {
    sum += c.minutes();
    has_habit |= c.name() == "habit";
  }
  CHECK(has_habit);
  CHECK(sum == Approx(e->p50_offset_minutes()).margin(1e-6));
  CHECK(e->attendee_arrivals() == 3);
  CHECK(e->habit_shrinkage() > 0.0);
  CHECK(e->habit_shrinkage() < 1.0);
  CHECK(e->p10_offset_minutes() <= e->p50_offset_minutes());
  CHECK(e->p50_offset_minutes() <= e->p90_offset_minutes());
  CHECK(e->no_show_prior() == Approx(0.2));

  auto bad = request;
  (*bad.mutable_attendee()->mutable_features())["distance_km"] =
      std::numeric_limits<double>::quiet_NaN();
  ExpectError(s.client->ExplainPrediction(bad),
              absl::StatusCode::kInvalidArgument,
              "attendee.features[\"distance_km\"]: must be a finite number");
  bad = request;
  bad.clear_convocation_time();
  ExpectError(s.client->ExplainPrediction(bad),
              absl::StatusCode::kInvalidArgument, "convocation_time");
  bad = request;
  bad.set_venue_id("elsewhere");
  ExpectError(s.client->ExplainPrediction(bad), absl::StatusCode::kNotFound,
              "venue_id");
}

TEST_CASE("A booking time after the window is refused") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto r = ScheduleRequest("clinic-1", 2);
  *r.mutable_attendees(1)->mutable_booking_time() =
      ToTimestamp(Morning() + absl::Hours(5));
  ExpectError(s.client->CreateSchedule(r), absl::StatusCode::kInvalidArgument,
              "attendees[1].booking_time: must not be after window_end");
  *r.mutable_attendees(1)->mutable_booking_time() =
      ToTimestamp(Morning() - absl::Hours(24 * 14));
  CHECK(s.client->CreateSchedule(r).ok());
}

}  // namespace
}  // namespace noqueue
