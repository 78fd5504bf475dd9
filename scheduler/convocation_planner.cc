#include "scheduler/convocation_planner.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "scheduler/queue_simulator.h"

namespace noqueue::scheduler {
namespace {

double Snap(double minutes, const DayPlan& day) {
  const double g = day.granularity_min;
  double last = std::floor((day.window_min - 1e-9) / g) * g;
  return std::clamp(std::round(minutes / g) * g, 0.0, std::max(0.0, last));
}

}  // namespace

std::vector<double> PlanConvocations(const DayPlan& day,
                                     double arrival_quantile) {
  const size_t n = day.attendees.size();
  std::vector<double> result(n, 0.0);
  if (n == 0) return result;

  // Order free attendees: narrow predicted windows first (near optimal in
  // the literature: low variance before high variance).
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto spread = [&](size_t i) {
    const auto& f = day.attendees[i].forecast;
    return f.p90_min - f.p10_min;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return spread(a) < spread(b);
  });

  // Target arrivals: the k-th attendee in order arrives after as many
  // shares of the usable window as shows are expected before them, so
  // expected no-shows are filled by others (overbooking). The usable window
  // ends one service before closing, so that the last arrival can be served
  // in time. The first two targets share the first slot (Bailey-Welch) when
  // the day is at or over capacity.
  std::vector<double> shows_before(n);
  double cumulative = 0.0;
  for (size_t k = 0; k < n; ++k) {
    shows_before[k] = cumulative;
    cumulative += 1.0 - day.attendees[order[k]].forecast.no_show_probability;
  }
  const double usable =
      std::max(0.0, day.window_min - day.service.mean_service_min);
  const double step =
      shows_before.back() > 0.0 ? usable / shows_before.back() : 0.0;
  const double capacity_step =
      day.service.mean_service_min / day.service.service_points;
  const bool tight = step <= capacity_step * 1.05;
  std::vector<double> targets(n);
  for (size_t k = 0; k < n; ++k) {
    targets[k] = (tight && k == 1) ? 0.0 : shows_before[k] * step;
  }
  // Targets follow the sorted order's attendance; fixed attendees claim the
  // target nearest to where they are expected, free ones take the rest in
  // order.
  std::vector<bool> taken(n, false);
  for (size_t i = 0; i < n; ++i) {
    const auto& a = day.attendees[i];
    if (!a.fixed_min) continue;
    result[i] = *a.fixed_min;
    double expected_arrival = *a.fixed_min + a.forecast.p50_min;
    size_t best = n;
    for (size_t k = 0; k < n; ++k) {
      if (taken[k]) continue;
      if (best == n || std::abs(targets[k] - expected_arrival) <
                           std::abs(targets[best] - expected_arrival)) {
        best = k;
      }
    }
    taken[best] = true;
  }
  size_t next = 0;
  for (size_t i : order) {
    const auto& a = day.attendees[i];
    if (a.fixed_min) continue;
    while (taken[next]) ++next;
    taken[next] = true;
    result[i] =
        Snap(targets[next] - OffsetQuantile(a.forecast, arrival_quantile), day);
  }
  return result;
}

std::vector<double> NaiveConvocations(const DayPlan& day) {
  const size_t n = day.attendees.size();
  std::vector<double> result(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& a = day.attendees[i];
    result[i] = a.fixed_min ? *a.fixed_min
                            : Snap(day.window_min * static_cast<double>(i) /
                                       static_cast<double>(n),
                                   day);
  }
  return result;
}

}  // namespace noqueue::scheduler
