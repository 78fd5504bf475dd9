#include "server/store/sqlite/sqlite_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"
#include "server/store/sqlite/sqlite_rows.h"

namespace noqueue::server {

using namespace rows;  // NOLINT: the store's row mapping, everywhere here

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, SqliteStoreOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> writer,
                   SqliteDb::Open(path, options.vfs));
  RETURN_IF_ERROR(MigrateSchema(*writer));
  // Deleted personal data is overwritten, not left in free pages.
  RETURN_IF_ERROR(writer->Exec("PRAGMA secure_delete=ON"));
  if (options.sync_commits) {
    RETURN_IF_ERROR(writer->Exec("PRAGMA synchronous=FULL"));
  }
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(path, std::move(options), std::move(writer)));
}

SqliteStore::SqliteStore(const std::string& path, SqliteStoreOptions options,
                         std::unique_ptr<SqliteDb> writer)
    : options_(std::move(options)), readers_(path, options_.vfs) {
  writer_ = std::make_unique<SqliteWriter>(
      std::move(writer), path, options_.vfs,
      [this] {
        ForgetTagged();
        webhook_kinds_loaded_ = false;
      },
      options_.wal);
  writer_->SetOnCommit([this] { OutboxCommitted(); });
}

SqliteStore::~SqliteStore() { Close(); }

void SqliteStore::Close() { writer_->Close(); }

absl::StatusOr<int> SqliteStore::SchemaVersion() {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  return SchemaVersionOf(lease.db());
}

// ------------------------------------------------------------------ venues

absl::StatusOr<v1::Venue> SqliteStore::GetVenue(const std::string& venue_id) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare(absl::StrCat("SELECT ", kVenueColumns,
                                                   " FROM venues WHERE "
                                                   "venue_id = ?1")));
  s->Bind(1, venue_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("venue_id: no venue \"", venue_id, "\""));
  }
  v1::Venue v = ReadVenue(*s);
  s->Reset();
  return v;
}

absl::StatusOr<std::vector<v1::Venue>> SqliteStore::ListVenues() {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare(absl::StrCat("SELECT ", kVenueColumns,
                                                   " FROM venues ORDER BY "
                                                   "venue_id")));
  std::vector<v1::Venue> venues;
  RETURN_IF_ERROR(
      s->EachRow([&](const Statement& r) { venues.push_back(ReadVenue(r)); }));
  return venues;
}

void SqliteStore::UpsertVenue(v1::Venue venue, absl::Time now,
                              Done<UpsertVenueResult> done) {
  writer_->Submit<UpsertVenueResult>(
      [venue = std::move(venue),
       now](SqliteDb& db) mutable -> absl::StatusOr<UpsertVenueResult> {
        ASSIGN_OR_RETURN(
            Statement * find,
            db.Prepare("SELECT create_us FROM venues WHERE venue_id = ?1"));
        find->Bind(1, venue.venue_id());
        ASSIGN_OR_RETURN(bool exists, find->Step());
        const absl::Time created =
            exists ? FromMicros(find->ColumnInt(0)) : now;
        find->Reset();
        ASSIGN_OR_RETURN(
            Statement * put,
            db.Prepare("INSERT INTO venues (venue_id, display_name, "
                       "convocation_type, time_zone, service_points, "
                       "mean_service_us, create_us, update_us, "
                       "retention_days, service_cv) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                       "ON CONFLICT (venue_id) DO UPDATE SET "
                       "display_name = excluded.display_name, "
                       "convocation_type = excluded.convocation_type, "
                       "time_zone = excluded.time_zone, "
                       "service_points = excluded.service_points, "
                       "mean_service_us = excluded.mean_service_us, "
                       "update_us = excluded.update_us, "
                       "retention_days = excluded.retention_days, "
                       "service_cv = excluded.service_cv"));
        put->Bind(1, venue.venue_id())
            .Bind(2, venue.display_name())
            .Bind(3, int64_t{venue.convocation_type()})
            .Bind(4, venue.time_zone())
            .Bind(5, int64_t{venue.service_points()})
            .Bind(6, absl::ToInt64Microseconds(
                         ToDuration(venue.mean_service_time())))
            .Bind(7, ToMicros(created))
            .Bind(8, ToMicros(now));
        if (venue.has_personal_data_retention_days()) {
          put->Bind(9, int64_t{venue.personal_data_retention_days()});
        } else {
          put->BindNull(9);
        }
        if (venue.has_service_time_cv()) {
          put->Bind(10, venue.service_time_cv());
        } else {
          put->BindNull(10);
        }
        RETURN_IF_ERROR(put->Run());
        *venue.mutable_create_time() = ToTimestamp(created);
        *venue.mutable_update_time() = ToTimestamp(now);
        return UpsertVenueResult{std::move(venue), !exists};
      },
      std::move(done));
}

// --------------------------------------------------------------- schedules

absl::StatusOr<v1::Schedule> SqliteStore::GetSchedule(
    const std::string& schedule_id) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare("SELECT body FROM schedules WHERE schedule_id = ?1"));
  s->Bind(1, schedule_id);
  ASSIGN_OR_RETURN(std::optional<v1::Schedule> schedule, ScheduleRow(*s));
  if (!schedule) {
    return absl::NotFoundError(
        absl::StrCat("schedule_id: no schedule \"", schedule_id, "\""));
  }
  return *std::move(schedule);
}

namespace {

// The schedule stored for (venue_id, request_id), if any, when the request
// that made it has the digest `digest` (or either digest is unknown).
absl::StatusOr<std::optional<v1::Schedule>> ScheduleForRequest(
    SqliteDb& db, const std::string& venue_id, const std::string& request_id,
    const std::string& digest) {
  ASSIGN_OR_RETURN(
      Statement * s,
      db.Prepare("SELECT s.body, d.request_sha256 FROM schedules s LEFT JOIN "
                 "schedule_requests d ON d.schedule_id = s.schedule_id "
                 "WHERE s.venue_id = ?1 AND s.request_id = ?2"));
  s->Bind(1, venue_id).Bind(2, request_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<v1::Schedule>();
  const std::string body = s->ColumnText(0);
  const bool differs =
      !digest.empty() && !s->ColumnIsNull(1) && s->ColumnText(1) != digest;
  s->Reset();
  if (differs) {
    return absl::FailedPreconditionError(absl::StrCat(
        "request_id: \"", request_id,
        "\" was already used for a different request at this venue; a "
        "retry must repeat the request unchanged, a new request needs a new "
        "request_id"));
  }
  ASSIGN_OR_RETURN(v1::Schedule schedule, ParseSchedule(body));
  return std::optional<v1::Schedule>(std::move(schedule));
}

}  // namespace

absl::StatusOr<std::optional<v1::Schedule>> SqliteStore::FindScheduleByRequest(
    const std::string& venue_id, const std::string& request_id,
    const std::string& request_digest) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  return ScheduleForRequest(lease.db(), venue_id, request_id, request_digest);
}

absl::StatusOr<SchedulePage> SqliteStore::ListSchedules(
    const std::string& venue_id, int64_t after, int limit) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare("SELECT seq, body FROM schedules WHERE venue_id = ?1 "
                         "AND seq > ?2 ORDER BY seq LIMIT ?3"));
  s->Bind(1, venue_id).Bind(2, after).Bind(3, int64_t{limit} + 1);
  SchedulePage page;
  int64_t last = 0;
  absl::Status parsed;
  RETURN_IF_ERROR(s->EachRow([&](const Statement& r) {
    if (static_cast<int>(page.schedules.size()) == limit) {
      page.next_after = last;
      return false;
    }
    last = r.ColumnInt(0);
    absl::StatusOr<v1::Schedule> schedule = ParseSchedule(r.ColumnText(1));
    if (!schedule.ok()) {
      parsed = schedule.status();
      return false;
    }
    page.schedules.push_back(WithoutConvocations(*std::move(schedule)));
    return true;
  }));
  RETURN_IF_ERROR(parsed);
  return page;
}

void SqliteStore::InsertSchedule(NewSchedule schedule,
                                 Done<v1::Schedule> done) {
  writer_->Submit<v1::Schedule>(
      [this, in = std::move(schedule)](
          SqliteDb& db) mutable -> absl::StatusOr<v1::Schedule> {
        v1::Schedule& s = in.schedule;
        if (!s.request_id().empty()) {
          ASSIGN_OR_RETURN(std::optional<v1::Schedule> first,
                           ScheduleForRequest(db, s.venue_id(), s.request_id(),
                                              in.request_digest));
          if (first) return *std::move(first);
        }
        ASSIGN_OR_RETURN(
            Statement * put,
            db.Prepare("INSERT INTO schedules (schedule_id, venue_id, "
                       "request_id, convocation_type, window_start_us, "
                       "window_end_us, create_us, body) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
        put->Bind(1, s.schedule_id()).Bind(2, s.venue_id());
        if (s.request_id().empty()) {
          put->BindNull(3);
        } else {
          put->Bind(3, s.request_id());
        }
        put->Bind(4, int64_t{s.convocation_type()})
            .Bind(5, ToMicros(s.window_start()))
            .Bind(6, ToMicros(s.window_end()))
            .Bind(7, ToMicros(s.create_time()))
            .BindBlob(8, s.SerializeAsString());
        RETURN_IF_ERROR(put->Run());
        if (!s.request_id().empty() && !in.request_digest.empty()) {
          ASSIGN_OR_RETURN(Statement * digest,
                           db.Prepare("INSERT INTO schedule_requests "
                                      "(schedule_id, request_sha256) "
                                      "VALUES (?1, ?2)"));
          digest->Bind(1, s.schedule_id()).BindBlob(2, in.request_digest);
          RETURN_IF_ERROR(digest->Run());
        }
        RETURN_IF_ERROR(InsertConvocations(db, in));
        v1::ScheduleEvent created;
        created.set_schedule_id(s.schedule_id());
        created.set_kind(v1::EVENT_CREATED);
        *created.mutable_at() = s.create_time();
        RETURN_IF_ERROR(InsertScheduleEvent(db, created, s.venue_id()));
        return std::move(s);
      },
      std::move(done));
}

// --------------------------------------------------------------- snapshots

void SqliteStore::SaveSnapshot(ModelSnapshot snapshot, Done<bool> done) {
  writer_->Submit<bool>(
      [snapshot = std::move(snapshot)](SqliteDb& db) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(Statement * put,
                         db.Prepare("INSERT OR REPLACE INTO model_snapshots "
                                    "(id, last_seq, body, create_us) "
                                    "VALUES (1, ?1, ?2, ?3)"));
        put->Bind(1, snapshot.last_seq)
            .BindBlob(2, snapshot.bytes)
            .Bind(3, ToMicros(absl::Now()));
        RETURN_IF_ERROR(put->Run());
        return true;
      },
      std::move(done));
}

absl::StatusOr<std::optional<ModelSnapshot>> SqliteStore::LoadSnapshot() {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare("SELECT last_seq, body FROM "
                                      "model_snapshots WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<ModelSnapshot>();
  ModelSnapshot snap{s->ColumnInt(0), s->ColumnText(1)};
  s->Reset();
  return std::optional<ModelSnapshot>(std::move(snap));
}

}  // namespace noqueue::server
