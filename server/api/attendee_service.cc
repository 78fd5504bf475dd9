#include "server/api/attendee_service.h"

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "proto/base/wire_time.h"
#include "server/api/unary_call.h"
#include "server/streams/event_watch.h"
#include "server/wire/venue_status.h"

namespace noqueue::server {
namespace {

const char* StateName(v1::AttendeeState state) {
  switch (state) {
    case v1::ATTENDEE_ARRIVED:
      return "has already arrived";
    case v1::ATTENDEE_SERVING:
      return "is being served";
    case v1::ATTENDEE_SERVED:
      return "has already been served";
    case v1::ATTENDEE_NO_SHOW:
      return "was declared a no-show";
    case v1::ATTENDEE_CANCELLED:
      return "was cancelled";
    default:
      return "is expected";
  }
}

}  // namespace

absl::StatusOr<LiveState> AttendeeServiceImpl::Mine(const Caller& caller) {
  const absl::Status gone = absl::UnauthenticatedError(
      "authorization: the attendee token is no longer valid (its "
      "convocation is gone)");
  absl::StatusOr<LiveState> state = live_->Load(caller.schedule_id);
  if (!state.ok()) {
    return state.status().code() == absl::StatusCode::kNotFound
               ? gone
               : state.status();
  }
  if (state->Find(caller.attendee_id) == nullptr) return gone;
  return state;
}

absl::Status AttendeeServiceImpl::StillExpected(const LiveState& state,
                                                const LiveAttendee& me) {
  if (me.state != v1::ATTENDEE_STATE_UNSPECIFIED) {
    return absl::FailedPreconditionError(
        absl::StrCat("convocation: the attendee ", StateName(me.state)));
  }
  if (live_->clock().Now() >= ToTime(state.schedule.window_end())) {
    return absl::FailedPreconditionError(
        "convocation: the schedule's day is over");
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttendeeServiceImpl::GetMyConvocation(
    grpc::CallbackServerContext* ctx,
    const v1::GetMyConvocationRequest* request,
    v1::GetMyConvocationResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kGetMyConvocation, *request);
  if (!call.admitted()) return call.reactor();
  absl::StatusOr<LiveState> state = Mine(call.caller());
  if (!state.ok()) return call.Finish(state.status());
  v1::Schedule& schedule = state->schedule;
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(schedule.venue_id());
  if (!venue.ok()) return call.Finish(venue.status());
  Overlay(*state, &schedule);
  for (v1::Convocation& c : *schedule.mutable_convocations()) {
    if (c.attendee_id() == call.caller().attendee_id) {
      *response->mutable_convocation() = std::move(c);
    }
  }
  response->set_schedule_id(schedule.schedule_id());
  response->set_venue_id(schedule.venue_id());
  const absl::Time now = absl::Now();
  FillVenueStatus(crowd_->Status(*venue, now), schedule.venue_id(), now,
                  response->mutable_venue_status());
  return call.Finish(absl::OkStatus());
}

grpc::ServerWriteReactor<v1::ScheduleEvent>*
AttendeeServiceImpl::WatchMyConvocation(
    grpc::CallbackServerContext* ctx,
    const v1::WatchMyConvocationRequest* request) {
  absl::StatusOr<Caller> caller =
      AdmitRequest(ctx, *access_, Rpc::kWatchMyConvocation, *request);
  if (!caller.ok()) return FinishedWatch(caller.status());
  absl::StatusOr<LiveState> state = Mine(*caller);
  if (!state.ok()) return FinishedWatch(state.status());
  return EventWatch::Start(live_, store_, caller->schedule_id,
                           caller->attendee_id, request->resume_after(),
                           WatchHolder(*caller, live_->options()));
}

grpc::ServerUnaryReactor* AttendeeServiceImpl::DeclareDelay(
    grpc::CallbackServerContext* ctx, const v1::DeclareDelayRequest* request,
    v1::DeclareDelayResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kDeclareDelay, *request);
  if (!call.admitted()) return call.reactor();
  if (!request->has_delay() || !IsValidDuration(request->delay())) {
    return call.Finish(
        absl::InvalidArgumentError("delay: required, a valid duration"));
  }
  const absl::Duration delay = ToDuration(request->delay());
  if (delay < absl::Minutes(1) || delay > kMaxDelay) {
    return call.Finish(absl::InvalidArgumentError(
        absl::StrCat("delay: must be 1 minute to 12 hours, got ",
                     absl::FormatDuration(delay))));
  }
  absl::StatusOr<LiveState> state = Mine(call.caller());
  if (!state.ok()) return call.Finish(state.status());
  const LiveAttendee& me = *state->Find(call.caller().attendee_id);
  if (absl::Status st = StillExpected(*state, me); !st.ok()) {
    return call.Finish(st);
  }
  v1::ScheduleEvent e;
  e.set_schedule_id(call.caller().schedule_id);
  e.set_kind(v1::EVENT_DELAY_DECLARED);
  e.set_attendee_id(call.caller().attendee_id);
  *e.mutable_at() = ToTimestamp(live_->clock().Now());
  *e.mutable_delay() = ToProtoDuration(delay);
  grpc::ServerUnaryReactor* reactor = call.reactor();
  live_->Append(
      {std::move(e)}, "a declared delay",
      [this, reactor, response, who = call.caller()](
          absl::StatusOr<std::vector<v1::ScheduleEvent>> stored) {
        absl::Status st = stored.status();
        if (st.ok()) {
          absl::StatusOr<LiveState> after = Mine(who);
          st = after.status();
          if (st.ok()) {
            Overlay(*after, &after->schedule);
            for (v1::Convocation& c : *after->schedule.mutable_convocations()) {
              if (c.attendee_id() == who.attendee_id) {
                *response->mutable_convocation() = std::move(c);
              }
            }
          }
        }
        reactor->Finish(ToGrpcStatus(st));
      });
  return reactor;
}

grpc::ServerUnaryReactor* AttendeeServiceImpl::CancelConvocation(
    grpc::CallbackServerContext* ctx,
    const v1::CancelConvocationRequest* request,
    v1::CancelConvocationResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kCancelConvocation, *request);
  if (!call.admitted()) return call.reactor();
  absl::StatusOr<LiveState> state = Mine(call.caller());
  if (!state.ok()) return call.Finish(state.status());
  const LiveAttendee& me = *state->Find(call.caller().attendee_id);
  if (me.state == v1::ATTENDEE_CANCELLED) {
    response->set_already_cancelled(true);
    return call.Finish(absl::OkStatus());
  }
  if (absl::Status st = StillExpected(*state, me); !st.ok()) {
    return call.Finish(st);
  }
  v1::ScheduleEvent e;
  e.set_schedule_id(call.caller().schedule_id);
  e.set_kind(v1::EVENT_CANCELLED);
  e.set_attendee_id(call.caller().attendee_id);
  *e.mutable_at() = ToTimestamp(live_->clock().Now());
  grpc::ServerUnaryReactor* reactor = call.reactor();
  live_->Append(
      {std::move(e)}, "a cancellation",
      [reactor, response](absl::StatusOr<std::vector<v1::ScheduleEvent>> r) {
        // Nothing stored: another call cancelled first.
        if (r.ok() && r->empty()) {
          response->set_already_cancelled(true);
        }
        reactor->Finish(ToGrpcStatus(r.status()));
      });
  return reactor;
}

}  // namespace noqueue::server
