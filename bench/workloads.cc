#include "bench/workloads.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proto/base/wire_time.h"

namespace noqueue::bench {

v1::Venue BenchVenue(int n) {
  v1::Venue v;
  v.set_venue_id(absl::StrCat("bench-", n));
  v.set_display_name(absl::StrCat("Benchmark venue for ", n));
  v.set_convocation_type(v1::TRAIN_STATION);
  v.set_time_zone("Europe/Paris");
  v.set_service_points(std::max(1, static_cast<int>(std::ceil(n / 136.0))));
  v.mutable_mean_service_time()->set_seconds(90);
  return v;
}

absl::Time Day() {
  // Yesterday morning: tags on it are in the past, as real ones are.
  return absl::FromCivil(absl::CivilDay(absl::ToCivilDay(absl::Now(),
                                                         absl::UTCTimeZone())) -
                             1,
                         absl::UTCTimeZone()) +
         absl::Hours(8);
}

v1::CreateScheduleRequest ScheduleRequest(int n, int days_before) {
  v1::CreateScheduleRequest r;
  r.set_venue_id(absl::StrCat("bench-", n));
  const absl::Time start = Day() - absl::Hours(24) * days_before;
  *r.mutable_window_start() = ToTimestamp(start);
  *r.mutable_window_end() = ToTimestamp(start + absl::Hours(4));
  for (int i = 0; i < n; ++i) {
    v1::Attendee* a = r.add_attendees();
    a->set_attendee_id(absl::StrCat("traveller-", i));
    a->set_party_size(1 + i % 3);
    (*a->mutable_features())["fare_class"] = i % 4;
  }
  return r;
}

std::string ScheduleWorkload(int n, std::optional<double> budget_ms) {
  return budget_ms
             ? absl::StrCat("CreateSchedule/", n, " budget=", *budget_ms, "ms")
             : absl::StrCat("CreateSchedule/", n);
}

v1::ReportQueueRequest Report(const std::string& venue_id, int64_t i) {
  v1::ReportQueueRequest r;
  r.set_venue_id(venue_id);
  *r.mutable_observed_at() = ToTimestamp(absl::Now());
  r.set_queue_length(static_cast<int32_t>(5 + i % 20));
  r.mutable_waited()->set_seconds(60 * (4 + i % 15));
  r.set_wait_state(v1::WAIT_STATE_FINISHED);
  r.set_reporter_token(absl::StrCat("bench-reporter-", i));
  return r;
}

}  // namespace noqueue::bench
