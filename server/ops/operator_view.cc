#include "server/ops/operator_view.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"
#include "proto/base/svg_chart.h"
#include "proto/base/wire_time.h"
#include "server/live/live_state.h"
#include "server/wire/venue_status.h"

namespace noqueue::server {

namespace {

constexpr int kEventPage = 10000;
constexpr int kRecentRetimings = 20;

absl::StatusOr<std::vector<v1::ScheduleEvent>> AllEvents(
    Store* store, const std::string& schedule_id) {
  std::vector<v1::ScheduleEvent> all;
  int64_t after = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<v1::ScheduleEvent> page,
                     store->ListScheduleEvents(schedule_id, after, kEventPage));
    if (page.empty()) break;
    after = page.back().seq();
    const bool last = page.size() < kEventPage;
    std::move(page.begin(), page.end(), std::back_inserter(all));
    if (last) break;
  }
  return all;
}

// What the tags say of each attendee, in the schedule's order.
std::vector<v1::AttendeeDay> AttendeeDays(
    const v1::Schedule& schedule,
    const std::vector<v1::ScheduleEvent>& events) {
  std::vector<v1::AttendeeDay> days(schedule.convocations_size());
  absl::flat_hash_map<std::string, size_t> index;
  for (int i = 0; i < schedule.convocations_size(); ++i) {
    days[i].set_attendee_id(schedule.convocations(i).attendee_id());
    index[schedule.convocations(i).attendee_id()] = i;
  }
  for (const v1::ScheduleEvent& e : events) {
    auto it = index.find(e.attendee_id());
    if (it == index.end()) continue;
    v1::AttendeeDay& d = days[it->second];
    switch (e.kind()) {
      case v1::EVENT_ARRIVED:
        *d.mutable_arrived() = e.at();
        break;
      case v1::EVENT_SERVICE_STARTED:
        *d.mutable_service_started() = e.at();
        break;
      case v1::EVENT_SERVICE_ENDED:
        *d.mutable_service_ended() = e.at();
        break;
      default:
        break;
    }
  }
  return days;
}

}  // namespace

std::vector<v1::QueuePoint> QueueOverDay(
    const v1::Schedule& planned, const std::vector<v1::ScheduleEvent>& events,
    absl::Time now, absl::Duration step) {
  const absl::Time start = ToTime(planned.window_start());
  absl::Time end = ToTime(planned.window_end());
  // Promised: each attendee waits from their median predicted arrival for
  // their expected wait, unless they do not come.
  struct Interval {
    absl::Time from, to;
    double weight;
  };
  std::vector<Interval> promised;
  for (const v1::Convocation& c : planned.convocations()) {
    const absl::Time from = ToTime(c.predicted_arrival().p50());
    const absl::Time to = from + ToDuration(c.expected_wait());
    promised.push_back({from, to, 1.0 - c.no_show_probability()});
    end = std::max(end, to);
  }
  // Measured: from arrival to the start of service (or now, still waiting).
  absl::flat_hash_map<std::string, std::pair<absl::Time, absl::Time>> waits;
  for (const v1::ScheduleEvent& e : events) {
    if (e.kind() == v1::EVENT_ARRIVED) {
      waits[e.attendee_id()] = {ToTime(e.at()), absl::InfiniteFuture()};
    } else if (e.kind() == v1::EVENT_SERVICE_STARTED) {
      auto it = waits.find(e.attendee_id());
      if (it != waits.end()) it->second.second = ToTime(e.at());
    } else if (e.kind() == v1::EVENT_NO_SHOW ||
               e.kind() == v1::EVENT_CANCELLED) {
      waits.erase(e.attendee_id());
    }
  }
  for (const auto& [id, w] : waits) {
    if (w.second != absl::InfiniteFuture()) end = std::max(end, w.second);
  }
  end = std::min(end, start + absl::Hours(36));
  std::vector<v1::QueuePoint> points;
  for (absl::Time t = start; t <= end; t += step) {
    v1::QueuePoint& p = points.emplace_back();
    *p.mutable_at() = ToTimestamp(t);
    double expected = 0;
    for (const Interval& i : promised) {
      if (i.from <= t && t < i.to) expected += i.weight;
    }
    p.set_promised(expected);
    if (t > now) continue;
    int waiting = 0;
    for (const auto& [id, w] : waits) waiting += w.first <= t && t < w.second;
    p.set_measured(waiting);
  }
  return points;
}

absl::StatusOr<v1::OperatorView> BuildOperatorView(
    const OperatorSources& sources, const std::string& venue_id,
    const std::string& day) {
  ASSIGN_OR_RETURN(v1::Venue venue, sources.store->GetVenue(venue_id));
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(venue.time_zone(), &tz)) tz = absl::UTCTimeZone();
  absl::Time now = sources.live->clock().Now();
  // The replay clock before any tag: show the wall clock's day.
  if (now == absl::UnixEpoch()) now = absl::Now();
  absl::CivilDay civil = absl::ToCivilDay(now, tz);
  if (!day.empty() && !absl::ParseCivilTime(day, &civil)) {
    return absl::InvalidArgumentError(
        absl::StrCat("day: \"", day, "\" is not a date (YYYY-MM-DD)"));
  }
  const absl::Time from = absl::FromCivil(civil, tz);
  const absl::Time to = absl::FromCivil(civil + 1, tz);

  v1::OperatorView view;
  *view.mutable_venue() = venue;
  FillVenueStatus(sources.crowd->Status(venue, now), venue_id, now,
                  view.mutable_status());
  *view.mutable_now() = ToTimestamp(now);
  view.set_day(absl::FormatCivilTime(civil));
  ASSIGN_OR_RETURN(std::vector<std::string> ids,
                   sources.store->SchedulesBetween(venue_id, from, to));
  for (const std::string& id : ids) {
    absl::StatusOr<LiveState> live = sources.live->Load(id);
    if (absl::IsNotFound(live.status())) continue;  // erased meanwhile
    RETURN_IF_ERROR(live.status());
    ASSIGN_OR_RETURN(std::vector<v1::ScheduleEvent> events,
                     AllEvents(sources.store, id));
    v1::OperatorSchedule* s = view.add_schedules();
    for (v1::QueuePoint& p : QueueOverDay(live->schedule, events, now)) {
      *s->add_queue() = std::move(p);
    }
    for (v1::AttendeeDay& d : AttendeeDays(live->schedule, events)) {
      *s->add_attendees() = std::move(d);
    }
    for (auto it = events.rbegin();
         it != events.rend() && s->recent_retimings_size() < kRecentRetimings;
         ++it) {
      if (it->kind() == v1::EVENT_RETIMED) *s->add_recent_retimings() = *it;
    }
    Overlay(*live, &live->schedule);
    *s->mutable_schedule() = std::move(live->schedule);
  }
  std::sort(view.mutable_schedules()->begin(), view.mutable_schedules()->end(),
            [](const v1::OperatorSchedule& a, const v1::OperatorSchedule& b) {
              return absl::ToUnixMicros(ToTime(a.schedule().window_start())) <
                     absl::ToUnixMicros(ToTime(b.schedule().window_start()));
            });
  return view;
}

std::string QueueChart(const v1::OperatorView& view) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(view.venue().time_zone(), &tz)) {
    tz = absl::UTCTimeZone();
  }
  // Summed over the schedules, on the points' own times.
  std::map<int64_t, std::pair<double, std::optional<double>>> by_time;
  for (const v1::OperatorSchedule& s : view.schedules()) {
    for (const v1::QueuePoint& p : s.queue()) {
      auto& [promised, measured] = by_time[absl::ToUnixMicros(ToTime(p.at()))];
      promised += p.promised();
      if (p.has_measured()) measured = measured.value_or(0) + p.measured();
    }
  }
  svg::Chart chart;
  chart.panel_width = 760;
  chart.panel_height = 220;
  svg::Panel& panel = chart.panels.emplace_back();
  panel.title = absl::StrCat("People waiting at ", view.venue().display_name(),
                             " on ", view.day());
  panel.x.label = [tz](double us) {
    return absl::FormatTime("%H:%M", absl::FromUnixMicros(us), tz);
  };
  panel.x.ticks = 8;
  svg::Series promised, measured;
  promised.name = "promised (expected, by the plan)";
  promised.dashed = true;
  promised.colour = 2;
  measured.name = "measured (by the tags)";
  measured.colour = 1;
  for (const auto& [us, p] : by_time) {
    promised.points.emplace_back(us, p.first);
    if (p.second) measured.points.emplace_back(us, *p.second);
  }
  panel.series = {std::move(promised), std::move(measured)};
  if (by_time.empty()) chart.note = "no schedule on this day";
  return svg::Render(chart);
}

}  // namespace noqueue::server
