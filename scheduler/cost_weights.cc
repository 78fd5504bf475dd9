#include "scheduler/cost_weights.h"

#include <array>
#include <cmath>
#include <string>

namespace noqueue::scheduler {

CostWeights DefaultCostWeights(model::ConvocationType type) {
  static constexpr std::array<CostWeights, model::kConvocationTypeCount>
      kDefaults = {{
          {1.0, 0.3, 1.0},  // museum
          {1.0, 0.5, 2.0},  // airport security
          {1.0, 0.5, 2.0},  // train station
          {1.0, 0.3, 1.0},  // sale or event
          {1.0, 1.0, 1.5},  // medical
          {1.0, 1.0, 1.5},  // other
      }};
  return kDefaults[static_cast<int>(type)];
}

absl::Status ValidateCostWeights(const char* field, const CostWeights& w) {
  const std::string f(field);
  for (auto [name, value] :
       {std::pair{".wait", w.wait}, std::pair{".idle", w.idle},
        std::pair{".overtime", w.overtime}}) {
    if (!std::isfinite(value) || value < 0.0) {
      return absl::InvalidArgumentError(f + name +
                                        ": must be a finite number >= 0");
    }
  }
  if (w.wait + w.idle + w.overtime <= 0.0) {
    return absl::InvalidArgumentError(
        f + ": at least one of wait, idle and overtime must be positive");
  }
  return absl::OkStatus();
}

}  // namespace noqueue::scheduler
