// ServiceTimeModel: the venue's service times learned from tags, by hour,
// shrunk to what the venue declares.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "model/service_time_model.h"

namespace noqueue::model {
namespace {

constexpr int64_t kDay = 20000 * LocalTime::kDaySeconds;

LocalTime At(int day, int hour, int minute) {
  return LocalTime::FromSeconds(kDay + day * LocalTime::kDaySeconds +
                                hour * 3600 + minute * 60);
}

// A lognormal draw of mean `mean` and coefficient of variation `cv`.
double Draw(std::mt19937_64& rng, double mean, double cv) {
  const double s2 = std::log1p(cv * cv);
  std::normal_distribution<double> z(std::log(mean) - s2 / 2, std::sqrt(s2));
  return std::exp(z(rng));
}

TEST_CASE("ServiceTimeModel learns the mean and variability of each hour") {
  ServiceTimeModel m;
  std::mt19937_64 rng(20261201);
  // Ten days: mornings at 9 quick and irregular, afternoons at 14 long and
  // steady.
  for (int day = 0; day < 10; ++day) {
    for (int i = 0; i < 30; ++i) {
      m.Add("v", At(day, 9, i), Draw(rng, 10.0, 0.8));
      m.Add("v", At(day, 14, i), Draw(rng, 20.0, 0.3));
    }
  }
  const ServiceEstimate e = m.Estimate("v", {12.0, 0.5});
  // 600 services (faded by 14-day half-lives: ~450 weigh); tolerances are
  // about four standard errors of the estimates.
  CHECK(e.services > 300);
  REQUIRE(e.by_hour[9].has_value());
  REQUIRE(e.by_hour[14].has_value());
  CHECK_FALSE(e.by_hour[12].has_value());
  CHECK(e.by_hour[9]->mean_min == Approx(10.0).margin(1.0));
  CHECK(e.by_hour[9]->cv == Approx(0.8).margin(0.15));
  CHECK(e.by_hour[14]->mean_min == Approx(20.0).margin(1.0));
  CHECK(e.by_hour[14]->cv == Approx(0.3).margin(0.08));
  CHECK(e.day.mean_min == Approx(15.0).margin(1.0));
}

TEST_CASE(
    "ServiceTimeModel starts from the declared service and moves off "
    "it as services come") {
  ServiceTimeModel m;
  const ServiceMoments declared{12.0, 0.5};
  ServiceEstimate none = m.Estimate("v", declared);
  CHECK(none.services == 0);
  CHECK(none.day.mean_min == 12.0);
  CHECK(none.day.cv == 0.5);
  // Three services of 24 minutes: halfway there (the declared mean weighs
  // as three services), the variability still mostly the declared one.
  for (int i = 0; i < 3; ++i) m.Add("v", At(0, 10, 20 * i), 24.0);
  ServiceEstimate few = m.Estimate("v", declared);
  CHECK(few.day.mean_min == Approx(18.0).margin(0.1));
  CHECK(few.day.cv < 0.5);
  CHECK(few.day.cv > 0.3);
  CHECK_FALSE(few.by_hour[10].has_value());  // fewer than 8 in that hour
  // Absurd services are ignored.
  m.Add("v", At(0, 11, 0), -1.0);
  m.Add("v", At(0, 11, 1), 13 * 60.0);
  CHECK(m.Estimate("v", declared).services == Approx(few.services));
}

}  // namespace
}  // namespace noqueue::model
