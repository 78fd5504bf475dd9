#include "bench/planner_ceiling.h"

#include <chrono>
#include <cmath>
#include <thread>

#include "absl/strings/str_format.h"
#include "bench/cpu_pinning.h"
#include "model/convocation_type.h"
#include "model/service_time_model.h"
#include "proto/base/wire_time.h"
#include "scheduler/cost_weights.h"
#include "server/common/domain_enums.h"
#include "server/core/schedule_builder.h"

namespace noqueue::bench {
// The inputs the server derives from the request before it plans
// (server/schedule_builder.cc: Predict, DayOf, OptimizerOf), derived once
// here: converting them is the server's overhead, not the planner's.
PlannerCeiling::PlannerCeiling(const v1::Venue& venue,
                               const v1::CreateScheduleRequest& request)
    : venue_id_(venue.venue_id()) {
  absl::TimeZone tz;
  absl::LoadTimeZone(venue.time_zone(), &tz);
  const model::ConvocationType type = server::ToModelType(
      request.convocation_type() != v1::CONVOCATION_TYPE_UNSPECIFIED
          ? request.convocation_type()
          : venue.convocation_type());
  const absl::Time start = ToTime(request.window_start());
  const double window_min = ToMinutes(ToTime(request.window_end()) - start);
  const size_t n = request.attendees_size();
  day_.window_min = window_min;
  day_.attendees.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const v1::Attendee& a = request.attendees(static_cast<int>(i));
    attendee_ids_.push_back(a.attendee_id());
    const absl::Time at = a.has_fixed_convocation_time()
                              ? ToTime(a.fixed_convocation_time())
                              : AddMinutes(start, window_min * i / n);
    contexts_.push_back(server::ContextAt(type, at, tz, a));
    if (a.has_fixed_convocation_time()) {
      day_.attendees[i].fixed_min =
          ToMinutes(ToTime(a.fixed_convocation_time()) - start);
    }
  }
  // A fresh server's view of the venue's service: what it declares.
  const model::ServiceMoments declared{
      ToMinutes(ToDuration(venue.mean_service_time())),
      venue.has_service_time_cv() ? venue.service_time_cv()
                                  : model::PriorFor(type).service_cv};
  const model::ServiceEstimate service =
      model::ServiceTimeModel().Estimate(venue.venue_id(), declared);
  day_.service =
      scheduler::ServiceProfileOf(venue.service_points(), service,
                                  model::LocalTime::At(start, tz), window_min);
  day_.uncertainty = scheduler::VenueUncertainty(0, 0, service.services);
  const v1::PlanningOptions& planning = request.planning();
  if (planning.has_granularity()) {
    day_.granularity_min = ToMinutes(ToDuration(planning.granularity()));
  }
  options_.weights = scheduler::DefaultCostWeights(type);
  if (planning.has_weights()) {
    options_.weights = {planning.weights().wait(), planning.weights().idle(),
                        planning.weights().overtime()};
  }
  // The bench's calls carry no deadline: the server does not cap the budget
  // by the time left either.
  options_.time_budget_ms =
      planning.has_time_budget()
          ? absl::ToDoubleMilliseconds(ToDuration(planning.time_budget()))
          : scheduler::kAutomaticBudget;
  options_.overflow = planning.overflow() == v1::OVERFLOW_REFUSE
                          ? scheduler::OverflowPolicy::kRefuse
                          : scheduler::OverflowPolicy::kRunOver;
}

void PlannerCeiling::Predict(scheduler::DayPlan* day) const {
  model::DynamicFeatures used;
  for (size_t i = 0; i < attendee_ids_.size(); ++i) {
    day->attendees[i].forecast =
        model_.Predict(venue_id_, attendee_ids_[i], contexts_[i], &used);
  }
}

absl::StatusOr<scheduler::PromisedPlan> PlannerCeiling::PlanOnce() const {
  scheduler::DayPlan day = day_;
  Predict(&day);
  return scheduler::PlanAndPromise(day, options_);
}

double PlannerCeiling::budget_ms() const {
  if (options_.time_budget_ms != scheduler::kAutomaticBudget) {
    return options_.time_budget_ms;
  }
  scheduler::DayPlan day = day_;
  Predict(&day);
  return scheduler::DefaultTimeBudgetMs(day);
}

std::string PlannerCeiling::DifferencesFrom(const v1::Schedule& served) const {
  if (served.convocations_size() != static_cast<int>(attendee_ids_.size())) {
    return absl::StrFormat("%d convocations served for %d attendees",
                           served.convocations_size(), attendee_ids_.size());
  }
  scheduler::DayPlan day = day_;
  Predict(&day);
  double worst_min = 0, worst_p = 0;
  for (int i = 0; i < served.convocations_size(); ++i) {
    const v1::Convocation& c = served.convocations(i);
    const model::ArrivalForecast& f = day.attendees[i].forecast;
    const absl::Time at = ToTime(c.convocation_time());
    const v1::PredictedArrival& p = c.predicted_arrival();
    for (auto [wire, mine] :
         {std::pair{p.p10(), f.p10_min}, std::pair{p.p50(), f.p50_min},
          std::pair{p.p90(), f.p90_min}}) {
      worst_min =
          std::max(worst_min, std::abs(ToMinutes(ToTime(wire) - at) - mine));
    }
    worst_p = std::max(
        worst_p, std::abs(c.no_show_probability() - f.no_show_probability));
  }
  if (worst_min <= 0.01 && worst_p <= 1e-4) return "";
  return absl::StrFormat(
      "predictions differ by up to %.3f min and %.5f in no-show probability",
      worst_min, worst_p);
}

PlannerCeiling::Run PlannerCeiling::Measure(double seconds, int cpu) const {
  Run run;
  std::thread worker([&] {
    if (cpu >= 0) PinThisThread(cpu);
    using Clock = std::chrono::steady_clock;
    const double cpu0 = ThreadCpuSeconds();
    const auto t0 = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
      const auto start = Clock::now();
      if (PlanOnce().ok()) {
        ++run.calls;
        run.latency_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start)
                .count());
      } else {
        ++run.errors;
      }
    }
    run.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    run.cpu_s = ThreadCpuSeconds() - cpu0;
  });
  worker.join();
  return run;
}

}  // namespace noqueue::bench
