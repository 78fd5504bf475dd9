#include "server/store/sqlite/sqlite_rows.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/byte_codec.h"
#include "proto/base/status_macros.h"
#include "server/common/domain_enums.h"

namespace noqueue::server::rows {

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
namespace {

constexpr char kContextColumns[] =
    "%1$sconvocation_type, %1$sconvocation_us, %1$slocal_hour, "
    "%1$slocal_weekday, %1$sparty_size, %1$slead_days, %1$sfeatures, "
    "%1$svenue_recent, %1$sattendee_recent, %1$svenue_level";

}  // namespace

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

namespace {

constexpr int kConvocationColumns = 13;

// An INSERT of `rows` convocations: a schedule's rows go in few statements
// (each row a statement cost a step, a reset and its VDBE program's setup,
// about as much as the row's own b-tree inserts).
std::string InsertConvocationsSql(int rows) {
  std::string row = "(?";
  for (int c = 1; c < kConvocationColumns; ++c) row += ",?";
  row += ")";
  std::string sql =
      "INSERT INTO convocations (schedule_id, attendee_id, venue_id, "
      "convocation_type, convocation_us, local_hour, local_weekday, "
      "party_size, lead_days, features, venue_recent, attendee_recent, "
      "venue_level) VALUES ";
  for (int r = 0; r < rows; ++r) absl::StrAppend(&sql, r ? "," : "", row);
  return sql;
}

// Rows per statement, largest first (at most 64 x 13 parameters).
constexpr int kChunkRows[] = {64, 16, 4, 1};

const std::string& InsertConvocationsSqlFor(int chunk) {
  static const std::array<std::string, 4>* const sql = [] {
    auto* out = new std::array<std::string, 4>;
    for (size_t i = 0; i < out->size(); ++i) {
      (*out)[i] = InsertConvocationsSql(kChunkRows[i]);
    }
    return out;
  }();
  return (*sql)[chunk];
}

}  // namespace

absl::Status InsertConvocations(SqliteDb& db, const NewSchedule& in) {
  const v1::Schedule& s = in.schedule;
  // Rows in the order of convocation times: tags, which come in about that
  // order, then name rows that are neighbours.
  std::vector<int> order(s.convocations_size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<int64_t> at_us(order.size());
  for (int i : order) at_us[i] = ToMicros(s.convocations(i).convocation_time());
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return at_us[a] < at_us[b]; });
  size_t next = 0;
  for (size_t chunk = 0; chunk < std::size(kChunkRows); ++chunk) {
    const size_t rows = kChunkRows[chunk];
    while (order.size() - next >= rows) {
      ASSIGN_OR_RETURN(Statement * conv,
                       db.Prepare(InsertConvocationsSqlFor(chunk)));
      for (size_t r = 0; r < rows; ++r, ++next) {
        const int i = order[next];
        const v1::Convocation& c = s.convocations(i);
        const model::ArrivalContext& ctx = in.facts[i].context;
        const int at = static_cast<int>(r) * kConvocationColumns;
        conv->BindUncopied(at + 1, s.schedule_id())
            .BindUncopied(at + 2, c.attendee_id())
            .BindUncopied(at + 3, s.venue_id())
            .Bind(at + 4, int64_t{ToWireType(ctx.type)})
            .Bind(at + 5, at_us[i])
            .Bind(at + 6, int64_t{ctx.local_hour})
            .Bind(at + 7, int64_t{ctx.local_weekday})
            .Bind(at + 8, ctx.party_size)
            .Bind(at + 9, ctx.lead_days);
        if (ctx.features.empty()) {
          conv->BindNull(at + 10);
        } else {
          conv->BindBlob(at + 10, EncodeFeatures(ctx.features));
        }
        if (ctx.as_predicted) {
          conv->Bind(at + 11, ctx.as_predicted->venue_recent)
              .Bind(at + 12, ctx.as_predicted->attendee_recent)
              .Bind(at + 13, ctx.as_predicted->venue_level);
        } else {
          conv->BindNull(at + 11).BindNull(at + 12).BindNull(at + 13);
        }
      }
      RETURN_IF_ERROR(conv->Run());
    }
  }
  return absl::OkStatus();
}

const char kVenueColumns[] =
    "venue_id, display_name, convocation_type, time_zone, service_points, "
    "mean_service_us, create_us, update_us, retention_days, service_cv";

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
  if (!s.ColumnIsNull(8)) {
    v.set_personal_data_retention_days(static_cast<int32_t>(s.ColumnInt(8)));
  }
  if (!s.ColumnIsNull(9)) v.set_service_time_cv(s.ColumnDouble(9));
  return v;
}

}  // namespace noqueue::server::rows
