#include "scheduler/slot_local_search.h"

#include <cstdint>

namespace noqueue::scheduler {
namespace {

// One pass of single-attendee moves, first improvement. Returns whether it
// improved.
bool MovePass(const ExactSlotEvaluator& eval, const CostWeights& w,
              SlotSearchResult& best) {
  const int slots = static_cast<int>(best.counts.size());
  bool improved = false;
  for (int from = 0; from < slots; ++from) {
    for (int to = 0; to < slots && best.counts[from] > 0; ++to) {
      if (to == from) continue;
      best.counts[from] -= 1;
      best.counts[to] += 1;
      const double cost = eval.Cost(best.counts, w);
      ++best.evaluations;
      if (cost < best.cost - 1e-12) {
        best.cost = cost;
        improved = true;
      } else {
        best.counts[from] += 1;
        best.counts[to] -= 1;
      }
    }
  }
  return improved;
}

// The full neighbourhood of Kaandorp & Koole; first improvement.
bool FullNeighbourhoodPass(const ExactSlotEvaluator& eval, const CostWeights& w,
                           SlotSearchResult& best) {
  const int slots = static_cast<int>(best.counts.size());
  std::vector<int> candidate(slots);
  for (uint32_t u = 1; u + 1 < (1u << slots); ++u) {
    candidate = best.counts;
    // Bit i (0-based) is v_(i+1): v_1 = -e_1 + e_T, v_i = e_(i-1) - e_i.
    for (int i = 0; i < slots; ++i) {
      if (!(u >> i & 1u)) continue;
      if (i == 0) {
        candidate[0] -= 1;
        candidate[slots - 1] += 1;
      } else {
        candidate[i - 1] += 1;
        candidate[i] -= 1;
      }
    }
    bool feasible = true;
    for (int c : candidate) feasible = feasible && c >= 0;
    if (!feasible) continue;
    const double cost = eval.Cost(candidate, w);
    ++best.evaluations;
    if (cost < best.cost - 1e-12) {
      best.counts = candidate;
      best.cost = cost;
      return true;
    }
  }
  return false;
}

}  // namespace

SlotSearchResult SlotLocalSearch(const ExactSlotEvaluator& eval, int attendees,
                                 const CostWeights& weights) {
  const int slots = eval.instance().slots;
  SlotSearchResult best;
  best.counts.assign(slots, 0);
  for (int a = 0; a < attendees; ++a) {
    best.counts[static_cast<int64_t>(a) * slots / attendees] += 1;
  }
  best.cost = eval.Cost(best.counts, weights);
  best.evaluations = 1;
  while (true) {
    while (MovePass(eval, weights, best)) {
    }
    if (slots > kFullNeighbourhoodMaxSlots ||
        !FullNeighbourhoodPass(eval, weights, best)) {
      break;
    }
  }
  return best;
}

}  // namespace noqueue::scheduler
