// The rules of arrival tags, whatever stores them: which outcome tags the
// model may learn from, and what a service tag measures (a wait, a service
// time) from the tags of the same convocation stored before it.
//
// Pure functions: the store decides what was stored before, these decide
// what it means.
//
//   TagHistory before = ...;  // the convocation's earlier tags
//   if (IsOutcome(kind)) excluded = ExcludeFromLearning(policy, kind, ...);
//   else service = MeasureService(venue_id, kind, observed, before);
#ifndef NOQUEUE_SERVER_STORE_TAG_RULES_H_
#define NOQUEUE_SERVER_STORE_TAG_RULES_H_

#include <array>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "model/prequential_metrics.h"
#include "noqueue/v1/arrival.pb.h"

namespace noqueue::server {

// Which outcome tags the model may learn from. The others are stored all
// the same, and counted by reason.
struct LearningPolicy {
  // Arrivals observed further than this from their convocation are absurd.
  absl::Duration max_abs_offset = absl::Hours(12);
  // Tags observed this far after they were received come from a device
  // whose clock is wrong.
  absl::Duration max_future = absl::Minutes(5);
};

// What the tags of one convocation stored so far say: the observed time of
// the first stored tag of each kind, and whether an outcome was learned.
struct TagHistory {
  std::array<std::optional<absl::Time>, v1::ArrivalKind_ARRAYSIZE> first;
  bool outcome_learned = false;

  const std::optional<absl::Time>& First(v1::ArrivalKind kind) const {
    return first[kind];
  }
  // Adds a tag just stored.
  void Add(v1::ArrivalKind kind, absl::Time observed, bool learned) {
    if (!first[kind]) first[kind] = observed;
    outcome_learned = outcome_learned || learned;
  }
};

// ARRIVED and NO_SHOW: the tags that say whether and when the attendee came.
inline bool IsOutcome(v1::ArrivalKind kind) {
  return kind == v1::ARRIVED || kind == v1::NO_SHOW;
}

// arrival - convocation, minutes (the model's unit), negative when early.
double OffsetMinutes(absl::Time observed, absl::Time convocation);

// For an outcome tag of a convocation at `convocation`, observed at
// `observed` and received at `received`, after the tags in `before`:
// nullopt when the model may learn from it, otherwise why not (a second
// outcome of the convocation, a clock running ahead, an arrival
// implausibly far from the convocation), in that order of precedence.
std::optional<model::Exclusion> ExcludeFromLearning(
    const LearningPolicy& policy, v1::ArrivalKind kind, absl::Time observed,
    absl::Time convocation, absl::Time received, const TagHistory& before);

// A service measured by tags of one convocation.
struct ServiceObservation {
  std::string venue_id;
  absl::Time at;  // the tag's observed time
  // SERVICE_STARTED after ARRIVED: when the wait began.
  std::optional<absl::Time> arrival;
  // SERVICE_ENDED after SERVICE_STARTED: how long the service took.
  std::optional<absl::Duration> duration;
};

// What a service tag (SERVICE_STARTED or SERVICE_ENDED) observed at
// `observed` measures, given the convocation's tags stored before it:
// nullopt for other kinds and for a tag that is not the first of its kind.
// The first SERVICE_STARTED measures the wait since the first ARRIVED, the
// first SERVICE_ENDED the service since the first SERVICE_STARTED, when that
// tag was stored before and observed no later; otherwise the observation has
// its time only (a service began or ended, length unknown).
std::optional<ServiceObservation> MeasureService(const std::string& venue_id,
                                                 v1::ArrivalKind kind,
                                                 absl::Time observed,
                                                 const TagHistory& before);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STORE_TAG_RULES_H_
