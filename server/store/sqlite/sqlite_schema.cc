#include "server/store/sqlite/sqlite_schema.h"

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"

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
    // named features, the dynamic features as predicted), and why an
    // outcome tag was not learned from: arrival_events.learn holds a
    // LearnCode (sqlite_store.cc).
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
    // 5: one encoding per column: convocations.convocation_type holds the
    // wire's ConvocationType, as venues and schedules do (it held the
    // model's 0-based type).
    R"sql(
UPDATE convocations SET convocation_type = convocation_type + 1;
)sql",
    // 6: access control (API keys scoped to venues, stored as the SHA-256 of
    // their secret; the audit log; the server's secrets), each venue's
    // personal data retention, and when a schedule's attendee ids were
    // purged.
    R"sql(
CREATE TABLE api_keys (
  key_id TEXT PRIMARY KEY,
  role INTEGER NOT NULL,
  description TEXT NOT NULL,
  secret_sha256 BLOB NOT NULL,
  create_us INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoke_us INTEGER
);
CREATE TABLE api_key_venues (
  key_id TEXT NOT NULL REFERENCES api_keys(key_id),
  venue_id TEXT NOT NULL,
  PRIMARY KEY (key_id, venue_id)
) WITHOUT ROWID;
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE TABLE server_secrets (
  name TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
ALTER TABLE venues ADD COLUMN retention_days INTEGER;
ALTER TABLE schedules ADD COLUMN purged_us INTEGER;
CREATE INDEX schedules_to_purge ON schedules(window_end_us)
  WHERE purged_us IS NULL;
)sql",
    // 7: a venue's declared variability of service times.
    R"sql(
ALTER TABLE venues ADD COLUMN service_cv REAL;
)sql",
    // 8: the live day: what happens to each schedule once it runs (tags,
    // re-timings, delays, cancellations, desk changes), in one sequence a
    // watcher resumes from. `body` holds the event's other fields.
    R"sql(
CREATE TABLE schedule_events (
  seq INTEGER PRIMARY KEY,
  schedule_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  attendee_id TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  body BLOB
);
CREATE INDEX schedule_events_by_schedule ON schedule_events(schedule_id, seq);
)sql",
    // 9: a digest of the request each schedule was made for, so that an
    // idempotency key reused for a different request is refused. (IF NOT
    // EXISTS: a development build made it outside the migrations.)
    R"sql(
CREATE TABLE IF NOT EXISTS schedule_requests (
  schedule_id TEXT PRIMARY KEY REFERENCES schedules(schedule_id),
  request_sha256 BLOB NOT NULL
) WITHOUT ROWID;
)sql",
    // 10: webhooks and their outbox. The secret is kept in the clear (the
    // server signs with it; the file already holds the venues' personal
    // data). `kinds` is a bit mask of WebhookEventKind; `next_seq` the last
    // sequence given to one of its events; `wait_above` whether the live wait
    // was last seen above its threshold. Outbox rows are written in the
    // transaction of what caused them and deleted once delivered: what stays
    // is pending (state 0) or dead (state 1). `body` is the WebhookEvent.
    R"sql(
CREATE TABLE webhooks (
  webhook_id TEXT PRIMARY KEY,
  venue_id TEXT NOT NULL,
  url TEXT NOT NULL,
  secret BLOB NOT NULL,
  kinds INTEGER NOT NULL,
  wait_threshold_us INTEGER NOT NULL,
  create_us INTEGER NOT NULL,
  next_seq INTEGER NOT NULL DEFAULT 0,
  wait_above INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhooks_by_venue ON webhooks(venue_id);
CREATE TABLE webhook_outbox (
  webhook_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  venue_id TEXT NOT NULL,
  attendee_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  created_us INTEGER NOT NULL,
  body BLOB NOT NULL,
  state INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_us INTEGER NOT NULL DEFAULT 0,
  first_attempt_us INTEGER,
  last_error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (webhook_id, seq)
) WITHOUT ROWID;
CREATE INDEX webhook_outbox_by_attendee
  ON webhook_outbox(venue_id, attendee_id) WHERE attendee_id <> '';
)sql",
    // 11: a tag's event_id is unique within its schedule, not across the
    // server: one venue's device could otherwise claim an id first and make
    // another venue's genuine tag fail ALREADY_EXISTS. (SQLite cannot drop
    // a column's UNIQUE: the table is rebuilt, seqs kept.)
    R"sql(
CREATE TABLE arrival_events_v11 (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  schedule_id TEXT NOT NULL,
  attendee_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  observed_us INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  received_us INTEGER NOT NULL,
  learn INTEGER NOT NULL,
  conv_seq INTEGER,
  UNIQUE (schedule_id, event_id)
);
INSERT INTO arrival_events_v11 (seq, event_id, schedule_id, attendee_id,
  kind, observed_us, device_id, received_us, learn, conv_seq)
SELECT seq, event_id, schedule_id, attendee_id, kind, observed_us,
  device_id, received_us, learn, conv_seq FROM arrival_events;
DROP TABLE arrival_events;
ALTER TABLE arrival_events_v11 RENAME TO arrival_events;
CREATE INDEX arrival_events_outcomes ON arrival_events(seq) WHERE learn >= 1;
CREATE INDEX arrival_events_by_conv
  ON arrival_events(conv_seq, kind, learn, observed_us);
)sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kMigrationCount == kSchemaVersion);

}  // namespace

absl::StatusOr<int> SchemaVersionOf(SqliteDb& db) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return absl::InternalError("no user_version");
  const int version = static_cast<int>(s->ColumnInt(0));
  s->Reset();  // a pooled connection must not keep a read open
  return version;
}

absl::Status MigrateSchema(SqliteDb& db) {
  RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  auto rollback_on_error = [&](absl::Status st) {
    if (!st.ok()) db.Exec("ROLLBACK").IgnoreError();
    return st;
  };
  absl::StatusOr<int> current = SchemaVersionOf(db);
  if (!current.ok()) return rollback_on_error(current.status());
  if (*current > kSchemaVersion) {
    return rollback_on_error(absl::FailedPreconditionError(
        absl::StrCat("database schema version ", *current,
                     " is newer than this server's (", kSchemaVersion, ")")));
  }
  for (int v = *current; v < kMigrationCount; ++v) {
    absl::Status st = db.Exec(kMigrations[v]);
    if (st.ok()) st = db.Exec(absl::StrCat("PRAGMA user_version = ", v + 1));
    if (!st.ok()) return rollback_on_error(st);
  }
  return db.Exec("COMMIT");
}

}  // namespace noqueue::server
