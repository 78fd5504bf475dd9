#include "server/api/arrival_service.h"

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "server/api/unary_call.h"

namespace noqueue::server {

namespace {

// A stream refused before it starts.
class RefusedStream final
    : public grpc::ServerBidiReactor<v1::ArrivalEvent, v1::ArrivalAck> {
 public:
  explicit RefusedStream(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerBidiReactor<v1::ArrivalEvent, v1::ArrivalAck>*
ArrivalServiceImpl::StreamArrivals(grpc::CallbackServerContext* ctx) {
  absl::StatusOr<Caller> caller = access_->Admit(*ctx, Rpc::kStreamArrivals);
  if (!caller.ok()) return new RefusedStream(caller.status());
  if (open_streams_.fetch_add(1) >= limits_.max_streams) {
    open_streams_.fetch_sub(1);
    return new RefusedStream(absl::ResourceExhaustedError(absl::StrCat(
        "StreamArrivals: ", limits_.max_streams,
        " streams are open, the most this server takes (max_streams); "
        "retry later")));
  }
  return new ArrivalStream(store_, consumers_, caller->scope, &open_streams_);
}

grpc::ServerUnaryReactor* ArrivalServiceImpl::RecordArrivals(
    grpc::CallbackServerContext* ctx, const v1::RecordArrivalsRequest* request,
    v1::RecordArrivalsResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kRecordArrivals, *request);
  if (!call.admitted()) return call.reactor();
  grpc::ServerUnaryReactor* reactor = call.reactor();
  if (absl::Status st = ValidateRecordArrivals(*request, limits_); !st.ok()) {
    return call.Finish(st);
  }
  std::vector<v1::ArrivalEvent> events(request->events().begin(),
                                       request->events().end());
  store_->RecordEvents(
      std::move(events), /*atomic=*/true, absl::Now(), call.caller().scope,
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
