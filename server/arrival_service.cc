#include "server/arrival_service.h"

#include "proto/base/grpc_status.h"

namespace noqueue::server {

grpc::ServerBidiReactor<v1::ArrivalEvent, v1::ArrivalAck>*
ArrivalServiceImpl::StreamArrivals(grpc::CallbackServerContext* /*ctx*/) {
  return new ArrivalStream(store_, consumers_);
}

grpc::ServerUnaryReactor* ArrivalServiceImpl::RecordArrivals(
    grpc::CallbackServerContext* ctx, const v1::RecordArrivalsRequest* request,
    v1::RecordArrivalsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (absl::Status st = ValidateRecordArrivals(*request, limits_); !st.ok()) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
  std::vector<v1::ArrivalEvent> events(request->events().begin(),
                                       request->events().end());
  store_->RecordEvents(
      std::move(events), /*atomic=*/true, absl::Now(),
      [reactor, request, response,
       consumers = consumers_](absl::StatusOr<std::vector<EventResult>> r) {
        if (r.ok()) {
          consumers.Consume(*r);
          for (size_t i = 0; i < r->size(); ++i) {
            *response->add_acks() =
                ToAck(request->events(static_cast<int>(i)).event_id(), (*r)[i]);
          }
        }
        reactor->Finish(ToGrpcStatus(r.status()));
      });
  return reactor;
}

}  // namespace noqueue::server
