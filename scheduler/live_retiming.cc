#include "scheduler/live_retiming.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "model/normal.h"
#include "scheduler/queue_simulator.h"
#include "scheduler/split_mix64.h"

namespace noqueue::scheduler {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The random part of the rest of the day, drawn once per replication and
// replayed for every candidate (common random numbers).
struct Draws {
  int reps = 0;
  size_t coming = 0, waiting = 0, serving = 0;
  // [rep * coming + i]
  std::vector<double> offset;    // arrival - convocation, unconditional
  std::vector<double> offset_u;  // its uniform draw
  std::vector<double> show_u;    // comes when >= the no-show probability
  std::vector<double> coming_service;
  // [rep * waiting + i], [rep * serving + i]
  std::vector<double> waiting_service;
  std::vector<double> serving_end;  // when the current service ends
};

double LognormalService(SplitMix64& rng, double mean, double cv) {
  if (cv <= 0) return mean;
  const double s2 = std::log1p(cv * cv);
  std::normal_distribution<double> z(std::log(mean) - s2 / 2, std::sqrt(s2));
  return std::exp(z(rng));
}

Draws Draw(const LiveDay& day, int reps, uint64_t seed) {
  Draws d;
  d.reps = reps;
  d.coming = day.to_come.size();
  d.waiting = day.waiting_since_min.size();
  d.serving = day.serving_since_min.size();
  d.offset.resize(reps * d.coming);
  d.offset_u.resize(reps * d.coming);
  d.show_u.resize(reps * d.coming);
  d.coming_service.resize(reps * d.coming);
  d.waiting_service.resize(reps * d.waiting);
  d.serving_end.resize(reps * d.serving);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int r = 0; r < reps; ++r) {
    SplitMix64 rng(seed * 1000003ULL + static_cast<uint64_t>(r));
    for (size_t i = 0; i < d.coming; ++i) {
      const model::ArrivalForecast& f = day.to_come[i].forecast;
      const double uo = u(rng);
      d.offset_u[r * d.coming + i] = uo;
      d.offset[r * d.coming + i] = OffsetQuantile(f, uo);
      d.show_u[r * d.coming + i] = u(rng);
      d.coming_service[r * d.coming + i] =
          LognormalService(rng, day.mean_service_min, day.service_cv);
    }
    for (size_t i = 0; i < d.waiting; ++i) {
      d.waiting_service[r * d.waiting + i] =
          LognormalService(rng, day.mean_service_min, day.service_cv);
    }
    for (size_t i = 0; i < d.serving; ++i) {
      // A service that has lasted `elapsed` ends after what remains of a
      // draw, at least a moment from now.
      const double elapsed = day.now_min - day.serving_since_min[i];
      const double s =
          LognormalService(rng, day.mean_service_min, day.service_cv);
      d.serving_end[r * d.serving + i] =
          day.now_min +
          std::max(s - elapsed, 0.25 * day.mean_service_min * u(rng));
    }
  }
  return d;
}

// The probability that an offset drawn from `f`'s split normal is below
// `x`.
double OffsetCdf(const model::ArrivalForecast& f, double x) {
  const double scale =
      (x < f.p50_min ? f.p50_min - f.p10_min : f.p90_min - f.p50_min) /
      model::kZ90;
  if (scale <= 0) return x < f.p50_min ? 0.0 : 1.0;
  return 0.5 * std::erfc(-(x - f.p50_min) / (scale * std::sqrt(2.0)));
}

// When desk `d` may start a service at or after `t`: the end of a closure
// that holds `t`, or +inf when it never reopens.
double FeasibleStart(const std::vector<DeskCount>& desks, int d, double t) {
  // Find the count in force at t, then walk forward while closed.
  auto it = std::upper_bound(
      desks.begin(), desks.end(), t,
      [](double time, const DeskCount& c) { return time < c.from_min; });
  size_t k =
      it == desks.begin() ? 0 : static_cast<size_t>(it - desks.begin()) - 1;
  while (desks[k].desks <= d) {
    if (k + 1 >= desks.size()) return kInf;
    ++k;
    t = std::max(t, desks[k].from_min);
  }
  return t;
}

// Open time of all desks in [from, to].
double OpenMinutes(const std::vector<DeskCount>& desks, double from,
                   double to) {
  double total = 0.0;
  for (size_t k = 0; k < desks.size(); ++k) {
    const double a = std::max(from, desks[k].from_min);
    const double b =
        std::min(to, k + 1 < desks.size() ? desks[k + 1].from_min : to);
    if (b > a) total += (b - a) * desks[k].desks;
  }
  return total;
}

struct Replayer {
  const LiveDay& day;
  const Draws& draws;
  const CostWeights& w;
  int max_desks = 1;
  // Scratch.
  std::vector<std::pair<double, double>> arrivals;  // arrival, service
  std::vector<double> free_at;

  Replayer(const LiveDay& d, const Draws& dr, const CostWeights& weights)
      : day(d), draws(dr), w(weights) {
    for (const DeskCount& c : day.desks)
      max_desks = std::max(max_desks, c.desks);
    free_at.resize(max_desks);
  }

  // Plays replication `r` under `conv`: adds its cost, wait and overtime.
  void Play(int r, const std::vector<double>& conv, LiveOutcome* sum,
            double* served) {
    const double now = day.now_min;
    arrivals.clear();
    for (size_t i = 0; i < draws.waiting; ++i) {
      arrivals.emplace_back(day.waiting_since_min[i],
                            draws.waiting_service[r * draws.waiting + i]);
    }
    for (size_t i = 0; i < draws.coming; ++i) {
      const size_t at = r * draws.coming + i;
      const ComingAttendee& who = day.to_come[i];
      // They have not come by now: their arrival is drawn from what their
      // forecast leaves after now (they are late, or will not come).
      const double gone = OffsetCdf(who.forecast, now - conv[i]);
      double offset = draws.offset[at];
      double no_show = who.forecast.no_show_probability;
      if (gone > 1e-4) {
        const double q = no_show;
        no_show = q / (q + (1.0 - q) * (1.0 - gone));
        offset = OffsetQuantile(
            who.forecast,
            std::min(1.0 - 1e-9, gone + draws.offset_u[at] * (1.0 - gone)));
      }
      if (draws.show_u[at] < no_show) continue;
      double a = conv[i] + offset;
      if (who.not_before_min) a = std::max(a, *who.not_before_min);
      arrivals.emplace_back(std::max(a, now), draws.coming_service[at]);
    }
    std::sort(arrivals.begin(), arrivals.end());
    std::fill(free_at.begin(), free_at.end(), now);
    double busy = 0.0, last = now;
    for (size_t i = 0; i < draws.serving && i < free_at.size(); ++i) {
      free_at[i] = draws.serving_end[r * draws.serving + i];
      busy += free_at[i] - now;
      last = std::max(last, free_at[i]);
    }
    double wait = 0.0;
    for (const auto& [arrival, service] : arrivals) {
      int best = -1;
      double best_start = kInf;
      for (int d = 0; d < max_desks; ++d) {
        const double s =
            FeasibleStart(day.desks, d, std::max(arrival, free_at[d]));
        if (s < best_start) {
          best_start = s;
          best = d;
        }
      }
      if (best < 0) {  // every desk closed for good: served at the end
        best = 0;
        best_start = std::max(arrival, free_at[0]);
      }
      free_at[best] = best_start + service;
      wait += best_start - std::max(arrival, now);
      busy += service;
      last = std::max(last, free_at[best]);
    }
    const double end = std::max(day.window_min, last);
    const double idle = std::max(0.0, OpenMinutes(day.desks, now, end) - busy);
    const double overtime = std::max(0.0, last - day.window_min);
    sum->cost += DayCost(w, wait, idle, overtime);
    sum->mean_wait_min += wait;
    sum->overtime_min += overtime;
    *served += static_cast<double>(arrivals.size());
  }

  LiveOutcome Evaluate(const std::vector<double>& conv,
                       std::vector<double>* per_day = nullptr) {
    LiveOutcome sum;
    double served = 0.0;
    if (per_day) per_day->clear();
    for (int r = 0; r < draws.reps; ++r) {
      const double before = sum.cost;
      Play(r, conv, &sum, &served);
      if (per_day) per_day->push_back(sum.cost - before);
    }
    const double n = std::max(1, draws.reps);
    sum.cost /= n;
    sum.overtime_min /= n;
    sum.mean_wait_min = served > 0 ? sum.mean_wait_min / served : 0.0;
    return sum;
  }
};

std::vector<double> Current(const LiveDay& day) {
  std::vector<double> conv;
  conv.reserve(day.to_come.size());
  for (const ComingAttendee& a : day.to_come) conv.push_back(a.convocation_min);
  return conv;
}

}  // namespace

int Retiming::changed() const {
  int n = 0;
  for (const auto& m : new_min) n += m.has_value();
  return n;
}

LiveOutcome SimulateRest(const LiveDay& day,
                         const std::vector<double>& convocation_min,
                         const CostWeights& weights, int replications,
                         uint64_t seed) {
  const Draws draws = Draw(day, replications, seed);
  Replayer replay(day, draws, weights);
  return replay.Evaluate(convocation_min);
}

Retiming Retime(const LiveDay& day, const RetimingRules& rules,
                const CostWeights& weights, const RetimeOptions& options) {
  const auto start_time = std::chrono::steady_clock::now();
  // The search takes two thirds of the budget; judging its result on
  // fresh days, the rest.
  const auto deadline =
      start_time + std::chrono::microseconds(static_cast<int64_t>(
                       options.time_budget_ms * 1000.0 * 2 / 3));
  const size_t n = day.to_come.size();
  Retiming out;
  out.new_min.assign(n, std::nullopt);
  // No desk opens again today: there is no time at which anyone would be
  // served, so no time to give them (nor a wait to promise).
  if (day.desks.empty() || FeasibleStart(day.desks, 0, day.now_min) == kInf) {
    return out;
  }
  const Draws draws = Draw(day, options.replications, options.seed);
  Replayer replay(day, draws, weights);
  const std::vector<double> current = Current(day);
  const LiveOutcome before = replay.Evaluate(current);
  out.cost_before = before.cost;
  out.cost_after = before.cost;
  out.mean_wait_after_min = before.mean_wait_min;
  out.overtime_after_min = before.overtime_min;
  out.evaluations = 1;

  // Who may move, and within which bounds (on the grid).
  const double g = std::max(rules.granularity_min, 1e-6);
  const double last = std::floor((day.window_min - 1e-9) / g) * g;
  std::vector<size_t> eligible;
  std::vector<double> low(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const ComingAttendee& a = day.to_come[i];
    if (!a.movable || a.changes >= rules.max_changes) continue;
    double lb = day.now_min + rules.min_notice_min;
    if (!rules.allow_earlier) lb = std::max(lb, a.original_min);
    lb = std::ceil(lb / g - 1e-9) * g;
    if (lb > last) continue;
    low[i] = lb;
    eligible.push_back(i);
  }
  if (eligible.empty()) return out;
  std::sort(eligible.begin(), eligible.end(),
            [&](size_t a, size_t b) { return current[a] < current[b]; });
  auto place = [&](size_t i, double t) {
    return std::clamp(std::round(t / g) * g, low[i], std::max(low[i], last));
  };

  std::vector<double> conv = current;
  double cost = before.cost;
  auto expired = [&] { return std::chrono::steady_clock::now() >= deadline; };
  // Moves of everyone from one eligible attendee (the pivot) on: shifted by
  // d minutes, or stretched away from the pivot's time by a factor (a
  // service slower than planned delays each later attendee a little more).
  struct Move {
    double shift;
    double stretch;
  };
  static constexpr Move kMoves[] = {{10, 0},  {20, 0},   {30, 0},  {45, 0},
                                    {60, 0},  {-10, 0},  {-20, 0}, {0, 0.1},
                                    {0, 0.2}, {0, 0.35}, {0, 0.5}, {0, -0.1}};
  const size_t positions = std::min<size_t>(eligible.size(), 8);
  bool improved = true;
  std::vector<double> candidate;
  while (improved && !expired()) {
    improved = false;
    double best_cost = cost;
    std::vector<double> best;
    for (size_t p = 0; p < positions && !expired(); ++p) {
      const size_t from = p * eligible.size() / positions;
      const double pivot =
          std::max(conv[eligible[from]], day.now_min + rules.min_notice_min);
      for (const Move& move : kMoves) {
        candidate = conv;
        bool moved = false;
        for (size_t k = from; k < eligible.size(); ++k) {
          const size_t i = eligible[k];
          const double t =
              place(i, conv[i] + move.shift +
                           move.stretch * std::max(0.0, conv[i] - pivot));
          moved = moved || t != conv[i];
          candidate[i] = t;
        }
        if (!moved) continue;
        const double c = replay.Evaluate(candidate).cost;
        ++out.evaluations;
        if (c < best_cost - 1e-9) {
          best_cost = c;
          best = candidate;
        }
      }
    }
    if (!best.empty()) {
      conv = std::move(best);
      cost = best_cost;
      improved = true;
    }
  }
  // One attendee at a time, first improvement, while time remains.
  improved = true;
  while (improved && !expired()) {
    improved = false;
    for (size_t i : eligible) {
      if (expired()) break;
      for (double shift : {10.0, -10.0, 5.0, -5.0}) {
        const double t = place(i, conv[i] + shift);
        if (t == conv[i]) continue;
        const double old = conv[i];
        conv[i] = t;
        const double c = replay.Evaluate(conv).cost;
        ++out.evaluations;
        if (c < cost - 1e-9) {
          cost = c;
          improved = true;
          break;
        }
        conv[i] = old;
      }
    }
  }
  // The venue's rules: small moves are not worth a message.
  for (size_t i = 0; i < n; ++i) {
    if (std::abs(conv[i] - current[i]) < rules.hysteresis_min) {
      conv[i] = current[i];
    }
  }
  if (conv == current) return out;
  // Judged on days the search has not seen (what it liked on its own days
  // may be their noise): the gain must clear the venue's threshold and two
  // standard errors of its paired estimate.
  const Draws fresh =
      Draw(day, options.replications, options.seed ^ 0x7E57DA7AULL);
  Replayer judge(day, fresh, weights);
  std::vector<double> cost_now, cost_changed;
  const LiveOutcome judged_before = judge.Evaluate(current, &cost_now);
  const LiveOutcome after = judge.Evaluate(conv, &cost_changed);
  out.evaluations += 2;
  double mean = 0.0, sq = 0.0;
  const double m = static_cast<double>(cost_now.size());
  for (size_t k = 0; k < cost_now.size(); ++k) {
    const double d = cost_now[k] - cost_changed[k];
    mean += d;
    sq += d * d;
  }
  mean /= m;
  const double se = std::sqrt(std::max(0.0, sq / m - mean * mean) / (m - 1));
  if (mean <
          std::max(rules.min_gain, rules.min_gain_share * judged_before.cost) ||
      mean < 2.0 * se) {
    return out;
  }
  out.cost_before = judged_before.cost;
  for (size_t i = 0; i < n; ++i) {
    if (conv[i] != current[i]) out.new_min[i] = conv[i];
  }
  out.cost_after = after.cost;
  out.mean_wait_after_min = after.mean_wait_min;
  out.overtime_after_min = after.overtime_min;
  return out;
}

}  // namespace noqueue::scheduler
