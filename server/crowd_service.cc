#include "server/crowd_service.h"

#include <cmath>

#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "proto/base/wire_time.h"
#include "server/ids.h"
#include "server/validation.h"

namespace noqueue::server {
grpc::ServerUnaryReactor* CrowdServiceImpl::ReportQueue(
    grpc::CallbackServerContext* ctx, const v1::ReportQueueRequest* request,
    v1::ReportQueueResponse* response) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishUnary(ctx, st);
  }
  absl::StatusOr<Caller> caller = access_->Admit(*ctx, Rpc::kReportQueue);
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const absl::Time now = absl::Now();
  absl::Status st = ValidateReportQueue(*request, now);
  absl::StatusOr<v1::Venue> venue;
  if (st.ok()) {
    venue = store_->GetVenue(request->venue_id());
    st = venue.status();
  }
  if (!st.ok()) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
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
  if (!judged.ok()) {
    reactor->Finish(ToGrpcStatus(judged.status()));
    return reactor;
  }
  response->set_report_id(judged->report_id);
  store_->InsertReport(*std::move(judged),
                       [reactor](absl::StatusOr<bool> stored) {
                         reactor->Finish(ToGrpcStatus(stored.status()));
                       });
  return reactor;
}

grpc::ServerUnaryReactor* CrowdServiceImpl::GetVenueStatus(
    grpc::CallbackServerContext* ctx, const v1::GetVenueStatusRequest* request,
    v1::GetVenueStatusResponse* response) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishUnary(ctx, st);
  }
  absl::StatusOr<Caller> caller =
      access_->Admit(*ctx, Rpc::kGetVenueStatus, request->venue_id());
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status st = ValidateId("venue_id", request->venue_id());
  absl::StatusOr<v1::Venue> venue;
  if (st.ok()) {
    venue = store_->GetVenue(request->venue_id());
    st = venue.status();
  }
  if (!st.ok()) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
  const absl::Time now = absl::Now();
  FillVenueStatus(crowd_->Status(*venue, now), request->venue_id(), now,
                  response->mutable_status());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

void FillVenueStatus(const model::VenueLiveStatus& live,
                     const std::string& venue_id, absl::Time now,
                     v1::VenueStatus* out) {
  out->set_venue_id(venue_id);
  out->set_state(live.known ? v1::STATUS_STATE_KNOWN
                            : v1::STATUS_STATE_UNKNOWN);
  if (live.known) {
    *out->mutable_wait_p50() = MinutesToDuration(live.wait_p50_min);
    *out->mutable_wait_p90() = MinutesToDuration(live.wait_p90_min);
    out->set_queue_length(live.queue_length);
    out->set_confidence(live.confidence);
  }
  out->set_reports_used(live.reports_used);
  out->set_tags_used(live.tags_used);
  out->set_service_rate_per_minute(live.service_rate_per_min);
  *out->mutable_as_of() = ToTimestamp(now);
}

}  // namespace noqueue::server
