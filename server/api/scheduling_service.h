// SchedulingService: schedules made, read back and listed. Planning a
// schedule is CPU work (predictions, the optimiser, the KPI simulation): it
// runs on the planning executor, not on gRPC's reaction threads, and stops
// when its call is cancelled or its deadline passes.
#ifndef NOQUEUE_SERVER_API_SCHEDULING_SERVICE_H_
#define NOQUEUE_SERVER_API_SCHEDULING_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/scheduling.grpc.pb.h"
#include "server/access/access_control.h"
#include "server/common/executor.h"
#include "server/core/crowd_tracker.h"
#include "server/core/learner.h"
#include "server/live/live_days.h"
#include "server/store/store.h"
#include "server/wire/validation.h"

namespace noqueue::server {

class SchedulingServiceImpl final
    : public v1::SchedulingService::CallbackService {
 public:
  SchedulingServiceImpl(AccessControl* access, Store* store,
                        const Learner* learning, CrowdTracker* crowd,
                        BoundedExecutor* planner, LiveDays* live, Limits limits)
      : access_(access),
        store_(store),
        learning_(learning),
        crowd_(crowd),
        planner_(planner),
        live_(live),
        limits_(limits) {}
  grpc::ServerUnaryReactor* CreateSchedule(
      grpc::CallbackServerContext* ctx,
      const v1::CreateScheduleRequest* request,
      v1::CreateScheduleResponse* response) override;
  grpc::ServerUnaryReactor* GetSchedule(
      grpc::CallbackServerContext* ctx, const v1::GetScheduleRequest* request,
      v1::GetScheduleResponse* response) override;
  grpc::ServerUnaryReactor* ListSchedules(
      grpc::CallbackServerContext* ctx, const v1::ListSchedulesRequest* request,
      v1::ListSchedulesResponse* response) override;

 private:
  // Plans a validated request on the executor and finishes the call.
  void Plan(grpc::CallbackServerContext* ctx,
            const v1::CreateScheduleRequest* request,
            v1::CreateScheduleResponse* response,
            grpc::ServerUnaryReactor* reactor);

  AccessControl* const access_;
  Store* const store_;
  const Learner* const learning_;
  CrowdTracker* const crowd_;
  BoundedExecutor* const planner_;
  LiveDays* const live_;
  const Limits limits_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_SCHEDULING_SERVICE_H_
