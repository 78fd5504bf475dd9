#include "server/api/venue_service.h"

#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "server/api/unary_call.h"
#include "server/wire/validation.h"

namespace noqueue::server {

grpc::ServerUnaryReactor* VenueServiceImpl::UpsertVenue(
    grpc::CallbackServerContext* ctx, const v1::UpsertVenueRequest* request,
    v1::UpsertVenueResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kUpsertVenue, *request,
                 request->venue().venue_id());
  if (!call.admitted()) return call.reactor();
  if (absl::Status st = ValidateUpsertVenue(*request); !st.ok()) {
    return call.Finish(st);
  }
  v1::Venue venue = request->venue();
  venue.clear_create_time();
  venue.clear_update_time();
  store_->UpsertVenue(std::move(venue), absl::Now(),
                      [this, reactor = call.reactor(),
                       response](absl::StatusOr<UpsertVenueResult> r) {
                        if (r.ok()) {
                          crowd_->VenueStored(r->venue);
                          *response->mutable_venue() = std::move(r->venue);
                          response->set_created(r->created);
                        }
                        reactor->Finish(ToGrpcStatus(r.status()));
                      });
  return call.reactor();
}

grpc::ServerUnaryReactor* VenueServiceImpl::GetVenue(
    grpc::CallbackServerContext* ctx, const v1::GetVenueRequest* request,
    v1::GetVenueResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kGetVenue, *request, request->venue_id());
  if (!call.admitted()) return call.reactor();
  absl::StatusOr<v1::Venue> venue =
      RequestedVenue(*store_, request->venue_id());
  if (venue.ok()) *response->mutable_venue() = *std::move(venue);
  return call.Finish(venue.status());
}

}  // namespace noqueue::server
