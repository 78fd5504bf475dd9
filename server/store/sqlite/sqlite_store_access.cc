// SqliteStore: API keys, the audit log, the server's secrets, and the
// attendees' personal data (erasure and retention).
#include <future>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"
#include "server/common/crypto.h"
#include "server/store/sqlite/sqlite_rows.h"
#include "server/store/sqlite/sqlite_store.h"

namespace noqueue::server {

using rows::FromMicros;
using rows::ParseSchedule;
using rows::ToMicros;

namespace {

constexpr int kDefaultRetentionDays = 90;
// Schedules purged per job, so that one purge never holds the writer long.
constexpr int kPurgeBatch = 64;

absl::Status InsertAudit(SqliteDb& db, const AuditEntry& a) {
  ASSIGN_OR_RETURN(Statement * put,
                   db.Prepare("INSERT INTO audit_log (at_us, actor, action, "
                              "target, detail) VALUES (?1, ?2, ?3, ?4, ?5)"));
  put->Bind(1, ToMicros(a.at))
      .Bind(2, a.actor)
      .Bind(3, a.action)
      .Bind(4, a.target)
      .Bind(5, a.detail);
  return put->Run();
}

// The key's row and its venues.
absl::StatusOr<std::optional<StoredApiKey>> ReadKey(SqliteDb& db,
                                                    const std::string& key_id) {
  ASSIGN_OR_RETURN(
      Statement * s,
      db.Prepare("SELECT role, description, secret_sha256, create_us, "
                 "created_by, revoke_us FROM api_keys WHERE key_id = ?1"));
  s->Bind(1, key_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<StoredApiKey>();
  StoredApiKey k;
  k.key.set_key_id(key_id);
  k.key.set_role(static_cast<v1::Role>(s->ColumnInt(0)));
  k.key.set_description(s->ColumnText(1));
  k.secret_sha256 = s->ColumnText(2);
  *k.key.mutable_create_time() = ToTimestamp(FromMicros(s->ColumnInt(3)));
  k.key.set_created_by(s->ColumnText(4));
  if (!s->ColumnIsNull(5)) {
    *k.key.mutable_revoke_time() = ToTimestamp(FromMicros(s->ColumnInt(5)));
  }
  s->Reset();
  ASSIGN_OR_RETURN(Statement * v,
                   db.Prepare("SELECT venue_id FROM api_key_venues WHERE "
                              "key_id = ?1 ORDER BY venue_id"));
  v->Bind(1, key_id);
  RETURN_IF_ERROR(v->EachRow(
      [&](const Statement& r) { k.key.add_venue_ids(r.ColumnText(0)); }));
  return std::optional<StoredApiKey>(std::move(k));
}

// Rewrites a stored schedule's body: `keep` may change a convocation, and
// returns false for one to remove.
absl::Status RewriteBody(SqliteDb& db, const std::string& schedule_id,
                         const std::function<bool(v1::Convocation*)>& keep) {
  ASSIGN_OR_RETURN(
      Statement * get,
      db.Prepare("SELECT body FROM schedules WHERE schedule_id = ?1"));
  get->Bind(1, schedule_id);
  ASSIGN_OR_RETURN(bool row, get->Step());
  if (!row) return absl::OkStatus();
  const std::string body = get->ColumnText(0);
  get->Reset();
  ASSIGN_OR_RETURN(v1::Schedule schedule, ParseSchedule(body));
  auto* convocations = schedule.mutable_convocations();
  for (int i = convocations->size() - 1; i >= 0; --i) {
    if (!keep(convocations->Mutable(i))) convocations->DeleteSubrange(i, 1);
  }
  ASSIGN_OR_RETURN(
      Statement * put,
      db.Prepare("UPDATE schedules SET body = ?2 WHERE schedule_id = ?1"));
  put->Bind(1, schedule_id).BindBlob(2, schedule.SerializeAsString());
  return put->Run();
}

}  // namespace

absl::StatusOr<std::vector<StoredApiKey>> SqliteStore::ListApiKeys() {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare("SELECT key_id FROM api_keys ORDER BY "
                                      "create_us, key_id"));
  std::vector<std::string> ids;
  RETURN_IF_ERROR(
      s->EachRow([&](const Statement& r) { ids.push_back(r.ColumnText(0)); }));
  std::vector<StoredApiKey> keys;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<StoredApiKey> k, ReadKey(lease.db(), id));
    if (k) keys.push_back(*std::move(k));
  }
  return keys;
}

void SqliteStore::InsertApiKey(StoredApiKey key, AuditEntry audit,
                               Done<bool> done) {
  writer_->Submit<bool>(
      [key = std::move(key),
       audit = std::move(audit)](SqliteDb& db) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(
            Statement * put,
            db.Prepare("INSERT INTO api_keys (key_id, role, description, "
                       "secret_sha256, create_us, created_by) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
        put->Bind(1, key.key.key_id())
            .Bind(2, int64_t{key.key.role()})
            .Bind(3, key.key.description())
            .BindBlob(4, key.secret_sha256)
            .Bind(5, ToMicros(ToTime(key.key.create_time())))
            .Bind(6, key.key.created_by());
        RETURN_IF_ERROR(put->Run());
        ASSIGN_OR_RETURN(Statement * venue,
                         db.Prepare("INSERT INTO api_key_venues (key_id, "
                                    "venue_id) VALUES (?1, ?2)"));
        for (const std::string& v : key.key.venue_ids()) {
          venue->Reset();
          venue->Bind(1, key.key.key_id()).Bind(2, v);
          RETURN_IF_ERROR(venue->Run());
        }
        RETURN_IF_ERROR(InsertAudit(db, audit));
        return true;
      },
      std::move(done));
}

void SqliteStore::RevokeApiKey(std::string key_id, absl::Time at,
                               AuditEntry audit, Done<StoredApiKey> done) {
  writer_->Submit<StoredApiKey>(
      [key_id = std::move(key_id), at,
       audit = std::move(audit)](SqliteDb& db) -> absl::StatusOr<StoredApiKey> {
        ASSIGN_OR_RETURN(
            Statement * put,
            db.Prepare("UPDATE api_keys SET revoke_us = "
                       "coalesce(revoke_us, ?2) WHERE key_id = ?1"));
        put->Bind(1, key_id).Bind(2, ToMicros(at));
        RETURN_IF_ERROR(put->Run());
        ASSIGN_OR_RETURN(std::optional<StoredApiKey> key, ReadKey(db, key_id));
        if (!key) {
          return absl::NotFoundError(
              absl::StrCat("key_id: no key \"", key_id, "\""));
        }
        RETURN_IF_ERROR(InsertAudit(db, audit));
        return *std::move(key);
      },
      std::move(done));
}

absl::StatusOr<std::vector<AuditEntry>> SqliteStore::ListAudit(
    int64_t after_seq, int limit) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare("SELECT seq, at_us, actor, action, target, detail "
                         "FROM audit_log WHERE seq > ?1 ORDER BY seq "
                         "LIMIT ?2"));
  s->Bind(1, after_seq).Bind(2, int64_t{limit});
  std::vector<AuditEntry> out;
  RETURN_IF_ERROR(s->EachRow([&](const Statement& r) {
    out.push_back({r.ColumnInt(0), FromMicros(r.ColumnInt(1)), r.ColumnText(2),
                   r.ColumnText(3), r.ColumnText(4), r.ColumnText(5)});
  }));
  return out;
}

absl::StatusOr<std::string> SqliteStore::Secret(const std::string& name,
                                                size_t bytes) {
  // Inserted unless there, then read, in one write job: two servers racing
  // on a new file agree on the first one's secret.
  std::promise<absl::StatusOr<std::string>> result;
  writer_->Submit<std::string>(
      [name, fresh = RandomBytes(bytes)](
          SqliteDb& db) -> absl::StatusOr<std::string> {
        ASSIGN_OR_RETURN(Statement * put,
                         db.Prepare("INSERT INTO server_secrets (name, value) "
                                    "VALUES (?1, ?2) ON CONFLICT DO NOTHING"));
        put->Bind(1, name).BindBlob(2, fresh);
        RETURN_IF_ERROR(put->Run());
        ASSIGN_OR_RETURN(
            Statement * get,
            db.Prepare("SELECT value FROM server_secrets WHERE name = ?1"));
        get->Bind(1, name);
        ASSIGN_OR_RETURN(bool row, get->Step());
        if (!row) return absl::InternalError("server secret vanished");
        std::string value = get->ColumnText(0);
        get->Reset();
        return value;
      },
      [&result](absl::StatusOr<std::string> r) {
        result.set_value(std::move(r));
      });
  return result.get_future().get();
}

void SqliteStore::EraseAttendee(std::string venue_id, std::string attendee_id,
                                AuditEntry audit, Done<EraseResult> done) {
  writer_->Submit<EraseResult>(
      [this, venue_id = std::move(venue_id),
       attendee_id = std::move(attendee_id),
       audit = std::move(audit)](SqliteDb& db) -> absl::StatusOr<EraseResult> {
        // The writer's cache names them: forget it.
        ForgetTagged();
        ASSIGN_OR_RETURN(
            Statement * find,
            db.Prepare("SELECT seq, schedule_id FROM convocations WHERE "
                       "venue_id = ?1 AND attendee_id = ?2"));
        find->Bind(1, venue_id).Bind(2, attendee_id);
        std::vector<std::pair<int64_t, std::string>> convocations;
        RETURN_IF_ERROR(find->EachRow([&](const Statement& r) {
          convocations.emplace_back(r.ColumnInt(0), r.ColumnText(1));
        }));
        EraseResult result;
        ASSIGN_OR_RETURN(
            Statement * tags,
            db.Prepare("DELETE FROM arrival_events WHERE conv_seq = ?1"));
        ASSIGN_OR_RETURN(Statement * row,
                         db.Prepare("DELETE FROM convocations WHERE seq = ?1"));
        ASSIGN_OR_RETURN(Statement * live,
                         db.Prepare("DELETE FROM schedule_events WHERE "
                                    "schedule_id = ?1 AND attendee_id = ?2"));
        for (const auto& [seq, schedule_id] : convocations) {
          live->Reset();
          live->Bind(1, schedule_id).Bind(2, attendee_id);
          RETURN_IF_ERROR(live->Run());
          tags->Reset();
          tags->Bind(1, seq);
          RETURN_IF_ERROR(tags->Run());
          result.tags += db.Changes();
          row->Reset();
          row->Bind(1, seq);
          RETURN_IF_ERROR(row->Run());
          result.convocations += db.Changes();
          RETURN_IF_ERROR(RewriteBody(db, schedule_id, [&](v1::Convocation* c) {
            return c->attendee_id() != attendee_id;
          }));
        }
        RETURN_IF_ERROR(ScrubOutbox(db, venue_id, attendee_id));
        AuditEntry entry = audit;
        entry.detail = absl::StrFormat("%d convocations and %d tags removed",
                                       result.convocations, result.tags);
        RETURN_IF_ERROR(InsertAudit(db, entry));
        return result;
      },
      std::move(done));
}

void SqliteStore::PurgeExpired(absl::Time now, Done<PurgeResult> done) {
  writer_->Submit<PurgeResult>(
      [this, now](SqliteDb& db) -> absl::StatusOr<PurgeResult> {
        ForgetTagged();
        ASSIGN_OR_RETURN(
            Statement * due,
            db.Prepare(absl::StrCat(
                "SELECT s.schedule_id, s.venue_id FROM schedules s JOIN "
                "venues v ON v.venue_id = s.venue_id WHERE s.purged_us IS "
                "NULL AND s.window_end_us < ?1 - coalesce(v.retention_days, ",
                kDefaultRetentionDays,
                ") * 86400000000 ORDER BY s.window_end_us LIMIT ?2")));
        due->Bind(1, ToMicros(now)).Bind(2, int64_t{kPurgeBatch});
        std::vector<std::pair<std::string, std::string>> schedules;
        RETURN_IF_ERROR(due->EachRow([&](const Statement& r) {
          schedules.emplace_back(r.ColumnText(0), r.ColumnText(1));
        }));
        PurgeResult result;
        std::map<std::string, bool> venues;
        for (const auto& [schedule_id, venue_id] : schedules) {
          ASSIGN_OR_RETURN(int64_t n,
                           PurgeSchedule(db, venue_id, schedule_id, now));
          result.convocations += n;
          ++result.schedules;
          venues[venue_id] = true;
        }
        // What each purged venue still holds, for the model.
        ASSIGN_OR_RETURN(
            Statement * kept,
            db.Prepare("SELECT DISTINCT attendee_id FROM convocations WHERE "
                       "venue_id = ?1 AND attendee_id NOT LIKE '~%'"));
        for (const auto& [venue_id, unused] : venues) {
          kept->Reset();
          kept->Bind(1, venue_id);
          absl::flat_hash_set<std::string> ids;
          RETURN_IF_ERROR(kept->EachRow(
              [&](const Statement& r) { ids.insert(r.ColumnText(0)); }));
          result.venues.emplace_back(venue_id, std::move(ids));
        }
        return result;
      },
      std::move(done));
}

absl::StatusOr<int64_t> SqliteStore::PurgeSchedule(
    SqliteDb& db, const std::string& venue_id, const std::string& schedule_id,
    absl::Time now) {
  // Each convocation's id becomes "~<row>": unique in its schedule, and not
  // an id any client may send.
  ASSIGN_OR_RETURN(Statement * list,
                   db.Prepare("SELECT seq, attendee_id FROM convocations "
                              "WHERE schedule_id = ?1"));
  list->Bind(1, schedule_id);
  absl::flat_hash_map<std::string, std::string> pseudonym;
  RETURN_IF_ERROR(list->EachRow([&](const Statement& r) {
    pseudonym[r.ColumnText(1)] = absl::StrCat("~", r.ColumnInt(0));
  }));
  ASSIGN_OR_RETURN(
      Statement * tags,
      db.Prepare("UPDATE arrival_events SET attendee_id = '~' || conv_seq "
                 "WHERE conv_seq IN (SELECT seq FROM convocations WHERE "
                 "schedule_id = ?1)"));
  tags->Bind(1, schedule_id);
  RETURN_IF_ERROR(tags->Run());
  ASSIGN_OR_RETURN(
      Statement * live,
      db.Prepare("UPDATE schedule_events SET attendee_id = coalesce((SELECT "
                 "'~' || c.seq FROM convocations c WHERE c.schedule_id = "
                 "schedule_events.schedule_id AND c.attendee_id = "
                 "schedule_events.attendee_id), '~') WHERE schedule_id = ?1 "
                 "AND attendee_id != ''"));
  live->Bind(1, schedule_id);
  RETURN_IF_ERROR(live->Run());
  ASSIGN_OR_RETURN(Statement * convs,
                   db.Prepare("UPDATE convocations SET attendee_id = '~' || "
                              "seq WHERE schedule_id = ?1"));
  convs->Bind(1, schedule_id);
  RETURN_IF_ERROR(convs->Run());
  RETURN_IF_ERROR(RewriteBody(db, schedule_id, [&](v1::Convocation* c) {
    auto it = pseudonym.find(c->attendee_id());
    if (it != pseudonym.end()) c->set_attendee_id(it->second);
    return true;
  }));
  // Pending webhook events would otherwise still carry the real ids.
  for (const auto& entry : pseudonym) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    const std::string& renamed = entry.second;
    RETURN_IF_ERROR(
        RewriteOutbox(db, venue_id, entry.first, [&](v1::WebhookEvent& e) {
          if (!e.has_schedule_event() ||
              e.schedule_event().schedule_id() != schedule_id) {
            return false;  // the same person, on another of the venue's days
          }
          e.mutable_schedule_event()->set_attendee_id(renamed);
          return true;
        }));
  }
  ASSIGN_OR_RETURN(
      Statement * mark,
      db.Prepare("UPDATE schedules SET purged_us = ?2 WHERE schedule_id = ?1"));
  mark->Bind(1, schedule_id).Bind(2, ToMicros(now));
  RETURN_IF_ERROR(mark->Run());
  return static_cast<int64_t>(pseudonym.size());
}

void SqliteStore::TruncateLog(Done<bool> done) {
  writer_->SubmitAlone(
      [](SqliteDb& db) -> absl::Status {
        int log_frames = 0, checkpointed = 0;
        // The checkpointer's own PASSIVE checkpoint, running at that moment,
        // makes this one fail at once with SQLITE_BUSY (its busy handler is
        // for readers and writers, not for another checkpoint): try again
        // for up to 2 s. An erasure is rare; the writer waits meanwhile.
        int rc = SQLITE_BUSY;
        for (int attempt = 0; attempt < 100; ++attempt) {
          rc = sqlite3_wal_checkpoint_v2(db.raw(), nullptr,
                                         SQLITE_CHECKPOINT_TRUNCATE,
                                         &log_frames, &checkpointed);
          if (rc != SQLITE_BUSY) break;
          absl::SleepFor(absl::Milliseconds(20));
        }
        if (rc != SQLITE_OK) {
          return SqliteError(db.raw(), rc, "wal_checkpoint(TRUNCATE)");
        }
        return absl::OkStatus();
      },
      [done = std::move(done)](absl::Status st) {
        if (st.ok()) {
          done(true);
        } else {
          done(st);
        }
      });
}

}  // namespace noqueue::server
