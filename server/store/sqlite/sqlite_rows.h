// How SqliteStore maps domain values to rows and back: times, learn codes,
// named features, a convocation's ArrivalContext, schedule bodies, venues.
// Private to the store's files (and to the bench's floor of the store's
// writes, bench/store_floor.h, which writes the same rows).
#ifndef NOQUEUE_SERVER_STORE_SQLITE_SQLITE_ROWS_H_
#define NOQUEUE_SERVER_STORE_SQLITE_SQLITE_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/arrival_model.h"
#include "model/prequential_metrics.h"
#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"
#include "proto/base/wire_time.h"
#include "server/store/sqlite/sqlite_db.h"
#include "server/store/store.h"

namespace noqueue::server::rows {

// Times are stored as integer microseconds since the Unix epoch.
inline int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }
inline int64_t ToMicros(const google::protobuf::Timestamp& ts) {
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
int64_t LearnCodeOf(bool outcome, std::optional<model::Exclusion> excluded);
// The exclusion a stored outcome's code records (nullopt: learned).
std::optional<model::Exclusion> ExclusionOf(int64_t code);

// Named features as stored: for each, its name's length, the name, and the
// value's 8 bytes.
std::string EncodeFeatures(const std::vector<model::NamedFeature>& features);
std::vector<model::NamedFeature> DecodeFeatures(const std::string& bytes);

// The columns of a convocation that make its ArrivalContext, prefixed with
// `alias` ("c." or ""), in the order ReadContext reads them.
std::string ContextColumns(const char* alias);
// The ArrivalContext of a convocation from its ContextColumns, which start
// at column `first`.
model::ArrivalContext ReadContext(const Statement& s, int first);

v1::Schedule WithoutConvocations(v1::Schedule s);
absl::StatusOr<v1::Schedule> ParseSchedule(const std::string& body);
// The first row's body column of `s` as a schedule, or nullopt.
absl::StatusOr<std::optional<v1::Schedule>> ScheduleRow(Statement& s);
// Stores the convocation rows of a schedule, in the order of their times.
absl::Status InsertConvocations(SqliteDb& db, const NewSchedule& in);

// The venue columns ReadVenue reads, in its order.
extern const char kVenueColumns[];
v1::Venue ReadVenue(const Statement& s);

}  // namespace noqueue::server::rows

#endif  // NOQUEUE_SERVER_STORE_SQLITE_SQLITE_ROWS_H_
