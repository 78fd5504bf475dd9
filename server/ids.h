// Ids that the server mints for what it stores.
#ifndef NOQUEUE_SERVER_IDS_H_
#define NOQUEUE_SERVER_IDS_H_

#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace noqueue::server {

// A fresh random id with `prefix` ("sch_", "rep_"): 96 random bits in hex.
inline std::string NewId(absl::string_view prefix) {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%s%016x%08x", prefix, absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint32_t>(gen));
}

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_IDS_H_
