#include "scheduler/convocation_search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "scheduler/queue_simulator.h"
#include "scheduler/replayed_days.h"

namespace noqueue::scheduler {
namespace {

class Search {
 public:
  // `reference`, when not null, is the plan each day's cost is taken
  // relative to (see SearchSettings::relative_to_start), with `scale` its
  // mean cost on the first days.
  Search(const DayPlan& day, const std::vector<double>& start,
         SimulatedDays days, const std::vector<size_t>& free,
         const SearchSettings& settings, const std::vector<double>* reference,
         double scale)
      : day_(day),
        settings_(settings),
        free_(free),
        grid_(day.granularity_min),
        last_(std::max(
            0.0, std::floor((day.window_min - 1e-9) / day.granularity_min) *
                     day.granularity_min)),
        days_(std::move(days)),
        replay_(days_, settings.weights, start),
        preferred_(day.attendees.size(), -1),
        reference_(reference),
        scale_(scale) {
    UpdateDayWeights();
  }

  // The weighted mean of per-day costs (the search's objective).
  double Objective(const std::vector<double>& per_day) const {
    double sum = 0.0, weights = 0.0;
    for (size_t r = 0; r < per_day.size(); ++r) {
      sum += day_weight_[r] * per_day[r];
      weights += day_weight_[r];
    }
    return weights > 0.0 ? sum / weights : 0.0;
  }
  double Objective(const std::vector<double>& plan,
                   std::vector<double>* scratch) {
    days_.DayCosts(plan, settings_.weights, scratch);
    return Objective(*scratch);
  }

  SearchOutcome Run() {
    SearchOutcome out;
    const std::vector<int>& steps = settings_.steps;
    const int max_reps =
        std::max(settings_.max_replications, days_.replications());
    size_t level = 0;
    while (!stop_ && level < steps.size()) {
      const bool improved = Pass(steps[level]);
      if (stop_) break;
      if (!improved) ++level;
      if (level == steps.size() && days_.replications() < max_reps) {
        // Converged on these days: more days, and the finer steps again.
        days_.Extend(std::min(2 * days_.replications(), max_reps));
        replay_.SyncReplications();
        UpdateDayWeights();
        level = steps.size() >= 2 ? steps.size() - 2 : 0;
        if (Exhausted()) break;
      }
    }
    out.converged = !stop_ && level == steps.size();
    out.stopped = cancelled_;
    out.evaluations = evaluations_;
    out.accepted = accepted_;
    out.replications = days_.replications();
    out.cost = Objective(replay_.day_costs());
    out.convocation_min = replay_.convocations();
    return out;
  }

  const SimulatedDays& days() const { return days_; }

  // Starts from `plan` instead.
  void Restart(const std::vector<double>& plan) { replay_.Reset(plan); }

 private:
  // Weights 1, or, relative to a reference plan, the inverse of its cost on
  // each day (floored at a quarter of its mean), scaled to mean about 1.
  void UpdateDayWeights() {
    const int reps = days_.replications();
    if (reference_ == nullptr) {
      day_weight_.assign(reps, 1.0);
      return;
    }
    std::vector<double> costs;
    days_.DayCosts(*reference_, settings_.weights, &costs);
    day_weight_.resize(reps);
    for (int r = 0; r < reps; ++r) {
      day_weight_[r] = scale_ / std::max(costs[r], 0.25 * scale_);
    }
  }

  bool Exhausted() {
    if (stop_) return true;
    if (settings_.should_stop && settings_.should_stop()) {
      cancelled_ = true;
      return stop_ = true;
    }
    if (settings_.max_evaluations > 0 &&
        evaluations_ >= settings_.max_evaluations) {
      return stop_ = true;
    }
    return stop_ = std::chrono::steady_clock::now() >= settings_.deadline;
  }

  double Clamp(double minute) const { return std::clamp(minute, 0.0, last_); }

  // Scores `changes`; keeps them when their gain is beyond its noise. Days
  // are scored in growing chunks (racing): a move whose gain on the days
  // scored so far is below -race_z standard errors is dropped there, since
  // most moves lose and a few days show it.
  bool Try(const std::vector<ConvocationChange>& changes) {
    if (changes.empty() || Exhausted()) return false;
    ++evaluations_;
    const std::vector<double>& now = replay_.day_costs();
    const int reps = static_cast<int>(now.size());
    per_day_.resize(reps);
    double sum = 0.0, sum_sq = 0.0;
    int done = 0;
    while (done < reps) {
      const int to =
          settings_.race_z < 0.0
              ? reps
              : std::min(reps, std::max(settings_.first_chunk, 2 * done));
      replay_.ScoreDays(changes, done, to, &per_day_);
      for (int r = done; r < to; ++r) {
        const double gain = day_weight_[r] * (now[r] - per_day_[r]);
        sum += gain;
        sum_sq += gain * gain;
      }
      done = to;
      const double mean = sum / done;
      const double var =
          done > 1 ? std::max(0.0, (sum_sq - sum * mean) / (done - 1)) : 0.0;
      const double se = std::sqrt(var / done);
      if (done < reps) {
        if (mean < -settings_.race_z * se || (mean <= 0.0 && se == 0.0)) {
          return false;
        }
        continue;
      }
      if (!(mean > std::max(1e-9, settings_.accept_z * se))) return false;
    }
    replay_.Apply(changes);
    ++accepted_;
    return true;
  }

  // Where attendee `i` is expected: their convocation plus median offset.
  double Target(size_t i) const {
    return replay_.convocations()[i] + day_.attendees[i].forecast.p50_min;
  }

  // Free attendees by their expected arrival now.
  std::vector<size_t> InOrder() const {
    std::vector<size_t> order = free_;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return Target(a) < Target(b); });
    return order;
  }

  // The minute on the grid nearest `minute`, inside the window.
  double Snap(double minute) const {
    return Clamp(std::round(minute / grid_) * grid_);
  }

  bool Pass(int steps) {
    const double step = steps * grid_;
    bool improved = false;
    std::vector<size_t> order = InOrder();
    std::vector<ConvocationChange> changes;
    // The day stretched or squeezed from a pivot on (each attendee after it
    // moved in proportion to their rank past it), or shifted from it: what a
    // day whose pace is wrong needs, and what no local move finds.
    if (settings_.global_moves) {
      const size_t n = order.size();
      const int pivots = std::max(1, settings_.global_pivots);
      for (int p = 0; p < pivots; ++p) {
        const size_t pivot = n * p / pivots;
        for (int kind = 0; kind < 2; ++kind) {
          for (int dir : {-1, 1}) {
            changes.clear();
            for (size_t r = pivot; r < n; ++r) {
              const double share =
                  kind == 0 ? static_cast<double>(r - pivot + 1) / (n - pivot)
                            : 1.0;
              const int a = static_cast<int>(order[r]);
              const double to =
                  Snap(replay_.convocations()[a] + dir * share * step);
              if (to != replay_.convocations()[a]) changes.push_back({a, to});
            }
            if (Try(changes)) {
              improved = true;
              order = InOrder();
              break;
            }
            if (stop_) return improved;
          }
        }
      }
    }
    // One attendee at a time, the direction that last paid first.
    for (size_t i : order) {
      for (int k = 0; k < 2 && !stop_; ++k) {
        const int dir = k == 0 ? preferred_[i] : -preferred_[i];
        const double to = Clamp(replay_.convocations()[i] + dir * step);
        if (to == replay_.convocations()[i]) continue;
        changes.assign(1, {static_cast<int>(i), to});
        if (Try(changes)) {
          preferred_[i] = dir;
          improved = true;
          break;
        }
      }
      if (stop_) return improved;
    }
    // Runs of consecutive attendees shifted together.
    order = InOrder();
    for (int length : settings_.run_lengths) {
      if (length < 2 || static_cast<size_t>(length) >= order.size()) continue;
      for (size_t first = 0; first < order.size(); first += length / 2) {
        for (int dir : {-1, 1}) {
          changes.clear();
          for (size_t k = first; k < order.size() && k < first + length; ++k) {
            const int a = static_cast<int>(order[k]);
            const double to = Clamp(replay_.convocations()[a] + dir * step);
            if (to != replay_.convocations()[a]) changes.push_back({a, to});
          }
          if (Try(changes)) {
            improved = true;
            break;
          }
          if (stop_) return improved;
        }
      }
    }
    // Neighbours in expected arrival order swap places (each convoked to
    // arrive where the other was expected), where their habits differ.
    if (settings_.swaps && steps == settings_.steps.back()) {
      order = InOrder();
      for (int distance = 1; distance <= settings_.swap_distance; ++distance) {
        for (size_t k = 0; k + distance < order.size(); ++k) {
          const size_t a = order[k], b = order[k + distance];
          if (SameForecast(a, b)) continue;
          const double ta =
              Snap(Target(b) - day_.attendees[a].forecast.p50_min);
          const double tb =
              Snap(Target(a) - day_.attendees[b].forecast.p50_min);
          if (ta == replay_.convocations()[a] &&
              tb == replay_.convocations()[b]) {
            continue;
          }
          changes = {{static_cast<int>(a), ta}, {static_cast<int>(b), tb}};
          if (Try(changes)) improved = true;
          if (stop_) return improved;
        }
      }
    }
    return improved;
  }

  bool SameForecast(int a, int b) const {
    const auto& x = day_.attendees[a].forecast;
    const auto& y = day_.attendees[b].forecast;
    return x.p10_min == y.p10_min && x.p50_min == y.p50_min &&
           x.p90_min == y.p90_min &&
           x.no_show_probability == y.no_show_probability;
  }

  const DayPlan& day_;
  const SearchSettings& settings_;
  std::vector<size_t> free_;
  double grid_, last_;
  SimulatedDays days_;
  ReplayedDays replay_;
  std::vector<int> preferred_;
  std::vector<double> per_day_;
  const std::vector<double>* reference_;
  double scale_;
  std::vector<double> day_weight_;
  int evaluations_ = 0, accepted_ = 0;
  bool stop_ = false, cancelled_ = false;
};

}  // namespace

SearchOutcome ImproveConvocations(
    const DayPlan& day, const std::vector<std::vector<double>>& starts,
    const std::vector<size_t>& free, const SearchSettings& settings) {
  const int reps = std::max(1, settings.replications);
  SimulatedDays days(day, reps, settings.seed);
  std::vector<std::vector<double>> start_days(starts.size());
  const int relative = settings.relative_to_start;
  const std::vector<double>* reference = nullptr;
  double scale = 1.0;
  if (relative >= 0 && relative < static_cast<int>(starts.size())) {
    reference = &starts[relative];
    days.DayCosts(*reference, settings.weights, &start_days[relative]);
    scale = 0.0;
    for (double c : start_days[relative]) scale += c / reps;
    if (!(scale > 0.0)) reference = nullptr;  // a free day: plain costs
  }
  // The cheapest start on the first days.
  for (size_t k = 0; k < starts.size(); ++k) {
    if (k > 0 && settings.should_stop && settings.should_stop()) {
      SearchOutcome out;
      out.convocation_min = starts[0];
      out.stopped = true;
      return out;
    }
    if (start_days[k].empty()) {
      days.DayCosts(starts[k], settings.weights, &start_days[k]);
    }
  }
  Search search(day, starts[0], std::move(days), free, settings, reference,
                scale);
  int best = 0;
  std::vector<double> start_costs(starts.size(), 0.0);
  for (size_t k = 0; k < starts.size() && !start_days[k].empty(); ++k) {
    start_costs[k] = search.Objective(start_days[k]);
    if (start_costs[k] < start_costs[best]) best = static_cast<int>(k);
  }
  if (best != 0) search.Restart(starts[best]);
  SearchOutcome out = search.Run();
  out.start = best;
  // On more days than the starts were scored on, score them again.
  const bool same_days = search.days().replications() == reps;
  std::vector<double> scratch;
  out.start_cost =
      same_days ? start_costs[best] : search.Objective(starts[best], &scratch);
  out.first_start_cost =
      best == 0 ? out.start_cost
                : (same_days ? start_costs[0]
                             : search.Objective(starts[0], &scratch));
  // Moves kept on fewer days can add up to a loss on all of them.
  if (out.start_cost < out.cost) {
    out.cost = out.start_cost;
    out.convocation_min = starts[best];
  }
  if (out.first_start_cost < out.cost) {
    out.cost = out.first_start_cost;
    out.convocation_min = starts[0];
  }
  return out;
}

}  // namespace noqueue::scheduler
