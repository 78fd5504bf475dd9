// Learner: owns the live ArrivalModel, feeds it every committed tag in
// commit order, snapshots it to the store, and restores it on start from the
// last snapshot plus the event log after it.
//
// The event log is the truth: RebuildFromLog replays all of it into a fresh
// model, and must give the same model as the live one (tests check it).
#ifndef NOQUEUE_SERVER_CORE_LEARNER_H_
#define NOQUEUE_SERVER_CORE_LEARNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "model/arrival_model.h"
#include "server/store/store.h"

namespace noqueue::server {

class Learner {
 public:
  // Snapshots every `snapshot_every` learned events (0: only on Flush).
  Learner(Store* store, int snapshot_every);

  // Loads the last snapshot and replays the events after it; when the
  // snapshot does not decode, replays the whole log (restored_from_log()).
  absl::Status Restore();
  bool restored_from_log() const { return restored_from_log_; }

  // Learns committed events. Callers pass events in seq order (the store's
  // writer thread does).
  void Learn(const std::vector<LearnableEvent>& events);

  // Predicts many attendees of one venue under one lock. With `dynamic`,
  // also returns the dynamic features each prediction used, to be stored
  // with the convocation and handed back when its outcome is learned.
  std::vector<model::ArrivalForecast> Predict(
      const std::string& venue_id, const std::vector<std::string>& attendees,
      const std::vector<model::ArrivalContext>& contexts,
      std::vector<model::DynamicFeatures>* dynamic = nullptr) const;

  // Runs `read` on the model under the shared lock and returns its result.
  template <typename Read>
  auto WithModel(Read read) const {
    absl::ReaderMutexLock lock(&mu_);
    return read(model_);
  }

  // What the model has learned of a venue: arrivals and outcomes (all
  // time); zeros for a venue it has not seen.
  struct VenueEvidence {
    double arrivals = 0.0;
    double outcomes = 0.0;
  };
  VenueEvidence EvidenceOf(const std::string& venue_id) const;

  int64_t events_learned() const;
  int64_t last_seq() const;
  std::string SerializedModel() const;

  // Writes a snapshot now and waits for it to commit.
  absl::Status Flush();
  // Writes a snapshot now; `done` runs once it has committed (on the
  // store's completion thread: what may call it cannot wait for it).
  void SnapshotNow(Done<bool> done);

  // Personal data: see ArrivalModel::ForgetAttendee / ForgetAttendeesExcept.
  bool ForgetAttendee(const std::string& venue_id,
                      const std::string& attendee_id);
  size_t ForgetAttendeesExcept(const std::string& venue_id,
                               const absl::flat_hash_set<std::string>& keep);

  // A fresh model fed the whole event log.
  static absl::StatusOr<model::ArrivalModel> RebuildFromLog(Store* store);

 private:
  static void Apply(model::ArrivalModel& m, const LearnableEvent& e);

  Store* const store_;
  const int snapshot_every_;
  bool restored_from_log_ = false;
  mutable absl::Mutex mu_;
  model::ArrivalModel model_ ABSL_GUARDED_BY(mu_);
  int64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int since_snapshot_ ABSL_GUARDED_BY(mu_) = 0;
  // Size of the last snapshot: a big model is snapshotted less often, so
  // that snapshots cost at most kSnapshotBytesPerEvent per learned event
  // (and a restart replays at most that many more events).
  size_t last_snapshot_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  static constexpr size_t kSnapshotBytesPerEvent = 256;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_CORE_LEARNER_H_
