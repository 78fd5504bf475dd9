// CrowdTracker: owns the live CrowdEstimator, judges every crowd report before
// it is stored, feeds it the services that committed tags measure, and
// restores it on start by replaying the stored reports and tags.
//
// It also keeps one reporter from flooding: past `flood_per_hour` reports
// in a rolling hour, a token's reports are refused (RESOURCE_EXHAUSTED) and
// not stored. Below that, the estimator decides how much each one counts
// (repeats within its interval count zero, without the reporter being told).
//
// It knows every venue (their time zones and declared capacity) from
// Restore and VenueStored, so it never reads the store under its lock.
#ifndef NOQUEUE_SERVER_CORE_CROWD_TRACKER_H_
#define NOQUEUE_SERVER_CORE_CROWD_TRACKER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "model/crowd_estimator.h"
#include "model/service_time_model.h"
#include "server/common/metrics.h"
#include "server/store/store.h"

namespace noqueue::server {

struct CrowdPolicy {
  int flood_per_hour = 30;
};

// What the planner takes from the live venue.
struct VenueLive {
  // Its service times: the mean and variability over the day and by local
  // hour, learned from tags (or the mean from crowd reports, by Little's
  // law), shrunk to what it declares.
  model::ServiceEstimate service;
  std::optional<absl::Duration> recent_wait;  // live wait P50, when known
};

class CrowdTracker {
 public:
  explicit CrowdTracker(Store* store, CrowdPolicy policy = {});

  // Learns every stored venue, then replays every stored report and
  // measured service.
  absl::Status Restore();
  // A venue was created or its settings changed.
  void VenueStored(const v1::Venue& venue);

  // Judges a validated report of `venue` (weight and rejection filled in)
  // and learns from it; RESOURCE_EXHAUSTED when its token floods.
  absl::StatusOr<StoredReport> Judge(const v1::Venue& venue,
                                     StoredReport report);
  // Reports judged, by verdict ("accepted", "rejected", "refused": too many
  // from one reporter) and reason.
  const metrics::CounterFamily& reports_judged() const { return judged_; }
  // Learns the services measured by committed tags.
  void Observe(const std::vector<EventResult>& results);

  model::VenueLiveStatus Status(const v1::Venue& venue, absl::Time now);

  // Called (outside the loop's lock, on the caller's thread) with a venue
  // whose estimate a report or a measured service just changed. Set it
  // before the loop is used; it must not block.
  void SetChangeListener(std::function<void(const std::string&)> listener) {
    listener_ = std::move(listener);
  }
  VenueLive ForPlanning(const v1::Venue& venue, absl::Time now);

 private:
  absl::StatusOr<StoredReport> JudgeLocked(const v1::Venue& venue,
                                           StoredReport report);
  void SetCapacityLocked(const v1::Venue& venue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyLocked(const ServiceObservation& o)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  model::QueueReport ToQueueReport(const StoredReport& r) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The estimator's clock: the venue's wall clock (UTC for a venue it does
  // not know).
  model::LocalTime Local(const std::string& venue_id, absl::Time t) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;
  const CrowdPolicy policy_;
  metrics::CounterFamily judged_{
      "noqueue_crowd_reports_total",
      "Crowd reports judged, by verdict and rejection reason."};
  std::function<void(const std::string&)> listener_;
  mutable absl::Mutex mu_;
  model::CrowdEstimator estimator_ ABSL_GUARDED_BY(mu_);
  model::ServiceTimeModel services_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::TimeZone> zones_ ABSL_GUARDED_BY(mu_);
  // The flood limit's rolling hour: reports in order of receipt, and how
  // many each token has in it.
  std::deque<std::pair<absl::Time, std::string>> window_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> in_window_ ABSL_GUARDED_BY(mu_);
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_CORE_CROWD_TRACKER_H_
