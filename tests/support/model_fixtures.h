// What the model's tests share: a clock, a medical morning's context, and a
// synthetic clinic of attendees with habits that teaches a model.
#ifndef NOQUEUE_TESTS_SUPPORT_MODEL_FIXTURES_H_
#define NOQUEUE_TESTS_SUPPORT_MODEL_FIXTURES_H_

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "model/arrival_model.h"
#include "model/convocation_type.h"
#include "model/normal.h"

namespace noqueue::model::testing {

// Standard normal quantiles used to state expected values.
using ::noqueue::model::kZ90;
constexpr double kZ75 = 0.6744897501960817;

// 2024-01-01 00:00 UTC in minutes since the epoch: a realistic clock start.
constexpr int64_t kDayOne = 28401120;
constexpr int64_t kMinutesPerDay = 24 * 60;

inline absl::Time AtMinute(int64_t minute) {
  return absl::FromUnixSeconds(minute * 60);
}

inline ArrivalContext MedicalMorning(int64_t at_minute = kDayOne) {
  ArrivalContext ctx;
  ctx.type = ConvocationType::kMedical;
  ctx.local_hour = 9;
  ctx.local_weekday = 1;
  ctx.party_size = 1.0;
  ctx.at = AtMinute(at_minute);
  return ctx;
}

// A context with named features, a lead time and an afternoon hour.
inline ArrivalContext RichContext(int64_t at_minute, double price,
                                  double distance) {
  ArrivalContext ctx = MedicalMorning(at_minute);
  ctx.lead_days = 3.0;
  ctx.local_hour = 14;
  ctx.features = {{"price_eur", price}, {"distance_km", distance}};
  return ctx;
}

// A synthetic clinic: every attendee keeps a habit drawn once, and each visit
// adds fresh noise on top of the population's mean offset.
class Population {
 public:
  Population(int attendees, double mean_offset_min, double habit_sd_min,
             std::mt19937_64& rng, std::string venue = "clinic-1")
      : venue_(std::move(venue)), mean_offset_min_(mean_offset_min) {
    std::normal_distribution<double> habit(0.0, habit_sd_min);
    for (int i = 0; i < attendees; ++i) habits_.push_back(habit(rng));
  }

  int size() const { return static_cast<int>(habits_.size()); }
  const std::string& venue() const { return venue_; }
  std::string Attendee(int i) const { return "patient-" + std::to_string(i); }
  double Offset(int i, double noise_min) const {
    return mean_offset_min_ + habits_[i] + noise_min;
  }

 private:
  std::string venue_;
  double mean_offset_min_;
  std::vector<double> habits_;
};

// Teaches `model` `events` visits of random attendees of `population` with
// normal(0, noise_sd) noise, one convocation every 5 minutes from *clock (a
// clinic's pace: the venue's recent level sees the last couple of hours, and
// an attendee's previous visit has faded by the next one). Advances *clock.
inline void LearnVisits(const Population& population, int events,
                        double noise_sd, std::mt19937_64& rng, int64_t* clock,
                        ArrivalModel* model) {
  std::uniform_int_distribution<int> who(0, population.size() - 1);
  std::normal_distribution<double> noise(0.0, noise_sd);
  for (int e = 0; e < events; ++e) {
    const int i = who(rng);
    *clock += 5;
    REQUIRE(model->LearnArrival(population.venue(), population.Attendee(i),
                                MedicalMorning(*clock),
                                population.Offset(i, noise(rng))));
  }
}

}  // namespace noqueue::model::testing

#endif  // NOQUEUE_TESTS_SUPPORT_MODEL_FIXTURES_H_
