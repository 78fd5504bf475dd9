#include "server/attendee_service.h"

#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "server/crowd_service.h"

namespace noqueue::server {

grpc::ServerUnaryReactor* AttendeeServiceImpl::GetMyConvocation(
    grpc::CallbackServerContext* ctx,
    const v1::GetMyConvocationRequest* request,
    v1::GetMyConvocationResponse* response) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishUnary(ctx, st);
  }
  absl::StatusOr<Caller> caller = access_->Admit(*ctx, Rpc::kGetMyConvocation);
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  const absl::Status gone = absl::UnauthenticatedError(
      "authorization: the attendee token is no longer valid (its "
      "convocation is gone)");
  absl::StatusOr<v1::Schedule> schedule =
      store_->GetSchedule(caller->schedule_id);
  if (!schedule.ok()) {
    return FinishUnary(ctx,
                       schedule.status().code() == absl::StatusCode::kNotFound
                           ? gone
                           : schedule.status());
  }
  const v1::Convocation* mine = nullptr;
  for (const v1::Convocation& c : schedule->convocations()) {
    if (c.attendee_id() == caller->attendee_id) mine = &c;
  }
  if (mine == nullptr) return FinishUnary(ctx, gone);
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(schedule->venue_id());
  if (!venue.ok()) return FinishUnary(ctx, venue.status());
  response->set_schedule_id(schedule->schedule_id());
  response->set_venue_id(schedule->venue_id());
  *response->mutable_convocation() = *mine;
  FillVenueStatus(crowd_->Status(*venue, absl::Now()), schedule->venue_id(),
                  absl::Now(), response->mutable_venue_status());
  return FinishUnary(ctx, absl::OkStatus());
}

}  // namespace noqueue::server
