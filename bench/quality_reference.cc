// scheduler_quality, sections 1 and 2: four heterogeneous venues (museum,
// airport, station, clinic), NoQueue against the simple rules and a search
// on the truth; and Kaandorp & Koole's instance, scored exactly.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/quality.h"
#include "model/arrival_model.h"
#include "model/convocation_type.h"
#include "model/normal.h"
#include "proto/base/svg_chart.h"
#include "scheduler/convocation_planner.h"
#include "scheduler/convocation_search.h"
#include "scheduler/exact_evaluator.h"
#include "scheduler/queue_simulator.h"
#include "scheduler/schedule_optimizer.h"
#include "scheduler/slot_local_search.h"

namespace noqueue::scheduler::quality {
namespace {

using ::noqueue::model::kZ90;

// ---------------------------------------------------------------------------
// 1. Four heterogeneous venues

void WriteSvg(const std::string& path, const char* title, double window_min,
              const std::vector<Row>& rows, double step) {
  svg::Chart chart;
  chart.panel_width = 620;
  svg::Panel& panel = chart.panels.emplace_back();
  panel.title = absl::StrCat(title, ": expected number waiting over the day");
  panel.x.title = "minutes into the window";
  panel.x.max = window_min;
  for (const Row& r : rows) {
    svg::Series& series = panel.series.emplace_back();
    series.name = r.name;
    const auto& q = r.sim.expected_queue;
    for (size_t i = 0; i < q.size(); ++i)
      series.points.emplace_back(i * step, q[i]);
  }
  std::ofstream(path) << svg::Render(chart);
}

}  // namespace

int ReferenceVenues(const Mode& mode) {
  const std::vector<Scenario> scenarios = {
      {"museum", 240, 4, 1.5, ServiceDistribution::kLognormal, 0.5, 240.0, 2.0,
       8.0, 2.0, 10.0, 0.02, 0.2, 0x4D55},
      {"airport", 300, 5, 1.0, ServiceDistribution::kGamma, 0.7, 120.0, -10.0,
       10.0, 3.0, 12.0, 0.0, 0.06, 0xA1A1},
      {"station", 150, 3, 2.0, ServiceDistribution::kExponential, 1.0, 120.0,
       -6.0, 6.0, 1.0, 6.0, 0.0, 0.08, 0x57A7},
      {"clinic", 36, 3, 12.0, ServiceDistribution::kLognormal, 0.4, 180.0,
       -18.0, 12.0, 2.0, 6.0, 0.05, 0.35, 0xC11C},
  };
  std::printf(
      "1. Four heterogeneous venues: cost = wait + idle + 1.5 overtime "
      "(minutes per day), scored on %d simulated days of the truth; NoQueue "
      "(from noisy forecasts) and the search on truth both with a %.0f ms "
      "budget\n",
      mode.score_days, mode.budget_ms);
  PrintHeader();
  for (const Scenario& s : scenarios) {
    Population p = Draw(s);
    OptimizerOptions o;
    o.weights = kBenchWeights;
    o.time_budget_ms = mode.budget_ms;
    auto noqueue = OptimizeConvocations(p.forecast, o);
    auto oracle = OptimizeConvocations(p.truth, o);
    if (!noqueue.ok() || !oracle.ok()) {
      std::fprintf(stderr, "%s: %s %s\n", s.name,
                   noqueue.status().ToString().c_str(),
                   oracle.status().ToString().c_str());
      return 1;
    }
    const double step = s.window_min / 120.0;
    SimulatedDays truth(p.truth, mode.score_days, 4242);
    std::vector<Row> rows;
    for (auto [name, conv] :
         {std::pair{"30-min waves", Waves(p.truth, 30.0)},
          std::pair{"even spread", NaiveConvocations(p.truth)},
          std::pair{"Bailey-Welch", BaileyWelch(p.truth)},
          std::pair{"NoQueue", noqueue->convocation_min},
          std::pair{"search on truth", oracle->convocation_min}}) {
      rows.push_back(
          {name, truth.Simulate(conv, step), truth.Cost(conv, kBenchWeights)});
      PrintRow(s.name, rows.back());
    }
    WriteSvg(mode.out_dir + "/scheduler_quality_" + s.name + ".svg", s.name,
             s.window_min, rows, step);
    const double simple = std::min(rows[1].cost, rows[2].cost);
    const double nq = rows[3].cost;
    char line[512];
    const bool a = nq <= 0.9 * simple, b = nq <= 1.1 * rows[4].cost,
               c = rows[3].sim.mean_wait_min <=
                   0.35 * rows[0].sim.mean_wait_min;
    std::snprintf(
        line, sizeof line,
        "%-8s cost <= 0.9 x best of even/BW: %.3f  %s | cost <= 1.1 "
        "x search on truth: %.3f  %s | mean wait <= 0.35 x waves: "
        "%.3f  %s",
        s.name, nq / simple, Verdict(a), nq / rows[4].cost, Verdict(b),
        rows[3].sim.mean_wait_min / rows[0].sim.mean_wait_min, Verdict(c));
    ReferenceTargets().push_back(line);
  }
  return 0;
}

// ---------------------------------------------------------------------------
// 2. Kaandorp & Koole

int KaandorpKoole(const Mode& mode) {
  std::printf(
      "\n2. Kaandorp & Koole: 24 patients, exponential service of 9 min, 240 "
      "min, 5-min slots, weights 0.4/0.2/0.4 (exact costs)\n");
  for (double q : {0.0, 0.2}) {
    const SlotInstance kk{48, 5.0, 9.0, q};
    ExactSlotEvaluator eval(kk, 24);
    const CostWeights w{0.4, 0.2, 0.4};
    const auto t0 = Clock::now();
    SlotSearchResult ref = SlotLocalSearch(eval, 24, w);
    const double ref_ms = MsSince(t0);
    DayPlan day;
    day.window_min = 240.0;
    day.granularity_min = 5.0;
    day.service = Service(1, 9.0, 1.0, ServiceDistribution::kExponential);
    day.attendees.assign(24, {Normal(0.0, 0.0, q), std::nullopt});
    OptimizerOptions o;
    o.weights = w;
    o.time_budget_ms = mode.quick ? 1000.0 : 3000.0;
    o.replications = 1000;
    const auto t1 = Clock::now();
    auto s = OptimizeConvocations(day, o);
    const double ms = MsSince(t1);
    if (!s.ok()) return 1;
    const double cost = eval.Cost(CountsFromMinutes(kk, s->convocation_min), w);
    std::vector<int> even(48, 0);
    for (int i = 0; i < 24; ++i) even[2 * i] += 1;
    std::printf(
        "no-show %.0f%%: KK local search %.3f (%d evaluations, %.0f ms) | "
        "NoQueue %.3f (%d simulated moves, %.0f ms) | even spread %.3f\n",
        100 * q, ref.cost, ref.evaluations, ref_ms, cost, s->evaluations, ms,
        eval.Cost(even, w));
    char format[128];
    std::snprintf(format, sizeof format,
                  "KK no-show %2.0f%%%%: cost <= 1.02 x KK local search: %%.4f",
                  100 * q);
    Target(ReferenceTargets(), cost <= 1.02 * ref.cost, format,
           cost / ref.cost);
  }
  return 0;
}

}  // namespace noqueue::scheduler::quality
