#include "server/crowd_loop.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/proto_time.h"

namespace noqueue::server {
namespace {

constexpr int64_t kHourUs = int64_t{3600} * 1000000;

}  // namespace

int64_t CrowdLoop::LocalSeconds(const std::string& venue_id,
                                int64_t unix_us) const {
  const absl::Time t = absl::FromUnixMicros(unix_us);
  auto it = zones_.find(venue_id);
  const int64_t offset = it == zones_.end() ? 0 : it->second.At(t).offset;
  return absl::ToUnixSeconds(t) + offset;
}

CrowdLoop::CrowdLoop(Store* store, CrowdPolicy policy)
    : store_(store), policy_(policy) {}

model::QueueReport CrowdLoop::ToQueueReport(const StoredReport& r) const {
  model::QueueReport q;
  q.at_second = LocalSeconds(r.venue_id, r.observed_us);
  if (r.queue_length) q.queue_length = *r.queue_length;
  q.waited_min = r.waited_min;
  q.finished = r.finished;
  q.reporter = r.reporter_token;
  q.received_second = LocalSeconds(r.venue_id, r.received_us);
  return q;
}

void CrowdLoop::SetCapacityLocked(const v1::Venue& venue) {
  estimator_.SetVenueCapacity(
      venue.venue_id(), venue.service_points(),
      absl::ToDoubleMinutes(ToDuration(venue.mean_service_time())));
  if (!zones_.contains(venue.venue_id())) {
    absl::TimeZone tz;  // UTC if the zone cannot be loaded
    absl::LoadTimeZone(venue.time_zone(), &tz);
    zones_.emplace(venue.venue_id(), tz);
  }
}

void CrowdLoop::EnsureVenueLocked(const std::string& venue_id) {
  if (zones_.contains(venue_id)) return;
  // A venue is never deleted, so this read finds it; if it fails the
  // estimator keeps its default capacity until the venue is next seen.
  if (absl::StatusOr<v1::Venue> venue = store_->GetVenue(venue_id);
      venue.ok()) {
    SetCapacityLocked(*venue);
  }
}

void CrowdLoop::ApplyLocked(const ServiceObservation& o) {
  EnsureVenueLocked(o.venue_id);
  if (o.arrival_us) {
    estimator_.AddMeasuredWait(o.venue_id,
                               LocalSeconds(o.venue_id, *o.arrival_us),
                               LocalSeconds(o.venue_id, o.at_us));
  }
  if (o.duration_min) {
    const int64_t start_us =
        o.at_us - static_cast<int64_t>(std::llround(*o.duration_min * 60e6));
    estimator_.AddService(o.venue_id, LocalSeconds(o.venue_id, start_us),
                          *o.duration_min);
  }
}

absl::Status CrowdLoop::Restore() {
  std::lock_guard<std::mutex> lock(mu_);
  return store_->ReplayCrowd(
      [this](const StoredReport& r) {
        EnsureVenueLocked(r.venue_id);
        estimator_.AddReport(r.venue_id, ToQueueReport(r));
      },
      [this](const ServiceObservation& o) { ApplyLocked(o); });
}

absl::StatusOr<StoredReport> CrowdLoop::Judge(const v1::Venue& venue,
                                              StoredReport report) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!window_.empty() &&
         window_.front().first <= report.received_us - kHourUs) {
    auto it = in_window_.find(window_.front().second);
    if (it != in_window_.end() && --it->second <= 0) in_window_.erase(it);
    window_.pop_front();
  }
  int& count = in_window_[report.reporter_token];
  if (count >= policy_.flood_per_hour) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "reporter_token: more than ", policy_.flood_per_hour,
        " reports in an hour; try again later"));
  }
  ++count;
  window_.emplace_back(report.received_us, report.reporter_token);
  SetCapacityLocked(venue);
  const model::ReportVerdict verdict =
      estimator_.AddReport(venue.venue_id(), ToQueueReport(report));
  report.weight = verdict.weight;
  report.rejection =
      verdict.rejection == model::ReportRejection::kNone
          ? ""
          : model::ReportRejectionName(verdict.rejection);
  return report;
}

void CrowdLoop::Observe(const std::vector<EventResult>& results) {
  bool any = false;
  for (const EventResult& r : results) any = any || r.service.has_value();
  if (!any) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const EventResult& r : results) {
    if (r.service) ApplyLocked(*r.service);
  }
}

model::VenueLiveStatus CrowdLoop::Status(const v1::Venue& venue,
                                         int64_t now_us) {
  std::lock_guard<std::mutex> lock(mu_);
  SetCapacityLocked(venue);
  return estimator_.Status(venue.venue_id(),
                           LocalSeconds(venue.venue_id(), now_us));
}

VenueLive CrowdLoop::ForPlanning(const v1::Venue& venue, int64_t now_us) {
  std::lock_guard<std::mutex> lock(mu_);
  SetCapacityLocked(venue);
  VenueLive live;
  live.service_min = estimator_.LearnedServiceMinutes(venue.venue_id());
  const model::VenueLiveStatus status =
      estimator_.Status(venue.venue_id(),
                           LocalSeconds(venue.venue_id(), now_us));
  if (status.known) live.recent_wait_min = status.wait_p50_min;
  return live;
}

}  // namespace noqueue::server
