// WebhookDispatcher: delivers the webhooks' outboxes.
//
// Its own threads (never gRPC's nor the store's writer) POST each pending
// event (webhook_http.h), one endpoint at a time per thread, in sequence
// order: an endpoint's next event waits until the one before is delivered or
// dead. A failed attempt is retried after an exponential backoff with jitter
// (initial_backoff doubling up to max_backoff, each drawn in [50%, 100%]);
// an event still undelivered `give_up_after` its creation is dead. Outcomes
// are written back through the store's writer without waiting for them (a
// delivery whose record a crash loses is delivered again: at least once).
//
// Venues share the threads fairly: the next endpoint taken is one of the
// venue with the fewest deliveries in flight, and one venue holds at most
// all threads but one (with more than one), so that endpoints that hang
// hold up their own venue's deliveries, not another's.
//
// It is woken by the store right after a commit changes an outbox, and
// looks for due retries every `poll_every`. A restart finds the outbox as
// it was committed.
//
//   WebhookDispatcher dispatcher(store, options);
//   RETURN_IF_ERROR(dispatcher.Start());
//   ...
//   dispatcher.Stop();  // before the store closes
#ifndef NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_DISPATCHER_H_
#define NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_DISPATCHER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/store/store.h"

namespace noqueue::server {

struct WebhookOptions {
  // Delivery threads (endpoints delivered at the same time).
  int threads = 2;
  // A receiver that has not answered by then has failed the attempt.
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Hours(1);
  // An event still undelivered this long after it was made is dead.
  absl::Duration give_up_after = absl::Hours(24);
  // How often due retries are looked for.
  absl::Duration poll_every = absl::Seconds(1);
  // How often venues' live waits are compared with the thresholds even
  // without new reports (the estimate decays with time).
  absl::Duration wait_check_every = absl::Seconds(30);
  int max_per_venue = 20;
  // Deliveries to loopback, private and link-local addresses too
  // (webhook_targets.h); off: public addresses only.
  bool private_targets = false;
};

// What the dispatcher has done since it started, for metrics.
struct WebhookCounters {
  int64_t delivered = 0;
  int64_t failed_attempts = 0;  // retried or dead
  int64_t dead = 0;
  int64_t pending = 0;  // the backlog in the store, all webhooks (-1: unread)
};

class WebhookDispatcher {
 public:
  WebhookDispatcher(Store* store, WebhookOptions options);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Reads the webhooks, listens to the store's outbox and starts delivering.
  absl::Status Start();
  // Stops delivering (an attempt in flight is abandoned, not counted) and
  // stops listening. Idempotent.
  void Stop();

  // A webhook was stored / deleted (after the commit).
  void Added(const StoredWebhook& webhook);
  void Removed(const std::string& webhook_id);

  WebhookCounters counters();
  const WebhookOptions& options() const { return options_; }

 private:
  struct Endpoint {
    std::string webhook_id;
    std::string venue_id;
    std::string url;
    std::string secret;
    std::deque<OutboxEvent> buffered;  // the next pending events, in order
    int64_t done_through = 0;          // delivered or dead, in memory
    absl::Time retry_at = absl::InfinitePast();
    bool busy = false;          // a thread works on it
    bool maybe_pending = true;  // the outbox may hold more than buffered
    bool reread = false;        // the outbox changed: buffered is stale
    bool removed = false;
  };

  // The store's outbox listener.
  void OutboxChanged(const std::vector<std::string>& webhook_ids);
  void DeliveryLoop();
  // An endpoint with work due at `now` (marked busy), or null; *next is
  // when one will be due at the earliest.
  std::shared_ptr<Endpoint> TakeDue(absl::Time now, absl::Time* next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Attempts the endpoint's next event when it is due (reading the next
  // ones first when none is buffered); unlocks mu_ meanwhile.
  void Attempt(Endpoint& e, class WebhookPoster& poster)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration Backoff(int attempts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;
  const WebhookOptions options_;
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  absl::CondVar wake_;
  absl::flat_hash_map<std::string, std::shared_ptr<Endpoint>> endpoints_
      ABSL_GUARDED_BY(mu_);
  // Deliveries in flight per venue (absent: none).
  absl::flat_hash_map<std::string, int> in_flight_ ABSL_GUARDED_BY(mu_);
  absl::BitGen jitter_ ABSL_GUARDED_BY(mu_);
  WebhookCounters counters_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_DISPATCHER_H_
