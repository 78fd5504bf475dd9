// Reading attendees and arrival tags from CSV files, and writing tags back
// (the tagging device's spool uses the same format).
//
// Attendees: a header with `attendee_id` (required), `party_size` and
// `fixed_convocation_time` (RFC 3339) optional, and any other column read as
// a named numeric feature (an empty cell means "not given").
// Arrivals: event_id,schedule_id,attendee_id,kind,observed_at,device_id with
// kind one of ARRIVED, SERVICE_STARTED, SERVICE_ENDED, NO_SHOW.
#ifndef NOQUEUE_CLIENTS_CSV_IO_H_
#define NOQUEUE_CLIENTS_CSV_IO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "noqueue/v1/arrival.pb.h"
#include "noqueue/v1/scheduling.pb.h"

namespace noqueue::client {

// RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines.
absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(
    const std::string& text);

// RFC 3339, e.g. 2026-03-02T08:00:00+01:00.
absl::StatusOr<absl::Time> ParseTime(const std::string& field,
                                     const std::string& text);
std::string FormatTime(absl::Time t, const absl::TimeZone& tz);

absl::StatusOr<std::vector<noqueue::v1::Attendee>> AttendeesFromCsv(
    const std::string& text);
absl::StatusOr<std::vector<noqueue::v1::ArrivalEvent>> ArrivalsFromCsv(
    const std::string& text);
std::string ArrivalsToCsv(const std::vector<noqueue::v1::ArrivalEvent>& events);

absl::StatusOr<std::string> ReadFile(const std::string& path);  // "-" = stdin

}  // namespace noqueue::client

#endif  // NOQUEUE_CLIENTS_CSV_IO_H_
