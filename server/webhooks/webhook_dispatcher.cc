#include "server/webhooks/webhook_dispatcher.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/executor.h"
#include "server/webhooks/webhook_http.h"

namespace noqueue::server {
namespace {

// Pending events read from the store at a time, per endpoint.
constexpr int kBatch = 64;

}  // namespace

WebhookDispatcher::WebhookDispatcher(Store* store, WebhookOptions options)
    : store_(store), options_(options) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

absl::Status WebhookDispatcher::Start() {
  absl::StatusOr<std::vector<StoredWebhook>> all = store_->AllWebhooks();
  if (!all.ok()) return all.status();
  for (const StoredWebhook& w : *all) Added(w);
  store_->SetOutboxListener(
      [this](const std::vector<std::string>& ids) { OutboxChanged(ids); });
  absl::MutexLock lock(&mu_);
  started_ = true;
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] {
      NameThisThread("nq-webhooks");
      DeliveryLoop();
    });
  }
  return absl::OkStatus();
}

void WebhookDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (!started_) return;
    started_ = false;
    stopping_ = true;
    wake_.SignalAll();
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  store_->SetOutboxListener(nullptr);
}

void WebhookDispatcher::Added(const StoredWebhook& webhook) {
  auto e = std::make_shared<Endpoint>();
  e->webhook_id = webhook.webhook.webhook_id();
  e->venue_id = webhook.webhook.venue_id();
  e->url = webhook.webhook.url();
  e->secret = webhook.secret;
  absl::MutexLock lock(&mu_);
  endpoints_.insert_or_assign(e->webhook_id, std::move(e));
  wake_.Signal();
}

void WebhookDispatcher::Removed(const std::string& webhook_id) {
  absl::MutexLock lock(&mu_);
  auto it = endpoints_.find(webhook_id);
  if (it == endpoints_.end()) return;
  it->second->removed = true;
  endpoints_.erase(it);
}

void WebhookDispatcher::OutboxChanged(const std::vector<std::string>& ids) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : ids) {
    auto it = endpoints_.find(id);
    if (it == endpoints_.end()) continue;
    it->second->maybe_pending = true;
    it->second->reread = true;
  }
  wake_.SignalAll();
}

WebhookCounters WebhookDispatcher::counters() {
  WebhookCounters c;
  {
    absl::MutexLock lock(&mu_);
    c = counters_;
  }
  absl::StatusOr<int64_t> pending = store_->PendingWebhookEventCount();
  c.pending = pending.ok() ? *pending : -1;
  return c;
}

absl::Duration WebhookDispatcher::Backoff(int attempts) {
  absl::Duration d = options_.initial_backoff;
  for (int i = 1; i < attempts && d < options_.max_backoff; ++i) d *= 2;
  d = std::min(d, options_.max_backoff);
  // Full jitter would allow retrying at once; half keeps the growth.
  return d * absl::Uniform(jitter_, 0.5, 1.0);
}

std::shared_ptr<WebhookDispatcher::Endpoint> WebhookDispatcher::TakeDue(
    absl::Time now, absl::Time* next) {
  const int per_venue = std::max(1, options_.threads - 1);
  auto flying = [this](const Endpoint& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = in_flight_.find(e.venue_id);
    return it == in_flight_.end() ? 0 : it->second;
  };
  std::shared_ptr<Endpoint> due;
  int due_flying = 0;
  for (auto& [id, e] : endpoints_) {
    if (e->busy || (!e->maybe_pending && e->buffered.empty())) continue;
    const int f = flying(*e);
    if (f >= per_venue) continue;  // taken again when one of them ends
    if (e->retry_at > now) {
      *next = std::min(*next, e->retry_at);
      continue;
    }
    // The venue with the fewest in flight, then the one waiting longest, so
    // that no venue and no endpoint starves.
    if (!due || f < due_flying ||
        (f == due_flying && e->retry_at < due->retry_at)) {
      due = e;
      due_flying = f;
    }
  }
  return due;
}

void WebhookDispatcher::DeliveryLoop() {
  WebhookPoster poster(options_.private_targets);
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const absl::Time now = absl::Now();
    absl::Time next = now + options_.poll_every;
    std::shared_ptr<Endpoint> e = TakeDue(now, &next);
    if (!e) {
      wake_.WaitWithDeadline(&mu_, next);
      continue;
    }
    e->busy = true;
    const std::string venue = e->venue_id;
    ++in_flight_[venue];
    Attempt(*e, poster);
    if (--in_flight_[venue] <= 0) in_flight_.erase(venue);
    e->busy = false;
    wake_.Signal();  // a venue at its share may go on
  }
}

void WebhookDispatcher::Attempt(Endpoint& e, WebhookPoster& poster) {
  if (e.reread || e.buffered.empty()) {
    // Reads what follows what was done; keeps what this process knows of
    // attempts whose record may not be committed yet.
    absl::flat_hash_map<int64_t, OutboxEvent> known;
    for (OutboxEvent& o : e.buffered) {
      known.emplace(o.event.sequence(), std::move(o));
    }
    e.buffered.clear();
    e.reread = false;
    const int64_t after = e.done_through;
    const std::string id = e.webhook_id;
    mu_.Unlock();
    absl::StatusOr<std::vector<OutboxEvent>> rows =
        store_->PendingWebhookEvents(id, after, kBatch);
    mu_.Lock();
    if (!rows.ok()) {
      e.retry_at = absl::Now() + options_.poll_every;
      return;
    }
    if (rows->empty()) {
      if (!e.reread) e.maybe_pending = false;
      return;
    }
    for (OutboxEvent& o : *rows) {
      auto it = known.find(o.event.sequence());
      if (it != known.end() && it->second.attempts > o.attempts) {
        o.attempts = it->second.attempts;
        o.next_attempt = it->second.next_attempt;
        o.first_attempt = it->second.first_attempt;
      }
      e.buffered.push_back(std::move(o));
    }
  }
  if (e.removed || stopping_) return;
  OutboxEvent& head = e.buffered.front();
  if (head.next_attempt > absl::Now()) {
    e.retry_at = head.next_attempt;
    return;
  }
  const v1::WebhookEvent event = head.event;
  const std::string url = e.url;
  const std::string secret = e.secret;
  mu_.Unlock();
  std::string body;
  // A message built by the store always converts.
  (void)google::protobuf::util::MessageToJsonString(event, &body);
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"X-NoQueue-Event-Id", event.event_id()},
      {"X-NoQueue-Signature",
       WebhookSignature(secret, absl::ToUnixSeconds(absl::Now()), body)}};
  const absl::Status st =
      poster.Post(url, body, headers, options_.request_timeout, &stopping_);
  const absl::Time attempted = absl::Now();
  mu_.Lock();
  if (st.code() == absl::StatusCode::kCancelled || e.removed) return;
  // `head` may have moved while unlocked (a re-read): find it again.
  if (e.buffered.empty() ||
      e.buffered.front().event.sequence() != event.sequence()) {
    return;
  }
  OutboxEvent& attempt = e.buffered.front();
  DeliveryOutcome outcome;
  outcome.webhook_id = e.webhook_id;
  outcome.sequence = event.sequence();
  outcome.attempted = attempted;
  if (st.ok()) {
    outcome.kind = DeliveryOutcome::Kind::kDelivered;
    ++counters_.delivered;
  } else {
    ++counters_.failed_attempts;
    ++attempt.attempts;
    if (!attempt.first_attempt) attempt.first_attempt = attempted;
    outcome.error = std::string(st.message());
    if (attempted - attempt.created >= options_.give_up_after) {
      outcome.kind = DeliveryOutcome::Kind::kDead;
      ++counters_.dead;
    } else {
      outcome.kind = DeliveryOutcome::Kind::kRetry;
      attempt.next_attempt = attempted + Backoff(attempt.attempts);
      outcome.next_attempt = attempt.next_attempt;
      e.retry_at = attempt.next_attempt;
    }
  }
  if (outcome.kind != DeliveryOutcome::Kind::kRetry) {
    e.done_through = event.sequence();
    e.buffered.pop_front();
  }
  mu_.Unlock();
  store_->RecordDeliveries({std::move(outcome)}, [](absl::StatusOr<bool>) {});
  mu_.Lock();
}

}  // namespace noqueue::server
