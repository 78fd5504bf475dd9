// `noqueue key`, `noqueue webhooks` and `noqueue erase`: API keys, a venue's
// webhooks, and the erasure of an attendee's personal data.
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "clients/cli/cli.h"
#include "clients/cli/commands.h"
#include "noqueue/v1/access.pb.h"
#include "noqueue/v1/webhook.pb.h"

ABSL_FLAG(std::string, role, "",
          "key create: ADMIN, VENUE_MANAGER, DEVICE or VIEWER");
ABSL_FLAG(std::string, venues, "", "key create: comma-separated venue ids");
ABSL_FLAG(std::string, description, "", "key create: a note for people");
ABSL_FLAG(std::string, key_id, "", "key revoke: the key's id (key_...)");
ABSL_FLAG(std::string, url, "", "webhooks create: the endpoint (https://...)");
ABSL_FLAG(std::string, kinds, "",
          "webhooks create: comma-separated SCHEDULE_CREATED, "
          "CONVOCATION_RETIMED, CONVOCATION_CANCELLED, ATTENDEE_LATE, "
          "WAIT_CROSSED");
ABSL_FLAG(std::string, secret_file, "",
          "webhooks create: file holding the signing secret (16 to 256 bytes, "
          "surrounding whitespace ignored)");
ABSL_FLAG(double, wait_threshold_min, 0,
          "webhooks create: the live wait, in minutes, whose crossing "
          "WAIT_CROSSED reports");
ABSL_FLAG(std::string, webhook, "", "webhooks delete: the webhook's id");

namespace noqueue::cli {
namespace {

int CreateKey(client::NoQueueClient& client) {
  v1::CreateApiKeyRequest request;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  if (!v1::Role_Parse(absl::GetFlag(FLAGS_role), &role)) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--role: \"", absl::GetFlag(FLAGS_role),
                     "\" is not ADMIN, VENUE_MANAGER, DEVICE or VIEWER")));
  }
  request.set_role(role);
  for (absl::string_view v :
       absl::StrSplit(absl::GetFlag(FLAGS_venues), ',', absl::SkipEmpty())) {
    request.add_venue_ids(std::string(v));
  }
  request.set_description(absl::GetFlag(FLAGS_description));
  auto created = client.CreateApiKey(request);
  if (!created.ok()) return Fail(created.status());
  std::printf("%s\n", Json(*created).c_str());
  std::fprintf(stderr,
               "noqueue: keep the secret now: the server stores only its "
               "hash\n");
  return 0;
}

int CreateWebhook(client::NoQueueClient& client) {
  v1::CreateWebhookRequest request;
  request.set_venue_id(absl::GetFlag(FLAGS_venue));
  request.set_url(absl::GetFlag(FLAGS_url));
  for (absl::string_view k :
       absl::StrSplit(absl::GetFlag(FLAGS_kinds), ',', absl::SkipEmpty())) {
    v1::WebhookEventKind kind = v1::WEBHOOK_EVENT_KIND_UNSPECIFIED;
    const std::string name = absl::StartsWith(k, "WEBHOOK_")
                                 ? std::string(k)
                                 : absl::StrCat("WEBHOOK_", k);
    if (!v1::WebhookEventKind_Parse(name, &kind)) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("--kinds: \"", k, "\" is not a webhook event kind")));
    }
    request.add_kinds(kind);
  }
  auto secret = client::ReadCredentialFile(absl::GetFlag(FLAGS_secret_file));
  if (!secret.ok()) return Fail(secret.status());
  request.set_secret(*secret);
  if (const double m = absl::GetFlag(FLAGS_wait_threshold_min); m > 0) {
    request.mutable_wait_threshold()->set_seconds(
        static_cast<int64_t>(m * 60.0));
  }
  auto created = client.CreateWebhook(request);
  if (!created.ok()) return Fail(created.status());
  std::printf("%s\n", Json(*created).c_str());
  return 0;
}

}  // namespace

int KeyCommand(const Invocation& in) {
  if (in.verb == "create") return CreateKey(*in.client);
  if (in.verb == "list") {
    auto keys = in.client->ListApiKeys();
    if (!keys.ok()) return Fail(keys.status());
    for (const v1::ApiKey& k : *keys) std::printf("%s\n", Json(k).c_str());
    return 0;
  }
  if (in.verb != "revoke") return Usage();
  auto key = in.client->RevokeApiKey(absl::GetFlag(FLAGS_key_id));
  if (!key.ok()) return Fail(key.status());
  std::printf("%s\n", Json(*key).c_str());
  return 0;
}

int WebhooksCommand(const Invocation& in) {
  if (in.verb == "create") return CreateWebhook(*in.client);
  if (in.verb == "list") {
    auto hooks = in.client->ListWebhooks(absl::GetFlag(FLAGS_venue));
    if (!hooks.ok()) return Fail(hooks.status());
    for (const v1::Webhook& h : *hooks) std::printf("%s\n", Json(h).c_str());
    return 0;
  }
  if (in.verb != "delete") return Usage();
  absl::Status st = in.client->DeleteWebhook(absl::GetFlag(FLAGS_webhook));
  return st.ok() ? 0 : Fail(st);
}

int EraseCommand(const Invocation& in) {
  auto erased = in.client->EraseAttendee(absl::GetFlag(FLAGS_venue),
                                         absl::GetFlag(FLAGS_attendee));
  if (!erased.ok()) return Fail(erased.status());
  std::printf("%s\n", Json(*erased).c_str());
  return 0;
}

}  // namespace noqueue::cli
