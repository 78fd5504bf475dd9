#include "server/sqlite_store.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/byte_codec.h"
#include "server/proto_time.h"
#include "server/status_macros.h"

namespace noqueue::server {
namespace {

// Each entry takes the schema from version i to i + 1. Never edit a released
// entry: add a new one.
const char* const kMigrations[] = {
    // 1: venues, schedules, convocations, the arrival event log, snapshots.
    R"sql(
CREATE TABLE venues (
  venue_id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  convocation_type INTEGER NOT NULL,
  time_zone TEXT NOT NULL,
  service_points INTEGER NOT NULL,
  mean_service_us INTEGER NOT NULL,
  create_us INTEGER NOT NULL,
  update_us INTEGER NOT NULL
);
CREATE TABLE schedules (
  seq INTEGER PRIMARY KEY,
  schedule_id TEXT NOT NULL UNIQUE,
  venue_id TEXT NOT NULL REFERENCES venues(venue_id),
  request_id TEXT,
  convocation_type INTEGER NOT NULL,
  window_start_us INTEGER NOT NULL,
  window_end_us INTEGER NOT NULL,
  create_us INTEGER NOT NULL,
  body BLOB NOT NULL
);
CREATE UNIQUE INDEX schedules_by_request ON schedules(venue_id, request_id)
  WHERE request_id IS NOT NULL;
CREATE INDEX schedules_by_venue ON schedules(venue_id, seq);
CREATE TABLE convocations (
  schedule_id TEXT NOT NULL REFERENCES schedules(schedule_id),
  attendee_id TEXT NOT NULL,
  venue_id TEXT NOT NULL,
  convocation_type INTEGER NOT NULL,
  convocation_us INTEGER NOT NULL,
  local_hour INTEGER NOT NULL,
  local_weekday INTEGER NOT NULL,
  party_size REAL NOT NULL,
  outcome_seq INTEGER,
  PRIMARY KEY (schedule_id, attendee_id)
) WITHOUT ROWID;
CREATE TABLE arrival_events (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  schedule_id TEXT NOT NULL,
  attendee_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  observed_us INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  received_us INTEGER NOT NULL,
  learn INTEGER NOT NULL
);
CREATE INDEX arrival_events_learnable ON arrival_events(seq) WHERE learn = 1;
CREATE TABLE model_snapshots (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq INTEGER NOT NULL,
  body BLOB NOT NULL,
  create_us INTEGER NOT NULL
);
)sql",
    // 2: what the model needs of a convocation beyond its time (lead time,
    // named features, the dynamic features as predicted), and why an outcome tag was not learned from:
    // arrival_events.learn is 0 (not an outcome), 1 (learned), or
    // 2 + model::Exclusion (stored, counted, not learned).
    R"sql(
ALTER TABLE convocations ADD COLUMN lead_days REAL NOT NULL DEFAULT -1;
ALTER TABLE convocations ADD COLUMN features BLOB;
ALTER TABLE convocations ADD COLUMN venue_recent REAL;
ALTER TABLE convocations ADD COLUMN attendee_recent REAL;
ALTER TABLE convocations ADD COLUMN venue_level REAL;
DROP INDEX arrival_events_learnable;
CREATE INDEX arrival_events_outcomes ON arrival_events(seq) WHERE learn >= 1;
)sql",
    // 3: crowd reports with the aggregator's verdict; tags by convocation,
    // to measure waits (ARRIVED -> SERVICE_STARTED) and services.
    R"sql(
CREATE TABLE crowd_reports (
  seq INTEGER PRIMARY KEY,
  report_id TEXT NOT NULL UNIQUE,
  venue_id TEXT NOT NULL REFERENCES venues(venue_id),
  reporter_token TEXT NOT NULL,
  observed_us INTEGER NOT NULL,
  received_us INTEGER NOT NULL,
  queue_length INTEGER,
  waited_us INTEGER,
  finished INTEGER NOT NULL,
  weight REAL NOT NULL,
  rejection TEXT NOT NULL
);
CREATE INDEX crowd_reports_by_venue ON crowd_reports(venue_id, observed_us);
CREATE INDEX arrival_events_by_convocation
  ON arrival_events(schedule_id, attendee_id, kind, seq);
)sql",
    // 4: convocations are written once, as a rowid table in the order of
    // their times within each schedule, found by a unique index on
    // (schedule, attendee); each tag names its convocation's row (conv_seq),
    // and tags are indexed by it. Tags come in about the order of the
    // convocation times, so that index grows at a few places (the index on
    // (schedule_id, attendee_id, kind, seq) it replaces took a random b-tree
    // insert per tag), and what a convocation's earlier tags measured or
    // taught is read from it: nothing updates a convocation's row (its
    // outcome_seq is gone).
    R"sql(
CREATE TABLE convocations_v4 (
  seq INTEGER PRIMARY KEY,
  schedule_id TEXT NOT NULL REFERENCES schedules(schedule_id),
  attendee_id TEXT NOT NULL,
  venue_id TEXT NOT NULL,
  convocation_type INTEGER NOT NULL,
  convocation_us INTEGER NOT NULL,
  local_hour INTEGER NOT NULL,
  local_weekday INTEGER NOT NULL,
  party_size REAL NOT NULL,
  lead_days REAL NOT NULL DEFAULT -1,
  features BLOB,
  venue_recent REAL,
  attendee_recent REAL,
  venue_level REAL,
  UNIQUE (schedule_id, attendee_id)
);
INSERT INTO convocations_v4 (schedule_id, attendee_id, venue_id,
  convocation_type, convocation_us, local_hour, local_weekday, party_size,
  lead_days, features, venue_recent, attendee_recent, venue_level)
SELECT c.schedule_id, c.attendee_id, c.venue_id, c.convocation_type,
  c.convocation_us, c.local_hour, c.local_weekday, c.party_size,
  c.lead_days, c.features, c.venue_recent, c.attendee_recent, c.venue_level
FROM convocations c JOIN schedules s ON s.schedule_id = c.schedule_id
ORDER BY s.seq, c.convocation_us, c.attendee_id;
DROP TABLE convocations;
ALTER TABLE convocations_v4 RENAME TO convocations;
ALTER TABLE arrival_events ADD COLUMN conv_seq INTEGER;
UPDATE arrival_events SET conv_seq = (
  SELECT c.seq FROM convocations c
  WHERE c.schedule_id = arrival_events.schedule_id
    AND c.attendee_id = arrival_events.attendee_id);
DROP INDEX arrival_events_by_convocation;
CREATE INDEX arrival_events_by_conv
  ON arrival_events(conv_seq, kind, learn, observed_us);
)sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kMigrationCount == SqliteStore::kSchemaVersion);

absl::Status Migrate(SqliteDb& db) {
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  auto rollback_on_error = [&](absl::Status st) {
    if (!st.ok()) db.Exec("ROLLBACK").IgnoreError();
    return st;
  };
  ASSIGN_OR_RETURN(Statement * version, db.Prepare("PRAGMA user_version"));
  absl::StatusOr<bool> row = version->Step();
  if (!row.ok()) return rollback_on_error(row.status());
  const int current = static_cast<int>(version->ColumnInt(0));
  version->Reset();
  if (current > SqliteStore::kSchemaVersion) {
    return rollback_on_error(absl::FailedPreconditionError(absl::StrCat(
        "database schema version ", current, " is newer than this server's (",
        SqliteStore::kSchemaVersion, ")")));
  }
  for (int v = current; v < kMigrationCount; ++v) {
    absl::Status st = db.Exec(kMigrations[v]);
    if (st.ok()) st = db.Exec(absl::StrCat("PRAGMA user_version = ", v + 1));
    if (!st.ok()) return rollback_on_error(st);
  }
  return db.Exec("COMMIT");
}

// Named features as stored: for each, its name's length, the name, and the
// value's 8 bytes.
std::string EncodeFeatures(const std::vector<model::NamedFeature>& features) {
  model::ByteWriter w;
  for (const auto& f : features) {
    w.PutString(f.name);
    w.Put<double>(f.value);
  }
  return w.Take();
}

std::vector<model::NamedFeature> DecodeFeatures(const std::string& bytes) {
  std::vector<model::NamedFeature> out;
  model::ByteReader r(bytes);
  model::NamedFeature f;
  while (!r.AtEnd() && r.GetString(&f.name) && r.Get(&f.value)) {
    out.push_back(f);
  }
  return out;
}

// The dynamic features stored from column `first` on, if they were.
std::optional<model::DynamicFeatures> ReadDynamic(const Statement& s,
                                                  int first) {
  if (s.ColumnIsNull(first)) return std::nullopt;
  return model::DynamicFeatures{s.ColumnDouble(first),
                                s.ColumnDouble(first + 1),
                                s.ColumnDouble(first + 2)};
}

constexpr int64_t kLearnCode = 1;
int64_t ExclusionCode(model::Exclusion e) {
  return 2 + static_cast<int64_t>(e);
}

v1::Schedule WithoutConvocations(v1::Schedule s) {
  s.clear_convocations();
  return s;
}

absl::StatusOr<v1::Schedule> ParseSchedule(const std::string& body) {
  v1::Schedule s;
  if (!s.ParseFromString(body)) {
    return absl::DataLossError("stored schedule does not parse");
  }
  return s;
}

}  // namespace

class SqliteStore::ReadLease {
 public:
  explicit ReadLease(SqliteStore* store) : store_(store) {}
  ~ReadLease() {
    if (db_) store_->ReleaseReader(std::move(db_));
  }
  absl::Status Acquire() {
    ASSIGN_OR_RETURN(db_, store_->AcquireReader());
    return absl::OkStatus();
  }
  SqliteDb& db() { return *db_; }

 private:
  SqliteStore* store_;
  std::unique_ptr<SqliteDb> db_;
};

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, LearningPolicy policy) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> writer, SqliteDb::Open(path));
  RETURN_IF_ERROR(Migrate(*writer));
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(path, policy, std::move(writer)));
}

SqliteStore::SqliteStore(std::string path, LearningPolicy policy,
                         std::unique_ptr<SqliteDb> writer)
    : path_(std::move(path)),
      policy_(policy),
      writer_db_(std::move(writer)) {
  // The writer keeps the pages it rewrites (indexes, the WAL's) in a 64 MiB
  // cache of its own; readers read through the shared memory map.
  writer_db_->Exec("PRAGMA cache_size=-65536").IgnoreError();
  writer_ = std::thread([this] { WriterLoop(); });
  completer_ = std::thread([this] { CompletionLoop(); });
  // Checkpoints are the checkpointer's job, not the writer's, when it has a
  // connection of its own; otherwise the writer keeps SQLite's automatic
  // checkpoints.
  absl::StatusOr<std::unique_ptr<SqliteDb>> checkpoint_db = SqliteDb::Open(path_);
  if (checkpoint_db.ok()) {
    writer_db_->Exec("PRAGMA wal_autocheckpoint=0").IgnoreError();
    checkpointer_ = std::thread(
        [this, db = std::shared_ptr<SqliteDb>(std::move(*checkpoint_db))] {
          CheckpointLoop(*db);
        });
  }
}

SqliteStore::~SqliteStore() { Close(); }

void SqliteStore::Close() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (closing_ && !writer_.joinable()) return;
    closing_ = true;
  }
  queue_cv_.notify_all();
  checkpoint_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    writer_exited_ = true;
  }
  done_cv_.notify_all();
  if (completer_.joinable()) completer_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
  // The writer connection, the last one, checkpoints the rest on closing.
  writer_db_.reset();
}

void SqliteStore::CompletionLoop() {
  while (true) {
    Finished finished;
    {
      std::unique_lock<std::mutex> lock(done_mu_);
      done_cv_.wait(lock, [&] { return writer_exited_ || !done_.empty(); });
      if (done_.empty()) return;  // the writer is gone and all is done
      finished = std::move(done_.front());
      done_.pop_front();
    }
    for (size_t i = 0; i < finished.jobs.size(); ++i) {
      finished.jobs[i].finish(finished.results[i]);
    }
  }
}

void SqliteStore::CheckpointLoop(SqliteDb& db) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  while (!closing_) {
    checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(250));
    if (closing_) break;
    lock.unlock();
    // PASSIVE: copies what no reader still needs, never blocks the writer.
    int log_frames = 0, checkpointed = 0;
    sqlite3_wal_checkpoint_v2(db.raw(), nullptr,
                              SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                              &checkpointed);
    lock.lock();
  }
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteStore::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!readers_.empty()) {
      std::unique_ptr<SqliteDb> db = std::move(readers_.back());
      readers_.pop_back();
      return db;
    }
  }
  return SqliteDb::Open(path_);
}

void SqliteStore::ReleaseReader(std::unique_ptr<SqliteDb> db) {
  std::lock_guard<std::mutex> lock(readers_mu_);
  if (readers_.size() < 16) readers_.push_back(std::move(db));
}

template <typename T>
void SqliteStore::Submit(std::function<absl::StatusOr<T>(SqliteDb&)> run,
                         Done<T> done) {
  auto result = std::make_shared<absl::StatusOr<T>>(
      absl::InternalError("write did not run"));
  Job job{[run = std::move(run), result](SqliteDb& db) {
            *result = run(db);
            return result->status();
          },
          [done = std::move(done), result](absl::Status st) {
            if (st.ok()) {
              done(std::move(*result));
            } else {
              done(st);
            }
          }};
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (!closing_) {
      queue_.push_back(std::move(job));
      queue_cv_.notify_one();
      return;
    }
  }
  job.finish(absl::UnavailableError("store is closed"));
}

void SqliteStore::WriterLoop() {
  SqliteDb& db = *writer_db_;
  std::vector<Job> batch;
  std::vector<absl::Status> results;
  while (true) {
    batch.clear();
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) break;  // closing and drained
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    results.assign(batch.size(), absl::OkStatus());
    absl::Status begin = db.Run("BEGIN IMMEDIATE");
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!begin.ok()) {
        results[i] = begin;
        continue;
      }
      absl::Status st = db.Run("SAVEPOINT job");
      if (st.ok()) {
        st = batch[i].run(db);
        if (!st.ok()) {
          db.Run("ROLLBACK TO job").IgnoreError();
          ForgetTagged();  // it may remember what was just undone
        }
        db.Run("RELEASE job").IgnoreError();
      }
      results[i] = st;
      // Some errors (I/O, full disk, no memory) make SQLite roll back the
      // whole transaction: the rest of the batch then fails rather than run
      // outside one.
      if (!st.ok() && sqlite3_get_autocommit(db.raw())) {
        begin = absl::AbortedError(absl::StrCat(
            "the batch's transaction was rolled back: ", st.message()));
        ForgetTagged();
        // What the batch had done before is gone too.
        for (size_t j = 0; j < i; ++j) {
          if (results[j].ok()) results[j] = begin;
        }
      }
    }
    if (begin.ok()) {
      absl::Status commit = db.Run("COMMIT");
      if (!commit.ok()) {
        db.Run("ROLLBACK").IgnoreError();
        ForgetTagged();
        for (absl::Status& st : results) {
          if (st.ok()) st = commit;
        }
      }
    }
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      done_.push_back(Finished{std::move(batch), std::move(results)});
    }
    done_cv_.notify_one();
    batch = {};
    results = {};
  }
}

absl::StatusOr<int> SqliteStore::SchemaVersion() {
  ReadLease lease(this);
  RETURN_IF_ERROR(lease.Acquire());
  ASSIGN_OR_RETURN(Statement * s, lease.db().Prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return absl::InternalError("no user_version");
  const int version = static_cast<int>(s->ColumnInt(0));
  s->Reset();  // a pooled connection must not keep a read open
  return version;
}

absl::StatusOr<v1::Venue> SqliteStore::GetVenue(const std::string& venue_id) {
  ReadLease lease(this);
  RETURN_IF_ERROR(lease.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare(
                       "SELECT display_name, convocation_type, time_zone, "
                       "service_points, mean_service_us, create_us, update_us "
                       "FROM venues WHERE venue_id = ?1"));
  s->Bind(1, venue_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("venue_id: no venue \"", venue_id, "\""));
  }
  v1::Venue v;
  v.set_venue_id(venue_id);
  v.set_display_name(s->ColumnText(0));
  v.set_convocation_type(static_cast<v1::ConvocationType>(s->ColumnInt(1)));
  v.set_time_zone(s->ColumnText(2));
  v.set_service_points(static_cast<int32_t>(s->ColumnInt(3)));
  *v.mutable_mean_service_time() =
      ToProtoDuration(absl::Microseconds(s->ColumnInt(4)));
  *v.mutable_create_time() = MicrosToTimestamp(s->ColumnInt(5));
  *v.mutable_update_time() = MicrosToTimestamp(s->ColumnInt(6));
  s->Reset();
  return v;
}

void SqliteStore::UpsertVenue(v1::Venue venue, int64_t now_us,
                              Done<UpsertVenueResult> done) {
  Submit<UpsertVenueResult>(
      [venue = std::move(venue), now_us](
          SqliteDb& db) mutable -> absl::StatusOr<UpsertVenueResult> {
        ASSIGN_OR_RETURN(
            Statement * find,
            db.Prepare("SELECT create_us FROM venues WHERE venue_id = ?1"));
        find->Bind(1, venue.venue_id());
        ASSIGN_OR_RETURN(bool exists, find->Step());
        const int64_t create_us = exists ? find->ColumnInt(0) : now_us;
        find->Reset();
        ASSIGN_OR_RETURN(
            Statement * put,
            db.Prepare(
                "INSERT INTO venues (venue_id, display_name, "
                "convocation_type, time_zone, service_points, "
                "mean_service_us, create_us, update_us) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                "ON CONFLICT (venue_id) DO UPDATE SET "
                "display_name = excluded.display_name, "
                "convocation_type = excluded.convocation_type, "
                "time_zone = excluded.time_zone, "
                "service_points = excluded.service_points, "
                "mean_service_us = excluded.mean_service_us, "
                "update_us = excluded.update_us"));
        put->Bind(1, venue.venue_id())
            .Bind(2, venue.display_name())
            .Bind(3, int64_t{venue.convocation_type()})
            .Bind(4, venue.time_zone())
            .Bind(5, int64_t{venue.service_points()})
            .Bind(6, absl::ToInt64Microseconds(
                         ToDuration(venue.mean_service_time())))
            .Bind(7, create_us)
            .Bind(8, now_us);
        RETURN_IF_ERROR(put->Run());
        *venue.mutable_create_time() = MicrosToTimestamp(create_us);
        *venue.mutable_update_time() = MicrosToTimestamp(now_us);
        return UpsertVenueResult{std::move(venue), !exists};
      },
      std::move(done));
}

absl::StatusOr<v1::Schedule> SqliteStore::GetSchedule(
    const std::string& schedule_id) {
  ReadLease lease(this);
  RETURN_IF_ERROR(lease.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare("SELECT body FROM schedules WHERE schedule_id = ?1"));
  s->Bind(1, schedule_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("schedule_id: no schedule \"", schedule_id, "\""));
  }
  std::string body = s->ColumnText(0);
  s->Reset();
  return ParseSchedule(body);
}

absl::StatusOr<std::optional<v1::Schedule>> SqliteStore::FindScheduleByRequest(
    const std::string& venue_id, const std::string& request_id) {
  ReadLease lease(this);
  RETURN_IF_ERROR(lease.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare("SELECT body FROM schedules WHERE "
                                      "venue_id = ?1 AND request_id = ?2"));
  s->Bind(1, venue_id).Bind(2, request_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<v1::Schedule>();
  std::string body = s->ColumnText(0);
  s->Reset();
  ASSIGN_OR_RETURN(v1::Schedule schedule, ParseSchedule(body));
  return std::optional<v1::Schedule>(std::move(schedule));
}

absl::StatusOr<SchedulePage> SqliteStore::ListSchedules(
    const std::string& venue_id, int64_t after, int limit) {
  ReadLease lease(this);
  RETURN_IF_ERROR(lease.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare(
                       "SELECT seq, body FROM schedules WHERE venue_id = ?1 "
                       "AND seq > ?2 ORDER BY seq LIMIT ?3"));
  s->Bind(1, venue_id).Bind(2, after).Bind(3, int64_t{limit} + 1);
  SchedulePage page;
  int64_t last = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (static_cast<int>(page.schedules.size()) == limit) {
      page.next_after = last;
      break;
    }
    last = s->ColumnInt(0);
    ASSIGN_OR_RETURN(v1::Schedule schedule, ParseSchedule(s->ColumnText(1)));
    page.schedules.push_back(WithoutConvocations(std::move(schedule)));
  }
  s->Reset();
  return page;
}

void SqliteStore::InsertSchedule(NewSchedule schedule,
                                 Done<v1::Schedule> done) {
  Submit<v1::Schedule>(
      [in = std::move(schedule)](
          SqliteDb& db) mutable -> absl::StatusOr<v1::Schedule> {
        v1::Schedule& s = in.schedule;
        if (!s.request_id().empty()) {
          ASSIGN_OR_RETURN(
              Statement * find,
              db.Prepare("SELECT body FROM schedules WHERE venue_id = ?1 AND "
                         "request_id = ?2"));
          find->Bind(1, s.venue_id()).Bind(2, s.request_id());
          ASSIGN_OR_RETURN(bool exists, find->Step());
          if (exists) {
            std::string body = find->ColumnText(0);
            find->Reset();
            return ParseSchedule(body);
          }
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
        ASSIGN_OR_RETURN(
            Statement * conv,
            db.Prepare("INSERT INTO convocations (schedule_id, attendee_id, "
                       "venue_id, convocation_type, convocation_us, "
                       "local_hour, local_weekday, party_size, lead_days, "
                       "features, venue_recent, attendee_recent, venue_level) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                       "?12, ?13)"));
        // Rows in the order of convocation times: tags, which come in about
        // that order, then name rows that are neighbours.
        std::vector<int> order(s.convocations_size());
        std::iota(order.begin(), order.end(), 0);
        std::vector<int64_t> at_us(order.size());
        for (int i : order) at_us[i] = ToMicros(s.convocations(i).convocation_time());
        std::stable_sort(order.begin(), order.end(),
                         [&](int a, int b) { return at_us[a] < at_us[b]; });
        for (int i : order) {
          const v1::Convocation& c = s.convocations(i);
          const model::ArrivalContext& ctx = in.facts[i].context;
          conv->Reset();
          conv->Bind(1, s.schedule_id())
              .Bind(2, c.attendee_id())
              .Bind(3, s.venue_id())
              .Bind(4, int64_t{static_cast<int>(ctx.type)})
              .Bind(5, at_us[i])
              .Bind(6, int64_t{ctx.local_hour})
              .Bind(7, int64_t{ctx.local_weekday})
              .Bind(8, ctx.party_size)
              .Bind(9, ctx.lead_days);
          if (ctx.features.empty()) {
            conv->BindNull(10);
          } else {
            conv->BindBlob(10, EncodeFeatures(ctx.features));
          }
          if (ctx.as_predicted) {
            conv->Bind(11, ctx.as_predicted->venue_recent)
                .Bind(12, ctx.as_predicted->attendee_recent)
                .Bind(13, ctx.as_predicted->venue_level);
          } else {
            conv->BindNull(11).BindNull(12).BindNull(13);
          }
          RETURN_IF_ERROR(conv->Run());
        }
        return std::move(s);
      },
      std::move(done));
}

absl::StatusOr<SqliteStore::TaggedConvocation*> SqliteStore::FindConvocation(
    SqliteDb& db, const v1::ArrivalEvent& e, size_t index) {
  const std::pair<std::string_view, std::string_view> key(e.schedule_id(),
                                                          e.attendee_id());
  if (auto it = tagged_.find(key); it != tagged_.end()) return &it->second;
  ASSIGN_OR_RETURN(
      Statement * conv,
      db.Prepare("SELECT venue_id, convocation_type, convocation_us, "
                 "local_hour, local_weekday, party_size, seq, "
                 "lead_days, features, venue_recent, attendee_recent, "
                 "venue_level "
                 "FROM convocations WHERE schedule_id = ?1 AND attendee_id = ?2"));
  conv->BindUncopied(1, e.schedule_id()).BindUncopied(2, e.attendee_id());
  ASSIGN_OR_RETURN(bool found, conv->Step());
  if (!found) {
    conv->Reset();
    ASSIGN_OR_RETURN(
        Statement * sched,
        db.Prepare("SELECT 1 FROM schedules WHERE schedule_id = ?1"));
    sched->Bind(1, e.schedule_id());
    ASSIGN_OR_RETURN(bool schedule_exists, sched->Step());
    sched->Reset();
    if (!schedule_exists) {
      return absl::NotFoundError(
          absl::StrFormat("events[%d].schedule_id: no schedule \"%s\"", index,
                          e.schedule_id()));
    }
    return absl::NotFoundError(absl::StrFormat(
        "events[%d].attendee_id: \"%s\" is not convoked in schedule \"%s\"",
        index, e.attendee_id(), e.schedule_id()));
  }
  TaggedConvocation c;
  c.venue_id = conv->ColumnText(0);
  c.context.type = static_cast<model::ConvocationType>(conv->ColumnInt(1));
  c.convocation_us = conv->ColumnInt(2);
  c.context.local_hour = static_cast<int>(conv->ColumnInt(3));
  c.context.local_weekday = static_cast<int>(conv->ColumnInt(4));
  c.context.party_size = conv->ColumnDouble(5);
  c.seq = conv->ColumnInt(6);
  c.context.lead_days = conv->ColumnDouble(7);
  c.context.at_minute = c.convocation_us / 60000000;
  c.context.features = DecodeFeatures(conv->ColumnText(8));
  c.context.as_predicted = ReadDynamic(*conv, 9);
  conv->Reset();

  // Its stored tags: the first of each kind (by storage order) and whether
  // an outcome was learned.
  ASSIGN_OR_RETURN(
      Statement * earlier,
      db.Prepare("SELECT kind, learn, observed_us FROM arrival_events "
                 "WHERE conv_seq = ?1 ORDER BY seq DESC"));
  earlier->Bind(1, c.seq);
  while (true) {
    ASSIGN_OR_RETURN(bool row, earlier->Step());
    if (!row) break;
    const int64_t kind = earlier->ColumnInt(0);
    if (earlier->ColumnInt(1) == kLearnCode) c.outcome_learned = true;
    if (kind >= 0 && kind < v1::ArrivalKind_ARRAYSIZE) {
      c.first_us[kind] = earlier->ColumnInt(2);  // the last one read wins
    }
  }
  earlier->Reset();
  // Bounded by its bytes (features vary in number and names' length).
  size_t bytes = sizeof(TaggedConvocation) + 2 * sizeof(std::string) +
                 e.schedule_id().size() + e.attendee_id().size() +
                 c.venue_id.size();
  for (const model::NamedFeature& f : c.context.features) {
    bytes += sizeof(f) + f.name.size();
  }
  if (tagged_bytes_ + bytes > kMaxTaggedBytes) ForgetTagged();
  tagged_bytes_ += bytes;
  auto [it, inserted] = tagged_.emplace(
      std::pair(std::string(e.schedule_id()), std::string(e.attendee_id())),
      std::move(c));
  return &it->second;
}

absl::StatusOr<EventResult> SqliteStore::StoreEvent(
    SqliteDb& db, const v1::ArrivalEvent& e, size_t index, int64_t now_us,
    bool* wrote) {
  *wrote = false;
  if (e.kind() == v1::ARRIVAL_KIND_UNSPECIFIED ||
      !v1::ArrivalKind_IsValid(e.kind())) {
    return absl::InvalidArgumentError(
        absl::StrFormat("events[%d].kind: must be a known kind", index));
  }
  ASSIGN_OR_RETURN(TaggedConvocation * conv, FindConvocation(db, e, index));
  const bool is_outcome = e.kind() == v1::ARRIVED || e.kind() == v1::NO_SHOW;
  LearnableEvent learnable;
  learnable.venue_id = conv->venue_id;
  learnable.attendee_id = e.attendee_id();
  if (is_outcome) learnable.context = conv->context;
  const int64_t convocation_us = conv->convocation_us;
  const bool outcome_known = conv->outcome_learned;
  const std::optional<int64_t> arrived_us = conv->first_us[v1::ARRIVED];
  const std::optional<int64_t> started_us = conv->first_us[v1::SERVICE_STARTED];
  const std::optional<int64_t> ended_us = conv->first_us[v1::SERVICE_ENDED];
  const int64_t conv_seq = conv->seq;

  const int64_t observed_us = ToMicros(e.observed_at());
  learnable.no_show = e.kind() == v1::NO_SHOW;
  learnable.offset_min = (observed_us - convocation_us) / 60e6;
  const bool from_future =
      observed_us > now_us + static_cast<int64_t>(policy_.max_future_min * 60e6);
  const bool absurd = e.kind() == v1::ARRIVED &&
                      std::abs(learnable.offset_min) > policy_.max_abs_offset_min;
  std::optional<model::Exclusion> excluded;
  if (outcome_known) {
    excluded = model::Exclusion::kRepeat;
  } else if (from_future) {
    excluded = model::Exclusion::kFuture;
  } else if (absurd) {
    excluded = model::Exclusion::kAbsurd;
  }
  const bool learn = is_outcome && !excluded;
  const int64_t learn_code =
      !is_outcome ? 0 : (learn ? kLearnCode : ExclusionCode(*excluded));

  ASSIGN_OR_RETURN(
      Statement * put,
      db.Prepare("INSERT INTO arrival_events (event_id, schedule_id, "
                 "attendee_id, kind, observed_us, device_id, received_us, "
                 "learn, conv_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                 "ON CONFLICT (event_id) DO NOTHING"));
  put->BindUncopied(1, e.event_id())
      .BindUncopied(2, e.schedule_id())
      .BindUncopied(3, e.attendee_id())
      .Bind(4, int64_t{e.kind()})
      .Bind(5, observed_us)
      .BindUncopied(6, e.device_id())
      .Bind(7, now_us)
      .Bind(8, learn_code)
      .Bind(9, conv_seq);
  RETURN_IF_ERROR(put->Run());
  EventResult result;
  if (db.Changes() == 0) {
    // The id is taken: a harmless retry, or a different tag reusing it.
    ASSIGN_OR_RETURN(
        Statement * old,
        db.Prepare("SELECT schedule_id, attendee_id, kind, observed_us "
                   "FROM arrival_events WHERE event_id = ?1"));
    old->Bind(1, e.event_id());
    ASSIGN_OR_RETURN(bool row, old->Step());
    const bool same = row && old->ColumnText(0) == e.schedule_id() &&
                      old->ColumnText(1) == e.attendee_id() &&
                      old->ColumnInt(2) == e.kind() &&
                      old->ColumnInt(3) == observed_us;
    old->Reset();
    if (!same) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "events[%d].event_id: \"%s\" is already used by a different tag",
          index, e.event_id()));
    }
    result.disposition = v1::DUPLICATE;
    return result;
  }
  result.disposition = v1::ACCEPTED;
  *wrote = true;  // a statement is atomic: nothing was written before this
  if (!conv->first_us[e.kind()]) conv->first_us[e.kind()] = observed_us;
  if (learn) conv->outcome_learned = true;
  if (is_outcome) {
    learnable.seq = db.LastInsertRowid();
    learnable.excluded = excluded;
    result.learnable = std::move(learnable);
    return result;
  }
  // A service tag, the first of its kind for the convocation, measures the
  // span since the first tag of the kind before (the wait since ARRIVED, the
  // service since SERVICE_STARTED) when that was stored first and observed
  // no later.
  const bool started = e.kind() == v1::SERVICE_STARTED;
  if ((started && !started_us) ||
      (e.kind() == v1::SERVICE_ENDED && !ended_us)) {
    ServiceObservation o;
    o.venue_id = std::move(learnable.venue_id);
    o.at_us = observed_us;
    const std::optional<int64_t> since = started ? arrived_us : started_us;
    if (since && *since <= observed_us) {
      if (started) {
        o.arrival_us = *since;
      } else {
        o.duration_min = (observed_us - *since) / 60e6;
      }
    }
    result.service = std::move(o);
  }
  return result;
}

void SqliteStore::RecordEvents(std::vector<v1::ArrivalEvent> events,
                               bool atomic, int64_t now_us,
                               Done<std::vector<EventResult>> done) {
  Submit<std::vector<EventResult>>(
      [this, events = std::move(events), atomic, now_us](
          SqliteDb& db) -> absl::StatusOr<std::vector<EventResult>> {
        std::vector<EventResult> results;
        results.reserve(events.size());
        for (size_t i = 0; i < events.size(); ++i) {
          bool wrote = false;
          absl::StatusOr<EventResult> r =
              StoreEvent(db, events[i], i, now_us, &wrote);
          if (r.ok()) {
            results.push_back(*std::move(r));
            continue;
          }
          // In a non-atomic batch a tag's own rejection (an unknown
          // schedule or attendee, an id reused by another tag: it wrote
          // nothing) does not touch the others; any other error, or one
          // after the tag wrote, fails the whole job, which the writer
          // rolls back.
          const bool own = r.status().code() == absl::StatusCode::kNotFound ||
                           r.status().code() == absl::StatusCode::kAlreadyExists;
          if (atomic || wrote || !own) return r.status();
          EventResult rejected;
          rejected.disposition = v1::REJECTED;
          rejected.status = r.status();
          results.push_back(std::move(rejected));
        }
        return results;
      },
      std::move(done));
}

absl::Status SqliteStore::ReplayLearnable(
    int64_t after_seq, const std::function<void(const LearnableEvent&)>& fn) {
  ReadLease lease(this);
  RETURN_IF_ERROR(lease.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare(
          "SELECT e.seq, e.kind, e.observed_us, c.venue_id, c.attendee_id, "
          "c.convocation_type, c.convocation_us, c.local_hour, "
          "c.local_weekday, c.party_size, c.lead_days, c.features, e.learn, "
          "c.venue_recent, c.attendee_recent, c.venue_level "
          "FROM arrival_events e "
          "JOIN convocations c ON c.seq = e.conv_seq "
          "WHERE e.learn >= 1 AND e.seq > ?1 ORDER BY e.seq"));
  s->Bind(1, after_seq);
  LearnableEvent ev;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    ev.seq = s->ColumnInt(0);
    ev.no_show = s->ColumnInt(1) == v1::NO_SHOW;
    ev.offset_min = (s->ColumnInt(2) - s->ColumnInt(6)) / 60e6;
    ev.venue_id = s->ColumnText(3);
    ev.attendee_id = s->ColumnText(4);
    ev.context.type = static_cast<model::ConvocationType>(s->ColumnInt(5));
    ev.context.local_hour = static_cast<int>(s->ColumnInt(7));
    ev.context.local_weekday = static_cast<int>(s->ColumnInt(8));
    ev.context.party_size = s->ColumnDouble(9);
    ev.context.lead_days = s->ColumnDouble(10);
    ev.context.at_minute = s->ColumnInt(6) / 60000000;
    ev.context.features = DecodeFeatures(s->ColumnText(11));
    ev.context.as_predicted = ReadDynamic(*s, 13);
    const int64_t code = s->ColumnInt(12);
    ev.excluded.reset();
    if (code >= 2) ev.excluded = static_cast<model::Exclusion>(code - 2);
    fn(ev);
  }
  s->Reset();
  return absl::OkStatus();
}

void SqliteStore::InsertReport(StoredReport report, Done<bool> done) {
  Submit<bool>(
      [report = std::move(report)](SqliteDb& db) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(
            Statement * put,
            db.Prepare("INSERT INTO crowd_reports (report_id, venue_id, "
                       "reporter_token, observed_us, received_us, "
                       "queue_length, waited_us, finished, weight, rejection) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
        put->Bind(1, report.report_id)
            .Bind(2, report.venue_id)
            .Bind(3, report.reporter_token)
            .Bind(4, report.observed_us)
            .Bind(5, report.received_us);
        if (report.queue_length) {
          put->Bind(6, int64_t{*report.queue_length});
        } else {
          put->BindNull(6);
        }
        if (report.waited_min) {
          put->Bind(7, static_cast<int64_t>(std::llround(*report.waited_min *
                                                         60e6)));
        } else {
          put->BindNull(7);
        }
        put->Bind(8, int64_t{report.finished ? 1 : 0})
            .Bind(9, report.weight)
            .Bind(10, report.rejection);
        RETURN_IF_ERROR(put->Run());
        return true;
      },
      std::move(done));
}

absl::Status SqliteStore::ReplayCrowd(
    const std::function<void(const StoredReport&)>& report,
    const std::function<void(const ServiceObservation&)>& service) {
  ReadLease lease(this);
  RETURN_IF_ERROR(lease.Acquire());
  // Both logs merged by observation time; within one time, reports first.
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare(
          "WITH firsts AS ("
          " SELECT conv_seq, kind, observed_us AS at_us, MIN(seq) AS seq"
          " FROM arrival_events WHERE kind IN (?1, ?2, ?3)"
          " GROUP BY conv_seq, kind), "
          "f AS ("
          " SELECT conv_seq,"
          "  MAX(CASE kind WHEN ?1 THEN at_us END) AS a_us,"
          "  MAX(CASE kind WHEN ?1 THEN seq END) AS a_seq,"
          "  MAX(CASE kind WHEN ?2 THEN at_us END) AS s_us,"
          "  MAX(CASE kind WHEN ?2 THEN seq END) AS s_seq,"
          "  MAX(CASE kind WHEN ?3 THEN at_us END) AS e_us,"
          "  MAX(CASE kind WHEN ?3 THEN seq END) AS e_seq"
          " FROM firsts GROUP BY conv_seq) "
          "SELECT 0 AS src, observed_us, venue_id, report_id, reporter_token, "
          "received_us, queue_length, waited_us, finished, weight, "
          "rejection, seq FROM crowd_reports "
          "UNION ALL "
          "SELECT 1, f.s_us, c.venue_id, ?2, "
          "CASE WHEN f.a_seq < f.s_seq THEN f.a_us END, "
          "NULL, NULL, NULL, NULL, NULL, NULL, f.s_seq "
          "FROM f JOIN convocations c ON c.seq = f.conv_seq "
          "WHERE f.s_us IS NOT NULL "
          "UNION ALL "
          "SELECT 1, f.e_us, c.venue_id, ?3, "
          "CASE WHEN f.s_seq < f.e_seq THEN f.s_us END, "
          "NULL, NULL, NULL, NULL, NULL, NULL, f.e_seq "
          "FROM f JOIN convocations c ON c.seq = f.conv_seq "
          "WHERE f.e_us IS NOT NULL "
          "ORDER BY 2, 1, 12"));
  s->Bind(1, int64_t{v1::ARRIVED})
      .Bind(2, int64_t{v1::SERVICE_STARTED})
      .Bind(3, int64_t{v1::SERVICE_ENDED});
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (s->ColumnInt(0) == 0) {
      StoredReport r;
      r.observed_us = s->ColumnInt(1);
      r.venue_id = s->ColumnText(2);
      r.report_id = s->ColumnText(3);
      r.reporter_token = s->ColumnText(4);
      r.received_us = s->ColumnInt(5);
      if (!s->ColumnIsNull(6)) {
        r.queue_length = static_cast<int>(s->ColumnInt(6));
      }
      if (!s->ColumnIsNull(7)) r.waited_min = s->ColumnInt(7) / 60e6;
      r.finished = s->ColumnInt(8) != 0;
      r.weight = s->ColumnDouble(9);
      r.rejection = s->ColumnText(10);
      report(r);
      continue;
    }
    ServiceObservation o;
    o.at_us = s->ColumnInt(1);
    o.venue_id = s->ColumnText(2);
    const bool started = s->ColumnInt(3) == v1::SERVICE_STARTED;
    if (!s->ColumnIsNull(4) && s->ColumnInt(4) <= o.at_us) {
      if (started) {
        o.arrival_us = s->ColumnInt(4);
      } else {
        o.duration_min = (o.at_us - s->ColumnInt(4)) / 60e6;
      }
    }
    service(o);
  }
  s->Reset();
  return absl::OkStatus();
}

void SqliteStore::SaveSnapshot(ModelSnapshot snapshot, Done<bool> done) {
  Submit<bool>(
      [snapshot = std::move(snapshot)](SqliteDb& db) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(
            Statement * put,
            db.Prepare("INSERT OR REPLACE INTO model_snapshots "
                       "(id, last_seq, body, create_us) "
                       "VALUES (1, ?1, ?2, ?3)"));
        put->Bind(1, snapshot.last_seq)
            .BindBlob(2, snapshot.bytes)
            .Bind(3, absl::ToUnixMicros(absl::Now()));
        RETURN_IF_ERROR(put->Run());
        return true;
      },
      std::move(done));
}

absl::StatusOr<std::optional<ModelSnapshot>> SqliteStore::LoadSnapshot() {
  ReadLease lease(this);
  RETURN_IF_ERROR(lease.Acquire());
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
