// CrowdService: attendees' queue reports in, the venue's live status out.
#ifndef NOQUEUE_SERVER_API_CROWD_SERVICE_H_
#define NOQUEUE_SERVER_API_CROWD_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/crowd.grpc.pb.h"
#include "server/access/access_control.h"
#include "server/core/crowd_tracker.h"
#include "server/store/store.h"

namespace noqueue::server {

class CrowdServiceImpl final : public v1::CrowdService::CallbackService {
 public:
  CrowdServiceImpl(AccessControl* access, Store* store, CrowdTracker* crowd)
      : access_(access), store_(store), crowd_(crowd) {}
  grpc::ServerUnaryReactor* ReportQueue(
      grpc::CallbackServerContext* ctx, const v1::ReportQueueRequest* request,
      v1::ReportQueueResponse* response) override;
  grpc::ServerUnaryReactor* GetVenueStatus(
      grpc::CallbackServerContext* ctx,
      const v1::GetVenueStatusRequest* request,
      v1::GetVenueStatusResponse* response) override;

 private:
  AccessControl* const access_;
  Store* const store_;
  CrowdTracker* const crowd_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_CROWD_SERVICE_H_
