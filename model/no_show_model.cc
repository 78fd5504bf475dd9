#include "model/no_show_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace noqueue::model {
namespace {

// FTRL-proximal hyper-parameters, chosen on the training days of the
// appointments data (bench/model_eval), never on its test days.
constexpr double kAlpha = 0.08;
constexpr double kBeta = 1.0;
constexpr double kL1 = 0.5;
constexpr double kL2 = 2.0;

// FNV-1a: stable across processes and builds, unlike absl::Hash, so that a
// snapshot restores the same token slots.
uint64_t Fnv(const char* data, size_t n, uint64_t h = 1469598103934665603ULL) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t h = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

void NoShowTokens::Add(const char* group, const std::string& value) {
  uint64_t h = Fnv(group, std::strlen(group));
  h = Fnv("=", 1, h);
  tokens_.push_back(Fnv(value.data(), value.size(), h));
}

void NoShowTokens::Add(const char* group, int64_t value) {
  Add(group, std::to_string(value));
}

void NoShowTokens::Cross(int primary_count) {
  const size_t base = tokens_.size();
  for (int i = 0; i < primary_count && i < static_cast<int>(base); ++i) {
    for (size_t j = i + 1; j < base; ++j) {
      tokens_.push_back(Mix(tokens_[i], tokens_[j]));
    }
  }
}

NoShowModel::NoShowModel()
    : z_(size_t{1} << kLog2Slots, 0.0f), n_(size_t{1} << kLog2Slots, 0.0f) {}

double NoShowModel::Weight(size_t slot) const {
  const double z = z_[slot];
  if (std::abs(z) <= kL1) return 0.0;
  const double sign = z < 0 ? -1.0 : 1.0;
  return -(z - sign * kL1) / ((kBeta + std::sqrt(n_[slot])) / kAlpha + kL2);
}

double NoShowModel::Margin(const std::vector<uint64_t>& tokens,
                           double prior_logit) const {
  const uint64_t mask = (uint64_t{1} << kLog2Slots) - 1;
  double margin = prior_logit;
  for (uint64_t t : tokens) margin += Weight(t & mask);
  return std::clamp(margin, -30.0, 30.0);
}

double NoShowModel::Predict(const std::vector<uint64_t>& tokens,
                            double prior_logit) const {
  return 1.0 / (1.0 + std::exp(-Margin(tokens, prior_logit)));
}

void NoShowModel::Learn(const std::vector<uint64_t>& tokens, double prior_logit,
                        bool no_show) {
  const uint64_t mask = (uint64_t{1} << kLog2Slots) - 1;
  const double p = Predict(tokens, prior_logit);
  const double g = p - (no_show ? 1.0 : 0.0);
  for (uint64_t t : tokens) {
    const size_t slot = t & mask;
    const double w = Weight(slot);
    const double n = n_[slot];
    const double sigma = (std::sqrt(n + g * g) - std::sqrt(n)) / kAlpha;
    z_[slot] = static_cast<float>(z_[slot] + g - sigma * w);
    n_[slot] = static_cast<float>(n + g * g);
  }
}

void NoShowModel::Write(ByteWriter& w) const {
  w.PutVector(z_);
  w.PutVector(n_);
}

bool NoShowModel::Read(ByteReader& r) {
  if (!r.GetVector(&z_) || !r.GetVector(&n_) ||
      z_.size() != (size_t{1} << kLog2Slots) || n_.size() != z_.size()) {
    return false;
  }
  // What learning can have written: n sums squared gradients (in [0, 1]
  // each), z sums gradients and shifts of that size. Past these bounds the
  // state is corrupt: a negative n made NaN weights, a huge z infinite ones
  // (found by model_snapshot_fuzzer).
  constexpr float kMaxSum = 1e15f;
  auto plausible = [](const std::vector<float>& v, float lo) {
    return std::all_of(v.begin(), v.end(),
                       [lo](float x) { return x >= lo && x <= kMaxSum; });
  };
  return plausible(n_, 0.0f) && plausible(z_, -kMaxSum);
}

}  // namespace noqueue::model
