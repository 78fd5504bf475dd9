// WebhookPoster: one HTTP(S) POST of a webhook event with libcurl, on a
// connection kept alive between posts to the same endpoint.
//
//   WebhookPoster poster(/*private_targets=*/false);
//   absl::Status st = poster.Post(url, body, {{"X-NoQueue-Event-Id", id}},
//                                 absl::Seconds(10), &stopping);
//
// Only 2xx answers are deliveries. Redirects are not followed (a 3xx is a
// failure), nor are schemes other than http and https.
#ifndef NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_HTTP_H_
#define NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_HTTP_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace noqueue::server {

// The X-NoQueue-Signature header's value: "t=<unix>,v1=<hex HMAC-SHA256 of
// "<unix>.<body>" keyed by secret>".
std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body);

class WebhookPoster {
 public:
  // `private_targets` false: a connection to an address that is not public
  // (webhook_targets.h), whatever name resolved to it, is refused.
  explicit WebhookPoster(bool private_targets);
  ~WebhookPoster();
  WebhookPoster(const WebhookPoster&) = delete;
  WebhookPoster& operator=(const WebhookPoster&) = delete;

  // POSTs `body` (application/json) with `headers`. OK for a 2xx answer
  // within `timeout`; otherwise UNAVAILABLE with what happened, in words
  // that say no more than the venue needs ("answered 500", "answered 302
  // (redirects are not followed)", "no answer within 10s (the request
  // timeout)", "could not connect", "the TLS handshake failed", "refused: the
  // host's address is not public"): not curl's own text, which names ports
  // and protocols and would make the delivery's outcome a port scanner.
  // CANCELLED when `*stop` became true meanwhile.
  absl::Status Post(
      const std::string& url, const std::string& body,
      const std::vector<std::pair<std::string, std::string>>& headers,
      absl::Duration timeout, const std::atomic<bool>* stop);

 private:
  const bool private_targets_;
  void* curl_;  // CURL*
  // Set by the socket callback when it refused an address.
  bool refused_ = false;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_HTTP_H_
