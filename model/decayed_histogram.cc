#include "model/decayed_histogram.h"

#include <algorithm>
#include <cmath>

namespace noqueue::model {

DecayedHistogram::DecayedHistogram(double lo, double hi, double bin_width,
                                   double decay)
    : lo_(lo),
      bin_width_(bin_width),
      decay_(decay),
      bins_(static_cast<size_t>(std::ceil((hi - lo) / bin_width)), 0.0) {}

void DecayedHistogram::Add(double value) {
  double pos = (value - lo_) / bin_width_;
  long idx = std::lround(std::floor(pos));
  idx = std::clamp<long>(idx, 0, static_cast<long>(bins_.size()) - 1);
  // Age what is there by one observation, then add this one at weight 1.
  unit_ /= decay_;
  if (unit_ > 1e200) Renormalise();
  bins_[idx] += unit_;
  total_ += unit_;
}

void DecayedHistogram::AddNormalPrior(double mean, double sd, double weight) {
  // Spread `weight` over the bins by the normal CDF.
  auto cdf = [&](double x) {
    return 0.5 * std::erfc(-(x - mean) / (sd * std::sqrt(2.0)));
  };
  for (size_t i = 0; i < bins_.size(); ++i) {
    double a = lo_ + bin_width_ * static_cast<double>(i);
    double w = weight * unit_ * (cdf(a + bin_width_) - cdf(a));
    bins_[i] += w;
    total_ += w;
  }
}

double DecayedHistogram::Quantile(double q) const {
  if (total_ <= 0.0) return lo_ + bin_width_ * bins_.size() / 2.0;
  double target = q * total_;
  double cum = 0.0;
  for (size_t i = 0; i < bins_.size(); ++i) {
    double next = cum + bins_[i];
    if (next >= target && bins_[i] > 0.0) {
      double frac = (target - cum) / bins_[i];
      return lo_ + bin_width_ * (static_cast<double>(i) + frac);
    }
    cum = next;
  }
  return lo_ + bin_width_ * static_cast<double>(bins_.size());
}

double DecayedHistogram::TotalWeight() const { return total_ / unit_; }

void DecayedHistogram::SetRaw(std::vector<double> bins, double unit,
                              double total) {
  bins_ = std::move(bins);
  unit_ = unit;
  total_ = total;
}

void DecayedHistogram::Renormalise() {
  for (double& b : bins_) b /= unit_;
  total_ /= unit_;
  unit_ = 1.0;
}

}  // namespace noqueue::model
