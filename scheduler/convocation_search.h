// ConvocationSearch: the optimiser's improvement phase, a local search over
// convocation times scored on simulated days with common random numbers.
//
// Moves, from coarse to fine (steps of 8, 4, 2 and 1 grid steps), the
// attendees taken in the order of their expected arrival (convocation plus
// median offset):
// - the whole day from a pivot (its start, a quarter, half or three quarters
//   of the way through) stretched or squeezed (each attendee after the pivot
//   moved in proportion to their rank past it), or shifted: the moves a day
//   whose pace is wrong needs, that no local move finds in time (on 12
//   random busy days they took a 20 ms search from 1.14 to 1.03-1.08 of a
//   long reference search);
// - one attendee earlier or later by the step;
// - a run of consecutive attendees (4 or 16 of them) shifted together: on a
//   multi-desk day one attendee's move is lost in the noise while a run's is
//   not; with one attendee per slot, a run (or the day from a pivot)
//   shifted by one slot is a move of Kaandorp & Koole's multimodular
//   neighbourhood (U an interval of slots);
// - at the finest step, two attendees one or two apart swapping places
//   (each convoked to arrive where the other was expected), where their
//   habits differ: who comes first matters then.
// Each move is scored by ReplayedDays (only the stretch of each day it
// changes is replayed) and kept when its mean gain over the days exceeds
// `accept_z` standard errors of the paired differences: a gain within its
// noise is not taken, so that the search does not tune the plan to the few
// days it simulates. When no move is kept at the finest step, the search
// doubles its days (up to max_replications) and goes on with the finer
// steps; it stops there, or when the budget, the evaluations or should_stop
// say so. It starts from the cheapest of the plans it is given (on its first
// days), and its result is never costlier, on its final days, than that
// start or the first plan given.
//
//   SearchSettings settings;
//   settings.weights = weights;
//   SearchOutcome out = ImproveConvocations(day, {start}, free, settings);
#ifndef NOQUEUE_SCHEDULER_CONVOCATION_SEARCH_H_
#define NOQUEUE_SCHEDULER_CONVOCATION_SEARCH_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "scheduler/cost_weights.h"
#include "scheduler/day_plan.h"

namespace noqueue::scheduler {

struct SearchSettings {
  CostWeights weights;
  // Simulated days at the start, and at most (doubling).
  int replications = 32;
  int max_replications = 256;
  uint64_t seed = 20261123;
  // A move is kept when its mean gain exceeds this many standard errors.
  double accept_z = 1.0;
  // Racing: a move is scored on first_chunk days, then twice as many, and
  // so on, and dropped as soon as its mean gain is below -race_z standard
  // errors; < 0 scores every move on every day.
  double race_z = 1.0;
  int first_chunk = 8;
  // Steps, in grid steps, from coarse to fine.
  std::vector<int> steps = {8, 4, 2, 1};
  // Lengths of the runs of consecutive attendees shifted together.
  std::vector<int> run_lengths = {4, 16};
  bool swaps = true;
  // Moves of the whole day from a pivot (a quarter, half or three quarters
  // of the way through it, or its start): stretched or squeezed, or shifted.
  bool global_moves = true;
  int global_pivots = 4;  // pivots at k / global_pivots of the day
  // When >= 0, the search minimises each day's cost relative to that
  // start's cost on the same day (the mean ratio, roughly), rather than the
  // mean cost: with a day-level uncertainty, days when everyone comes early
  // cost every plan ten times what the others do, and would otherwise decide
  // alone what the plan does on the others. Costs reported are then the
  // weighted means.
  int relative_to_start = -1;
  // Swaps between attendees up to this far apart in expected arrival order.
  int swap_distance = 2;
  // Limits: the search stops at the deadline, after max_evaluations scored
  // moves (when > 0), or once should_stop returns true (polled before every
  // move).
  std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::time_point::max();
  int max_evaluations = 0;
  std::function<bool()> should_stop;
};

struct SearchOutcome {
  std::vector<double> convocation_min;
  // Which of the starts the search began from.
  int start = 0;
  // Mean cost on the search's final days: of the first start given, of the
  // start it began from, and of the result.
  double first_start_cost = 0.0;
  double start_cost = 0.0;
  double cost = 0.0;
  int evaluations = 0;     // moves scored
  int accepted = 0;        // moves kept
  int replications = 0;    // days at the end
  bool stopped = false;    // should_stop said so
  bool converged = false;  // no move kept at the finest step on the most days
};

// Improves the cheapest of `starts` (each one minute per attendee of `day`;
// at least one) by moving the attendees listed in `free` on the day's grid
// inside [0, window).
SearchOutcome ImproveConvocations(
    const DayPlan& day, const std::vector<std::vector<double>>& starts,
    const std::vector<size_t>& free, const SearchSettings& settings);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_CONVOCATION_SEARCH_H_
