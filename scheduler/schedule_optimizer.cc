#include "scheduler/schedule_optimizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scheduler/convocation_planner.h"
#include "scheduler/convocation_search.h"
#include "scheduler/queue_simulator.h"

namespace noqueue::scheduler {
namespace {

absl::Status Invalid(const std::string& field, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

bool Positive(double x) { return std::isfinite(x) && x > 0.0; }

absl::Status Cancelled() {
  return absl::CancelledError(
      "planning stopped: the request was cancelled or ran out of time");
}

}  // namespace

absl::Status ValidateDayPlan(const DayPlan& day) {
  if (day.attendees.empty()) return Invalid("attendees", "must not be empty");
  if (!Positive(day.window_min)) return Invalid("window_min", "must be > 0");
  if (!Positive(day.service.mean_service_min)) {
    return Invalid("service.mean_service_min", "must be > 0");
  }
  if (day.service.service_points < 1) {
    return Invalid("service.service_points", "must be at least 1");
  }
  if (!std::isfinite(day.service.service_cv) || day.service.service_cv < 0) {
    return Invalid("service.service_cv", "must be a finite number >= 0");
  }
  for (size_t j = 0; j < day.service.periods.size(); ++j) {
    const ServicePeriod& p = day.service.periods[j];
    const std::string field = absl::StrCat("service.periods[", j, "]");
    if (!std::isfinite(p.start_min) ||
        (j > 0 && !(p.start_min > day.service.periods[j - 1].start_min))) {
      return Invalid(field + ".start_min",
                     "must be finite and after the previous period's");
    }
    if (!Positive(p.mean_service_min)) {
      return Invalid(field + ".mean_service_min", "must be > 0");
    }
    if (!std::isfinite(p.service_cv) || p.service_cv < 0) {
      return Invalid(field + ".service_cv", "must be a finite number >= 0");
    }
  }
  for (auto [name, value] : {std::pair{"uncertainty.offset_shift_sd_min",
                                       day.uncertainty.offset_shift_sd_min},
                             std::pair{"uncertainty.service_mean_rel_sd",
                                       day.uncertainty.service_mean_rel_sd},
                             std::pair{"uncertainty.no_show_logit_sd",
                                       day.uncertainty.no_show_logit_sd}}) {
    if (!std::isfinite(value) || value < 0) {
      return Invalid(name, "must be a finite number >= 0");
    }
  }
  if (!Positive(day.granularity_min)) {
    return Invalid("granularity_min", "must be > 0");
  }
  if (day.granularity_min > day.window_min) {
    return Invalid("granularity_min",
                   absl::StrFormat("%g is larger than the window (%g min)",
                                   day.granularity_min, day.window_min));
  }
  int fixed = 0;
  for (size_t i = 0; i < day.attendees.size(); ++i) {
    const PlannedAttendee& a = day.attendees[i];
    const auto& f = a.forecast;
    const std::string field = absl::StrCat("attendees[", i, "]");
    if (!std::isfinite(f.p10_min) || !std::isfinite(f.p50_min) ||
        !std::isfinite(f.p90_min) || f.p10_min > f.p50_min ||
        f.p50_min > f.p90_min) {
      return Invalid(field + ".forecast",
                     "P10 <= P50 <= P90 must be finite and ordered");
    }
    if (!(f.no_show_probability >= 0.0 && f.no_show_probability <= 1.0)) {
      return Invalid(field + ".no_show", "must be in [0, 1]");
    }
    if (a.fixed_min) {
      ++fixed;
      if (!(*a.fixed_min >= 0.0 && *a.fixed_min < day.window_min)) {
        return Invalid(field + ".fixed_min", "must lie inside [0, window)");
      }
    }
  }
  // Kept a double: a long window over a tiny service time holds more than an
  // int (converting it was undefined; found by plan_instance_fuzzer).
  const double holds = std::floor(day.service.service_points * day.window_min /
                                      day.service.mean_service_min +
                                  1e-9);
  if (fixed > holds) {
    return Invalid(
        "attendees",
        absl::StrFormat("%d fixed appointments are more than the window holds "
                        "(%g = %d service points x %g min / %g min service)",
                        fixed, holds, day.service.service_points,
                        day.window_min, day.service.mean_service_min));
  }
  return absl::OkStatus();
}

namespace {

double Attendance(const DayPlan& day) {
  double attendance = 0.0;
  for (const auto& a : day.attendees) {
    attendance += 1.0 - a.forecast.no_show_probability;
  }
  return attendance;
}

double BudgetMs(size_t attendees, double utilisation) {
  const double load = std::clamp(0.5 + 0.5 * utilisation, 0.5, 1.0);
  return std::min(700.0, (50.0 + 0.02 * static_cast<double>(attendees)) * load);
}

// Days per venue level on which the guard (HedgeTowardNaive) compares a plan
// with the spread: 128 up to 100 attendees, fewer for larger days, whose
// cost varies less from day to day (many attendees average out), down to
// 16 from 800 attendees. The guard replays each of its 15 candidates on
// five levels: at 128 days, 10,000 attendees took 8.5 s of a 227 ms budget
// (1.5 s at 16).
int HedgeReplications(size_t attendees) {
  const size_t r = 12800 / std::max<size_t>(attendees, 1);
  return static_cast<int>(std::clamp<size_t>(r, 16, 128));
}

// The day with every forecast moved by `shift` minutes and no uncertain
// shift left: a venue whose level sits `shift` from the forecasts'.
DayPlan ShiftedDay(const DayPlan& day, double shift) {
  DayPlan shifted = day;
  shifted.uncertainty.offset_shift_sd_min = 0.0;
  for (PlannedAttendee& a : shifted.attendees) {
    a.forecast.p10_min += shift;
    a.forecast.p50_min += shift;
    a.forecast.p90_min += shift;
  }
  return shifted;
}

// With an uncertain venue level: keeps the plan from costing more than the
// naive even spread on venues whose level sits -2, -1, 0, +1 or +2 sds from
// the forecasts'. Candidates: the plan moved toward the spread rank by rank
// (the k-th earliest free convocation toward the spread's k-th) by a share
// of 0, 1/4, 1/2 or 3/4; the spread opening up to 5% of the window late
// and closing on time or 3% early (what helps when everyone comes early, or
// late, without hurting much the other way); the spread itself. Takes the one
// with the lowest mean cost ratio to the spread over those venues among those
// that beat it on each by at least a standard error (on `reps` days per venue,
// common random numbers), or the spread itself. Returns the share of the way
// to the spread (1 for the spread and its variants).
double HedgeTowardNaive(const DayPlan& day, const CostWeights& w, int reps,
                        uint64_t seed, const std::vector<size_t>& free,
                        const std::function<bool()>& should_stop,
                        std::vector<double>& plan) {
  const double sd = day.uncertainty.offset_shift_sd_min;
  const std::vector<double> naive = NaiveConvocations(day);
  std::vector<SimulatedDays> strata;
  std::vector<std::vector<double>> naive_days;
  for (int k = -2; k <= 2; ++k) {
    if (should_stop && should_stop()) return -1.0;
    strata.emplace_back(ShiftedDay(day, k * sd), reps, seed + 7919 * (k + 3));
    naive_days.emplace_back();
    strata.back().DayCosts(naive, w, &naive_days.back());
  }
  std::vector<size_t> by_plan = free;
  std::stable_sort(by_plan.begin(), by_plan.end(),
                   [&](size_t a, size_t b) { return plan[a] < plan[b]; });
  std::vector<double> naive_times;
  for (size_t i : free) naive_times.push_back(naive[i]);
  std::sort(naive_times.begin(), naive_times.end());
  const double g = day.granularity_min;
  const double last = std::floor((day.window_min - 1e-9) / g) * g;
  auto snap = [&](double m) {
    return std::clamp(std::round(m / g) * g, 0.0, last);
  };
  std::vector<std::pair<double, std::vector<double>>> candidates;
  for (double share : {0.0, 0.25, 0.5, 0.75}) {
    std::vector<double> c = plan;
    for (size_t k = 0; k < by_plan.size(); ++k) {
      c[by_plan[k]] =
          snap((1.0 - share) * plan[by_plan[k]] + share * naive_times[k]);
    }
    candidates.emplace_back(share, std::move(c));
  }
  for (double late : {0.0, 0.01, 0.02, 0.03, 0.05}) {
    for (double early_close : {0.0, 0.03}) {
      if (late == 0.0 && early_close == 0.0) continue;
      std::vector<double> c = naive;
      const double open = late * day.window_min;
      const double close = (1.0 - early_close) * last;
      for (size_t i : free) {
        c[i] = snap(open + naive[i] * (close - open) / std::max(last, 1e-9));
      }
      candidates.emplace_back(1.0, std::move(c));
    }
  }
  // A candidate holds on a venue when it beats the spread there by at least
  // one standard error of the paired difference over the days.
  double best_ratio = 1.0, best_share = 1.0;
  std::vector<double> best = naive, per_day;
  for (auto& [share, c] : candidates) {
    if (should_stop && should_stop()) return -1.0;
    double ratio = 0.0;
    bool holds = true;
    for (size_t s = 0; s < strata.size() && holds; ++s) {
      if (should_stop && should_stop()) return -1.0;
      strata[s].DayCosts(c, w, &per_day);
      double sum = 0.0, sum_sq = 0.0, base = 0.0;
      for (int r = 0; r < reps; ++r) {
        const double d = per_day[r] - naive_days[s][r];
        sum += d;
        sum_sq += d * d;
        base += naive_days[s][r];
      }
      const double mean = sum / reps;
      const double se = std::sqrt(
          std::max(0.0, (sum_sq - sum * mean) / std::max(reps - 1, 1)) / reps);
      holds = mean + se <= 0.0;
      ratio += (1.0 + mean * reps / std::max(base, 1e-12)) / strata.size();
    }
    if (holds && ratio < best_ratio) {
      best_ratio = ratio;
      best_share = share;
      best = c;
    }
  }
  plan = std::move(best);
  return best_share;
}

}  // namespace

double DefaultTimeBudgetMs(const DayPlan& day) {
  if (day.attendees.empty()) return 0.0;
  return BudgetMs(day.attendees.size(), Utilisation(day));
}

int DefaultSearchReplications(size_t attendees) {
  const size_t r = 32000 / std::max<size_t>(attendees, 1);
  return static_cast<int>(std::clamp<size_t>(r, 8, 32));
}

double Utilisation(const DayPlan& day) {
  const double capacity = ServiceCapacity(day.service, day.window_min);
  return capacity > 0.0 ? Attendance(day) / capacity : 0.0;
}

double OverflowMinutes(const DayPlan& day) {
  const double attendance = Attendance(day);
  if (day.service.periods.empty()) {
    const double work = attendance * day.service.mean_service_min /
                        std::max(day.service.service_points, 1);
    return std::max(0.0, work - day.window_min);
  }
  const double beyond =
      attendance - ServiceCapacity(day.service, day.window_min);
  return std::max(0.0, beyond * MeanServiceAt(day.service, day.window_min) /
                           std::max(day.service.service_points, 1));
}

absl::StatusOr<OptimizedSchedule> OptimizeConvocations(
    const DayPlan& day, const OptimizerOptions& options) {
  if (absl::Status s = ValidateDayPlan(day); !s.ok()) return s;
  if (absl::Status s = ValidateCostWeights("weights", options.weights);
      !s.ok()) {
    return s;
  }
  const auto start_time = std::chrono::steady_clock::now();
  OptimizedSchedule out;
  out.overflow_min = OverflowMinutes(day);
  if (out.overflow_min > 0.0 && options.overflow == OverflowPolicy::kRefuse) {
    const double attendance = Attendance(day);
    return absl::FailedPreconditionError(absl::StrFormat(
        "window: the expected attendance (%.1f attendees x %g min on %d "
        "service points) needs %.0f more minutes than the %g-minute window; "
        "extend the window or allow running over",
        attendance, day.service.mean_service_min, day.service.service_points,
        std::ceil(out.overflow_min), day.window_min));
  }

  const CostWeights& w = options.weights;
  const double quantile = w.idle + w.wait > 0.0
                              ? std::clamp(w.idle / (w.idle + w.wait), 0.1, 0.9)
                              : 0.5;
  std::vector<double> conv = PlanConvocations(day, quantile);
  const size_t n = day.attendees.size();
  std::vector<size_t> free;
  for (size_t i = 0; i < n; ++i) {
    if (!day.attendees[i].fixed_min) free.push_back(i);
  }
  out.time_budget_ms = options.time_budget_ms == kAutomaticBudget
                           ? DefaultTimeBudgetMs(day)
                           : std::max(0.0, options.time_budget_ms);
  out.constructive_cost = std::numeric_limits<double>::quiet_NaN();
  out.cost = out.constructive_cost;
  if (out.time_budget_ms > 0.0 && !free.empty()) {
    SearchSettings settings;
    settings.weights = w;
    settings.replications = options.replications > 0
                                ? options.replications
                                : DefaultSearchReplications(n);
    settings.max_replications =
        options.max_replications > 0 ? options.max_replications
        : options.replications > 0   ? options.replications
                                     : 8 * settings.replications;
    // The search's days apart from those that state the KPIs afterwards
    // (SimulationOptions has the same default seed): KPIs simulated on the
    // days a plan was tuned to would promise better than the plan will do.
    settings.seed = options.seed ^ 0x5EA2C4D15EA2C4D1ULL;
    settings.deadline =
        start_time + std::chrono::microseconds(
                         static_cast<int64_t>(out.time_budget_ms * 1000.0));
    settings.max_evaluations = options.max_evaluations;
    settings.should_stop = options.should_stop;
    std::vector<std::vector<double>> starts = {conv};
    for (TargetOrder order : {TargetOrder::kNarrowAtEnds,
                              TargetOrder::kLateFirst, TargetOrder::kAsGiven}) {
      starts.push_back(PlanConvocations(day, quantile, order));
    }
    starts.push_back(NaiveConvocations(day));
    const bool uncertain_level =
        options.guard_against_naive &&
        day.uncertainty.offset_shift_sd_min >= kGuardMinShiftSdMin;
    if (uncertain_level) {
      // The guard's replays take their share of the budget.
      settings.deadline =
          start_time + std::chrono::microseconds(static_cast<int64_t>(
                           0.6 * out.time_budget_ms * 1000.0));
    }
    if (uncertain_level) {
      settings.relative_to_start = static_cast<int>(starts.size()) - 1;
    }
    SearchOutcome found = ImproveConvocations(day, starts, free, settings);
    if (found.stopped) return Cancelled();
    // A search that converged with budget left searches again from its plan
    // on new days (up to 8 rounds); a round's plan is kept when it also
    // costs less on days of their own (a judge): what one round's days liked
    // alone is undone, with budget that would have gone unused.
    if (found.converged && !uncertain_level) {
      SimulatedDays judge(day, 4 * settings.max_replications,
                          settings.seed ^ 0x1D6E1D6E1D6E1D6EULL);
      double judged = judge.Cost(found.convocation_min, w);
      int used = found.evaluations;
      for (int round = 1; round <= 8; ++round) {
        if (std::chrono::steady_clock::now() >= settings.deadline) break;
        if (options.max_evaluations > 0) {
          if (used >= options.max_evaluations) break;
          settings.max_evaluations = options.max_evaluations - used;
        }
        settings.seed += 0x9E3779B97F4A7C15ULL;
        SearchOutcome again =
            ImproveConvocations(day, {found.convocation_min}, free, settings);
        if (again.stopped) return Cancelled();
        used += again.evaluations;
        found.accepted += again.accepted;
        const double cost = judge.Cost(again.convocation_min, w);
        if (cost < judged) {
          judged = cost;
          found.convocation_min = std::move(again.convocation_min);
          found.cost = again.cost;
        }
        if (!again.converged) break;
      }
      found.evaluations = used;
    }
    conv = std::move(found.convocation_min);
    out.constructive_cost = found.first_start_cost;
    out.cost = found.cost;
    out.evaluations = found.evaluations;
    out.accepted_moves = found.accepted;
    out.replications = found.replications;
    out.converged = found.converged;
    if (uncertain_level && !found.stopped) {
      out.naive_blend = HedgeTowardNaive(
          day, w, std::max(HedgeReplications(n), settings.replications),
          options.seed, free, options.should_stop, conv);
      if (out.naive_blend < 0.0) return Cancelled();
    }
  }
  if (options.should_stop && options.should_stop()) return Cancelled();
  out.order.resize(n);
  std::iota(out.order.begin(), out.order.end(), 0);
  std::stable_sort(out.order.begin(), out.order.end(),
                   [&](size_t a, size_t b) { return conv[a] < conv[b]; });
  out.convocation_min = std::move(conv);
  return out;
}

}  // namespace noqueue::scheduler
