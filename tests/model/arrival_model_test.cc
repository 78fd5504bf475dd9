// Tests of the arrival model: habits learned and shrunk, the P10..P90 band,
// the venue's and attendee's features, the out-of-order rule, no-shows,
// exclusions and explanations.
#include "model/arrival_model.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "model/convocation_type.h"
#include "model/feature_scaler.h"
#include "model/no_show_model.h"
#include "model/normal.h"
#include "model/prequential_metrics.h"
#include "tests/support/model_fixtures.h"

namespace noqueue::model::testing {
namespace {

TEST_CASE(
    "ArrivalModel predicts an unknown medical attendee at the type "
    "prior of minus 20 minutes",
    "[arrival_model]") {
  ArrivalModel m;
  const TypePrior& prior = PriorFor(ConvocationType::kMedical);
  REQUIRE(prior.mean_offset_min == -20.0);
  ArrivalForecast f = m.Predict("clinic-1", "ana", MedicalMorning());
  // The prior residual is N(0 15) spread over one-minute bins: interpolation
  // error is under 0.1 min.
  CHECK(f.p50_min == Approx(-20.0).margin(0.25));
  CHECK(f.p10_min ==
        Approx(-20.0 - kZ90 * prior.offset_spread_min).margin(0.25));
  CHECK(f.p90_min ==
        Approx(-20.0 + kZ90 * prior.offset_spread_min).margin(0.25));
  CHECK(f.p10_min < f.p50_min);
  CHECK(f.p50_min < f.p90_min);
  // Nothing learned: the no-show model's weights are all zero and the type's
  // prior is the whole margin.
  CHECK(f.no_show_probability == Approx(0.20).epsilon(1e-12));
  CHECK(f.attendee_arrivals == 0);
  CHECK(m.events_learned() == 0);
  CHECK(m.attendee_count() == 0);
  CHECK(m.venue_count() == 0);
  CHECK(m.VenueMetrics("clinic-1") == nullptr);
  CHECK(m.BytesPerAttendee() == 0.0);
  // Every type starts at its own prior.
  for (int t = 0; t < kConvocationTypeCount; ++t) {
    ArrivalContext ctx = MedicalMorning();
    ctx.type = static_cast<ConvocationType>(t);
    const ArrivalForecast g = m.Predict("v", "a", ctx);
    INFO("type " << t);
    CHECK(g.p50_min == Approx(PriorFor(ctx.type).mean_offset_min).margin(0.25));
    CHECK(g.no_show_probability ==
          Approx(PriorFor(ctx.type).no_show_rate).epsilon(1e-12));
  }
}

TEST_CASE(
    "ArrivalModel moves an unknown attendee's P50 to the population's "
    "mean offset",
    "[arrival_model]") {
  // Truth: mean offset -8 min (the medical prior says -20), habits sd 6 and
  // visit noise sd 4 around it, 300 patients and 4000 visits. The mean of 4000
  // offsets has a standard error of ~0.2 min, and the residual median of a
  // symmetric population ~0.3 min: 1.5 min leaves room for the regression's
  // forgetting (memory ~2000 events) and for the venue's recent level, which
  // averages only the last couple of hours (~24 visits, sd ~1.5 min) and so
  // moves the prediction by a fraction of that.
  std::mt19937_64 rng(0x5EED0010);
  Population population(300, -8.0, 6.0, rng);
  ArrivalModel m;
  int64_t clock = kDayOne;
  LearnVisits(population, 4000, 4.0, rng, &clock, &m);
  ArrivalForecast f =
      m.Predict("clinic-1", "newcomer", MedicalMorning(clock + 5));
  CHECK(f.p50_min == Approx(-8.0).margin(1.5));
  CHECK(f.p10_min < f.p50_min);
  CHECK(f.p50_min < f.p90_min);
  CHECK(m.events_learned() == 4000);
  CHECK(m.attendee_count() == 300);
  CHECK(m.venue_count() == 1);
  // The same newcomer at a venue never seen: the type's prediction without
  // the clinic's level, still pulled from -20 towards -8 by the shared
  // weights.
  ArrivalForecast elsewhere =
      m.Predict("clinic-9", "newcomer", MedicalMorning(clock + 5));
  CHECK(elsewhere.p50_min > -20.0);
}

TEST_CASE(
    "ArrivalModel learns a habit of plus 10 minutes for an attendee "
    "always 10 minutes later than the population",
    "[arrival_model]") {
  // Population as above (mean -8, habits sd 6, noise sd 4): kappa = 16/36 so
  // shrinkage n/(n+kappa) keeps ~96% of a 10-arrival mean and ~70% of one
  // arrival. The late attendee's offset is exactly -8 + 10 every time, once a
  // day, so that her previous visit has faded (tau 3 h) by the next one.
  std::mt19937_64 rng(0x5EED0011);
  Population population(300, -8.0, 6.0, rng);
  ArrivalModel m;
  int64_t clock = kDayOne;
  LearnVisits(population, 4000, 4.0, rng, &clock, &m);

  REQUIRE(m.LearnArrival("clinic-1", "always-late", MedicalMorning(clock),
                         -8.0 + 10.0));
  const double after_one =
      m.HabitMinutes("clinic-1", "always-late", ConvocationType::kMedical);
  // Shrinkage: one arrival moves the habit part of the way only.
  CHECK(after_one > 2.0);
  CHECK(after_one < 9.5);

  for (int i = 1; i < 10; ++i) {
    REQUIRE(m.LearnArrival("clinic-1", "always-late",
                           MedicalMorning(clock + i * kMinutesPerDay),
                           -8.0 + 10.0));
  }
  const double after_ten =
      m.HabitMinutes("clinic-1", "always-late", ConvocationType::kMedical);
  CHECK(after_ten > after_one);
  CHECK(after_ten == Approx(10.0).margin(1.5));
  ArrivalForecast f = m.Predict("clinic-1", "always-late",
                                MedicalMorning(clock + 10 * kMinutesPerDay));
  CHECK(f.attendee_arrivals == 10);
  CHECK(f.p50_min == Approx(-8.0 + 10.0).margin(2.0));
}

TEST_CASE(
    "ArrivalModel shrinks a first arrival by the type's variance "
    "components",
    "[arrival_model]") {
  // Fresh model, medical priors: within = 15^2/2 and total = 15^2, so kappa
  // starts at 1. Learning a first arrival 10 min after the prior mean (the
  // venue is new, so its levels are 0 and x'b is the -20 intercept) adds
  // d^2 = 100 to the first-arrival variance: total = (2250 + 100) / 11,
  // between = total - 112.5, kappa = 112.5 / between and the habit is
  // 10 / (1 + kappa). Computed exactly, not estimated.
  ArrivalModel m;
  REQUIRE(m.LearnArrival("clinic-1", "ana", MedicalMorning(), -20.0 + 10.0));
  const double total = (2250.0 + 100.0) / 11.0;
  const double kappa = 112.5 / (total - 112.5);
  CHECK(m.HabitMinutes("clinic-1", "ana", ConvocationType::kMedical) ==
        Approx(10.0 / (1.0 + kappa)).epsilon(1e-5));
  CHECK(m.events_learned() == 1);
  CHECK(m.venue_count() == 1);
}

TEST_CASE(
    "ArrivalModel keeps habits per venue so the same attendee id at "
    "another venue is unknown",
    "[arrival_model]") {
  // A venue whose patients come 8 min early, then ana at clinic-1 comes 25
  // min late ten times (once a day): her habit is about +33, which
  // shrinkage (kappa ~0.4 here) keeps above +25.
  std::mt19937_64 rng(0x5EED0012);
  Population population(300, -8.0, 6.0, rng);
  ArrivalModel m;
  int64_t clock = kDayOne;
  LearnVisits(population, 3000, 4.0, rng, &clock, &m);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(m.LearnArrival("clinic-1", "ana",
                           MedicalMorning(clock + i * kMinutesPerDay), 25.0));
  }
  const ArrivalContext ctx = MedicalMorning(clock + 10 * kMinutesPerDay);

  CHECK(m.HabitMinutes("clinic-1", "ana", ConvocationType::kMedical) > 25.0);
  CHECK(m.Predict("clinic-1", "ana", ctx).attendee_arrivals == 10);
  CHECK(m.HabitMinutes("clinic-2", "ana", ConvocationType::kMedical) == 0.0);
  ArrivalForecast stranger = m.Predict("clinic-2", "nobody", ctx);
  ArrivalForecast namesake = m.Predict("clinic-2", "ana", ctx);
  CHECK(namesake.attendee_arrivals == 0);
  CHECK(namesake.p50_min == stranger.p50_min);
  CHECK(namesake.p10_min == stranger.p10_min);
  CHECK(namesake.p90_min == stranger.p90_min);
  CHECK(namesake.no_show_probability == stranger.no_show_probability);
  CHECK(m.Predict("clinic-1", "ana", ctx).p50_min > namesake.p50_min + 20.0);

  // Ids that would run together if venue and attendee were simply joined
  // stay apart: "b/c" at "a" is not "c" at "a/b".
  REQUIRE(m.LearnArrival("a", "b/c", ctx, 60.0));
  CHECK(m.HabitMinutes("a", "b/c", ConvocationType::kMedical) > 0.0);
  CHECK(m.HabitMinutes("a/b", "c", ConvocationType::kMedical) == 0.0);
  CHECK(m.HabitMinutes("ab", "/c", ConvocationType::kMedical) == 0.0);
}

TEST_CASE(
    "ArrivalModel keeps apart venue and attendee ids that contain the "
    "key separator",
    "[arrival_model]") {
  // ("a\x1fb", "c") and ("a", "b\x1fc") are different attendees: the
  // header promises habits per venue for any ids, whatever bytes they hold.
  ArrivalModel m;
  const ArrivalContext ctx = MedicalMorning();
  REQUIRE(m.LearnArrival(std::string("a\x1f") + "b", "c", ctx, 60.0));
  CHECK(m.HabitMinutes("a", std::string("b\x1f") + "c",
                       ConvocationType::kMedical) == 0.0);
  CHECK(m.Predict("a", std::string("b\x1f") + "c", ctx).attendee_arrivals == 0);
}

TEST_CASE(
    "ArrivalModel P10 to P90 holds about 80 percent of a skewed "
    "population's arrivals predicted before learning each",
    "[arrival_model]") {
  // 250 patients with normal habits (sd 6) around -12 min, and right-skewed
  // visit noise: 6*(exp(0.8 Z) - exp(0.32)), mean zero, long late tail. Each
  // visit is predicted before it is learned (prequential), one every 5
  // minutes. Coverage is counted over visits 2000..8000 once the residual
  // histogram (memory ~1000) has left its prior. Binomial error over 6000
  // visits is 0.005, but the histogram's own sampling (effective n ~2000)
  // moves its P10 and P90 by ~0.7 percentage points each, and residuals of
  // newcomers and regulars are mixed: 0.74..0.86 is the band the model
  // promises. The model's own prequential coverage must agree with ours.
  std::mt19937_64 rng(0x5EED0020);
  Population population(250, -12.0, 6.0, rng);
  std::uniform_int_distribution<int> who(0, population.size() - 1);
  std::normal_distribution<double> z(0.0, 1.0);
  ArrivalModel m;
  int counted = 0, inside = 0, below = 0, above = 0;
  double abs_error = 0.0;
  int64_t clock = kDayOne;
  for (int e = 0; e < 8000; ++e) {
    const int i = who(rng);
    const double noise = 6.0 * (std::exp(0.8 * z(rng)) - std::exp(0.32));
    const double offset = population.Offset(i, noise);
    clock += 5;
    const ArrivalContext ctx = MedicalMorning(clock);
    ArrivalForecast f = m.Predict("clinic-1", population.Attendee(i), ctx);
    abs_error += std::abs(offset - f.p50_min);
    if (e >= 2000) {
      ++counted;
      if (offset < f.p10_min) {
        ++below;
      } else if (offset > f.p90_min) {
        ++above;
      } else {
        ++inside;
      }
    }
    REQUIRE(m.LearnArrival("clinic-1", population.Attendee(i), ctx, offset));
  }
  const double coverage = static_cast<double>(inside) / counted;
  INFO("below " << below << " inside " << inside << " above " << above);
  CHECK(coverage > 0.74);
  CHECK(coverage < 0.86);
  // The skew is kept: each tail holds its own ~10%, not 5% and 15%.
  CHECK(static_cast<double>(below) / counted == Approx(0.10).margin(0.04));
  CHECK(static_cast<double>(above) / counted == Approx(0.10).margin(0.04));

  // Learn* scored each arrival with the prediction we just made: the same
  // MAE, per type and per venue.
  const PrequentialMetrics::Figures type =
      m.TypeMetrics(ConvocationType::kMedical).AllTime();
  CHECK(type.arrivals == 8000.0);
  CHECK(type.mae_p50_min == Approx(abs_error / 8000.0).epsilon(1e-9));
  CHECK(type.coverage_p10_p90 > 0.70);
  REQUIRE(m.VenueMetrics("clinic-1") != nullptr);
  CHECK(m.VenueMetrics("clinic-1")->AllTime().mae_p50_min ==
        Approx(type.mae_p50_min));
  CHECK(m.TypeMetrics(ConvocationType::kMuseum).AllTime().arrivals == 0.0);
}

TEST_CASE(
    "ArrivalModel P10 to P90 holds about 80 percent of newcomers' "
    "arrivals at a venue of regulars",
    "[arrival_model]") {
  // 250 regulars (habits sd 6 around -12, visit noise sd 4) make 6000 visits;
  // then 2000 first-time patients from the same population are predicted
  // (a day later, so that the venue's recent level has faded). A newcomer's
  // offset spreads by habit and noise, sqrt(36 + 16) = 7.2 min, and the
  // newcomers' residual histogram is filled by first visits, which spread
  // alike. Binomial error over 2000 is 0.009; 0.72..0.88 allows for the
  // histogram's own sampling (only 250 first visits, plus its prior).
  std::mt19937_64 rng(0x5EED0021);
  Population regulars(250, -12.0, 6.0, rng);
  ArrivalModel m;
  int64_t clock = kDayOne;
  LearnVisits(regulars, 6000, 4.0, rng, &clock, &m);
  Population newcomers(2000, -12.0, 6.0, rng);
  std::normal_distribution<double> noise(0.0, 4.0);
  const ArrivalContext ctx = MedicalMorning(clock + kMinutesPerDay);
  int inside = 0;
  for (int i = 0; i < newcomers.size(); ++i) {
    const double offset = newcomers.Offset(i, noise(rng));
    ArrivalForecast f = m.Predict("clinic-1", "new-" + std::to_string(i), ctx);
    if (offset >= f.p10_min && offset <= f.p90_min) ++inside;
  }
  const double coverage = inside / 2000.0;
  CHECK(coverage > 0.72);
  CHECK(coverage < 0.88);
}

TEST_CASE(
    "ArrivalModel raises the no-show probability of an attendee who "
    "keeps not coming above a stranger and one who always comes below",
    "[arrival_model]") {
  // 3000 medical convocations with a true no-show rate of 10% (prior 20%),
  // one every 5 minutes. The no-show model's bias tokens learn the rate:
  // binomial error sqrt(0.09/3000) = 0.0055, but FTRL's L1/L2 and its
  // per-coordinate steps leave it a few points off, hence 0.04.
  std::mt19937_64 rng(0x5EED0030);
  Population population(300, -10.0, 5.0, rng);
  std::uniform_int_distribution<int> who(0, population.size() - 1);
  std::bernoulli_distribution no_show(0.10);
  std::normal_distribution<double> noise(0.0, 4.0);
  ArrivalModel m;
  int64_t clock = kDayOne;
  for (int e = 0; e < 3000; ++e) {
    const int i = who(rng);
    clock += 5;
    const ArrivalContext ctx = MedicalMorning(clock);
    if (no_show(rng)) {
      REQUIRE(m.LearnNoShow("clinic-1", population.Attendee(i), ctx));
    } else {
      REQUIRE(m.LearnArrival("clinic-1", population.Attendee(i), ctx,
                             population.Offset(i, noise(rng))));
    }
  }
  const ArrivalContext ctx = MedicalMorning(clock);
  const double type_rate =
      m.Predict("clinic-1", "stranger", ctx).no_show_probability;
  CHECK(type_rate == Approx(0.10).margin(0.04));

  CHECK(m.Predict("clinic-1", "ghost", ctx).no_show_probability == type_rate);
  for (int i = 0; i < 6; ++i) {
    REQUIRE(m.LearnNoShow("clinic-1", "ghost", ctx));
  }
  const double ghost = m.Predict("clinic-1", "ghost", ctx).no_show_probability;
  const double stranger =
      m.Predict("clinic-1", "stranger", ctx).no_show_probability;
  INFO("type rate " << type_rate << " ghost " << ghost << " stranger "
                    << stranger);
  // Six no-shows out of six visits: her record tokens (last outcome, no-show
  // band) push her well above a stranger (seen: 0.18 against 0.11). The
  // shared tokens (bias, type, venue, lead) take a share of her lesson, so
  // the stranger moves too, but by less than half as much as she does.
  CHECK(ghost > 1.5 * stranger);
  CHECK(ghost < 1.0);
  CHECK(stranger - type_rate < 0.5 * (ghost - type_rate));

  // And one who always comes drops below a stranger.
  for (int i = 0; i < 10; ++i) {
    REQUIRE(m.LearnArrival("clinic-1", "faithful", ctx, -10.0));
  }
  CHECK(m.Predict("clinic-1", "faithful", ctx).no_show_probability <
        m.Predict("clinic-1", "stranger", ctx).no_show_probability);
  // The prequential no-show figures count every outcome learned.
  CHECK(m.TypeMetrics(ConvocationType::kMedical).AllTime().outcomes ==
        3000.0 + 6.0 + 10.0);
}

TEST_CASE(
    "ArrivalModel refuses and counts a tag more than 6 hours older than "
    "the latest its venue learned",
    "[arrival_model]") {
  ArrivalModel m;
  const int64_t latest = kDayOne + 1000;
  REQUIRE(m.LearnArrival("clinic-1", "ana", MedicalMorning(latest), -5.0));
  const std::string before = m.Serialize();

  // 6 h + 1 min older: refused, learns nothing, counted per type and venue.
  const ArrivalContext stale = MedicalMorning(latest - 6 * 60 - 1);
  CHECK_FALSE(m.LearnArrival("clinic-1", "bob", stale, 30.0));
  CHECK_FALSE(m.LearnNoShow("clinic-1", "bob", stale));
  CHECK_FALSE(m.LearnAttendance("clinic-1", "bob", stale, false));
  CHECK(m.events_learned() == 1);
  CHECK(m.attendee_count() == 1);
  CHECK(m.HabitMinutes("clinic-1", "bob", ConvocationType::kMedical) == 0.0);
  CHECK(m.TypeMetrics(ConvocationType::kMedical)
            .excluded(Exclusion::kOutOfOrder) == 3);
  REQUIRE(m.VenueMetrics("clinic-1") != nullptr);
  CHECK(m.VenueMetrics("clinic-1")->excluded(Exclusion::kOutOfOrder) == 3);
  CHECK(m.TypeMetrics(ConvocationType::kMedical).AllTime().arrivals == 1.0);

  // Exactly 6 h older, at another venue, or later: learned.
  CHECK(
      m.LearnArrival("clinic-1", "bob", MedicalMorning(latest - 6 * 60), 30.0));
  CHECK(m.LearnArrival("clinic-2", "bob", stale, 30.0));
  CHECK(m.LearnNoShow("clinic-1", "carl", MedicalMorning(latest + 60)));
  CHECK(m.events_learned() == 4);
  CHECK(m.Serialize() != before);
  // The venue's latest moved on: what was fine is now out of order.
  CHECK_FALSE(
      m.LearnArrival("clinic-1", "dan", MedicalMorning(latest - 6 * 60), 0.0));
  CHECK(m.VenueMetrics("clinic-1")->excluded(Exclusion::kOutOfOrder) == 4);
  CHECK(m.VenueMetrics("clinic-2")->excluded(Exclusion::kOutOfOrder) == 0);
}

TEST_CASE("ArrivalModel CountExclusion counts per type per venue and reason",
          "[arrival_model]") {
  ArrivalModel m;
  m.CountExclusion("clinic-1", ConvocationType::kMedical, Exclusion::kRepeat);
  m.CountExclusion("clinic-1", ConvocationType::kMedical, Exclusion::kAbsurd);
  m.CountExclusion("clinic-1", ConvocationType::kMedical, Exclusion::kAbsurd);
  m.CountExclusion("museum-1", ConvocationType::kMuseum, Exclusion::kFuture);
  const PrequentialMetrics& medical = m.TypeMetrics(ConvocationType::kMedical);
  CHECK(medical.excluded(Exclusion::kRepeat) == 1);
  CHECK(medical.excluded(Exclusion::kAbsurd) == 2);
  CHECK(medical.excluded(Exclusion::kFuture) == 0);
  CHECK(m.TypeMetrics(ConvocationType::kMuseum).excluded(Exclusion::kFuture) ==
        1);
  // The venue's metrics exist to hold its exclusions, though it has learned
  // nothing (the header's "nullptr when the venue has no learned event" is
  // looser than this).
  REQUIRE(m.VenueMetrics("clinic-1") != nullptr);
  CHECK(m.VenueMetrics("clinic-1")->excluded(Exclusion::kAbsurd) == 2);
  CHECK(m.VenueMetrics("clinic-1")->excluded(Exclusion::kFuture) == 0);
  REQUIRE(m.VenueMetrics("museum-1") != nullptr);
  CHECK(m.VenueMetrics("museum-1")->excluded(Exclusion::kFuture) == 1);
  // Counting learns nothing, and survives a snapshot.
  CHECK(m.events_learned() == 0);
  CHECK(m.attendee_count() == 0);
  absl::StatusOr<ArrivalModel> restored =
      ArrivalModel::Deserialize(m.Serialize());
  REQUIRE(restored.ok());
  CHECK(restored->VenueMetrics("clinic-1")->excluded(Exclusion::kAbsurd) == 2);
  CHECK(restored->TypeMetrics(ConvocationType::kMedical)
            .excluded(Exclusion::kRepeat) == 1);
}

TEST_CASE("ArrivalModel LearnAttendance teaches the no-show side only",
          "[arrival_model]") {
  ArrivalModel m;
  int64_t clock = kDayOne;
  for (int i = 0; i < 20; ++i) {
    clock += 10;
    REQUIRE(m.LearnArrival("clinic-1", "p" + std::to_string(i % 5),
                           MedicalMorning(clock), -12.0 + i % 5));
  }
  REQUIRE(m.LearnArrival("clinic-1", "ana", MedicalMorning(clock), 4.0));
  const ArrivalContext ctx = MedicalMorning(clock + 10);
  const ArrivalForecast before = m.Predict("clinic-1", "ana", ctx);
  const ArrivalForecast newcomer_before = m.Predict("clinic-1", "zed", ctx);
  const double habit_before =
      m.HabitMinutes("clinic-1", "ana", ConvocationType::kMedical);
  const PrequentialMetrics::Figures metrics_before =
      m.TypeMetrics(ConvocationType::kMedical).AllTime();

  for (int i = 0; i < 5; ++i) {
    REQUIRE(m.LearnAttendance("clinic-1", "ana", ctx, /*no_show=*/true));
    REQUIRE(m.LearnAttendance("clinic-1", "zed", ctx, /*no_show=*/false));
  }
  const ArrivalForecast after = m.Predict("clinic-1", "ana", ctx);
  const ArrivalForecast newcomer_after = m.Predict("clinic-1", "zed", ctx);
  // The arrival side is untouched: same habit, same quantiles, same count.
  CHECK(m.HabitMinutes("clinic-1", "ana", ConvocationType::kMedical) ==
        habit_before);
  CHECK(after.p10_min == before.p10_min);
  CHECK(after.p50_min == before.p50_min);
  CHECK(after.p90_min == before.p90_min);
  CHECK(after.attendee_arrivals == 1);
  CHECK(newcomer_after.p50_min == newcomer_before.p50_min);
  CHECK(newcomer_after.attendee_arrivals == 0);
  CHECK(m.HabitMinutes("clinic-1", "zed", ConvocationType::kMedical) == 0.0);
  // The no-show side learned: ana's probability rose.
  CHECK(after.no_show_probability > before.no_show_probability);
  // Counted as events and as outcomes, not as arrivals.
  CHECK(m.events_learned() == 21 + 10);
  const PrequentialMetrics::Figures metrics_after =
      m.TypeMetrics(ConvocationType::kMedical).AllTime();
  CHECK(metrics_after.arrivals == metrics_before.arrivals);
  CHECK(metrics_after.outcomes == metrics_before.outcomes + 10.0);
}

TEST_CASE(
    "ArrivalModel predicts later right after a venue's recent arrivals "
    "ran late and forgets it hours later",
    "[arrival_model]") {
  // 2000 visits around -10 min, then 30 visits in an hour all 25 min later
  // than usual (a traffic jam). Right after, the venue's recent level
  // (tau 2 h) holds most of those +25 min, weighted by its learned weight;
  // a day later it has faded to exp(-12) of that, and the long-run level
  // moved by only 30/2030 of it.
  std::mt19937_64 rng(0x5EED0060);
  Population population(200, -10.0, 4.0, rng);
  ArrivalModel m;
  int64_t clock = kDayOne;
  LearnVisits(population, 2000, 3.0, rng, &clock, &m);
  clock += kMinutesPerDay;
  const double usual =
      m.Predict("clinic-1", "newcomer", MedicalMorning(clock)).p50_min;
  for (int e = 0; e < 30; ++e) {
    clock += 2;
    REQUIRE(m.LearnArrival("clinic-1", "jam-" + std::to_string(e),
                           MedicalMorning(clock), -10.0 + 25.0));
  }
  DynamicFeatures dynamic;
  const double right_after =
      m.Predict("clinic-1", "newcomer", MedicalMorning(clock + 1), &dynamic)
          .p50_min;
  const double day_after =
      m.Predict("clinic-1", "newcomer", MedicalMorning(clock + kMinutesPerDay))
          .p50_min;
  INFO("usual " << usual << " right after " << right_after << " day after "
                << day_after << " venue recent " << dynamic.venue_recent);
  CHECK(dynamic.venue_recent > 10.0);
  CHECK(right_after > usual + 5.0);
  CHECK(day_after < right_after - 5.0);
  CHECK(std::abs(day_after - usual) < 3.0);
  // Another venue is not moved by clinic-1's jam.
  CHECK(m.Predict("clinic-2", "newcomer", MedicalMorning(clock + 1)).p50_min <
        right_after - 5.0);
}

TEST_CASE(
    "ArrivalModel learns a label against the dynamic features it was "
    "predicted with",
    "[arrival_model]") {
  // Learning with as_predicted taken from Predict just before is the same as
  // learning without it; and the prediction made with as_predicted is
  // the prediction made at that time, whatever was learned since.
  ArrivalModel a, b;
  std::mt19937_64 rng(0x5EED0061);
  std::normal_distribution<double> noise(-5.0, 6.0);
  int64_t clock = kDayOne;
  for (int e = 0; e < 200; ++e) {
    clock += 7;
    ArrivalContext ctx = MedicalMorning(clock);
    const std::string who = "p" + std::to_string(e % 13);
    const double y = noise(rng);
    DynamicFeatures dynamic;
    a.Predict("clinic-1", who, ctx, &dynamic);
    REQUIRE(b.LearnArrival("clinic-1", who, ctx, y));
    ctx.as_predicted = dynamic;
    REQUIRE(a.LearnArrival("clinic-1", who, ctx, y));
  }
  CHECK(a.Serialize() == b.Serialize());

  ArrivalContext ctx = MedicalMorning(clock + 5);
  DynamicFeatures then;
  a.Predict("clinic-1", "p3", ctx, &then);
  for (int e = 0; e < 20; ++e) {
    REQUIRE(
        a.LearnArrival("clinic-1", "other", MedicalMorning(clock + 5), 40.0));
  }
  DynamicFeatures now;
  a.Predict("clinic-1", "p3", ctx, &now);
  CHECK(now.venue_recent != then.venue_recent);
  ctx.as_predicted = then;
  DynamicFeatures echoed;
  a.Predict("clinic-1", "p3", ctx, &echoed);
  CHECK(echoed.venue_recent == then.venue_recent);
  CHECK(echoed.attendee_recent == then.attendee_recent);
  CHECK(echoed.venue_level == then.venue_level);
}

TEST_CASE(
    "ArrivalModel Explain terms plus habit plus residual P50 add up to "
    "the forecast's P50",
    "[arrival_model]") {
  // The forecast is x'b + habit + residual quantile; Explain splits x'b into
  // named terms. Only rounding separates the sum from P50: 1e-6 min.
  ArrivalModel m;
  std::mt19937_64 rng(0x5EED0062);
  std::normal_distribution<double> noise(0.0, 5.0);
  std::uniform_real_distribution<double> price(10.0, 90.0);
  std::uniform_real_distribution<double> km(0.5, 40.0);
  int64_t clock = kDayOne;
  for (int e = 0; e < 500; ++e) {
    clock += 6;
    const double p = price(rng), d = km(rng);
    ArrivalContext ctx = RichContext(clock, p, d);
    ctx.local_hour = 8 + e % 10;
    ctx.local_weekday = e % 7;
    ctx.party_size = 1 + e % 3;
    ctx.lead_days = e % 20;
    REQUIRE(m.LearnArrival("clinic-1", "p" + std::to_string(e % 40), ctx,
                           -15.0 + 0.1 * p + 0.3 * d + noise(rng)));
  }
  for (const char* who : {"p7", "newcomer"}) {
    ArrivalContext ctx = RichContext(clock + 30, 70.0, 25.0);
    ctx.features.push_back({"never_seen", 1e6});
    const Explanation e = m.Explain("clinic-1", who, ctx);
    double sum = e.habit_min + e.residual_p50_min;
    bool price_term = false, never_seen_term = false;
    for (const auto& [name, minutes] : e.terms) {
      sum += minutes;
      price_term |= name == "feature:price_eur";
      never_seen_term |= name == "feature:never_seen";
    }
    INFO("attendee " << who);
    CHECK(sum == Approx(e.forecast.p50_min).margin(1e-6));
    CHECK(e.forecast.p50_min == m.Predict("clinic-1", who, ctx).p50_min);
    CHECK(e.forecast.p10_min - e.residual_p10_min ==
          Approx(e.forecast.p50_min - e.residual_p50_min).margin(1e-6));
    CHECK(price_term);
    CHECK_FALSE(never_seen_term);
    CHECK(e.no_show_prior == 0.20);
  }
  const Explanation known =
      m.Explain("clinic-1", "p7", RichContext(clock, 1, 1));
  CHECK(known.shrinkage > 0.0);
  CHECK(known.shrinkage < 1.0);
  CHECK(known.habit_min ==
        Approx(known.habit_raw_min * known.shrinkage).epsilon(1e-6));
  CHECK(known.habit_min ==
        m.HabitMinutes("clinic-1", "p7", ConvocationType::kMedical));
  const Explanation stranger =
      m.Explain("clinic-1", "newcomer", RichContext(clock, 1, 1));
  CHECK(stranger.habit_min == 0.0);
  CHECK(stranger.shrinkage == 0.0);
}

TEST_CASE(
    "ArrivalModel ignores feature names it has not learned and names past "
    "kMaxFeatures",
    "[arrival_model]") {
  ArrivalModel m;
  int64_t clock = kDayOne;
  const int names = FeatureScaler::kMaxFeatures + 8;
  std::mt19937_64 rng(0x5EED0063);
  std::normal_distribution<double> value(0.0, 1.0);
  for (int e = 0; e < 100; ++e) {
    clock += 5;
    ArrivalContext ctx = MedicalMorning(clock);
    for (int f = 0; f < names; ++f) {
      ctx.features.push_back({"f" + std::to_string(f), value(rng)});
    }
    REQUIRE(m.LearnArrival("clinic-1", "p" + std::to_string(e % 9), ctx,
                           -5.0 + ctx.features[0].value * 3.0 +
                               ctx.features[names - 1].value * 3.0));
    REQUIRE(m.LearnAttendance("clinic-1", "q", ctx, e % 4 == 0));
  }
  ArrivalContext plain = MedicalMorning(clock + 5);
  ArrivalContext unknown = plain;
  unknown.features = {{"never_seen", 123.0},
                      {"f" + std::to_string(names - 1), 9.0},  // no slot
                      {"f" + std::to_string(FeatureScaler::kMaxFeatures), 9.0}};
  const ArrivalForecast a = m.Predict("clinic-1", "p1", plain);
  const ArrivalForecast b = m.Predict("clinic-1", "p1", unknown);
  CHECK(a.p10_min == b.p10_min);
  CHECK(a.p50_min == b.p50_min);
  CHECK(a.p90_min == b.p90_min);
  CHECK(a.no_show_probability == b.no_show_probability);
  // A name that has a slot does move the prediction.
  ArrivalContext known = plain;
  known.features = {{"f0", 3.0}};
  CHECK(m.Predict("clinic-1", "p1", known).p50_min != a.p50_min);
  // Explain names the slotted features only.
  const Explanation e = m.Explain("clinic-1", "p1", known);
  for (const auto& [name, minutes] : e.terms) {
    CHECK(name != "feature:f" + std::to_string(FeatureScaler::kMaxFeatures));
  }
  // And the snapshot holds exactly kMaxFeatures names: it round-trips.
  absl::StatusOr<ArrivalModel> restored =
      ArrivalModel::Deserialize(m.Serialize());
  REQUIRE(restored.ok());
  CHECK(restored->Predict("clinic-1", "p1", known).p50_min ==
        m.Predict("clinic-1", "p1", known).p50_min);
}

TEST_CASE("ArrivalModel BytesPerAttendee stays under a couple of hundred bytes",
          "[arrival_model]") {
  // A slot is the key (a 32-byte std::string, its text inline when short)
  // and a 28-byte habit plus a control byte; the table's load stays between
  // 7/16 and 7/8, so 65..150 bytes per attendee with short ids.
  ArrivalModel m;
  int64_t clock = kDayOne;
  for (int i = 0; i < 1000; ++i) {
    clock += 1;
    REQUIRE(m.LearnArrival("c1", "p" + std::to_string(i), MedicalMorning(clock),
                           -5.0));
  }
  REQUIRE(m.attendee_count() == 1000);
  INFO("bytes per attendee " << m.BytesPerAttendee());
  CHECK(m.BytesPerAttendee() > 60.0);
  CHECK(m.BytesPerAttendee() < 160.0);
}

}  // namespace
}  // namespace noqueue::model::testing
