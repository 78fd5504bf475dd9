#include "scheduler/exact_evaluator.h"

#include <algorithm>
#include <cmath>

namespace noqueue::scheduler {

ExactSlotEvaluator::ExactSlotEvaluator(const SlotInstance& instance,
                                       int max_attendees)
    : instance_(instance), max_(std::max(max_attendees, 0)) {
  const double mu = 1.0 / instance.mean_service_min;
  const double lambda = mu * instance.slot_min;
  poisson_.resize(max_ + 2);
  tail_.resize(max_ + 2);
  double p = std::exp(-lambda), cdf = 0.0;
  for (int k = 0; k < max_ + 2; ++k) {
    poisson_[k] = p;
    tail_[k] = std::max(0.0, 1.0 - cdf);
    cdf += p;
    p *= lambda / (k + 1);
  }
  // With i present, the k-th departure happens before the slot ends with
  // probability P(D >= k); the integral of P(D(s) = k) over the slot is
  // P(D >= k + 1) / mu. Those left at any instant, minus the one in service,
  // wait.
  slot_wait_.assign(max_ + 1, 0.0);
  slot_idle_.assign(max_ + 1, instance.slot_min);
  for (int i = 1; i <= max_; ++i) {
    double wait = 0.0, nonempty = 0.0;
    for (int k = 0; k < i; ++k) {
      wait += (i - 1 - k) * tail_[k + 1] / mu;
      nonempty += tail_[k + 1] / mu;
    }
    slot_wait_[i] = wait;
    slot_idle_[i] = std::max(0.0, instance.slot_min - nonempty);
  }
  const double show = 1.0 - instance.no_show_probability;
  binomial_.resize(max_ + 1);
  for (int x = 0; x <= max_; ++x) {
    binomial_[x].assign(x + 1, 0.0);
    for (int a = 0; a <= x; ++a) {
      binomial_[x][a] = std::exp(std::lgamma(x + 1.0) - std::lgamma(a + 1.0) -
                                 std::lgamma(x - a + 1.0)) *
                        std::pow(show, a) * std::pow(1.0 - show, x - a);
    }
  }
}

SlotKpis ExactSlotEvaluator::Evaluate(const std::vector<int>& counts) const {
  const double mu = 1.0 / instance_.mean_service_min;
  SlotKpis kpis;
  std::vector<double> present(max_ + 1, 0.0), next(max_ + 1, 0.0);
  present[0] = 1.0;
  int reachable = 0;  // largest number that can be present
  for (int t = 0; t < instance_.slots; ++t) {
    const int x = counts[t];
    // Arrivals who come join those present.
    if (x > 0) {
      std::fill(next.begin(), next.end(), 0.0);
      for (int i = 0; i <= reachable; ++i) {
        if (present[i] == 0.0) continue;
        for (int a = 0; a <= x; ++a)
          next[i + a] += present[i] * binomial_[x][a];
      }
      reachable += x;
      present.swap(next);
    }
    // One slot of service.
    std::fill(next.begin(), next.end(), 0.0);
    for (int i = 0; i <= reachable; ++i) {
      const double p = present[i];
      if (p == 0.0) continue;
      kpis.total_wait_min += p * slot_wait_[i];
      kpis.idle_min += p * slot_idle_[i];
      for (int k = 0; k < i; ++k) next[i - k] += p * poisson_[k];
      next[0] += p * tail_[i];
    }
    present.swap(next);
  }
  // Whoever is left at closing is served in overtime, one after the other.
  for (int j = 1; j <= reachable; ++j) {
    kpis.overtime_min += present[j] * j / mu;
    kpis.total_wait_min += present[j] * (j * (j - 1) / 2.0) / mu;
  }
  return kpis;
}

std::vector<int> CountsFromMinutes(const SlotInstance& instance,
                                   const std::vector<double>& convocation_min) {
  std::vector<int> counts(instance.slots, 0);
  for (double m : convocation_min) {
    int t = static_cast<int>(std::floor(m / instance.slot_min + 1e-9));
    counts[std::clamp(t, 0, instance.slots - 1)] += 1;
  }
  return counts;
}

}  // namespace noqueue::scheduler
