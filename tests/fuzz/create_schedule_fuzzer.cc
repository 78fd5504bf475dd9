// libFuzzer: arbitrary bytes parsed as a CreateScheduleRequest, then checked
// by the server's own validation. Bytes that do not parse are answered
// INVALID_ARGUMENT before validation (proto/base/unparsable_request.h);
// whatever parses is accepted or refused INVALID_ARGUMENT with a short
// message, and never crashes.
#include <cstddef>
#include <cstdint>

#include "noqueue/v1/scheduling.pb.h"
#include "server/wire/validation.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  noqueue::v1::CreateScheduleRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return -1;
  noqueue::fuzz::CheckRefusal(noqueue::server::ValidateCreateSchedule(
                                  request, noqueue::server::Limits()),
                              absl::StatusCode::kInvalidArgument);
  return 0;
}
