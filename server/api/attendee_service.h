// AttendeeService: what an attendee's app may do with its attendee token,
// on its own convocation and nothing else: read it (its current time in a
// running day), follow its changes, say it will be late, cancel it.
#ifndef NOQUEUE_SERVER_API_ATTENDEE_SERVICE_H_
#define NOQUEUE_SERVER_API_ATTENDEE_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/attendee.grpc.pb.h"
#include "server/access/access_control.h"
#include "server/core/crowd_tracker.h"
#include "server/live/live_days.h"
#include "server/store/store.h"

namespace noqueue::server {

class AttendeeServiceImpl final : public v1::AttendeeService::CallbackService {
 public:
  // Longest delay an attendee may declare.
  static constexpr absl::Duration kMaxDelay = absl::Hours(12);

  AttendeeServiceImpl(AccessControl* access, Store* store, CrowdTracker* crowd,
                      LiveDays* live)
      : access_(access), store_(store), crowd_(crowd), live_(live) {}
  grpc::ServerUnaryReactor* GetMyConvocation(
      grpc::CallbackServerContext* ctx,
      const v1::GetMyConvocationRequest* request,
      v1::GetMyConvocationResponse* response) override;
  grpc::ServerWriteReactor<v1::ScheduleEvent>* WatchMyConvocation(
      grpc::CallbackServerContext* ctx,
      const v1::WatchMyConvocationRequest* request) override;
  grpc::ServerUnaryReactor* DeclareDelay(
      grpc::CallbackServerContext* ctx, const v1::DeclareDelayRequest* request,
      v1::DeclareDelayResponse* response) override;
  grpc::ServerUnaryReactor* CancelConvocation(
      grpc::CallbackServerContext* ctx,
      const v1::CancelConvocationRequest* request,
      v1::CancelConvocationResponse* response) override;

 private:
  // The caller's live day and their place in it (UNAUTHENTICATED when the
  // convocation is gone).
  absl::StatusOr<LiveState> Mine(const Caller& caller);
  // FAILED_PRECONDITION unless the caller is still expected today.
  absl::Status StillExpected(const LiveState& state, const LiveAttendee& me);

  AccessControl* const access_;
  Store* const store_;
  CrowdTracker* const crowd_;
  LiveDays* const live_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_ATTENDEE_SERVICE_H_
