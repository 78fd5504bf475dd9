#include "server/wire/venue_status.h"

#include "proto/base/wire_time.h"

namespace noqueue::server {

void FillVenueStatus(const model::VenueLiveStatus& live,
                     const std::string& venue_id, absl::Time now,
                     v1::VenueStatus* out) {
  out->set_venue_id(venue_id);
  out->set_state(live.known ? v1::STATUS_STATE_KNOWN
                            : v1::STATUS_STATE_UNKNOWN);
  if (live.known) {
    *out->mutable_wait_p50() = MinutesToDuration(live.wait_p50_min);
    *out->mutable_wait_p90() = MinutesToDuration(live.wait_p90_min);
    out->set_queue_length(live.queue_length);
    out->set_confidence(live.confidence);
  }
  out->set_reports_used(live.reports_used);
  out->set_tags_used(live.tags_used);
  out->set_service_rate_per_minute(live.service_rate_per_min);
  *out->mutable_as_of() = ToTimestamp(now);
}

}  // namespace noqueue::server
