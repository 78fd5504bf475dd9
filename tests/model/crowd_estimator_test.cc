// Unit tests of the crowd estimator: what it believes, whom it trusts, what
// it refuses.
#include "model/crowd_estimator.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>

namespace noqueue::model {
namespace {

constexpr int64_t kNoon = 20000 * 86400LL + 12 * 3600;  // a local noon

LocalTime L(int64_t local_seconds) {
  return LocalTime::FromSeconds(local_seconds);
}

QueueReport Waited(int64_t at, double minutes, const std::string& who,
                   bool finished = true) {
  QueueReport r;
  r.at = L(at);
  r.waited_min = minutes;
  r.finished = finished;
  r.reporter = who;
  return r;
}

QueueReport Queue(int64_t at, double people, const std::string& who) {
  QueueReport r;
  r.at = L(at);
  r.queue_length = people;
  r.reporter = who;
  return r;
}

TEST_CASE(
    "CrowdEstimator says unknown until there is evidence, then "
    "follows the reported waits") {
  CrowdEstimator e;
  e.SetVenueCapacity("v", 2, 3.0);
  CHECK_FALSE(e.Status("v", L(kNoon)).known);
  CHECK_FALSE(e.Status("nowhere", L(kNoon)).known);
  for (int i = 0; i < 10; ++i) {
    const ReportVerdict v = e.AddReport(
        "v",
        Waited(kNoon - 600 + 60 * i, 20.0 + (i % 3), "p" + std::to_string(i)));
    CHECK(v.rejection == ReportRejection::kNone);
    CHECK(v.weight > 0.0);
    CHECK(v.implied_wait_min == Approx(20.0 + (i % 3)));
  }
  const VenueLiveStatus s = e.Status("v", L(kNoon));
  REQUIRE(s.known);
  CHECK(s.wait_p50_min == Approx(21.0).margin(1.5));
  CHECK(s.wait_p90_min >= s.wait_p50_min);
  CHECK(s.reports_used == 10);
  CHECK(s.tags_used == 0);
  CHECK(s.confidence > 0.5);
  CHECK(s.confidence < 1.0);
  // Little's law: 2 desks x 3 minutes serve 2/3 per minute.
  CHECK(s.service_rate_per_min == Approx(2.0 / 3.0));
  CHECK(s.queue_length == Approx(s.wait_p50_min * 2.0 / 3.0));
}

TEST_CASE("CrowdEstimator moves with a change of the day within the hour") {
  CrowdEstimator e;
  e.SetVenueCapacity("v", 1, 2.0);
  // Weeks of 10-minute waits around noon...
  for (int day = 0; day < 20; ++day) {
    for (int i = 0; i < 4; ++i) {
      e.AddReport("v", Waited(kNoon - day * 86400LL - 900 * i, 10.0,
                              "r" + std::to_string(day * 4 + i)));
    }
  }
  CHECK(e.Status("v", L(kNoon + 86400)).wait_p50_min ==
        Approx(10.0).margin(1.0));
  // ... then today, a burst of 40-minute waits: the estimate follows.
  const int64_t today = kNoon + 86400;
  for (int i = 0; i < 8; ++i) {
    e.AddReport("v", Waited(today + 300 * i, 40.0, "t" + std::to_string(i)));
  }
  const double p50 = e.Status("v", L(today + 2400)).wait_p50_min;
  CHECK(p50 > 20.0);
  CHECK(p50 < 45.0);
}

TEST_CASE(
    "CrowdEstimator learns not to trust a persistent liar, and one "
    "liar cannot drag the estimate far") {
  CrowdEstimator e;
  e.SetVenueCapacity("v", 1, 2.0);
  double liar_weight = 1.0;
  double liar_first = 0.0;
  for (int i = 0; i < 60; ++i) {
    const int64_t t = kNoon - 3600 * 3 + 180 * i;
    e.AddReport("v", Waited(t, 30.0, "honest-" + std::to_string(i % 7)));
    const ReportVerdict lie = e.AddReport("v", Waited(t + 60, 0.0, "liar-001"));
    if (i == 0) liar_first = lie.weight;
    liar_weight = lie.weight;
  }
  CHECK(liar_weight < 0.25 * liar_first);
  const VenueLiveStatus s = e.Status("v", L(kNoon));
  CHECK(s.wait_p50_min == Approx(30.0).margin(6.0));
}

TEST_CASE(
    "CrowdEstimator refuses impossible reports, and counts one "
    "report per token per interval") {
  CrowdEstimator e;
  e.SetVenueCapacity("v", 2, 10.0);  // 0.2 served per minute
  QueueReport r = Queue(kNoon, 100, "phone-1");
  r.waited_min = 2.0;
  r.finished = true;
  ReportVerdict v = e.AddReport("v", r);
  CHECK(v.weight == 0.0);
  CHECK(v.rejection == ReportRejection::kLittlesLaw);
  CHECK(std::string(ReportRejectionName(v.rejection)) == "littles_law");

  v = e.AddReport("v", Waited(kNoon, 13 * 60.0, "phone-2"));
  CHECK(v.rejection == ReportRejection::kImplausible);
  v = e.AddReport("v", Queue(kNoon, 1e6, "phone-3"));
  CHECK(v.rejection == ReportRejection::kImplausible);
  QueueReport empty;
  empty.at = L(kNoon);
  empty.reporter = "phone-4";
  CHECK(e.AddReport("v", empty).rejection == ReportRejection::kNoValue);
  // Rejected reports taught it nothing.
  CHECK_FALSE(e.Status("v", L(kNoon)).known);

  CHECK(e.AddReport("v", Waited(kNoon, 15, "phone-5")).weight > 0.0);
  v = e.AddReport("v", Waited(kNoon + 120, 15, "phone-5"));
  CHECK(v.weight == 0.0);
  CHECK(v.rejection == ReportRejection::kRateLimited);
  // The interval is per venue, and passes.
  CHECK(e.AddReport("w", Waited(kNoon + 120, 15, "phone-5")).weight > 0.0);
  CHECK(e.AddReport("v", Waited(kNoon + 301, 15, "phone-5")).weight > 0.0);
}

TEST_CASE(
    "CrowdEstimator turns a queue length into a wait by the venue's "
    "throughput, and reads a wait still going as a lower bound") {
  CrowdEstimator e;
  e.SetVenueCapacity("v", 2, 10.0);  // 0.2 per minute
  ReportVerdict v = e.AddReport("v", Queue(kNoon, 6, "phone-1"));
  CHECK(v.implied_wait_min == Approx(30.0));
  QueueReport going = Waited(kNoon, 10.0, "phone-2", /*finished=*/false);
  going.queue_length = 4;
  v = e.AddReport("v", going);
  CHECK(v.implied_wait_min == Approx(10.0 + 20.0));
  // Still waiting after 5 minutes says nothing new against a 30-minute
  // wait: accepted, weightless, and it earns no trust; after 50 minutes it
  // is evidence that the wait is longer.
  v = e.AddReport("v", Waited(kNoon, 5.0, "phone-3", /*finished=*/false));
  CHECK(v.implied_wait_min == Approx(5.0));
  CHECK(v.weight == 0.0);
  CHECK(v.rejection == ReportRejection::kNone);
  v = e.AddReport("v", Waited(kNoon, 50.0, "phone-4", /*finished=*/false));
  CHECK(v.weight > 0.0);
}

TEST_CASE(
    "CrowdEstimator counts one report per interval by arrival time, "
    "so back-dating does not dodge it") {
  CrowdEstimator e;
  e.SetVenueCapacity("v", 1, 2.0);
  QueueReport r = Waited(kNoon, 10.0, "phone-1");
  r.received = L(kNoon);
  CHECK(e.AddReport("v", r).weight > 0.0);
  r.at = L(kNoon - 3600);  // claims an hour ago, sent a minute later
  r.received = L(kNoon + 60);
  CHECK(e.AddReport("v", r).rejection == ReportRejection::kRateLimited);
}

TEST_CASE(
    "CrowdEstimator learns the service time from tags, then the wait "
    "they measure outweighs reports") {
  CrowdEstimator e;
  e.SetVenueCapacity("v", 2, 10.0);
  CHECK(*e.LearnedServiceMinutes("v") == Approx(10.0));
  CHECK_FALSE(e.LearnedServiceMinutes("nowhere").has_value());
  for (int i = 0; i < 20; ++i) {
    const int64_t arrival = kNoon - 7200 + 300 * i;
    e.AddMeasuredWait("v", L(arrival), L(arrival + 15 * 60));
    e.AddService("v", L(arrival + 15 * 60), 25.0);
  }
  const double service = *e.LearnedServiceMinutes("v");
  CHECK(service > 20.0);
  CHECK(service < 25.0);
  // A report claiming no wait at all barely moves it.
  e.AddReport("v", Waited(kNoon - 60, 0.0, "phone-1"));
  const VenueLiveStatus s = e.Status("v", L(kNoon));
  REQUIRE(s.known);
  CHECK(s.tags_used == 20);
  CHECK(s.wait_p50_min == Approx(15.0).margin(2.0));
  CHECK(s.service_rate_per_min == Approx(2.0 / service));
}

TEST_CASE(
    "CrowdEstimator learns the service rate from reports of a queue "
    "and its wait when there are no tags") {
  CrowdEstimator e;
  e.SetVenueCapacity("v", 1, 2.0);  // declares 0.5 per minute
  for (int i = 0; i < 40; ++i) {
    QueueReport r =
        Waited(kNoon - 7200 + 180 * i, 20.0, "p" + std::to_string(i));
    r.queue_length = 20;  // 20 people in 20 minutes: 1 per minute
    REQUIRE(e.AddReport("v", r).weight > 0.0);
  }
  CHECK(*e.LearnedServiceMinutes("v") < 1.3);
}

TEST_CASE(
    "CrowdEstimator replays the same evidence to the same estimate, "
    "past the limit of its memory of reporters") {
  CrowdOptions options;
  options.max_reporters = 64;
  CrowdEstimator a(options), b(options);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> wait(5, 60);
  std::vector<QueueReport> reports;
  for (int i = 0; i < 500; ++i) {
    reports.push_back(Waited(kNoon - 500 * 120 + 120 * i, wait(rng),
                             "token-" + std::to_string(i)));
  }
  for (const QueueReport& r : reports) a.AddReport("v", r);
  for (const QueueReport& r : reports) b.AddReport("v", r);
  CHECK(a.Status("v", L(kNoon)).wait_p50_min ==
        b.Status("v", L(kNoon)).wait_p50_min);
  CHECK(a.Status("v", L(kNoon)).known);
}

}  // namespace
}  // namespace noqueue::model
