#include "model/service_time_model.h"

#include <algorithm>
#include <cmath>

namespace noqueue::model {
namespace {

constexpr double kMaxMinutes = 12 * 60.0;

double Fade(int64_t from, int64_t to) {
  if (to <= from) return 1.0;
  return std::exp2(-(to - from) /
                   (ServiceTimeModel::kHalfLifeDays * LocalTime::kDaySeconds));
}

}  // namespace

void ServiceTimeModel::Sums::Add(int64_t t, double minutes) {
  double w = 1.0;
  if (weight == 0.0 || t >= at) {
    const double f = weight == 0.0 ? 0.0 : Fade(at, t);
    weight *= f;
    sum *= f;
    sum_sq *= f;
    at = t;
  } else {
    w = Fade(t, at);  // late evidence has faded already
  }
  weight += w;
  sum += w * minutes;
  sum_sq += w * minutes * minutes;
}

ServiceTimeModel::Sums ServiceTimeModel::Sums::At(int64_t t) const {
  Sums s = *this;
  const double f = Fade(at, t);
  s.weight *= f;
  s.sum *= f;
  s.sum_sq *= f;
  return s;
}

void ServiceTimeModel::Add(const std::string& venue_id, LocalTime start,
                           double minutes) {
  if (!(minutes > 0.0) || minutes > kMaxMinutes) return;
  Venue& v = venues_[venue_id];
  const int64_t t = start.seconds();
  v.day.Add(t, minutes);
  v.hours[start.HourOfDay()].Add(t, minutes);
  v.latest = std::max(v.latest, t);
}

ServiceMoments ServiceTimeModel::Shrunk(const Sums& s,
                                        const ServiceMoments& prior,
                                        double mean_weight, double cv_weight) {
  if (s.weight <= 0.0) return prior;
  const double mean = s.sum / s.weight;
  const double var = std::max(0.0, s.sum_sq / s.weight - mean * mean);
  ServiceMoments out;
  out.mean_min =
      (s.sum + mean_weight * prior.mean_min) / (s.weight + mean_weight);
  // The variability as a cv, from the data's own mean (with Bessel's
  // correction once there are a few), shrunk to the prior's.
  const double n = s.weight;
  const double sample_cv =
      mean > 0 ? std::sqrt(var * (n > 1.5 ? n / (n - 1.0) : 1.0)) / mean : 0;
  out.cv = (n * sample_cv + cv_weight * prior.cv) / (n + cv_weight);
  return out;
}

ServiceEstimate ServiceTimeModel::Estimate(
    const std::string& venue_id, const ServiceMoments& declared) const {
  ServiceEstimate e;
  e.day = declared;
  auto it = venues_.find(venue_id);
  if (it == venues_.end()) return e;
  const Venue& v = it->second;
  const Sums day = v.day.At(v.latest);
  e.services = day.weight;
  e.day = Shrunk(day, declared, kMeanPriorWeight, kCvPriorWeight);
  for (int h = 0; h < 24; ++h) {
    const Sums hour = v.hours[h].At(v.latest);
    if (hour.weight < kMinHourServices) continue;
    e.by_hour[h] = Shrunk(hour, e.day, kMeanPriorWeight, kCvPriorWeight);
  }
  return e;
}

}  // namespace noqueue::model
