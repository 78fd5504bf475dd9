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
// A service that varies over the day (ServiceProfile::periods) takes, for
// each attendee, the mean and cv of the period in which their service starts,
// applied to the same draw. The day's PlanUncertainty adds, once per
// simulated day, a shift of every arrival offset, a factor of the service
// time and a shift of the no-show log-odds, drawn from a stream of their own:
// the attendees' draws, and so common random numbers, stay as they were.
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

// A 90% predictive interval of what one day will show: the 5% and 95%
// quantiles of a figure across simulated days, at plotting positions
// q (n + 1) of the n days, so that another day drawn alike falls inside with
// probability 90% whatever n. Unlike a confidence interval it does not shrink
// with more replications: it is the range a venue should expect a real day to
// fall in, nine days out of ten, when the forecasts and the day plan's
// PlanUncertainty are right.
struct PredictiveInterval {
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
  // 90% predictive intervals of the realised day's figures, across simulated
  // days (each with its own draw of the plan's uncertainty): the mean wait
  // of those who come that day (days when nobody comes are left out), the
  // sum of waits, the largest queue, idle time and overtime. What a venue
  // can be promised: over many days, the realised mean wait falls inside
  // mean_wait_pi90 on about 90% of them. All {0, 0} without replications.
  PredictiveInterval mean_wait_pi90, total_wait_pi90, max_queue_pi90, idle_pi90,
      overtime_pi90;
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
  size_t attendees() const { return n_; }

  // Draws more days, up to `replications` in all (never fewer than now):
  // day r is the same whether drawn here or by the constructor, so that a
  // search can start on few days and add more as its moves get finer.
  void Extend(int replications);

  // Expected cost of the day (see cost_weights.h) when the attendees are
  // convoked at `convocation_min` (one per attendee, in the day's order).
  // Zero without replications.
  double Cost(const std::vector<double>& convocation_min,
              const CostWeights& weights) const;

  // The cost of each simulated day under `convocation_min`, in `per_day`
  // (resized to replications()); Cost is their mean.
  void DayCosts(const std::vector<double>& convocation_min,
                const CostWeights& weights, std::vector<double>* per_day) const;

  // Every KPI of the day under `convocation_min`.
  SimulationResult Simulate(const std::vector<double>& convocation_min,
                            double queue_profile_step_min = 0.0) const;

 private:
  friend class ReplayedDays;  // replays moves incrementally on these draws

  struct Served {
    double arrival;
    double start;
  };
  // A service period: from `start` on, services take the draw of cv level
  // `level` times `ratio` (its mean over the base mean).
  struct Period {
    double start;
    double ratio;
    int level;
  };

  // Draws day `rep` into the tables (sized for it already).
  void DrawDay(int rep);

  // Service time, minutes, of the attendee at `at` = rep * n_ + attendee
  // when it starts at minute `start`.
  double ServiceTime(size_t at, int rep, double start) const {
    if (periods_.empty()) return service_min_[0][at] * day_factor_[rep];
    // The last period starting at or before `start`; none: the base.
    size_t lo = 0, hi = periods_.size();
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (periods_[mid].start <= start) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == 0) return service_min_[0][at] * day_factor_[rep];
    const Period& p = periods_[lo - 1];
    return service_min_[p.level][at] * p.ratio * day_factor_[rep];
  }

  // Who came on a replayed day, in two orders, and working space.
  struct Replayed {
    std::vector<int> by_arrival;  // ties by index
    // In the order services start: their starts never decrease along it.
    std::vector<int> by_start;
    // Working space: (arrival's ordered bits, attendee), and the points'
    // next free times.
    std::vector<std::pair<uint64_t, int>> keyed, spare;
    std::vector<double> free_at;
  };
  // Plays replication `rep`: fills served[i] for every attendee i who comes
  // that day (shows_) and `day`'s orders of them, and returns {busy time,
  // end of the last service}.
  std::pair<double, double> Replay(int rep, const std::vector<double>& conv,
                                   std::vector<Served>& served,
                                   Replayed& day) const;

  size_t n_;
  int replications_;
  int service_points_;
  double window_min_;
  ServiceOrder order_;
  uint64_t seed_;
  std::vector<model::ArrivalForecast> forecasts_;
  ServiceProfile service_;
  PlanUncertainty uncertainty_;
  std::vector<Period> periods_;
  std::vector<double> level_cv_;  // [level]; level 0 is the base cv
  // Indexed [rep * n_ + attendee]; service_min_[level] holds draws at the
  // base mean with that level's cv.
  std::vector<double> offset_min_;
  std::vector<std::vector<double>> service_min_;
  std::vector<char> shows_;
  std::vector<double> day_factor_;  // [rep]: the day's service factor
};

// Simulates `options.replications` days; requires convocation_min.size() ==
// day.attendees.size().
SimulationResult SimulateDay(const DayPlan& day,
                             const std::vector<double>& convocation_min,
                             const SimulationOptions& options);

// The mean service time, minutes, of a service starting at `minute` (see
// ServiceProfile::periods).
double MeanServiceAt(const ServiceProfile& service, double minute);

// The number of replications that states a schedule's KPIs: about 8000
// simulated arrivals, between 32 and 200 days (64 or more up to 125
// attendees). Not fewer, because the predictive intervals are quantiles
// across days: with 16 days the 5% and 95% quantiles are the extremes of a
// small sample, and a venue's realised days fall inside them less reliably.
int DefaultReplications(size_t attendees);

// The q-quantile of an attendee's offset under the split normal through
// their P10/P50/P90 that the simulator draws from.
double OffsetQuantile(const model::ArrivalForecast& forecast, double q);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_QUEUE_SIMULATOR_H_
