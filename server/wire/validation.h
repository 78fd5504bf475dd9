// Validation of what clients send. Every error is INVALID_ARGUMENT with a
// message that names the field and the rule, e.g.
//   attendees[3].attendee_id: duplicate of attendees[1].attendee_id
#ifndef NOQUEUE_SERVER_WIRE_VALIDATION_H_
#define NOQUEUE_SERVER_WIRE_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "noqueue/v1/access.pb.h"
#include "noqueue/v1/arrival.pb.h"
#include "noqueue/v1/crowd.pb.h"
#include "noqueue/v1/model.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"
#include "proto/base/api_limits.h"

namespace noqueue::server {

struct Limits {
  int max_attendees = kMaxAttendeesPerSchedule;
  int max_events_per_batch = 10000;
  int max_features = 64;
  absl::Duration max_window = absl::Hours(24 * 7);
  // StreamArrivals calls open at once (each holds at most
  // ArrivalStream::kMaxUnacked tags); past it a new one is refused with
  // RESOURCE_EXHAUSTED.
  int max_streams = 1000;
};

// Ids: 1 to 128 characters of [A-Za-z0-9._:@/-].
absl::Status ValidateId(const std::string& field, const std::string& value);

// What an error message may quote of a value it rejects: at most its first
// 64 bytes, C-escaped, in double quotes, followed by "... (N bytes)" when
// cut, so that a message stays short whatever a client sent.
std::string Quote(absl::string_view value);

// An IANA time zone name ("Europe/Paris", "UTC", "Etc/GMT+5"): 1 to 64
// characters of [A-Za-z0-9_+-/] in parts separated by single '/', each part
// starting with a letter (so never a path: no leading '/', no "..", no NUL),
// that the tz database knows. Only then is it looked up.
absl::Status ValidateTimeZone(const std::string& field,
                              const std::string& value);

// Instants the API accepts: from 1970-01-01 to 2200-01-01 (exclusive), with
// nanos in [0, 1e9).
absl::Status ValidateTime(const std::string& field,
                          const google::protobuf::Timestamp& ts);
// A well-formed google.protobuf.Duration: nanos in (-1e9, 1e9), with the
// sign of seconds.
absl::Status ValidateDurationForm(const std::string& field,
                                  const google::protobuf::Duration& d);

absl::Status ValidateVenue(const v1::Venue& venue);
absl::Status ValidateUpsertVenue(const v1::UpsertVenueRequest& request);
absl::Status ValidateCreateSchedule(const v1::CreateScheduleRequest& request,
                                    const Limits& limits);
// A ListSchedules request; on success *after is the position its
// page_token names (0 without a token) and *page_size the page's size.
absl::Status ValidateListSchedules(const v1::ListSchedulesRequest& request,
                                   int64_t* after, int* page_size);
// `field` prefixes the messages, e.g. "events[4]".
absl::Status ValidateArrivalEvent(const std::string& field,
                                  const v1::ArrivalEvent& event);
// 1 to limits.max_events_per_batch valid events.
absl::Status ValidateRecordArrivals(const v1::RecordArrivalsRequest& request,
                                    const Limits& limits);
absl::Status ValidateExplainPrediction(
    const v1::ExplainPredictionRequest& request);

// Key management and erasure.
absl::Status ValidateCreateApiKey(const v1::CreateApiKeyRequest& request);
// Key ids: "key_" and 12 lower-case hex digits.
absl::Status ValidateKeyId(const std::string& field, const std::string& value);
absl::Status ValidateEraseAttendee(const v1::EraseAttendeeRequest& request);

// A crowd report received at `now`: observed_at not in the future (5 min of
// clock skew allowed) nor more than 24 h ago; queue_length 0..100000 and/or
// waited 0..24 h; a wait state; a reporter token of 8..128 id characters.
absl::Status ValidateReportQueue(const v1::ReportQueueRequest& request,
                                 absl::Time now);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_WIRE_VALIDATION_H_
