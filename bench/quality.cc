// scheduler_quality's shared parts: its targets and the simple rules.
#include "bench/quality.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>

#include "model/normal.h"

namespace noqueue::scheduler::quality {

using ::noqueue::model::kZ90;

const char* Verdict(bool pass) { return pass ? "PASS" : "MISS"; }

void PrintHeader() {
  std::printf("%-8s %-14s %9s %9s %9s %9s %9s %10s\n", "venue", "schedule",
              "mean wait", "P90 wait", "max queue", "idle", "overtime", "cost");
}

void PrintRow(const char* venue, const Row& r) {
  std::printf("%-8s %-14s %9.2f %9.2f %9.2f %9.1f %9.2f %10.1f\n", venue,
              r.name.c_str(), r.sim.mean_wait_min, r.sim.p90_wait_min,
              r.sim.expected_max_queue, r.sim.idle_min, r.sim.overtime_min,
              r.cost);
}

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::vector<std::string>& PlannerTargets() {
  static auto* targets = new std::vector<std::string>;
  return *targets;
}

std::vector<std::string>& ReferenceTargets() {
  static auto* targets = new std::vector<std::string>;
  return *targets;
}

void Target(std::vector<std::string>& into, bool pass, const char* format,
            double figure) {
  char line[300];
  std::snprintf(line, sizeof line, format, figure);
  into.push_back(std::string(line) + "  " + Verdict(pass));
}

ServiceProfile Service(int points, double mean, double cv,
                       ServiceDistribution dist) {
  ServiceProfile s;
  s.service_points = points;
  s.mean_service_min = mean;
  s.service_cv = cv;
  s.distribution = dist;
  return s;
}

model::ArrivalForecast Normal(double mean, double sd, double no_show) {
  return {mean - kZ90 * sd, mean, mean + kZ90 * sd, no_show, 0};
}

std::vector<double> BaileyWelch(const DayPlan& day) {
  const size_t n = day.attendees.size();
  const double h = day.window_min / n;
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i] = std::round((i < 2 ? 0.0 : (i - 1) * h));
  }
  return out;
}

std::vector<double> Waves(const DayPlan& day, double wave_min) {
  const size_t n = day.attendees.size();
  const int waves = std::max(1, static_cast<int>(day.window_min / wave_min));
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = wave_min * (i * waves / n);
  return out;
}

Population Draw(const Scenario& s) {
  std::mt19937_64 rng(s.seed);
  std::normal_distribution<double> habit(s.habit_mean, s.habit_sd), unit(0, 1);
  std::uniform_real_distribution<double> spread(s.spread_lo, s.spread_hi);
  std::uniform_real_distribution<double> no_show(s.no_show_lo, s.no_show_hi);
  Population p;
  for (DayPlan* d : {&p.truth, &p.forecast}) {
    d->window_min = s.window_min;
    d->service = Service(s.desks, s.service_min, s.cv, s.dist);
  }
  for (int i = 0; i < s.attendees; ++i) {
    const double mean = habit(rng), sd = spread(rng), q = no_show(rng);
    p.truth.attendees.push_back({Normal(mean, sd, q), std::nullopt});
    // A model that has seen a handful of visits: the habit shrunk a third of
    // the way to the population mean plus 2 minutes of error, a spread
    // widened by that uncertainty, the no-show risk off by up to 5 points.
    const double guess =
        s.habit_mean + 0.67 * (mean - s.habit_mean) + 2.0 * unit(rng);
    const double q_guess =
        std::clamp(q + 0.05 * (2.0 * (unit(rng) > 0) - 1.0), 0.0, 0.95);
    p.forecast.attendees.push_back(
        {Normal(guess, std::sqrt(sd * sd + 9.0), q_guess), std::nullopt});
  }
  return p;
}

}  // namespace noqueue::scheduler::quality
