// libFuzzer: arbitrary bytes parsed as an ArrivalEvent (what a tagging device
// streams), then checked by the server's validation, alone and as a batch of
// RecordArrivals: accepted or refused INVALID_ARGUMENT with a short message.
#include <cstddef>
#include <cstdint>

#include "noqueue/v1/arrival.pb.h"
#include "server/wire/validation.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  noqueue::v1::ArrivalEvent event;
  if (!event.ParseFromArray(data, static_cast<int>(size))) return -1;
  const absl::Status alone =
      noqueue::server::ValidateArrivalEvent("events[0]", event);
  noqueue::fuzz::CheckRefusal(alone, absl::StatusCode::kInvalidArgument);
  noqueue::v1::RecordArrivalsRequest batch;
  *batch.add_events() = event;
  const absl::Status in_batch =
      noqueue::server::ValidateRecordArrivals(batch, noqueue::server::Limits());
  noqueue::fuzz::CheckRefusal(in_batch, absl::StatusCode::kInvalidArgument);
  noqueue::fuzz::Require(alone.ok() == in_batch.ok(),
                         "an event and a batch of it are judged alike");
  return 0;
}
