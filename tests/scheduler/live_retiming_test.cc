// Tests of Retime: a day that has fallen behind is re-timed within the
// venue's rules, and a day whose desks have all closed is left alone.
#include "scheduler/live_retiming.h"

#include <catch2/catch.hpp>
#include <optional>
#include <vector>

namespace noqueue::scheduler {
namespace {

// Forty attendees every 6 minutes over a 4-hour window, two desks planned,
// an hour in; `desks` says which desks are open from now on.
LiveDay BehindDay(std::vector<DeskCount> desks) {
  LiveDay day;
  day.now_min = 60.0;
  day.window_min = 240.0;
  day.mean_service_min = 10.0;
  day.service_cv = 0.3;
  day.desks = std::move(desks);
  day.serving_since_min = {55.0};
  for (int i = 0; i < 6; ++i) day.waiting_since_min.push_back(40.0 + 3.0 * i);
  for (int i = 0; i < 30; ++i) {
    ComingAttendee a;
    a.forecast = {.p10_min = -6.0,
                  .p50_min = -2.0,
                  .p90_min = 3.0,
                  .no_show_probability = 0.05};
    a.convocation_min = a.original_min = 70.0 + 5.0 * i;
    day.to_come.push_back(a);
  }
  return day;
}

TEST_CASE("A day down to one desk is re-timed later, within the rules",
          "[retiming]") {
  const LiveDay day = BehindDay({{.from_min = 0.0, .desks = 1}});
  const RetimingRules rules;
  const Retiming r = Retime(day, rules, CostWeights{});
  REQUIRE(r.changed() > 0);
  CHECK(r.cost_after < r.cost_before);
  for (size_t i = 0; i < r.new_min.size(); ++i) {
    if (!r.new_min[i]) continue;
    CHECK(*r.new_min[i] >= day.now_min + rules.min_notice_min);
    CHECK(*r.new_min[i] >= day.to_come[i].original_min);  // no earlier
    CHECK(*r.new_min[i] - day.to_come[i].convocation_min >=
          rules.hysteresis_min);
  }
}

TEST_CASE("With every desk closed for the rest of the day, nobody is moved",
          "[retiming]") {
  // The desks closed half an hour ago and do not reopen: there is no time
  // at which anyone would be served, so none to give (the simulator would
  // otherwise serve them on a closed desk and promise that wait).
  const LiveDay closed = BehindDay(
      {{.from_min = 0.0, .desks = 2}, {.from_min = 30.0, .desks = 0}});
  const Retiming r = Retime(closed, RetimingRules{}, CostWeights{});
  CHECK(r.changed() == 0);
  REQUIRE(r.new_min.size() == closed.to_come.size());

  // A closure that ends later today is still re-timed around.
  const LiveDay reopening = BehindDay({{.from_min = 0.0, .desks = 2},
                                       {.from_min = 30.0, .desks = 0},
                                       {.from_min = 150.0, .desks = 2}});
  const Retiming later = Retime(reopening, RetimingRules{}, CostWeights{});
  CHECK(later.changed() > 0);
}

}  // namespace
}  // namespace noqueue::scheduler
