#include "server/api/webhook_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "proto/base/wire_time.h"
#include "server/api/unary_call.h"
#include "server/common/crypto.h"
#include "server/webhooks/webhook_request.h"
#include "server/wire/validation.h"

namespace noqueue::server {

grpc::ServerUnaryReactor* WebhookServiceImpl::CreateWebhook(
    grpc::CallbackServerContext* ctx, const v1::CreateWebhookRequest* request,
    v1::Webhook* response) {
  UnaryCall call(ctx, *access_, Rpc::kCreateWebhook, *request,
                 request->venue_id());
  if (!call.admitted()) return call.reactor();
  absl::StatusOr<v1::Venue> venue =
      RequestedVenue(*store_, request->venue_id());
  if (!venue.ok()) return call.Finish(venue.status());
  if (absl::Status st = ValidateCreateWebhook(
          *request, own_port_.load(), dispatcher_->options().private_targets);
      !st.ok()) {
    return call.Finish(st);
  }

  StoredWebhook w;
  v1::Webhook& h = w.webhook;
  h.set_webhook_id(absl::StrCat("wh_", Hex(RandomBytes(6))));
  h.set_venue_id(request->venue_id());
  h.set_url(request->url());
  std::vector<int> kinds(request->kinds().begin(), request->kinds().end());
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  for (int k : kinds) h.add_kinds(static_cast<v1::WebhookEventKind>(k));
  if (request->has_wait_threshold()) {
    *h.mutable_wait_threshold() = request->wait_threshold();
  }
  // As stored: whole microseconds.
  *h.mutable_create_time() =
      ToTimestamp(absl::FromUnixMicros(absl::ToUnixMicros(absl::Now())));
  w.secret = request->secret();
  store_->InsertWebhook(
      w, dispatcher_->options().max_per_venue,
      [this, w, reactor = call.reactor(), response](absl::StatusOr<bool> r) {
        if (r.ok()) {
          dispatcher_->Added(w);
          crossings_->Added(w);
          *response = w.webhook;
        }
        reactor->Finish(ToGrpcStatus(r.status()));
      });
  return call.reactor();
}

grpc::ServerUnaryReactor* WebhookServiceImpl::ListWebhooks(
    grpc::CallbackServerContext* ctx, const v1::ListWebhooksRequest* request,
    v1::ListWebhooksResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kListWebhooks, *request,
                 request->venue_id());
  if (!call.admitted()) return call.reactor();
  // An unknown venue is NOT_FOUND, as for CreateWebhook.
  absl::StatusOr<v1::Venue> venue =
      RequestedVenue(*store_, request->venue_id());
  if (!venue.ok()) return call.Finish(venue.status());
  absl::StatusOr<std::vector<v1::Webhook>> hooks =
      store_->ListWebhooks(request->venue_id());
  if (!hooks.ok()) return call.Finish(hooks.status());
  for (v1::Webhook& h : *hooks) *response->add_webhooks() = std::move(h);
  return call.Finish(absl::OkStatus());
}

grpc::ServerUnaryReactor* WebhookServiceImpl::DeleteWebhook(
    grpc::CallbackServerContext* ctx, const v1::DeleteWebhookRequest* request,
    v1::DeleteWebhookResponse* /*response*/) {
  UnaryCall call(ctx, *access_, Rpc::kDeleteWebhook, *request);
  if (!call.admitted()) return call.reactor();
  absl::Status st = ValidateId("webhook_id", request->webhook_id());
  if (!st.ok()) return call.Finish(st);
  absl::StatusOr<StoredWebhook> w = store_->GetWebhook(request->webhook_id());
  st = access_->Reveal(call.caller(), w.status(),
                       w.ok() ? w->webhook.venue_id() : "", "webhook_id");
  if (!st.ok()) return call.Finish(st);
  store_->DeleteWebhook(request->webhook_id(),
                        [this, reactor = call.reactor(),
                         id = request->webhook_id()](absl::StatusOr<bool> r) {
                          if (r.ok()) {
                            dispatcher_->Removed(id);
                            crossings_->Removed(id);
                          }
                          reactor->Finish(ToGrpcStatus(r.status()));
                        });
  return call.reactor();
}

}  // namespace noqueue::server
