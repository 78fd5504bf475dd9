#include "server/live/live_state.h"

#include <algorithm>

#include "proto/base/wire_time.h"

namespace noqueue::server {
namespace {

// Today's measured services pull the venue's learned mean as this many
// services would.
constexpr double kServicePriorWeight = 5.0;

}  // namespace

LiveAttendee* LiveState::Find(const std::string& attendee_id) {
  auto it = index.find(attendee_id);
  return it == index.end() ? nullptr : &attendees[it->second];
}

int LiveState::DesksAt(absl::Time t, int declared) const {
  int desks = declared;
  absl::Time latest = absl::InfinitePast();
  for (const auto& [from, n] : desk_changes) {
    // The latest change in effect at t; among equal times, the last declared.
    if (from <= t && from >= latest) {
      latest = from;
      desks = n;
    }
  }
  return desks;
}

LiveState FoldLive(v1::Schedule schedule,
                   const std::vector<v1::ScheduleEvent>& events) {
  LiveState st;
  st.attendees.reserve(schedule.convocations_size());
  for (const v1::Convocation& c : schedule.convocations()) {
    LiveAttendee a;
    a.attendee_id = c.attendee_id();
    a.original = ToTime(c.convocation_time());
    a.current = a.original;
    a.fixed = c.fixed();
    const v1::PredictedArrival& p = c.predicted_arrival();
    a.forecast.p10_min = ToMinutes(ToTime(p.p10()) - a.original);
    a.forecast.p50_min = ToMinutes(ToTime(p.p50()) - a.original);
    a.forecast.p90_min = ToMinutes(ToTime(p.p90()) - a.original);
    a.forecast.no_show_probability = c.no_show_probability();
    st.index[a.attendee_id] = st.attendees.size();
    st.attendees.push_back(std::move(a));
  }
  st.schedule = std::move(schedule);
  for (const v1::ScheduleEvent& e : events) ApplyLive(st, e);
  return st;
}

void ApplyLive(LiveState& st, const v1::ScheduleEvent& e) {
  st.last_seq = std::max(st.last_seq, e.seq());
  const absl::Time at = ToTime(e.at());
  if (e.kind() == v1::EVENT_SERVICE_POINTS_CHANGED) {
    st.desk_changes.emplace_back(ToTime(e.effective_from()),
                                 e.service_points());
    return;
  }
  if (e.kind() == v1::EVENT_KPIS_UPDATED) {
    st.last_kpis = e;
    return;
  }
  LiveAttendee* a = st.Find(e.attendee_id());
  if (a == nullptr) return;  // schedule-wide, or an erased attendee
  switch (e.kind()) {
    case v1::EVENT_RETIMED:
      a->current = ToTime(e.convocation_time());
      ++a->changes;
      break;
    case v1::EVENT_ARRIVED:
      if (a->state == v1::ATTENDEE_STATE_UNSPECIFIED) {
        a->state = v1::ATTENDEE_ARRIVED;
      }
      a->arrived = at;
      break;
    case v1::EVENT_SERVICE_STARTED:
      if (a->state != v1::ATTENDEE_SERVED) a->state = v1::ATTENDEE_SERVING;
      a->serving_since = at;
      if (!a->arrived) a->arrived = at;
      break;
    case v1::EVENT_SERVICE_ENDED:
      a->state = v1::ATTENDEE_SERVED;
      if (a->serving_since && at > *a->serving_since) {
        st.services_min.push_back(ToMinutes(at - *a->serving_since));
      }
      break;
    case v1::EVENT_NO_SHOW:
      if (a->state == v1::ATTENDEE_STATE_UNSPECIFIED) {
        a->state = v1::ATTENDEE_NO_SHOW;
      }
      break;
    case v1::EVENT_CANCELLED:
      if (a->state == v1::ATTENDEE_STATE_UNSPECIFIED) {
        a->state = v1::ATTENDEE_CANCELLED;
      }
      break;
    case v1::EVENT_DELAY_DECLARED:
      a->not_before = std::max(at, a->current) + ToDuration(e.delay());
      break;
    default:
      break;
  }
}

void Overlay(const LiveState& st, v1::Schedule* schedule) {
  for (v1::Convocation& c : *schedule->mutable_convocations()) {
    auto it = st.index.find(c.attendee_id());
    if (it == st.index.end()) continue;
    const LiveAttendee& a = st.attendees[it->second];
    if (a.changes > 0) {
      *c.mutable_original_time() = c.convocation_time();
      *c.mutable_convocation_time() = ToTimestamp(a.current);
      const absl::Duration moved = a.current - a.original;
      v1::PredictedArrival* p = c.mutable_predicted_arrival();
      *p->mutable_p10() = ToTimestamp(ToTime(p->p10()) + moved);
      *p->mutable_p50() = ToTimestamp(ToTime(p->p50()) + moved);
      *p->mutable_p90() = ToTimestamp(ToTime(p->p90()) + moved);
    }
    c.set_changes(a.changes);
    c.set_state(a.state);
  }
}

scheduler::RetimingRules ToSchedulerRules(const v1::RetimingRules& rules) {
  scheduler::RetimingRules r;
  r.min_notice_min = ToMinutes(ToDuration(rules.min_notice()));
  r.hysteresis_min = ToMinutes(ToDuration(rules.hysteresis()));
  r.max_changes = rules.max_changes();
  r.allow_earlier = rules.allow_earlier();
  return r;
}

scheduler::LiveDay ToLiveDay(const LiveState& st, absl::Time now,
                             const model::ServiceMoments& service,
                             int declared_desks) {
  const absl::Time start = ToTime(st.schedule.window_start());
  auto min_of = [start](absl::Time t) { return ToMinutes(t - start); };
  scheduler::LiveDay day;
  day.now_min = min_of(now);
  day.window_min = min_of(ToTime(st.schedule.window_end()));
  double sum = 0.0;
  for (double s : st.services_min) sum += s;
  const double n = static_cast<double>(st.services_min.size());
  day.mean_service_min = (sum + kServicePriorWeight * service.mean_min) /
                         (n + kServicePriorWeight);
  day.service_cv = service.cv;
  day.desks.push_back({day.now_min, st.DesksAt(now, declared_desks)});
  std::vector<std::pair<absl::Time, int>> later;
  for (const auto& change : st.desk_changes) {
    if (change.first > now) later.push_back(change);
  }
  std::stable_sort(
      later.begin(), later.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [from, desks] : later) {
    day.desks.push_back({min_of(from), desks});
  }
  for (const LiveAttendee& a : st.attendees) {
    switch (a.state) {
      case v1::ATTENDEE_SERVING:
        day.serving_since_min.push_back(min_of(*a.serving_since));
        break;
      case v1::ATTENDEE_ARRIVED:
        day.waiting_since_min.push_back(min_of(*a.arrived));
        break;
      case v1::ATTENDEE_STATE_UNSPECIFIED: {
        scheduler::ComingAttendee c;
        c.forecast = a.forecast;
        c.convocation_min = min_of(a.current);
        c.original_min = min_of(a.original);
        c.changes = a.changes;
        c.movable = !a.fixed;
        if (a.not_before) c.not_before_min = min_of(*a.not_before);
        day.to_come.push_back(std::move(c));
        break;
      }
      default:
        break;
    }
  }
  return day;
}

}  // namespace noqueue::server
