// PrequentialMetrics: how well the model predicted each tag *before* it
// learned from it, the honest way to score an online learner.
//
// Arrivals: mean absolute error of P50 and the share of arrivals inside
// P10..P90 (calibration: about 0.8 is right). No-shows: log loss and AUC of
// the predicted probability. Each figure is kept twice: over all events, and
// recent (exponentially weighted, a memory of about 2,000 events). Tags that
// were stored but kept out of learning are counted by reason.
#ifndef NOQUEUE_MODEL_PREQUENTIAL_METRICS_H_
#define NOQUEUE_MODEL_PREQUENTIAL_METRICS_H_

#include <array>
#include <cstdint>

#include "model/byte_codec.h"

namespace noqueue::model {

// Why a stored tag was not learned from.
enum class Exclusion : int {
  kRepeat = 0,      // a second outcome for the same convocation
  kFuture = 1,      // observed after it was received: a clock running ahead
  kAbsurd = 2,      // implausibly far from its convocation
  kOutOfOrder = 3,  // hours older than what the venue already learned
};
inline constexpr int kExclusionCount = 4;
inline constexpr std::array<Exclusion, kExclusionCount> kExclusions = {
    Exclusion::kRepeat, Exclusion::kFuture, Exclusion::kAbsurd,
    Exclusion::kOutOfOrder};

// "repeat", "future", "absurd", "out_of_order": as metrics and logs name them.
inline const char* ExclusionName(Exclusion reason) {
  switch (reason) {
    case Exclusion::kRepeat:
      return "repeat";
    case Exclusion::kFuture:
      return "future";
    case Exclusion::kAbsurd:
      return "absurd";
    case Exclusion::kOutOfOrder:
      return "out_of_order";
  }
  return "unknown";
}

class PrequentialMetrics {
 public:
  struct Figures {
    double arrivals = 0.0;  // weight behind the arrival figures
    double mae_p50_min = 0.0;
    double coverage_p10_p90 = 0.0;
    double outcomes = 0.0;  // weight behind the no-show figures
    double log_loss = 0.0;
    double auc = 0.0;
  };

  void AddArrival(double p10, double p50, double p90, double actual);
  void AddOutcome(double no_show_probability, bool no_show);
  void AddExclusion(Exclusion reason) { ++excluded_[static_cast<int>(reason)]; }

  Figures AllTime() const { return Summarise(all_); }
  Figures Recent() const { return Summarise(recent_); }
  int64_t excluded(Exclusion reason) const {
    return excluded_[static_cast<int>(reason)];
  }

  void Write(ByteWriter& w) const;
  bool Read(ByteReader& r);

 private:
  static constexpr int kAucBins = 200;
  struct Sums {
    double arrivals = 0.0, abs_error = 0.0, covered = 0.0;
    double outcomes = 0.0, log_loss = 0.0;
    std::array<double, kAucBins> positives{};  // no-shows by predicted bin
    std::array<double, kAucBins> negatives{};
  };
  static void Add(Sums& s, double weight, double p10, double p50, double p90,
                  double actual);
  static Figures Summarise(const Sums& s);

  Sums all_;
  Sums recent_;
  std::array<int64_t, kExclusionCount> excluded_{};
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_PREQUENTIAL_METRICS_H_
