// Tests of ReplayedDays: incremental replays of moves score exactly what a
// full replay of the moved schedule scores, move after move.
#include "scheduler/replayed_days.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "scheduler/convocation_planner.h"
#include "scheduler/queue_simulator.h"
#include "tests/support/scheduler_fixtures.h"

namespace noqueue::scheduler {
namespace {

using testing::Attendee;
using testing::Day;

std::vector<PlannedAttendee> Varied(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> habit(-4.0, 7.0);
  std::uniform_real_distribution<double> spread(0.0, 9.0), no_show(0.0, 0.3);
  std::vector<PlannedAttendee> out;
  for (int i = 0; i < n; ++i) {
    const double m = habit(rng), s = spread(rng);
    out.push_back(Attendee(m - s, m, m + 1.5 * s, no_show(rng)));
  }
  return out;
}

// Plays `moves` random moves (one attendee, two swapped, a run of them
// shifted), each scored and, one time in three, applied; checks every score
// and every applied state against full replays.
void CheckAgainstFullReplays(const DayPlan& day, int reps, int moves,
                             uint64_t seed) {
  SimulatedDays days(day, reps, seed);
  const CostWeights w{1.0, 0.7, 1.5};
  std::vector<double> conv = PlanConvocations(day);
  ReplayedDays replay(days, w, conv);
  std::vector<double> full, scored;
  days.DayCosts(conv, w, &full);
  REQUIRE(replay.day_costs().size() == full.size());
  for (size_t r = 0; r < full.size(); ++r) {
    CHECK(replay.day_costs()[r] == Approx(full[r]).margin(1e-6));
  }
  const int n = static_cast<int>(day.attendees.size());
  std::mt19937_64 rng(seed + 1);
  std::uniform_int_distribution<int> who(0, n - 1), kind(0, 2), step(-8, 8);
  for (int m = 0; m < moves; ++m) {
    std::vector<ConvocationChange> changes;
    const int a = who(rng);
    switch (kind(rng)) {
      case 0:
        changes.push_back(
            {a, std::clamp(conv[a] + step(rng), 0.0, day.window_min - 1)});
        break;
      case 1: {
        const int b = (a + 1 + who(rng) % (n - 1)) % n;
        changes.push_back({a, conv[b]});
        changes.push_back({b, conv[a]});
        break;
      }
      default: {
        const int len = 1 + who(rng) % 6, s = step(rng);
        for (int k = 0; k < len && a + k < n; ++k) {
          changes.push_back(
              {a + k, std::clamp(conv[a + k] + s, 0.0, day.window_min - 1)});
        }
      }
    }
    replay.Score(changes, &scored);
    std::vector<double> moved = conv;
    for (const auto& ch : changes) moved[ch.attendee] = ch.minute;
    days.DayCosts(moved, w, &full);
    for (size_t r = 0; r < full.size(); ++r) {
      INFO("move " << m << " day " << r);
      REQUIRE(scored[r] == Approx(full[r]).margin(1e-6));
    }
    if (m % 3 == 0) {
      replay.Apply(changes);
      conv = moved;
      CHECK(replay.convocations() == conv);
      for (size_t r = 0; r < full.size(); ++r) {
        REQUIRE(replay.day_costs()[r] == Approx(full[r]).margin(1e-6));
      }
    }
  }
}

TEST_CASE(
    "ReplayedDays scores moves as a full replay does on one service point",
    "[replay]") {
  CheckAgainstFullReplays(Day(180.0, 1, 6.0, 0.8, Varied(30, 11)), 12, 600, 5);
}

TEST_CASE(
    "ReplayedDays scores moves as a full replay does on a busy multi-desk "
    "day",
    "[replay]") {
  // 150 attendees of 2.2 minutes on 3 desks in 120 minutes: about 85%
  // utilisation, so that queues carry a move's effect far.
  CheckAgainstFullReplays(
      Day(120.0, 3, 2.2, ServiceDistribution::kGamma, 0.9, Varied(150, 12)), 8,
      600, 6);
  // Many desks: blocks longer than the default.
  CheckAgainstFullReplays(Day(60.0, 20, 4.0, ServiceDistribution::kExponential,
                              1.0, Varied(260, 13)),
                          4, 300, 7);
}

TEST_CASE(
    "ReplayedDays scores moves exactly with a service that changes over the "
    "day and an uncertain day",
    "[replay]") {
  DayPlan day = Day(240.0, 2, 5.0, 0.6, Varied(80, 14));
  day.service.periods = {
      {60.0, 7.0, 0.6}, {120.0, 4.0, 0.3}, {200.0, 6.0, 1.0}};
  day.uncertainty.offset_shift_sd_min = 6.0;
  day.uncertainty.service_mean_rel_sd = 0.2;
  day.uncertainty.no_show_logit_sd = 0.5;
  CheckAgainstFullReplays(day, 10, 400, 8);
}

TEST_CASE(
    "ReplayedDays replays whole days under the convocation order and still "
    "scores exactly",
    "[replay]") {
  DayPlan day = Day(120.0, 2, 4.0, 0.7, Varied(40, 15));
  day.order = ServiceOrder::kByConvocation;
  CheckAgainstFullReplays(day, 6, 120, 9);
}

TEST_CASE("ReplayedDays plays the days that SimulatedDays gains", "[replay]") {
  DayPlan day = Day(120.0, 2, 4.0, 0.7, Varied(40, 16));
  SimulatedDays days(day, 5, 3);
  const CostWeights w;
  const std::vector<double> conv = NaiveConvocations(day);
  ReplayedDays replay(days, w, conv);
  days.Extend(20);
  replay.SyncReplications();
  REQUIRE(replay.replications() == 20);
  CHECK(replay.Cost() == Approx(days.Cost(conv, w)).epsilon(1e-12));
  // The first five days are the ones drawn at first: the same as twenty
  // days drawn at once.
  SimulatedDays at_once(day, 20, 3);
  CHECK(at_once.Cost(conv, w) == Approx(days.Cost(conv, w)).epsilon(1e-12));
}

}  // namespace
}  // namespace noqueue::scheduler
