// ArrivalModel: predicts when an attendee will really arrive relative to
// their convocation, and whether they will come at all, learning online from
// every tagged arrival.
//
// The offset y = arrival - convocation (minutes) is modelled as
//   y = x'b + u_a + e
// - x: features of the convocation: type, venue-local hour (two harmonics),
//   weekend, party size, lead time, the venue's named numeric features
//   (standardised online), the venue's recent and long-run level, and the
//   attendee's own most recent deviation (fading with time);
// - b: population weights, updated by a Kalman filter with random-walk
//   weights (recursive least squares that keeps adapting), on Huber-clipped
//   residuals so that a few arrivals hours late do not drag it;
// - u_a: the attendee's habit, shrunk towards zero by how little is known of
//   them (empirical Bayes: n / (n + kappa), kappa = within- over
//   between-attendee variance, both learned per type);
// - e: a residual whose skewed distribution is read off decayed histograms
//   of prequential errors, per type, apart for newcomers and known
//   attendees, so that P10..P90 holds about 80% of arrivals.
// No-shows: NoShowModel (FTRL logistic regression on hashed tokens) with the
// attendee's record, offset by the type's literature prior.
//
// Every Learn call first scores the prediction it would have made
// (prequential metrics per type and per venue).
//
//   ArrivalModel m;
//   ArrivalContext ctx;
//   ctx.type = ConvocationType::kMedical;
//   ArrivalForecast f = m.Predict("clinic-1", "ana", ctx);
//   m.LearnArrival("clinic-1", "ana", ctx, /*offset_min=*/-12.0);
//
// Pure computation: no I/O, no clock, no randomness. Not thread-safe: callers
// serialise access (concurrent const calls are fine while nothing learns).
#ifndef NOQUEUE_MODEL_ARRIVAL_MODEL_H_
#define NOQUEUE_MODEL_ARRIVAL_MODEL_H_

#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/convocation_type.h"
#include "model/decayed_histogram.h"
#include "model/feature_scaler.h"
#include "model/no_show_model.h"
#include "model/prequential_metrics.h"

namespace noqueue::model {

// The features that change with what the model learns: the venue's recent
// and long-run levels and the attendee's latest deviation. Read them when the
// prediction is made and hand them back with the outcome (as_predicted), so
// that a label arriving hours later is learned against what was known at
// prediction time, not against what was learned since.
struct DynamicFeatures {
  double venue_recent = 0.0;
  double attendee_recent = 0.0;
  double venue_level = 0.0;
};

// What is known about one convocation when predicting its arrival.
struct ArrivalContext {
  ConvocationType type = ConvocationType::kOther;
  int local_hour = 12;    // 0..23 venue-local, or -1 when unknown
  int local_weekday = 0;  // 0 = Monday .. 6 = Sunday
  double party_size = 1.0;
  double lead_days = -1.0;  // from booking to convocation; < 0 unknown
  absl::Time at = absl::UnixEpoch();   // the convocation
  std::vector<NamedFeature> features;  // finite values only
  // For Learn* calls: the dynamic features as they were when predicted.
  // When absent, they are computed from the model's current state.
  std::optional<DynamicFeatures> as_predicted;
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

// What a prediction is made of: the terms of x'b (minutes), the habit, and
// the residual quantiles added to their sum.
struct Explanation {
  ArrivalForecast forecast;
  std::vector<std::pair<std::string, double>> terms;
  double habit_min = 0.0;
  double habit_raw_min = 0.0;  // before shrinkage
  double shrinkage = 0.0;      // n / (n + kappa)
  double residual_p10_min = 0.0, residual_p50_min = 0.0, residual_p90_min = 0.0;
  double no_show_prior = 0.0;
  int attendee_no_shows = 0;
};

class ArrivalModel {
 public:
  static constexpr int kFixedFeatures = 16;
  static constexpr int kFeatureCount =
      kFixedFeatures + FeatureScaler::kMaxFeatures;
  using Vector = Eigen::Matrix<double, kFeatureCount, 1>;
  using Matrix = Eigen::Matrix<double, kFeatureCount, kFeatureCount>;

  // The snapshot format Serialize writes and Deserialize reads; bumped when
  // the model's state changes shape.
  static constexpr uint32_t kFormatVersion = 3;
  // "noqueue-arrival-model/<kFormatVersion>", as GetModelInfo reports it.
  static std::string VersionName();

  ArrivalModel();

  // Returns the predicted arrival of `attendee_id` at `venue_id` in `ctx`.
  // Unknown venues and attendees get the population's prediction for the
  // type. Unknown feature names are ignored.
  // With `dynamic`, also returns the dynamic features the prediction used.
  ArrivalForecast Predict(const std::string& venue_id,
                          const std::string& attendee_id,
                          const ArrivalContext& ctx,
                          DynamicFeatures* dynamic = nullptr) const;
  Explanation Explain(const std::string& venue_id,
                      const std::string& attendee_id,
                      const ArrivalContext& ctx) const;

  // Learns one observed arrival, `offset_min` = arrival - convocation.
  // Returns false, and learns nothing, when the tag is hours older than what
  // the venue has already learned (counted as kOutOfOrder).
  bool LearnArrival(const std::string& venue_id, const std::string& attendee_id,
                    const ArrivalContext& ctx, double offset_min);
  // Learns that the attendee did not come; false as for LearnArrival.
  bool LearnNoShow(const std::string& venue_id, const std::string& attendee_id,
                   const ArrivalContext& ctx);
  // Learns whether the attendee came when no arrival time is known (a
  // register of attendance): only the no-show side learns.
  bool LearnAttendance(const std::string& venue_id,
                       const std::string& attendee_id,
                       const ArrivalContext& ctx, bool no_show);
  // Counts a tag that was stored but not learned from.
  void CountExclusion(const std::string& venue_id, ConvocationType type,
                      Exclusion reason);

  // Forgets what was learned of one attendee at a venue (their habit and
  // record); the population keeps what they taught it. False when nothing
  // was known of them.
  bool ForgetAttendee(const std::string& venue_id,
                      const std::string& attendee_id);
  // Forgets every attendee of `venue_id` whose id is not in `keep`; returns
  // how many.
  size_t ForgetAttendeesExcept(const std::string& venue_id,
                               const absl::flat_hash_set<std::string>& keep);

  // The attendee's learned habit in minutes after shrinkage (0 when
  // unknown).
  double HabitMinutes(const std::string& venue_id,
                      const std::string& attendee_id,
                      ConvocationType type) const;

  int64_t events_learned() const { return events_learned_; }
  size_t attendee_count() const { return habits_.size(); }
  size_t venue_count() const { return venues_.size(); }
  // Memory held per known attendee (slot, key and hash table overhead).
  double BytesPerAttendee() const;

  const PrequentialMetrics& TypeMetrics(ConvocationType type) const {
    return types_[static_cast<int>(type)].metrics;
  }
  // nullptr when the model has seen nothing of the venue (neither a learned
  // event nor an exclusion).
  const PrequentialMetrics* VenueMetrics(const std::string& venue_id) const;
  std::vector<std::string> VenueIds() const;

  // A byte string from which Deserialize rebuilds an identical model. Equal
  // models serialise to equal bytes.
  std::string Serialize() const;
  static absl::StatusOr<ArrivalModel> Deserialize(const std::string& bytes);

 private:
  struct Habit {
    int32_t arrivals = 0;  // with a measured offset
    int32_t visits = 0;    // outcomes known: came or not
    int32_t no_shows = 0;
    float mean_deviation = 0.0f;  // mean of y - x'b at learning time
    float last_deviation = 0.0f;  // the latest y - static part of x'b
    int32_t last_minute = 0;      // when, minutes since epoch
    int32_t last_no_show = -1;    // -1 none yet, 0 came, 1 did not
  };
  struct VenueState {
    double recent_sum = 0.0, recent_weight = 0.0;
    int64_t recent_minute = 0;
    double level_sum = 0.0, level_count = 0.0;
    int64_t latest_minute = 0;  // the latest convocation learned
    PrequentialMetrics metrics;
  };
  struct TypeState {
    double within_ss = 0.0, within_dof = 0.0;  // pooled within-attendee
    double first_ss = 0.0, first_count = 0.0;  // first-time deviations
    double abs_residual = 0.0;                 // EW mean |residual|
    DecayedHistogram new_residuals;
    DecayedHistogram known_residuals;
    PrequentialMetrics metrics;
  };
  // x and the parts of a prediction, for one convocation.
  struct Design {
    Vector x;
    double population = 0.0;   // x'b
    double static_part = 0.0;  // x'b without the recent/level features
    double habit = 0.0;
    const Habit* habit_state = nullptr;
  };

  Design MakeDesign(const std::string& venue_id, const std::string& key,
                    const ArrivalContext& ctx) const;
  ArrivalForecast ForecastFrom(const Design& d, const std::string& venue_id,
                               const ArrivalContext& ctx) const;
  NoShowTokens TokensFor(const std::string& venue_id, const Habit* h,
                         const ArrivalContext& ctx) const;
  double Kappa(const TypeState& t) const;
  double ShrunkHabit(const Habit& h, const TypeState& t) const;
  bool OutOfOrder(const std::string& venue_id, const ArrivalContext& ctx);
  void ObserveFeatures(const ArrivalContext& ctx);
  void LearnOutcome(const std::string& venue_id, const Habit* h,
                    const ArrivalContext& ctx, bool no_show,
                    PrequentialMetrics& type_metrics,
                    PrequentialMetrics& venue_metrics);

  Vector beta_;
  Matrix p_;
  std::array<TypeState, kConvocationTypeCount> types_;
  FeatureScaler scaler_;
  NoShowModel no_show_;
  absl::flat_hash_map<std::string, VenueState> venues_;
  absl::flat_hash_map<std::string, Habit> habits_;
  int64_t events_learned_ = 0;
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_ARRIVAL_MODEL_H_
