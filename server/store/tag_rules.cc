#include "server/store/tag_rules.h"

namespace noqueue::server {

double OffsetMinutes(absl::Time observed, absl::Time convocation) {
  return absl::ToInt64Microseconds(observed - convocation) / 60e6;
}

std::optional<model::Exclusion> ExcludeFromLearning(
    const LearningPolicy& policy, v1::ArrivalKind kind, absl::Time observed,
    absl::Time convocation, absl::Time received, const TagHistory& before) {
  if (before.outcome_learned) return model::Exclusion::kRepeat;
  if (observed > received + policy.max_future) return model::Exclusion::kFuture;
  if (kind == v1::ARRIVED &&
      absl::AbsDuration(observed - convocation) > policy.max_abs_offset) {
    return model::Exclusion::kAbsurd;
  }
  return std::nullopt;
}

std::optional<ServiceObservation> MeasureService(const std::string& venue_id,
                                                 v1::ArrivalKind kind,
                                                 absl::Time observed,
                                                 const TagHistory& before) {
  if (kind != v1::SERVICE_STARTED && kind != v1::SERVICE_ENDED) {
    return std::nullopt;
  }
  if (before.First(kind)) return std::nullopt;  // a repeat of its kind
  ServiceObservation o;
  o.venue_id = venue_id;
  o.at = observed;
  const bool started = kind == v1::SERVICE_STARTED;
  const std::optional<absl::Time>& since =
      before.First(started ? v1::ARRIVED : v1::SERVICE_STARTED);
  if (since && *since <= observed) {
    if (started) {
      o.arrival = *since;
    } else {
      o.duration = observed - *since;
    }
  }
  return o;
}

}  // namespace noqueue::server
