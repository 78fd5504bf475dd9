// ConvocationPlanner: chooses when to convoke each attendee so that they
// arrive when a service point is free.
//
// The constructive plan, steps 1-3 of docs/design.md ("How the scheduler
// decides"): order (fixed appointments keep their time; free attendees with
// narrow arrival windows first), plan target arrivals spread over the window
// in proportion to expected attendance (expected no-shows leave no gap; with
// a service that varies over the day, in proportion to the capacity of each
// stretch of it), and convoke each attendee so that the chosen quantile (the
// median by default) of *their own* predicted arrival lands on their target:
// someone who is always ten minutes late is convoked ten minutes earlier.
// ScheduleOptimizer starts from this plan.
//
//   DayPlan day = ...;
//   std::vector<double> minutes = PlanConvocations(day);
#ifndef NOQUEUE_SCHEDULER_CONVOCATION_PLANNER_H_
#define NOQUEUE_SCHEDULER_CONVOCATION_PLANNER_H_

#include <vector>

#include "scheduler/day_plan.h"

namespace noqueue::scheduler {

// Which free attendees take the earlier targets.
enum class TargetOrder {
  // Narrow predicted windows first: low variance before high variance, near
  // optimal in the literature for one server and a day that ends on time.
  kNarrowFirst,
  // Narrow windows at both ends of the day, wide ones in the middle: the
  // first arrivals set the day going, the last decide its overtime, and
  // neither is the place for someone who may come at any time.
  kNarrowAtEnds,
  // Those predicted to come latest first, the earliest comers last: a late
  // comer cannot be convoked before the opening, an early one not after
  // closing, and the day's last arrivals, early comers convoked late, are
  // the least likely to run it over. Best where overtime is dear (many
  // desks, each idle while the day runs over).
  kLateFirst,
  // The day's order.
  kAsGiven,
};

// Returns one convocation per attendee of `day`, in minutes from window
// start, in the attendees' order: multiples of the granularity inside
// [0, window), fixed attendees' times unchanged. Each free attendee is
// convoked so that the `arrival_quantile` (in (0, 1)) of their predicted
// arrival lands on their target; targets go to free attendees in `order`.
// With a day-level uncertainty (DayPlan::uncertainty), the quantile is the
// one of the offset plus the day's shift.
std::vector<double> PlanConvocations(
    const DayPlan& day, double arrival_quantile = 0.5,
    TargetOrder order = TargetOrder::kNarrowFirst);

// The number of services the service points can give in [0, minute] at the
// profile's mean service times, period by period (ServiceProfile::periods);
// points x minute / mean service without periods.
double ServiceCapacity(const ServiceProfile& service, double minute);

// The minute at which ServiceCapacity reaches `services` (>= 0); past the
// last period its mean goes on.
double MinuteOfCapacity(const ServiceProfile& service, double services);

// The naive schedule a venue would make by hand: attendees spread evenly
// over the window in the order given, ignoring habits and no-shows.
std::vector<double> NaiveConvocations(const DayPlan& day);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_CONVOCATION_PLANNER_H_
