// CrowdService: attendees' queue reports in, the venue's live status out.
#ifndef NOQUEUE_SERVER_CROWD_SERVICE_H_
#define NOQUEUE_SERVER_CROWD_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/crowd.grpc.pb.h"
#include "server/crowd_loop.h"
#include "server/store.h"

namespace noqueue::server {

class CrowdServiceImpl final : public v1::CrowdService::CallbackService {
 public:
  CrowdServiceImpl(Store* store, CrowdLoop* crowd)
      : store_(store), crowd_(crowd) {}
  grpc::ServerUnaryReactor* ReportQueue(
      grpc::CallbackServerContext* ctx, const v1::ReportQueueRequest* request,
      v1::ReportQueueResponse* response) override;
  grpc::ServerUnaryReactor* GetVenueStatus(
      grpc::CallbackServerContext* ctx,
      const v1::GetVenueStatusRequest* request,
      v1::GetVenueStatusResponse* response) override;

 private:
  Store* const store_;
  CrowdLoop* const crowd_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_CROWD_SERVICE_H_
