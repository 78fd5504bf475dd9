// ServiceTimeModel: how long a venue's services take, learned from the
// services that tags measure (SERVICE_STARTED to SERVICE_ENDED): the mean
// and the variability (coefficient of variation), over the whole day and by
// venue-local hour where enough services stand behind it. Estimates are
// shrunk: the mean towards what the venue declares, the variability towards
// what the venue declares or else its convocation type's prior, each hour
// towards the venue's whole day, by how much evidence there is. Evidence
// fades (a 14-day half-life), so that a venue that changes is followed.
//
//   ServiceTimeModel services;
//   services.Add("clinic-1", LocalTime::At(start, tz), /*minutes=*/13.5);
//   ServiceEstimate e = services.Estimate("clinic-1", {12.0, 0.5});
//
// Pure computation: no I/O, no clock. Not thread-safe.
#ifndef NOQUEUE_MODEL_SERVICE_TIME_MODEL_H_
#define NOQUEUE_MODEL_SERVICE_TIME_MODEL_H_

#include <array>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "model/local_time.h"

namespace noqueue::model {

// A mean service time and its coefficient of variation, minutes.
struct ServiceMoments {
  double mean_min = 5.0;
  double cv = 0.5;
};

struct ServiceEstimate {
  ServiceMoments day;  // the whole day, shrunk to the declared one
  // The services behind it (an exponentially faded count).
  double services = 0.0;
  // By venue-local hour, where at least kMinHourServices stand behind it
  // (shrunk towards `day`).
  std::array<std::optional<ServiceMoments>, 24> by_hour;
};

class ServiceTimeModel {
 public:
  // Services an hour needs before it has an estimate of its own.
  static constexpr double kMinHourServices = 8.0;
  // How many services the declared figures weigh as.
  static constexpr double kMeanPriorWeight = 3.0;
  static constexpr double kCvPriorWeight = 10.0;
  static constexpr double kHalfLifeDays = 14.0;

  // A service at `venue_id` that began at `start` and took `minutes` (> 0;
  // beyond 12 h it is ignored as absurd).
  void Add(const std::string& venue_id, LocalTime start, double minutes);

  // The estimate for a venue that declares `declared` (its mean, and its
  // cv or its type's prior cv).
  ServiceEstimate Estimate(const std::string& venue_id,
                           const ServiceMoments& declared) const;

 private:
  // Faded sums of durations and of their squares.
  struct Sums {
    double weight = 0.0, sum = 0.0, sum_sq = 0.0;
    int64_t at = 0;  // local seconds of the latest evidence
    void Add(int64_t t, double minutes);
    // The sums as of `t` (faded).
    Sums At(int64_t t) const;
  };
  struct Venue {
    Sums day;
    std::array<Sums, 24> hours;
    int64_t latest = 0;
  };
  static ServiceMoments Shrunk(const Sums& s, const ServiceMoments& prior,
                               double mean_weight, double cv_weight);

  absl::flat_hash_map<std::string, Venue> venues_;
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_SERVICE_TIME_MODEL_H_
