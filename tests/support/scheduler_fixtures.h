// Small builders shared by the scheduler's tests: attendees from their
// forecast quantiles, days, simulation options and the search's budget.
#ifndef NOQUEUE_TESTS_SUPPORT_SCHEDULER_FIXTURES_H_
#define NOQUEUE_TESTS_SUPPORT_SCHEDULER_FIXTURES_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "scheduler/day_plan.h"
#include "scheduler/queue_simulator.h"
#include "scheduler/schedule_optimizer.h"

namespace noqueue::scheduler::testing {

inline PlannedAttendee Attendee(double p10, double p50, double p90,
                                double no_show = 0.0) {
  PlannedAttendee a;
  a.forecast.p10_min = p10;
  a.forecast.p50_min = p50;
  a.forecast.p90_min = p90;
  a.forecast.no_show_probability = no_show;
  return a;
}

inline DayPlan Day(double window_min, int points, double mean_service_min,
                   ServiceDistribution dist, double cv,
                   std::vector<PlannedAttendee> attendees,
                   double granularity_min = 1.0) {
  DayPlan day;
  day.window_min = window_min;
  day.service.service_points = points;
  day.service.mean_service_min = mean_service_min;
  day.service.distribution = dist;
  day.service.service_cv = cv;
  day.attendees = std::move(attendees);
  day.granularity_min = granularity_min;
  return day;
}

// A day with the default (lognormal) service times.
inline DayPlan Day(double window_min, int points, double mean_service_min,
                   double cv, std::vector<PlannedAttendee> attendees,
                   double granularity_min = 1.0) {
  return Day(window_min, points, mean_service_min,
             ServiceDistribution::kLognormal, cv, std::move(attendees),
             granularity_min);
}

// An optimiser bounded by its count of evaluations, not by the clock, so
// that a test's search is the same on a loaded machine.
inline OptimizerOptions Budget(int evaluations, CostWeights weights = {}) {
  OptimizerOptions o;
  o.weights = weights;
  o.time_budget_ms = 1e9;
  o.max_evaluations = evaluations;
  return o;
}

inline SimulationOptions Options(int replications, uint64_t seed = 20261123) {
  SimulationOptions o;
  o.replications = replications;
  o.seed = seed;
  return o;
}

}  // namespace noqueue::scheduler::testing

#endif  // NOQUEUE_TESTS_SUPPORT_SCHEDULER_FIXTURES_H_
