#include "model/arrival_model.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/byte_codec.h"

namespace noqueue::model {
namespace {

// The convocation's minute since the Unix epoch: the clock of the model's
// recency and ordering rules.
int64_t MinuteOf(const ArrivalContext& ctx) {
  return absl::ToUnixSeconds(ctx.at) / 60;
}

// The habit key of an attendee at a venue. The venue id is length-prefixed so
// that no pair of ids, whatever bytes they hold, shares a key.
std::string HabitKey(const std::string& venue_id,
                     const std::string& attendee_id) {
  return absl::StrCat(venue_id.size(), ":", venue_id, attendee_id);
}

// Feature layout of x.
constexpr int kHourSin = 6, kHourCos = 7, kHour2Sin = 8, kHour2Cos = 9;
constexpr int kWeekend = 10, kParty = 11, kLead = 12;
constexpr int kVenueRecent = 13, kAttendeeRecent = 14, kVenueLevel = 15;
constexpr int kNamed = ArrivalModel::kFixedFeatures;

const char* const kTermNames[ArrivalModel::kFixedFeatures] = {
    "type:museum", "type:airport", "type:train_station",
    "type:sale",   "type:medical", "type:other",
    "hour",        "hour",         "hour",
    "hour",        "weekend",      "party_size",
    "lead_time",   "venue_recent", "attendee_recent",
    "venue_level"};

// Prior variances of the weights: type intercepts are free to move (sd 10
// min); the shared effects start tight (sd 2 min), or a type seen only in
// the morning would let them absorb its intercept and leak it into the
// others. The level features start near their natural weight (1) but free.
double PriorVariance(int feature) {
  if (feature < kConvocationTypeCount) return 100.0;
  if (feature == kVenueRecent || feature == kAttendeeRecent ||
      feature == kVenueLevel) {
    return 1.0;
  }
  return 4.0;
}
// The weights follow a random walk: each event adds this fraction of a
// weight's prior variance to it, capped at the prior.
constexpr double kProcessNoise = 1e-4;
// Residuals beyond this many mean absolute residuals are clipped (Huber)
// before they move the weights.
constexpr double kHuberClip = 2.5;
// Time constants of the recent levels, minutes.
constexpr double kVenueRecentTau = 120.0;
constexpr double kAttendeeRecentTau = 180.0;
// A venue's long-run level is shrunk as if this many events said zero.
constexpr double kVenueLevelShrinkage = 20.0;
// Learnable tags hours older than what the venue already learned are out of
// order: learning them would score a past the model has moved on from.
constexpr int64_t kOutOfOrderMinutes = 6 * 60;
constexpr double kPriorVarianceWeight = 10.0;
constexpr double kPriorResidualWeight = 30.0;
constexpr double kResidualDecay = 0.999;
constexpr double kAbsResidualDecay = 0.999;

constexpr char kMagic[] = "NQAM";

double Logit(double p) { return std::log(p / (1.0 - p)); }

std::string LeadBand(double days) {
  if (days < 0) return "unknown";
  if (days < 1) return "0";
  if (days < 2) return "1";
  if (days < 4) return "2-3";
  if (days < 8) return "4-7";
  if (days < 15) return "8-14";
  if (days < 31) return "15-30";
  if (days < 61) return "31-60";
  return "61+";
}

int64_t CountBand(int n) {
  if (n < 3) return n;
  if (n < 5) return 3;
  if (n < 10) return 5;
  return 10;
}

}  // namespace

std::string ArrivalModel::VersionName() {
  return "noqueue-arrival-model/" + std::to_string(kFormatVersion);
}

ArrivalModel::ArrivalModel() : beta_(Vector::Zero()), p_(Matrix::Zero()) {
  for (int i = 0; i < kFeatureCount; ++i) p_(i, i) = PriorVariance(i);
  beta_(kVenueRecent) = 0.5;
  beta_(kAttendeeRecent) = 0.3;
  beta_(kVenueLevel) = 1.0;
  for (int t = 0; t < kConvocationTypeCount; ++t) {
    const TypePrior& prior = PriorFor(static_cast<ConvocationType>(t));
    beta_(t) = prior.mean_offset_min;
    TypeState& s = types_[t];
    const double half_var =
        0.5 * prior.offset_spread_min * prior.offset_spread_min;
    s.within_ss = half_var * kPriorVarianceWeight;
    s.within_dof = kPriorVarianceWeight;
    s.first_ss = 2.0 * half_var * kPriorVarianceWeight;
    s.first_count = kPriorVarianceWeight;
    s.abs_residual = 0.8 * prior.offset_spread_min;
    for (DecayedHistogram* h : {&s.new_residuals, &s.known_residuals}) {
      *h = DecayedHistogram(-240.0, 480.0, 1.0, kResidualDecay);
      h->AddNormalPrior(0.0, prior.offset_spread_min, kPriorResidualWeight);
    }
  }
}

double ArrivalModel::Kappa(const TypeState& t) const {
  const double within = t.within_ss / t.within_dof;
  const double total = t.first_ss / t.first_count;
  const double between = std::max(total - within, 0.02 * total);
  return std::clamp(within / between, 0.05, 100.0);
}

double ArrivalModel::ShrunkHabit(const Habit& h, const TypeState& t) const {
  if (h.arrivals == 0) return 0.0;
  const double n = h.arrivals;
  return h.mean_deviation * n / (n + Kappa(t));
}

ArrivalModel::Design ArrivalModel::MakeDesign(const std::string& venue_id,
                                              const std::string& key,
                                              const ArrivalContext& ctx) const {
  Design d;
  Vector& x = d.x;
  x.setZero();
  x(static_cast<int>(ctx.type)) = 1.0;
  if (ctx.local_hour >= 0) {
    const double angle = 2.0 * std::numbers::pi * ctx.local_hour / 24.0;
    x(kHourSin) = std::sin(angle);
    x(kHourCos) = std::cos(angle);
    x(kHour2Sin) = std::sin(2.0 * angle);
    x(kHour2Cos) = std::cos(2.0 * angle);
  }
  x(kWeekend) = ctx.local_weekday >= 5 ? 1.0 : 0.0;
  x(kParty) = std::log(std::max(1.0, ctx.party_size));
  x(kLead) = ctx.lead_days >= 0 ? std::log1p(ctx.lead_days) : 0.0;
  for (const NamedFeature& f : ctx.features) {
    if (auto slot = scaler_.Slot(f.name)) {
      x(kNamed + *slot) = scaler_.Standardise(*slot, f.value);
    }
  }
  d.static_part = x.dot(beta_);
  if (auto v = venues_.find(venue_id); v != venues_.end()) {
    const VenueState& s = v->second;
    const double age = std::max<double>(0.0, MinuteOf(ctx) - s.recent_minute);
    const double fade = std::exp(-age / kVenueRecentTau);
    x(kVenueRecent) = s.recent_sum * fade / (s.recent_weight * fade + 1.0);
    x(kVenueLevel) = s.level_sum / (s.level_count + kVenueLevelShrinkage);
  }
  auto h = habits_.find(key);
  if (h != habits_.end()) {
    d.habit_state = &h->second;
    if (h->second.arrivals > 0) {
      const double age =
          std::max<double>(0.0, MinuteOf(ctx) - h->second.last_minute);
      x(kAttendeeRecent) =
          h->second.last_deviation * std::exp(-age / kAttendeeRecentTau);
    }
    d.habit = ShrunkHabit(h->second, types_[static_cast<int>(ctx.type)]);
  }
  if (ctx.as_predicted) {
    x(kVenueRecent) = ctx.as_predicted->venue_recent;
    x(kAttendeeRecent) = ctx.as_predicted->attendee_recent;
    x(kVenueLevel) = ctx.as_predicted->venue_level;
  }
  d.population = x.dot(beta_);
  return d;
}

NoShowTokens ArrivalModel::TokensFor(const std::string& venue_id,
                                     const Habit* h,
                                     const ArrivalContext& ctx) const {
  NoShowTokens t;
  const int visits = h ? h->visits : 0;
  // The primaries, crossed with everything else.
  t.Add("lead", LeadBand(ctx.lead_days));
  t.Add("visits", CountBand(visits));
  t.Add("no_shows", CountBand(h ? h->no_shows : 0));
  t.Add("bias", 0);
  t.Add("type", static_cast<int>(ctx.type));
  t.Add("venue", venue_id);
  t.Add("weekday", ctx.local_weekday);
  if (ctx.local_hour >= 0) t.Add("hour", ctx.local_hour);
  t.Add("last", h ? h->last_no_show : -1);
  t.Add("party",
        CountBand(static_cast<int>(std::isfinite(ctx.party_size)
                                       ? std::clamp(ctx.party_size, 0.0, 1000.0)
                                       : 0.0)));
  for (const NamedFeature& f : ctx.features) {
    if (auto slot = scaler_.Slot(f.name)) {
      const double z = scaler_.Standardise(*slot, f.value);
      t.Add(f.name.c_str(),
            static_cast<int64_t>(std::floor(std::clamp(z, -2.0, 1.99) * 2.0)));
    }
  }
  t.Cross(3);
  return t;
}

ArrivalForecast ArrivalModel::ForecastFrom(const Design& d,
                                           const std::string& venue_id,
                                           const ArrivalContext& ctx) const {
  const TypeState& t = types_[static_cast<int>(ctx.type)];
  const double mu = d.population + d.habit;
  const bool known = d.habit_state && d.habit_state->arrivals > 0;
  const DecayedHistogram& residuals =
      known ? t.known_residuals : t.new_residuals;
  ArrivalForecast f;
  f.p10_min = mu + residuals.Quantile(0.10);
  f.p50_min = mu + residuals.Quantile(0.50);
  f.p90_min = mu + residuals.Quantile(0.90);
  f.no_show_probability =
      no_show_.Predict(TokensFor(venue_id, d.habit_state, ctx).tokens(),
                       Logit(PriorFor(ctx.type).no_show_rate));
  f.attendee_arrivals = d.habit_state ? d.habit_state->arrivals : 0;
  return f;
}

ArrivalForecast ArrivalModel::Predict(const std::string& venue_id,
                                      const std::string& attendee_id,
                                      const ArrivalContext& ctx,
                                      DynamicFeatures* dynamic) const {
  const std::string key = HabitKey(venue_id, attendee_id);
  const Design d = MakeDesign(venue_id, key, ctx);
  if (dynamic) {
    *dynamic = {d.x(kVenueRecent), d.x(kAttendeeRecent), d.x(kVenueLevel)};
  }
  return ForecastFrom(d, venue_id, ctx);
}

Explanation ArrivalModel::Explain(const std::string& venue_id,
                                  const std::string& attendee_id,
                                  const ArrivalContext& ctx) const {
  const std::string key = HabitKey(venue_id, attendee_id);
  const Design d = MakeDesign(venue_id, key, ctx);
  const TypeState& t = types_[static_cast<int>(ctx.type)];
  Explanation e;
  e.forecast = ForecastFrom(d, venue_id, ctx);
  absl::flat_hash_map<std::string, double> merged;
  std::vector<std::string> order;
  auto add = [&](const std::string& name, double minutes) {
    if (std::abs(minutes) < 1e-9) return;
    if (merged.emplace(name, 0.0).second) order.push_back(name);
    merged[name] += minutes;
  };
  for (int i = 0; i < kFixedFeatures; ++i)
    add(kTermNames[i], d.x(i) * beta_(i));
  const auto& names = scaler_.names();
  for (size_t s = 0; s < names.size(); ++s) {
    add("feature:" + names[s], d.x(kNamed + s) * beta_(kNamed + s));
  }
  for (const auto& name : order) e.terms.emplace_back(name, merged[name]);
  e.habit_min = d.habit;
  if (d.habit_state && d.habit_state->arrivals > 0) {
    const double n = d.habit_state->arrivals;
    e.habit_raw_min = d.habit_state->mean_deviation;
    e.shrinkage = n / (n + Kappa(t));
    e.attendee_no_shows = d.habit_state->no_shows;
  } else if (d.habit_state) {
    e.attendee_no_shows = d.habit_state->no_shows;
  }
  const bool known = d.habit_state && d.habit_state->arrivals > 0;
  const DecayedHistogram& r = known ? t.known_residuals : t.new_residuals;
  e.residual_p10_min = r.Quantile(0.10);
  e.residual_p50_min = r.Quantile(0.50);
  e.residual_p90_min = r.Quantile(0.90);
  e.no_show_prior = PriorFor(ctx.type).no_show_rate;
  return e;
}

bool ArrivalModel::OutOfOrder(const std::string& venue_id,
                              const ArrivalContext& ctx) {
  auto v = venues_.find(venue_id);
  return v != venues_.end() &&
         MinuteOf(ctx) < v->second.latest_minute - kOutOfOrderMinutes;
}

void ArrivalModel::ObserveFeatures(const ArrivalContext& ctx) {
  for (const NamedFeature& f : ctx.features) {
    if (auto slot = scaler_.SlotOrAssign(f.name))
      scaler_.Observe(*slot, f.value);
  }
}

void ArrivalModel::CountExclusion(const std::string& venue_id,
                                  ConvocationType type, Exclusion reason) {
  types_[static_cast<int>(type)].metrics.AddExclusion(reason);
  venues_[venue_id].metrics.AddExclusion(reason);
}

void ArrivalModel::LearnOutcome(const std::string& venue_id, const Habit* h,
                                const ArrivalContext& ctx, bool no_show,
                                PrequentialMetrics& type_metrics,
                                PrequentialMetrics& venue_metrics) {
  const NoShowTokens tokens = TokensFor(venue_id, h, ctx);
  const double prior = Logit(PriorFor(ctx.type).no_show_rate);
  const double p = no_show_.Predict(tokens.tokens(), prior);
  type_metrics.AddOutcome(p, no_show);
  venue_metrics.AddOutcome(p, no_show);
  no_show_.Learn(tokens.tokens(), prior, no_show);
}

bool ArrivalModel::LearnArrival(const std::string& venue_id,
                                const std::string& attendee_id,
                                const ArrivalContext& ctx, double offset_min) {
  if (OutOfOrder(venue_id, ctx)) {
    CountExclusion(venue_id, ctx.type, Exclusion::kOutOfOrder);
    return false;
  }
  const std::string key = HabitKey(venue_id, attendee_id);
  const Design d = MakeDesign(venue_id, key, ctx);
  TypeState& t = types_[static_cast<int>(ctx.type)];
  VenueState& venue = venues_[venue_id];

  // Score first (prequential), then learn.
  const ArrivalForecast f = ForecastFrom(d, venue_id, ctx);
  t.metrics.AddArrival(f.p10_min, f.p50_min, f.p90_min, offset_min);
  venue.metrics.AddArrival(f.p10_min, f.p50_min, f.p90_min, offset_min);
  LearnOutcome(venue_id, d.habit_state, ctx, false, t.metrics, venue.metrics);

  const bool known = d.habit_state && d.habit_state->arrivals > 0;
  const double residual = offset_min - d.population - d.habit;
  (known ? t.known_residuals : t.new_residuals).Add(residual);

  // Population weights: Kalman update on the clipped residual.
  const double scale = t.abs_residual;
  const double clip = kHuberClip * scale;
  const double clipped = std::clamp(residual, -clip, clip);
  const double noise_var = 0.5 * std::numbers::pi * scale * scale;
  const Vector px = p_ * d.x;
  const Vector gain = px / (noise_var + d.x.dot(px));
  beta_ += gain * clipped;
  p_ -= gain * px.transpose();
  p_ = 0.5 * (p_ + p_.transpose());
  for (int i = 0; i < kFeatureCount; ++i) {
    p_(i, i) =
        std::min(p_(i, i) + kProcessNoise * PriorVariance(i), PriorVariance(i));
  }
  t.abs_residual = kAbsResidualDecay * t.abs_residual +
                   (1.0 - kAbsResidualDecay) * std::abs(residual);

  // The habit and the type's variance components, on winsorised deviations.
  Habit& h = habits_[key];
  const double limit = 4.0 * scale;
  const double dev =
      std::clamp(offset_min - d.population, d.habit - limit, d.habit + limit);
  if (h.arrivals == 0) {
    t.first_ss += dev * dev;
    t.first_count += 1.0;
  }
  h.arrivals += 1;
  h.visits += 1;
  const double delta = dev - h.mean_deviation;
  h.mean_deviation += static_cast<float>(delta / h.arrivals);
  if (h.arrivals >= 2) {
    t.within_ss += delta * (dev - h.mean_deviation);
    t.within_dof += 1.0;
  }
  const double static_dev =
      std::clamp(offset_min - d.static_part, -limit, limit);
  h.last_deviation = static_cast<float>(static_dev);
  h.last_minute = static_cast<int32_t>(MinuteOf(ctx));
  h.last_no_show = 0;

  // The venue's recent and long-run levels.
  const double age = std::max<double>(0.0, MinuteOf(ctx) - venue.recent_minute);
  const double fade = std::exp(-age / kVenueRecentTau);
  venue.recent_sum = venue.recent_sum * fade + static_dev;
  venue.recent_weight = venue.recent_weight * fade + 1.0;
  venue.recent_minute = std::max(venue.recent_minute, MinuteOf(ctx));
  venue.level_sum += static_dev;
  venue.level_count += 1.0;
  venue.latest_minute = std::max(venue.latest_minute, MinuteOf(ctx));

  ObserveFeatures(ctx);
  ++events_learned_;
  return true;
}

bool ArrivalModel::LearnNoShow(const std::string& venue_id,
                               const std::string& attendee_id,
                               const ArrivalContext& ctx) {
  return LearnAttendance(venue_id, attendee_id, ctx, /*no_show=*/true);
}

bool ArrivalModel::LearnAttendance(const std::string& venue_id,
                                   const std::string& attendee_id,
                                   const ArrivalContext& ctx, bool no_show) {
  if (OutOfOrder(venue_id, ctx)) {
    CountExclusion(venue_id, ctx.type, Exclusion::kOutOfOrder);
    return false;
  }
  const std::string key = HabitKey(venue_id, attendee_id);
  TypeState& t = types_[static_cast<int>(ctx.type)];
  VenueState& venue = venues_[venue_id];
  auto it = habits_.find(key);
  LearnOutcome(venue_id, it == habits_.end() ? nullptr : &it->second, ctx,
               no_show, t.metrics, venue.metrics);
  Habit& h = habits_[key];
  h.no_shows += no_show ? 1 : 0;
  h.visits += 1;
  h.last_no_show = no_show ? 1 : 0;
  venue.latest_minute = std::max(venue.latest_minute, MinuteOf(ctx));
  ObserveFeatures(ctx);
  ++events_learned_;
  return true;
}

double ArrivalModel::HabitMinutes(const std::string& venue_id,
                                  const std::string& attendee_id,
                                  ConvocationType type) const {
  auto it = habits_.find(HabitKey(venue_id, attendee_id));
  return it == habits_.end()
             ? 0.0
             : ShrunkHabit(it->second, types_[static_cast<int>(type)]);
}

const PrequentialMetrics* ArrivalModel::VenueMetrics(
    const std::string& venue_id) const {
  auto it = venues_.find(venue_id);
  return it == venues_.end() ? nullptr : &it->second.metrics;
}

std::vector<std::string> ArrivalModel::VenueIds() const {
  std::vector<std::string> ids;
  for (const auto& [id, state] : venues_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool ArrivalModel::ForgetAttendee(const std::string& venue_id,
                                  const std::string& attendee_id) {
  return habits_.erase(HabitKey(venue_id, attendee_id)) > 0;
}

size_t ArrivalModel::ForgetAttendeesExcept(
    const std::string& venue_id, const absl::flat_hash_set<std::string>& keep) {
  const std::string prefix = HabitKey(venue_id, "");
  return absl::erase_if(habits_, [&](const auto& kv) {
    const std::string& key = kv.first;
    return key.compare(0, prefix.size(), prefix) == 0 &&
           !keep.contains(absl::string_view(key).substr(prefix.size()));
  });
}

double ArrivalModel::BytesPerAttendee() const {
  if (habits_.empty()) return 0.0;
  // Each slot holds the key (a std::string, its text on the heap beyond
  // the small-string buffer) and the Habit; the table keeps one control
  // byte per slot and grows to keep its load under 7/8.
  double heap = 0.0;
  for (const auto& [key, h] : habits_) {
    if (key.size() > 15) heap += static_cast<double>(key.capacity() + 1);
  }
  const double slots = static_cast<double>(habits_.capacity());
  const double slot_bytes = sizeof(std::pair<const std::string, Habit>) + 1.0;
  return (slots * slot_bytes + heap) / static_cast<double>(habits_.size());
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
                     t.abs_residual}) {
      w.Put<double>(v);
    }
    for (const DecayedHistogram* h : {&t.new_residuals, &t.known_residuals}) {
      w.Put<double>(h->raw_unit());
      w.Put<double>(h->raw_total());
      w.PutVector(h->raw_bins());
    }
    t.metrics.Write(w);
  }
  scaler_.Write(w);
  no_show_.Write(w);
  const std::vector<std::string> venue_ids = VenueIds();
  w.Put<uint64_t>(venue_ids.size());
  for (const std::string& id : venue_ids) {
    const VenueState& v = venues_.at(id);
    w.PutString(id);
    w.Put<double>(v.recent_sum);
    w.Put<double>(v.recent_weight);
    w.Put<int64_t>(v.recent_minute);
    w.Put<double>(v.level_sum);
    w.Put<double>(v.level_count);
    w.Put<int64_t>(v.latest_minute);
    v.metrics.Write(w);
  }
  std::vector<const std::pair<const std::string, Habit>*> sorted;
  sorted.reserve(habits_.size());
  for (const auto& entry : habits_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  w.Put<uint64_t>(sorted.size());
  for (const auto* entry : sorted) {
    const Habit& h = entry->second;
    w.PutString(entry->first);
    w.Put<int32_t>(h.arrivals);
    w.Put<int32_t>(h.visits);
    w.Put<int32_t>(h.no_shows);
    w.Put<float>(h.mean_deviation);
    w.Put<float>(h.last_deviation);
    w.Put<int32_t>(h.last_minute);
    w.Put<int32_t>(h.last_no_show);
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
    for (double* v : {&t.within_ss, &t.within_dof, &t.first_ss, &t.first_count,
                      &t.abs_residual}) {
      if (!r.Get(v)) return corrupt("type state");
    }
    for (DecayedHistogram* h : {&t.new_residuals, &t.known_residuals}) {
      double unit, total;
      std::vector<double> bins;
      if (!r.Get(&unit) || !r.Get(&total) || !r.GetVector(&bins) ||
          bins.size() != h->raw_bins().size()) {
        return corrupt("residual histogram");
      }
      h->SetRaw(std::move(bins), unit, total);
    }
    if (!t.metrics.Read(r)) return corrupt("type metrics");
  }
  if (!m.scaler_.Read(r)) return corrupt("feature scaler");
  if (!m.no_show_.Read(r)) return corrupt("no-show model");
  uint64_t venue_count;
  // A venue takes at least 4 + 6 * 8 bytes and its metrics.
  if (!r.Get(&venue_count) || venue_count > r.Remaining() / 52) {
    return corrupt("venue count");
  }
  for (uint64_t i = 0; i < venue_count; ++i) {
    std::string id;
    VenueState v;
    if (!r.GetString(&id) || !r.Get(&v.recent_sum) ||
        !r.Get(&v.recent_weight) || !r.Get(&v.recent_minute) ||
        !r.Get(&v.level_sum) || !r.Get(&v.level_count) ||
        !r.Get(&v.latest_minute) || !v.metrics.Read(r)) {
      return corrupt("venue");
    }
    m.venues_.emplace(std::move(id), std::move(v));
  }
  uint64_t count;
  // Each habit takes at least 4 + 7 * 4 bytes: a count that the remaining
  // bytes cannot hold is corrupt (and must not size an allocation).
  constexpr uint64_t kMinHabitBytes = 4 + 7 * 4;
  if (!r.Get(&count) || count > r.Remaining() / kMinHabitBytes) {
    return corrupt("habit count");
  }
  m.habits_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string key;
    Habit h;
    if (!r.GetString(&key) || !r.Get(&h.arrivals) || !r.Get(&h.visits) ||
        !r.Get(&h.no_shows) || !r.Get(&h.mean_deviation) ||
        !r.Get(&h.last_deviation) || !r.Get(&h.last_minute) ||
        !r.Get(&h.last_no_show)) {
      return corrupt("habit");
    }
    m.habits_.emplace(std::move(key), h);
  }
  if (!r.AtEnd()) return corrupt("trailing bytes");
  return m;
}

}  // namespace noqueue::model
