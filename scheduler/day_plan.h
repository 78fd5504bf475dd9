// Domain types shared by the planner, the optimiser and the simulator: a day
// to plan, in minutes from the window's start.
#ifndef NOQUEUE_SCHEDULER_DAY_PLAN_H_
#define NOQUEUE_SCHEDULER_DAY_PLAN_H_

#include <algorithm>
#include <cmath>
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

// The service from `start_min` (minutes from window start) until the next
// period's start, or to the end of the day for the last one.
struct ServicePeriod {
  double start_min = 0.0;
  double mean_service_min = 5.0;
  double service_cv = 0.5;
};

struct ServiceProfile {
  int service_points = 1;
  double mean_service_min = 5.0;
  // Coefficient of variation of service times; 0 = fixed.
  double service_cv = 0.5;
  ServiceDistribution distribution = ServiceDistribution::kLognormal;
  // Optional: a service that changes over the day (staff slower after lunch,
  // a harder mix of cases in the morning), piecewise constant. A service that
  // starts in [periods[j].start_min, periods[j + 1].start_min) takes that
  // period's mean and cv; before the first period, and when there is none,
  // mean_service_min and service_cv apply. Starts strictly increase. The
  // server fills one period per venue-local hour where it has learned one.
  std::vector<ServicePeriod> periods;
};

// What the forecasts leave out: how far the whole day may be off, together.
// Each simulated day draws, once for every attendee, a shift of the arrival
// offsets, a factor of the mean service time and a shift of the no-show
// log-odds (from its own stream, so that the attendees' draws, and common
// random numbers across schedules, are unchanged). A plan optimised over
// those days is hedged against them, and the KPIs' predictive intervals
// include them. All zero (the default): forecasts are taken as exact.
struct PlanUncertainty {
  // Sd, minutes, of a normal shift of every arrival offset on a day: the
  // model's uncertainty about the venue's level. For a venue without history,
  // the spread of levels across venues of its type (ArrivalModel's prior sd
  // of a type's intercept is 10 min); shrinking as the venue's own arrivals
  // are learned, e.g. sd0 / sqrt(1 + arrivals / 20) (ArrivalModel shrinks a
  // venue's level as if 20 arrivals said zero).
  double offset_shift_sd_min = 0.0;
  // Relative sd of the day's mean service time (a lognormal factor of mean
  // 1): ~0.3 for a declared but never measured service time, a few percent
  // once learned from SERVICE_STARTED / SERVICE_ENDED tags.
  double service_mean_rel_sd = 0.0;
  // Sd of a normal shift of every attendee's no-show log-odds on a day
  // (rates across venues of one type vary from a few percent to a third).
  double no_show_logit_sd = 0.0;
};

// How far a new venue's level (its attendees' mean arrival offset) may sit
// from its convocation type's prior, as a standard deviation in minutes: the
// literature's clinics span about -20 to -25 minutes; two sds of 5 minutes
// cover twice that.
inline constexpr double kNewVenueLevelSdMin = 5.0;

// What is left of that uncertainty once `arrivals` of the venue have been
// learned (ArrivalModel shrinks a venue's level as if 20 arrivals said
// zero).
inline double VenueLevelSdMin(double arrivals) {
  return kNewVenueLevelSdMin / std::sqrt(1.0 + std::max(0.0, arrivals) / 20.0);
}

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
  PlanUncertainty uncertainty;
};

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_DAY_PLAN_H_
