// libFuzzer: arbitrary bytes as a plan instance (`noqueue plan --instance`),
// parsed as JSON and planned offline. Refusals are INVALID_ARGUMENT or
// FAILED_PRECONDITION (overflow: refuse); nothing crashes.
//
// The instance states its own search budget (up to 10 minutes) and up to
// 100,000 attendees: the harness caps the budget at 5 ms and skips counts
// above 300 so that an execution stays fast; everything else reaches the
// planner as written.
#include <cstddef>
#include <cstdint>
#include <string>

#include "clients/plan_instance.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string json(reinterpret_cast<const char*>(data), size);
  google::protobuf::Struct instance;
  if (google::protobuf::util::JsonStringToMessage(json, &instance).ok()) {
    auto& fields = *instance.mutable_fields();
    if (auto it = fields.find("time_budget_ms");
        it != fields.end() && it->second.has_number_value() &&
        it->second.number_value() > 5 && it->second.number_value() <= 600000) {
      it->second.set_number_value(5);
    }
    if (auto it = fields.find("attendees"); it != fields.end() &&
                                            it->second.has_number_value() &&
                                            it->second.number_value() > 300) {
      return -1;
    }
    json.clear();
    if (!google::protobuf::util::MessageToJsonString(instance, &json).ok()) {
      return -1;
    }
  }
  const absl::StatusOr<std::string> answer =
      noqueue::client::PlanInstanceJson(json);
  const absl::Status& status = answer.status();
  noqueue::fuzz::Require(
      status.ok() || status.code() == absl::StatusCode::kInvalidArgument ||
          status.code() == absl::StatusCode::kFailedPrecondition,
      "a plan instance is refused INVALID_ARGUMENT or FAILED_PRECONDITION");
  return 0;
}
