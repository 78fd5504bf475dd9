// OperatorView: what the operator's page shows of a venue's day, read from
// the store and the live days: the live status, the day's schedules as they
// now stand, what the tags say of each attendee, the queue over the day as
// promised and as measured, the last re-timings. And the queue chart (SVG).
//
//   ASSIGN_OR_RETURN(v1::OperatorView view,
//                    BuildOperatorView(sources, "louvre", "2026-12-01"));
//   std::string svg = QueueChart(view);
#ifndef NOQUEUE_SERVER_OPS_OPERATOR_VIEW_H_
#define NOQUEUE_SERVER_OPS_OPERATOR_VIEW_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "noqueue/v1/live.pb.h"
#include "noqueue/v1/operator.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "server/core/crowd_tracker.h"
#include "server/live/live_days.h"
#include "server/store/store.h"

namespace noqueue::server {

struct OperatorSources {
  Store* store = nullptr;
  LiveDays* live = nullptr;
  CrowdTracker* crowd = nullptr;
};

// The venue's view on `day` ("YYYY-MM-DD" in its zone; "" for the live
// clock's today). NOT_FOUND for an unknown venue; INVALID_ARGUMENT naming
// `day` when it is not a date.
absl::StatusOr<v1::OperatorView> BuildOperatorView(
    const OperatorSources& sources, const std::string& venue_id,
    const std::string& day);

// The queue of one schedule over its window, every `step`, from its plan
// (as first published) and its events (stored tags), measured up to `now`.
std::vector<v1::QueuePoint> QueueOverDay(
    const v1::Schedule& planned, const std::vector<v1::ScheduleEvent>& events,
    absl::Time now, absl::Duration step = absl::Minutes(5));

// People waiting at the venue over the day (the day's schedules summed):
// promised and measured, as an SVG chart with venue-local clock times.
std::string QueueChart(const v1::OperatorView& view);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_OPS_OPERATOR_VIEW_H_
