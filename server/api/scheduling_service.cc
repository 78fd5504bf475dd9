#include "server/api/scheduling_service.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "server/api/unary_call.h"
#include "server/common/crypto.h"
#include "server/common/ids.h"
#include "server/core/schedule_builder.h"

namespace noqueue::server {
namespace {

// Why a call's work should stop, if it should: its deadline has passed or
// it was cancelled.
absl::Status CallStopped(grpc::CallbackServerContext* ctx) {
  if (ctx->deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError(
        "the deadline passed before the schedule was planned");
  }
  if (ctx->IsCancelled()) {
    return absl::CancelledError("the call was cancelled");
  }
  return absl::OkStatus();
}

// The SHA-256 of the request's deterministic encoding: what a request_id
// is tied to.
std::string RequestDigest(const v1::CreateScheduleRequest& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  return Sha256(bytes);
}

}  // namespace

grpc::ServerUnaryReactor* SchedulingServiceImpl::CreateSchedule(
    grpc::CallbackServerContext* ctx, const v1::CreateScheduleRequest* request,
    v1::CreateScheduleResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kCreateSchedule, *request,
                 request->venue_id());
  if (!call.admitted()) return call.reactor();
  if (absl::Status st = ValidateCreateSchedule(*request, limits_); !st.ok()) {
    return call.Finish(st);
  }
  if (!planner_->TrySubmit(
          [this, ctx, request, response, reactor = call.reactor()] {
            Plan(ctx, request, response, reactor);
          })) {
    return call.Finish(absl::ResourceExhaustedError(absl::StrCat(
        "CreateSchedule: the server is busy planning other schedules (",
        planner_->queued(), " waiting); retry later")));
  }
  return call.reactor();
}

void SchedulingServiceImpl::Plan(grpc::CallbackServerContext* ctx,
                                 const v1::CreateScheduleRequest* request,
                                 v1::CreateScheduleResponse* response,
                                 grpc::ServerUnaryReactor* reactor) {
  auto finish = [reactor](const absl::Status& st) {
    reactor->Finish(ToGrpcStatus(st));
  };
  if (absl::Status stopped = CallStopped(ctx); !stopped.ok()) {
    return finish(stopped);
  }
  const std::string digest =
      request->request_id().empty() ? "" : RequestDigest(*request);
  if (!request->request_id().empty()) {
    absl::StatusOr<std::optional<v1::Schedule>> existing =
        store_->FindScheduleByRequest(request->venue_id(),
                                      request->request_id(), digest);
    if (!existing.ok()) return finish(existing.status());
    if (existing->has_value()) {
      *response->mutable_schedule() = std::move(**existing);
      access_->AddTokens(response->mutable_schedule());
      return finish(absl::OkStatus());
    }
  }
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
  if (!venue.ok()) return finish(venue.status());
  PlanningContext context;
  context.now = absl::Now();
  context.live = crowd_->ForPlanning(*venue, context.now);
  const absl::Time deadline = absl::FromChrono(ctx->deadline());
  if (deadline < absl::InfiniteFuture())
    context.time_left = deadline - context.now;
  context.should_stop = [ctx] { return !CallStopped(ctx).ok(); };
  absl::StatusOr<NewSchedule> built =
      BuildSchedule(*request, *venue, *learning_, context, NewId("sch_"));
  if (!built.ok()) {
    absl::Status stopped = CallStopped(ctx);
    return finish(stopped.ok() ? built.status() : stopped);
  }
  // A call that expired or was cancelled while its plan was made stores
  // nothing: its caller was told it failed.
  if (absl::Status stopped = CallStopped(ctx); !stopped.ok()) {
    return finish(stopped);
  }
  built->request_digest = digest;
  store_->InsertSchedule(
      std::move(*built),
      [this, reactor, response](absl::StatusOr<v1::Schedule> r) {
        if (r.ok()) {
          live_->Track(*r);
          *response->mutable_schedule() = *std::move(r);
          access_->AddTokens(response->mutable_schedule());
        }
        reactor->Finish(ToGrpcStatus(r.status()));
      });
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::GetSchedule(
    grpc::CallbackServerContext* ctx, const v1::GetScheduleRequest* request,
    v1::GetScheduleResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kGetSchedule, *request);
  if (!call.admitted()) return call.reactor();
  absl::Status st = ValidateId("schedule_id", request->schedule_id());
  if (st.ok()) {
    // The schedule as its live day has left it (current times, states).
    absl::StatusOr<LiveState> live = live_->Load(request->schedule_id());
    st = access_->Reveal(call.caller(), live.status(),
                         live.ok() ? live->schedule.venue_id() : "",
                         "schedule_id");
    if (st.ok()) {
      Overlay(*live, &live->schedule);
      *response->mutable_schedule() = std::move(live->schedule);
      access_->AddTokens(response->mutable_schedule());
    }
  }
  return call.Finish(st);
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::ListSchedules(
    grpc::CallbackServerContext* ctx, const v1::ListSchedulesRequest* request,
    v1::ListSchedulesResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kListSchedules, *request,
                 request->venue_id());
  if (!call.admitted()) return call.reactor();
  int64_t after = 0;
  int page_size = 0;
  absl::Status st = ValidateListSchedules(*request, &after, &page_size);
  if (!st.ok()) return call.Finish(st);
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
  if (!venue.ok()) return call.Finish(venue.status());
  absl::StatusOr<SchedulePage> page =
      store_->ListSchedules(request->venue_id(), after, page_size);
  if (!page.ok()) return call.Finish(page.status());
  for (v1::Schedule& s : page->schedules) {
    *response->add_schedules() = std::move(s);
  }
  if (page->next_after > 0) {
    response->set_next_page_token(absl::StrCat(page->next_after));
  }
  return call.Finish(absl::OkStatus());
}

}  // namespace noqueue::server
