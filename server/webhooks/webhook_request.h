// What a CreateWebhookRequest must be, checked before anything is stored:
// INVALID_ARGUMENT naming the field and the rule.
//
// The URL is https, or http to a loopback address only (webhooks carry
// personal data: in the clear only on this machine), at most 2048
// characters, and not the server's own gRPC port on a local address (the
// server would POST to itself). Hostnames other than "localhost" and this
// machine's name are not resolved here: resolving would block the RPC.
#ifndef NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_REQUEST_H_
#define NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_REQUEST_H_

#include <string>

#include "absl/status/status.h"
#include "noqueue/v1/webhook.pb.h"

namespace noqueue::server {

inline constexpr size_t kMinWebhookSecret = 16;
inline constexpr size_t kMaxWebhookSecret = 256;
inline constexpr size_t kMaxWebhookUrl = 2048;

// `own_port`: the port the server's gRPC listens on.
absl::Status ValidateWebhookUrl(const std::string& url, int own_port);
absl::Status ValidateCreateWebhook(const v1::CreateWebhookRequest& request,
                                   int own_port);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_REQUEST_H_
