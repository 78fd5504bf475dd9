// Shared helpers of the tests: temporary folders, waiting on the store's
// asynchronous writes, and small valid requests to start from.
#ifndef NOQUEUE_TESTS_SUPPORT_TEST_UTIL_H_
#define NOQUEUE_TESTS_SUPPORT_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "noqueue/v1/arrival.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"
#include "proto/base/wire_time.h"

namespace noqueue::testing {

// A fresh folder under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "noqueue-test-XXXXXX")
            .string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Calls `start(done)` and waits for `done` to receive its result.
template <typename T, typename Start>
absl::StatusOr<T> Await(Start start) {
  std::promise<absl::StatusOr<T>> result;
  start([&](absl::StatusOr<T> r) { result.set_value(std::move(r)); });
  return result.get_future().get();
}

// 2026-03-02 09:00 UTC: a Monday morning in the past, so tags are not
// taken for clocks running ahead.
inline absl::Time Morning(int day = 0) {
  return absl::FromCivil(absl::CivilSecond(2026, 3, 2 + day, 9, 0, 0),
                         absl::UTCTimeZone());
}

inline noqueue::v1::Venue ClinicVenue(const std::string& id = "clinic-1") {
  noqueue::v1::Venue v;
  v.set_venue_id(id);
  v.set_display_name("Test clinic");
  v.set_convocation_type(noqueue::v1::MEDICAL);
  v.set_time_zone("Europe/Paris");
  v.set_service_points(2);
  v.mutable_mean_service_time()->set_seconds(10 * 60);
  return v;
}

// A three-hour window at `venue_id` with attendees a-0 .. a-(n-1).
inline noqueue::v1::CreateScheduleRequest ScheduleRequest(
    const std::string& venue_id, int n, int day = 0) {
  noqueue::v1::CreateScheduleRequest r;
  r.set_venue_id(venue_id);
  *r.mutable_window_start() = ToTimestamp(Morning(day));
  *r.mutable_window_end() = ToTimestamp(Morning(day) + absl::Hours(3));
  for (int i = 0; i < n; ++i) {
    r.add_attendees()->set_attendee_id("a-" + std::to_string(i));
  }
  return r;
}

inline noqueue::v1::ArrivalEvent Tag(const std::string& event_id,
                                     const std::string& schedule_id,
                                     const std::string& attendee_id,
                                     noqueue::v1::ArrivalKind kind,
                                     absl::Time at) {
  noqueue::v1::ArrivalEvent e;
  e.set_event_id(event_id);
  e.set_schedule_id(schedule_id);
  e.set_attendee_id(attendee_id);
  e.set_kind(kind);
  *e.mutable_observed_at() = ToTimestamp(at);
  e.set_device_id("gate-1");
  return e;
}

}  // namespace noqueue::testing

#endif  // NOQUEUE_TESTS_SUPPORT_TEST_UTIL_H_
