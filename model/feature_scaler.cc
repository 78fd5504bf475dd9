#include "model/feature_scaler.h"

#include <algorithm>
#include <cmath>

namespace noqueue::model {

std::optional<int> FeatureScaler::Slot(const std::string& name) const {
  auto it = slots_.find(name);
  if (it == slots_.end()) return std::nullopt;
  return it->second;
}

std::optional<int> FeatureScaler::SlotOrAssign(const std::string& name) {
  if (auto slot = Slot(name)) return slot;
  if (static_cast<int>(names_.size()) >= kMaxFeatures) return std::nullopt;
  const int slot = static_cast<int>(names_.size());
  slots_.emplace(name, slot);
  names_.push_back(name);
  moments_.emplace_back();
  return slot;
}

double FeatureScaler::Standardise(int slot, double value) const {
  const Moments& m = moments_[slot];
  if (m.count < 2.0) return 0.0;
  const double sd = std::sqrt(m.m2 / (m.count - 1.0));
  if (!(sd > 1e-12)) return 0.0;
  return std::clamp((value - m.mean) / sd, -5.0, 5.0);
}

void FeatureScaler::Observe(int slot, double value) {
  Moments& m = moments_[slot];
  m.count += 1.0;
  const double delta = value - m.mean;
  m.mean += delta / m.count;
  m.m2 += delta * (value - m.mean);
}

void FeatureScaler::Write(ByteWriter& w) const {
  w.Put<uint32_t>(static_cast<uint32_t>(names_.size()));
  for (size_t i = 0; i < names_.size(); ++i) {
    w.PutString(names_[i]);
    w.Put<double>(moments_[i].count);
    w.Put<double>(moments_[i].mean);
    w.Put<double>(moments_[i].m2);
  }
}

bool FeatureScaler::Read(ByteReader& r) {
  uint32_t n;
  if (!r.Get(&n) || n > kMaxFeatures) return false;
  slots_.clear();
  names_.assign(n, "");
  moments_.assign(n, Moments{});
  for (uint32_t i = 0; i < n; ++i) {
    if (!r.GetString(&names_[i]) || !r.Get(&moments_[i].count) ||
        !r.Get(&moments_[i].mean) || !r.Get(&moments_[i].m2)) {
      return false;
    }
    slots_.emplace(names_[i], static_cast<int>(i));
  }
  return true;
}

}  // namespace noqueue::model
