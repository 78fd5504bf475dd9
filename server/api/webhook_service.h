// WebhookService: a venue registers, lists and deletes its webhooks
// (webhook.proto). Delivery is the WebhookDispatcher's; crossings of the live
// wait are WaitCrossings'.
#ifndef NOQUEUE_SERVER_API_WEBHOOK_SERVICE_H_
#define NOQUEUE_SERVER_API_WEBHOOK_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "noqueue/v1/webhook.grpc.pb.h"
#include "server/access/access_control.h"
#include "server/store/store.h"
#include "server/webhooks/wait_crossings.h"
#include "server/webhooks/webhook_dispatcher.h"

namespace noqueue::server {

class WebhookServiceImpl final : public v1::WebhookService::CallbackService {
 public:
  WebhookServiceImpl(AccessControl* access, Store* store,
                     WebhookDispatcher* dispatcher, WaitCrossings* crossings)
      : access_(access),
        store_(store),
        dispatcher_(dispatcher),
        crossings_(crossings) {}

  // The server's own gRPC port, which no webhook may point at.
  void set_own_port(int port) { own_port_ = port; }

  grpc::ServerUnaryReactor* CreateWebhook(
      grpc::CallbackServerContext* ctx, const v1::CreateWebhookRequest* request,
      v1::Webhook* response) override;
  grpc::ServerUnaryReactor* ListWebhooks(
      grpc::CallbackServerContext* ctx, const v1::ListWebhooksRequest* request,
      v1::ListWebhooksResponse* response) override;
  grpc::ServerUnaryReactor* DeleteWebhook(
      grpc::CallbackServerContext* ctx, const v1::DeleteWebhookRequest* request,
      v1::DeleteWebhookResponse* response) override;

 private:
  AccessControl* const access_;
  Store* const store_;
  WebhookDispatcher* const dispatcher_;
  WaitCrossings* const crossings_;
  std::atomic<int> own_port_{0};
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_WEBHOOK_SERVICE_H_
