// SqliteStore: the live day's events (schedule_events).
#include "absl/strings/str_cat.h"
#include "google/protobuf/wire_format_lite.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"
#include "server/store/sqlite/sqlite_rows.h"
#include "server/store/sqlite/sqlite_store.h"

namespace noqueue::server {

using namespace rows;  // NOLINT: the store's row mapping, everywhere here

namespace {

// An event from its row: seq, schedule_id, kind, attendee_id, at_us, body.
absl::StatusOr<v1::ScheduleEvent> ReadScheduleEvent(const Statement& s) {
  v1::ScheduleEvent e;
  if (!s.ColumnIsNull(5) && !e.ParseFromString(s.ColumnText(5))) {
    return absl::DataLossError(
        absl::StrCat("schedule event ", s.ColumnInt(0), " does not parse"));
  }
  e.set_seq(s.ColumnInt(0));
  e.set_schedule_id(s.ColumnText(1));
  e.set_kind(static_cast<v1::ScheduleEventKind>(s.ColumnInt(2)));
  e.set_attendee_id(s.ColumnText(3));
  *e.mutable_at() = ToTimestamp(FromMicros(s.ColumnInt(4)));
  return e;
}

// Whether `e` sets a field that no column holds: whether it encodes to more
// than its columns' fields do. Exact, so that a field added to the message
// later goes to the body without a change here.
bool HasBody(const v1::ScheduleEvent& e) {
  using google::protobuf::internal::WireFormatLite;
  size_t columns = 0;  // each field number is < 16: a one-byte tag
  if (e.seq() != 0) columns += 1 + WireFormatLite::Int64Size(e.seq());
  if (!e.schedule_id().empty()) {
    columns += 1 + WireFormatLite::StringSize(e.schedule_id());
  }
  if (e.kind() != 0) columns += 1 + WireFormatLite::EnumSize(e.kind());
  if (e.has_at()) columns += 1 + WireFormatLite::MessageSize(e.at());
  if (!e.attendee_id().empty()) {
    columns += 1 + WireFormatLite::StringSize(e.attendee_id());
  }
  return e.ByteSizeLong() > columns;
}

}  // namespace

absl::Status SqliteStore::InsertScheduleEvent(SqliteDb& db,
                                              v1::ScheduleEvent& e,
                                              absl::string_view venue_id) {
  ASSIGN_OR_RETURN(
      Statement * put,
      db.Prepare("INSERT INTO schedule_events (schedule_id, kind, "
                 "attendee_id, at_us, body) VALUES (?1, ?2, ?3, ?4, ?5)"));
  put->BindUncopied(1, e.schedule_id())
      .Bind(2, int64_t{e.kind()})
      .BindUncopied(3, e.attendee_id())
      .Bind(4, ToMicros(e.at()));
  // The columns hold what is indexed or common; the body the rest (none for
  // a tag's event: no copy then).
  if (!HasBody(e)) {
    put->BindNull(5);
  } else {
    v1::ScheduleEvent rest = e;
    rest.clear_seq();
    rest.clear_schedule_id();
    rest.clear_kind();
    rest.clear_attendee_id();
    rest.clear_at();
    put->BindBlob(5, rest.SerializeAsString());
  }
  RETURN_IF_ERROR(put->Run());
  e.set_seq(db.LastInsertRowid());
  return QueueScheduleEvent(db, e, venue_id);
}

void SqliteStore::AppendScheduleEvents(
    std::vector<v1::ScheduleEvent> events,
    Done<std::vector<v1::ScheduleEvent>> done) {
  writer_->Submit<std::vector<v1::ScheduleEvent>>(
      [this, events = std::move(events)](SqliteDb& db) mutable
      -> absl::StatusOr<std::vector<v1::ScheduleEvent>> {
        std::vector<v1::ScheduleEvent> stored;
        stored.reserve(events.size());
        for (v1::ScheduleEvent& e : events) {
          // A cancellation is final: a second one (two calls at once, each
          // having seen the attendee expected) is checked here, inside the
          // write, and left out.
          if (e.kind() == v1::EVENT_CANCELLED) {
            ASSIGN_OR_RETURN(
                Statement * again,
                db.Prepare("SELECT count(*) FROM schedule_events WHERE "
                           "schedule_id = ?1 AND attendee_id = ?2 AND "
                           "kind = ?3"));
            again->BindUncopied(1, e.schedule_id())
                .BindUncopied(2, e.attendee_id())
                .Bind(3, int64_t{v1::EVENT_CANCELLED});
            int64_t already = 0;
            RETURN_IF_ERROR(again->EachRow(
                [&](const Statement& r) { already = r.ColumnInt(0); }));
            if (already > 0) continue;
          }
          RETURN_IF_ERROR(InsertScheduleEvent(db, e));
          stored.push_back(e);
          if (e.kind() != v1::EVENT_RETIMED) continue;
          ASSIGN_OR_RETURN(Statement * move,
                           db.Prepare("UPDATE convocations SET convocation_us "
                                      "= ?3 WHERE schedule_id = ?1 AND "
                                      "attendee_id = ?2"));
          move->BindUncopied(1, e.schedule_id())
              .BindUncopied(2, e.attendee_id())
              .Bind(3, ToMicros(e.convocation_time()));
          RETURN_IF_ERROR(move->Run());
          if (db.Changes() != 1) {
            return absl::NotFoundError(absl::StrCat(
                "attendee_id: no convocation of \"", e.attendee_id(),
                "\" in schedule \"", e.schedule_id(), "\""));
          }
          // The writer's cache holds the convocation's old time.
          ForgetTagged();
        }
        return stored;
      },
      std::move(done));
}

absl::StatusOr<std::vector<v1::ScheduleEvent>> SqliteStore::ListScheduleEvents(
    const std::string& schedule_id, int64_t after_seq, int limit) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare("SELECT seq, schedule_id, kind, attendee_id, at_us, "
                         "body FROM schedule_events WHERE schedule_id = ?1 "
                         "AND seq > ?2 ORDER BY seq LIMIT ?3"));
  s->Bind(1, schedule_id).Bind(2, after_seq).Bind(3, int64_t{limit});
  std::vector<v1::ScheduleEvent> events;
  RETURN_IF_ERROR(s->EachRow([&](const Statement& r) -> absl::Status {
    ASSIGN_OR_RETURN(v1::ScheduleEvent e, ReadScheduleEvent(r));
    events.push_back(std::move(e));
    return absl::OkStatus();
  }));
  return events;
}

absl::StatusOr<int64_t> SqliteStore::LastScheduleEventSeq(
    const std::string& schedule_id) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare("SELECT coalesce(max(seq), 0) FROM "
                         "schedule_events WHERE schedule_id = ?1"));
  s->Bind(1, schedule_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  const int64_t last = row ? s->ColumnInt(0) : 0;
  s->Reset();
  return last;
}

absl::StatusOr<std::optional<absl::Time>> SqliteStore::LatestTagTime() {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare(absl::StrCat(
          "SELECT max(at_us) FROM schedule_events WHERE kind BETWEEN ",
          v1::EVENT_ARRIVED, " AND ", v1::EVENT_NO_SHOW)));
  ASSIGN_OR_RETURN(bool row, s->Step());
  std::optional<absl::Time> latest;
  if (row && !s->ColumnIsNull(0)) latest = FromMicros(s->ColumnInt(0));
  s->Reset();
  return latest;
}

absl::StatusOr<std::vector<std::string>> SqliteStore::SchedulesBetween(
    const std::string& venue_id, absl::Time from, absl::Time to) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare("SELECT schedule_id FROM schedules "
                                      "WHERE venue_id = ?1 AND "
                                      "window_end_us > ?2 AND "
                                      "window_start_us < ?3 ORDER BY seq"));
  s->Bind(1, venue_id).Bind(2, ToMicros(from)).Bind(3, ToMicros(to));
  std::vector<std::string> ids;
  RETURN_IF_ERROR(
      s->EachRow([&](const Statement& r) { ids.push_back(r.ColumnText(0)); }));
  return ids;
}

absl::StatusOr<std::vector<Store::ScheduleWindow>>
SqliteStore::SchedulesNotOverAt(absl::Time now) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare("SELECT schedule_id, window_start_us, window_end_us "
                         "FROM schedules WHERE window_end_us > ?1 AND "
                         "purged_us IS NULL ORDER BY seq"));
  s->Bind(1, ToMicros(now));
  std::vector<ScheduleWindow> out;
  RETURN_IF_ERROR(s->EachRow([&](const Statement& r) {
    out.push_back({r.ColumnText(0), FromMicros(r.ColumnInt(1)),
                   FromMicros(r.ColumnInt(2))});
  }));
  return out;
}

}  // namespace noqueue::server
