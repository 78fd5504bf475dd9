// QueueSimulator: what a schedule will do, found by simulating the day many
// times.
//
// Each replication draws, for every attendee, whether they come, when they
// arrive (a split normal through their predicted P10/P50/P90, so skew is
// kept) and how long their service takes (lognormal with the venue's mean and
// variability). Attendees are served in order of arrival by the first free
// service point, never before the window opens. The draws depend only on the
// seed, the replication and the attendee's index, so two schedules of the
// same attendees simulated with the same seed see the same people on the
// same day (common random numbers) and their difference is mostly signal.
//
//   SimulationResult r = SimulateDay(day, convocations, {.replications = 200});
#ifndef NOQUEUE_SCHEDULER_QUEUE_SIMULATOR_H_
#define NOQUEUE_SCHEDULER_QUEUE_SIMULATOR_H_

#include <cstdint>
#include <vector>

#include "scheduler/day_plan.h"

namespace noqueue::scheduler {

struct SimulationOptions {
  int replications = 200;
  uint64_t seed = 20261123;
};

struct SimulationResult {
  // Wait is the time from arrival to service: the time spent in the queue,
  // whether the attendee came early, late or on time. That physical queue is
  // what NoQueue removes, by convoking each one so they arrive as a service
  // point frees.
  double mean_wait_min = 0.0;
  double p90_wait_min = 0.0;
  // Largest number of people present and not yet served, averaged over days.
  double expected_max_queue = 0.0;
  // Summed over service points, from window start to the end of the day.
  double idle_min = 0.0;
  double overtime_min = 0.0;
  // Per attendee, in the day's order: expected wait when they come.
  std::vector<double> expected_wait_min;
};

// Requires convocation_min.size() == day.attendees.size().
SimulationResult SimulateDay(const DayPlan& day,
                             const std::vector<double>& convocation_min,
                             const SimulationOptions& options);

// The number of replications that keeps a simulation of `attendees` people
// near a fixed budget of simulated arrivals (between 30 and 400).
int DefaultReplications(size_t attendees);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_QUEUE_SIMULATOR_H_
