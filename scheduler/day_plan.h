// Domain types shared by the planner and the simulator: a day to plan, in
// minutes from the window's start.
#ifndef NOQUEUE_SCHEDULER_DAY_PLAN_H_
#define NOQUEUE_SCHEDULER_DAY_PLAN_H_

#include <optional>
#include <vector>

#include "model/arrival_model.h"

namespace noqueue::scheduler {

struct ServiceProfile {
  int service_points = 1;
  double mean_service_min = 5.0;
  // Coefficient of variation of service times (lognormal); 0 = fixed.
  double service_cv = 0.5;
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
};

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_DAY_PLAN_H_
