// The offline what-if planner behind `noqueue plan --instance FILE.json`: an
// instance in JSON, parsed with protobuf's JSON parser into a Struct, is
// planned by the scheduler without a server and answered in JSON.
//
// Instance fields (minutes throughout): servers (1), service_mean_min
// (required), service_dist (exponential | deterministic | gamma | lognormal,
// default lognormal), service_cv (0.5), session_min (required), attendees (a
// count, or a list of {id, offset_mean_min, offset_sd_min, no_show,
// fixed_min}), no_show (default probability, 0), weights {wait, idle,
// overtime} (1, 1, 1.5), granularity_min (1), time_budget_ms (100),
// overflow (run_over | refuse).
// Answer: {"convocation_min": [...], "order": [ids...], "kpis": {...}},
// minutes from the session's start.
//
//   absl::StatusOr<std::string> out = PlanInstanceJson(text);
#ifndef NOQUEUE_CLIENTS_PLAN_INSTANCE_H_
#define NOQUEUE_CLIENTS_PLAN_INSTANCE_H_

#include <string>

#include "absl/status/statusor.h"

namespace noqueue::client {

// Plans the instance in `json`. INVALID_ARGUMENT names the field and the rule
// (no attendees, a non-positive service time, weights all zero or negative,
// more fixed appointments than the session holds, a granularity larger than
// the session, malformed JSON); FAILED_PRECONDITION when overflow is refuse
// and the session is too short.
absl::StatusOr<std::string> PlanInstanceJson(const std::string& json);

}  // namespace noqueue::client

#endif  // NOQUEUE_CLIENTS_PLAN_INSTANCE_H_
