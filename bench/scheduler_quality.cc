// scheduler_quality: how good NoQueue's convocation times are, against the
// simple rules venues use, a strong offline oracle, and Kaandorp & Koole's
// exact optimum; how robust its first day is; whether its promises hold;
// how long it takes.
//
//   scheduler_quality [--quick] [--out_dir=var] [--budget_ms=300]
//
// (sections 1-2 in quality_reference.cc, 3-4 in quality_busy.cc)
//
// Cost = attendee wait + desk idle (until the day ends) + overtime, weighted
// (minutes per day). Every figure comes from fixed seeds; --quick (under a
// minute, for CI) scores on fewer days and gives the oracle less time.
//
// 1. Four heterogeneous venues (museum, airport, station, clinic): NoQueue
//    plans from forecasts of each attendee's habit (shrunk and noisy), the
//    "search on truth" from the truth, both with --budget_ms; every schedule
//    scored on the same simulated days of the truth. Writes
//    DIR/scheduler_quality_<venue>.svg (the expected queue over the day).
// 2. Kaandorp & Koole's instance, scored exactly.
// 3. Busy venues (80-95% utilisation, service cv 0.6-1.0, heterogeneous and
//    skewed habits, 5-20% no-shows): 30 days of each venue's attendees are
//    simulated and learned by model::ArrivalModel (LearnArrival /
//    LearnNoShow with the venue's hours, weekdays and lead times); NoQueue
//    plans the next day from the model's Predict, under the server's default
//    options; the oracle is a long search on the true behaviour (many days,
//    every start, including NoQueue's plans), scored on other days. Each
//    NoQueue plan's promised 90% interval of the mean wait is checked
//    against many realised days.
// 4. The first day of a new venue (no history): forecasts are the type's
//    prior, the venue's level uncertain by the prior's 10 min; NoQueue's
//    hedged plan against the naive even spread on venues whose level sits
//    -2, -1, 0, +1 and +2 sds off (8 venues drawn at each), and its promise
//    on venues drawn from the prior.
// 5. What the search buys by size and load, at the default budget.
// 6. Time to plan 100, 1,000 and 10,000 attendees with KPIs, by default.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "bench/quality.h"
#include "model/normal.h"
#include "proto/base/tool_flags.h"
#include "scheduler/convocation_planner.h"
#include "scheduler/convocation_search.h"
#include "scheduler/schedule_optimizer.h"

ABSL_FLAG(bool, quick, false,
          "CI mode, under a minute: fewer scoring days, a shorter oracle, "
          "a 100 ms budget");
ABSL_FLAG(std::string, out_dir, "var", "where the SVG plots are written");
ABSL_FLAG(double, budget_ms, -1,
          "section 1's search budget, ms (< 0: 300, or 100 with --quick)");

namespace noqueue::scheduler::quality {
namespace {

using ::noqueue::model::kZ90;

// ---------------------------------------------------------------------------
// 5. What the search buys by size and load

int SearchBySize(const Mode& mode) {
  std::printf(
      "\n5. What the search buys by size and load (default budget; cost "
      "relative to the constructive plan, narrow windows first, on %d days; "
      "heterogeneous habits, 3 to 60 desks, lognormal cv 0.7)\n",
      mode.quick ? 100 : 300);
  std::printf("%8s %6s %10s %12s %10s %12s %10s\n", "people", "util",
              "budget ms", "default", "time ms", "4 x budget", "time ms");
  for (int n : {50, 200, 1000}) {
    for (double util : {0.6, 0.8, 0.95}) {
      std::mt19937_64 rng(n * 100 + static_cast<int>(util * 100));
      std::normal_distribution<double> habit(-5.0, 7.0);
      std::uniform_real_distribution<double> spread(1.0, 9.0),
          no_show(0.0, 0.2);
      DayPlan day;
      day.window_min = 240.0;
      const int desks = std::max(3, n / 16);
      day.service = Service(desks, util * desks * 240.0 / (0.9 * n), 0.7,
                            ServiceDistribution::kLognormal);
      for (int i = 0; i < n; ++i) {
        const double m = habit(rng), s = spread(rng);
        day.attendees.push_back(
            {{m - kZ90 * s, m, m + 1.5 * kZ90 * s, no_show(rng), 0},
             std::nullopt});
      }
      SimulatedDays score(day, mode.quick ? 100 : 300, 4242);
      const double base = score.Cost(PlanConvocations(day), kBenchWeights);
      OptimizerOptions o;
      o.weights = kBenchWeights;
      auto t0 = Clock::now();
      auto fast = OptimizeConvocations(day, o);
      const double fast_ms = MsSince(t0);
      o.time_budget_ms = 4.0 * fast->time_budget_ms;
      t0 = Clock::now();
      auto slow = OptimizeConvocations(day, o);
      const double slow_ms = MsSince(t0);
      std::printf(
          "%8d %6.2f %10.0f %12.3f %10.0f %12.3f %10.0f\n", n, util,
          fast->time_budget_ms,
          score.Cost(fast->convocation_min, kBenchWeights) / base, fast_ms,
          score.Cost(slow->convocation_min, kBenchWeights) / base, slow_ms);
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------
// 6. Time

int Timing(const Mode& mode) {
  std::printf(
      "\n6. Time to schedule with KPIs (OptimizerOptions{}: the default "
      "budget; DefaultReplications for the KPIs of the plan and the naive "
      "spread); heterogeneous habits, 5-min services, n / 48 desks, 4 h\n");
  std::vector<double> times;
  for (int n : {100, 1000, 10000}) {
    Scenario s{"timing",
               n,
               std::max(1, n / 48),
               5.0,
               ServiceDistribution::kLognormal,
               0.5,
               240.0,
               0.0,
               8.0,
               2.0,
               10.0,
               0.0,
               0.2,
               0x7117};
    Population p = Draw(s);
    for (double budget : {kAutomaticBudget, 0.0}) {
      const int repeats =
          n <= 1000 ? (mode.quick ? 3 : 10) : (mode.quick ? 1 : 3);
      OptimizerOptions o;
      o.time_budget_ms = budget;
      double used = 0.0;
      const auto t0 = Clock::now();
      for (int r = 0; r < repeats; ++r) {
        auto plan = OptimizeConvocations(p.forecast, o);
        used = plan->time_budget_ms;
        SimulatedDays days(p.forecast, DefaultReplications(n), 1);
        days.Simulate(plan->convocation_min);
        days.Simulate(NaiveConvocations(p.forecast));
      }
      const double ms = MsSince(t0) / repeats;
      times.push_back(ms);
      std::printf("%6d attendees, %s: %8.2f ms (search budget %.0f ms)\n", n,
                  budget == 0.0 ? "no search     " : "default budget", ms,
                  used);
    }
  }
  // times: [100 default, 100 none, 1000 default, 1000 none, 10k default,
  // 10k none]
  Target(PlannerTargets(), times[2] < 100.0,
         "1,000 attendees planned with KPIs by default in < 100 ms: %.1f ms",
         times[2]);
  Target(PlannerTargets(), times[4] < 1000.0,
         "10,000 attendees planned with KPIs by default in < 1 s: %.0f ms",
         times[4]);
  Target(ReferenceTargets(), times[1] < 5.0,
         "100 attendees scheduled with KPIs in < 5 ms (no search): %.2f ms",
         times[1]);
  Target(ReferenceTargets(), times[5] / times[3] < 15.0,
         "about linear (no search): time(10000) / time(1000) = %.1f (< 15)",
         times[5] / times[3]);
  return 0;
}

int Run(const Mode& mode) {
  std::printf("scheduler_quality%s\n\n", mode.quick ? " --quick" : "");
  const auto t0 = Clock::now();
  CoverageTally busy_coverage, day_one_coverage;
  if (ReferenceVenues(mode) || KaandorpKoole(mode) ||
      BusyVenues(mode, busy_coverage) || FirstDay(mode, day_one_coverage) ||
      SearchBySize(mode) || Timing(mode)) {
    return 1;
  }
  const double busy = busy_coverage.Share();
  const double first = day_one_coverage.Share();
  char format[200];
  std::snprintf(format, sizeof format,
                "promise coverage 85-95%%%% (busy venues, %d realised days): "
                "%%.1f%%%%",
                busy_coverage.days);
  Target(PlannerTargets(), busy >= 0.85 && busy <= 0.95, format, 100 * busy);
  std::snprintf(format, sizeof format,
                "promise coverage 85-95%%%% (first days, %d realised days of "
                "venues drawn from the prior): %%.1f%%%%",
                day_one_coverage.days);
  Target(PlannerTargets(), first >= 0.85 && first <= 0.95, format, 100 * first);

  bool all = true;
  std::printf("\nTargets\n");
  for (const std::string& t : PlannerTargets()) {
    std::printf("  %s\n", t.c_str());
    all = all && t.substr(t.size() - 4) == "PASS";
  }
  std::printf("Targets of the reference venues\n");
  for (const std::string& t : ReferenceTargets())
    std::printf("  %s\n", t.c_str());
  std::printf("%s (%.0f s)\n", all ? "all targets met" : "some targets missed",
              MsSince(t0) / 1000.0);
  return 0;
}

}  // namespace
}  // namespace noqueue::scheduler::quality

int main(int argc, char** argv) {
  noqueue::ParseToolFlags(
      argc, argv,
      "scheduler_quality [--quick] [--out_dir=var] [--budget_ms=300]: "
      "NoQueue's convocation times against simple rules, an oracle and "
      "Kaandorp & Koole; its promises; its time");
  noqueue::scheduler::quality::Mode mode;
  mode.quick = absl::GetFlag(FLAGS_quick);
  mode.out_dir = absl::GetFlag(FLAGS_out_dir);
  const double budget = absl::GetFlag(FLAGS_budget_ms);
  if (mode.quick) {
    mode.score_days = 400;
    mode.oracle_s = 3.0;
    mode.coverage_days = 200;
    mode.budget_ms = 100.0;
  }
  if (budget >= 0) mode.budget_ms = budget;
  std::error_code ec;
  std::filesystem::create_directories(mode.out_dir, ec);
  return noqueue::scheduler::quality::Run(mode);
}
