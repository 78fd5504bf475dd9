#include "server/api/crowd_service.h"

#include <cmath>

#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "proto/base/wire_time.h"
#include "server/api/unary_call.h"
#include "server/common/ids.h"
#include "server/wire/validation.h"
#include "server/wire/venue_status.h"

namespace noqueue::server {
grpc::ServerUnaryReactor* CrowdServiceImpl::ReportQueue(
    grpc::CallbackServerContext* ctx, const v1::ReportQueueRequest* request,
    v1::ReportQueueResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kReportQueue, *request);
  if (!call.admitted()) return call.reactor();
  const absl::Time now = absl::Now();
  if (absl::Status st = ValidateReportQueue(*request, now); !st.ok()) {
    return call.Finish(st);
  }
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
  if (absl::IsNotFound(venue.status()) &&
      (call.caller().kind == Caller::Kind::kAnonymous ||
       call.caller().kind == Caller::Kind::kAttendee)) {
    // A phone is told the same for every venue id, so that an anonymous
    // caller cannot list which venues exist; nothing is stored.
    response->set_report_id(NewId("rep_"));
    return call.Finish(absl::OkStatus());
  }
  if (!venue.ok()) return call.Finish(venue.status());
  StoredReport report;
  report.report_id = NewId("rep_");
  report.venue_id = request->venue_id();
  report.reporter_token = request->reporter_token();
  report.observed = ToTime(request->observed_at());
  report.received = now;
  if (request->has_queue_length())
    report.queue_length = request->queue_length();
  if (request->has_waited()) report.waited = ToDuration(request->waited());
  report.finished = request->wait_state() == v1::WAIT_STATE_FINISHED;
  absl::StatusOr<StoredReport> judged =
      crowd_->Judge(*venue, std::move(report));
  if (!judged.ok()) return call.Finish(judged.status());
  response->set_report_id(judged->report_id);
  store_->InsertReport(*std::move(judged),
                       [reactor = call.reactor()](absl::StatusOr<bool> stored) {
                         reactor->Finish(ToGrpcStatus(stored.status()));
                       });
  return call.reactor();
}

grpc::ServerUnaryReactor* CrowdServiceImpl::GetVenueStatus(
    grpc::CallbackServerContext* ctx, const v1::GetVenueStatusRequest* request,
    v1::GetVenueStatusResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kGetVenueStatus, *request,
                 request->venue_id());
  if (!call.admitted()) return call.reactor();
  absl::StatusOr<v1::Venue> venue =
      RequestedVenue(*store_, request->venue_id());
  if (!venue.ok()) return call.Finish(venue.status());
  const absl::Time now = absl::Now();
  FillVenueStatus(crowd_->Status(*venue, now), request->venue_id(), now,
                  response->mutable_status());
  return call.Finish(absl::OkStatus());
}

}  // namespace noqueue::server
