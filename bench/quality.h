// What scheduler_quality's sections share: the run's mode, its targets
// (each printed with its figure and PASS or MISS), the simple rules venues
// use, and the sections themselves (quality_reference.cc: 1 and 2,
// quality_busy.cc: 3 and 4, scheduler_quality.cc: 5, 6 and the run).
#ifndef NOQUEUE_BENCH_QUALITY_H_
#define NOQUEUE_BENCH_QUALITY_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "model/arrival_model.h"
#include "scheduler/convocation_planner.h"
#include "scheduler/queue_simulator.h"

namespace noqueue::scheduler::quality {

using Clock = std::chrono::steady_clock;

constexpr CostWeights kBenchWeights{1.0, 1.0, 1.5};

struct Mode {
  bool quick = false;
  double budget_ms = 300.0;  // section 1's search budget
  int score_days = 2000;     // fresh days that score every schedule
  double oracle_s = 40.0;    // the oracle's time per busy venue
  int coverage_days = 400;   // realised days per promise
  std::string out_dir = "var";
};

double MsSince(Clock::time_point t0);
const char* Verdict(bool pass);  // "PASS" or "MISS"

// The targets of the planner on busy venues, first days and size (whether
// the run meets all of them is its verdict), and of the reference venues
// (sections 1, 2 and the small sizes' time), printed after them.
std::vector<std::string>& PlannerTargets();
std::vector<std::string>& ReferenceTargets();
// Adds to `into` the line printf(format, figure) followed by PASS or MISS.
void Target(std::vector<std::string>& into, bool pass, const char* format,
            double figure);

ServiceProfile Service(int points, double mean, double cv,
                       ServiceDistribution dist);
// A normal forecast of mean `mean` and sd `sd` (its P10 and P90).
model::ArrivalForecast Normal(double mean, double sd, double no_show);
// Bailey-Welch: two at the start, then one per mean interval.
std::vector<double> BaileyWelch(const DayPlan& day);
// Everyone in waves every `wave_min`, the first at the start.
std::vector<double> Waves(const DayPlan& day, double wave_min);

// A venue of heterogeneous attendees, drawn from its seed.
struct Scenario {
  const char* name;
  int attendees;
  int desks;
  double service_min;
  ServiceDistribution dist;
  double cv;
  double window_min;
  double habit_mean, habit_sd;  // population of mean offsets
  double spread_lo, spread_hi;  // each attendee's own offset sd
  double no_show_lo, no_show_hi;
  uint64_t seed;
};

struct Population {
  DayPlan truth;     // each attendee's real behaviour
  DayPlan forecast;  // what NoQueue is told
};

// The truth and a forecast of a model that has seen a handful of visits.
Population Draw(const Scenario& s);

// A schedule scored on simulated days, a line of a section's table.
struct Row {
  std::string name;
  SimulationResult sim;
  double cost;
};
void PrintHeader();
void PrintRow(const char* venue, const Row& r);

// Realised days inside a promise's 90% interval, over days realised.
struct CoverageTally {
  int inside = 0, days = 0;
  void Add(double share, int n) {
    inside += static_cast<int>(std::lround(share * n));
    days += n;
  }
  double Share() const { return days ? static_cast<double>(inside) / days : 0; }
};

// The sections; each prints its table and adds its targets, non-zero when
// it could not run.
int ReferenceVenues(const Mode& mode);
int KaandorpKoole(const Mode& mode);
int BusyVenues(const Mode& mode, CoverageTally& coverage);
int FirstDay(const Mode& mode, CoverageTally& coverage);

}  // namespace noqueue::scheduler::quality

#endif  // NOQUEUE_BENCH_QUALITY_H_
