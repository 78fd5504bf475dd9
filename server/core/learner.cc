#include "server/core/learner.h"

#include <algorithm>
#include <future>

#include "proto/base/status_macros.h"

namespace noqueue::server {

Learner::Learner(Store* store, int snapshot_every)
    : store_(store), snapshot_every_(snapshot_every) {}

void Learner::Apply(model::ArrivalModel& m, const LearnableEvent& e) {
  if (e.excluded) {
    m.CountExclusion(e.venue_id, e.context.type, *e.excluded);
  } else if (e.no_show) {
    m.LearnNoShow(e.venue_id, e.attendee_id, e.context);
  } else {
    m.LearnArrival(e.venue_id, e.attendee_id, e.context, e.offset_min);
  }
}

absl::Status Learner::Restore() {
  ASSIGN_OR_RETURN(std::optional<ModelSnapshot> snap, store_->LoadSnapshot());
  model::ArrivalModel m;
  int64_t last = 0;
  if (snap) {
    // A snapshot that does not decode (corrupted, or of another format) is
    // ignored: the log it summarised is replayed from the start instead.
    if (absl::StatusOr<model::ArrivalModel> decoded =
            model::ArrivalModel::Deserialize(snap->bytes);
        decoded.ok()) {
      m = *std::move(decoded);
      last = snap->last_seq;
    } else {
      restored_from_log_ = true;
    }
  }
  RETURN_IF_ERROR(store_->ReplayLearnable(last, [&](const LearnableEvent& e) {
    Apply(m, e);
    last = e.seq;
  }));
  absl::MutexLock lock(&mu_);
  model_ = std::move(m);
  last_seq_ = last;
  since_snapshot_ = 0;
  return absl::OkStatus();
}

void Learner::Learn(const std::vector<LearnableEvent>& events) {
  if (events.empty()) return;
  std::optional<ModelSnapshot> snapshot;
  {
    absl::MutexLock lock(&mu_);
    for (const LearnableEvent& e : events) {
      if (e.seq <= last_seq_) continue;  // already in the model
      Apply(model_, e);
      last_seq_ = e.seq;
      ++since_snapshot_;
    }
    const size_t every =
        std::max(static_cast<size_t>(std::max(snapshot_every_, 0)),
                 last_snapshot_bytes_ / kSnapshotBytesPerEvent);
    if (snapshot_every_ > 0 && static_cast<size_t>(since_snapshot_) >= every) {
      snapshot = ModelSnapshot{last_seq_, model_.Serialize()};
      last_snapshot_bytes_ = snapshot->bytes.size();
      since_snapshot_ = 0;
    }
  }
  // A failed snapshot costs only replay time at the next start.
  if (snapshot) store_->SaveSnapshot(std::move(*snapshot), [](auto) {});
}

std::vector<model::ArrivalForecast> Learner::Predict(
    const std::string& venue_id, const std::vector<std::string>& attendees,
    const std::vector<model::ArrivalContext>& contexts,
    std::vector<model::DynamicFeatures>* dynamic) const {
  std::vector<model::ArrivalForecast> out;
  out.reserve(attendees.size());
  absl::ReaderMutexLock lock(&mu_);
  for (size_t i = 0; i < attendees.size(); ++i) {
    model::DynamicFeatures used;
    out.push_back(model_.Predict(venue_id, attendees[i], contexts[i], &used));
    if (dynamic) dynamic->push_back(used);
  }
  return out;
}

Learner::VenueEvidence Learner::EvidenceOf(const std::string& venue_id) const {
  absl::ReaderMutexLock lock(&mu_);
  VenueEvidence e;
  if (const model::PrequentialMetrics* m = model_.VenueMetrics(venue_id)) {
    e.arrivals = m->AllTime().arrivals;
    e.outcomes = m->AllTime().outcomes;
  }
  return e;
}

int64_t Learner::events_learned() const {
  absl::ReaderMutexLock lock(&mu_);
  return model_.events_learned();
}

int64_t Learner::last_seq() const {
  absl::ReaderMutexLock lock(&mu_);
  return last_seq_;
}

std::string Learner::SerializedModel() const {
  absl::ReaderMutexLock lock(&mu_);
  return model_.Serialize();
}

void Learner::SnapshotNow(Done<bool> done) {
  ModelSnapshot snapshot;
  {
    absl::MutexLock lock(&mu_);
    snapshot = ModelSnapshot{last_seq_, model_.Serialize()};
    last_snapshot_bytes_ = snapshot.bytes.size();
    since_snapshot_ = 0;
  }
  store_->SaveSnapshot(std::move(snapshot), std::move(done));
}

bool Learner::ForgetAttendee(const std::string& venue_id,
                             const std::string& attendee_id) {
  absl::MutexLock lock(&mu_);
  return model_.ForgetAttendee(venue_id, attendee_id);
}

size_t Learner::ForgetAttendeesExcept(
    const std::string& venue_id, const absl::flat_hash_set<std::string>& keep) {
  absl::MutexLock lock(&mu_);
  return model_.ForgetAttendeesExcept(venue_id, keep);
}

absl::Status Learner::Flush() {
  std::promise<absl::Status> saved;
  SnapshotNow([&](absl::StatusOr<bool> r) { saved.set_value(r.status()); });
  return saved.get_future().get();
}

absl::StatusOr<model::ArrivalModel> Learner::RebuildFromLog(Store* store) {
  model::ArrivalModel m;
  RETURN_IF_ERROR(
      store->ReplayLearnable(0, [&](const LearnableEvent& e) { Apply(m, e); }));
  return m;
}

}  // namespace noqueue::server
