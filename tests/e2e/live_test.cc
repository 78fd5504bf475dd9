// The live day through the real API: desk changes, declared delays and
// cancellations re-time the attendees who have not come yet, within the
// venue's rules; every change is a stored event that a watcher receives
// live and again when it resumes; bad input is refused by name.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "proto/base/wire_time.h"
#include "tests/support/running_server.h"
#include "tests/support/sqlite_peek.h"

namespace noqueue {
namespace {

using client::NoQueueClient;
using testing::ClientOf;
using testing::ExpectError;
using testing::Morning;
using testing::Running;
using testing::Tag;
using testing::TempDir;

// A replay-clock server (now is the latest tag's time).
server::ServerOptions LiveOptions(const TempDir& dir) {
  server::ServerOptions options = testing::TestOptions(dir);
  options.clock = server::LiveClock::Kind::kEvents;
  return options;
}

// A clinic with two doctors, 18 patients of 10 minutes over three hours.
struct Day {
  explicit Day(const TempDir& dir) : s(LiveOptions(dir)) {
    db = dir.file("var/noqueue.db");
    REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
    auto made =
        s.client->CreateSchedule(testing::ScheduleRequest("clinic-1", 18));
    REQUIRE(made.ok());
    schedule = *made;
    id = schedule.schedule_id();
  }
  std::unique_ptr<NoQueueClient> As(const std::string& credential) {
    return ClientOf(*s.server, credential);
  }
  // The attendees in the order of their convocation times.
  std::vector<std::string> ByTime() const {
    std::vector<v1::Convocation> cs(schedule.convocations().begin(),
                                    schedule.convocations().end());
    std::stable_sort(cs.begin(), cs.end(), [](const auto& a, const auto& b) {
      return ToTime(a.convocation_time()) < ToTime(b.convocation_time());
    });
    std::vector<std::string> ids;
    for (const auto& c : cs) ids.push_back(c.attendee_id());
    return ids;
  }
  // The earliest convocation: the day starts there (the planner may leave
  // the window's first minutes empty when the day is not full).
  absl::Time First() const {
    return ToTime(Of(ByTime().front()).convocation_time());
  }
  const v1::Convocation& Of(const std::string& attendee) const {
    for (const auto& c : schedule.convocations()) {
      if (c.attendee_id() == attendee) return c;
    }
    FAIL("no convocation of " << attendee);
    return schedule.convocations(0);
  }
  // Every stored event of the schedule after `after` (a watch that ends at
  // its short deadline).
  std::vector<v1::ScheduleEvent> Stored(int64_t after = 0) {
    std::vector<v1::ScheduleEvent> events;
    auto c = ClientOf(*s.server, s.admin_key, absl::Seconds(1));
    absl::Status st = c->WatchSchedule(id, after, [&](const auto& e) {
      events.push_back(e);
      return true;
    });
    CHECK(st.code() == absl::StatusCode::kDeadlineExceeded);
    return events;
  }
  // The first attendees arrive and are served as planned until `until`.
  void PlayUntil(absl::Time until) {
    std::vector<v1::ArrivalEvent> tags;
    int n = 0;
    for (const auto& c : schedule.convocations()) {
      const absl::Time at = ToTime(c.convocation_time());
      if (at + absl::Minutes(10) > until) continue;
      const std::string a = c.attendee_id();
      tags.push_back(Tag("arr-" + a, id, a, v1::ARRIVED, at));
      tags.push_back(Tag("beg-" + a, id, a, v1::SERVICE_STARTED, at));
      tags.push_back(
          Tag("end-" + a, id, a, v1::SERVICE_ENDED, at + absl::Minutes(10)));
      ++n;
    }
    REQUIRE(n > 0);
    REQUIRE(s.client->RecordArrivals(tags).ok());
  }

  Running s;
  std::string db;
  v1::Schedule schedule;
  std::string id;
};

TEST_CASE(
    "A desk closing re-times those to come, within the rules, and "
    "watchers see every change live and on resuming") {
  TempDir dir;
  Day d(dir);
  // A watcher from the start, in the background.
  absl::Mutex mu;
  std::vector<v1::ScheduleEvent> live;
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    auto c = ClientOf(*d.s.server, d.s.admin_key, absl::Seconds(30));
    absl::Status st = c->WatchSchedule(d.id, 0, [&](const auto& e) {
      absl::MutexLock lock(&mu);
      live.push_back(e);
      return !stop.load();
    });
    CHECK(st.ok());
  });

  d.PlayUntil(d.First() + absl::Minutes(40));
  // Both doctors are called away 45 to 90 minutes into the day.
  v1::UpdateServicePointsRequest desks;
  desks.set_venue_id("clinic-1");
  desks.set_service_points(2);
  *desks.mutable_effective_from() = ToTimestamp(d.First() + absl::Minutes(90));
  REQUIRE(d.s.client->UpdateServicePoints(desks).ok());
  desks.set_service_points(0);
  *desks.mutable_effective_from() = ToTimestamp(d.First() + absl::Minutes(45));
  auto changed = d.s.client->UpdateServicePoints(desks);
  REQUIRE(changed.ok());
  REQUIRE(changed->schedule_ids_size() == 1);
  CHECK(changed->schedule_ids(0) == d.id);

  std::vector<v1::ScheduleEvent> stored = d.Stored();
  int retimed = 0;
  for (const auto& e : stored) {
    if (e.kind() != v1::EVENT_RETIMED) continue;
    ++retimed;
    INFO(e.attendee_id());
    const absl::Time now = ToTime(e.at());
    const absl::Time to = ToTime(e.convocation_time());
    const absl::Time from = ToTime(e.previous_time());
    CHECK(to >= now + absl::Minutes(30));                      // the notice
    CHECK(absl::AbsDuration(to - from) >= absl::Minutes(10));  // hysteresis
    CHECK(to >= ToTime(d.Of(e.attendee_id()).convocation_time()));  // later
    CHECK(e.reason() == "a desk change");
  }
  CHECK(retimed > 0);
  CHECK(stored.front().kind() == v1::EVENT_CREATED);
  CHECK(stored.back().kind() == v1::EVENT_KPIS_UPDATED);
  for (size_t i = 1; i < stored.size(); ++i) {
    CHECK(stored[i].seq() > stored[i - 1].seq());
  }

  // GetSchedule shows the current times, the first ones and the states.
  auto now = d.s.client->GetSchedule(d.id);
  REQUIRE(now.ok());
  // One change per re-timing (an attendee may be moved twice).
  int changes = 0, served = 0;
  for (const auto& c : now->convocations()) {
    if (c.changes() > 0) {
      changes += c.changes();
      CHECK(ToTime(c.original_time()) ==
            ToTime(d.Of(c.attendee_id()).convocation_time()));
      CHECK(ToTime(c.convocation_time()) != ToTime(c.original_time()));
    }
    served += c.state() == v1::ATTENDEE_SERVED;
  }
  CHECK(changes == retimed);
  CHECK(served > 0);

  // The live watcher saw the same events, in the same order.
  for (int i = 0; i < 100; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (live.size() >= stored.size()) break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  {
    absl::MutexLock lock(&mu);
    REQUIRE(live.size() == stored.size());
    for (size_t i = 0; i < stored.size(); ++i) {
      CHECK(live[i].seq() == stored[i].seq());
      CHECK(live[i].kind() == stored[i].kind());
    }
  }
  // One more event ends the background watch.
  stop = true;
  auto token = d.Of(d.ByTime().back()).attendee_token();
  REQUIRE(d.As(token)->DeclareDelay(absl::Minutes(15)).ok());
  watcher.join();

  // Resuming after any event gives exactly the rest.
  const size_t half = stored.size() / 2;
  std::vector<v1::ScheduleEvent> rest = d.Stored(stored[half].seq());
  REQUIRE(rest.size() >= stored.size() - half - 1);
  for (size_t i = half + 1; i < stored.size(); ++i) {
    CHECK(rest[i - half - 1].seq() == stored[i].seq());
  }

  // A restart loses nothing.
  const std::string before = d.s.client->GetSchedule(d.id)->SerializeAsString();
  d.s.server->Shutdown(absl::Seconds(2));
  Running again(LiveOptions(dir));
  auto after = again.client->GetSchedule(d.id);
  REQUIRE(after.ok());
  CHECK(after->SerializeAsString() == before);
}

TEST_CASE(
    "An attendee reads, delays and cancels their own convocation, "
    "and the rules and bad input are enforced by name") {
  TempDir dir;
  Day d(dir);
  d.PlayUntil(d.First() + absl::Minutes(40));
  // Two of the last convoked: still to come 40 minutes into the day.
  const std::string a12 = d.ByTime()[16], a15 = d.ByTime()[17];
  auto late = d.As(d.Of(a12).attendee_token());
  auto mine = late->GetMyConvocation();
  REQUIRE(mine.ok());
  CHECK(mine->convocation().attendee_id() == a12);
  CHECK(mine->convocation().state() == v1::ATTENDEE_STATE_UNSPECIFIED);

  ExpectError(late->DeclareDelay(absl::Minutes(-5)),
              absl::StatusCode::kInvalidArgument, "delay");
  ExpectError(late->DeclareDelay(absl::Minutes(10000)),
              absl::StatusCode::kInvalidArgument, "delay");
  auto delayed = late->DeclareDelay(absl::Minutes(45));
  REQUIRE(delayed.ok());
  CHECK(delayed->convocation().attendee_id() == a12);
  // Their own events: the delay, and a re-timing when one was worth it.
  std::vector<v1::ScheduleEvent> theirs;
  auto watch =
      ClientOf(*d.s.server, d.Of(a12).attendee_token(), absl::Seconds(1));
  CHECK(watch
            ->WatchMyConvocation(0,
                                 [&](const auto& e) {
                                   theirs.push_back(e);
                                   return true;
                                 })
            .code() == absl::StatusCode::kDeadlineExceeded);
  bool saw_delay = false;
  for (const auto& e : theirs) {
    CHECK((e.attendee_id() == a12 || e.attendee_id().empty()));
    saw_delay |= e.kind() == v1::EVENT_DELAY_DECLARED;
  }
  CHECK(saw_delay);

  // A cancellation frees the slot; a second one changes nothing.
  auto gone = d.As(d.Of(a15).attendee_token());
  auto first = gone->CancelConvocation();
  REQUIRE(first.ok());
  CHECK_FALSE(first->already_cancelled());
  const int64_t events =
      testing::QueryInt(d.db, "SELECT count(*) FROM schedule_events");
  auto second = gone->CancelConvocation();
  REQUIRE(second.ok());
  CHECK(second->already_cancelled());
  CHECK(testing::QueryInt(d.db, "SELECT count(*) FROM schedule_events") ==
        events);
  ExpectError(gone->DeclareDelay(absl::Minutes(5)),
              absl::StatusCode::kFailedPrecondition, "cancelled");
  CHECK(gone->GetMyConvocation()->convocation().state() ==
        v1::ATTENDEE_CANCELLED);

  // Someone already served cannot cancel.
  ExpectError(
      d.As(d.Of(d.ByTime().front()).attendee_token())->CancelConvocation(),
      absl::StatusCode::kFailedPrecondition, "served");

  // Desks: a count out of range, an unknown venue, a far time.
  v1::UpdateServicePointsRequest desks;
  desks.set_venue_id("clinic-1");
  for (int bad : {-1, 10000}) {
    desks.set_service_points(bad);
    ExpectError(d.s.client->UpdateServicePoints(desks),
                absl::StatusCode::kInvalidArgument, "service_points");
  }
  desks.set_service_points(1);
  *desks.mutable_effective_from() = ToTimestamp(Morning() + absl::Hours(72));
  ExpectError(d.s.client->UpdateServicePoints(desks),
              absl::StatusCode::kInvalidArgument, "effective_from");
  desks.clear_effective_from();
  desks.set_venue_id("no-such-venue");
  ExpectError(d.s.client->UpdateServicePoints(desks),
              absl::StatusCode::kNotFound, "venue_id");

  // Watches: an unknown schedule, a negative or future resume point.
  auto admin = d.As(d.s.admin_key);
  auto never = [](const auto&) { return false; };
  CHECK(admin->WatchSchedule("sch_nothing", 0, never).code() ==
        absl::StatusCode::kNotFound);
  CHECK(admin->WatchSchedule(d.id, -1, never).code() ==
        absl::StatusCode::kInvalidArgument);
  absl::Status future = admin->WatchSchedule(d.id, 1 << 30, never);
  CHECK(future.code() == absl::StatusCode::kOutOfRange);
  CHECK(std::string(future.message()).find("resume_after") !=
        std::string::npos);

  // Erasing an attendee erases their live-day events too.
  const std::string of_a12 =
      "SELECT count(*) FROM schedule_events WHERE attendee_id = '" + a12 + "'";
  REQUIRE(testing::QueryInt(d.db, of_a12) > 0);
  REQUIRE(d.s.client->EraseAttendee("clinic-1", a12).ok());
  CHECK(testing::QueryInt(d.db, of_a12) == 0);
}

TEST_CASE("Re-timing is off when the schedule's rules say so") {
  TempDir dir;
  Running s(LiveOptions(dir));
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
  v1::CreateScheduleRequest r = testing::ScheduleRequest("clinic-1", 18);
  r.mutable_retiming()->set_disabled(true);
  auto made = s.client->CreateSchedule(r);
  REQUIRE(made.ok());
  CHECK(made->retiming().disabled());
  std::vector<v1::ArrivalEvent> tags = {
      Tag("t1", made->schedule_id(), "a-0", v1::ARRIVED, Morning())};
  REQUIRE(s.client->RecordArrivals(tags).ok());
  v1::UpdateServicePointsRequest desks;
  desks.set_venue_id("clinic-1");
  desks.set_service_points(0);
  REQUIRE(s.client->UpdateServicePoints(desks).ok());
  auto after = s.client->GetSchedule(made->schedule_id());
  REQUIRE(after.ok());
  for (const auto& c : after->convocations()) CHECK(c.changes() == 0);

  // Rules out of range are refused by name.
  v1::CreateScheduleRequest bad = testing::ScheduleRequest("clinic-1", 3);
  bad.mutable_retiming()->set_max_changes(-1);
  ExpectError(s.client->CreateSchedule(bad), absl::StatusCode::kInvalidArgument,
              "retiming.max_changes");
  bad = testing::ScheduleRequest("clinic-1", 3);
  *bad.mutable_retiming()->mutable_min_notice() =
      ToProtoDuration(absl::Hours(-1));
  ExpectError(s.client->CreateSchedule(bad), absl::StatusCode::kInvalidArgument,
              "retiming.min_notice");
}

}  // namespace
}  // namespace noqueue
