// ArrivalModel: predicts when an attendee will really arrive relative to
// their convocation, and whether they will come at all, learning online from
// every tagged arrival.
//
// The offset y = arrival - convocation (minutes) is modelled as
//   y = x'b + u_a + e
// where x are features of the convocation (type, venue-local hour, weekend,
// party size), b a population regression updated online (a Kalman filter
// with random-walk weights: recursive least squares that keeps adapting), u_a the attendee's habit shrunk towards zero by how little
// is known of them (empirical Bayes: n / (n + kappa), kappa = within-attendee
// variance / between-attendee variance, both learned per type), and e a
// residual whose (skewed) distribution is learned per type from prequential
// errors, so that P10..P90 hold about 80% of arrivals.
//
// No-shows: a per-type rate with a literature prior, and the attendee's own
// record shrunk towards it.
//
//   ArrivalModel m;
//   ArrivalContext ctx{ConvocationType::kMedical, /*hour=*/9, /*weekday=*/0, 1};
//   ArrivalForecast f = m.Predict("clinic-1/ana", ctx);
//   m.LearnArrival("clinic-1/ana", ctx, /*offset_min=*/-12.0);
//
// Pure computation: no I/O, no clock, no randomness. Not thread-safe: callers
// serialise access (many concurrent Predict calls are fine while nothing
// learns).
#ifndef NOQUEUE_MODEL_ARRIVAL_MODEL_H_
#define NOQUEUE_MODEL_ARRIVAL_MODEL_H_

#include <array>
#include <cstdint>
#include <string>

#include <Eigen/Dense>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "model/convocation_type.h"
#include "model/decayed_histogram.h"

namespace noqueue::model {

// What is known about one convocation when predicting its arrival.
struct ArrivalContext {
  ConvocationType type = ConvocationType::kOther;
  int local_hour = 12;    // 0..23, venue-local
  int local_weekday = 0;  // 0 = Monday .. 6 = Sunday
  double party_size = 1.0;
};

// The predicted arrival of one attendee, as offsets from the convocation.
struct ArrivalForecast {
  double p10_min = 0.0;
  double p50_min = 0.0;
  double p90_min = 0.0;
  double no_show_probability = 0.0;
  // Arrivals of this attendee that the model has learned from.
  int attendee_arrivals = 0;
};

// Key of an attendee's habit: attendee ids are chosen by each venue, so the
// same id at two venues is two people.
std::string HabitKey(const std::string& venue_id,
                     const std::string& attendee_id);

class ArrivalModel {
 public:
  static constexpr int kFeatureCount = 10;
  using Vector = Eigen::Matrix<double, kFeatureCount, 1>;
  using Matrix = Eigen::Matrix<double, kFeatureCount, kFeatureCount>;

  ArrivalModel();

  // Returns the predicted arrival of `habit_key` in `ctx`. Unknown attendees
  // get the population's prediction for the type.
  ArrivalForecast Predict(const std::string& habit_key,
                          const ArrivalContext& ctx) const;

  // Learns one observed arrival, `offset_min` = arrival - convocation.
  void LearnArrival(const std::string& habit_key, const ArrivalContext& ctx,
                    double offset_min);

  // Learns that `habit_key` did not come.
  void LearnNoShow(const std::string& habit_key, const ArrivalContext& ctx);

  // Arrivals and no-shows learned so far.
  int64_t events_learned() const { return events_learned_; }
  size_t attendee_count() const { return habits_.size(); }

  // The learned habit of an attendee in minutes (0 when unknown), after
  // shrinkage.
  double HabitMinutes(const std::string& habit_key,
                      ConvocationType type) const;

  // A byte string from which Deserialize rebuilds an identical model. Equal
  // models serialise to equal bytes.
  std::string Serialize() const;
  static absl::StatusOr<ArrivalModel> Deserialize(const std::string& bytes);

 private:
  struct Habit {
    int32_t arrivals = 0;
    int32_t no_shows = 0;
    float mean_deviation = 0.0f;  // mean of y - x'b at learning time
  };
  struct TypeState {
    // Pooled within-attendee variance: sum of Welford m2 and its degrees of
    // freedom, starting from a prior.
    double within_ss = 0.0;
    double within_dof = 0.0;
    // Variance of first-time attendees' deviations: between + within.
    double first_ss = 0.0;
    double first_count = 0.0;
    double shows = 0.0;
    double no_shows = 0.0;
    // Prequential residuals of attendees seen for the first time, and of
    // attendees with a history: a newcomer's arrival is less certain (the
    // spread between attendees adds to theirs), so each keeps its own.
    DecayedHistogram new_residuals;
    DecayedHistogram known_residuals;
  };

  static Vector Features(const ArrivalContext& ctx);
  double Kappa(const TypeState& t) const;
  double ShrunkHabit(const Habit& h, const TypeState& t) const;
  double NoShowProbability(const Habit* h, const TypeState& t,
                           ConvocationType type) const;
  const Habit* FindHabit(const std::string& key) const;

  Vector beta_;
  Matrix p_;
  std::array<TypeState, kConvocationTypeCount> types_;
  absl::flat_hash_map<std::string, Habit> habits_;
  int64_t events_learned_ = 0;
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_ARRIVAL_MODEL_H_
