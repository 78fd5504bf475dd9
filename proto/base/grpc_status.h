// absl::Status <-> grpc::Status at the RPC boundary (the codes are
// numerically identical). The size limits both ends of the wire share are
// in api_limits.h.
#ifndef NOQUEUE_PROTO_BASE_GRPC_STATUS_H_
#define NOQUEUE_PROTO_BASE_GRPC_STATUS_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace noqueue {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// A unary call's reactor, finished at once with `status`.
inline grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                             const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace noqueue

#endif  // NOQUEUE_PROTO_BASE_GRPC_STATUS_H_
