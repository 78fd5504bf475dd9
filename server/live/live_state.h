// LiveState: a running schedule as its stored events leave it: each
// attendee's current time, state and changes, the desks open over the day,
// the services measured today. Folded from the schedule and its events, so
// that the events are the one truth (a restart loses nothing).
//
//   LiveState st = FoldLive(schedule, events);
//   Overlay(st, &schedule);  // current times and states, for the API
//   scheduler::LiveDay day = ToLiveDay(st, now, service, desks_now);
#ifndef NOQUEUE_SERVER_LIVE_LIVE_STATE_H_
#define NOQUEUE_SERVER_LIVE_LIVE_STATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "model/service_time_model.h"
#include "noqueue/v1/live.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "scheduler/live_retiming.h"
#include "server/core/retiming_rules.h"

namespace noqueue::server {

struct LiveAttendee {
  std::string attendee_id;
  absl::Time original;
  absl::Time current;
  int changes = 0;
  v1::AttendeeState state = v1::ATTENDEE_STATE_UNSPECIFIED;
  bool fixed = false;
  std::optional<absl::Time> arrived;
  std::optional<absl::Time> serving_since;
  // A declared delay: they will not come before this.
  std::optional<absl::Time> not_before;
  // Their predicted arrival as offsets from their convocation (minutes).
  model::ArrivalForecast forecast;
};

struct LiveState {
  v1::Schedule schedule;                // as planned (times as first published)
  std::vector<LiveAttendee> attendees;  // in the schedule's order
  absl::flat_hash_map<std::string, size_t> index;
  // Desk counts declared today, in seq order: (from, desks).
  std::vector<std::pair<absl::Time, int>> desk_changes;
  // Services measured today (minutes).
  std::vector<double> services_min;
  int64_t last_seq = 0;
  std::optional<v1::ScheduleEvent> last_kpis;

  LiveAttendee* Find(const std::string& attendee_id);
  // Desks open at `t`: the last change at or before t, else `declared`.
  int DesksAt(absl::Time t, int declared) const;
};

// Folds `events` (in seq order) into the schedule's live state.
LiveState FoldLive(v1::Schedule schedule,
                   const std::vector<v1::ScheduleEvent>& events);
void ApplyLive(LiveState& state, const v1::ScheduleEvent& e);

// Sets each convocation's current time, original_time, changes and state.
void Overlay(const LiveState& state, v1::Schedule* schedule);

// The day for the re-timing, at `now`: desks from `declared_desks` and the
// changes; the service mean shrunk from today's measures to `service`.
scheduler::LiveDay ToLiveDay(const LiveState& state, absl::Time now,
                             const model::ServiceMoments& service,
                             int declared_desks);
scheduler::RetimingRules ToSchedulerRules(const v1::RetimingRules& rules);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_LIVE_LIVE_STATE_H_
