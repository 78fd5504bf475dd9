#include "server/api/unary_call.h"

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "server/wire/validation.h"

namespace noqueue::server {

absl::StatusOr<Caller> AdmitRequest(grpc::CallbackServerContext* ctx,
                                    AccessControl& access, Rpc rpc,
                                    const google::protobuf::Message& request,
                                    absl::string_view venue_id) {
  if (absl::Status st = ParsedRequest(request); !st.ok()) return st;
  return access.Admit(*ctx, rpc, venue_id);
}

UnaryCall::UnaryCall(grpc::CallbackServerContext* ctx, AccessControl& access,
                     Rpc rpc, const google::protobuf::Message& request,
                     absl::string_view venue_id)
    : reactor_(ctx->DefaultReactor()),
      caller_(AdmitRequest(ctx, access, rpc, request, venue_id)) {
  if (!caller_.ok()) reactor_->Finish(ToGrpcStatus(caller_.status()));
}

grpc::ServerUnaryReactor* UnaryCall::Finish(const absl::Status& status) const {
  reactor_->Finish(ToGrpcStatus(status));
  return reactor_;
}

absl::StatusOr<v1::Venue> RequestedVenue(Store& store,
                                         const std::string& venue_id,
                                         const std::string& field) {
  if (absl::Status st = ValidateId(field, venue_id); !st.ok()) return st;
  return store.GetVenue(venue_id);
}

EventWatch::Holder WatchHolder(const Caller& caller,
                               const LiveOptions& options) {
  switch (caller.kind) {
    case Caller::Kind::kAttendee:
      return {absl::StrCat("attendee ", caller.schedule_id, " ",
                           caller.attendee_id),
              options.max_watches_per_attendee};
    case Caller::Kind::kKey:
      return {absl::StrCat("key ", caller.key_id), options.max_watches_per_key};
    case Caller::Kind::kOpen:
    case Caller::Kind::kAnonymous:
      break;
  }
  return {};
}

}  // namespace noqueue::server
