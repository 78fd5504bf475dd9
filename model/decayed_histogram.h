// A histogram of residuals whose old observations fade away, and the
// quantiles read off it.
//
// Arrival offsets are skewed (a few very late arrivals, most a little early),
// so a normal assumption on residuals is wrong in the tails. This keeps the
// empirical distribution instead, at one-minute resolution, with exponential
// forgetting so that it follows a venue whose behaviour drifts.
//
//   DecayedHistogram h(/*decay=*/0.999);
//   h.Add(-3.5);
//   double p90 = h.Quantile(0.9);
#ifndef NOQUEUE_MODEL_DECAYED_HISTOGRAM_H_
#define NOQUEUE_MODEL_DECAYED_HISTOGRAM_H_

#include <vector>

namespace noqueue::model {

class DecayedHistogram {
 public:
  // Bins of `bin_width` covering [lo, hi); values outside are clamped into
  // the edge bins. `decay` in (0, 1] is the weight an observation keeps
  // after each later one.
  DecayedHistogram(double lo = -240.0, double hi = 480.0,
                   double bin_width = 1.0, double decay = 0.999);

  // Adds one observation of weight 1 (today's weight).
  void Add(double value);
  // Adds a normal(mean, sd) prior worth `weight` observations.
  void AddNormalPrior(double mean, double sd, double weight);

  // Returns the q-quantile (0 < q < 1), interpolated inside its bin. With no
  // observations at all, returns the middle of the range.
  double Quantile(double q) const;

  // Total weight, in units of today's observations.
  double TotalWeight() const;

  const std::vector<double>& raw_bins() const { return bins_; }
  double raw_unit() const { return unit_; }
  double raw_total() const { return total_; }
  // Restores the exact state read off raw_bins(), raw_unit(), raw_total().
  void SetRaw(std::vector<double> bins, double unit, double total);

 private:
  void Renormalise();

  double lo_;
  double bin_width_;
  double decay_;
  // Rather than multiplying every bin by decay_ at each Add, the latest
  // observation has weight unit_, which grows by 1/decay_ at each Add.
  double unit_ = 1.0;
  double total_ = 0.0;
  std::vector<double> bins_;
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_DECAYED_HISTOGRAM_H_
