// ConvocationPlanner: chooses when to convoke each attendee so that they
// arrive when a service point is free.
//
// First version of the design's steps 1-3: order (fixed appointments keep
// their time; free attendees with narrow arrival windows first), plan target
// arrivals spread over the window in proportion to expected attendance
// (expected no-shows leave no gap), and convoke each attendee so that the
// chosen quantile (the median by default) of *their own* predicted arrival
// lands on their target: someone who is always ten minutes late is convoked
// ten minutes earlier. ScheduleOptimizer starts from this plan.
//
//   DayPlan day = ...;
//   std::vector<double> minutes = PlanConvocations(day);
#ifndef NOQUEUE_SCHEDULER_CONVOCATION_PLANNER_H_
#define NOQUEUE_SCHEDULER_CONVOCATION_PLANNER_H_

#include <vector>

#include "scheduler/day_plan.h"

namespace noqueue::scheduler {

// Returns one convocation per attendee of `day`, in minutes from window
// start, in the attendees' order: multiples of the granularity inside
// [0, window), fixed attendees' times unchanged. Each free attendee is
// convoked so that the `arrival_quantile` (in (0, 1)) of their predicted
// arrival lands on their target.
std::vector<double> PlanConvocations(const DayPlan& day,
                                     double arrival_quantile = 0.5);

// The naive schedule a venue would make by hand: attendees spread evenly
// over the window in the order given, ignoring habits and no-shows.
std::vector<double> NaiveConvocations(const DayPlan& day);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_CONVOCATION_PLANNER_H_
