// WaitCrossings: tells webhooks when a venue's live wait crosses their
// threshold (WEBHOOK_WAIT_CROSSED).
//
// The live wait is derived state: the crowd estimate (CrowdTracker) changes
// with each report and measured service and decays with time, and nothing
// is committed when it does. So a crossing is judged on its own thread right
// after the estimate changes (and every `check_every`, for the decay), and
// its outbox row is written in a transaction of its own, with the side of
// the threshold the webhook is now on. Up when the P50 reaches the
// threshold, down when it falls below 80% of it: a wait hovering around the
// threshold does not flap. An unknown estimate crosses nothing.
#ifndef NOQUEUE_SERVER_WEBHOOKS_WAIT_CROSSINGS_H_
#define NOQUEUE_SERVER_WEBHOOKS_WAIT_CROSSINGS_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/crowd_tracker.h"
#include "server/store/store.h"

namespace noqueue::server {

class WaitCrossings {
 public:
  // The fraction of the threshold the wait must fall below to cross down.
  static constexpr double kDownFraction = 0.8;

  WaitCrossings(Store* store, CrowdTracker* crowd, absl::Duration check_every);
  ~WaitCrossings();
  WaitCrossings(const WaitCrossings&) = delete;
  WaitCrossings& operator=(const WaitCrossings&) = delete;

  // Reads the webhooks with a threshold and starts the thread.
  absl::Status Start();
  void Stop();  // idempotent

  // A webhook was stored / deleted (after the commit).
  void Added(const StoredWebhook& webhook);
  void Removed(const std::string& webhook_id);
  // The crowd estimate of `venue_id` changed (cheap: any thread).
  void VenueChanged(const std::string& venue_id);

 private:
  struct Watch {
    std::string webhook_id;
    absl::Duration threshold;
    bool above = false;
  };
  void Loop();
  // Judges one venue's watches against its estimate now.
  void Check(const std::string& venue_id);

  Store* const store_;
  CrowdTracker* const crowd_;
  const absl::Duration check_every_;
  absl::Mutex mu_;
  absl::CondVar wake_;
  absl::flat_hash_map<std::string, std::vector<Watch>> venues_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> changed_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_WEBHOOKS_WAIT_CROSSINGS_H_
