#include "clients/plan_instance.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "model/normal.h"
#include "proto/base/status_macros.h"
#include "scheduler/convocation_planner.h"
#include "scheduler/queue_simulator.h"
#include "scheduler/schedule_optimizer.h"

namespace noqueue::client {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

using ::noqueue::model::kZ90;

absl::Status Invalid(const std::string& field, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

// The number at `key` of `s`, `fallback` when absent.
absl::StatusOr<double> Number(const Struct& s, const std::string& prefix,
                              const std::string& key, double fallback) {
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return fallback;
  if (it->second.kind_case() != Value::kNumberValue ||
      !std::isfinite(it->second.number_value())) {
    return Invalid(prefix + key, "must be a number");
  }
  return it->second.number_value();
}

absl::StatusOr<double> Required(const Struct& s, const std::string& key) {
  if (!s.fields().contains(key)) return Invalid(key, "is required");
  return Number(s, "", key, 0.0);
}

Value NumberValue(double x) {
  Value v;
  v.set_number_value(x);
  return v;
}

// The day's shape: session, granularity, servers and their service.
absl::StatusOr<scheduler::DayPlan> ParseDay(const Struct& in) {
  ASSIGN_OR_RETURN(const double servers, Number(in, "", "servers", 1));
  ASSIGN_OR_RETURN(const double service, Required(in, "service_mean_min"));
  ASSIGN_OR_RETURN(const double cv, Number(in, "", "service_cv", 0.5));
  ASSIGN_OR_RETURN(const double session, Required(in, "session_min"));
  ASSIGN_OR_RETURN(const double granularity,
                   Number(in, "", "granularity_min", 1));
  // Bounded as a venue's service points are (converting 1e10 to int was
  // undefined; found by plan_instance_fuzzer).
  if (servers < 1 || servers > 1000 || servers != std::floor(servers)) {
    return Invalid("servers", "must be a whole number from 1 to 1000");
  }
  if (service <= 0) return Invalid("service_mean_min", "must be > 0");
  if (cv < 0) return Invalid("service_cv", "must be >= 0");
  if (session <= 0) return Invalid("session_min", "must be > 0");
  if (granularity <= 0) return Invalid("granularity_min", "must be > 0");
  if (granularity > session) {
    return Invalid("granularity_min",
                   absl::StrCat(granularity, " is larger than session_min (",
                                session, ")"));
  }
  scheduler::DayPlan day;
  day.window_min = session;
  day.granularity_min = granularity;
  day.service.service_points = static_cast<int>(servers);
  day.service.mean_service_min = service;
  day.service.service_cv = cv;
  if (auto it = in.fields().find("service_dist"); it != in.fields().end()) {
    const std::string& d = it->second.string_value();
    using scheduler::ServiceDistribution;
    if (d == "exponential") {
      day.service.distribution = ServiceDistribution::kExponential;
    } else if (d == "deterministic") {
      day.service.distribution = ServiceDistribution::kDeterministic;
    } else if (d == "gamma") {
      day.service.distribution = ServiceDistribution::kGamma;
    } else if (d == "lognormal") {
      day.service.distribution = ServiceDistribution::kLognormal;
    } else {
      return Invalid("service_dist",
                     "must be exponential, deterministic, gamma or lognormal");
    }
  }
  return day;
}

// One attendee of the list, with the instance's default no-show.
absl::StatusOr<scheduler::PlannedAttendee> ParseAttendee(
    const Struct& s, const std::string& field, double no_show, double session) {
  ASSIGN_OR_RETURN(const double mean, Number(s, field, "offset_mean_min", 0));
  ASSIGN_OR_RETURN(const double sd, Number(s, field, "offset_sd_min", 0));
  ASSIGN_OR_RETURN(const double q, Number(s, field, "no_show", no_show));
  if (sd < 0) return Invalid(field + "offset_sd_min", "must be >= 0");
  if (q < 0 || q > 1) return Invalid(field + "no_show", "must be in [0, 1]");
  scheduler::PlannedAttendee p{{mean - kZ90 * sd, mean, mean + kZ90 * sd, q, 0},
                               std::nullopt};
  if (s.fields().contains("fixed_min")) {
    ASSIGN_OR_RETURN(const double fixed, Number(s, field, "fixed_min", 0));
    if (fixed < 0 || fixed >= session) {
      return Invalid(field + "fixed_min", "must lie inside [0, session_min)");
    }
    p.fixed_min = fixed;
  }
  return p;
}

// The attendees (a count of punctual ones, or a list) into day->attendees;
// their ids into *ids.
absl::Status ParseAttendees(const Struct& in, scheduler::DayPlan* day,
                            std::vector<std::string>* ids) {
  ASSIGN_OR_RETURN(const double no_show, Number(in, "", "no_show", 0.0));
  if (no_show < 0 || no_show > 1) {
    return Invalid("no_show", "must be in [0, 1]");
  }
  auto attendees = in.fields().find("attendees");
  if (attendees == in.fields().end()) {
    return Invalid("attendees", "is required");
  }
  const Value& a = attendees->second;
  if (a.kind_case() == Value::kNumberValue) {
    if (a.number_value() < 1 ||
        a.number_value() != std::floor(a.number_value()) ||
        a.number_value() > 100000) {
      return Invalid("attendees",
                     "must be a whole number from 1 to 100000, or a list");
    }
    for (int i = 0; i < static_cast<int>(a.number_value()); ++i) {
      ids->push_back(absl::StrCat(i));
      day->attendees.push_back({{0, 0, 0, no_show, 0}, std::nullopt});
    }
    return absl::OkStatus();
  }
  if (a.kind_case() != Value::kListValue) {
    return Invalid("attendees", "must be a count or a list of objects");
  }
  if (a.list_value().values_size() == 0) {
    return Invalid("attendees", "must not be empty");
  }
  for (int i = 0; i < a.list_value().values_size(); ++i) {
    const Value& v = a.list_value().values(i);
    if (v.kind_case() != Value::kStructValue) {
      return Invalid(absl::StrCat("attendees[", i, "]"), "must be an object");
    }
    const Struct& s = v.struct_value();
    auto id = s.fields().find("id");
    ids->push_back(id == s.fields().end() ? absl::StrCat(i)
                   : id->second.kind_case() == Value::kNumberValue
                       ? absl::StrCat(id->second.number_value())
                       : id->second.string_value());
    ASSIGN_OR_RETURN(scheduler::PlannedAttendee p,
                     ParseAttendee(s, absl::StrCat("attendees[", i, "]."),
                                   no_show, day->window_min));
    day->attendees.push_back(p);
  }
  return absl::OkStatus();
}

// The search's budget, weights and overflow policy.
absl::StatusOr<scheduler::OptimizerOptions> ParseOptions(const Struct& in) {
  ASSIGN_OR_RETURN(const double budget, Number(in, "", "time_budget_ms", 100));
  if (budget < 0 || budget > 600000) {
    return Invalid("time_budget_ms", "must be between 0 and 600000");
  }
  scheduler::OptimizerOptions options;
  options.time_budget_ms = budget;
  if (auto it = in.fields().find("weights"); it != in.fields().end()) {
    if (it->second.kind_case() != Value::kStructValue) {
      return Invalid("weights", "must be an object {wait, idle, overtime}");
    }
    const Struct& w = it->second.struct_value();
    ASSIGN_OR_RETURN(const double wait, Number(w, "weights.", "wait", 0));
    ASSIGN_OR_RETURN(const double idle, Number(w, "weights.", "idle", 0));
    ASSIGN_OR_RETURN(const double overtime,
                     Number(w, "weights.", "overtime", 0));
    options.weights = {wait, idle, overtime};
  }
  if (auto it = in.fields().find("overflow"); it != in.fields().end()) {
    const std::string& o = it->second.string_value();
    if (o == "refuse") {
      options.overflow = scheduler::OverflowPolicy::kRefuse;
    } else if (o != "run_over") {
      return Invalid("overflow", "must be run_over or refuse");
    }
  }
  return options;
}

// {"convocation_min": [...], "order": [ids...], "kpis": {...}}.
absl::StatusOr<std::string> Answer(const scheduler::OptimizedSchedule& plan,
                                   const scheduler::SimulationResult& sim,
                                   const scheduler::CostWeights& weights,
                                   const std::vector<std::string>& ids) {
  Struct out;
  auto& fields = *out.mutable_fields();
  auto* minutes = fields["convocation_min"].mutable_list_value();
  for (double m : plan.convocation_min) *minutes->add_values() = NumberValue(m);
  auto* order = fields["order"].mutable_list_value();
  for (size_t i : plan.order) order->add_values()->set_string_value(ids[i]);
  auto& kpis = *fields["kpis"].mutable_struct_value()->mutable_fields();
  auto rounded = [](double x) {
    return NumberValue(std::round(x * 1000) / 1000);
  };
  auto put = [&](const char* name, double value,
                 scheduler::ConfidenceInterval ci) {
    kpis[name] = rounded(value);
    auto* interval = kpis[absl::StrCat(name, "_ci95")].mutable_list_value();
    *interval->add_values() = rounded(ci.low);
    *interval->add_values() = rounded(ci.high);
  };
  put("mean_wait_min", sim.mean_wait_min, sim.mean_wait_ci);
  put("p90_wait_min", sim.p90_wait_min, sim.p90_wait_ci);
  put("total_wait_min", sim.total_wait_min, sim.total_wait_ci);
  put("expected_max_queue", sim.expected_max_queue, sim.max_queue_ci);
  put("idle_min", sim.idle_min, sim.idle_ci);
  put("overtime_min", sim.overtime_min, sim.overtime_ci);
  kpis["cost"] = rounded(scheduler::DayCost(weights, sim.total_wait_min,
                                            sim.idle_min, sim.overtime_min));
  kpis["overflow_min"] = NumberValue(plan.overflow_min);
  std::string text;
  auto printed = google::protobuf::util::MessageToJsonString(out, &text);
  if (!printed.ok()) return absl::InternalError(printed.message().as_string());
  return text;
}

}  // namespace

absl::StatusOr<std::string> PlanInstanceJson(const std::string& json) {
  Struct in;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &in);
  if (!parsed.ok()) {
    return Invalid("instance", absl::StrCat("is not a JSON object: ",
                                            parsed.message().as_string()));
  }
  ASSIGN_OR_RETURN(scheduler::DayPlan day, ParseDay(in));
  std::vector<std::string> ids;
  RETURN_IF_ERROR(ParseAttendees(in, &day, &ids));
  ASSIGN_OR_RETURN(const scheduler::OptimizerOptions options, ParseOptions(in));
  auto plan = scheduler::OptimizeConvocations(day, options);
  if (!plan.ok()) return plan.status();
  scheduler::SimulationOptions sim_options;
  sim_options.replications = 1000;
  const scheduler::SimulationResult sim =
      scheduler::SimulateDay(day, plan->convocation_min, sim_options);
  return Answer(*plan, sim, options.weights, ids);
}

}  // namespace noqueue::client
