// What every unary handler of the API starts with: the request's bytes
// parsed (proto/base/unparsable_request.h), the caller admitted for the RPC
// (AccessControl::Admit), the call's reactor; and the venue a request names.
//
//   grpc::ServerUnaryReactor* VenueServiceImpl::GetVenue(ctx, request, ...) {
//     UnaryCall call(ctx, *access_, Rpc::kGetVenue, *request,
//                    request->venue_id());
//     if (!call.admitted()) return call.reactor();
//     absl::StatusOr<v1::Venue> venue = RequestedVenue(*store_,
//                                                      request->venue_id());
//     ...
//     return call.Finish(venue.status());
//   }
#ifndef NOQUEUE_SERVER_API_UNARY_CALL_H_
#define NOQUEUE_SERVER_API_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "noqueue/v1/venue.pb.h"
#include "server/access/access_control.h"
#include "server/store/store.h"
#include "server/streams/event_watch.h"

namespace noqueue::server {

// The request parsed, then the caller admitted for `rpc` (on `venue_id` when
// the RPC names its venue in the request): the start of every handler, and
// all of it for a streaming one.
absl::StatusOr<Caller> AdmitRequest(grpc::CallbackServerContext* ctx,
                                    AccessControl& access, Rpc rpc,
                                    const google::protobuf::Message& request,
                                    absl::string_view venue_id = "");

class UnaryCall {
 public:
  // AdmitRequest: when it refuses, the reactor is finished with the refusal and
  // admitted() is false: the handler returns reactor() and does nothing else.
  UnaryCall(grpc::CallbackServerContext* ctx, AccessControl& access, Rpc rpc,
            const google::protobuf::Message& request,
            absl::string_view venue_id = "");

  bool admitted() const { return caller_.ok(); }
  // Only when admitted().
  const Caller& caller() const { return *caller_; }
  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

  // Finishes the call with `status`; returns the reactor, for the handler
  // to return.
  grpc::ServerUnaryReactor* Finish(const absl::Status& status) const;

 private:
  grpc::ServerUnaryReactor* const reactor_;
  absl::StatusOr<Caller> caller_;
};

// The venue a request names in `field`: INVALID_ARGUMENT naming the field
// when the id is malformed, NOT_FOUND when no such venue is stored.
absl::StatusOr<v1::Venue> RequestedVenue(Store& store,
                                         const std::string& venue_id,
                                         const std::string& field = "venue_id");

// The credential a watch counts against, and how many it may hold: an
// attendee's convocation (LiveOptions::max_watches_per_attendee), an API key
// (max_watches_per_key); none without access control.
EventWatch::Holder WatchHolder(const Caller& caller,
                               const LiveOptions& options);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_UNARY_CALL_H_
