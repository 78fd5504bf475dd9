// Tests of the convocation planner and the queue simulator: where the planner
// may put a convocation, how it corrects for habits, and what the simulator
// reports in days simple enough to work out by hand.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "scheduler/convocation_planner.h"
#include "scheduler/day_plan.h"
#include "scheduler/queue_simulator.h"
#include "tests/support/scheduler_fixtures.h"

namespace noqueue::scheduler {
namespace {

using testing::Attendee;
using testing::Day;
using testing::Options;

PlannedAttendee Punctual() { return Attendee(0.0, 0.0, 0.0); }

PlannedAttendee Fixed(double minute, PlannedAttendee a) {
  a.fixed_min = minute;
  return a;
}

// Attendees with varied, sometimes extreme forecasts and no-shows.
std::vector<PlannedAttendee> VariedAttendees(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> median(-60.0, 90.0);
  std::uniform_real_distribution<double> half_width(0.0, 30.0);
  std::uniform_real_distribution<double> no_show(0.0, 0.4);
  std::vector<PlannedAttendee> out;
  for (int i = 0; i < n; ++i) {
    double p50 = median(rng);
    out.push_back(Attendee(p50 - half_width(rng), p50, p50 + half_width(rng),
                           no_show(rng)));
  }
  return out;
}

// ---------------------------------------------------------------------------
// PlanConvocations and NaiveConvocations

TEST_CASE(
    "PlanConvocations puts every free convocation on the granularity "
    "grid inside the window",
    "[planner]") {
  for (double g : {1.0, 5.0, 7.5, 15.0}) {
    for (double window : {240.0, 95.0}) {
      DayPlan day =
          Day(window, 2, 6.0, 0.5, VariedAttendees(40, 0x5EED0100), g);
      std::vector<double> minutes = PlanConvocations(day);
      REQUIRE(minutes.size() == day.attendees.size());
      for (double m : minutes) {
        INFO("granularity " << g << " window " << window << " minute " << m);
        CHECK(m >= 0.0);
        CHECK(m < window);
        CHECK(std::abs(m / g - std::round(m / g)) < 1e-9);
      }
    }
  }
}

TEST_CASE("PlanConvocations returns nothing for an empty day", "[planner]") {
  CHECK(PlanConvocations(Day(120.0, 1, 5.0, 0.5, {})).empty());
  CHECK(NaiveConvocations(Day(120.0, 1, 5.0, 0.5, {})).empty());
}

TEST_CASE(
    "PlanConvocations keeps fixed attendees at their times even off "
    "the grid",
    "[planner]") {
  std::vector<PlannedAttendee> attendees = VariedAttendees(12, 0x5EED0101);
  attendees[0] = Fixed(17.3, attendees[0]);
  attendees[5] = Fixed(200.0, attendees[5]);
  attendees[11] = Fixed(0.0, Attendee(-30.0, 25.0, 80.0));
  DayPlan day = Day(240.0, 1, 10.0, 0.5, attendees, 5.0);
  std::vector<double> minutes = PlanConvocations(day);
  CHECK(minutes[0] == 17.3);
  CHECK(minutes[5] == 200.0);
  CHECK(minutes[11] == 0.0);
  CHECK(NaiveConvocations(day)[0] == 17.3);
  CHECK(NaiveConvocations(day)[5] == 200.0);
}

TEST_CASE(
    "PlanConvocations convokes an attendee predicted 10 minutes late "
    "10 minutes earlier than the same attendee when punctual",
    "[planner]") {
  // Five attendees with P10..P90 6 minutes wide in 85 minutes (targets end
  // one 5-minute service before closing; not tight: step 20 > service 5),
  // so targets are 0 20 40 60 80 in the given order
  // (equal widths keep their order; shifting all three quantiles keeps the
  // width). Attendee 3 aims at 60 either way; only its
  // median moves, so its convocation must move by exactly the same amount.
  auto plan_with_third = [](double shift) {
    std::vector<PlannedAttendee> attendees(5, Attendee(-3.0, 0.0, 3.0));
    attendees[3] = Attendee(-3.0 + shift, shift, 3.0 + shift);
    return PlanConvocations(Day(85.0, 1, 5.0, 0.5, attendees));
  };
  const std::vector<double> punctual = plan_with_third(0.0);
  const std::vector<double> late = plan_with_third(10.0);
  const std::vector<double> early = plan_with_third(-7.0);
  CHECK(punctual == std::vector<double>{0.0, 20.0, 40.0, 60.0, 80.0});
  CHECK(late[3] == punctual[3] - 10.0);
  CHECK(early[3] == punctual[3] + 7.0);
  for (int i : {0, 1, 2, 4}) {
    CHECK(late[i] == punctual[i]);
    CHECK(early[i] == punctual[i]);
  }
}

TEST_CASE(
    "PlanConvocations never convokes before the window opens even for "
    "very late attendees",
    "[planner]") {
  // Everyone is predicted 90 minutes late in a 60-minute window: every
  // target minus 90 is negative and must clamp to minute 0.
  std::vector<PlannedAttendee> attendees(6, Attendee(60.0, 90.0, 120.0));
  std::vector<double> minutes =
      PlanConvocations(Day(60.0, 1, 5.0, 0.5, attendees));
  CHECK(minutes == std::vector<double>(6, 0.0));
  // And very early ones never land at or past the window's end.
  std::vector<PlannedAttendee> eager(6, Attendee(-200.0, -150.0, -100.0));
  for (double m : PlanConvocations(Day(60.0, 1, 5.0, 0.5, eager, 7.0))) {
    CHECK(m == 56.0);  // the last multiple of 7 before 60
  }
}

TEST_CASE(
    "PlanConvocations leaves a fixed attendee's target to them and "
    "spreads the free attendees over the others",
    "[planner]") {
  // Targets 0 20 40 60 80 (85-minute window, 5-minute service); the fixed
  // attendee is expected at 40 and claims that target, so the punctual free
  // ones get 0 20 60 80.
  std::vector<PlannedAttendee> attendees(5, Attendee(-2.0, 0.0, 2.0));
  attendees[1] = Fixed(40.0, attendees[1]);
  std::vector<double> minutes =
      PlanConvocations(Day(85.0, 1, 5.0, 0.5, attendees));
  CHECK(minutes == std::vector<double>{0.0, 40.0, 20.0, 60.0, 80.0});
}

TEST_CASE("PlanConvocations spreads targets by expected attendance",
          "[planner]") {
  // Attendee 0 surely comes, attendees 1..4 each come half the time: the
  // shows expected before each are 0 1 1.5 2 2.5, the last target is one
  // service (5) before closing (105), so the step is 100 / 2.5 = 40 and the
  // targets are 0 40 60 80 100.
  std::vector<PlannedAttendee> attendees(5, Attendee(0.0, 0.0, 0.0, 0.5));
  attendees[0].forecast.no_show_probability = 0.0;
  std::vector<double> minutes =
      PlanConvocations(Day(105.0, 1, 5.0, 0.5, attendees));
  CHECK(minutes == std::vector<double>{0.0, 40.0, 60.0, 80.0, 100.0});
}

TEST_CASE(
    "PlanConvocations convokes the first two together when the day "
    "is at capacity",
    "[planner]") {
  // Five 10-minute services in 50 minutes: targets end at 40, the step of
  // 10 is the capacity step, so the second target joins the first
  // (Bailey-Welch) and the rest keep their slots. With a slack day (window
  // 90, step 20) it does not.
  std::vector<PlannedAttendee> attendees(5, Attendee(-2.0, 0.0, 2.0));
  CHECK(PlanConvocations(Day(50.0, 1, 10.0, 0.5, attendees)) ==
        std::vector<double>{0.0, 0.0, 20.0, 30.0, 40.0});
  CHECK(PlanConvocations(Day(90.0, 1, 10.0, 0.5, attendees)) ==
        std::vector<double>{0.0, 20.0, 40.0, 60.0, 80.0});
}

TEST_CASE(
    "PlanConvocations gives narrow predicted windows the earlier "
    "targets",
    "[planner]") {
  // Attendee 0 is vague (P10..P90 60 minutes wide), attendee 1 precise:
  // the precise one takes target 0 and the vague one the last target, one
  // service before closing: 50.
  std::vector<PlannedAttendee> attendees = {Attendee(-30.0, 0.0, 30.0),
                                            Attendee(-1.0, 0.0, 1.0)};
  CHECK(PlanConvocations(Day(55.0, 1, 5.0, 0.5, attendees)) ==
        std::vector<double>{50.0, 0.0});
}

TEST_CASE(
    "NaiveConvocations spreads attendees evenly over the window in "
    "the order given",
    "[planner]") {
  std::vector<PlannedAttendee> attendees = VariedAttendees(5, 0x5EED0102);
  CHECK(NaiveConvocations(Day(100.0, 1, 5.0, 0.5, attendees)) ==
        std::vector<double>{0.0, 20.0, 40.0, 60.0, 80.0});
  // On a 15-minute grid each lands on the nearest multiple.
  CHECK(NaiveConvocations(Day(100.0, 1, 5.0, 0.5, attendees, 15.0)) ==
        std::vector<double>{0.0, 15.0, 45.0, 60.0, 75.0});
}

// ---------------------------------------------------------------------------
// SimulateDay

TEST_CASE(
    "SimulateDay gives no wait and no overtime to punctual attendees "
    "spaced wider than the service",
    "[simulator]") {
  std::vector<PlannedAttendee> attendees(5, Punctual());
  DayPlan day = Day(100.0, 1, 8.0, 0.0, attendees);
  SimulationResult r =
      SimulateDay(day, {0.0, 20.0, 40.0, 60.0, 80.0}, Options(20));
  CHECK(r.mean_wait_min == 0.0);
  CHECK(r.p90_wait_min == 0.0);
  CHECK(r.overtime_min == 0.0);
  CHECK(r.expected_max_queue == 0.0);
  CHECK(r.idle_min == Approx(100.0 - 5 * 8.0));
  CHECK(r.expected_wait_min == std::vector<double>(5, 0.0));
}

TEST_CASE(
    "SimulateDay serves a large day in order of arrival whatever the order "
    "of its attendees, before minute 0 and after it",
    "[simulator]") {
  // 1,000 punctual attendees (a large day's arrivals are radix-sorted),
  // convoked a minute apart from minute -100 in shuffled order, each served
  // in 1.5 minutes from minute 0 on: the one convoked k-th starts at 1.5 k
  // and waits 1.5 k - (k - 100) minutes, whatever their place in the day.
  const int n = 1000;
  std::vector<double> convocations(n);
  for (int k = 0; k < n; ++k) convocations[k] = k - 100.0;
  std::mt19937_64 rng(7);
  std::shuffle(convocations.begin(), convocations.end(), rng);
  DayPlan day =
      Day(2000.0, 1, 1.5, 0.0, std::vector<PlannedAttendee>(n, Punctual()));
  SimulationResult r = SimulateDay(day, convocations, Options(2));
  for (int i = 0; i < n; ++i) {
    const double k = convocations[i] + 100.0;
    const double wait = 1.5 * k - (k - 100.0);  // 0.5 k + 100
    INFO("attendee " << i << " convoked at minute " << convocations[i]);
    CHECK(r.expected_wait_min[i] == wait);
  }
  CHECK(r.overtime_min == 0.0);
}

TEST_CASE("SimulateDay serves a large day's tied arrivals in the day's order",
          "[simulator]") {
  // Two punctual attendees a minute, in shuffled order: equal arrivals go
  // in the day's order (by index), so the attendee of rank r in (minute,
  // index) starts at 1.5 r. Whole positive minutes share most of their
  // bits, which the radix sort skips.
  const int n = 1000;
  std::vector<double> convocations(n);
  for (int k = 0; k < n; ++k) convocations[k] = k / 2;
  std::mt19937_64 rng(11);
  std::shuffle(convocations.begin(), convocations.end(), rng);
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return std::pair{convocations[a], a} < std::pair{convocations[b], b};
  });
  DayPlan day =
      Day(2000.0, 1, 1.5, 0.0, std::vector<PlannedAttendee>(n, Punctual()));
  SimulationResult r = SimulateDay(day, convocations, Options(2));
  for (int rank = 0; rank < n; ++rank) {
    const int i = order[rank];
    INFO("attendee " << i << " of rank " << rank);
    CHECK(r.expected_wait_min[i] == 1.5 * rank - convocations[i]);
  }
}

TEST_CASE(
    "SimulateDay of everyone convoked at minute 0 on one server with "
    "10-minute service gives waits 0 10 20 and so on",
    "[simulator]") {
  // Attendee i starts at 10 i: mean wait 10 (0+1+...+5)/6 = 25, all but the
  // first queue at minute 0, the day ends at 60 in a 30-minute window.
  std::vector<PlannedAttendee> attendees(6, Punctual());
  DayPlan day = Day(30.0, 1, 10.0, 0.0, attendees);
  SimulationResult r =
      SimulateDay(day, std::vector<double>(6, 0.0), Options(10));
  CHECK(r.mean_wait_min == Approx(25.0));
  CHECK(r.expected_max_queue == 5.0);
  CHECK(r.p90_wait_min == Approx(50.0));
  CHECK(r.overtime_min == Approx(30.0));
  CHECK(r.idle_min == Approx(0.0).margin(1e-9));
  // Ties in arrival are served in the day's order.
  CHECK(r.expected_wait_min ==
        std::vector<double>{0.0, 10.0, 20.0, 30.0, 40.0, 50.0});
}

TEST_CASE("SimulateDay serves attendees in order of arrival not of index",
          "[simulator]") {
  // Attendee 1 is convoked at 0 and served 0..30; attendee 0, convoked at 20,
  // waits until 30. Served by index, attendee 1 would wait until 50.
  std::vector<PlannedAttendee> attendees(2, Punctual());
  DayPlan day = Day(60.0, 1, 30.0, 0.0, attendees);
  SimulationResult r = SimulateDay(day, {20.0, 0.0}, Options(3));
  CHECK(r.expected_wait_min == std::vector<double>{10.0, 0.0});
  CHECK(r.mean_wait_min == Approx(5.0));
}

TEST_CASE(
    "SimulateDay counts the time an early attendee spends in the queue as "
    "wait",
    "[simulator]") {
  // A is convoked at 0 and served 0..10. B is convoked at 10 but always comes
  // 8 minutes early: present from 2 and served at 10, so B stands in the
  // queue for 8 minutes. Queue elimination is about that physical queue.
  std::vector<PlannedAttendee> attendees = {Punctual(),
                                            Attendee(-8.0, -8.0, -8.0)};
  DayPlan day = Day(60.0, 1, 10.0, 0.0, attendees);
  SimulationResult r = SimulateDay(day, {0.0, 10.0}, Options(5));
  CHECK(r.expected_wait_min == std::vector<double>{0.0, 8.0});
  CHECK(r.mean_wait_min == 4.0);
  CHECK(r.expected_max_queue == 1.0);
  // Convoked at 18 instead, B arrives at 10 as the desk frees: no wait.
  SimulationResult later = SimulateDay(day, {0.0, 18.0}, Options(5));
  CHECK(later.expected_wait_min == std::vector<double>{0.0, 0.0});
  CHECK(later.expected_max_queue == 0.0);
}

TEST_CASE(
    "SimulateDay with k servers serves everyone convoked at minute 0 "
    "in rounds of k",
    "[simulator]") {
  // Attendee i waits 10 floor(i/k): mean 10 for k = 2 and 5 for k = 3, against
  // 25 for one server; the largest queue is the n - k left at minute 0.
  std::vector<PlannedAttendee> attendees(6, Punctual());
  const std::vector<double> at_zero(6, 0.0);
  SimulationResult one =
      SimulateDay(Day(60.0, 1, 10.0, 0.0, attendees), at_zero, Options(5));
  SimulationResult two =
      SimulateDay(Day(60.0, 2, 10.0, 0.0, attendees), at_zero, Options(5));
  SimulationResult three =
      SimulateDay(Day(60.0, 3, 10.0, 0.0, attendees), at_zero, Options(5));
  CHECK(one.mean_wait_min == Approx(25.0));
  CHECK(two.mean_wait_min == Approx(10.0));
  CHECK(three.mean_wait_min == Approx(5.0));
  CHECK(two.expected_wait_min ==
        std::vector<double>{0.0, 0.0, 10.0, 10.0, 20.0, 20.0});
  CHECK(two.expected_max_queue == 4.0);
  CHECK(three.expected_max_queue == 3.0);
  // Busy time 60 shared: the day ends at 30 (two) and 20 (three) inside the
  // 60-minute window.
  CHECK(two.idle_min == Approx(2 * 60.0 - 60.0));
  CHECK(three.idle_min == Approx(3 * 60.0 - 60.0));
  CHECK(two.overtime_min == 0.0);
}

TEST_CASE(
    "SimulateDay with certain no-shows has zero busy time so idle is "
    "servers times window",
    "[simulator]") {
  std::vector<PlannedAttendee> attendees(8, Attendee(-5.0, 0.0, 10.0, 1.0));
  DayPlan day = Day(90.0, 3, 10.0, 0.5, attendees);
  SimulationResult r =
      SimulateDay(day, std::vector<double>(8, 0.0), Options(50));
  CHECK(r.idle_min == Approx(3 * 90.0));
  CHECK(r.mean_wait_min == 0.0);
  CHECK(r.overtime_min == 0.0);
  CHECK(r.expected_max_queue == 0.0);
  CHECK(r.expected_wait_min == std::vector<double>(8, 0.0));
}

TEST_CASE("SimulateDay returns one expected wait per attendee", "[simulator]") {
  for (int n : {0, 1, 7, 40}) {
    DayPlan day = Day(240.0, 2, 6.0, 0.5, VariedAttendees(n, 0x5EED0200));
    SimulationResult r = SimulateDay(day, NaiveConvocations(day), Options(30));
    CHECK(r.expected_wait_min.size() == static_cast<size_t>(n));
  }
}

TEST_CASE(
    "SimulateDay gives identical results for the same seed and "
    "different ones for another seed",
    "[simulator]") {
  DayPlan day = Day(240.0, 2, 8.0, 0.6, VariedAttendees(40, 0x5EED0201));
  const std::vector<double> minutes = PlanConvocations(day);
  SimulationResult a = SimulateDay(day, minutes, Options(100, 7));
  SimulationResult b = SimulateDay(day, minutes, Options(100, 7));
  SimulationResult c = SimulateDay(day, minutes, Options(100, 8));
  CHECK(a.mean_wait_min == b.mean_wait_min);
  CHECK(a.p90_wait_min == b.p90_wait_min);
  CHECK(a.expected_max_queue == b.expected_max_queue);
  CHECK(a.idle_min == b.idle_min);
  CHECK(a.overtime_min == b.overtime_min);
  CHECK(a.expected_wait_min == b.expected_wait_min);
  CHECK(a.mean_wait_min > 0.0);
  CHECK(c.mean_wait_min != a.mean_wait_min);
}

TEST_CASE(
    "SimulateDay draws the same people for two schedules so a "
    "schedule shifted by 10 minutes waits exactly as long",
    "[simulator]") {
  // Common random numbers: arrival offsets and service times depend on the
  // seed, replication and index only, not on the schedule. Shifting every
  // convocation by 10 minutes (nobody arrives before the window opens in
  // either: the earliest convocation is 30 and a 5-sigma early draw is -25)
  // shifts every event by 10 and leaves each wait unchanged up to
  // rounding. With draws that depended on the schedule the means would
  // differ by Monte Carlo noise, far above 1e-9.
  std::vector<PlannedAttendee> attendees;
  for (int i = 0; i < 20; ++i) {
    attendees.push_back(Attendee(-4.0, 0.5 * (i % 5), 6.0 + i % 7));
  }
  DayPlan day = Day(400.0, 2, 9.0, 0.7, attendees);
  std::vector<double> base, shifted;
  for (int i = 0; i < 20; ++i) {
    base.push_back(30.0 + 7.0 * i);
    shifted.push_back(40.0 + 7.0 * i);
  }
  SimulationResult a = SimulateDay(day, base, Options(200));
  SimulationResult b = SimulateDay(day, shifted, Options(200));
  REQUIRE(a.mean_wait_min > 0.5);
  CHECK(b.mean_wait_min == Approx(a.mean_wait_min).margin(1e-9));
  CHECK(b.expected_max_queue == a.expected_max_queue);
  for (size_t i = 0; i < attendees.size(); ++i) {
    CHECK(b.expected_wait_min[i] ==
          Approx(a.expected_wait_min[i]).margin(1e-9));
  }
}

TEST_CASE(
    "SimulateDay gives a spread schedule a lower mean wait than "
    "everyone at minute 0",
    "[simulator]") {
  // 12 attendees of 8 +- 4 minutes service (cv 0.5) in 120 minutes on one
  // server. At minute 0 the k-th waits about 8 k, a mean near 44 min; spread
  // 10 minutes apart they wait ~2 min. With the seed fixed and 300
  // replications each mean's noise is well under a minute, so a quarter of
  // the crowd's wait (~11 min) is a bound that only a real change can cross.
  std::vector<PlannedAttendee> attendees(12, Attendee(-5.0, 0.0, 5.0));
  DayPlan day = Day(120.0, 1, 8.0, 0.5, attendees);
  SimulationResult spread =
      SimulateDay(day, NaiveConvocations(day), Options(300));
  SimulationResult crowd =
      SimulateDay(day, std::vector<double>(12, 0.0), Options(300));
  CHECK(crowd.mean_wait_min > 30.0);
  CHECK(spread.mean_wait_min < 0.25 * crowd.mean_wait_min);
  CHECK(spread.expected_max_queue < crowd.expected_max_queue);
}

TEST_CASE(
    "SimulateDay gives a habit-aware plan less wait than the "
    "naive schedule when some attendees are habitually late",
    "[simulator]") {
  // 12 attendees in 150 minutes (naive slots 12.5 apart), 6-minute services
  // on one server. Attendees 3 and 7 always come 25 minutes late: on the
  // naive schedule they land on the slots of attendees 5 and 9 and one of
  // each pair waits several minutes (a mean of ~0.6 min over everyone); the
  // plan convokes them 25 minutes early so that everyone arrives in their
  // own slot. Same seed for both (common random numbers); each mean is over
  // 300 days, so its noise is a few hundredths of a minute.
  std::vector<PlannedAttendee> attendees(12, Attendee(-3.0, 0.0, 3.0));
  attendees[3] = Attendee(22.0, 25.0, 28.0);
  attendees[7] = Attendee(22.0, 25.0, 28.0);
  DayPlan day = Day(150.0, 1, 6.0, 0.3, attendees);
  const std::vector<double> planned_minutes = PlanConvocations(day);
  // Targets are 144 / 11 = 13.09 minutes apart (the last one a service
  // before closing): 3 aims at 39.3 and 7 at 91.6, each 25 minutes early.
  CHECK(planned_minutes[3] == 14.0);
  CHECK(planned_minutes[7] == 67.0);
  SimulationResult naive =
      SimulateDay(day, NaiveConvocations(day), Options(300));
  SimulationResult planned = SimulateDay(day, planned_minutes, Options(300));
  INFO("naive wait " << naive.mean_wait_min << " planned wait "
                     << planned.mean_wait_min);
  CHECK(naive.mean_wait_min > 0.3);
  CHECK(planned.mean_wait_min < 0.5 * naive.mean_wait_min);
  CHECK(planned.expected_wait_min[5] < naive.expected_wait_min[5]);
  CHECK(planned.expected_wait_min[9] < naive.expected_wait_min[9]);
}

TEST_CASE(
    "DefaultReplications keeps about 8000 simulated arrivals "
    "between 32 and 200 replications",
    "[simulator]") {
  // Few enough that stating a big day's KPIs (and its naive twin's) stays
  // within the server's CPU budget per request; at least 32 days so that
  // the predictive intervals' 5% and 95% quantiles are not a small sample's
  // extremes.
  CHECK(DefaultReplications(0) == 200);
  CHECK(DefaultReplications(1) == 200);
  CHECK(DefaultReplications(100) == 80);
  CHECK(DefaultReplications(100000) == 32);
}

}  // namespace
}  // namespace noqueue::scheduler
