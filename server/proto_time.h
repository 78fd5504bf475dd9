// Conversions between the wire's Timestamp/Duration, absl::Time and the
// integer microseconds that the store keeps.
#ifndef NOQUEUE_SERVER_PROTO_TIME_H_
#define NOQUEUE_SERVER_PROTO_TIME_H_

#include <cmath>
#include <cstdint>

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace noqueue::server {

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

inline int64_t ToMicros(const google::protobuf::Timestamp& ts) {
  return absl::ToUnixMicros(ToTime(ts));
}

inline google::protobuf::Timestamp MicrosToTimestamp(int64_t us) {
  return ToTimestamp(absl::FromUnixMicros(us));
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

inline google::protobuf::Duration MinutesToDuration(double minutes) {
  return ToProtoDuration(absl::Seconds(std::round(minutes * 60.0)));
}

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_PROTO_TIME_H_
