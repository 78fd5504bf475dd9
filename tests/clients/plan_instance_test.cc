// Tests of the offline planner behind `noqueue plan --instance FILE.json`.
#include "clients/plan_instance.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <string>

namespace noqueue::client {
namespace {

void ExpectInvalid(const std::string& json, const std::string& needle) {
  auto r = PlanInstanceJson(json);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  INFO(r.status().message());
  CHECK(std::string(r.status().message()).find(needle) != std::string::npos);
}

TEST_CASE("PlanInstanceJson answers one grid time per attendee and the KPIs") {
  auto r = PlanInstanceJson(
      R"({"servers": 2, "service_mean_min": 10, "service_dist": "gamma",
          "service_cv": 0.6, "session_min": 120, "granularity_min": 5,
          "attendees": [{"id": "late", "offset_mean_min": 15},
                        {"id": "fixed", "fixed_min": 30}, {"id": "c"},
                        {"id": "d", "no_show": 0.5}],
          "time_budget_ms": 0})");
  REQUIRE(r.ok());
  google::protobuf::Struct out;
  REQUIRE(google::protobuf::util::JsonStringToMessage(*r, &out).ok());
  const auto& minutes = out.fields().at("convocation_min").list_value();
  REQUIRE(minutes.values_size() == 4);
  CHECK(minutes.values(1).number_value() == 30.0);
  for (const auto& v : minutes.values()) {
    CHECK(v.number_value() >= 0.0);
    CHECK(v.number_value() < 120.0);
    CHECK(static_cast<int>(v.number_value()) % 5 == 0);
  }
  // The one 15 minutes late is convoked first, at the opening.
  CHECK(minutes.values(0).number_value() == 0.0);
  CHECK(out.fields().at("order").list_value().values(0).string_value() ==
        "late");
  const auto& kpis = out.fields().at("kpis").struct_value().fields();
  CHECK(kpis.at("idle_min").number_value() > 0.0);
  CHECK(kpis.at("mean_wait_min_ci95").list_value().values_size() == 2);
}

// Found by tests/fuzz/plan_instance_fuzzer: a server count or a capacity
// beyond int was converted to int (undefined; in practice INT_MIN, so that
// one fixed appointment was "more than the window holds").
TEST_CASE("PlanInstanceJson bounds servers and counts a huge capacity whole") {
  ExpectInvalid(
      R"({"servers": 1e10, "service_mean_min": 10, "session_min": 60,
          "attendees": 3})",
      "servers: must be a whole number from 1 to 1000");
  // 1e12 minutes of 1e-3-minute services hold 1e15 appointments.
  auto r = PlanInstanceJson(
      R"({"service_mean_min": 1e-3, "session_min": 1e12,
          "granularity_min": 1e11, "attendees": [{"fixed_min": 0}],
          "time_budget_ms": 0})");
  INFO(r.status().message());
  CHECK(r.ok());
}

TEST_CASE("PlanInstanceJson refuses bad instances naming the field and rule") {
  const std::string base = R"("service_mean_min": 10, "session_min": 60)";
  ExpectInvalid("{" + base + R"(, "attendees": []})",
                "attendees: must not be empty");
  ExpectInvalid("{" + base + R"(, "attendees": 0})", "attendees: must be");
  ExpectInvalid("{" + base + "}", "attendees: is required");
  ExpectInvalid(R"({"service_mean_min": 0, "session_min": 60, "attendees": 3})",
                "service_mean_min: must be > 0");
  ExpectInvalid(
      R"({"service_mean_min": -2, "session_min": 60, "attendees": 3})",
      "service_mean_min: must be > 0");
  ExpectInvalid(
      "{" + base + R"(, "attendees": 3, "weights": {"wait": 0, "idle": 0}})",
      "weights: at least one of wait, idle and overtime must be "
      "positive");
  ExpectInvalid(
      "{" + base + R"(, "attendees": 3, "weights": {"wait": -1, "idle": 1}})",
      "weights.wait: must be a finite number >= 0");
  ExpectInvalid("{" + base + R"(, "attendees": 3, "granularity_min": 90})",
                "granularity_min: 90 is larger than session_min (60)");
  // One server, 60 minutes of 10-minute services holds 6 appointments.
  ExpectInvalid("{" + base + R"(, "attendees": [{"fixed_min": 0},
      {"fixed_min": 5}, {"fixed_min": 10}, {"fixed_min": 15}, {"fixed_min": 20},
      {"fixed_min": 25}, {"fixed_min": 30}]})",
                "attendees: 7 fixed appointments are more than the window "
                "holds (6");
  ExpectInvalid("{" + base + R"(, "attendees": 3, "service_dist": "weibull"})",
                "service_dist: must be exponential, deterministic, gamma or "
                "lognormal");
  ExpectInvalid("{not json", "instance: is not a JSON object");
  auto refused = PlanInstanceJson("{" + base +
                                  R"(, "attendees": 9, "overflow": "refuse"})");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(refused.status().message()).find("needs 30 more minutes") !=
        std::string::npos);
}

}  // namespace
}  // namespace noqueue::client
