#include "server/venue_service.h"

#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "server/validation.h"

namespace noqueue::server {

grpc::ServerUnaryReactor* VenueServiceImpl::UpsertVenue(
    grpc::CallbackServerContext* ctx, const v1::UpsertVenueRequest* request,
    v1::UpsertVenueResponse* response) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishUnary(ctx, st);
  }
  absl::StatusOr<Caller> caller =
      access_->Admit(*ctx, Rpc::kUpsertVenue, request->venue().venue_id());
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (absl::Status valid = ValidateUpsertVenue(*request); !valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  v1::Venue venue = request->venue();
  venue.clear_create_time();
  venue.clear_update_time();
  store_->UpsertVenue(
      std::move(venue), absl::Now(),
      [this, reactor, response](absl::StatusOr<UpsertVenueResult> r) {
        if (r.ok()) {
          crowd_->VenueStored(r->venue);
          *response->mutable_venue() = std::move(r->venue);
          response->set_created(r->created);
        }
        reactor->Finish(ToGrpcStatus(r.status()));
      });
  return reactor;
}

grpc::ServerUnaryReactor* VenueServiceImpl::GetVenue(
    grpc::CallbackServerContext* ctx, const v1::GetVenueRequest* request,
    v1::GetVenueResponse* response) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishUnary(ctx, st);
  }
  absl::StatusOr<Caller> caller =
      access_->Admit(*ctx, Rpc::kGetVenue, request->venue_id());
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status st = ValidateId("venue_id", request->venue_id());
  if (st.ok()) {
    absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
    if (venue.ok()) *response->mutable_venue() = *std::move(venue);
    st = venue.status();
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

}  // namespace noqueue::server
