// ExactSlotEvaluator: the exact expected wait, idle time and overtime of a
// slotted day with one server, exponential service times and punctual
// attendees who each fail to come with the same probability: the recursion
// of Kaandorp & Koole (2007, "Optimal outpatient appointment scheduling",
// Health Care Management Science 10:217-229).
//
// The session is `slots` intervals of `slot_min`; counts[t] attendees are
// convoked at the start of slot t. The recursion carries the distribution of
// the number of people present at each slot's start: the arrivals who come
// are binomial, and while people are present departures are a Poisson process
// of rate 1 / mean service, so the number served in a slot is Poisson,
// truncated at the number present. Waits and idle time within a slot follow
// in closed form from the same Poisson tails; whoever is left at closing is
// served in overtime. It is the simulator's oracle in tests and the scoring
// function of the slot local search.
//
//   SlotInstance kk{.slots = 48, .slot_min = 5, .mean_service_min = 9};
//   ExactSlotEvaluator eval(kk, /*max_attendees=*/24);
//   SlotKpis k = eval.Evaluate(counts);
#ifndef NOQUEUE_SCHEDULER_EXACT_EVALUATOR_H_
#define NOQUEUE_SCHEDULER_EXACT_EVALUATOR_H_

#include <vector>

#include "scheduler/cost_weights.h"

namespace noqueue::scheduler {

struct SlotInstance {
  int slots = 48;
  double slot_min = 5.0;
  double mean_service_min = 9.0;
  double no_show_probability = 0.0;
};

// Expected figures of one day; idle time is counted up to the session's end
// (after it the server only works off the queue), overtime is the time from
// the session's end to the last departure.
struct SlotKpis {
  double total_wait_min = 0.0;  // summed over attendees
  double idle_min = 0.0;
  double overtime_min = 0.0;
};

class ExactSlotEvaluator {
 public:
  // Precomputes the Poisson tables for at most `max_attendees` per schedule.
  // Requires slots >= 1, slot_min > 0, mean_service_min > 0 and a no-show
  // probability in [0, 1].
  ExactSlotEvaluator(const SlotInstance& instance, int max_attendees);

  // Requires counts.size() == instance.slots, counts[t] >= 0 and their sum
  // <= max_attendees.
  SlotKpis Evaluate(const std::vector<int>& counts) const;

  double Cost(const std::vector<int>& counts, const CostWeights& w) const {
    SlotKpis k = Evaluate(counts);
    return DayCost(w, k.total_wait_min, k.idle_min, k.overtime_min);
  }

  const SlotInstance& instance() const { return instance_; }

 private:
  SlotInstance instance_;
  int max_;
  std::vector<double> poisson_;    // P(D = k), D ~ Poisson(slot / mean service)
  std::vector<double> tail_;       // P(D >= k)
  std::vector<double> slot_wait_;  // expected wait in a slot, i present
  std::vector<double> slot_idle_;  // expected idle in a slot, i present
  std::vector<std::vector<double>> binomial_;  // [x][a]: a of x come
};

// Slot counts of a schedule given in minutes: each convocation in the slot
// [t slot_min, (t + 1) slot_min) that holds it, clamped to the session.
std::vector<int> CountsFromMinutes(const SlotInstance& instance,
                                   const std::vector<double>& convocation_min);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_EXACT_EVALUATOR_H_
