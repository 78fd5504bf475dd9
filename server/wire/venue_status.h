// The wire form of what the crowd tracker believes of a venue now.
#ifndef NOQUEUE_SERVER_WIRE_VENUE_STATUS_H_
#define NOQUEUE_SERVER_WIRE_VENUE_STATUS_H_

#include <string>

#include "absl/time/time.h"
#include "model/crowd_estimator.h"
#include "noqueue/v1/crowd.pb.h"

namespace noqueue::server {

// Fills `out` with `live`, the status of `venue_id` at `now` (its wait and
// queue only when known).
void FillVenueStatus(const model::VenueLiveStatus& live,
                     const std::string& venue_id, absl::Time now,
                     v1::VenueStatus* out);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_WIRE_VENUE_STATUS_H_
