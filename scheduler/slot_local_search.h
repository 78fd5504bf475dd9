// Kaandorp & Koole's local search over slotted schedules, scored exactly.
//
// For one server, exponential service and a common no-show probability,
// Kaandorp & Koole (2007) show that the expected cost is multimodular in the
// slot counts, so that a local search over the neighbourhood
//   x + sum over i in U of v_i,  U a non-empty proper subset of the slots,
// with v_1 = -e_1 + e_T and v_i = e_(i-1) - e_i, stops at a global optimum.
// That neighbourhood has 2^T - 2 members; every move of one attendee from one
// slot to another is one of them (U one interval, or two that wrap around).
// SlotLocalSearch first descends by those single moves, then, when T is small
// enough to enumerate, checks the full neighbourhood so that its answer is
// the proven optimum; for larger T it is the single-move local optimum, the
// reference that NoQueue's optimiser is held to in tests and the benchmark.
//
//   ExactSlotEvaluator eval(kk, 24);
//   SlotSearchResult best = SlotLocalSearch(eval, 24, {0.4, 0.2, 0.4});
#ifndef NOQUEUE_SCHEDULER_SLOT_LOCAL_SEARCH_H_
#define NOQUEUE_SCHEDULER_SLOT_LOCAL_SEARCH_H_

#include <vector>

#include "scheduler/cost_weights.h"
#include "scheduler/exact_evaluator.h"

namespace noqueue::scheduler {

struct SlotSearchResult {
  std::vector<int> counts;  // attendees convoked at each slot's start
  double cost = 0.0;
  int evaluations = 0;
};

// Slots with at most this many members enumerate the full neighbourhood.
inline constexpr int kFullNeighbourhoodMaxSlots = 16;

// Searches from the even spread of `attendees` (<= the evaluator's maximum)
// over the evaluator's slots; the result never costs more than the start.
SlotSearchResult SlotLocalSearch(const ExactSlotEvaluator& evaluator,
                                 int attendees, const CostWeights& weights);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_SLOT_LOCAL_SEARCH_H_
