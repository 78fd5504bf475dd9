// QueueSimulator: what a schedule will do, found by simulating the day many
// times.
//
// Each replication draws, for every attendee, whether they come, when they
// arrive (a split normal through their predicted P10/P50/P90, so skew is
// kept) and how long their service takes (the venue's distribution: lognormal,
// gamma, exponential or fixed, with its mean and variability). A freed service
// point takes the attendee who arrived first, or, under
// ServiceOrder::kByConvocation, the present attendee convoked first; nobody is
// served before the window opens. The draws depend only on the seed, the
// replication and the attendee's index, never on the schedule, so two
// schedules of the same attendees simulated with the same seed see the same
// people on the same days (common random numbers) and their difference is
// mostly signal. SimulatedDays keeps the draws to replay many candidate
// schedules cheaply, which is what the optimiser's local search does.
//
//   SimulationResult r = SimulateDay(day, convocations, {.replications = 200});
//   SimulatedDays days(day, 50, seed);
//   double cost = days.Cost(convocations, weights);
#ifndef NOQUEUE_SCHEDULER_QUEUE_SIMULATOR_H_
#define NOQUEUE_SCHEDULER_QUEUE_SIMULATOR_H_

#include <cstdint>
#include <vector>

#include "scheduler/cost_weights.h"
#include "scheduler/day_plan.h"

namespace noqueue::scheduler {

struct SimulationOptions {
  int replications = 200;
  uint64_t seed = 20261123;
  // When > 0, SimulationResult::expected_queue holds the expected number of
  // people waiting at minutes 0, step, 2 step, ... up to the window's end.
  double queue_profile_step_min = 0.0;
};

// A 95% confidence interval of an expected value.
struct ConfidenceInterval {
  double low = 0.0;
  double high = 0.0;
};

struct SimulationResult {
  // Wait is the time from arrival to service: the time spent in the queue,
  // whether the attendee came early, late or on time. That physical queue is
  // what NoQueue removes, by convoking each one so they arrive as a service
  // point frees.
  double mean_wait_min = 0.0;  // per attendee who comes
  double p90_wait_min = 0.0;   // over every attendee who comes, every day
  // Expected sum of every attendee's wait in a day.
  double total_wait_min = 0.0;
  // Largest number of people present and not yet served, averaged over days.
  double expected_max_queue = 0.0;
  // Summed over service points, from window start to the end of the day.
  double idle_min = 0.0;
  double overtime_min = 0.0;
  // 95% intervals: normal approximation over replications (the mean wait's
  // from the spread of each day's mean); the P90's from ten batches of days
  // (Student t), empty (low == high) with fewer than two replications.
  ConfidenceInterval mean_wait_ci, p90_wait_ci, total_wait_ci, max_queue_ci,
      idle_ci, overtime_ci;
  // Per attendee, in the day's order: expected wait when they come.
  std::vector<double> expected_wait_min;
  // See SimulationOptions::queue_profile_step_min.
  std::vector<double> expected_queue;
};

// The draws of `replications` simulated days of the attendees of a day plan,
// kept to replay any schedule of those attendees.
class SimulatedDays {
 public:
  // Copies what it needs of `day`; `replications` >= 0.
  SimulatedDays(const DayPlan& day, int replications, uint64_t seed);

  int replications() const { return replications_; }

  // Expected cost of the day (see cost_weights.h) when the attendees are
  // convoked at `convocation_min` (one per attendee, in the day's order).
  // Zero without replications.
  double Cost(const std::vector<double>& convocation_min,
              const CostWeights& weights) const;

  // Every KPI of the day under `convocation_min`.
  SimulationResult Simulate(const std::vector<double>& convocation_min,
                            double queue_profile_step_min = 0.0) const;

 private:
  struct Served {
    double arrival;
    double start;
  };
  // Plays replication `rep`: fills served[i] for every attendee i who comes
  // that day (shows_) and returns {busy time, end of the last service}.
  // `scratch` is working space.
  std::pair<double, double> Replay(int rep, const std::vector<double>& conv,
                                   std::vector<Served>& served,
                                   std::vector<int>& scratch) const;

  size_t n_;
  int replications_;
  int service_points_;
  double window_min_;
  ServiceOrder order_;
  // Indexed [rep * n_ + attendee].
  std::vector<double> offset_min_;
  std::vector<double> service_min_;
  std::vector<char> shows_;
};

// Simulates `options.replications` days; requires convocation_min.size() ==
// day.attendees.size().
SimulationResult SimulateDay(const DayPlan& day,
                             const std::vector<double>& convocation_min,
                             const SimulationOptions& options);

// The number of replications that keeps a simulation of `attendees` people
// near a fixed budget of simulated arrivals, so that stating a schedule's
// KPIs stays cheap (between 16 and 200).
int DefaultReplications(size_t attendees);

// The q-quantile of an attendee's offset under the split normal through
// their P10/P50/P90 that the simulator draws from.
double OffsetQuantile(const model::ArrivalForecast& forecast, double q);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_QUEUE_SIMULATOR_H_
