// CostWeights: what a minute of attendee wait, of desk idle time and of
// overtime cost a venue, relative to each other.
//
// The cost of a day is
//   wait x (sum of attendees' waits) + idle x (desk idle time, summed over
//   desks, up to the end of the day) + overtime x (time the last service runs
//   past closing),
// all in minutes. Kaandorp & Koole (2007) use the same three terms.
//
//   CostWeights w = DefaultCostWeights(model::ConvocationType::kMedical);
//   double cost = DayCost(w, total_wait, idle, overtime);
#ifndef NOQUEUE_SCHEDULER_COST_WEIGHTS_H_
#define NOQUEUE_SCHEDULER_COST_WEIGHTS_H_

#include "absl/status/status.h"
#include "model/convocation_type.h"

namespace noqueue::scheduler {

struct CostWeights {
  double wait = 1.0;
  double idle = 1.0;
  double overtime = 1.5;
};

// Defaults per convocation type: where visitors' time is what the venue sells
// (museum, sale) desk idle time weighs little; a doctor's idle time and a
// clinic's overtime weigh as much as a patient's wait; transport hubs cannot
// run over without missed departures.
CostWeights DefaultCostWeights(model::ConvocationType type);

// Returns the weighted cost of a day (see the file comment).
inline double DayCost(const CostWeights& w, double total_wait_min,
                      double idle_min, double overtime_min) {
  return w.wait * total_wait_min + w.idle * idle_min +
         w.overtime * overtime_min;
}

// OK when every weight is finite and non-negative and at least one is
// positive; otherwise INVALID_ARGUMENT naming `field` (e.g. "weights").
absl::Status ValidateCostWeights(const char* field, const CostWeights& w);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_COST_WEIGHTS_H_
