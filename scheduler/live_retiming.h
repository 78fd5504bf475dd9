// LiveRetiming: re-timing the attendees who have not come yet, once the day
// has started and the plan has met reality (a desk closed, services run
// long, a group is late, people cancel).
//
// From the live state of the day (who is waiting, who is being served and
// since when, the desks open now and later, the service time measured
// today) and each attendee's predicted arrival around their current
// convocation, the rest of the day is simulated many times (common random
// numbers); the attendees not yet come are moved by block shifts (everyone
// from one attendee on, by 5 to 90 minutes) and then one at a time, while
// that lowers the expected cost of the rest of the day. The result is then
// held to the venue's rules: nobody is asked to come earlier than now + the
// minimum notice, nor earlier than their original time unless allowed; a
// change is published only when it moves a time by at least the hysteresis
// and the whole re-timing lowers the expected cost by at least the
// threshold; nobody is changed more than `max_changes` times.
//
// Minutes from the window's start throughout. Pure: no I/O, no clock (`now`
// is given), no randomness but the seeded draws.
//
//   LiveDay day = ...;
//   Retiming r = Retime(day, RetimingRules{}, weights);
//   for (size_t i = 0; i < r.new_min.size(); ++i)
//     if (r.new_min[i]) publish(day.to_come[i], *r.new_min[i]);
#ifndef NOQUEUE_SCHEDULER_LIVE_RETIMING_H_
#define NOQUEUE_SCHEDULER_LIVE_RETIMING_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "model/arrival_model.h"
#include "scheduler/cost_weights.h"

namespace noqueue::scheduler {

// Someone convoked who has not come (nor cancelled, nor been declared a
// no-show) yet.
struct ComingAttendee {
  // Their arrival around their current convocation (offsets, minutes), and
  // whether they come at all.
  model::ArrivalForecast forecast;
  double convocation_min = 0.0;  // current time
  double original_min = 0.0;     // as first planned
  int changes = 0;               // re-timings already published to them
  // False for a time that may not move (a fixed appointment).
  bool movable = true;
  // A declared delay: they will not arrive before this (minutes).
  std::optional<double> not_before_min;
};

// Desks open from a time on (a desk closes, reopens, one is added).
struct DeskCount {
  double from_min = 0.0;
  int desks = 1;
};

struct LiveDay {
  double now_min = 0.0;
  double window_min = 0.0;
  // The service time (today's measure where there is one).
  double mean_service_min = 5.0;
  double service_cv = 0.5;
  // Desks open at `now` and their changes later, by time; the first entry's
  // time is at or before now.
  std::vector<DeskCount> desks;
  // People being served: when each service began.
  std::vector<double> serving_since_min;
  // People who have arrived and wait: when each arrived.
  std::vector<double> waiting_since_min;
  std::vector<ComingAttendee> to_come;
};

struct RetimingRules {
  // Nobody is asked to come before now + this.
  double min_notice_min = 30.0;
  // A change is published only when it moves a time by at least this much.
  double hysteresis_min = 10.0;
  // ... and the re-timing as a whole only when it lowers the expected cost
  // of the rest of the day by at least this much (weighted minutes) and by
  // this share of it.
  double min_gain = 5.0;
  double min_gain_share = 0.02;
  int max_changes = 2;
  // Whether a time may move earlier than the original one (always subject
  // to the notice).
  bool allow_earlier = false;
  double granularity_min = 1.0;
};

struct RetimeOptions {
  int replications = 32;
  uint64_t seed = 20261201;
  // Wall time the re-timing may take (two thirds for the search, the rest to
  // judge its result on fresh days); it also stops when no move helps.
  double time_budget_ms = 12.0;
};

struct Retiming {
  // Per to_come attendee: their new convocation, when it changes.
  std::vector<std::optional<double>> new_min;
  // Expected cost of the rest of the day (from now), without and with the
  // changes, on the same simulated days.
  double cost_before = 0.0;
  double cost_after = 0.0;
  // Expected mean wait of those still to be served, and overtime, with the
  // changes (what the venue's promise becomes).
  double mean_wait_after_min = 0.0;
  double overtime_after_min = 0.0;
  int evaluations = 0;
  int changed() const;
};

// See the file comment. The day is read as given; attendees not movable,
// or past max_changes, keep their time.
Retiming Retime(const LiveDay& day, const RetimingRules& rules,
                const CostWeights& weights, const RetimeOptions& options = {});

// The rest of the day simulated under `convocation_min` (one per to_come
// attendee): its expected cost, mean wait and overtime, on `replications`
// days drawn from `seed` (common random numbers across calls).
struct LiveOutcome {
  double cost = 0.0;
  double mean_wait_min = 0.0;
  double overtime_min = 0.0;
};
LiveOutcome SimulateRest(const LiveDay& day,
                         const std::vector<double>& convocation_min,
                         const CostWeights& weights, int replications,
                         uint64_t seed);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_LIVE_RETIMING_H_
