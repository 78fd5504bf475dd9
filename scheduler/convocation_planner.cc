#include "scheduler/convocation_planner.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "model/normal.h"
#include "scheduler/queue_simulator.h"

namespace noqueue::scheduler {
namespace {

double Snap(double minutes, const DayPlan& day) {
  const double g = day.granularity_min;
  double last = std::floor((day.window_min - 1e-9) / g) * g;
  return std::clamp(std::round(minutes / g) * g, 0.0, std::max(0.0, last));
}

// The q-quantile of an offset plus an independent normal day shift of sd
// `shift_sd`: the split normal's half widened on each side (exact for a
// normal offset, close for a skewed one).
double ShiftedOffsetQuantile(const model::ArrivalForecast& f, double q,
                             double shift_sd) {
  if (shift_sd <= 0.0) return OffsetQuantile(f, q);
  const double widen = model::kZ90 * shift_sd;
  model::ArrivalForecast wide = f;
  wide.p10_min = f.p50_min - std::hypot(f.p50_min - f.p10_min, widen);
  wide.p90_min = f.p50_min + std::hypot(f.p90_min - f.p50_min, widen);
  return OffsetQuantile(wide, q);
}

}  // namespace

std::vector<double> PlanConvocations(const DayPlan& day,
                                     double arrival_quantile,
                                     TargetOrder target_order) {
  const size_t n = day.attendees.size();
  std::vector<double> result(n, 0.0);
  if (n == 0) return result;

  // Order free attendees (see TargetOrder).
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto spread = [&](size_t i) {
    const auto& f = day.attendees[i].forecast;
    return f.p90_min - f.p10_min;
  };
  switch (target_order) {
    case TargetOrder::kNarrowFirst:
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return spread(a) < spread(b);
      });
      break;
    case TargetOrder::kNarrowAtEnds: {
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return spread(a) < spread(b);
      });
      std::vector<size_t> ends(n);
      size_t front = 0, back = n;
      for (size_t k = 0; k < n; ++k) {
        if (k % 2 == 0) {
          ends[front++] = order[k];
        } else {
          ends[--back] = order[k];
        }
      }
      order = std::move(ends);
      break;
    }
    case TargetOrder::kLateFirst:
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return day.attendees[a].forecast.p50_min >
               day.attendees[b].forecast.p50_min;
      });
      break;
    case TargetOrder::kAsGiven:
      break;
  }

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
  std::vector<double> targets(n);
  if (day.service.periods.empty()) {
    const double usable =
        std::max(0.0, day.window_min - day.service.mean_service_min);
    const double step =
        shows_before.back() > 0.0 ? usable / shows_before.back() : 0.0;
    const double capacity_step =
        day.service.mean_service_min / day.service.service_points;
    const bool tight = step <= capacity_step * 1.05;
    for (size_t k = 0; k < n; ++k) {
      targets[k] = (tight && k == 1) ? 0.0 : shows_before[k] * step;
    }
  } else {
    // The same in capacity rather than minutes: as many expected arrivals
    // in each stretch as it can serve.
    const double usable = std::max(
        0.0, day.window_min - MeanServiceAt(day.service, day.window_min));
    const double capacity = ServiceCapacity(day.service, usable);
    const double per_show =
        shows_before.back() > 0.0 ? capacity / shows_before.back() : 0.0;
    const bool tight = per_show <= 1.05;
    for (size_t k = 0; k < n; ++k) {
      targets[k] =
          (tight && k == 1)
              ? 0.0
              : MinuteOfCapacity(day.service, shows_before[k] * per_show);
    }
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
    result[i] = Snap(targets[next] - ShiftedOffsetQuantile(
                                         a.forecast, arrival_quantile,
                                         day.uncertainty.offset_shift_sd_min),
                     day);
  }
  return result;
}

double ServiceCapacity(const ServiceProfile& service, double minute) {
  const double points = std::max(service.service_points, 1);
  if (service.periods.empty()) {
    return points * minute / service.mean_service_min;
  }
  double capacity = 0.0, from = 0.0, mean = service.mean_service_min;
  for (const ServicePeriod& p : service.periods) {
    if (p.start_min >= minute) break;
    if (p.start_min > from) {
      capacity += points * (p.start_min - from) / mean;
      from = p.start_min;
    }
    mean = p.mean_service_min;
  }
  return capacity + points * std::max(0.0, minute - from) / mean;
}

double MinuteOfCapacity(const ServiceProfile& service, double services) {
  const double points = std::max(service.service_points, 1);
  double left = std::max(0.0, services), from = 0.0,
         mean = service.mean_service_min;
  for (const ServicePeriod& p : service.periods) {
    if (p.start_min > from) {
      const double stretch = points * (p.start_min - from) / mean;
      if (stretch >= left) break;
      left -= stretch;
      from = p.start_min;
    }
    mean = p.mean_service_min;
  }
  return from + left * mean / points;
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
