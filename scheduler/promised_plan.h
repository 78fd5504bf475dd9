// PromisedPlan: a day's convocations and what they promise, as CreateSchedule
// plans them once every attendee is predicted: the optimiser
// (OptimizeConvocations), then the plan and the naive even spread replayed
// on the same simulated days (others than the search's), so that the venue
// sees what the plan gains. The server calls it, and so does noqueue-bench's
// in-process planner ceiling: the ceiling plans exactly what the server does,
// and what the server spends beyond it is the API's overhead.
//
//   DayPlan day;  // forecasts, window, ...
//   day.service = ServiceProfileOf(points, estimate, local_start, window);
//   day.uncertainty = VenueUncertainty(arrivals, outcomes, estimate.services);
//   absl::StatusOr<PromisedPlan> plan = PlanAndPromise(day, options);
//
// Pure computation: no I/O.
#ifndef NOQUEUE_SCHEDULER_PROMISED_PLAN_H_
#define NOQUEUE_SCHEDULER_PROMISED_PLAN_H_

#include "absl/status/statusor.h"
#include "model/local_time.h"
#include "model/service_time_model.h"
#include "scheduler/day_plan.h"
#include "scheduler/queue_simulator.h"
#include "scheduler/schedule_optimizer.h"

namespace noqueue::scheduler {

// The venue's service over a window of `window_min` minutes that starts at
// venue-local `start`: the day's mean and variability, and one period per
// venue-local hour (to a few hours past the window's end) when some hour
// has a learned estimate of its own.
ServiceProfile ServiceProfileOf(int service_points,
                                const model::ServiceEstimate& service,
                                model::LocalTime start, double window_min);

// What the model does not know of a venue yet, for a plan to hedge against
// and its promises to include, from what it has learned: `arrivals` and
// `outcomes` of the venue's attendees, `services` measured. Wide for a new
// venue (its type's spread of levels, a declared service never measured),
// narrowing as its own tags teach it.
PlanUncertainty VenueUncertainty(double arrivals, double outcomes,
                                 double services);

struct PromisedPlan {
  OptimizedSchedule optimized;
  // The plan's KPIs and the naive even spread's, on the same simulated days.
  SimulationResult kpis;
  SimulationResult naive_kpis;
};

// OptimizeConvocations(day, options), then both KPIs on `kpi_replications`
// simulated days (0: DefaultReplications(attendees)) seeded apart from the
// search's. Errors: OptimizeConvocations's; CANCELLED when
// options.should_stop says so before the KPIs or between the plan's and the
// spread's.
absl::StatusOr<PromisedPlan> PlanAndPromise(const DayPlan& day,
                                            const OptimizerOptions& options,
                                            int kpi_replications = 0);

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_PROMISED_PLAN_H_
