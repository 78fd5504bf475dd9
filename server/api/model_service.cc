#include "server/api/model_service.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "proto/base/wire_time.h"
#include "server/api/unary_call.h"
#include "server/common/domain_enums.h"
#include "server/core/schedule_builder.h"
#include "server/wire/validation.h"

namespace noqueue::server {
namespace {

void FillFigures(const model::PrequentialMetrics::Figures& f,
                 v1::PredictionMetrics* out) {
  out->set_arrivals_scored(f.arrivals);
  out->set_mae_p50_minutes(f.mae_p50_min);
  out->set_coverage_p10_p90(f.coverage_p10_p90);
  out->set_outcomes_scored(f.outcomes);
  out->set_no_show_log_loss(f.log_loss);
  out->set_no_show_auc(f.auc);
}

void FillMetrics(const model::PrequentialMetrics& m, v1::ModelMetrics* out) {
  FillFigures(m.AllTime(), out->mutable_all_time());
  FillFigures(m.Recent(), out->mutable_recent());
  for (model::Exclusion e : model::kExclusions) {
    (*out->mutable_excluded())[model::ExclusionName(e)] = m.excluded(e);
  }
}

void FillService(const v1::Venue& venue, const model::ServiceEstimate& e,
                 v1::ServiceTimeInfo* out) {
  *out->mutable_declared_mean() = venue.mean_service_time();
  *out->mutable_mean() = MinutesToDuration(e.day.mean_min);
  out->set_cv(e.day.cv);
  out->set_services_measured(e.services);
  for (int h = 0; h < 24; ++h) {
    if (!e.by_hour[h]) continue;
    v1::HourServiceTime* hour = out->add_by_hour();
    hour->set_local_hour(h);
    *hour->mutable_mean() = MinutesToDuration(e.by_hour[h]->mean_min);
    hour->set_cv(e.by_hour[h]->cv);
  }
}

}  // namespace

grpc::ServerUnaryReactor* ModelServiceImpl::GetModelInfo(
    grpc::CallbackServerContext* ctx, const v1::GetModelInfoRequest* request,
    v1::GetModelInfoResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kGetModelInfo, *request,
                 request->venue_id());
  if (!call.admitted()) return call.reactor();
  if (!request->venue_id().empty()) {
    absl::StatusOr<v1::Venue> venue =
        RequestedVenue(*store_, request->venue_id());
    if (!venue.ok()) return call.Finish(venue.status());
    FillService(*venue, crowd_->ForPlanning(*venue, absl::Now()).service,
                response->mutable_venue_service());
  }
  response->set_model_version(model::ArrivalModel::VersionName());
  // The server's totals describe every venue: a key scoped to some venues
  // gets only what it asked of its own.
  const bool server_wide = call.caller().scope.all;
  if (server_wide) response->set_last_event_seq(learning_->last_seq());
  learning_->WithModel([&](const model::ArrivalModel& m) {
    if (!request->venue_id().empty()) {
      if (const auto* vm = m.VenueMetrics(request->venue_id())) {
        FillMetrics(*vm, response->mutable_venue_metrics());
      }
    }
    if (!server_wide) return 0;
    response->set_events_learned(m.events_learned());
    response->set_attendees_known(static_cast<int64_t>(m.attendee_count()));
    response->set_venues_known(static_cast<int64_t>(m.venue_count()));
    response->set_bytes_per_attendee(m.BytesPerAttendee());
    for (model::ConvocationType t : model::kConvocationTypes) {
      const auto& metrics = m.TypeMetrics(t);
      const auto all = metrics.AllTime();
      int64_t excluded = 0;
      for (model::Exclusion e : model::kExclusions) {
        excluded += metrics.excluded(e);
      }
      if (all.arrivals == 0 && all.outcomes == 0 && excluded == 0) continue;
      v1::TypeModelMetrics* tm = response->add_types();
      tm->set_convocation_type(ToWireType(t));
      FillMetrics(metrics, tm->mutable_metrics());
    }
    return 0;
  });
  return call.Finish(absl::OkStatus());
}

grpc::ServerUnaryReactor* ModelServiceImpl::ExplainPrediction(
    grpc::CallbackServerContext* ctx,
    const v1::ExplainPredictionRequest* request,
    v1::ExplainPredictionResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kExplainPrediction, *request,
                 request->venue_id());
  if (!call.admitted()) return call.reactor();
  if (absl::Status st = ValidateExplainPrediction(*request); !st.ok()) {
    return call.Finish(st);
  }
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
  if (!venue.ok()) return call.Finish(venue.status());
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(venue->time_zone(), &tz)) {
    return call.Finish(
        absl::FailedPreconditionError("venue.time_zone: unknown zone"));
  }
  const v1::ConvocationType type =
      request->convocation_type() != v1::CONVOCATION_TYPE_UNSPECIFIED
          ? request->convocation_type()
          : venue->convocation_type();
  const absl::Time at = ToTime(request->convocation_time());
  const model::ArrivalContext context =
      ContextAt(ToModelType(type), at, tz, request->attendee(),
                crowd_->ForPlanning(*venue, absl::Now()).recent_wait);
  const model::Explanation e =
      learning_->WithModel([&](const model::ArrivalModel& m) {
        return m.Explain(request->venue_id(), request->attendee().attendee_id(),
                         context);
      });
  auto offset_time = [&](double minutes) {
    return ToTimestamp(AddMinutes(at, minutes));
  };
  *response->mutable_predicted_arrival()->mutable_p10() =
      offset_time(e.forecast.p10_min);
  *response->mutable_predicted_arrival()->mutable_p50() =
      offset_time(e.forecast.p50_min);
  *response->mutable_predicted_arrival()->mutable_p90() =
      offset_time(e.forecast.p90_min);
  response->set_p10_offset_minutes(e.forecast.p10_min);
  response->set_p50_offset_minutes(e.forecast.p50_min);
  response->set_p90_offset_minutes(e.forecast.p90_min);
  response->set_no_show_probability(e.forecast.no_show_probability);
  for (const auto& [name, minutes] : e.terms) {
    v1::Contribution* c = response->add_contributions();
    c->set_name(name);
    c->set_minutes(minutes);
  }
  v1::Contribution* habit = response->add_contributions();
  habit->set_name("habit");
  habit->set_minutes(e.habit_min);
  v1::Contribution* residual = response->add_contributions();
  residual->set_name("residual_median");
  residual->set_minutes(e.residual_p50_min);
  response->set_habit_raw_minutes(e.habit_raw_min);
  response->set_habit_shrinkage(e.shrinkage);
  response->set_attendee_arrivals(e.forecast.attendee_arrivals);
  response->set_attendee_no_shows(e.attendee_no_shows);
  response->set_no_show_prior(e.no_show_prior);
  return call.Finish(absl::OkStatus());
}

}  // namespace noqueue::server
