// Tests of the day plan under uncertainty: a day-level uncertainty
// (PlanUncertainty) that leaves a day without it exactly as before and makes
// plans hedged when set; the guard against the naive spread on a new venue;
// predictive intervals that hold realised days; a service that varies over
// the day, in the simulator and in the planner's capacity reasoning.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "scheduler/convocation_planner.h"
#include "scheduler/queue_simulator.h"
#include "scheduler/schedule_optimizer.h"
#include "tests/support/scheduler_fixtures.h"

namespace noqueue::scheduler {
namespace {

using testing::Attendee;
using testing::Budget;
using testing::Day;
using testing::Options;

// The day the simulator's figures were pinned on before PlanUncertainty and
// service periods existed: 150 attendees, 3 desks, 2-minute services.
DayPlan PinnedDay(ServiceDistribution dist) {
  DayPlan d;
  d.window_min = 120;
  d.service.service_points = 3;
  d.service.mean_service_min = 2.0;
  d.service.service_cv = 0.7;
  d.service.distribution = dist;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> habit(0, 6);
  for (int i = 0; i < 150; ++i) {
    const double m = habit(rng);
    d.attendees.push_back(Attendee(m - 5, m, m + 7, 0.1));
  }
  return d;
}

// The same `n` attendees, each with the type's prior as forecast: a new venue.
std::vector<PlannedAttendee> Newcomers(int n, double mean, double spread,
                                       double no_show) {
  return std::vector<PlannedAttendee>(
      n,
      Attendee(mean - 1.2816 * spread, mean, mean + 1.2816 * spread, no_show));
}

// `day` with every forecast moved by `shift` minutes and no uncertainty: a
// venue whose level sits `shift` off the forecasts'.
DayPlan Shifted(DayPlan day, double shift) {
  day.uncertainty = {};
  for (auto& a : day.attendees) {
    a.forecast.p10_min += shift;
    a.forecast.p50_min += shift;
    a.forecast.p90_min += shift;
  }
  return day;
}

// ---------------------------------------------------------------------------
// No uncertainty: today's behaviour

TEST_CASE(
    "SimulateDay gives a day without uncertainty or service periods the "
    "figures it gave before they existed",
    "[uncertainty]") {
  // Pinned with the simulator of commit 09f6509 (libstdc++'s distributions,
  // seed 7, 50 days): the new per-day stream and the service periods must
  // not change one draw of a day that uses neither. Tolerance: rounding of
  // the last bits only.
  struct Pinned {
    ServiceDistribution dist;
    double mean_wait, p90_wait, idle, overtime, max_queue;
  };
  for (const Pinned& p :
       {Pinned{ServiceDistribution::kLognormal, 0.66515811410489856,
               2.1599906564973743, 116.70513847873639, 7.222007521683885, 5.96},
        Pinned{ServiceDistribution::kGamma, 0.73202141101820695,
               2.3334730141899911, 114.42630329185533, 8.1540232719301819,
               5.68},
        Pinned{ServiceDistribution::kExponential, 1.0072582078957677,
               3.0593397446667083, 110.4386004648217, 7.6019943640907286, 6.8},
        Pinned{ServiceDistribution::kDeterministic, 0.55466481082545105,
               1.6188769856955147, 110.44254785343583, 6.8275159511452737,
               4.88}}) {
    const DayPlan day = PinnedDay(p.dist);
    const SimulationResult r =
        SimulateDay(day, NaiveConvocations(day), Options(50, 7));
    INFO("distribution " << static_cast<int>(p.dist));
    CHECK(r.mean_wait_min == Approx(p.mean_wait).epsilon(1e-12));
    CHECK(r.p90_wait_min == Approx(p.p90_wait).epsilon(1e-12));
    CHECK(r.idle_min == Approx(p.idle).epsilon(1e-12));
    CHECK(r.overtime_min == Approx(p.overtime).epsilon(1e-12));
    CHECK(r.expected_max_queue == Approx(p.max_queue).epsilon(1e-12));
  }
}

TEST_CASE(
    "OptimizeConvocations plans a day without uncertainty the same with or "
    "without the guard",
    "[uncertainty]") {
  // Zero uncertainty: the guard has nothing to guard against, and the plan
  // is the one the search finds alone, move for move.
  DayPlan day = Day(120.0, 2, 5.0, 0.6, Newcomers(30, -5.0, 10.0, 0.1));
  OptimizerOptions guarded = Budget(600), plain = Budget(600);
  plain.guard_against_naive = false;
  auto a = OptimizeConvocations(day, guarded);
  auto b = OptimizeConvocations(day, plain);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->convocation_min == b->convocation_min);
  CHECK(a->naive_blend == 0.0);
}

TEST_CASE(
    "SimulatedDays draws the same people under an uncertain day so only the "
    "day's shift moves their arrivals",
    "[uncertainty]") {
  // One punctual attendee alone in a long window, fixed service: their wait
  // is 0 and the idle time is window - service whatever the shift, unless
  // the shift makes them arrive before the opening. With a 5-minute shift sd
  // and a convocation at minute 60, no day (|shift| < 12 sd) arrives early,
  // so the figures must equal the certain day's exactly; the service factor
  // (sd 0) and no-show shift (sd 0) change nothing.
  DayPlan day = Day(200.0, 1, 10.0, ServiceDistribution::kDeterministic, 0.0,
                    {Attendee(0, 0, 0)});
  DayPlan uncertain = day;
  uncertain.uncertainty.offset_shift_sd_min = 5.0;
  const SimulationResult a = SimulateDay(day, {60.0}, Options(300));
  const SimulationResult b = SimulateDay(uncertain, {60.0}, Options(300));
  CHECK(a.mean_wait_min == b.mean_wait_min);
  CHECK(a.idle_min == b.idle_min);
  // The service factor does change the busy time, by its mean 1 on average:
  // lognormal with relative sd 0.3 over 4000 days, standard error 0.5%.
  uncertain.uncertainty.service_mean_rel_sd = 0.3;
  const SimulationResult c = SimulateDay(uncertain, {60.0}, Options(4000));
  CHECK(200.0 - c.idle_min == Approx(10.0).epsilon(0.02));
  CHECK(c.idle_ci.high - c.idle_ci.low > 0.1);
}

// ---------------------------------------------------------------------------
// With uncertainty: a hedged plan

TEST_CASE(
    "A plan made against an uncertain venue level beats the one that trusts "
    "the forecasts on venues off that level",
    "[uncertainty]") {
  // 40 newcomers predicted 5 minutes early (sd 10) on 2 desks in 2 hours. The
  // hedged plan is optimised over days whose level is drawn with sd 10 (no
  // guard: the uncertainty alone); the trusting one takes the forecasts as
  // exact. On venues whose level sits 20 minutes either way and in between
  // (1000 days each, other seeds), the hedged plan's mean cost must be lower
  // by 2% at least (measured: about 9%), and lower on the early venues
  // (everyone 20 minutes earlier than forecast), where the trusting plan
  // leaves them queueing at the door.
  const CostWeights w{1.0, 0.5, 1.5};
  DayPlan day = Day(120.0, 2, 5.0, 0.6, Newcomers(40, -5.0, 10.0, 0.1));
  DayPlan hedged_day = day;
  hedged_day.uncertainty.offset_shift_sd_min = 10.0;
  OptimizerOptions o = Budget(4000, w);
  o.guard_against_naive = false;
  auto trusting = OptimizeConvocations(day, o);
  auto hedged = OptimizeConvocations(hedged_day, o);
  REQUIRE(trusting.ok());
  REQUIRE(hedged.ok());
  double trusting_sum = 0.0, hedged_sum = 0.0;
  for (double shift : {-20.0, -10.0, 0.0, 10.0, 20.0}) {
    SimulatedDays venue(Shifted(day, shift), 1000, 4242);
    const double t = venue.Cost(trusting->convocation_min, w);
    const double h = venue.Cost(hedged->convocation_min, w);
    INFO("shift " << shift << " trusting " << t << " hedged " << h);
    if (shift == -20.0) CHECK(h < t);
    trusting_sum += t;
    hedged_sum += h;
  }
  CHECK(hedged_sum < 0.98 * trusting_sum);
}

TEST_CASE(
    "The guard keeps a new venue's plan from costing more than the naive "
    "spread whatever its level",
    "[uncertainty]") {
  // The same newcomers, level uncertain by 10 minutes, with the guard: on
  // venues -20, -10, 0, +10 and +20 minutes off, scored on 2000 other days
  // each, the plan may not cost more than the spread by more than 1% (the
  // guard decides on 128 days per level with a paired test; 1% covers the
  // difference between its days and these).
  const CostWeights w{1.0, 0.5, 1.5};
  DayPlan day = Day(120.0, 2, 5.0, 0.6, Newcomers(40, -5.0, 10.0, 0.1));
  day.uncertainty.offset_shift_sd_min = 10.0;
  auto plan = OptimizeConvocations(day, Budget(4000, w));
  REQUIRE(plan.ok());
  CHECK(plan->naive_blend >= 0.0);
  CHECK(plan->naive_blend <= 1.0);
  const std::vector<double> naive = NaiveConvocations(day);
  for (double shift : {-20.0, -10.0, 0.0, 10.0, 20.0}) {
    SimulatedDays venue(Shifted(day, shift), 2000, 777);
    const double p = venue.Cost(plan->convocation_min, w);
    const double s = venue.Cost(naive, w);
    INFO("shift " << shift << " plan " << p << " spread " << s);
    CHECK(p <= 1.01 * s);
  }
}

// ---------------------------------------------------------------------------
// Predictive intervals

// The share of `days` realised days (seeds from `seed`) of `day` under
// `conv` whose mean wait falls inside `interval`.
double Coverage(const DayPlan& day, const std::vector<double>& conv,
                PredictiveInterval interval, int days, uint64_t seed) {
  int inside = 0;
  for (int d = 0; d < days; ++d) {
    const double wait =
        SimulateDay(day, conv, Options(1, seed + d)).mean_wait_min;
    inside += wait >= interval.low && wait <= interval.high;
  }
  return static_cast<double>(inside) / days;
}

TEST_CASE(
    "The predictive interval of the mean wait holds about 90 percent of "
    "realised days",
    "[promise]") {
  // A busy day (2 desks, 85% utilisation), its 90% interval from 200
  // simulated days, checked on 1000 other days. The coverage of one such
  // interval varies with its 200 days (sd about 2 points) and the count of
  // 1000 days adds 1 point: 84%..96% is three of those sds either side of
  // 90%, while type-7 quantiles of 16 days (the old default) or a
  // confidence interval of the mean (a few percent of days) fall far out.
  DayPlan day = Day(120.0, 2, 3.0, 0.8, Newcomers(60, -3.0, 5.0, 0.05));
  const std::vector<double> conv = PlanConvocations(day);
  const SimulationResult promise = SimulateDay(day, conv, Options(200, 1));
  REQUIRE(promise.mean_wait_pi90.low < promise.mean_wait_min);
  REQUIRE(promise.mean_wait_min < promise.mean_wait_pi90.high);
  const double covered =
      Coverage(day, conv, promise.mean_wait_pi90, 1000, 50000);
  INFO("interval [" << promise.mean_wait_pi90.low << ", "
                    << promise.mean_wait_pi90.high << "] covered " << covered);
  CHECK(covered >= 0.84);
  CHECK(covered <= 0.96);
  // The confidence interval of the expectation is much narrower: it is not
  // a promise about one day.
  CHECK(promise.mean_wait_ci.high - promise.mean_wait_ci.low <
        0.5 * (promise.mean_wait_pi90.high - promise.mean_wait_pi90.low));
}

TEST_CASE(
    "The predictive interval includes the uncertainty of the venue's level "
    "and then holds days of venues drawn from it",
    "[promise]") {
  // Level uncertain by 8 minutes: the interval from 200 days that draw it
  // must be wider than the certain day's, and hold about 90% of days of
  // venues whose level is drawn from it (400 venues, one day each; same
  // tolerance as above, a little wider for the smaller count: 83%..97%).
  DayPlan day = Day(120.0, 2, 3.0, 0.8, Newcomers(60, -3.0, 5.0, 0.05));
  const std::vector<double> conv = PlanConvocations(day);
  DayPlan uncertain = day;
  uncertain.uncertainty.offset_shift_sd_min = 8.0;
  const SimulationResult certain = SimulateDay(day, conv, Options(200, 1));
  const SimulationResult promise =
      SimulateDay(uncertain, conv, Options(200, 1));
  CHECK(promise.mean_wait_pi90.high - promise.mean_wait_pi90.low >
        certain.mean_wait_pi90.high - certain.mean_wait_pi90.low);
  std::mt19937_64 rng(99);
  std::normal_distribution<double> level(0.0, 8.0);
  int inside = 0;
  const int venues = 400;
  for (int v = 0; v < venues; ++v) {
    const double wait =
        SimulateDay(Shifted(day, level(rng)), conv, Options(1, 7000 + v))
            .mean_wait_min;
    inside += wait >= promise.mean_wait_pi90.low &&
              wait <= promise.mean_wait_pi90.high;
  }
  const double covered = static_cast<double>(inside) / venues;
  INFO("covered " << covered);
  CHECK(covered >= 0.83);
  CHECK(covered <= 0.97);
}

// ---------------------------------------------------------------------------
// A service that varies over the day

TEST_CASE("SimulateDay gives each service the mean of the period it starts in",
          "[service]") {
  // Fixed services of 5 minutes, then of 12 from minute 30: the attendee
  // convoked at 0 is served 0..5, the one at 40 40..52, the one at 28
  // 28..33 (started before the change). Busy 22 in a 60-minute window on
  // one desk: idle 38, no overtime, nobody waits.
  DayPlan day = Day(60.0, 1, 5.0, ServiceDistribution::kDeterministic, 0.0,
                    {Attendee(0, 0, 0), Attendee(0, 0, 0), Attendee(0, 0, 0)});
  day.service.periods = {{30.0, 12.0, 0.0}};
  const SimulationResult r = SimulateDay(day, {0.0, 40.0, 28.0}, Options(3));
  CHECK(r.idle_min == Approx(60.0 - 22.0));
  CHECK(r.overtime_min == 0.0);
  CHECK(r.mean_wait_min == 0.0);
  // Convoked at 52 instead, the last runs 52..64: overtime 4.
  const SimulationResult late = SimulateDay(day, {0.0, 52.0, 28.0}, Options(3));
  CHECK(late.overtime_min == Approx(4.0));
}

TEST_CASE(
    "SimulateDay measures more wait and overtime when the afternoon service "
    "is slower",
    "[service]") {
  // The same day and schedule, with the second half's mean service 50%
  // longer (and its cv higher): waits and overtime grow, by far more than
  // the noise of 500 common-random-number days.
  DayPlan day = Day(240.0, 2, 6.0, 0.5, Newcomers(70, 0.0, 4.0, 0.05));
  const std::vector<double> conv = NaiveConvocations(day);
  DayPlan slower = day;
  slower.service.periods = {{120.0, 9.0, 0.8}};
  const SimulationResult a = SimulateDay(day, conv, Options(500));
  const SimulationResult b = SimulateDay(slower, conv, Options(500));
  CHECK(b.mean_wait_min > 1.5 * a.mean_wait_min);
  CHECK(b.overtime_min > a.overtime_min + 5.0);
  CHECK(MeanServiceAt(slower.service, 119.0) == 6.0);
  CHECK(MeanServiceAt(slower.service, 120.0) == 9.0);
}

TEST_CASE(
    "PlanConvocations puts fewer targets where the service is slower and "
    "OverflowMinutes counts the capacity period by period",
    "[service]") {
  // 2 desks, 4-minute services until minute 60 and 12-minute ones after: the
  // first hour serves 30, the next 60 minutes 10. 30 punctual attendees
  // planned over 120 minutes: about three quarters of the targets fall in
  // the first hour (a plain even spread would put half there).
  DayPlan day = Day(120.0, 2, 4.0, ServiceDistribution::kDeterministic, 0.0,
                    std::vector<PlannedAttendee>(30, Attendee(0, 0, 0)));
  day.service.periods = {{60.0, 12.0, 0.0}};
  const std::vector<double> minutes = PlanConvocations(day);
  const auto early = std::count_if(minutes.begin(), minutes.end(),
                                   [](double m) { return m < 60.0; });
  CHECK(early >= 20);
  CHECK(early <= 25);
  CHECK(ServiceCapacity(day.service, 120.0) == Approx(40.0));
  CHECK(MinuteOfCapacity(day.service, 35.0) == Approx(90.0));
  CHECK(OverflowMinutes(day) == 0.0);
  // 46 attendees need 6 more services than the window gives: 6 x 12 / 2 =
  // 36 minutes at the closing period's pace.
  day.attendees.assign(46, Attendee(0, 0, 0));
  CHECK(OverflowMinutes(day) == Approx(36.0));
  CHECK(Utilisation(day) == Approx(46.0 / 40.0));
}

TEST_CASE(
    "ValidateDayPlan refuses service periods and uncertainties that make no "
    "sense with the field and rule",
    "[service][uncertainty]") {
  const DayPlan good = Day(60.0, 2, 10.0, 0.5,
                           std::vector<PlannedAttendee>(4, Attendee(-2, 0, 2)));
  auto expect = [](const DayPlan& day, const std::string& needle) {
    const absl::Status s = ValidateDayPlan(day);
    INFO(s.message());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(s.message()).find(needle) != std::string::npos);
  };
  DayPlan d = good;
  d.service.periods = {{30.0, 5.0, 0.5}, {30.0, 6.0, 0.5}};
  expect(d, "service.periods[1].start_min: must be finite and after");
  d.service.periods = {{30.0, 0.0, 0.5}};
  expect(d, "service.periods[0].mean_service_min: must be > 0");
  d.service.periods = {{30.0, 5.0, -1.0}};
  expect(d, "service.periods[0].service_cv");
  d = good;
  d.uncertainty.offset_shift_sd_min = -1.0;
  expect(d, "uncertainty.offset_shift_sd_min");
  d = good;
  d.uncertainty.service_mean_rel_sd = std::nan("");
  expect(d, "uncertainty.service_mean_rel_sd");
  d = good;
  d.service.periods = {{-10.0, 5.0, 0.5}, {30.0, 6.0, 0.0}};
  d.uncertainty = {5.0, 0.2, 0.3};
  CHECK(ValidateDayPlan(d).ok());
}

}  // namespace
}  // namespace noqueue::scheduler
