// libFuzzer: arbitrary bytes parsed as an UpsertVenueRequest, then checked by
// the server's validation (time zones are IANA names only, never paths):
// accepted or refused INVALID_ARGUMENT with a short message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "noqueue/v1/venue.pb.h"
#include "server/wire/validation.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  noqueue::v1::UpsertVenueRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return -1;
  const absl::Status status = noqueue::server::ValidateUpsertVenue(request);
  noqueue::fuzz::CheckRefusal(status, absl::StatusCode::kInvalidArgument);
  if (status.ok()) {
    const std::string& zone = request.venue().time_zone();
    noqueue::fuzz::Require(!zone.empty() && zone[0] != '/' &&
                               zone.find("..") == std::string::npos &&
                               zone.find('\0') == std::string::npos,
                           "an accepted time zone is never a path");
  }
  return 0;
}
