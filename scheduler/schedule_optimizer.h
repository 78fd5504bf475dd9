// ScheduleOptimizer: the design's steps 1-4, convocation times that minimise
// the weighted cost of waiting, idle time and overtime.
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
// 4. Local search under a time budget: each free convocation is moved by
//    4, 2 then 1 granularity steps while that lowers the expected cost,
//    scored by replaying the same simulated days (common random numbers).
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

struct OptimizerOptions {
  CostWeights weights;
  // Wall time the local search may take; 0 = the constructive plan only.
  // The search also stops when no move improves the cost. See
  // DefaultTimeBudgetMs for what the server uses when a request says
  // nothing.
  double time_budget_ms = 0.0;
  // When > 0, the local search also stops after this many evaluations (what
  // tests use for results that do not depend on the machine's speed).
  int max_evaluations = 0;
  // Simulated days that score candidates; 0 = DefaultSearchReplications.
  int replications = 0;
  uint64_t seed = 20261123;
  OverflowPolicy overflow = OverflowPolicy::kRunOver;
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
  // Expected cost on the search's simulated days: of the constructive plan
  // and of the result (never higher); NaN when no search ran.
  double constructive_cost = 0.0;
  double cost = 0.0;
  int evaluations = 0;
  // Minutes the expected attendance needs beyond the window (0 if it fits).
  double overflow_min = 0.0;
};

// OK when the day can be planned; otherwise INVALID_ARGUMENT naming the rule:
// no attendees, a non-positive or non-finite window, service time or
// granularity, fewer than one service point, a negative service cv, a
// granularity larger than the window, forecasts that are not finite or a
// no-show probability outside [0, 1], a fixed time outside [0, window), or
// more fixed appointments than the window holds (service points x window /
// mean service time).
absl::Status ValidateDayPlan(const DayPlan& day);

// The local search's budget when a request sets none: 1 ms for days of up to
// 64 attendees, where it converges or nearly (and fixes what the
// constructive plan gets wrong at the edges of a short window); 0 above,
// where a millisecond buys under 0.5% of cost (bench/scheduler_quality
// --budget_ms=1 against 0) but would be most of a CreateSchedule's time.
double DefaultTimeBudgetMs(size_t attendees);

// Replications that score local-search candidates for `attendees` people:
// few, since common random numbers make differences precise (8 to 64).
int DefaultSearchReplications(size_t attendees);

// Minutes by which the expected work (attendance x mean service / service
// points) exceeds the window; 0 when it fits.
double OverflowMinutes(const DayPlan& day);

// See the file comment. Errors: ValidateDayPlan's and ValidateCostWeights's
// (INVALID_ARGUMENT), FAILED_PRECONDITION for an overflow under kRefuse,
// CANCELLED when options.should_stop says so.
absl::StatusOr<OptimizedSchedule> OptimizeConvocations(
    const DayPlan& day, const OptimizerOptions& options);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_SCHEDULE_OPTIMIZER_H_
