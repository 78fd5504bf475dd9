// PlannerCeiling: the fair ceiling of CreateSchedule, its own planner run in
// process. For one CreateScheduleRequest and its venue, the pure code the
// server runs (ArrivalModel::Predict for every attendee, then
// scheduler::PlanAndPromise on the same DayPlan under the same options and
// search budget rules), in the bench process, on one thread, without gRPC,
// access control, validation, proto conversion or storage. What the server
// spends per schedule beyond it is the API's overhead.
//
// The model and the venue's service are as a fresh server holds them (the
// prior: no tag learned, no crowd report, no measured service), so the
// ceiling is fair against a server whose schedules say
// model_events_learned = 0; DifferencesFrom checks the predictions against
// a schedule the server answered.
//
//   PlannerCeiling ceiling(venue, request);
//   std::string d = ceiling.DifferencesFrom(response.schedule());
//   PlannerCeiling::Run run = ceiling.Measure(/*seconds=*/2, /*cpu=*/1);
//   double per_core = run.calls / run.cpu_s;
#ifndef NOQUEUE_BENCH_PLANNER_CEILING_H_
#define NOQUEUE_BENCH_PLANNER_CEILING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/arrival_model.h"
#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"
#include "scheduler/promised_plan.h"

namespace noqueue::bench {

class PlannerCeiling {
 public:
  // `request` must be valid for `venue` (as the server would accept it).
  PlannerCeiling(const v1::Venue& venue,
                 const v1::CreateScheduleRequest& request);

  // One planning: every attendee predicted, the plan and its KPIs (and the
  // naive spread's).
  absl::StatusOr<scheduler::PromisedPlan> PlanOnce() const;

  // Where `served` (the server's answer to the same request) was predicted
  // otherwise than this planner predicts (offsets of P10/P50/P90 from each
  // convocation, no-show probabilities): empty when they agree to a
  // hundredth of a minute and of a percent.
  std::string DifferencesFrom(const v1::Schedule& served) const;

  // The search budget the plan gets, ms (the request's, or the default for
  // the day).
  double budget_ms() const;

  struct Run {
    int64_t calls = 0;
    double wall_s = 0;
    double cpu_s = 0;  // the planning thread's CPU time
    std::vector<double> latency_ms;
    int errors = 0;
  };
  // Plans again and again for `seconds` on a thread of its own, pinned to
  // `cpu` (< 0: not pinned).
  Run Measure(double seconds, int cpu) const;

 private:
  // Predicts every attendee into `day`'s forecasts.
  void Predict(scheduler::DayPlan* day) const;

  std::string venue_id_;
  std::vector<std::string> attendee_ids_;
  std::vector<model::ArrivalContext> contexts_;
  model::ArrivalModel model_;
  scheduler::DayPlan day_;  // without forecasts
  scheduler::OptimizerOptions options_;
};

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_PLANNER_CEILING_H_
