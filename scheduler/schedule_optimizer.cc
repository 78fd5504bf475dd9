#include "scheduler/schedule_optimizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scheduler/convocation_planner.h"
#include "scheduler/queue_simulator.h"

namespace noqueue::scheduler {
namespace {

absl::Status Invalid(const std::string& field, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

bool Positive(double x) { return std::isfinite(x) && x > 0.0; }

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
  const int holds = static_cast<int>(std::floor(
      day.service.service_points * day.window_min / day.service.mean_service_min +
      1e-9));
  if (fixed > holds) {
    return Invalid(
        "attendees",
        absl::StrFormat("%d fixed appointments are more than the window holds "
                        "(%d = %d service points x %g min / %g min service)",
                        fixed, holds, day.service.service_points,
                        day.window_min, day.service.mean_service_min));
  }
  return absl::OkStatus();
}

double DefaultTimeBudgetMs(size_t attendees) {
  return attendees <= 64 ? 1.0 : 0.0;
}

int DefaultSearchReplications(size_t attendees) {
  size_t r = 1600 / std::max<size_t>(attendees, 1);
  return static_cast<int>(std::clamp<size_t>(r, 8, 64));
}

double OverflowMinutes(const DayPlan& day) {
  double attendance = 0.0;
  for (const auto& a : day.attendees) {
    attendance += 1.0 - a.forecast.no_show_probability;
  }
  const double work = attendance * day.service.mean_service_min /
                      std::max(day.service.service_points, 1);
  return std::max(0.0, work - day.window_min);
}

namespace {

// Local search from the constructive plan `conv` (changed in place): moves
// one free convocation at a time by 4, 2 then 1 grid steps while that lowers
// the cost on the search's simulated days, until the budget runs out.
// Returns the final cost.
double LocalSearch(const DayPlan& day, const OptimizerOptions& options,
                   const std::vector<size_t>& free,
                   std::chrono::steady_clock::time_point start_time,
                   std::vector<double>& conv, OptimizedSchedule* out) {
  const size_t n = day.attendees.size();
  const CostWeights& w = options.weights;
  const int reps = options.replications > 0 ? options.replications
                                            : DefaultSearchReplications(n);
  SimulatedDays days(day, reps, options.seed);
  double cost = days.Cost(conv, w);
  out->constructive_cost = cost;
  out->evaluations = 1;

  // Coordinate moves of free convocations on the grid.
  const double g = day.granularity_min;
  const double last = std::floor((day.window_min - 1e-9) / g) * g;
  const auto deadline =
      start_time + std::chrono::microseconds(
                       static_cast<int64_t>(options.time_budget_ms * 1000.0));
  auto exhausted = [&] {
    if (options.should_stop && options.should_stop()) return true;
    if (options.max_evaluations > 0 &&
        out->evaluations >= options.max_evaluations) {
      return true;
    }
    return std::chrono::steady_clock::now() >= deadline;
  };
  bool stop = exhausted();
  for (int steps : {4, 2, 1}) {
    bool improved = true;
    while (improved && !stop) {
      improved = false;
      for (size_t i : free) {
        for (double dir : {-1.0, 1.0}) {
          if ((stop = exhausted())) break;
          const double old = conv[i];
          conv[i] = std::clamp(old + dir * steps * g, 0.0, std::max(0.0, last));
          if (conv[i] == old) continue;
          const double c = days.Cost(conv, w);
          ++out->evaluations;
          if (c < cost - 1e-9) {
            cost = c;
            improved = true;
            break;
          }
          conv[i] = old;
        }
        if (stop) break;
      }
    }
  }
  return cost;
}

}  // namespace

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
    double attendance = 0.0;
    for (const auto& a : day.attendees) {
      attendance += 1.0 - a.forecast.no_show_probability;
    }
    return absl::FailedPreconditionError(absl::StrFormat(
        "window: the expected attendance (%.1f attendees x %g min on %d "
        "service points) needs %.0f more minutes than the %g-minute window; "
        "extend the window or allow running over",
        attendance, day.service.mean_service_min, day.service.service_points,
        std::ceil(out.overflow_min), day.window_min));
  }

  const CostWeights& w = options.weights;
  const double quantile =
      w.idle + w.wait > 0.0 ? std::clamp(w.idle / (w.idle + w.wait), 0.1, 0.9)
                            : 0.5;
  std::vector<double> conv = PlanConvocations(day, quantile);
  const size_t n = day.attendees.size();
  std::vector<size_t> free;
  for (size_t i = 0; i < n; ++i) {
    if (!day.attendees[i].fixed_min) free.push_back(i);
  }
  double cost = std::numeric_limits<double>::quiet_NaN();
  out.constructive_cost = cost;
  if (options.time_budget_ms > 0.0 && !free.empty()) {
    cost = LocalSearch(day, options, free, start_time, conv, &out);
  }
  if (options.should_stop && options.should_stop()) {
    return absl::CancelledError("planning stopped: the request was cancelled "
                                "or ran out of time");
  }
  out.cost = cost;
  out.order.resize(n);
  std::iota(out.order.begin(), out.order.end(), 0);
  std::stable_sort(out.order.begin(), out.order.end(), [&](size_t a, size_t b) {
    return conv[a] < conv[b];
  });
  out.convocation_min = std::move(conv);
  return out;
}

}  // namespace noqueue::scheduler
