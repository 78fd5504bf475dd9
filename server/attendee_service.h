// AttendeeService: what an attendee's app may do with its attendee token,
// on its own convocation and nothing else.
#ifndef NOQUEUE_SERVER_ATTENDEE_SERVICE_H_
#define NOQUEUE_SERVER_ATTENDEE_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/attendee.grpc.pb.h"
#include "server/access_control.h"
#include "server/crowd_loop.h"
#include "server/store.h"

namespace noqueue::server {

class AttendeeServiceImpl final : public v1::AttendeeService::CallbackService {
 public:
  AttendeeServiceImpl(AccessControl* access, Store* store, CrowdLoop* crowd)
      : access_(access), store_(store), crowd_(crowd) {}
  grpc::ServerUnaryReactor* GetMyConvocation(
      grpc::CallbackServerContext* ctx,
      const v1::GetMyConvocationRequest* request,
      v1::GetMyConvocationResponse* response) override;

 private:
  AccessControl* const access_;
  Store* const store_;
  CrowdLoop* const crowd_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_ATTENDEE_SERVICE_H_
