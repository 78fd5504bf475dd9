#include "server/wire/validation.h"

#include <charconv>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"

namespace noqueue::server {
namespace {

absl::Status Invalid(const std::string& field, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

absl::Status ValidateTimestamp(const std::string& field, bool present,
                               const google::protobuf::Timestamp& ts) {
  if (!present) return Invalid(field, "is required");
  return ValidateTime(field, ts);
}

// A map of named numeric features, as an attendee carries them.
absl::Status ValidateFeatures(
    const std::string& field,
    const google::protobuf::Map<std::string, double>& features,
    int max_features) {
  if (static_cast<int>(features.size()) > max_features) {
    return Invalid(field, absl::StrCat("at most ", max_features,
                                       " features per "
                                       "attendee"));
  }
  for (const auto& [name, value] : features) {
    if (name.empty() || name.size() > 64) {
      return Invalid(field, "names must be 1 to 64 characters");
    }
    if (!std::isfinite(value)) {
      return Invalid(absl::StrCat(field, "[", Quote(name), "]"),
                     "must be a finite number");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePartySize(const std::string& field, int party_size) {
  if (party_size < 0 || party_size > 1000) {
    return Invalid(field, "must be between 0 and 1000 (0 means 1)");
  }
  return absl::OkStatus();
}

// Each rule unset (its default) or in its range.
absl::Status ValidateRetiming(const v1::RetimingRules& r) {
  auto in_range = [](const char* field, bool present,
                     const google::protobuf::Duration& d, absl::Duration lo,
                     absl::Duration hi) -> absl::Status {
    if (!present) return absl::OkStatus();
    if (!IsValidDuration(d) || ToDuration(d) < lo || ToDuration(d) > hi) {
      return Invalid(field, absl::StrCat("must be ", absl::FormatDuration(lo),
                                         " to ", absl::FormatDuration(hi)));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(in_range("retiming.min_notice", r.has_min_notice(),
                           r.min_notice(), absl::ZeroDuration(),
                           absl::Hours(24)));
  RETURN_IF_ERROR(in_range("retiming.hysteresis", r.has_hysteresis(),
                           r.hysteresis(), absl::Minutes(1), absl::Hours(4)));
  if (r.max_changes() < 0 || r.max_changes() > 20) {
    return Invalid("retiming.max_changes", "must be 1 to 20 (0: the default)");
  }
  return absl::OkStatus();
}

absl::Status ValidatePlanning(const v1::PlanningOptions& p,
                              absl::Duration window) {
  if (p.has_weights()) {
    const v1::CostWeights& w = p.weights();
    for (auto [name, value] :
         {std::pair{"wait", w.wait()}, std::pair{"idle", w.idle()},
          std::pair{"overtime", w.overtime()}}) {
      if (!std::isfinite(value) || value < 0.0) {
        return Invalid(absl::StrCat("planning.weights.", name),
                       "must be a finite number >= 0");
      }
    }
    if (w.wait() + w.idle() + w.overtime() <= 0.0) {
      return Invalid("planning.weights",
                     "at least one of wait, idle and overtime must be "
                     "positive");
    }
  }
  if (p.has_time_budget()) {
    const google::protobuf::Duration& d = p.time_budget();
    RETURN_IF_ERROR(ValidateDurationForm("planning.time_budget", d));
    if (d.seconds() < 0 || d.nanos() < 0 || ToDuration(d) > absl::Seconds(10)) {
      return Invalid("planning.time_budget", "must be between 0 and 10s");
    }
  }
  if (!v1::OverflowPolicy_IsValid(p.overflow())) {
    return Invalid("planning.overflow",
                   "must be OVERFLOW_RUN_OVER or "
                   "OVERFLOW_REFUSE");
  }
  if (p.has_granularity()) {
    const google::protobuf::Duration& g = p.granularity();
    RETURN_IF_ERROR(ValidateDurationForm("planning.granularity", g));
    if (g.seconds() < 60 || g.seconds() % 60 != 0 || g.nanos() != 0) {
      return Invalid("planning.granularity",
                     "must be a whole number of minutes, at least 1 minute");
    }
    if (ToDuration(g) > window) {
      return Invalid("planning.granularity",
                     absl::StrCat(absl::FormatDuration(ToDuration(g)),
                                  " is larger than the window (",
                                  absl::FormatDuration(window), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateId(const std::string& field, const std::string& value) {
  if (value.empty()) return Invalid(field, "must not be empty");
  if (value.size() > 128)
    return Invalid(field, "must be at most 128 characters");
  for (char c : value) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-' || c == '@' || c == '/';
    if (!ok) {
      return Invalid(field, "may hold only letters, digits and . _ : - @ /");
    }
  }
  return absl::OkStatus();
}

std::string Quote(absl::string_view value) {
  constexpr size_t kMaxQuoted = 64;
  if (value.size() <= kMaxQuoted) {
    return absl::StrCat("\"", absl::CHexEscape(value), "\"");
  }
  return absl::StrCat("\"", absl::CHexEscape(value.substr(0, kMaxQuoted)),
                      "\"... (", value.size(), " bytes)");
}

absl::Status ValidateTimeZone(const std::string& field,
                              const std::string& value) {
  constexpr absl::string_view kExample =
      " (an IANA zone such as \"Europe/Paris\")";
  if (value.empty())
    return Invalid(field, absl::StrCat("is required", kExample));
  if (value.size() > 64) {
    return Invalid(
        field,
        absl::StrCat(Quote(value), " is longer than 64 characters", kExample));
  }
  for (absl::string_view part : absl::StrSplit(value, '/')) {
    bool ok = !part.empty() && ((part[0] >= 'A' && part[0] <= 'Z') ||
                                (part[0] >= 'a' && part[0] <= 'z'));
    for (char c : part) {
      ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-');
    }
    if (!ok) {
      return Invalid(
          field, absl::StrCat(Quote(value),
                              " is not an IANA zone name: parts of letters, "
                              "digits and _ + - separated by single '/', each "
                              "starting with a letter",
                              kExample));
    }
  }
  // cctz reads "localtime" as the server's own zone, not a name.
  absl::TimeZone tz;
  if (value == "localtime" || !absl::LoadTimeZone(value, &tz)) {
    return Invalid(
        field,
        absl::StrCat(Quote(value), " is not a known IANA time zone", kExample));
  }
  return absl::OkStatus();
}

absl::Status ValidateTime(const std::string& field,
                          const google::protobuf::Timestamp& ts) {
  // 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z.
  constexpr int64_t kFirst = 0;
  constexpr int64_t kEnd = 7258118400;
  if (ts.nanos() < 0 || ts.nanos() > 999999999) {
    return Invalid(field, "nanos must be between 0 and 999999999");
  }
  if (ts.seconds() < kFirst || ts.seconds() >= kEnd) {
    return Invalid(field, "must lie between 1970-01-01 and 2200-01-01");
  }
  return absl::OkStatus();
}

absl::Status ValidateDurationForm(const std::string& field,
                                  const google::protobuf::Duration& d) {
  if (!IsValidDuration(d)) {
    return Invalid(field,
                   "is not a valid duration (nanos between -999999999 and "
                   "999999999, with the sign of seconds)");
  }
  return absl::OkStatus();
}

absl::Status ValidateVenue(const v1::Venue& venue) {
  RETURN_IF_ERROR(ValidateId("venue.venue_id", venue.venue_id()));
  if (venue.display_name().size() > 200) {
    return Invalid("venue.display_name", "must be at most 200 characters");
  }
  for (const char c : venue.display_name()) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Invalid("venue.display_name",
                     "must not contain control characters (a name is one "
                     "line of text)");
    }
  }
  if (venue.convocation_type() == v1::CONVOCATION_TYPE_UNSPECIFIED ||
      !v1::ConvocationType_IsValid(venue.convocation_type())) {
    return Invalid("venue.convocation_type",
                   "must be one of MUSEUM, AIRPORT, TRAIN_STATION, SALE, "
                   "MEDICAL, OTHER");
  }
  RETURN_IF_ERROR(ValidateTimeZone("venue.time_zone", venue.time_zone()));
  if (venue.service_points() < 1 || venue.service_points() > 1000) {
    return Invalid("venue.service_points", "must be between 1 and 1000");
  }
  if (!venue.has_mean_service_time()) {
    return Invalid("venue.mean_service_time", "is required");
  }
  RETURN_IF_ERROR(ValidateDurationForm("venue.mean_service_time",
                                       venue.mean_service_time()));
  absl::Duration service = ToDuration(venue.mean_service_time());
  if (service < absl::Seconds(1) || service > absl::Hours(24)) {
    return Invalid("venue.mean_service_time",
                   "must be between 1 second and 24 hours");
  }
  if (venue.has_service_time_cv() &&
      !(venue.service_time_cv() >= 0.0 && venue.service_time_cv() <= 3.0)) {
    return Invalid("venue.service_time_cv", "must be between 0 and 3");
  }
  if (venue.has_personal_data_retention_days() &&
      (venue.personal_data_retention_days() < 1 ||
       venue.personal_data_retention_days() > 3650)) {
    return Invalid("venue.personal_data_retention_days",
                   "must be between 1 and 3650 days (unset: 90)");
  }
  return absl::OkStatus();
}

absl::Status ValidateUpsertVenue(const v1::UpsertVenueRequest& request) {
  if (!request.has_venue()) return Invalid("venue", "is required");
  return ValidateVenue(request.venue());
}

absl::Status ValidateCreateSchedule(const v1::CreateScheduleRequest& r,
                                    const Limits& limits) {
  RETURN_IF_ERROR(ValidateId("venue_id", r.venue_id()));
  if (!v1::ConvocationType_IsValid(r.convocation_type())) {
    return Invalid("convocation_type", "is not a known convocation type");
  }
  if (!r.request_id().empty()) {
    RETURN_IF_ERROR(ValidateId("request_id", r.request_id()));
  }
  RETURN_IF_ERROR(ValidateTimestamp("window_start", r.has_window_start(),
                                    r.window_start()));
  RETURN_IF_ERROR(
      ValidateTimestamp("window_end", r.has_window_end(), r.window_end()));
  const absl::Time start = ToTime(r.window_start());
  const absl::Time end = ToTime(r.window_end());
  if (end <= start) return Invalid("window_end", "must be after window_start");
  if (end - start < absl::Minutes(1)) {
    return Invalid("window_end",
                   "must be at least 1 minute after window_start");
  }
  if (end - start > limits.max_window) {
    return Invalid("window_end",
                   absl::StrCat("the window must not exceed ",
                                absl::FormatDuration(limits.max_window)));
  }
  RETURN_IF_ERROR(ValidatePlanning(r.planning(), end - start));
  RETURN_IF_ERROR(ValidateRetiming(r.retiming()));
  if (r.attendees_size() == 0) {
    return Invalid("attendees", "must not be empty");
  }
  if (r.attendees_size() > limits.max_attendees) {
    return Invalid("attendees",
                   absl::StrCat(r.attendees_size(), " exceeds the limit of ",
                                limits.max_attendees, " per schedule"));
  }
  absl::flat_hash_map<std::string, int> seen;
  seen.reserve(r.attendees_size());
  for (int i = 0; i < r.attendees_size(); ++i) {
    const v1::Attendee& a = r.attendees(i);
    const std::string field = absl::StrCat("attendees[", i, "]");
    RETURN_IF_ERROR(ValidateId(field + ".attendee_id", a.attendee_id()));
    auto [it, inserted] = seen.emplace(a.attendee_id(), i);
    if (!inserted) {
      return Invalid(
          field + ".attendee_id",
          absl::StrCat("duplicate of attendees[", it->second, "].attendee_id"));
    }
    if (const size_t bytes = a.ByteSizeLong();
        bytes > static_cast<size_t>(kMaxAttendeeBytes)) {
      return Invalid(field, absl::StrCat("takes ", bytes,
                                         " bytes, more than the limit of ",
                                         kMaxAttendeeBytes, " per attendee"));
    }
    RETURN_IF_ERROR(ValidatePartySize(field + ".party_size", a.party_size()));
    RETURN_IF_ERROR(ValidateFeatures(field + ".features", a.features(),
                                     limits.max_features));
    if (a.has_booking_time()) {
      RETURN_IF_ERROR(
          ValidateTimestamp(field + ".booking_time", true, a.booking_time()));
      if (ToTime(a.booking_time()) > end) {
        return Invalid(field + ".booking_time", "must not be after window_end");
      }
    }
    if (a.has_fixed_convocation_time()) {
      RETURN_IF_ERROR(ValidateTimestamp(field + ".fixed_convocation_time", true,
                                        a.fixed_convocation_time()));
      absl::Time t = ToTime(a.fixed_convocation_time());
      if (t < start || t >= end) {
        return Invalid(field + ".fixed_convocation_time",
                       "must lie inside [window_start, window_end)");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateArrivalEvent(const std::string& field,
                                  const v1::ArrivalEvent& e) {
  RETURN_IF_ERROR(ValidateId(field + ".event_id", e.event_id()));
  RETURN_IF_ERROR(ValidateId(field + ".schedule_id", e.schedule_id()));
  RETURN_IF_ERROR(ValidateId(field + ".attendee_id", e.attendee_id()));
  if (e.kind() == v1::ARRIVAL_KIND_UNSPECIFIED ||
      !v1::ArrivalKind_IsValid(e.kind())) {
    return Invalid(
        field + ".kind",
        "must be ARRIVED, SERVICE_STARTED, SERVICE_ENDED or NO_SHOW");
  }
  RETURN_IF_ERROR(ValidateTimestamp(field + ".observed_at", e.has_observed_at(),
                                    e.observed_at()));
  if (e.device_id().size() > 128) {
    return Invalid(field + ".device_id", "must be at most 128 characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateListSchedules(const v1::ListSchedulesRequest& r,
                                   int64_t* after, int* page_size) {
  RETURN_IF_ERROR(ValidateId("venue_id", r.venue_id()));
  if (r.page_size() < 0 || r.page_size() > 1000) {
    return Invalid("page_size", "must be between 0 and 1000 (0 means 50)");
  }
  *page_size = r.page_size() == 0 ? 50 : r.page_size();
  *after = 0;
  const std::string& token = r.page_token();
  if (!token.empty()) {
    auto [end, ec] =
        std::from_chars(token.data(), token.data() + token.size(), *after);
    if (ec != std::errc() || end != token.data() + token.size() || *after < 0) {
      return Invalid("page_token",
                     "is not a token from a previous ListSchedules");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRecordArrivals(const v1::RecordArrivalsRequest& r,
                                    const Limits& limits) {
  if (r.events_size() == 0) return Invalid("events", "must not be empty");
  if (r.events_size() > limits.max_events_per_batch) {
    return Invalid("events",
                   absl::StrCat(r.events_size(), " exceeds the limit of ",
                                limits.max_events_per_batch, " per call"));
  }
  for (int i = 0; i < r.events_size(); ++i) {
    RETURN_IF_ERROR(
        ValidateArrivalEvent(absl::StrCat("events[", i, "]"), r.events(i)));
  }
  return absl::OkStatus();
}

absl::Status ValidateExplainPrediction(const v1::ExplainPredictionRequest& r) {
  RETURN_IF_ERROR(ValidateId("venue_id", r.venue_id()));
  RETURN_IF_ERROR(
      ValidateId("attendee.attendee_id", r.attendee().attendee_id()));
  if (!v1::ConvocationType_IsValid(r.convocation_type())) {
    return Invalid("convocation_type", "is not a known convocation type");
  }
  RETURN_IF_ERROR(ValidateTimestamp(
      "convocation_time", r.has_convocation_time(), r.convocation_time()));
  RETURN_IF_ERROR(
      ValidatePartySize("attendee.party_size", r.attendee().party_size()));
  RETURN_IF_ERROR(ValidateFeatures("attendee.features", r.attendee().features(),
                                   Limits().max_features));
  if (r.attendee().has_booking_time()) {
    RETURN_IF_ERROR(
        ValidateTime("attendee.booking_time", r.attendee().booking_time()));
  }
  if (r.attendee().has_fixed_convocation_time()) {
    RETURN_IF_ERROR(ValidateTime("attendee.fixed_convocation_time",
                                 r.attendee().fixed_convocation_time()));
  }
  return absl::OkStatus();
}

absl::Status ValidateCreateApiKey(const v1::CreateApiKeyRequest& r) {
  if (r.role() == v1::ROLE_UNSPECIFIED || !v1::Role_IsValid(r.role())) {
    return Invalid("role", "must be ADMIN, VENUE_MANAGER, DEVICE or VIEWER");
  }
  if (r.role() == v1::ADMIN) {
    if (r.venue_ids_size() > 0) {
      return Invalid("venue_ids",
                     "must be empty for an ADMIN key (all venues)");
    }
  } else if (r.venue_ids_size() < 1 || r.venue_ids_size() > 100) {
    return Invalid("venue_ids", "must name 1 to 100 venues");
  }
  absl::flat_hash_map<std::string, int> seen;
  for (int i = 0; i < r.venue_ids_size(); ++i) {
    const std::string field = absl::StrCat("venue_ids[", i, "]");
    RETURN_IF_ERROR(ValidateId(field, r.venue_ids(i)));
    auto [it, inserted] = seen.emplace(r.venue_ids(i), i);
    if (!inserted) {
      return Invalid(field,
                     absl::StrCat("duplicate of venue_ids[", it->second, "]"));
    }
  }
  if (r.description().size() > 200) {
    return Invalid("description", "must be at most 200 characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateKeyId(const std::string& field, const std::string& value) {
  bool ok = value.size() == 16 && value.rfind("key_", 0) == 0;
  for (size_t i = 4; ok && i < value.size(); ++i) {
    const char c = value[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (!ok) return Invalid(field, "must be \"key_\" and 12 hex digits");
  return absl::OkStatus();
}

absl::Status ValidateEraseAttendee(const v1::EraseAttendeeRequest& r) {
  RETURN_IF_ERROR(ValidateId("venue_id", r.venue_id()));
  return ValidateId("attendee_id", r.attendee_id());
}

absl::Status ValidateReportQueue(const v1::ReportQueueRequest& r,
                                 absl::Time now) {
  RETURN_IF_ERROR(ValidateId("venue_id", r.venue_id()));
  RETURN_IF_ERROR(ValidateId("reporter_token", r.reporter_token()));
  if (r.reporter_token().size() < 8) {
    return Invalid("reporter_token", "must be at least 8 characters");
  }
  RETURN_IF_ERROR(
      ValidateTimestamp("observed_at", r.has_observed_at(), r.observed_at()));
  const absl::Time observed = ToTime(r.observed_at());
  if (observed > now + absl::Minutes(5)) {
    return Invalid("observed_at", "must not be in the future");
  }
  if (observed < now - absl::Hours(24)) {
    return Invalid("observed_at", "must be within the last 24 hours");
  }
  if (!r.has_queue_length() && !r.has_waited()) {
    return Invalid("queue_length", "or waited must be set");
  }
  if (r.has_queue_length() &&
      (r.queue_length() < 0 || r.queue_length() > 100000)) {
    return Invalid("queue_length", "must be between 0 and 100000");
  }
  if (r.has_waited()) {
    const google::protobuf::Duration& w = r.waited();
    if (w.seconds() < 0 || w.nanos() < 0 || w.nanos() > 999999999 ||
        w.seconds() > 24 * 3600) {
      return Invalid("waited", "must be between 0 and 24 hours");
    }
  }
  if (r.wait_state() == v1::WAIT_STATE_UNSPECIFIED ||
      !v1::WaitState_IsValid(r.wait_state())) {
    return Invalid("wait_state",
                   "must be WAIT_STATE_WAITING or "
                   "WAIT_STATE_FINISHED");
  }
  return absl::OkStatus();
}

}  // namespace noqueue::server
