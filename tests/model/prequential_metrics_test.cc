// Tests of the prequential metrics: MAE, coverage, log loss and AUC of
// hand-computed cases, and the exclusions they count.
#include "model/prequential_metrics.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "model/byte_codec.h"
#include "tests/support/model_fixtures.h"

namespace noqueue::model::testing {
namespace {

TEST_CASE("PrequentialMetrics MAE and coverage of hand-computed arrivals",
          "[prequential_metrics]") {
  PrequentialMetrics m;
  CHECK(m.AllTime().arrivals == 0.0);
  CHECK(m.AllTime().mae_p50_min == 0.0);
  // |5 - 0| = 5 inside [-10 10]; |20 - 0| = 20 outside; |-10 - 0| = 10 on the
  // edge, which counts as inside.
  m.AddArrival(-10.0, 0.0, 10.0, 5.0);
  m.AddArrival(-10.0, 0.0, 10.0, 20.0);
  m.AddArrival(-10.0, 0.0, 10.0, -10.0);
  const PrequentialMetrics::Figures all = m.AllTime();
  CHECK(all.arrivals == 3.0);
  CHECK(all.mae_p50_min == Approx(35.0 / 3.0));
  CHECK(all.coverage_p10_p90 == Approx(2.0 / 3.0));
  // Recent: each older event keeps 0.9995 of its weight per later one.
  const double d = 0.9995;
  const PrequentialMetrics::Figures recent = m.Recent();
  CHECK(recent.arrivals == Approx(d * d + d + 1.0));
  CHECK(recent.mae_p50_min ==
        Approx((5.0 * d * d + 20.0 * d + 10.0) / (d * d + d + 1.0)));
  CHECK(recent.coverage_p10_p90 == Approx((d * d + 1.0) / (d * d + d + 1.0)));
}

TEST_CASE("PrequentialMetrics log loss of hand-computed outcomes",
          "[prequential_metrics]") {
  PrequentialMetrics m;
  m.AddOutcome(0.8, true);   // -ln 0.8
  m.AddOutcome(0.8, false);  // -ln 0.2
  m.AddOutcome(0.1, false);  // -ln 0.9
  CHECK(m.AllTime().outcomes == 3.0);
  CHECK(m.AllTime().log_loss ==
        Approx(-(std::log(0.8) + std::log(0.2) + std::log(0.9)) / 3.0));
  // Probabilities of 0 and 1 are clipped to 1e-6: finite losses.
  PrequentialMetrics sure;
  sure.AddOutcome(0.0, true);
  sure.AddOutcome(1.0, false);
  CHECK(sure.AllTime().log_loss == Approx(-std::log(1e-6)).epsilon(1e-6));
}

TEST_CASE(
    "PrequentialMetrics AUC is 1 for a perfect ranking 0 for a reversed "
    "one and one half for ties",
    "[prequential_metrics]") {
  PrequentialMetrics perfect, reversed, ties, mixed, one_class;
  for (int i = 0; i < 10; ++i) {
    perfect.AddOutcome(0.9, true);
    perfect.AddOutcome(0.1, false);
    reversed.AddOutcome(0.1, true);
    reversed.AddOutcome(0.9, false);
    ties.AddOutcome(0.3, true);
    ties.AddOutcome(0.3, false);
    one_class.AddOutcome(0.5, false);
  }
  CHECK(perfect.AllTime().auc == Approx(1.0));
  CHECK(reversed.AllTime().auc == Approx(0.0).margin(1e-12));
  CHECK(ties.AllTime().auc == Approx(0.5));
  CHECK(perfect.Recent().auc == Approx(1.0));
  CHECK(reversed.Recent().auc == Approx(0.0).margin(1e-12));
  // Without both classes there is no ranking to score: 0.5.
  CHECK(one_class.AllTime().auc == 0.5);
  // Scores 0.2 0.6 for no-shows and 0.4 0.6 for arrivals: of the 4 pairs,
  // (0.6 vs 0.4) wins, (0.6 vs 0.6) ties, (0.2 vs 0.4) loses, (0.2 vs 0.6)
  // loses: (1 + 0.5) / 4.
  mixed.AddOutcome(0.2, true);
  mixed.AddOutcome(0.6, true);
  mixed.AddOutcome(0.4, false);
  mixed.AddOutcome(0.6, false);
  CHECK(mixed.AllTime().auc == Approx(1.5 / 4.0));
}

TEST_CASE(
    "PrequentialMetrics counts exclusions by reason and keeps them in "
    "its bytes",
    "[prequential_metrics]") {
  PrequentialMetrics m;
  m.AddExclusion(Exclusion::kRepeat);
  m.AddExclusion(Exclusion::kAbsurd);
  m.AddExclusion(Exclusion::kAbsurd);
  m.AddArrival(-5.0, 0.0, 5.0, 1.0);
  m.AddOutcome(0.3, true);
  CHECK(m.excluded(Exclusion::kRepeat) == 1);
  CHECK(m.excluded(Exclusion::kFuture) == 0);
  CHECK(m.excluded(Exclusion::kAbsurd) == 2);
  CHECK(m.excluded(Exclusion::kOutOfOrder) == 0);
  ByteWriter w;
  m.Write(w);
  const std::string bytes = w.Take();
  PrequentialMetrics restored;
  ByteReader r(bytes);
  REQUIRE(restored.Read(r));
  CHECK(r.AtEnd());
  CHECK(restored.excluded(Exclusion::kAbsurd) == 2);
  CHECK(restored.AllTime().mae_p50_min == m.AllTime().mae_p50_min);
  CHECK(restored.AllTime().log_loss == m.AllTime().log_loss);
  // Any truncation is refused.
  for (size_t n = 0; n < bytes.size(); n += 97) {
    const std::string cut = bytes.substr(0, n);
    PrequentialMetrics p;
    ByteReader rc(cut);
    CHECK_FALSE(p.Read(rc));
  }
}

}  // namespace
}  // namespace noqueue::model::testing
