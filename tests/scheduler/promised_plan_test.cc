// PromisedPlan: CreateSchedule's planning once attendees are predicted, the
// code the server and noqueue-bench's planner ceiling share.
#include "scheduler/promised_plan.h"

#include <catch2/catch.hpp>

#include "scheduler/convocation_planner.h"
#include "tests/support/scheduler_fixtures.h"

namespace noqueue::scheduler {
namespace {

using testing::Attendee;
using testing::Day;

// Thirty attendees who come about five minutes early, over two hours on two
// desks: a day the constructive plan answers without a search.
DayPlan ThirtyAttendees() {
  std::vector<PlannedAttendee> people;
  for (int i = 0; i < 30; ++i) {
    people.push_back(Attendee(-12 + i % 5, -5 + i % 3, 2 + i % 4, 0.1));
  }
  DayPlan day = Day(120, 2, 6.0, 0.5, people);
  day.uncertainty = VenueUncertainty(0, 0, 0);
  return day;
}

TEST_CASE(
    "PlanAndPromise states the KPIs of its plan and of the naive "
    "spread on the same simulated days") {
  const DayPlan day = ThirtyAttendees();
  OptimizerOptions options;
  options.time_budget_ms = 0;  // the constructive plan: no clock involved
  absl::StatusOr<PromisedPlan> plan = PlanAndPromise(day, options);
  REQUIRE(plan.ok());
  absl::StatusOr<OptimizedSchedule> alone = OptimizeConvocations(day, options);
  REQUIRE(alone.ok());
  CHECK(plan->optimized.convocation_min == alone->convocation_min);
  const SimulatedDays days(day, DefaultReplications(day.attendees.size()),
                           SimulationOptions{}.seed);
  // Same days, same plans: the same figures to the last bit.
  CHECK(plan->kpis.mean_wait_min ==
        days.Simulate(alone->convocation_min).mean_wait_min);
  CHECK(plan->naive_kpis.idle_min ==
        days.Simulate(NaiveConvocations(day)).idle_min);
  CHECK(plan->kpis.expected_wait_min.size() == day.attendees.size());
}

TEST_CASE("PlanAndPromise gives up with CANCELLED when told to stop") {
  OptimizerOptions options;
  options.time_budget_ms = 0;
  options.should_stop = [] { return true; };
  absl::StatusOr<PromisedPlan> plan =
      PlanAndPromise(ThirtyAttendees(), options);
  CHECK(plan.status().code() == absl::StatusCode::kCancelled);
}

TEST_CASE(
    "VenueUncertainty is wide for a new venue and narrows as its tags "
    "teach it") {
  const PlanUncertainty fresh = VenueUncertainty(0, 0, 0);
  CHECK(fresh.offset_shift_sd_min == Approx(kNewVenueLevelSdMin));
  CHECK(fresh.service_mean_rel_sd == Approx(0.3));
  CHECK(fresh.no_show_logit_sd == Approx(0.5));
  // 20 arrivals halve the level's variance, 5 services and 50 outcomes the
  // others'.
  const PlanUncertainty taught = VenueUncertainty(20, 50, 5);
  CHECK(taught.offset_shift_sd_min ==
        Approx(kNewVenueLevelSdMin / std::sqrt(2.0)));
  CHECK(taught.service_mean_rel_sd == Approx(0.3 / std::sqrt(2.0)));
  CHECK(taught.no_show_logit_sd == Approx(0.5 / std::sqrt(2.0)));
}

TEST_CASE(
    "ServiceProfileOf gives learned hours periods from the window's "
    "own hour") {
  model::ServiceEstimate service;
  service.day = {2.0, 0.4};
  // 09:30 local: the window opens half an hour into hour 9.
  const model::LocalTime start = model::LocalTime::FromSeconds(9 * 3600 + 1800);
  const ServiceProfile plain = ServiceProfileOf(3, service, start, 120);
  CHECK(plain.service_points == 3);
  CHECK(plain.mean_service_min == 2.0);
  CHECK(plain.periods.empty());

  service.by_hour[10] = model::ServiceMoments{3.0, 0.6};
  const ServiceProfile hourly = ServiceProfileOf(3, service, start, 120);
  REQUIRE(hourly.periods.size() >= 3);
  CHECK(hourly.periods[0].start_min == -30);
  CHECK(hourly.periods[0].mean_service_min == 2.0);  // hour 9: the day's
  CHECK(hourly.periods[1].start_min == 30);
  CHECK(hourly.periods[1].mean_service_min == 3.0);  // hour 10: learned
  CHECK(hourly.periods[1].service_cv == 0.6);
}

}  // namespace
}  // namespace noqueue::scheduler
