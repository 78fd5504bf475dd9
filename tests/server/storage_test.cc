// SqliteStore on real SQLite files: schema, reopening, idempotency, the
// event log's rules, and atomicity of rejected batches.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"
#include "proto/base/wire_time.h"
#include "server/common/ids.h"
#include "server/core/learner.h"
#include "server/store/sqlite/sqlite_store.h"
#include "tests/support/fault_vfs.h"
#include "tests/support/sqlite_peek.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

using server::EventResult;
using server::NewSchedule;
using server::SqliteStore;
using testing::Await;
using testing::CountRows;
using testing::Morning;
using testing::Tag;
using testing::TempDir;

absl::Time Now() { return absl::Now(); }

void PutVenue(SqliteStore& store, const std::string& id = "clinic-1") {
  auto r = Await<server::UpsertVenueResult>([&](auto done) {
    store.UpsertVenue(testing::ClinicVenue(id), Now(), done);
  });
  REQUIRE(r.ok());
}

// A schedule of `n` attendees a-0.. convoked every 10 minutes from 09:00.
NewSchedule MakeSchedule(const std::string& id, int n,
                         const std::string& request_id = "") {
  NewSchedule s;
  s.schedule.set_schedule_id(id);
  s.schedule.set_venue_id("clinic-1");
  s.schedule.set_convocation_type(v1::MEDICAL);
  s.schedule.set_request_id(request_id);
  *s.schedule.mutable_window_start() = ToTimestamp(Morning());
  *s.schedule.mutable_window_end() = ToTimestamp(Morning() + absl::Hours(3));
  *s.schedule.mutable_create_time() = ToTimestamp(absl::Now());
  for (int i = 0; i < n; ++i) {
    v1::Convocation* c = s.schedule.add_convocations();
    c->set_attendee_id("a-" + std::to_string(i));
    *c->mutable_convocation_time() =
        ToTimestamp(Morning() + absl::Minutes(10 * i));
    server::ConvocationFacts f;
    f.context.type = model::ConvocationType::kMedical;
    f.context.local_hour = 10;
    s.facts.push_back(f);
  }
  return s;
}

absl::StatusOr<v1::Schedule> Insert(SqliteStore& store, NewSchedule s) {
  return Await<v1::Schedule>(
      [&](auto done) { store.InsertSchedule(std::move(s), done); });
}

absl::StatusOr<std::vector<EventResult>> Record(
    SqliteStore& store, std::vector<v1::ArrivalEvent> events, bool atomic) {
  return Await<std::vector<EventResult>>([&](auto done) {
    store.RecordEvents(std::move(events), atomic, Now(), server::VenueScope{},
                       done);
  });
}

TEST_CASE("Ids made later sort later, and none repeats") {
  // The b-trees keyed by schedule ids then grow at their right edge.
  const std::string first = server::NewId("sch_");
  CHECK(first.size() == 4 + 12 + 16);
  CHECK(first.rfind("sch_", 0) == 0);
  absl::SleepFor(absl::Milliseconds(2));
  // Many in one millisecond: 64 random bits tell them apart.
  absl::flat_hash_set<std::string> seen;
  std::string last;
  for (int i = 0; i < 10000; ++i) seen.insert(last = server::NewId("sch_"));
  CHECK(seen.size() == 10000);
  CHECK(first < last);
}

TEST_CASE("A new database gets the current schema in WAL mode") {
  TempDir dir;
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  auto version = (*store)->SchemaVersion();
  REQUIRE(version.ok());
  CHECK(*version == SqliteStore::kSchemaVersion);
  (*store)->Close();
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("n.db").c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))) ==
        "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_CASE("A database from a newer server is refused and left untouched") {
  TempDir dir;
  {
    auto store = SqliteStore::Open(dir.file("n.db"));
    REQUIRE(store.ok());
  }
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("n.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(CountRows(dir.file("n.db"), "venues") == 0);
}

TEST_CASE("Venues and schedules survive closing and reopening the file") {
  TempDir dir;
  const std::string path = dir.file("n.db");
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    PutVenue(**store);
    REQUIRE(Insert(**store, MakeSchedule("s-1", 3)).ok());
  }
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  auto venue = (*store)->GetVenue("clinic-1");
  REQUIRE(venue.ok());
  CHECK(venue->time_zone() == "Europe/Paris");
  CHECK(venue->service_points() == 2);
  CHECK(venue->mean_service_time().seconds() == 600);
  auto schedule = (*store)->GetSchedule("s-1");
  REQUIRE(schedule.ok());
  CHECK(schedule->convocations_size() == 3);
  CHECK((*store)->GetSchedule("s-2").status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("Updating a venue keeps its creation time and reports created once") {
  TempDir dir;
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  auto first = Await<server::UpsertVenueResult>([&](auto done) {
    (*store)->UpsertVenue(testing::ClinicVenue(), absl::FromUnixMicros(1000),
                          done);
  });
  v1::Venue changed = testing::ClinicVenue();
  changed.set_service_points(5);
  auto second = Await<server::UpsertVenueResult>([&](auto done) {
    (*store)->UpsertVenue(changed, absl::FromUnixMicros(2000), done);
  });
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->created);
  CHECK_FALSE(second->created);
  auto venue = (*store)->GetVenue("clinic-1");
  REQUIRE(venue.ok());
  CHECK(venue->service_points() == 5);
  CHECK(ToTime(venue->create_time()) == absl::FromUnixMicros(1000));
  CHECK(ToTime(venue->update_time()) == absl::FromUnixMicros(2000));
}

TEST_CASE("A schedule retried with the same request id is stored once") {
  TempDir dir;
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  PutVenue(**store);
  auto a = Insert(**store, MakeSchedule("s-1", 2, "req-1"));
  auto b = Insert(**store, MakeSchedule("s-2", 2, "req-1"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(b->schedule_id() == "s-1");
  CHECK(CountRows(dir.file("n.db"), "schedules") == 1);
  auto found = (*store)->FindScheduleByRequest("clinic-1", "req-1", "");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->schedule_id() == "s-1");
}

TEST_CASE("Schedules list in creation order across pages") {
  TempDir dir;
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  PutVenue(**store);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(Insert(**store, MakeSchedule("s-" + std::to_string(i), 1)).ok());
  }
  auto page1 = (*store)->ListSchedules("clinic-1", 0, 3);
  REQUIRE(page1.ok());
  REQUIRE(page1->schedules.size() == 3);
  CHECK(page1->schedules[0].schedule_id() == "s-0");
  CHECK(page1->schedules[0].convocations_size() == 0);
  REQUIRE(page1->next_after > 0);
  auto page2 = (*store)->ListSchedules("clinic-1", page1->next_after, 3);
  REQUIRE(page2.ok());
  REQUIRE(page2->schedules.size() == 2);
  CHECK(page2->schedules[1].schedule_id() == "s-4");
  CHECK(page2->next_after == 0);
}

TEST_CASE(
    "A retried tag is a duplicate and a reused id with other content is "
    "refused") {
  TempDir dir;
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  PutVenue(**store);
  REQUIRE(Insert(**store, MakeSchedule("s-1", 2)).ok());
  auto tag =
      Tag("e-1", "s-1", "a-0", v1::ARRIVED, Morning() + absl::Minutes(3));
  auto first = Record(**store, {tag}, false);
  auto again = Record(**store, {tag}, false);
  auto other = tag;
  other.set_attendee_id("a-1");
  auto reused = Record(**store, {other}, false);
  REQUIRE(first.ok());
  REQUIRE(again.ok());
  REQUIRE(reused.ok());
  CHECK((*first)[0].disposition == v1::ACCEPTED);
  CHECK((*again)[0].disposition == v1::DUPLICATE);
  CHECK((*reused)[0].disposition == v1::REJECTED);
  CHECK((*reused)[0].status.code() == absl::StatusCode::kAlreadyExists);
  CHECK(CountRows(dir.file("n.db"), "arrival_events") == 1);
}

TEST_CASE("Tags for unknown schedules or attendees are rejected as not found") {
  TempDir dir;
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  PutVenue(**store);
  REQUIRE(Insert(**store, MakeSchedule("s-1", 1)).ok());
  auto r = Record(**store,
                  {Tag("e-1", "nope", "a-0", v1::ARRIVED, Morning()),
                   Tag("e-2", "s-1", "stranger", v1::ARRIVED, Morning()),
                   Tag("e-3", "s-1", "a-0", v1::ARRIVED, Morning())},
                  false);
  REQUIRE(r.ok());
  CHECK((*r)[0].status.code() == absl::StatusCode::kNotFound);
  CHECK(std::string((*r)[0].status.message()).find("events[0].schedule_id") !=
        std::string::npos);
  CHECK((*r)[1].status.code() == absl::StatusCode::kNotFound);
  CHECK(std::string((*r)[1].status.message()).find("events[1].attendee_id") !=
        std::string::npos);
  CHECK((*r)[2].disposition == v1::ACCEPTED);
  CHECK(CountRows(dir.file("n.db"), "arrival_events") == 1);
}

TEST_CASE("An atomic batch with one bad tag stores nothing") {
  TempDir dir;
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  PutVenue(**store);
  REQUIRE(Insert(**store, MakeSchedule("s-1", 2)).ok());
  auto r = Record(**store,
                  {Tag("e-1", "s-1", "a-0", v1::ARRIVED, Morning()),
                   Tag("e-2", "s-1", "ghost", v1::ARRIVED, Morning())},
                  true);
  CHECK(r.status().code() == absl::StatusCode::kNotFound);
  CHECK(CountRows(dir.file("n.db"), "arrival_events") == 0);
  // And the convocation's outcome slot is still free.
  auto retry =
      Record(**store, {Tag("e-1", "s-1", "a-0", v1::ARRIVED, Morning())}, true);
  REQUIRE(retry.ok());
  REQUIRE((*retry)[0].learnable.has_value());
  CHECK_FALSE((*retry)[0].learnable->excluded.has_value());  // not a repeat
}

TEST_CASE(
    "Tags whose batch cannot commit are not stored, and the store "
    "forgets what it had cached of them") {
  TempDir dir;
  auto& vfs = testing::FaultVfs::Install();
  vfs.Clear();
  server::SqliteStoreOptions options;
  options.vfs = testing::FaultVfs::kName;
  auto store = SqliteStore::Open(dir.file("n.db"), options);
  REQUIRE(store.ok());
  PutVenue(**store);
  REQUIRE(Insert(**store, MakeSchedule("s-1", 2)).ok());
  // a-0's convocation is now in the writer's cache.
  REQUIRE(Record(**store,
                 {Tag("e-0", "s-1", "a-0", v1::SERVICE_STARTED, Morning())},
                 false)
              .ok());
  for (int code : {SQLITE_IOERR_WRITE, SQLITE_FULL}) {
    vfs.FailWrites(0, code, "-wal");
    auto failed = Record(
        **store, {Tag("e-1", "s-1", "a-0", v1::ARRIVED, Morning())}, false);
    vfs.Clear();
    REQUIRE_FALSE(failed.ok());
    CHECK(CountRows(dir.file("n.db"), "arrival_events") == 1);
  }
  // The outcome was not stored, so it is still to be learned: the cache did
  // not keep the rolled-back arrival.
  auto retry =
      Record(**store, {Tag("e-2", "s-1", "a-0", v1::ARRIVED, Morning())}, true);
  REQUIRE(retry.ok());
  REQUIRE((*retry)[0].learnable.has_value());
  CHECK_FALSE((*retry)[0].learnable->excluded.has_value());
  CHECK(testing::QueryText(dir.file("n.db"), "PRAGMA integrity_check") == "ok");
}

TEST_CASE("Only the first plausible outcome of a convocation is learned from") {
  TempDir dir;
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  PutVenue(**store);
  REQUIRE(Insert(**store, MakeSchedule("s-1", 4)).ok());
  const absl::Time t0 = Morning();
  auto r = Record(
      **store,
      {Tag("e-1", "s-1", "a-0", v1::ARRIVED, t0 - absl::Minutes(4)),
       Tag("e-2", "s-1", "a-0", v1::ARRIVED, t0 + absl::Minutes(1)),
       Tag("e-3", "s-1", "a-0", v1::SERVICE_STARTED, t0 + absl::Minutes(2)),
       Tag("e-4", "s-1", "a-1", v1::ARRIVED, t0 + absl::Hours(72)),
       Tag("e-5", "s-1", "a-2", v1::ARRIVED, absl::Now() + absl::Hours(1)),
       Tag("e-6", "s-1", "a-3", v1::NO_SHOW, t0 + absl::Minutes(60))},
      false);
  REQUIRE(r.ok());
  for (const auto& e : *r) CHECK(e.disposition == v1::ACCEPTED);
  REQUIRE((*r)[0].learnable.has_value());
  CHECK_FALSE((*r)[0].learnable->excluded.has_value());
  CHECK((*r)[0].learnable->offset_min == Approx(-4.0));
  // Stored, but only counted: a second arrival, days away, from the future.
  REQUIRE((*r)[1].learnable.has_value());
  CHECK((*r)[1].learnable->excluded == model::Exclusion::kRepeat);
  CHECK_FALSE((*r)[2].learnable.has_value());  // not an outcome at all
  REQUIRE((*r)[3].learnable.has_value());
  CHECK((*r)[3].learnable->excluded == model::Exclusion::kAbsurd);
  REQUIRE((*r)[4].learnable.has_value());
  CHECK((*r)[4].learnable->excluded == model::Exclusion::kFuture);
  REQUIRE((*r)[5].learnable.has_value());
  CHECK((*r)[5].learnable->no_show);
  CHECK_FALSE((*r)[5].learnable->excluded.has_value());
  CHECK(CountRows(dir.file("n.db"), "arrival_events") == 6);

  // Replay sees the same events with the same verdicts, in order.
  std::vector<std::pair<int64_t, bool>> replayed;
  REQUIRE((*store)
              ->ReplayLearnable(0,
                                [&](const server::LearnableEvent& e) {
                                  replayed.emplace_back(e.seq,
                                                        e.excluded.has_value());
                                })
              .ok());
  REQUIRE(replayed.size() == 5);
  CHECK(replayed[0] == std::make_pair((*r)[0].learnable->seq, false));
  CHECK(replayed[1] == std::make_pair((*r)[1].learnable->seq, true));
  CHECK(replayed[4] == std::make_pair((*r)[5].learnable->seq, false));
}

// The service observations ReplayCrowd rebuilds, as comparable tuples.
using Measured = std::tuple<absl::Time, std::optional<absl::Time>,
                            std::optional<absl::Duration>>;
std::vector<Measured> ReplayedServices(SqliteStore& store) {
  std::vector<Measured> out;
  REQUIRE(store
              .ReplayCrowd([](const server::StoredReport&) {},
                           [&](const server::ServiceObservation& o) {
                             out.emplace_back(o.at, o.arrival, o.duration);
                           })
              .ok());
  return out;
}

TEST_CASE(
    "Tags measure a convocation's wait and service once, and a version "
    "3 database keeps them when upgraded") {
  TempDir dir;
  const absl::Time t0 = Morning();
  const auto at = [&](int minutes) { return t0 + absl::Minutes(minutes); };
  std::vector<Measured> before;
  {
    auto store = SqliteStore::Open(dir.file("n.db"));
    REQUIRE(store.ok());
    PutVenue(**store);
    // Convoked in the reverse order of their ids.
    NewSchedule reversed = MakeSchedule("s-1", 3);
    for (int i = 0; i < 3; ++i) {
      *reversed.schedule.mutable_convocations(i)->mutable_convocation_time() =
          ToTimestamp(t0 - absl::Minutes(10 * i));
    }
    REQUIRE(Insert(**store, std::move(reversed)).ok());
    auto r = Record(
        **store,
        {Tag("e-0", "s-1", "a-0", v1::ARRIVED, t0),
         Tag("e-1", "s-1", "a-0", v1::SERVICE_STARTED, t0 + absl::Minutes(5)),
         Tag("e-2", "s-1", "a-0", v1::SERVICE_STARTED, t0 + absl::Minutes(6)),
         Tag("e-3", "s-1", "a-0", v1::SERVICE_ENDED, t0 + absl::Minutes(12)),
         Tag("e-4", "s-1", "a-1", v1::SERVICE_STARTED, t0 + absl::Minutes(20)),
         Tag("e-5", "s-1", "a-1", v1::ARRIVED, t0 + absl::Minutes(19)),
         Tag("e-6", "s-1", "a-2", v1::ARRIVED, t0 + absl::Minutes(30)),
         Tag("e-7", "s-1", "a-2", v1::SERVICE_STARTED, t0 + absl::Minutes(29))},
        false);
    REQUIRE(r.ok());
    REQUIRE((*r)[1].service.has_value());  // waited 5 minutes since t0
    CHECK((*r)[1].service->at == at(5));
    CHECK((*r)[1].service->arrival == at(0));
    CHECK_FALSE((*r)[2].service.has_value());  // a second start: a repeat
    REQUIRE((*r)[3].service.has_value());      // served 7 minutes
    CHECK((*r)[3].service->duration == absl::Minutes(7));
    // Started with no arrival stored first (it came late): no wait.
    REQUIRE((*r)[4].service.has_value());
    CHECK_FALSE((*r)[4].service->arrival.has_value());
    // Started before it arrived, by the clocks: no wait either.
    REQUIRE((*r)[7].service.has_value());
    CHECK_FALSE((*r)[7].service->arrival.has_value());
    for (int i : {0, 5, 6}) CHECK_FALSE((*r)[i].service.has_value());
    before = ReplayedServices(**store);
    REQUIRE(before.size() == 4);
  }
  // Back to version 3: convocations keyed by (schedule, attendee) without
  // measures, the index of tags by convocation, the model's 0-based
  // convocation type (version 5 stores the wire's), no access control nor
  // retention (version 6), no live-day events (version 8).
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("n.db").c_str(), &db);
  REQUIRE(sqlite3_exec(
              db,
              "CREATE TABLE convocations_v3 ("
              " schedule_id TEXT NOT NULL REFERENCES schedules(schedule_id),"
              " attendee_id TEXT NOT NULL, venue_id TEXT NOT NULL,"
              " convocation_type INTEGER NOT NULL,"
              " convocation_us INTEGER NOT NULL, local_hour INTEGER NOT NULL,"
              " local_weekday INTEGER NOT NULL, party_size REAL NOT NULL,"
              " outcome_seq INTEGER, lead_days REAL NOT NULL DEFAULT -1,"
              " features BLOB, venue_recent REAL, attendee_recent REAL,"
              " venue_level REAL, PRIMARY KEY (schedule_id, attendee_id))"
              " WITHOUT ROWID;"
              "INSERT INTO convocations_v3 SELECT schedule_id, attendee_id,"
              " venue_id, convocation_type - 1, convocation_us, local_hour,"
              " local_weekday, party_size,"
              " (SELECT min(e.seq) FROM arrival_events e"
              "  WHERE e.conv_seq = c.seq AND e.learn = 1),"
              " lead_days, features, venue_recent, attendee_recent,"
              " venue_level FROM convocations c;"
              "DROP TABLE convocations;"
              "ALTER TABLE convocations_v3 RENAME TO convocations;"
              "DROP INDEX arrival_events_by_conv;"
              "ALTER TABLE arrival_events DROP COLUMN conv_seq;"
              "CREATE INDEX arrival_events_by_convocation ON "
              "arrival_events(schedule_id, attendee_id, kind, seq);"
              "DROP TABLE api_key_venues; DROP TABLE api_keys;"
              "DROP TABLE audit_log; DROP TABLE server_secrets;"
              "ALTER TABLE venues DROP COLUMN retention_days;"
              "DROP INDEX schedules_to_purge;"
              "ALTER TABLE schedules DROP COLUMN purged_us;"
              "ALTER TABLE venues DROP COLUMN service_cv;"
              "DROP TABLE schedule_events;"
              "DROP TABLE webhook_outbox; DROP TABLE webhooks;"
              "PRAGMA user_version = 3;",
              nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  CHECK(*(*store)->SchemaVersion() == SqliteStore::kSchemaVersion);
  CHECK(ReplayedServices(**store) == before);
  // Every convocation column of a type holds the wire's: MEDICAL.
  CHECK(testing::QueryInt(dir.file("n.db"),
                          "SELECT count(*) FROM convocations WHERE "
                          "convocation_type != 5") == 0);
  // Rows in the order of their convocation times, as new ones are stored.
  CHECK(testing::QueryInt(dir.file("n.db"),
                          "SELECT group_concat(attendee_id, ' ') = "
                          "'a-2 a-1 a-0' FROM (SELECT attendee_id FROM "
                          "convocations ORDER BY seq)") == 1);
  CHECK(testing::QueryInt(dir.file("n.db"),
                          "SELECT count(*) FROM sqlite_master WHERE name = "
                          "'arrival_events_by_convocation'") == 0);
  // And tags after the upgrade see the measures it filled in: a-0 has
  // ended and its outcome is known; a-1's start was backfilled.
  auto r = Record(
      **store,
      {Tag("e-8", "s-1", "a-0", v1::SERVICE_ENDED, t0 + absl::Minutes(13)),
       Tag("e-9", "s-1", "a-0", v1::ARRIVED, t0 + absl::Minutes(1)),
       Tag("e-10", "s-1", "a-1", v1::SERVICE_ENDED, t0 + absl::Minutes(27))},
      false);
  REQUIRE(r.ok());
  CHECK_FALSE((*r)[0].service.has_value());
  REQUIRE((*r)[1].learnable.has_value());
  CHECK((*r)[1].learnable->excluded == model::Exclusion::kRepeat);
  REQUIRE((*r)[2].service.has_value());
  CHECK((*r)[2].service->duration == absl::Minutes(7));
}

TEST_CASE(
    "A model snapshot plus the log after it equals a rebuild from the whole "
    "log") {
  TempDir dir;
  auto store = SqliteStore::Open(dir.file("n.db"));
  REQUIRE(store.ok());
  PutVenue(**store);
  server::Learner live(store->get(), /*snapshot_every=*/7);
  REQUIRE(live.Restore().ok());
  for (int day = 0; day < 5; ++day) {
    const std::string id = "s-" + std::to_string(day);
    REQUIRE(Insert(**store, MakeSchedule(id, 6)).ok());
    std::vector<v1::ArrivalEvent> tags;
    for (int i = 0; i < 6; ++i) {
      const std::string a = "a-" + std::to_string(i);
      auto kind = (i + day) % 5 == 0 ? v1::NO_SHOW : v1::ARRIVED;
      tags.push_back(Tag(id + a, id, a, kind,
                         Morning() + absl::Minutes(10 * i + i - day)));
    }
    auto r = Record(**store, tags, true);
    REQUIRE(r.ok());
    std::vector<server::LearnableEvent> learnable;
    for (const auto& e : *r) {
      if (e.learnable) learnable.push_back(*e.learnable);
    }
    live.Learn(learnable);
  }
  REQUIRE(live.events_learned() == 30);
  // The periodic snapshot (after 28 events) was queued before this write,
  // so it has committed once this returns.
  PutVenue(**store);
  auto snap = (*store)->LoadSnapshot();
  REQUIRE(snap.ok());
  REQUIRE(snap->has_value());
  CHECK((*snap)->last_seq < live.last_seq());  // so a restart must replay

  server::Learner restarted(store->get(), 7);
  REQUIRE(restarted.Restore().ok());
  CHECK(restarted.SerializedModel() == live.SerializedModel());
  CHECK(restarted.last_seq() == live.last_seq());

  auto rebuilt = server::Learner::RebuildFromLog(store->get());
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->Serialize() == live.SerializedModel());
}

}  // namespace
}  // namespace noqueue
