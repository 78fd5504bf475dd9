#include "server/core/crowd_tracker.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"
#include "server/common/domain_enums.h"

namespace noqueue::server {

CrowdTracker::CrowdTracker(Store* store, CrowdPolicy policy)
    : store_(store), policy_(policy) {}

model::LocalTime CrowdTracker::Local(const std::string& venue_id,
                                     absl::Time t) const {
  auto it = zones_.find(venue_id);
  return model::LocalTime::At(
      t, it == zones_.end() ? absl::UTCTimeZone() : it->second);
}

model::QueueReport CrowdTracker::ToQueueReport(const StoredReport& r) const {
  model::QueueReport q;
  q.at = Local(r.venue_id, r.observed);
  if (r.queue_length) q.queue_length = *r.queue_length;
  if (r.waited) q.waited_min = ToMinutes(*r.waited);
  q.finished = r.finished;
  q.reporter = r.reporter_token;
  q.received = Local(r.venue_id, r.received);
  return q;
}

void CrowdTracker::SetCapacityLocked(const v1::Venue& venue) {
  estimator_.SetVenueCapacity(venue.venue_id(), venue.service_points(),
                              ToMinutes(ToDuration(venue.mean_service_time())));
  absl::TimeZone tz;  // UTC if the zone cannot be loaded
  absl::LoadTimeZone(venue.time_zone(), &tz);
  zones_.insert_or_assign(venue.venue_id(), tz);
}

void CrowdTracker::VenueStored(const v1::Venue& venue) {
  absl::MutexLock lock(&mu_);
  SetCapacityLocked(venue);
}

void CrowdTracker::ApplyLocked(const ServiceObservation& o) {
  if (o.arrival) {
    estimator_.AddMeasuredWait(o.venue_id, Local(o.venue_id, *o.arrival),
                               Local(o.venue_id, o.at));
  }
  if (o.duration) {
    const model::LocalTime start = Local(o.venue_id, o.at - *o.duration);
    estimator_.AddService(o.venue_id, start, ToMinutes(*o.duration));
    services_.Add(o.venue_id, start, ToMinutes(*o.duration));
  }
}

absl::Status CrowdTracker::Restore() {
  ASSIGN_OR_RETURN(std::vector<v1::Venue> venues, store_->ListVenues());
  absl::MutexLock lock(&mu_);
  for (const v1::Venue& v : venues) SetCapacityLocked(v);
  return store_->ReplayCrowd(
      [this](const StoredReport& r) {
        mu_.AssertHeld();
        estimator_.AddReport(r.venue_id, ToQueueReport(r));
      },
      [this](const ServiceObservation& o) {
        mu_.AssertHeld();
        ApplyLocked(o);
      });
}

absl::StatusOr<StoredReport> CrowdTracker::Judge(const v1::Venue& venue,
                                                 StoredReport report) {
  absl::StatusOr<StoredReport> judged = JudgeLocked(venue, std::move(report));
  if (judged.ok() && judged->rejection.empty() && listener_) {
    listener_(venue.venue_id());
  }
  return judged;
}

absl::StatusOr<StoredReport> CrowdTracker::JudgeLocked(const v1::Venue& venue,
                                                       StoredReport report) {
  absl::MutexLock lock(&mu_);
  while (!window_.empty() &&
         window_.front().first <= report.received - absl::Hours(1)) {
    auto it = in_window_.find(window_.front().second);
    if (it != in_window_.end() && --it->second <= 0) in_window_.erase(it);
    window_.pop_front();
  }
  int& count = in_window_[report.reporter_token];
  if (count >= policy_.flood_per_hour) {
    judged_.Add({{"verdict", "refused"}, {"reason", "flood"}}).Increment();
    return absl::ResourceExhaustedError(
        absl::StrCat("reporter_token: more than ", policy_.flood_per_hour,
                     " reports in an hour; try again later"));
  }
  ++count;
  window_.emplace_back(report.received, report.reporter_token);
  SetCapacityLocked(venue);
  const model::ReportVerdict verdict =
      estimator_.AddReport(venue.venue_id(), ToQueueReport(report));
  report.weight = verdict.weight;
  report.rejection = model::ReportRejectionName(verdict.rejection);
  judged_
      .Add({{"verdict", report.rejection.empty() ? "accepted" : "rejected"},
            {"reason", report.rejection}})
      .Increment();
  return report;
}

void CrowdTracker::Observe(const std::vector<EventResult>& results) {
  bool any = false;
  for (const EventResult& r : results) any = any || r.service.has_value();
  if (!any) return;
  absl::flat_hash_set<std::string> venues;
  {
    absl::MutexLock lock(&mu_);
    for (const EventResult& r : results) {
      if (!r.service) continue;
      ApplyLocked(*r.service);
      venues.insert(r.service->venue_id);
    }
  }
  if (listener_) {
    for (const std::string& v : venues) listener_(v);
  }
}

model::VenueLiveStatus CrowdTracker::Status(const v1::Venue& venue,
                                            absl::Time now) {
  absl::MutexLock lock(&mu_);
  SetCapacityLocked(venue);
  return estimator_.Status(venue.venue_id(), Local(venue.venue_id(), now));
}

VenueLive CrowdTracker::ForPlanning(const v1::Venue& venue, absl::Time now) {
  absl::MutexLock lock(&mu_);
  SetCapacityLocked(venue);
  VenueLive live;
  const model::ServiceMoments declared{
      ToMinutes(ToDuration(venue.mean_service_time())),
      venue.has_service_time_cv()
          ? venue.service_time_cv()
          : model::PriorFor(ToModelType(venue.convocation_type())).service_cv};
  live.service = services_.Estimate(venue.venue_id(), declared);
  if (live.service.services == 0) {
    // No service measured by tags: crowd reports may have told the mean.
    live.service.day.mean_min =
        estimator_.LearnedServiceMinutes(venue.venue_id())
            .value_or(declared.mean_min);
  }
  const model::VenueLiveStatus status =
      estimator_.Status(venue.venue_id(), Local(venue.venue_id(), now));
  if (status.known) live.recent_wait = FromMinutes(status.wait_p50_min);
  return live;
}

}  // namespace noqueue::server
