#include "server/webhook_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "proto/base/wire_time.h"
#include "server/crypto.h"
#include "server/validation.h"
#include "server/webhook_request.h"

namespace noqueue::server {

grpc::ServerUnaryReactor* WebhookServiceImpl::CreateWebhook(
    grpc::CallbackServerContext* ctx, const v1::CreateWebhookRequest* request,
    v1::Webhook* response) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishUnary(ctx, st);
  }
  absl::StatusOr<Caller> caller =
      access_->Admit(*ctx, Rpc::kCreateWebhook, request->venue_id());
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  absl::Status st = ValidateId("venue_id", request->venue_id());
  if (st.ok()) st = ValidateCreateWebhook(*request, own_port_.load());
  if (!st.ok()) return FinishUnary(ctx, st);
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
  if (!venue.ok()) return FinishUnary(ctx, venue.status());

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
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  store_->InsertWebhook(w, dispatcher_->options().max_per_venue,
                        [this, w, reactor, response](absl::StatusOr<bool> r) {
                          if (r.ok()) {
                            dispatcher_->Added(w);
                            crossings_->Added(w);
                            *response = w.webhook;
                          }
                          reactor->Finish(ToGrpcStatus(r.status()));
                        });
  return reactor;
}

grpc::ServerUnaryReactor* WebhookServiceImpl::ListWebhooks(
    grpc::CallbackServerContext* ctx, const v1::ListWebhooksRequest* request,
    v1::ListWebhooksResponse* response) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishUnary(ctx, st);
  }
  absl::StatusOr<Caller> caller =
      access_->Admit(*ctx, Rpc::kListWebhooks, request->venue_id());
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  absl::Status st = ValidateId("venue_id", request->venue_id());
  if (!st.ok()) return FinishUnary(ctx, st);
  absl::StatusOr<std::vector<v1::Webhook>> hooks =
      store_->ListWebhooks(request->venue_id());
  if (!hooks.ok()) return FinishUnary(ctx, hooks.status());
  for (v1::Webhook& h : *hooks) *response->add_webhooks() = std::move(h);
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* WebhookServiceImpl::DeleteWebhook(
    grpc::CallbackServerContext* ctx, const v1::DeleteWebhookRequest* request,
    v1::DeleteWebhookResponse* /*response*/) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishUnary(ctx, st);
  }
  absl::StatusOr<Caller> caller = access_->Admit(*ctx, Rpc::kDeleteWebhook);
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  absl::Status st = ValidateId("webhook_id", request->webhook_id());
  if (!st.ok()) return FinishUnary(ctx, st);
  absl::StatusOr<StoredWebhook> w = store_->GetWebhook(request->webhook_id());
  st = access_->Reveal(*caller, w.status(), w.ok() ? w->webhook.venue_id() : "",
                       "webhook_id");
  if (!st.ok()) return FinishUnary(ctx, st);
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  store_->DeleteWebhook(
      request->webhook_id(),
      [this, reactor, id = request->webhook_id()](absl::StatusOr<bool> r) {
        if (r.ok()) {
          dispatcher_->Removed(id);
          crossings_->Removed(id);
        }
        reactor->Finish(ToGrpcStatus(r.status()));
      });
  return reactor;
}

}  // namespace noqueue::server
