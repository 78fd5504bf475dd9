#include "scheduler/queue_simulator.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <queue>
#include <random>

namespace noqueue::scheduler {
namespace {

constexpr double kZ90 = 1.2815515655446004;  // standard normal 0.9 quantile

double SampleOffset(const model::ArrivalForecast& f, double z) {
  double scale = z < 0 ? (f.p50_min - f.p10_min) : (f.p90_min - f.p50_min);
  return f.p50_min + z * std::max(scale, 0.0) / kZ90;
}

struct Draw {
  bool shows;
  double arrival;
  double service;
};

}  // namespace

int DefaultReplications(size_t attendees) {
  size_t budget = 200000 / std::max<size_t>(attendees, 1);
  return static_cast<int>(std::clamp<size_t>(budget, 30, 400));
}

SimulationResult SimulateDay(const DayPlan& day,
                             const std::vector<double>& convocation_min,
                             const SimulationOptions& options) {
  const size_t n = day.attendees.size();
  SimulationResult result;
  result.expected_wait_min.assign(n, 0.0);
  if (n == 0 || options.replications <= 0) return result;

  const ServiceProfile& service = day.service;
  const double cv = std::max(service.service_cv, 0.0);
  const double sigma2 = std::log1p(cv * cv);
  const double mu = std::log(service.mean_service_min) - 0.5 * sigma2;
  const double sigma = std::sqrt(sigma2);
  const int k = std::max(service.service_points, 1);

  std::vector<double> wait_sum(n, 0.0);
  std::vector<int> shows(n, 0);
  std::vector<double> all_waits;
  all_waits.reserve(n * options.replications);
  std::vector<Draw> draws(n);
  std::vector<size_t> by_arrival(n);
  std::vector<std::pair<double, int>> queue_events;
  queue_events.reserve(2 * n);
  double max_queue_sum = 0.0, idle_sum = 0.0, overtime_sum = 0.0;

  for (int rep = 0; rep < options.replications; ++rep) {
    std::mt19937_64 rng(options.seed * 1000003ULL + rep);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (size_t i = 0; i < n; ++i) {
      const auto& f = day.attendees[i].forecast;
      double u = uniform(rng);
      double z_arrival = normal(rng);
      double z_service = normal(rng);
      draws[i].shows = u >= f.no_show_probability;
      draws[i].arrival = convocation_min[i] + SampleOffset(f, z_arrival);
      draws[i].service =
          cv > 0 ? std::exp(mu + sigma * z_service) : service.mean_service_min;
    }
    std::iota(by_arrival.begin(), by_arrival.end(), 0);
    std::sort(by_arrival.begin(), by_arrival.end(), [&](size_t a, size_t b) {
      return draws[a].arrival < draws[b].arrival ||
             (draws[a].arrival == draws[b].arrival && a < b);
    });

    std::priority_queue<double, std::vector<double>, std::greater<double>>
        free_at;
    for (int s = 0; s < k; ++s) free_at.push(0.0);
    double busy = 0.0, last_end = 0.0;
    queue_events.clear();
    for (size_t i : by_arrival) {
      const Draw& d = draws[i];
      if (!d.shows) continue;
      double start = std::max({d.arrival, free_at.top(), 0.0});
      free_at.pop();
      double end = start + d.service;
      free_at.push(end);
      busy += d.service;
      last_end = std::max(last_end, end);
      const double wait = start - d.arrival;
      wait_sum[i] += wait;
      shows[i] += 1;
      all_waits.push_back(wait);
      if (start > d.arrival) {
        queue_events.emplace_back(d.arrival, +1);
        queue_events.emplace_back(start, -1);
      }
    }
    // Leaving the queue sorts before joining it at the same instant.
    std::sort(queue_events.begin(), queue_events.end());
    int in_queue = 0, max_queue = 0;
    for (const auto& [time, delta] : queue_events) {
      in_queue += delta;
      max_queue = std::max(max_queue, in_queue);
    }
    const double day_end = std::max(day.window_min, last_end);
    max_queue_sum += max_queue;
    idle_sum += k * day_end - busy;
    overtime_sum += std::max(0.0, last_end - day.window_min);
  }

  const double reps = options.replications;
  result.expected_max_queue = max_queue_sum / reps;
  result.idle_min = idle_sum / reps;
  result.overtime_min = overtime_sum / reps;
  if (!all_waits.empty()) {
    result.mean_wait_min =
        std::accumulate(all_waits.begin(), all_waits.end(), 0.0) /
        static_cast<double>(all_waits.size());
    size_t idx = static_cast<size_t>(0.9 * (all_waits.size() - 1));
    std::nth_element(all_waits.begin(), all_waits.begin() + idx,
                     all_waits.end());
    result.p90_wait_min = all_waits[idx];
  }
  for (size_t i = 0; i < n; ++i) {
    result.expected_wait_min[i] = shows[i] ? wait_sum[i] / shows[i] : 0.0;
  }
  return result;
}

}  // namespace noqueue::scheduler
