#include "server/api/live_service.h"

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "proto/base/wire_time.h"
#include "server/api/unary_call.h"
#include "server/streams/event_watch.h"
#include "server/wire/validation.h"

namespace noqueue::server {
namespace {

// Desk counts a venue may declare.
constexpr int kMaxServicePoints = 1000;
// How far from now a desk change may take effect.
constexpr absl::Duration kDeskChangeReach = absl::Hours(24);
// The schedules a desk change applies to: those whose window meets
// [effective_from, effective_from + this).
constexpr absl::Duration kDeskChangeSpan = absl::Hours(12);

}  // namespace

grpc::ServerWriteReactor<v1::ScheduleEvent>* LiveServiceImpl::WatchSchedule(
    grpc::CallbackServerContext* ctx, const v1::WatchScheduleRequest* request) {
  absl::StatusOr<Caller> caller =
      AdmitRequest(ctx, *access_, Rpc::kWatchSchedule, *request);
  if (!caller.ok()) return FinishedWatch(caller.status());
  absl::Status st = ValidateId("schedule_id", request->schedule_id());
  if (!st.ok()) return FinishedWatch(st);
  absl::StatusOr<v1::Schedule> s = store_->GetSchedule(request->schedule_id());
  st = access_->Reveal(*caller, s.status(), s.ok() ? s->venue_id() : "",
                       "schedule_id");
  if (!st.ok()) return FinishedWatch(st);
  return EventWatch::Start(live_, store_, request->schedule_id(), "",
                           request->resume_after(),
                           WatchHolder(*caller, live_->options()));
}

grpc::ServerUnaryReactor* LiveServiceImpl::UpdateServicePoints(
    grpc::CallbackServerContext* ctx,
    const v1::UpdateServicePointsRequest* request,
    v1::UpdateServicePointsResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kUpdateServicePoints, *request,
                 request->venue_id());
  if (!call.admitted()) return call.reactor();
  absl::StatusOr<v1::Venue> venue =
      RequestedVenue(*store_, request->venue_id());
  if (!venue.ok()) return call.Finish(venue.status());
  if (request->service_points() < 0 ||
      request->service_points() > kMaxServicePoints) {
    return call.Finish(absl::InvalidArgumentError(
        absl::StrCat("service_points: must be 0 to ", kMaxServicePoints,
                     ", got ", request->service_points())));
  }
  const absl::Time now = live_->clock().Now();
  absl::Time from = now;
  if (request->has_effective_from()) {
    if (!IsValidTimestamp(request->effective_from())) {
      return call.Finish(
          absl::InvalidArgumentError("effective_from: not a valid timestamp"));
    }
    from = ToTime(request->effective_from());
    if (absl::AbsDuration(from - now) > kDeskChangeReach) {
      return call.Finish(absl::InvalidArgumentError(
          "effective_from: must be within 24 hours of now"));
    }
  }
  absl::StatusOr<std::vector<std::string>> ids = store_->SchedulesBetween(
      request->venue_id(), from, from + kDeskChangeSpan);
  if (!ids.ok()) return call.Finish(ids.status());
  if (ids->empty()) return call.Finish(absl::OkStatus());
  std::vector<v1::ScheduleEvent> events;
  for (const std::string& id : *ids) {
    response->add_schedule_ids(id);
    v1::ScheduleEvent e;
    e.set_schedule_id(id);
    e.set_kind(v1::EVENT_SERVICE_POINTS_CHANGED);
    *e.mutable_at() = ToTimestamp(now);
    e.set_service_points(request->service_points());
    *e.mutable_effective_from() = ToTimestamp(from);
    events.push_back(std::move(e));
  }
  live_->Append(std::move(events), "a desk change",
                [reactor = call.reactor()](
                    absl::StatusOr<std::vector<v1::ScheduleEvent>> r) {
                  reactor->Finish(ToGrpcStatus(r.status()));
                });
  return call.reactor();
}

}  // namespace noqueue::server
