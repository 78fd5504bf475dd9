#include "model/arrival_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace noqueue::model {
namespace {

// The population weights follow a random walk (a Kalman filter, i.e.
// recursive least squares that keeps adapting): each event adds this
// fraction of a weight's prior variance to it, capped at the prior, so a
// drifting venue is followed while directions no event excites stay bounded.
constexpr double kProcessNoise = 1e-4;
// Prior variances of the weights: type intercepts are free to move (sd 10
// min); the shared hour, weekend and party-size effects start tight (sd 2
// min), or a venue type seen only in the morning would let them absorb its
// intercept and leak it into every other type.
constexpr double kInterceptPriorVariance = 100.0;
constexpr double kEffectPriorVariance = 4.0;
double PriorVariance(int feature) {
  return feature < kConvocationTypeCount ? kInterceptPriorVariance
                                         : kEffectPriorVariance;
}
// Weight of each type's prior, in observations.
constexpr double kPriorVarianceWeight = 10.0;
constexpr double kPriorResidualWeight = 30.0;
constexpr double kPriorNoShowWeight = 20.0;
// An attendee's no-show record is shrunk towards their type's rate as if
// the type's rate had been seen this many times.
constexpr double kNoShowShrinkage = 3.0;
// Residual histogram: one-minute bins over [-4 h, +8 h), memory of ~1,000.
constexpr double kResidualDecay = 0.999;

constexpr char kMagic[] = "NQAM";
constexpr uint32_t kFormatVersion = 2;

class ByteWriter {
 public:
  template <typename T>
  void Put(T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out_.append(buf, sizeof(T));
  }
  void PutString(const std::string& s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(const std::string& in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s) {
    uint32_t n;
    if (!Get(&n) || in_.size() - pos_ < n) return false;
    s->assign(in_, pos_, n);
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == in_.size(); }
  size_t Remaining() const { return in_.size() - pos_; }

 private:
  const std::string& in_;
  size_t pos_ = 0;
};

}  // namespace

std::string HabitKey(const std::string& venue_id,
                     const std::string& attendee_id) {
  return absl::StrCat(venue_id, "\x1f", attendee_id);
}

ArrivalModel::ArrivalModel()
    : beta_(Vector::Zero()), p_(Matrix::Zero()) {
  for (int i = 0; i < kFeatureCount; ++i) p_(i, i) = PriorVariance(i);
  for (int t = 0; t < kConvocationTypeCount; ++t) {
    const TypePrior& prior = PriorFor(static_cast<ConvocationType>(t));
    beta_(t) = prior.mean_offset_min;
    TypeState& s = types_[t];
    double half_var = 0.5 * prior.offset_spread_min * prior.offset_spread_min;
    s.within_ss = half_var * kPriorVarianceWeight;
    s.within_dof = kPriorVarianceWeight;
    s.first_ss = 2.0 * half_var * kPriorVarianceWeight;
    s.first_count = kPriorVarianceWeight;
    s.shows = (1.0 - prior.no_show_rate) * kPriorNoShowWeight;
    s.no_shows = prior.no_show_rate * kPriorNoShowWeight;
    for (DecayedHistogram* h : {&s.new_residuals, &s.known_residuals}) {
      *h = DecayedHistogram(-240.0, 480.0, 1.0, kResidualDecay);
      h->AddNormalPrior(0.0, prior.offset_spread_min, kPriorResidualWeight);
    }
  }
}

ArrivalModel::Vector ArrivalModel::Features(const ArrivalContext& ctx) {
  Vector x = Vector::Zero();
  x(static_cast<int>(ctx.type)) = 1.0;
  double angle = 2.0 * std::numbers::pi * ctx.local_hour / 24.0;
  x(6) = std::sin(angle);
  x(7) = std::cos(angle);
  x(8) = ctx.local_weekday >= 5 ? 1.0 : 0.0;
  x(9) = std::log(std::max(1.0, ctx.party_size));
  return x;
}

double ArrivalModel::Kappa(const TypeState& t) const {
  double within = t.within_ss / t.within_dof;
  double total = t.first_ss / t.first_count;
  double between = std::max(total - within, 0.02 * total);
  return std::clamp(within / between, 0.05, 100.0);
}

double ArrivalModel::ShrunkHabit(const Habit& h, const TypeState& t) const {
  if (h.arrivals == 0) return 0.0;
  double n = h.arrivals;
  return h.mean_deviation * n / (n + Kappa(t));
}

double ArrivalModel::NoShowProbability(const Habit* h, const TypeState& t,
                                       ConvocationType type) const {
  double type_rate = t.no_shows / (t.no_shows + t.shows);
  if (h == nullptr) return type_rate;
  double seen = h->arrivals + h->no_shows;
  return (h->no_shows + kNoShowShrinkage * type_rate) /
         (seen + kNoShowShrinkage);
}

const ArrivalModel::Habit* ArrivalModel::FindHabit(
    const std::string& key) const {
  auto it = habits_.find(key);
  return it == habits_.end() ? nullptr : &it->second;
}

ArrivalForecast ArrivalModel::Predict(const std::string& habit_key,
                                      const ArrivalContext& ctx) const {
  const TypeState& t = types_[static_cast<int>(ctx.type)];
  const Habit* h = FindHabit(habit_key);
  double mu = Features(ctx).dot(beta_) + (h ? ShrunkHabit(*h, t) : 0.0);
  const DecayedHistogram& residuals =
      h && h->arrivals > 0 ? t.known_residuals : t.new_residuals;
  ArrivalForecast f;
  f.p10_min = mu + residuals.Quantile(0.10);
  f.p50_min = mu + residuals.Quantile(0.50);
  f.p90_min = mu + residuals.Quantile(0.90);
  f.no_show_probability = NoShowProbability(h, t, ctx.type);
  f.attendee_arrivals = h ? h->arrivals : 0;
  return f;
}

double ArrivalModel::HabitMinutes(const std::string& habit_key,
                                  ConvocationType type) const {
  const Habit* h = FindHabit(habit_key);
  return h ? ShrunkHabit(*h, types_[static_cast<int>(type)]) : 0.0;
}

void ArrivalModel::LearnArrival(const std::string& habit_key,
                                const ArrivalContext& ctx, double offset_min) {
  TypeState& t = types_[static_cast<int>(ctx.type)];
  Habit& h = habits_[habit_key];
  const Vector x = Features(ctx);
  const double population = x.dot(beta_);
  const double habit = ShrunkHabit(h, t);

  // Prequential residual: what the prediction just before this event missed.
  (h.arrivals > 0 ? t.known_residuals : t.new_residuals)
      .Add(offset_min - population - habit);

  // Population regression, on the offset net of the known habit.
  const double noise_var = t.within_ss / t.within_dof;
  const Vector px = p_ * x;
  const double denom = noise_var + x.dot(px);
  const Vector gain = px / denom;
  beta_ += gain * (offset_min - habit - population);
  p_ -= gain * px.transpose();
  p_ = 0.5 * (p_ + p_.transpose());
  for (int i = 0; i < kFeatureCount; ++i) {
    const double prior = PriorVariance(i);
    p_(i, i) = std::min(p_(i, i) + kProcessNoise * prior, prior);
  }

  // The attendee's habit and the type's variance components.
  const double d = offset_min - population;
  if (h.arrivals == 0) {
    t.first_ss += d * d;
    t.first_count += 1.0;
  }
  h.arrivals += 1;
  const double delta = d - h.mean_deviation;
  h.mean_deviation += static_cast<float>(delta / h.arrivals);
  const double m2_increment = delta * (d - h.mean_deviation);
  if (h.arrivals >= 2) {
    t.within_ss += m2_increment;
    t.within_dof += 1.0;
  }
  t.shows += 1.0;
  ++events_learned_;
}

void ArrivalModel::LearnNoShow(const std::string& habit_key,
                               const ArrivalContext& ctx) {
  TypeState& t = types_[static_cast<int>(ctx.type)];
  habits_[habit_key].no_shows += 1;
  t.no_shows += 1.0;
  ++events_learned_;
}

std::string ArrivalModel::Serialize() const {
  ByteWriter w;
  w.PutString(kMagic);
  w.Put<uint32_t>(kFormatVersion);
  w.Put<int64_t>(events_learned_);
  for (int i = 0; i < kFeatureCount; ++i) w.Put<double>(beta_(i));
  for (int i = 0; i < kFeatureCount * kFeatureCount; ++i) {
    w.Put<double>(p_.data()[i]);
  }
  for (const TypeState& t : types_) {
    for (double v : {t.within_ss, t.within_dof, t.first_ss, t.first_count,
                     t.shows, t.no_shows}) {
      w.Put<double>(v);
    }
    for (const DecayedHistogram* h : {&t.new_residuals, &t.known_residuals}) {
      w.Put<double>(h->raw_unit());
      w.Put<double>(h->raw_total());
      const std::vector<double>& bins = h->raw_bins();
      w.Put<uint32_t>(static_cast<uint32_t>(bins.size()));
      for (double b : bins) w.Put<double>(b);
    }
  }
  std::vector<const std::pair<const std::string, Habit>*> sorted;
  sorted.reserve(habits_.size());
  for (const auto& entry : habits_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  w.Put<uint64_t>(sorted.size());
  for (const auto* entry : sorted) {
    w.PutString(entry->first);
    w.Put<int32_t>(entry->second.arrivals);
    w.Put<int32_t>(entry->second.no_shows);
    w.Put<float>(entry->second.mean_deviation);
  }
  return w.Take();
}

absl::StatusOr<ArrivalModel> ArrivalModel::Deserialize(
    const std::string& bytes) {
  auto corrupt = [](const char* what) {
    return absl::DataLossError(
        absl::StrCat("arrival model snapshot: bad ", what));
  };
  ByteReader r(bytes);
  std::string magic;
  uint32_t version;
  if (!r.GetString(&magic) || magic != kMagic) return corrupt("magic");
  if (!r.Get(&version) || version != kFormatVersion) {
    return corrupt("format version");
  }
  ArrivalModel m;
  if (!r.Get(&m.events_learned_)) return corrupt("header");
  for (int i = 0; i < kFeatureCount; ++i) {
    if (!r.Get(&m.beta_(i))) return corrupt("weights");
  }
  for (int i = 0; i < kFeatureCount * kFeatureCount; ++i) {
    if (!r.Get(&m.p_.data()[i])) return corrupt("covariance");
  }
  for (TypeState& t : m.types_) {
    for (double* v : {&t.within_ss, &t.within_dof, &t.first_ss,
                      &t.first_count, &t.shows, &t.no_shows}) {
      if (!r.Get(v)) return corrupt("type state");
    }
    for (DecayedHistogram* h : {&t.new_residuals, &t.known_residuals}) {
      double unit, total;
      uint32_t n;
      if (!r.Get(&unit) || !r.Get(&total) || !r.Get(&n) ||
          n != h->raw_bins().size()) {
        return corrupt("residual histogram");
      }
      std::vector<double> bins(n);
      for (double& b : bins) {
        if (!r.Get(&b)) return corrupt("residual histogram");
      }
      h->SetRaw(std::move(bins), unit, total);
    }
  }
  uint64_t count;
  // Each habit takes at least kMinHabitBytes: a count that the remaining
  // bytes cannot hold is corrupt (and must not size an allocation).
  constexpr uint64_t kMinHabitBytes = 4 + 4 + 4 + 4;
  if (!r.Get(&count) || count > r.Remaining() / kMinHabitBytes) {
    return corrupt("habit count");
  }
  m.habits_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string key;
    Habit h;
    if (!r.GetString(&key) || !r.Get(&h.arrivals) || !r.Get(&h.no_shows) ||
        !r.Get(&h.mean_deviation)) {
      return corrupt("habit");
    }
    m.habits_.emplace(std::move(key), h);
  }
  if (!r.AtEnd()) return corrupt("trailing bytes");
  return m;
}

}  // namespace noqueue::model
