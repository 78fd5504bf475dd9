// CrowdLoop: owns the live CrowdEstimator, judges every crowd report before
// it is stored, feeds it the services that committed tags measure, and
// restores it on start by replaying the stored reports and tags.
//
// It also keeps one reporter from flooding: past `flood_per_hour` reports
// in a rolling hour, a token's reports are refused (RESOURCE_EXHAUSTED) and
// not stored. Below that, the estimator decides how much each one counts
// (repeats within its interval count zero, without the reporter being told).
#ifndef NOQUEUE_SERVER_CROWD_LOOP_H_
#define NOQUEUE_SERVER_CROWD_LOOP_H_

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "model/crowd_estimator.h"
#include "server/store.h"

namespace noqueue::server {

struct CrowdPolicy {
  int flood_per_hour = 30;
};

// What the planner takes from the live venue.
struct VenueLive {
  std::optional<double> service_min;       // learned mean service minutes
  std::optional<double> recent_wait_min;   // live wait P50, when known
};

class CrowdLoop {
 public:
  explicit CrowdLoop(Store* store, CrowdPolicy policy = {});

  // Replays every stored report and measured service.
  absl::Status Restore();

  // Judges a validated report of `venue` (weight and rejection filled in)
  // and learns from it; RESOURCE_EXHAUSTED when its token floods.
  absl::StatusOr<StoredReport> Judge(const v1::Venue& venue,
                                     StoredReport report);
  // Learns the services measured by committed tags.
  void Observe(const std::vector<EventResult>& results);

  model::VenueLiveStatus Status(const v1::Venue& venue, int64_t now_us);
  VenueLive ForPlanning(const v1::Venue& venue, int64_t now_us);

 private:
  void SetCapacityLocked(const v1::Venue& venue);
  void EnsureVenueLocked(const std::string& venue_id);
  void ApplyLocked(const ServiceObservation& o);
  model::QueueReport ToQueueReport(const StoredReport& r) const;
  // The estimator's clock: venue-local seconds.
  int64_t LocalSeconds(const std::string& venue_id, int64_t unix_us) const;

  Store* const store_;
  const CrowdPolicy policy_;
  std::mutex mu_;
  model::CrowdEstimator estimator_;                  // guarded by mu_
  // Each seen venue's time zone.
  absl::flat_hash_map<std::string, absl::TimeZone> zones_;  // mu_
  // The flood limit's rolling hour: reports in order of receipt, and how
  // many each token has in it.
  std::deque<std::pair<int64_t, std::string>> window_;  // mu_
  absl::flat_hash_map<std::string, int> in_window_;      // mu_
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_CROWD_LOOP_H_
