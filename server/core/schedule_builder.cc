#include "server/core/schedule_builder.h"

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "model/local_time.h"
#include "proto/base/wire_time.h"
#include "scheduler/promised_plan.h"
#include "server/common/domain_enums.h"
#include "server/core/retiming_rules.h"

namespace noqueue::server {

model::ArrivalContext ContextAt(model::ConvocationType type, absl::Time t,
                                const absl::TimeZone& tz, const v1::Attendee& a,
                                std::optional<absl::Duration> recent_wait) {
  const absl::TimeZone::CivilInfo local = tz.At(t);
  model::ArrivalContext ctx;
  ctx.type = type;
  ctx.local_hour = local.cs.hour();
  ctx.local_weekday =
      static_cast<int>(absl::GetWeekday(absl::CivilDay(local.cs)));
  ctx.party_size = std::max(1, a.party_size());
  ctx.at = t;
  if (a.has_booking_time()) {
    ctx.lead_days =
        std::max(0.0, absl::ToDoubleHours(t - ToTime(a.booking_time())) / 24.0);
  }
  // Sorted by name, so that the model meets them in the same order on
  // replay (std::map iteration order; the proto map's is unspecified).
  std::map<std::string, double> sorted(a.features().begin(),
                                       a.features().end());
  if (recent_wait) sorted[kRecentWaitFeature] = ToMinutes(*recent_wait);
  for (const auto& [name, value] : sorted)
    ctx.features.push_back({name, value});
  return ctx;
}

namespace {

void FillKpis(const scheduler::SimulationResult& sim, v1::ScheduleKpis* out) {
  *out->mutable_expected_mean_wait() = MinutesToDuration(sim.mean_wait_min);
  *out->mutable_p90_wait() = MinutesToDuration(sim.p90_wait_min);
  out->set_expected_max_queue(sim.expected_max_queue);
  *out->mutable_staff_idle_time() = MinutesToDuration(sim.idle_min);
  *out->mutable_overtime() = MinutesToDuration(sim.overtime_min);
  auto range = [](const scheduler::PredictiveInterval& i,
                  v1::DurationRange* r) {
    *r->mutable_low() = MinutesToDuration(i.low);
    *r->mutable_high() = MinutesToDuration(i.high);
  };
  range(sim.mean_wait_pi90, out->mutable_mean_wait_range90());
  range(sim.idle_pi90, out->mutable_staff_idle_range90());
  range(sim.overtime_pi90, out->mutable_overtime_range90());
}

// What a request asks for, in the terms planning needs.
struct Request {
  const v1::CreateScheduleRequest& wire;
  v1::ConvocationType wire_type;
  model::ConvocationType type;
  absl::TimeZone tz;
  absl::Time start;
  double window_min;

  size_t size() const { return wire.attendees_size(); }
  const v1::Attendee& attendee(size_t i) const {
    return wire.attendees(static_cast<int>(i));
  }
  // Minutes from the window's start of an attendee's fixed time.
  std::optional<double> FixedMinutes(size_t i) const {
    if (!attendee(i).has_fixed_convocation_time()) return std::nullopt;
    return ToMinutes(ToTime(attendee(i).fixed_convocation_time()) - start);
  }
};

struct Predictions {
  std::vector<model::ArrivalForecast> forecasts;
  // The dynamic features each prediction used, stored with the convocation.
  std::vector<model::DynamicFeatures> dynamic;
};

// Until convocations are planned, each attendee is predicted at the hour of
// their even-spread slot (or of their fixed time).
Predictions Predict(const Request& r, const v1::Venue& venue,
                    const Learner& learning, const VenueLive& live) {
  const size_t n = r.size();
  std::vector<std::string> ids(n);
  std::vector<model::ArrivalContext> contexts(n);
  for (size_t i = 0; i < n; ++i) {
    const v1::Attendee& a = r.attendee(i);
    ids[i] = a.attendee_id();
    const absl::Time at = a.has_fixed_convocation_time()
                              ? ToTime(a.fixed_convocation_time())
                              : AddMinutes(r.start, r.window_min * i / n);
    contexts[i] = ContextAt(r.type, at, r.tz, a, live.recent_wait);
  }
  Predictions p;
  p.forecasts = learning.Predict(venue.venue_id(), ids, contexts, &p.dynamic);
  return p;
}

scheduler::DayPlan DayOf(const Request& r, const v1::Venue& venue,
                         const PlanningContext& context,
                         const Learner::VenueEvidence& evidence,
                         const Predictions& p) {
  scheduler::DayPlan day;
  day.window_min = r.window_min;
  day.service = scheduler::ServiceProfileOf(
      venue.service_points(), context.live.service,
      model::LocalTime::At(r.start, r.tz), r.window_min);
  day.uncertainty = scheduler::VenueUncertainty(
      evidence.arrivals, evidence.outcomes, context.live.service.services);
  day.attendees.resize(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    day.attendees[i].forecast = p.forecasts[i];
    day.attendees[i].fixed_min = r.FixedMinutes(i);
  }
  const v1::PlanningOptions& planning = r.wire.planning();
  if (planning.has_granularity()) {
    day.granularity_min = ToMinutes(ToDuration(planning.granularity()));
  }
  return day;
}

// The optimiser under the request's options (the type's defaults when
// unset).
scheduler::OptimizerOptions OptimizerOf(const Request& r,
                                        const scheduler::DayPlan& day,
                                        const PlanningContext& context) {
  const v1::PlanningOptions& planning = r.wire.planning();
  scheduler::OptimizerOptions o;
  o.weights = scheduler::DefaultCostWeights(r.type);
  if (planning.has_weights()) {
    o.weights = {planning.weights().wait(), planning.weights().idle(),
                 planning.weights().overtime()};
  }
  // The request's budget, or one that grows with the day's size and load;
  // either way at most half the time the caller will wait.
  o.time_budget_ms =
      planning.has_time_budget()
          ? absl::ToDoubleMilliseconds(ToDuration(planning.time_budget()))
          : scheduler::DefaultTimeBudgetMs(day);
  if (context.time_left < absl::InfiniteDuration()) {
    o.time_budget_ms = std::min(
        o.time_budget_ms,
        std::max(0.0, absl::ToDoubleMilliseconds(context.time_left) / 2));
  }
  o.overflow = planning.overflow() == v1::OVERFLOW_REFUSE
                   ? scheduler::OverflowPolicy::kRefuse
                   : scheduler::OverflowPolicy::kRunOver;
  o.should_stop = context.should_stop;
  return o;
}

// One convocation per attendee at `planned` (minutes from the window's
// start), with what was predicted and promised for them; and the facts the
// model will learn their outcome against.
void FillConvocations(const Request& r, const Predictions& p,
                      const std::vector<double>& planned,
                      const scheduler::SimulationResult& sim,
                      const VenueLive& live, NewSchedule* out) {
  v1::Schedule& s = out->schedule;
  out->facts.resize(r.size());
  s.mutable_convocations()->Reserve(static_cast<int>(r.size()));
  for (size_t i = 0; i < r.size(); ++i) {
    const v1::Attendee& a = r.attendee(i);
    const model::ArrivalForecast& f = p.forecasts[i];
    const absl::Time at = a.has_fixed_convocation_time()
                              ? ToTime(a.fixed_convocation_time())
                              : AddMinutes(r.start, planned[i]);
    v1::Convocation* c = s.add_convocations();
    c->set_attendee_id(a.attendee_id());
    *c->mutable_convocation_time() = ToTimestamp(at);
    *c->mutable_predicted_arrival()->mutable_p10() =
        ToTimestamp(AddMinutes(at, f.p10_min));
    *c->mutable_predicted_arrival()->mutable_p50() =
        ToTimestamp(AddMinutes(at, f.p50_min));
    *c->mutable_predicted_arrival()->mutable_p90() =
        ToTimestamp(AddMinutes(at, f.p90_min));
    c->set_no_show_probability(f.no_show_probability);
    *c->mutable_expected_wait() = MinutesToDuration(sim.expected_wait_min[i]);
    c->set_fixed(a.has_fixed_convocation_time());
    c->set_party_size(std::max(1, a.party_size()));
    out->facts[i].context = ContextAt(r.type, at, r.tz, a, live.recent_wait);
    out->facts[i].context.as_predicted = p.dynamic[i];
  }
}

}  // namespace

absl::StatusOr<NewSchedule> BuildSchedule(
    const v1::CreateScheduleRequest& request, const v1::Venue& venue,
    const Learner& learning, const PlanningContext& context,
    const std::string& schedule_id) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(venue.time_zone(), &tz)) {
    return absl::FailedPreconditionError(
        absl::StrCat("venue.time_zone: stored zone \"", venue.time_zone(),
                     "\" is no longer known to this server"));
  }
  const v1::ConvocationType wire_type =
      request.convocation_type() != v1::CONVOCATION_TYPE_UNSPECIFIED
          ? request.convocation_type()
          : venue.convocation_type();
  const absl::Time start = ToTime(request.window_start());
  const Request r{
      request, wire_type, ToModelType(wire_type),
      tz,      start,     ToMinutes(ToTime(request.window_end()) - start)};

  const Predictions predictions = Predict(r, venue, learning, context.live);
  const scheduler::DayPlan day = DayOf(
      r, venue, context, learning.EvidenceOf(venue.venue_id()), predictions);
  const scheduler::OptimizerOptions optimizer = OptimizerOf(r, day, context);
  absl::StatusOr<scheduler::PromisedPlan> plan =
      scheduler::PlanAndPromise(day, optimizer);
  if (!plan.ok()) return plan.status();

  NewSchedule out;
  v1::Schedule& s = out.schedule;
  s.set_schedule_id(schedule_id);
  s.set_venue_id(venue.venue_id());
  s.set_convocation_type(wire_type);
  *s.mutable_window_start() = request.window_start();
  *s.mutable_window_end() = request.window_end();
  *s.mutable_create_time() = ToTimestamp(context.now);
  s.set_request_id(request.request_id());
  s.set_model_events_learned(learning.events_learned());
  *s.mutable_retiming() = EffectiveRetimingRules(request.retiming(), wire_type);
  s.mutable_weights()->set_wait(optimizer.weights.wait);
  s.mutable_weights()->set_idle(optimizer.weights.idle);
  s.mutable_weights()->set_overtime(optimizer.weights.overtime);
  FillKpis(plan->kpis, s.mutable_kpis());
  FillKpis(plan->naive_kpis, s.mutable_naive_kpis());
  FillConvocations(r, predictions, plan->optimized.convocation_min, plan->kpis,
                   context.live, &out);
  return out;
}

}  // namespace noqueue::server
