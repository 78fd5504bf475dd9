// libFuzzer: arbitrary bytes as a CSV file of attendees and of arrival tags
// (what `noqueue` reads and the tagging device's spool keeps). The reader
// accepts or refuses INVALID_ARGUMENT and never crashes; tags it accepts
// come back identical through ArrivalsToCsv, as the spool relies on.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "clients/csv_io.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

// The client's messages quote what they refuse whole (it reads local files,
// so they are not bounded): only the code is checked.
void CheckCode(const absl::Status& status) {
  noqueue::fuzz::Require(
      status.ok() || status.code() == absl::StatusCode::kInvalidArgument,
      "the CSV reader refuses with INVALID_ARGUMENT only");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  CheckCode(noqueue::client::ParseCsv(text).status());
  CheckCode(noqueue::client::AttendeesFromCsv(text).status());
  absl::StatusOr<std::vector<noqueue::v1::ArrivalEvent>> events =
      noqueue::client::ArrivalsFromCsv(text);
  CheckCode(events.status());
  if (!events.ok()) return 0;
  const std::string written = noqueue::client::ArrivalsToCsv(*events);
  absl::StatusOr<std::vector<noqueue::v1::ArrivalEvent>> again =
      noqueue::client::ArrivalsFromCsv(written);
  noqueue::fuzz::Require(again.ok(), "written tags read back");
  noqueue::fuzz::Require(again->size() == events->size(),
                         "as many tags read back as written");
  for (size_t i = 0; i < events->size(); ++i) {
    noqueue::fuzz::Require(google::protobuf::util::MessageDifferencer::Equals(
                               (*events)[i], (*again)[i]),
                           "a tag reads back identical");
  }
  return 0;
}
