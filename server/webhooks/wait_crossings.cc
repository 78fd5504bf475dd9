#include "server/webhooks/wait_crossings.h"

#include <utility>

#include "proto/base/wire_time.h"
#include "server/common/executor.h"

namespace noqueue::server {

WaitCrossings::WaitCrossings(Store* store, CrowdTracker* crowd,
                             absl::Duration check_every)
    : store_(store), crowd_(crowd), check_every_(check_every) {}

WaitCrossings::~WaitCrossings() { Stop(); }

absl::Status WaitCrossings::Start() {
  absl::StatusOr<std::vector<StoredWebhook>> all = store_->AllWebhooks();
  if (!all.ok()) return all.status();
  for (const StoredWebhook& w : *all) Added(w);
  absl::MutexLock lock(&mu_);
  running_ = true;
  thread_ = std::thread([this] {
    NameThisThread("nq-crossings");
    Loop();
  });
  return absl::OkStatus();
}

void WaitCrossings::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return;
    running_ = false;
    wake_.Signal();
  }
  thread_.join();
}

void WaitCrossings::Added(const StoredWebhook& webhook) {
  const v1::Webhook& h = webhook.webhook;
  bool wants = false;
  for (int k : h.kinds()) wants = wants || k == v1::WEBHOOK_WAIT_CROSSED;
  const absl::Duration threshold = ToDuration(h.wait_threshold());
  if (!wants || threshold <= absl::ZeroDuration()) return;
  absl::MutexLock lock(&mu_);
  venues_[h.venue_id()].push_back(
      {h.webhook_id(), threshold, webhook.wait_above});
  changed_.insert(h.venue_id());
  wake_.Signal();
}

void WaitCrossings::Removed(const std::string& webhook_id) {
  absl::MutexLock lock(&mu_);
  for (auto it = venues_.begin(); it != venues_.end();) {
    std::vector<Watch>& w = it->second;
    w.erase(std::remove_if(
                w.begin(), w.end(),
                [&](const Watch& x) { return x.webhook_id == webhook_id; }),
            w.end());
    if (w.empty()) {
      venues_.erase(it++);
    } else {
      ++it;
    }
  }
}

void WaitCrossings::VenueChanged(const std::string& venue_id) {
  absl::MutexLock lock(&mu_);
  if (!venues_.contains(venue_id)) return;
  changed_.insert(venue_id);
  wake_.Signal();
}

void WaitCrossings::Loop() {
  absl::Time next_sweep = absl::Now() + check_every_;
  absl::MutexLock lock(&mu_);
  while (running_) {
    if (changed_.empty() && absl::Now() < next_sweep) {
      wake_.WaitWithDeadline(&mu_, next_sweep);
      continue;
    }
    if (absl::Now() >= next_sweep) {
      for (const auto& [venue, watches] : venues_) changed_.insert(venue);
      next_sweep = absl::Now() + check_every_;
    }
    std::vector<std::string> venues(changed_.begin(), changed_.end());
    changed_.clear();
    for (const std::string& v : venues) {
      mu_.Unlock();
      Check(v);
      mu_.Lock();
    }
  }
}

void WaitCrossings::Check(const std::string& venue_id) {
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(venue_id);
  if (!venue.ok()) return;
  const model::VenueLiveStatus status = crowd_->Status(*venue, absl::Now());
  if (!status.known) return;
  const absl::Duration wait = FromMinutes(status.wait_p50_min);
  absl::MutexLock lock(&mu_);
  auto it = venues_.find(venue_id);
  if (it == venues_.end()) return;
  for (Watch& w : it->second) {
    const bool above =
        w.above ? wait >= w.threshold * kDownFraction : wait >= w.threshold;
    if (above == w.above) continue;
    w.above = above;
    v1::WaitCrossing crossing;
    *crossing.mutable_threshold() = ToProtoDuration(w.threshold);
    *crossing.mutable_wait_p50() = ToProtoDuration(wait);
    crossing.set_above(above);
    // Not waited for: the store's callbacks must not block, and a crossing
    // that fails to commit is judged again at the next change.
    store_->AppendWaitCrossing(
        w.webhook_id, std::move(crossing),
        [this, venue_id, id = w.webhook_id](absl::StatusOr<bool> r) {
          if (r.ok()) return;
          absl::MutexLock lock(&mu_);
          auto v = venues_.find(venue_id);
          if (v == venues_.end()) return;
          for (Watch& x : v->second) {
            if (x.webhook_id == id) x.above = !x.above;
          }
        });
  }
}

}  // namespace noqueue::server
