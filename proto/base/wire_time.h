// Conversions between the wire's google.protobuf.Timestamp / Duration and
// absl::Time / absl::Duration, shared by the server, the clients and the
// benchmarks. Inside NoQueue, time is absl::Time and absl::Duration; these
// are the only place where the wire's types are turned into them.
//
//   absl::Time start = ToTime(request.window_start());
//   *convocation.mutable_convocation_time() = ToTimestamp(start);
#ifndef NOQUEUE_PROTO_BASE_WIRE_TIME_H_
#define NOQUEUE_PROTO_BASE_WIRE_TIME_H_

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <cmath>
#include <cstdint>

#include "absl/time/time.h"

namespace noqueue {

// The range google.protobuf.Timestamp allows: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z, with nanos in [0, 1e9).
inline bool IsValidTimestamp(const google::protobuf::Timestamp& ts) {
  return ts.seconds() >= -62135596800 && ts.seconds() <= 253402300799 &&
         ts.nanos() >= 0 && ts.nanos() <= 999999999;
}

// What google.protobuf.Duration allows: |seconds| <= 315,576,000,000, nanos
// in (-1e9, 1e9) with the sign of seconds.
inline bool IsValidDuration(const google::protobuf::Duration& d) {
  if (d.seconds() < -315576000000 || d.seconds() > 315576000000) return false;
  if (d.nanos() <= -1000000000 || d.nanos() >= 1000000000) return false;
  return !(d.seconds() > 0 && d.nanos() < 0) &&
         !(d.seconds() < 0 && d.nanos() > 0);
}

inline absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

inline google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  int64_t seconds = nanos / 1000000000;
  int64_t rest = nanos % 1000000000;
  if (rest < 0) {
    rest += 1000000000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rest));
  return ts;
}

inline absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

inline google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  google::protobuf::Duration out;
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out.set_seconds(nanos / 1000000000);
  out.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return out;
}

// Minutes, the unit of the model's offsets and of the scheduler, as an
// absl::Duration, and back.
inline absl::Duration FromMinutes(double minutes) {
  return absl::Seconds(minutes * 60.0);
}
inline double ToMinutes(absl::Duration d) { return absl::ToDoubleMinutes(d); }

// Minutes on the wire: rounded to the second.
inline google::protobuf::Duration MinutesToDuration(double minutes) {
  return ToProtoDuration(absl::Seconds(std::round(minutes * 60.0)));
}
// `t` plus `minutes`, rounded to the second (the convocation times and
// predicted arrivals a schedule states).
inline absl::Time AddMinutes(absl::Time t, double minutes) {
  return t + absl::Seconds(std::round(minutes * 60.0));
}

}  // namespace noqueue

#endif  // NOQUEUE_PROTO_BASE_WIRE_TIME_H_
