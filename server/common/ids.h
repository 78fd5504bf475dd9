// Ids that the server mints for what it stores.
#ifndef NOQUEUE_SERVER_COMMON_IDS_H_
#define NOQUEUE_SERVER_COMMON_IDS_H_

#include <cstdint>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace noqueue::server {

// A fresh id with `prefix` ("sch_", "rep_"): the milliseconds since the Unix
// epoch (48 bits), then 64 random bits, in hex. Ids made in a later
// millisecond sort later (as UUIDv7 does; within one, in random order), so
// the b-trees keyed by them (the schedules' and the crowd reports' unique
// ids, convocations by schedule, schedule events) grow at their right edge:
// a commit rewrites the last page of each rather than a random page of each.
// An id thus tells when it was made, as the record it names does anyway.
inline std::string NewId(absl::string_view prefix) {
  thread_local absl::BitGen gen;
  const int64_t ms = absl::ToUnixMillis(absl::Now());
  return absl::StrFormat("%s%012x%016x", prefix,
                         static_cast<uint64_t>(ms) & 0xffffffffffffu,
                         absl::Uniform<uint64_t>(gen));
}

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_COMMON_IDS_H_
