// FeatureScaler: standardises the venues' named numeric features online
// (running mean and variance per name), so that a feature in euros and one
// in kilometres weigh alike. The first kMaxFeatures names get a slot; later
// names are ignored (safely: they change nothing).
#ifndef NOQUEUE_MODEL_FEATURE_SCALER_H_
#define NOQUEUE_MODEL_FEATURE_SCALER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "model/byte_codec.h"

namespace noqueue::model {

struct NamedFeature {
  std::string name;
  double value = 0.0;
};

class FeatureScaler {
 public:
  static constexpr int kMaxFeatures = 24;

  // The slot of `name`, if it has one.
  std::optional<int> Slot(const std::string& name) const;
  // The slot of `name`, assigning the next free one on first sight.
  std::optional<int> SlotOrAssign(const std::string& name);

  // z-score of `value` in `slot`, clipped to [-5, 5]; 0 until the slot has
  // seen two values.
  double Standardise(int slot, double value) const;
  // Learns one value of `slot`.
  void Observe(int slot, double value);

  const std::vector<std::string>& names() const { return names_; }

  void Write(ByteWriter& w) const;
  bool Read(ByteReader& r);

 private:
  struct Moments {
    double count = 0.0, mean = 0.0, m2 = 0.0;
  };
  absl::flat_hash_map<std::string, int> slots_;
  std::vector<std::string> names_;
  std::vector<Moments> moments_;
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_FEATURE_SCALER_H_
