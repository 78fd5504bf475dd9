// Domain types shared by the planner, the optimiser and the simulator: a day
// to plan, in minutes from the window's start.
#ifndef NOQUEUE_SCHEDULER_DAY_PLAN_H_
#define NOQUEUE_SCHEDULER_DAY_PLAN_H_

#include <optional>
#include <vector>

#include "model/arrival_model.h"

namespace noqueue::scheduler {

// How service times are drawn around the venue's mean.
enum class ServiceDistribution {
  kLognormal,      // mean and cv; cv 0 = fixed
  kGamma,          // shape 1 / cv^2; cv 0 = fixed
  kExponential,    // cv is 1 whatever service_cv says
  kDeterministic,  // always the mean
};

// Which waiting attendee a freed service point takes.
enum class ServiceOrder {
  kByArrival,      // first come, first served
  kByConvocation,  // earliest convocation first among those present
};

struct ServiceProfile {
  int service_points = 1;
  double mean_service_min = 5.0;
  // Coefficient of variation of service times; 0 = fixed.
  double service_cv = 0.5;
  ServiceDistribution distribution = ServiceDistribution::kLognormal;
};

struct PlannedAttendee {
  model::ArrivalForecast forecast;
  // Minutes from window start when the time is already decided.
  std::optional<double> fixed_min;
};

struct DayPlan {
  double window_min = 0.0;  // length of [start, end)
  ServiceProfile service;
  std::vector<PlannedAttendee> attendees;
  double granularity_min = 1.0;
  ServiceOrder order = ServiceOrder::kByArrival;
};

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_DAY_PLAN_H_
