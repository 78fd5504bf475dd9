// Turns a validated CreateScheduleRequest into a Schedule: predicts every
// attendee's arrival with the live model, plans their convocations, and
// simulates the day to state what the schedule promises beside what a naive
// schedule would do.
#ifndef NOQUEUE_SERVER_CORE_SCHEDULE_BUILDER_H_
#define NOQUEUE_SERVER_CORE_SCHEDULE_BUILDER_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/crowd_tracker.h"
#include "server/core/learner.h"
#include "server/store/store.h"

namespace noqueue::server {

// The named feature under which the model sees the venue's live wait.
inline constexpr char kRecentWaitFeature[] = "venue_recent_wait_min";

// What planning takes besides the request.
struct PlanningContext {
  // What the venue's tags and crowd reports say now: its learned service
  // times replace the declared ones, its live wait is a feature.
  VenueLive live;
  absl::Time now;
  // How long the caller will wait: the search takes at most half of it.
  absl::Duration time_left = absl::InfiniteDuration();
  // When set, polled while planning: once it returns true the build gives
  // up with CANCELLED.
  std::function<bool()> should_stop;
};

// `request` must have passed ValidateCreateSchedule; `venue` is its venue.
// The plan hedges against what the model does not know yet of the venue
// (its level, its service time, its no-shows: wide for a new venue, narrow
// once its tags have taught it), and the KPIs promise ranges that include
// it.
absl::StatusOr<NewSchedule> BuildSchedule(
    const v1::CreateScheduleRequest& request, const v1::Venue& venue,
    const Learner& learning, const PlanningContext& context,
    const std::string& schedule_id);

// What the model is told of attendee `a` convoked at `t` at a venue in
// `tz`: local hour and weekday, party size, lead time, named features
// (sorted by name, so that replays meet them in the same order), and the
// venue's live wait when it is known (kRecentWaitFeature).
model::ArrivalContext ContextAt(
    model::ConvocationType type, absl::Time t, const absl::TimeZone& tz,
    const v1::Attendee& a,
    std::optional<absl::Duration> recent_wait = std::nullopt);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_CORE_SCHEDULE_BUILDER_H_
