#include "server/sqlite_store.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/byte_codec.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"
#include "server/domain_enums.h"

namespace noqueue::server {
namespace {

// Times are stored as integer microseconds since the Unix epoch.
int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }
int64_t ToMicros(const google::protobuf::Timestamp& ts) {
  return ToMicros(ToTime(ts));
}

// arrival_events.learn: what the model made of a tag.
enum class LearnCode : int64_t {
  kNotOutcome = 0,  // a service tag
  kLearned = 1,
  kRepeat = 2,  // the Exclusions, stored, counted, not learned
  kFuture = 3,
  kAbsurd = 4,
  kOutOfOrder = 5,
};
static_assert(model::kExclusionCount == 4, "give a new Exclusion a LearnCode");

int64_t LearnCodeOf(bool outcome, std::optional<model::Exclusion> excluded) {
  LearnCode code = LearnCode::kNotOutcome;
  if (outcome && !excluded) code = LearnCode::kLearned;
  if (outcome && excluded) {
    switch (*excluded) {
      case model::Exclusion::kRepeat:
        code = LearnCode::kRepeat;
        break;
      case model::Exclusion::kFuture:
        code = LearnCode::kFuture;
        break;
      case model::Exclusion::kAbsurd:
        code = LearnCode::kAbsurd;
        break;
      case model::Exclusion::kOutOfOrder:
        code = LearnCode::kOutOfOrder;
        break;
    }
  }
  return static_cast<int64_t>(code);
}

// The exclusion a stored outcome's code records (nullopt: learned).
std::optional<model::Exclusion> ExclusionOf(int64_t code) {
  switch (static_cast<LearnCode>(code)) {
    case LearnCode::kRepeat:
      return model::Exclusion::kRepeat;
    case LearnCode::kFuture:
      return model::Exclusion::kFuture;
    case LearnCode::kAbsurd:
      return model::Exclusion::kAbsurd;
    case LearnCode::kOutOfOrder:
      return model::Exclusion::kOutOfOrder;
    case LearnCode::kNotOutcome:
    case LearnCode::kLearned:
      break;
  }
  return std::nullopt;
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

// The columns of a convocation that make its ArrivalContext, in the order
// ReadContext reads them (prefix them with the table's alias and a dot).
constexpr char kContextColumns[] =
    "%1$sconvocation_type, %1$sconvocation_us, %1$slocal_hour, "
    "%1$slocal_weekday, %1$sparty_size, %1$slead_days, %1$sfeatures, "
    "%1$svenue_recent, %1$sattendee_recent, %1$svenue_level";

std::string ContextColumns(const char* alias) {
  return absl::StrFormat(kContextColumns, alias);
}

// The ArrivalContext of a convocation from its kContextColumns, which start
// at column `first`.
model::ArrivalContext ReadContext(const Statement& s, int first) {
  model::ArrivalContext ctx;
  ctx.type = ToModelType(static_cast<v1::ConvocationType>(s.ColumnInt(first)));
  ctx.at = FromMicros(s.ColumnInt(first + 1));
  ctx.local_hour = static_cast<int>(s.ColumnInt(first + 2));
  ctx.local_weekday = static_cast<int>(s.ColumnInt(first + 3));
  ctx.party_size = s.ColumnDouble(first + 4);
  ctx.lead_days = s.ColumnDouble(first + 5);
  ctx.features = DecodeFeatures(s.ColumnText(first + 6));
  if (!s.ColumnIsNull(first + 7)) {
    ctx.as_predicted = model::DynamicFeatures{s.ColumnDouble(first + 7),
                                              s.ColumnDouble(first + 8),
                                              s.ColumnDouble(first + 9)};
  }
  return ctx;
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

// The first row's body column of `s` as a schedule, or nullopt.
absl::StatusOr<std::optional<v1::Schedule>> ScheduleRow(Statement& s) {
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<v1::Schedule>();
  std::string body = s.ColumnText(0);
  s.Reset();  // a pooled connection must not keep a read open
  ASSIGN_OR_RETURN(v1::Schedule schedule, ParseSchedule(body));
  return std::optional<v1::Schedule>(std::move(schedule));
}

absl::Status InsertConvocations(SqliteDb& db, const NewSchedule& in) {
  const v1::Schedule& s = in.schedule;
  ASSIGN_OR_RETURN(
      Statement * conv,
      db.Prepare("INSERT INTO convocations (schedule_id, attendee_id, "
                 "venue_id, convocation_type, convocation_us, "
                 "local_hour, local_weekday, party_size, lead_days, "
                 "features, venue_recent, attendee_recent, venue_level) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                 "?12, ?13)"));
  // Rows in the order of convocation times: tags, which come in about that
  // order, then name rows that are neighbours.
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
        .Bind(4, int64_t{ToWireType(ctx.type)})
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
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, SqliteStoreOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> writer,
                   SqliteDb::Open(path, options.vfs));
  RETURN_IF_ERROR(MigrateSchema(*writer));
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(path, std::move(options), std::move(writer)));
}

SqliteStore::SqliteStore(const std::string& path, SqliteStoreOptions options,
                         std::unique_ptr<SqliteDb> writer)
    : options_(std::move(options)), readers_(path, options_.vfs) {
  writer_ = std::make_unique<SqliteWriter>(
      std::move(writer), path, options_.vfs, [this] { ForgetTagged(); });
}

SqliteStore::~SqliteStore() { Close(); }

void SqliteStore::Close() { writer_->Close(); }

absl::StatusOr<int> SqliteStore::SchemaVersion() {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  return SchemaVersionOf(lease.db());
}

// ------------------------------------------------------------------ venues

namespace {

constexpr char kVenueColumns[] =
    "venue_id, display_name, convocation_type, time_zone, service_points, "
    "mean_service_us, create_us, update_us";

v1::Venue ReadVenue(const Statement& s) {
  v1::Venue v;
  v.set_venue_id(s.ColumnText(0));
  v.set_display_name(s.ColumnText(1));
  v.set_convocation_type(static_cast<v1::ConvocationType>(s.ColumnInt(2)));
  v.set_time_zone(s.ColumnText(3));
  v.set_service_points(static_cast<int32_t>(s.ColumnInt(4)));
  *v.mutable_mean_service_time() =
      ToProtoDuration(absl::Microseconds(s.ColumnInt(5)));
  *v.mutable_create_time() = ToTimestamp(FromMicros(s.ColumnInt(6)));
  *v.mutable_update_time() = ToTimestamp(FromMicros(s.ColumnInt(7)));
  return v;
}

}  // namespace

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
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    venues.push_back(ReadVenue(*s));
  }
  s->Reset();
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
            .Bind(7, ToMicros(created))
            .Bind(8, ToMicros(now));
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

absl::StatusOr<std::optional<v1::Schedule>> SqliteStore::FindScheduleByRequest(
    const std::string& venue_id, const std::string& request_id) {
  ASSIGN_OR_RETURN(SqliteReaderPool::Lease lease, readers_.Acquire());
  ASSIGN_OR_RETURN(Statement * s,
                   lease.db().Prepare("SELECT body FROM schedules WHERE "
                                      "venue_id = ?1 AND request_id = ?2"));
  s->Bind(1, venue_id).Bind(2, request_id);
  return ScheduleRow(*s);
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
  writer_->Submit<v1::Schedule>(
      [in = std::move(schedule)](
          SqliteDb& db) mutable -> absl::StatusOr<v1::Schedule> {
        v1::Schedule& s = in.schedule;
        if (!s.request_id().empty()) {
          ASSIGN_OR_RETURN(
              Statement * find,
              db.Prepare("SELECT body FROM schedules WHERE venue_id = ?1 AND "
                         "request_id = ?2"));
          find->Bind(1, s.venue_id()).Bind(2, s.request_id());
          ASSIGN_OR_RETURN(std::optional<v1::Schedule> first,
                           ScheduleRow(*find));
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
        RETURN_IF_ERROR(InsertConvocations(db, in));
        return std::move(s);
      },
      std::move(done));
}

// -------------------------------------------------------------------- tags

absl::StatusOr<SqliteStore::TaggedConvocation*> SqliteStore::FindConvocation(
    SqliteDb& db, const v1::ArrivalEvent& e, size_t index) {
  const KeyView key(e.schedule_id(), e.attendee_id());
  if (auto it = tagged_.find(key); it != tagged_.end()) return &it->second;
  ASSIGN_OR_RETURN(
      Statement * conv,
      db.Prepare(absl::StrCat("SELECT seq, venue_id, ", ContextColumns(""),
                              " FROM convocations WHERE schedule_id = ?1 AND "
                              "attendee_id = ?2")));
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
  c.seq = conv->ColumnInt(0);
  c.venue_id = conv->ColumnText(1);
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
  while (true) {
    ASSIGN_OR_RETURN(bool row, earlier->Step());
    if (!row) break;
    const int64_t kind = earlier->ColumnInt(0);
    if (!v1::ArrivalKind_IsValid(kind)) continue;
    c.history.Add(
        static_cast<v1::ArrivalKind>(kind), FromMicros(earlier->ColumnInt(2)),
        earlier->ColumnInt(1) == static_cast<int64_t>(LearnCode::kLearned));
  }
  earlier->Reset();
  return absl::OkStatus();
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

absl::StatusOr<EventResult> SqliteStore::StoreEvent(SqliteDb& db,
                                                    const v1::ArrivalEvent& e,
                                                    size_t index,
                                                    absl::Time now,
                                                    bool* wrote) {
  *wrote = false;
  if (e.kind() == v1::ARRIVAL_KIND_UNSPECIFIED ||
      !v1::ArrivalKind_IsValid(e.kind())) {
    return absl::InvalidArgumentError(
        absl::StrFormat("events[%d].kind: must be a known kind", index));
  }
  ASSIGN_OR_RETURN(TaggedConvocation * conv, FindConvocation(db, e, index));
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
                 "ON CONFLICT (event_id) DO NOTHING"));
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
                   "FROM arrival_events WHERE event_id = ?1"));
    old->Bind(1, e.event_id());
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
  if (outcome) {
    LearnableEvent learnable;
    learnable.seq = db.LastInsertRowid();
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
    absl::Time now) {
  std::vector<EventResult> results;
  results.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    bool wrote = false;
    absl::StatusOr<EventResult> r = StoreEvent(db, events[i], i, now, &wrote);
    if (r.ok()) {
      results.push_back(*std::move(r));
      continue;
    }
    // In a non-atomic batch a tag's own rejection (an unknown schedule or
    // attendee, an id reused by another tag: it wrote nothing) does not
    // touch the others; any other error, or one after the tag wrote, fails
    // the whole job, which the writer rolls back.
    const bool own = r.status().code() == absl::StatusCode::kNotFound ||
                     r.status().code() == absl::StatusCode::kAlreadyExists;
    if (atomic || wrote || !own) return r.status();
    EventResult rejected;
    rejected.disposition = v1::REJECTED;
    rejected.status = r.status();
    results.push_back(std::move(rejected));
  }
  return results;
}

void SqliteStore::RecordEvents(std::vector<v1::ArrivalEvent> events,
                               bool atomic, absl::Time now,
                               Done<std::vector<EventResult>> done) {
  writer_->Submit<std::vector<EventResult>>(
      [this, events = std::move(events), atomic, now](SqliteDb& db) {
        return StoreEvents(db, events, atomic, now);
      },
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
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    ev.seq = s->ColumnInt(0);
    ev.no_show = s->ColumnInt(1) == v1::NO_SHOW;
    ev.excluded = ExclusionOf(s->ColumnInt(3));
    ev.venue_id = s->ColumnText(4);
    ev.attendee_id = s->ColumnText(5);
    ev.context = ReadContext(*s, 6);
    ev.offset_min = OffsetMinutes(FromMicros(s->ColumnInt(2)), ev.context.at);
    fn(ev);
  }
  s->Reset();
  return absl::OkStatus();
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
  while (true) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (s->ColumnInt(0) == 0) {
      StoredReport r;
      r.observed = FromMicros(s->ColumnInt(1));
      r.venue_id = s->ColumnText(2);
      r.report_id = s->ColumnText(3);
      r.reporter_token = s->ColumnText(4);
      r.received = FromMicros(s->ColumnInt(5));
      if (!s->ColumnIsNull(6)) {
        r.queue_length = static_cast<int>(s->ColumnInt(6));
      }
      if (!s->ColumnIsNull(7)) r.waited = absl::Microseconds(s->ColumnInt(7));
      r.finished = s->ColumnInt(8) != 0;
      r.weight = s->ColumnDouble(9);
      r.rejection = s->ColumnText(10);
      report(r);
      continue;
    }
    const auto kind = static_cast<v1::ArrivalKind>(s->ColumnInt(3));
    TagHistory before;
    if (!s->ColumnIsNull(4)) {
      before.Add(
          kind == v1::SERVICE_STARTED ? v1::ARRIVED : v1::SERVICE_STARTED,
          FromMicros(s->ColumnInt(4)), false);
    }
    if (std::optional<ServiceObservation> o = MeasureService(
            s->ColumnText(2), kind, FromMicros(s->ColumnInt(1)), before)) {
      service(*o);
    }
  }
  s->Reset();
  return absl::OkStatus();
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
