// ArrivalService: tags from on-site devices, streamed (ArrivalStream) or in
// atomic batches. A tag is acknowledged only once it has committed; then the
// model learns from it and the crowd estimator takes what it measured.
#ifndef NOQUEUE_SERVER_API_ARRIVAL_SERVICE_H_
#define NOQUEUE_SERVER_API_ARRIVAL_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "noqueue/v1/arrival.grpc.pb.h"
#include "server/access/access_control.h"
#include "server/store/store.h"
#include "server/streams/arrival_stream.h"
#include "server/wire/validation.h"

namespace noqueue::server {

class ArrivalServiceImpl final : public v1::ArrivalService::CallbackService {
 public:
  ArrivalServiceImpl(AccessControl* access, Store* store,
                     TagConsumers consumers, Limits limits)
      : access_(access),
        store_(store),
        consumers_(consumers),
        limits_(limits) {}
  grpc::ServerBidiReactor<v1::ArrivalEvent, v1::ArrivalAck>* StreamArrivals(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* RecordArrivals(
      grpc::CallbackServerContext* ctx,
      const v1::RecordArrivalsRequest* request,
      v1::RecordArrivalsResponse* response) override;

  // StreamArrivals calls open now (until their reactor is deleted).
  int open_streams() const { return open_streams_.load(); }

 private:
  AccessControl* const access_;
  Store* const store_;
  const TagConsumers consumers_;
  const Limits limits_;
  std::atomic<int> open_streams_{0};
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_ARRIVAL_SERVICE_H_
