// libFuzzer: arbitrary bytes as an ArrivalModel snapshot (the server stores
// one and restores it at start). A corrupted snapshot is refused DATA_LOSS,
// so that the server rebuilds the model from the log; one that decodes
// predicts, learns, and serialises to bytes that decode to the same model.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/arrival_model.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

using noqueue::fuzz::Require;
using noqueue::model::ArrivalContext;
using noqueue::model::ArrivalModel;
using noqueue::model::ConvocationType;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<ArrivalModel> model = ArrivalModel::Deserialize(
      std::string(reinterpret_cast<const char*>(data), size));
  if (!model.ok()) {
    Require(model.status().code() == absl::StatusCode::kDataLoss,
            "a corrupted snapshot is refused DATA_LOSS");
    return 0;
  }
  const std::string bytes = model->Serialize();
  absl::StatusOr<ArrivalModel> again = ArrivalModel::Deserialize(bytes);
  Require(again.ok(), "what Serialize writes decodes");
  Require(again->Serialize() == bytes, "a decoded model serialises alike");

  ArrivalContext ctx;
  ctx.type = ConvocationType::kMedical;
  ctx.local_hour = 9;
  ctx.local_weekday = 2;
  ctx.lead_days = 3;
  ctx.at = absl::FromUnixSeconds(1767340800);  // 2026-01-02
  ctx.features.push_back({"fuzz_feature", 1.5});
  std::vector<std::string> venues = model->VenueIds();
  venues.push_back("fuzz-venue");
  if (venues.size() > 4) venues.resize(4);
  for (const std::string& venue : venues) {
    model->Predict(venue, "fuzz-attendee", ctx);
    model->Explain(venue, "fuzz-attendee", ctx);
    model->LearnArrival(venue, "fuzz-attendee", ctx, 7.0);
    model->LearnNoShow(venue, "fuzz-other", ctx);
    model->Predict(venue, "fuzz-attendee", ctx);
  }
  Require(ArrivalModel::Deserialize(model->Serialize()).ok(),
          "a restored model that learned still serialises");
  return 0;
}
