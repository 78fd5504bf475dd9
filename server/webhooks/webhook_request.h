// What a CreateWebhookRequest must be, checked before anything is stored:
// INVALID_ARGUMENT naming the field and the rule.
//
// The URL is https, or http to a loopback address only (webhooks carry
// personal data: in the clear only on this machine), at most 2048
// characters, and not the server's own gRPC port on a local address (the
// server would POST to itself). Unless `private_targets`, its host is not
// "localhost" nor an address literal that is not public
// (webhook_targets.h). Hostnames are not resolved here (resolving would
// block the RPC): the address they resolve to is checked at each
// connection.
#ifndef NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_REQUEST_H_
#define NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_REQUEST_H_

#include <string>

#include "absl/status/status.h"
#include "noqueue/v1/webhook.pb.h"

namespace noqueue::server {

inline constexpr size_t kMinWebhookSecret = 16;
inline constexpr size_t kMaxWebhookSecret = 256;
inline constexpr size_t kMaxWebhookUrl = 2048;

// `own_port`: the port the server's gRPC listens on. `private_targets`:
// --webhook_private_targets.
absl::Status ValidateWebhookUrl(const std::string& url, int own_port,
                                bool private_targets);
absl::Status ValidateCreateWebhook(const v1::CreateWebhookRequest& request,
                                   int own_port, bool private_targets);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_REQUEST_H_
