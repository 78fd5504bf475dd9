// ReplayedDays: a schedule played on every simulated day of a SimulatedDays,
// kept so that a move of a few attendees is scored by replaying only the
// stretch of each day that the move changes.
//
// Under first-come-first-served, a day is a sequence of arrivals served by
// the first free service point. For each day the replay keeps the arrival
// order and, every few arrivals (a block), the service points' free times and
// the block's wait, busy time and latest end. A move replays a day from the
// block where the moved attendees leave or join the sequence, and stops at
// the first later block where the service points are free at the same times
// (up to idleness: a point free before the next arrival is as good as any
// other) as in the kept replay: from there on the day is the same, and its
// cost follows from the kept blocks. Moves are exact: Score gives the costs
// that SimulatedDays::DayCosts gives for the moved schedule, to rounding.
// Under ServiceOrder::kByConvocation a day is replayed whole.
//
//   SimulatedDays days(day, 64, seed);
//   ReplayedDays replay(days, weights, convocations);
//   replay.Score({{7, 35.0}}, &per_day);  // attendee 7 convoked at 35
//   replay.Apply({{7, 35.0}});
#ifndef NOQUEUE_SCHEDULER_REPLAYED_DAYS_H_
#define NOQUEUE_SCHEDULER_REPLAYED_DAYS_H_

#include <vector>

#include "scheduler/cost_weights.h"
#include "scheduler/queue_simulator.h"

namespace noqueue::scheduler {

// One attendee convoked at another minute.
struct ConvocationChange {
  int attendee = 0;
  double minute = 0.0;
};

class ReplayedDays {
 public:
  // Plays `convocation_min` (one per attendee of `days`) on every day of
  // `days`, which must outlive this object and is only read.
  ReplayedDays(const SimulatedDays& days, const CostWeights& weights,
               std::vector<double> convocation_min);

  ReplayedDays(const ReplayedDays&) = delete;
  ReplayedDays& operator=(const ReplayedDays&) = delete;

  const std::vector<double>& convocations() const { return conv_; }
  int replications() const { return static_cast<int>(day_cost_.size()); }
  // The cost of each day under convocations(), and their mean.
  const std::vector<double>& day_costs() const { return day_cost_; }
  double Cost() const;

  // The cost of each day were `changes` applied (distinct attendees), into
  // `per_day` (resized to replications()). Nothing changes.
  void Score(const std::vector<ConvocationChange>& changes,
             std::vector<double>* per_day);
  // The same for days [first, last) only, into per_day[first..last), which
  // must have room: a search can score a move on a few days first and drop
  // it when those already show a loss.
  void ScoreDays(const std::vector<ConvocationChange>& changes, int first,
                 int last, std::vector<double>* per_day);

  // Applies `changes` to convocations() and the kept replays.
  void Apply(const std::vector<ConvocationChange>& changes);

  // Plays convocations() on the days that `days` gained (Extend) since.
  void SyncReplications();

  // Plays `convocation_min` instead, on every day.
  void Reset(std::vector<double> convocation_min);

  // Arrivals replayed by Score and Apply so far (a measure of their work;
  // a full replay of every day counts every arrival of every day).
  long long replayed_arrivals() const { return replayed_; }

 private:
  struct Day {
    std::vector<int> order;               // attendees who come, by arrival
    std::vector<double> arrival;          // their arrivals, in that order
    std::vector<double> snap;             // [block * points]: sorted free times
    std::vector<double> wait, busy, end;  // per block
    std::vector<double> pre_end;  // [block]: latest end before the block
    std::vector<double> suf_end;  // [block]: latest end from the block on
    double total_wait = 0.0, total_busy = 0.0;
  };
  struct Walk {
    double wait = 0.0, busy = 0.0, end = 0.0;
    int first_block = 0;
    int stop_block = 0;  // the converged block, or the block count
  };
  struct Moved {
    double arrival;
    int attendee;
  };

  double Arrival(int rep, int attendee) const;
  // Arrival order; ties by index, as SimulatedDays breaks them.
  static bool Before(double arrival_a, int a, double arrival_b, int b) {
    return arrival_a < arrival_b || (arrival_a == arrival_b && a < b);
  }
  // Replays day `rep` with `moved` (sorted by arrival) from the first block
  // they touch until the day is the kept one again; with `record`, writes
  // the new replay into the kept state (then Finish). With nothing moved,
  // replays the whole day.
  Walk Replay(int rep, const std::vector<Moved>& moved, bool record);
  // Plays day `rep` from scratch.
  void Rebuild(int rep);
  // The day's totals, latest ends and cost from its blocks.
  void Finish(int rep);
  double DayCostOf(double wait, double busy, double end) const;

  const SimulatedDays& days_;
  CostWeights weights_;
  std::vector<double> conv_;
  bool incremental_;
  int points_;
  int block_;
  std::vector<Day> replay_;
  std::vector<int> position_;  // [rep * n + attendee]: in order, or -1
  std::vector<double> day_cost_;
  long long replayed_ = 0;
  // Working space.
  std::vector<Moved> moved_;
  std::vector<double> heap_, sorted_, conv_scratch_, full_scratch_;
  std::vector<int> new_order_, old_positions_;
  std::vector<double> new_arrival_;
};

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_REPLAYED_DAYS_H_
