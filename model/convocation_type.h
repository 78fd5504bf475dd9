// Convocation types and the priors each one starts from before any data.
//
// The priors come from the literature where it has figures (clinic patients
// arrive 20-25 minutes early on average; no-show rates average 23% across 105
// studies) and are deliberately weak: a few dozen arrivals override them.
#ifndef NOQUEUE_MODEL_CONVOCATION_TYPE_H_
#define NOQUEUE_MODEL_CONVOCATION_TYPE_H_

#include <array>

namespace noqueue::model {

enum class ConvocationType : int {
  kMuseum = 0,
  kAirport = 1,
  kTrainStation = 2,
  kSale = 3,
  kMedical = 4,
  kOther = 5,
};
inline constexpr int kConvocationTypeCount = 6;

// Every type, in order, for loops over them.
inline constexpr std::array<ConvocationType, kConvocationTypeCount>
    kConvocationTypes = {
        ConvocationType::kMuseum,       ConvocationType::kAirport,
        ConvocationType::kTrainStation, ConvocationType::kSale,
        ConvocationType::kMedical,      ConvocationType::kOther};

struct TypePrior {
  double mean_offset_min;    // arrival - convocation
  double offset_spread_min;  // standard deviation of the offset
  double no_show_rate;
  // Coefficient of variation of service times, until a venue's own services
  // (or its declaration) say otherwise.
  double service_cv;
};

// Returns the prior of `type`.
inline const TypePrior& PriorFor(ConvocationType type) {
  static constexpr std::array<TypePrior, kConvocationTypeCount> kPriors = {{
      {0.0, 10.0, 0.10, 0.5},    // museum: timed entry, mostly on time
      {-5.0, 15.0, 0.03, 0.7},   // airport security: passengers rarely skip
      {-5.0, 10.0, 0.03, 0.8},   // train station: tickets, questions
      {-10.0, 15.0, 0.15, 0.6},  // sale or event: eager early birds
      {-20.0, 15.0, 0.20, 0.5},  // medical: come early, 23% no-shows
      {0.0, 15.0, 0.15, 0.5},    // other
  }};
  return kPriors[static_cast<int>(type)];
}

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_CONVOCATION_TYPE_H_
