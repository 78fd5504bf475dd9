#include "server/model_service.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "server/proto_time.h"
#include "server/schedule_builder.h"
#include "server/services.h"
#include "server/validation.h"

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
  static const char* const kNames[model::kExclusionCount] = {
      "repeat", "future", "absurd", "out_of_order"};
  for (int i = 0; i < model::kExclusionCount; ++i) {
    (*out->mutable_excluded())[kNames[i]] =
        m.excluded(static_cast<model::Exclusion>(i));
  }
}

}  // namespace

grpc::ServerUnaryReactor* ModelServiceImpl::GetModelInfo(
    grpc::CallbackServerContext* ctx, const v1::GetModelInfoRequest* request,
    v1::GetModelInfoResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!request->venue_id().empty()) {
    absl::Status st = ValidateId("venue_id", request->venue_id());
    if (st.ok()) st = store_->GetVenue(request->venue_id()).status();
    if (!st.ok()) {
      reactor->Finish(ToGrpcStatus(st));
      return reactor;
    }
  }
  response->set_model_version(kModelVersion);
  response->set_last_event_seq(learning_->last_seq());
  learning_->WithModel([&](const model::ArrivalModel& m) {
    response->set_events_learned(m.events_learned());
    response->set_attendees_known(static_cast<int64_t>(m.attendee_count()));
    response->set_venues_known(static_cast<int64_t>(m.venue_count()));
    response->set_bytes_per_attendee(m.BytesPerAttendee());
    for (int t = 0; t < model::kConvocationTypeCount; ++t) {
      const auto& metrics = m.TypeMetrics(static_cast<model::ConvocationType>(t));
      const auto all = metrics.AllTime();
      int64_t excluded = 0;
      for (int e = 0; e < model::kExclusionCount; ++e) {
        excluded += metrics.excluded(static_cast<model::Exclusion>(e));
      }
      if (all.arrivals == 0 && all.outcomes == 0 && excluded == 0) continue;
      v1::TypeModelMetrics* tm = response->add_types();
      tm->set_convocation_type(static_cast<v1::ConvocationType>(t + 1));
      FillMetrics(metrics, tm->mutable_metrics());
    }
    if (!request->venue_id().empty()) {
      if (const auto* vm = m.VenueMetrics(request->venue_id())) {
        FillMetrics(*vm, response->mutable_venue_metrics());
      }
    }
    return 0;
  });
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ModelServiceImpl::ExplainPrediction(
    grpc::CallbackServerContext* ctx,
    const v1::ExplainPredictionRequest* request,
    v1::ExplainPredictionResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto fail = [reactor](const absl::Status& st) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  };
  absl::Status st = ValidateId("venue_id", request->venue_id());
  if (st.ok()) {
    st = ValidateId("attendee.attendee_id", request->attendee().attendee_id());
  }
  if (!st.ok()) return fail(st);
  if (!v1::ConvocationType_IsValid(request->convocation_type())) {
    return fail(absl::InvalidArgumentError(
        "convocation_type: is not a known convocation type"));
  }
  if (!request->has_convocation_time()) {
    return fail(absl::InvalidArgumentError("convocation_time: is required"));
  }
  for (const auto& [name, value] : request->attendee().features()) {
    if (!std::isfinite(value)) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "attendee.features[\"", name, "\"]: must be a finite number")));
    }
  }
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
  if (!venue.ok()) return fail(venue.status());
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(venue->time_zone(), &tz)) {
    return fail(absl::FailedPreconditionError("venue.time_zone: unknown zone"));
  }
  const v1::ConvocationType type =
      request->convocation_type() != v1::CONVOCATION_TYPE_UNSPECIFIED
          ? request->convocation_type()
          : venue->convocation_type();
  const absl::Time at = ToTime(request->convocation_time());
  const model::ArrivalContext context = ContextAt(
      ToModelType(type), at, tz, request->attendee(),
      crowd_->ForPlanning(*venue, absl::ToUnixMicros(absl::Now()))
          .recent_wait_min);
  const model::Explanation e =
      learning_->WithModel([&](const model::ArrivalModel& m) {
        return m.Explain(request->venue_id(), request->attendee().attendee_id(),
                         context);
      });
  auto offset_time = [&](double minutes) {
    return ToTimestamp(at + absl::Seconds(std::round(minutes * 60.0)));
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
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace noqueue::server
