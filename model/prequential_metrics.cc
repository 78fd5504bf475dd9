#include "model/prequential_metrics.h"

#include <algorithm>
#include <cmath>

namespace noqueue::model {
namespace {

constexpr double kRecentDecay = 0.9995;

// A NaN probability would go to the first bin (converting it to int was
// undefined, found by model_snapshot_fuzzer); AddOutcome no longer scores one.
int Bin(double p, int bins) {
  if (!(p > 0.0)) return 0;
  if (p >= 1.0) return bins - 1;
  return std::min(static_cast<int>(p * bins), bins - 1);
}

}  // namespace

void PrequentialMetrics::AddArrival(double p10, double p50, double p90,
                                    double actual) {
  // A prediction that is not a number is not scored, and one error counts
  // for at most a year: a model restored from a corrupted (absurd but
  // finite) snapshot must not turn the sums into infinities (found by
  // model_snapshot_fuzzer).
  if (!std::isfinite(p10) || !std::isfinite(p50) || !std::isfinite(p90) ||
      !std::isfinite(actual)) {
    return;
  }
  constexpr double kMaxErrorMinutes = 365.0 * 24 * 60;
  const double error = std::min(std::abs(actual - p50), kMaxErrorMinutes);
  all_.arrivals += 1.0;
  all_.abs_error += error;
  all_.covered += (actual >= p10 && actual <= p90) ? 1.0 : 0.0;
  recent_.arrivals = recent_.arrivals * kRecentDecay + 1.0;
  recent_.abs_error = recent_.abs_error * kRecentDecay + error;
  recent_.covered = recent_.covered * kRecentDecay +
                    ((actual >= p10 && actual <= p90) ? 1.0 : 0.0);
}

void PrequentialMetrics::AddOutcome(double p, bool no_show) {
  if (std::isnan(p)) return;  // not scored (see AddArrival)
  const double clipped = std::clamp(p, 1e-6, 1.0 - 1e-6);
  const double loss = -(no_show ? std::log(clipped) : std::log1p(-clipped));
  const int bin = Bin(p, kAucBins);
  all_.outcomes += 1.0;
  all_.log_loss += loss;
  (no_show ? all_.positives : all_.negatives)[bin] += 1.0;
  recent_.outcomes = recent_.outcomes * kRecentDecay + 1.0;
  recent_.log_loss = recent_.log_loss * kRecentDecay + loss;
  for (int i = 0; i < kAucBins; ++i) {
    recent_.positives[i] *= kRecentDecay;
    recent_.negatives[i] *= kRecentDecay;
  }
  (no_show ? recent_.positives : recent_.negatives)[bin] += 1.0;
}

PrequentialMetrics::Figures PrequentialMetrics::Summarise(const Sums& s) {
  Figures f;
  f.arrivals = s.arrivals;
  if (s.arrivals > 0) {
    f.mae_p50_min = s.abs_error / s.arrivals;
    f.coverage_p10_p90 = s.covered / s.arrivals;
  }
  f.outcomes = s.outcomes;
  if (s.outcomes > 0) f.log_loss = s.log_loss / s.outcomes;
  // AUC from the binned scores: P(score of a no-show > score of a show),
  // ties (same bin) counting one half.
  double pos = 0.0, neg = 0.0, concordant = 0.0, below = 0.0;
  for (int i = 0; i < kAucBins; ++i) {
    concordant += s.positives[i] * (below + 0.5 * s.negatives[i]);
    below += s.negatives[i];
    pos += s.positives[i];
    neg += s.negatives[i];
  }
  f.auc = (pos > 0 && neg > 0) ? concordant / (pos * neg) : 0.5;
  return f;
}

void PrequentialMetrics::Write(ByteWriter& w) const {
  for (const Sums* s : {&all_, &recent_}) {
    for (double v :
         {s->arrivals, s->abs_error, s->covered, s->outcomes, s->log_loss}) {
      w.Put<double>(v);
    }
    for (double v : s->positives) w.Put<double>(v);
    for (double v : s->negatives) w.Put<double>(v);
  }
  for (int64_t n : excluded_) w.Put<int64_t>(n);
}

bool PrequentialMetrics::Read(ByteReader& r) {
  for (Sums* s : {&all_, &recent_}) {
    for (double* v : {&s->arrivals, &s->abs_error, &s->covered, &s->outcomes,
                      &s->log_loss}) {
      if (!r.Get(v)) return false;
    }
    for (double& v : s->positives) {
      if (!r.Get(&v)) return false;
    }
    for (double& v : s->negatives) {
      if (!r.Get(&v)) return false;
    }
  }
  for (int64_t& n : excluded_) {
    if (!r.Get(&n)) return false;
  }
  return true;
}

}  // namespace noqueue::model
