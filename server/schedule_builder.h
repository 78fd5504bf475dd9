// Turns a validated CreateScheduleRequest into a Schedule: predicts every
// attendee's arrival with the live model, plans their convocations, and
// simulates the day to state what the schedule promises beside what a naive
// schedule would do.
#ifndef NOQUEUE_SERVER_SCHEDULE_BUILDER_H_
#define NOQUEUE_SERVER_SCHEDULE_BUILDER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/learning_loop.h"
#include "server/store.h"

namespace noqueue::server {

// Variability of service times assumed until venues can state theirs.
inline constexpr double kDefaultServiceCv = 0.5;

// `request` must have passed ValidateCreateSchedule; `venue` is its venue.
absl::StatusOr<NewSchedule> BuildSchedule(
    const v1::CreateScheduleRequest& request, const v1::Venue& venue,
    const LearningLoop& learning, absl::Time now,
    const std::string& schedule_id);

// What the model is told of attendee `a` convoked at `t` at a venue in
// `tz`: local hour and weekday, party size, lead time, named features
// (sorted by name, so that replays meet them in the same order).
model::ArrivalContext ContextAt(model::ConvocationType type, absl::Time t,
                                const absl::TimeZone& tz,
                                const v1::Attendee& a);

// The model's type for a wire type (which must not be UNSPECIFIED).
model::ConvocationType ToModelType(v1::ConvocationType type);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_SCHEDULE_BUILDER_H_
