// LiveService: a venue follows its running schedules (WatchSchedule) and
// says when desks close or open (UpdateServicePoints).
#ifndef NOQUEUE_SERVER_API_LIVE_SERVICE_H_
#define NOQUEUE_SERVER_API_LIVE_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/live.grpc.pb.h"
#include "server/access/access_control.h"
#include "server/live/live_days.h"
#include "server/store/store.h"

namespace noqueue::server {

class LiveServiceImpl final : public v1::LiveService::CallbackService {
 public:
  LiveServiceImpl(AccessControl* access, Store* store, LiveDays* live)
      : access_(access), store_(store), live_(live) {}
  grpc::ServerWriteReactor<v1::ScheduleEvent>* WatchSchedule(
      grpc::CallbackServerContext* ctx,
      const v1::WatchScheduleRequest* request) override;
  grpc::ServerUnaryReactor* UpdateServicePoints(
      grpc::CallbackServerContext* ctx,
      const v1::UpdateServicePointsRequest* request,
      v1::UpdateServicePointsResponse* response) override;

 private:
  AccessControl* const access_;
  Store* const store_;
  LiveDays* const live_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_LIVE_SERVICE_H_
