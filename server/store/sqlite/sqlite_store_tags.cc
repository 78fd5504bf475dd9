#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"
#include "server/common/domain_enums.h"
#include "server/store/sqlite/sqlite_rows.h"
#include "server/store/sqlite/sqlite_store.h"

namespace noqueue::server {

using namespace rows;  // NOLINT: the store's row mapping, everywhere here

// -------------------------------------------------------------------- tags

absl::StatusOr<SqliteStore::TaggedConvocation*> SqliteStore::FindConvocation(
    SqliteDb& db, const v1::ArrivalEvent& e, size_t index,
    const VenueScope& scope) {
  // For a caller scoped to some venues, an unknown schedule and another
  // venue's look the same.
  const auto not_theirs = [index] {
    return absl::PermissionDeniedError(absl::StrFormat(
        "events[%d].schedule_id: not a schedule of this credential's venues",
        index));
  };
  const KeyView key(e.schedule_id(), e.attendee_id());
  if (auto it = tagged_.find(key); it != tagged_.end()) {
    if (!scope.Allows(it->second.venue_id)) return not_theirs();
    return &it->second;
  }
  static const std::string* const kSelect = new std::string(
      absl::StrCat("SELECT seq, venue_id, ", ContextColumns(""),
                   " FROM convocations WHERE schedule_id = ?1 AND "
                   "attendee_id = ?2"));
  ASSIGN_OR_RETURN(Statement * conv, db.Prepare(*kSelect));
  conv->BindUncopied(1, e.schedule_id()).BindUncopied(2, e.attendee_id());
  ASSIGN_OR_RETURN(bool found, conv->Step());
  if (!found) {
    conv->Reset();
    ASSIGN_OR_RETURN(
        Statement * sched,
        db.Prepare("SELECT venue_id FROM schedules WHERE schedule_id = ?1"));
    sched->Bind(1, e.schedule_id());
    ASSIGN_OR_RETURN(bool schedule_exists, sched->Step());
    const std::string venue = schedule_exists ? sched->ColumnText(0) : "";
    sched->Reset();
    if (!scope.all && (!schedule_exists || !scope.Allows(venue))) {
      return not_theirs();
    }
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
  c.seq = conv->ColumnInt(0);
  c.venue_id = conv->ColumnText(1);
  if (!scope.Allows(c.venue_id)) {
    conv->Reset();
    return not_theirs();
  }
  c.context = ReadContext(*conv, 2);
  c.convocation = c.context.at;
  conv->Reset();
  RETURN_IF_ERROR(ReadHistory(db, c));
  TaggedConvocation* out = nullptr;
  RememberTagged(e, std::move(c), &out);
  return out;
}

absl::Status SqliteStore::ReadHistory(SqliteDb& db, TaggedConvocation& c) {
  ASSIGN_OR_RETURN(
      Statement * earlier,
      db.Prepare("SELECT kind, learn, observed_us FROM arrival_events "
                 "WHERE conv_seq = ?1 ORDER BY seq"));
  earlier->Bind(1, c.seq);
  return earlier->EachRow([&](const Statement& r) {
    const int64_t kind = r.ColumnInt(0);
    if (!v1::ArrivalKind_IsValid(kind)) return;
    c.history.Add(static_cast<v1::ArrivalKind>(kind),
                  FromMicros(r.ColumnInt(2)),
                  r.ColumnInt(1) == static_cast<int64_t>(LearnCode::kLearned));
  });
}

void SqliteStore::RememberTagged(const v1::ArrivalEvent& e, TaggedConvocation c,
                                 TaggedConvocation** out) {
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
  *out = &it->second;
}

absl::StatusOr<EventResult> SqliteStore::StoreEvent(
    SqliteDb& db, const v1::ArrivalEvent& e, size_t index, absl::Time now,
    const VenueScope& scope, bool* wrote) {
  *wrote = false;
  if (e.kind() == v1::ARRIVAL_KIND_UNSPECIFIED ||
      !v1::ArrivalKind_IsValid(e.kind())) {
    return absl::InvalidArgumentError(
        absl::StrFormat("events[%d].kind: must be a known kind", index));
  }
  ASSIGN_OR_RETURN(TaggedConvocation * conv,
                   FindConvocation(db, e, index, scope));
  const absl::Time observed = ToTime(e.observed_at());
  const bool outcome = IsOutcome(e.kind());
  std::optional<model::Exclusion> excluded;
  if (outcome) {
    excluded = ExcludeFromLearning(options_.policy, e.kind(), observed,
                                   conv->convocation, now, conv->history);
  }
  ASSIGN_OR_RETURN(
      Statement * put,
      db.Prepare("INSERT INTO arrival_events (event_id, schedule_id, "
                 "attendee_id, kind, observed_us, device_id, received_us, "
                 "learn, conv_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                 "ON CONFLICT (schedule_id, event_id) DO NOTHING"));
  put->BindUncopied(1, e.event_id())
      .BindUncopied(2, e.schedule_id())
      .BindUncopied(3, e.attendee_id())
      .Bind(4, int64_t{e.kind()})
      .Bind(5, ToMicros(observed))
      .BindUncopied(6, e.device_id())
      .Bind(7, ToMicros(now))
      .Bind(8, LearnCodeOf(outcome, excluded))
      .Bind(9, conv->seq);
  RETURN_IF_ERROR(put->Run());
  EventResult result;
  if (db.Changes() == 0) {
    // The id is taken: a harmless retry, or a different tag reusing it.
    ASSIGN_OR_RETURN(
        Statement * old,
        db.Prepare("SELECT schedule_id, attendee_id, kind, observed_us "
                   "FROM arrival_events WHERE schedule_id = ?2 AND "
                   "event_id = ?1"));
    old->Bind(1, e.event_id()).Bind(2, e.schedule_id());
    ASSIGN_OR_RETURN(bool row, old->Step());
    const bool same = row && old->ColumnText(0) == e.schedule_id() &&
                      old->ColumnText(1) == e.attendee_id() &&
                      old->ColumnInt(2) == e.kind() &&
                      old->ColumnInt(3) == ToMicros(observed);
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
  const int64_t tag_seq = db.LastInsertRowid();
  v1::ScheduleEvent live;
  live.set_schedule_id(e.schedule_id());
  live.set_kind(ToLiveEvent(e.kind()));
  live.set_attendee_id(e.attendee_id());
  *live.mutable_at() = e.observed_at();
  RETURN_IF_ERROR(InsertScheduleEvent(db, live, conv->venue_id));
  result.live = std::move(live);
  if (outcome) {
    LearnableEvent learnable;
    learnable.seq = tag_seq;
    learnable.venue_id = conv->venue_id;
    learnable.attendee_id = e.attendee_id();
    learnable.context = conv->context;
    learnable.no_show = e.kind() == v1::NO_SHOW;
    learnable.offset_min = OffsetMinutes(observed, conv->convocation);
    learnable.excluded = excluded;
    result.learnable = std::move(learnable);
  } else {
    result.service =
        MeasureService(conv->venue_id, e.kind(), observed, conv->history);
  }
  conv->history.Add(e.kind(), observed, outcome && !excluded);
  return result;
}

absl::StatusOr<std::vector<EventResult>> SqliteStore::StoreEvents(
    SqliteDb& db, const std::vector<v1::ArrivalEvent>& events, bool atomic,
    absl::Time now, const VenueScope& scope) {
  std::vector<EventResult> results;
  results.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    bool wrote = false;
    absl::StatusOr<EventResult> r =
        StoreEvent(db, events[i], i, now, scope, &wrote);
    if (r.ok()) {
      results.push_back(*std::move(r));
      continue;
    }
    // In a non-atomic batch a tag's own rejection (an unknown schedule or
    // attendee, another venue's schedule, an id reused by another tag: it
    // wrote nothing) does not touch the others; any other error, or one
    // after the tag wrote, fails the whole job, which the writer rolls back.
    const absl::StatusCode code = r.status().code();
    const bool own = code == absl::StatusCode::kNotFound ||
                     code == absl::StatusCode::kAlreadyExists ||
                     code == absl::StatusCode::kPermissionDenied;
    if (atomic || wrote || !own) return r.status();
    EventResult rejected;
    rejected.disposition = v1::REJECTED;
    rejected.status = r.status();
    results.push_back(std::move(rejected));
  }
  return results;
}

void SqliteStore::RecordEvents(std::vector<v1::ArrivalEvent> events,
                               bool atomic, absl::Time now, VenueScope scope,
                               Done<std::vector<EventResult>> done) {
  writer_->Submit<std::vector<EventResult>>(
      [this, events = std::move(events), atomic, now, scope = std::move(scope)](
          SqliteDb& db) { return StoreEvents(db, events, atomic, now, scope); },
      std::move(done));
}

absl::Status SqliteStore::ReplayLearnable(
    int64_t after_seq, const std::function<void(const LearnableEvent&)>& fn) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(
      Statement * s,
      lease.db().Prepare(absl::StrCat(
          "SELECT e.seq, e.kind, e.observed_us, e.learn, c.venue_id, "
          "c.attendee_id, ",
          ContextColumns("c."),
          " FROM arrival_events e JOIN convocations c ON c.seq = e.conv_seq "
          "WHERE e.learn >= 1 AND e.seq > ?1 ORDER BY e.seq")));
  s->Bind(1, after_seq);
  LearnableEvent ev;
  return s->EachRow([&](const Statement& r) {
    ev.seq = r.ColumnInt(0);
    ev.no_show = r.ColumnInt(1) == v1::NO_SHOW;
    ev.excluded = ExclusionOf(r.ColumnInt(3));
    ev.venue_id = r.ColumnText(4);
    ev.attendee_id = r.ColumnText(5);
    ev.context = ReadContext(r, 6);
    ev.offset_min = OffsetMinutes(FromMicros(r.ColumnInt(2)), ev.context.at);
    fn(ev);
  });
}

// ----------------------------------------------------------- crowd reports

void SqliteStore::InsertReport(StoredReport report, Done<bool> done) {
  writer_->Submit<bool>(
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
            .Bind(4, ToMicros(report.observed))
            .Bind(5, ToMicros(report.received));
        if (report.queue_length) {
          put->Bind(6, int64_t{*report.queue_length});
        } else {
          put->BindNull(6);
        }
        if (report.waited) {
          put->Bind(7, absl::ToInt64Microseconds(*report.waited));
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
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  // Both logs merged by observation time; within one time, reports first.
  // Service tags: each convocation's first SERVICE_STARTED and first
  // SERVICE_ENDED (by storage order), with the first tag of the kind they
  // measure from when it was stored before them; MeasureService decides.
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
  return s->EachRow([&](const Statement& row) {
    if (row.ColumnInt(0) == 0) {
      StoredReport r;
      r.observed = FromMicros(row.ColumnInt(1));
      r.venue_id = row.ColumnText(2);
      r.report_id = row.ColumnText(3);
      r.reporter_token = row.ColumnText(4);
      r.received = FromMicros(row.ColumnInt(5));
      if (!row.ColumnIsNull(6)) {
        r.queue_length = static_cast<int>(row.ColumnInt(6));
      }
      if (!row.ColumnIsNull(7)) r.waited = absl::Microseconds(row.ColumnInt(7));
      r.finished = row.ColumnInt(8) != 0;
      r.weight = row.ColumnDouble(9);
      r.rejection = row.ColumnText(10);
      report(r);
      return;
    }
    const auto kind = static_cast<v1::ArrivalKind>(row.ColumnInt(3));
    TagHistory before;
    if (!row.ColumnIsNull(4)) {
      before.Add(
          kind == v1::SERVICE_STARTED ? v1::ARRIVED : v1::SERVICE_STARTED,
          FromMicros(row.ColumnInt(4)), false);
    }
    if (std::optional<ServiceObservation> o = MeasureService(
            row.ColumnText(2), kind, FromMicros(row.ColumnInt(1)), before)) {
      service(*o);
    }
  });
}

}  // namespace noqueue::server
