#include "scheduler/promised_plan.h"

#include <cmath>

#include "scheduler/convocation_planner.h"

namespace noqueue::scheduler {

ServiceProfile ServiceProfileOf(int service_points,
                                const model::ServiceEstimate& service,
                                model::LocalTime start, double window_min) {
  ServiceProfile profile;
  profile.service_points = service_points;
  profile.mean_service_min = service.day.mean_min;
  profile.service_cv = service.day.cv;
  bool any_hour = false;
  for (const auto& h : service.by_hour) any_hour = any_hour || h.has_value();
  if (!any_hour) return profile;
  // Hour boundaries from the one the window starts in to a few hours past
  // its end (a day that runs over keeps its hours).
  double at = -(start.seconds() % 3600) / 60.0;
  int hour = start.HourOfDay();
  for (; at < window_min + 4 * 60; at += 60, hour = (hour + 1) % 24) {
    const model::ServiceMoments& m =
        service.by_hour[hour].value_or(service.day);
    profile.periods.push_back({at, m.mean_min, m.cv});
  }
  return profile;
}

PlanUncertainty VenueUncertainty(double arrivals, double outcomes,
                                 double services) {
  PlanUncertainty u;
  u.offset_shift_sd_min = VenueLevelSdMin(arrivals);
  u.service_mean_rel_sd = 0.3 / std::sqrt(1.0 + services / 5.0);
  u.no_show_logit_sd = 0.5 / std::sqrt(1.0 + outcomes / 50.0);
  return u;
}

absl::StatusOr<PromisedPlan> PlanAndPromise(const DayPlan& day,
                                            const OptimizerOptions& options,
                                            int kpi_replications) {
  absl::StatusOr<OptimizedSchedule> optimized =
      OptimizeConvocations(day, options);
  if (!optimized.ok()) return optimized.status();
  if (options.should_stop && options.should_stop()) {
    return absl::CancelledError("planning stopped before the KPIs");
  }
  PromisedPlan out;
  out.optimized = *std::move(optimized);
  const SimulatedDays simulated(day,
                                kpi_replications > 0
                                    ? kpi_replications
                                    : DefaultReplications(day.attendees.size()),
                                SimulationOptions{}.seed);
  out.kpis = simulated.Simulate(out.optimized.convocation_min);
  if (options.should_stop && options.should_stop()) {
    return absl::CancelledError("planning stopped during the KPIs");
  }
  out.naive_kpis = simulated.Simulate(NaiveConvocations(day));
  return out;
}

}  // namespace noqueue::scheduler
