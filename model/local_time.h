// LocalTime: a venue's wall-clock time, what its hour-of-day profiles and
// "today" are measured in. It counts seconds as if the local calendar were
// UTC (the Unix time plus the venue's UTC offset at that instant), so that
// seconds modulo a day give the local time of day, across daylight saving
// changes.
//
//   LocalTime t = LocalTime::At(absl::Now(), paris);
//   int hour = t.HourOfDay();
#ifndef NOQUEUE_MODEL_LOCAL_TIME_H_
#define NOQUEUE_MODEL_LOCAL_TIME_H_

#include <compare>
#include <cstdint>

#include "absl/time/time.h"

namespace noqueue::model {

class LocalTime {
 public:
  static constexpr int64_t kDaySeconds = 24 * 3600;

  constexpr LocalTime() = default;
  // The wall clock of `tz` at `t`.
  static LocalTime At(absl::Time t, const absl::TimeZone& tz) {
    return LocalTime(absl::ToUnixSeconds(t) + tz.At(t).offset);
  }
  static constexpr LocalTime FromSeconds(int64_t seconds) {
    return LocalTime(seconds);
  }

  constexpr int64_t seconds() const { return seconds_; }
  // 0..23.
  constexpr int HourOfDay() const {
    int64_t s = seconds_ % kDaySeconds;
    if (s < 0) s += kDaySeconds;
    return static_cast<int>(s / 3600);
  }

  LocalTime operator+(absl::Duration d) const {
    return LocalTime(seconds_ + absl::ToInt64Seconds(d));
  }
  LocalTime operator-(absl::Duration d) const {
    return LocalTime(seconds_ - absl::ToInt64Seconds(d));
  }
  friend absl::Duration operator-(LocalTime a, LocalTime b) {
    return absl::Seconds(a.seconds_ - b.seconds_);
  }
  friend constexpr auto operator<=>(LocalTime, LocalTime) = default;

 private:
  constexpr explicit LocalTime(int64_t seconds) : seconds_(seconds) {}
  int64_t seconds_ = 0;
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_LOCAL_TIME_H_
