// ScheduleOptimizer: steps 1-4 of docs/design.md ("How the scheduler
// decides"), convocation times that minimise the weighted cost of waiting,
// idle time and overtime.
//
// 1. Order: fixed appointments keep their time; free attendees with narrow
//    predicted windows (low variance) take the earlier targets.
// 2. Targets spread over the window by expected attendance, so expected
//    no-shows are filled by others (overbooking), two at the first slot when
//    the day is at capacity (Bailey-Welch).
// 3. Each attendee is convoked so that the quantile wait-cost-critical
//    quantile idle / (idle + wait) of their own predicted arrival lands on
//    their target (the newsvendor answer to "arrive early and wait, or late
//    and leave the desk idle").
// 4. Local search under a time budget (ConvocationSearch): from the
//    cheapest of a few constructive plans (targets given narrow windows
//    first, narrow windows at both ends, late comers first, the day's order,
//    and the naive even spread), the day is stretched, squeezed or shifted
//    from a pivot, attendees are moved one at a time, in runs and in swaps,
//    by 8 down to 1 grid steps, each move scored by replaying
//    only what it changes of the same simulated days (common random numbers)
//    and kept when its gain stands out of its noise; when none does, the
//    search takes more days, and stops when none does on the most days.
//    With a PlanUncertainty in the day, the days draw it, and the plan is
//    hedged against it. With an uncertain venue level (offset_shift_sd_min
//    >= kGuardMinShiftSdMin, a new venue), the search weighs each day relative
//    to what the naive even spread costs that day, and the result is moved
//    toward the spread, as little as needed, until it costs no more than the
//    spread on venues whose level sits -2 to +2 sds off the forecasts: a first
//    day that cannot lose to what the venue would have done by hand.
// Times are multiples of the granularity inside [0, window): never before
// the opening. When the expected attendance needs more time than the window
// holds, OverflowPolicy::kRefuse fails with FAILED_PRECONDITION naming the
// minutes missing; kRunOver keeps the convocations in the window and lets the
// day run over (the overtime weight then decides how hard it is packed).
//
//   OptimizerOptions options;
//   options.weights = DefaultCostWeights(model::ConvocationType::kMuseum);
//   absl::StatusOr<OptimizedSchedule> s = OptimizeConvocations(day, options);
#ifndef NOQUEUE_SCHEDULER_SCHEDULE_OPTIMIZER_H_
#define NOQUEUE_SCHEDULER_SCHEDULE_OPTIMIZER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scheduler/cost_weights.h"
#include "scheduler/day_plan.h"

namespace noqueue::scheduler {

enum class OverflowPolicy { kRunOver, kRefuse };

// The venue level's uncertainty (PlanUncertainty::offset_shift_sd_min) from
// which OptimizerOptions::guard_against_naive acts: a new venue. With
// VenueLevelSdMin, fewer than about 35 learned arrivals; past that the plan
// minimises the expected cost over the uncertainty (days weighed relative to
// the spread would no longer be the venue's cost).
inline constexpr double kGuardMinShiftSdMin = 3.0;

// OptimizerOptions::time_budget_ms for "what the day deserves":
// DefaultTimeBudgetMs(day).
inline constexpr double kAutomaticBudget = -1.0;

struct OptimizerOptions {
  CostWeights weights;
  // Wall time the improvement phase may take (scoring the constructive plans
  // and the local search), from the call; 0 = the constructive plan only;
  // kAutomaticBudget (the default) = DefaultTimeBudgetMs(day). The search
  // also stops before, once no move's gain stands out of its noise on its
  // most days. The server caps it by the request's deadline.
  double time_budget_ms = kAutomaticBudget;
  // When > 0, the local search also stops after this many scored moves
  // (what tests use for results that do not depend on the machine's speed).
  int max_evaluations = 0;
  // Simulated days that score candidates at first; 0 =
  // DefaultSearchReplications.
  int replications = 0;
  // Days the search may grow to (doubling) when no move stands out of the
  // noise; 0 = 8 x the first days when `replications` is 0, else
  // `replications` (a fixed number of days).
  int max_replications = 0;
  // Seeds the search's simulated days (drawn apart from SimulateDay's with
  // the same seed, so that KPIs stated afterwards are not the days the plan
  // was tuned to).
  uint64_t seed = 20261123;
  OverflowPolicy overflow = OverflowPolicy::kRunOver;
  // With an uncertain venue level (day.uncertainty.offset_shift_sd_min >=
  // kGuardMinShiftSdMin): weigh days relative to the naive spread and keep
  // the plan from costing more than it on venues -2 to +2 sds off (see the
  // file comment); the search then has 60% of the budget, the check the
  // rest (it runs to the end even past the budget). Off: the plan minimises
  // the expected cost over the uncertainty alone.
  bool guard_against_naive = true;
  // When set, polled between the search's evaluations: once it returns true
  // the optimiser gives up with CANCELLED (the caller's request was
  // cancelled or ran out of time).
  std::function<bool()> should_stop;
};

struct OptimizedSchedule {
  // One per attendee, in the day's order, minutes from window start.
  std::vector<double> convocation_min;
  // Attendee indices by convocation time (ties: by index).
  std::vector<size_t> order;
  // Expected cost on the search's final simulated days: of the constructive
  // plan (PlanConvocations, narrow windows first) and of the result (never
  // higher); NaN when no search ran.
  double constructive_cost = 0.0;
  double cost = 0.0;
  int evaluations = 0;     // moves scored
  int accepted_moves = 0;  // moves kept
  // Simulated days the search ended on (0 when no search ran).
  int replications = 0;
  // The search stopped because no move stood out of its noise on its most
  // days, not for its budget.
  bool converged = false;
  // The budget the search was given, ms (after kAutomaticBudget).
  double time_budget_ms = 0.0;
  // With an uncertain venue level: the share (0 to 1) by which the plan's
  // times were moved toward the naive spread's so as not to lose to it.
  double naive_blend = 0.0;
  // Minutes the expected attendance needs beyond the window (0 if it fits).
  double overflow_min = 0.0;
};

// OK when the day can be planned; otherwise INVALID_ARGUMENT naming the rule:
// no attendees, a non-positive or non-finite window, service time or
// granularity, fewer than one service point, a negative service cv, service
// periods whose starts are not finite and increasing or whose mean or cv is
// not as the base's must be, a negative or non-finite uncertainty, a
// granularity larger than the window, forecasts that are not finite or a
// no-show probability outside [0, 1], a fixed time outside [0, window), or
// more fixed appointments than the window holds (service points x window /
// mean service time).
absl::Status ValidateDayPlan(const DayPlan& day);

// The improvement phase's budget when a request sets none: it grows with the
// day's size and load, (50 ms + 20 us per attendee) x (0.5 + utilisation /
// 2, at most 1), up to 700 ms: 25 to 50 ms for a small day (where the search
// usually stops before, having converged), 70 ms for 1,000 attendees, 250 ms
// for 10,000, so that those are planned with their KPIs in under 100 ms and
// 1 s (bench/scheduler_quality measures both, and what the budget buys by
// size and load). Utilisation is the expected work over the service points'
// time in the window.
double DefaultTimeBudgetMs(const DayPlan& day);

// Simulated days that score the search's first moves for `attendees`
// people: 32 up to 1,000 attendees, fewer above (at least 8), where one
// replay of every day already costs much of the budget. Common random
// numbers make differences precise; the search adds days as its moves get
// finer.
int DefaultSearchReplications(size_t attendees);

// Expected work (attendance x mean service) over the service points' time
// in the window, with a service that varies over the day taken period by
// period.
double Utilisation(const DayPlan& day);

// Minutes by which the expected work exceeds the window: the attendance
// beyond what the window serves (service points x window / mean service,
// period by period), times the closing period's mean service per point; 0
// when it fits.
double OverflowMinutes(const DayPlan& day);

// See the file comment. Errors: ValidateDayPlan's and ValidateCostWeights's
// (INVALID_ARGUMENT), FAILED_PRECONDITION for an overflow under kRefuse,
// CANCELLED when options.should_stop says so.
absl::StatusOr<OptimizedSchedule> OptimizeConvocations(
    const DayPlan& day, const OptimizerOptions& options);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_SCHEDULE_OPTIMIZER_H_
