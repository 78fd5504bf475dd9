// Tests of the residual histogram: its quantiles against known
// distributions, how it forgets, its edges and its raw state.
#include "model/decayed_histogram.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "model/normal.h"
#include "tests/support/model_fixtures.h"

namespace noqueue::model::testing {
namespace {

TEST_CASE(
    "DecayedHistogram quantiles of uniform samples match the uniform "
    "quantiles within one bin",
    "[decayed_histogram]") {
  // No forgetting, so all 20000 samples count. The sampling error of a
  // quantile of U(0 100) is 100*sqrt(q(1-q)/n) <= 0.35 min: one 1-minute bin
  // is about three of those.
  DecayedHistogram h(-240.0, 480.0, 1.0, /*decay=*/1.0);
  std::mt19937_64 rng(0x5EED0001);
  std::uniform_real_distribution<double> u(0.0, 100.0);
  for (int i = 0; i < 20000; ++i) h.Add(u(rng));
  for (double q : {0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95}) {
    INFO("q = " << q);
    CHECK(h.Quantile(q) == Approx(100.0 * q).margin(1.0));
  }
  CHECK(h.TotalWeight() == Approx(20000.0));
}

TEST_CASE(
    "DecayedHistogram quantiles of normal samples match the normal "
    "quantiles within one bin",
    "[decayed_histogram]") {
  // N(30 20) with 20000 samples: the sampling error of the P10 quantile is
  // sqrt(0.09/n)/pdf = 0.24 min and of the median 0.18 min; one bin is 4 to 5
  // of those.
  DecayedHistogram h(-240.0, 480.0, 1.0, /*decay=*/1.0);
  std::mt19937_64 rng(0x5EED0002);
  std::normal_distribution<double> n(30.0, 20.0);
  for (int i = 0; i < 20000; ++i) h.Add(n(rng));
  CHECK(h.Quantile(0.10) == Approx(30.0 - kZ90 * 20.0).margin(1.0));
  CHECK(h.Quantile(0.25) == Approx(30.0 - kZ75 * 20.0).margin(1.0));
  CHECK(h.Quantile(0.50) == Approx(30.0).margin(1.0));
  CHECK(h.Quantile(0.75) == Approx(30.0 + kZ75 * 20.0).margin(1.0));
  CHECK(h.Quantile(0.90) == Approx(30.0 + kZ90 * 20.0).margin(1.0));
}

TEST_CASE("DecayedHistogram normal prior alone gives the normal quantiles",
          "[decayed_histogram]") {
  // The prior's mass is spread by the exact CDF; only the linear
  // interpolation inside a one-minute bin departs from the normal quantile,
  // by well under a tenth of a minute for sd 15.
  DecayedHistogram h;
  h.AddNormalPrior(-5.0, 15.0, 30.0);
  CHECK(h.TotalWeight() == Approx(30.0).epsilon(1e-6));
  CHECK(h.Quantile(0.10) == Approx(-5.0 - kZ90 * 15.0).margin(0.1));
  CHECK(h.Quantile(0.50) == Approx(-5.0).margin(0.1));
  CHECK(h.Quantile(0.90) == Approx(-5.0 + kZ90 * 15.0).margin(0.1));
}

TEST_CASE("DecayedHistogram weighs each older observation by decay",
          "[decayed_histogram]") {
  // decay 0.5: Add(10) then Add(20) leave weights 0.5 and 1 (the latest
  // counts 1) in the bins [10 11) and [20 21), so a third of the mass sits
  // at 10 and the total is 1.5.
  DecayedHistogram h(0.0, 100.0, 1.0, /*decay=*/0.5);
  h.Add(10.0);
  h.Add(20.0);
  CHECK(h.TotalWeight() == Approx(1.5));
  CHECK(h.Quantile(1.0 / 6.0) == Approx(10.5));  // half-way into bin 10
  CHECK(h.Quantile(0.5) == Approx(20.25));       // (0.75 - 0.5) / 1 into bin 20
  CHECK(h.Quantile(0.99) == Approx(20.985));
}

TEST_CASE(
    "DecayedHistogram follows a shifted distribution and forgets the "
    "old one",
    "[decayed_histogram]") {
  // 3000 samples of U(0 100) then 8000 of U(200 300) with the model's decay
  // 0.999: the old samples keep 0.999^8000 = 3e-4 of their weight. The new
  // ones count as about (1+d)/(1-d) = 2000 independent samples, so a
  // quantile's sampling error is up to 100*sqrt(0.25/2000) = 1.1 min; 4 min
  // is over 3.5 of those. Without forgetting P10 would sit near 50 and the
  // median near 236.
  DecayedHistogram h(-240.0, 480.0, 1.0, /*decay=*/0.999);
  std::mt19937_64 rng(0x5EED0003);
  std::uniform_real_distribution<double> u(0.0, 100.0);
  for (int i = 0; i < 3000; ++i) h.Add(u(rng));
  REQUIRE(h.Quantile(0.5) == Approx(50.0).margin(4.0));
  for (int i = 0; i < 8000; ++i) h.Add(200.0 + u(rng));
  CHECK(h.Quantile(0.02) > 200.0);
  CHECK(h.Quantile(0.10) == Approx(210.0).margin(4.0));
  CHECK(h.Quantile(0.50) == Approx(250.0).margin(4.0));
  CHECK(h.Quantile(0.90) == Approx(290.0).margin(4.0));
  // 11000 observations with decay 0.999 weigh (1 - 0.999^11000) / 0.001.
  CHECK(h.TotalWeight() ==
        Approx((1.0 - std::pow(0.999, 11000)) / 0.001).epsilon(1e-9));
}

TEST_CASE(
    "DecayedHistogram clamps values outside its range into the edge "
    "bins and returns the middle when empty",
    "[decayed_histogram]") {
  DecayedHistogram h(-240.0, 480.0, 1.0, 0.999);
  CHECK(h.Quantile(0.5) == Approx(120.0));
  CHECK(h.TotalWeight() == 0.0);
  h.Add(-10000.0);
  CHECK(h.Quantile(0.5) == Approx(-239.5));
  DecayedHistogram g(-240.0, 480.0, 1.0, 0.999);
  g.Add(10000.0);
  CHECK(g.Quantile(0.5) == Approx(479.5));
}

TEST_CASE(
    "DecayedHistogram stays finite and exact after its weight unit "
    "is renormalised",
    "[decayed_histogram]") {
  // decay 0.5 doubles the weight unit per Add: 1100 adds would reach 2^1100,
  // past the largest double, unless the unit is renormalised on the way.
  // Alternating 10 and 20 (ending on 20) leaves 2/3 of the mass at 20, and a
  // total of 1 + 0.5 + 0.25 + ... = 2 in units of the latest observation.
  DecayedHistogram h(0.0, 100.0, 1.0, /*decay=*/0.5);
  for (int i = 0; i < 1100; ++i) h.Add(i % 2 == 0 ? 10.0 : 20.0);
  CHECK(std::isfinite(h.raw_unit()));
  CHECK(std::isfinite(h.raw_total()));
  CHECK(h.Quantile(0.2) == Approx(10.6));
  CHECK(h.Quantile(0.5) == Approx(20.25));
  CHECK(h.TotalWeight() == Approx(2.0));
}

TEST_CASE(
    "DecayedHistogram SetRaw restores the state read off raw_bins "
    "raw_unit and raw_total",
    "[decayed_histogram]") {
  DecayedHistogram a(-240.0, 480.0, 1.0, 0.99);
  a.AddNormalPrior(0.0, 12.0, 30.0);
  std::mt19937_64 rng(0x5EED0004);
  std::normal_distribution<double> n(-7.0, 9.0);
  for (int i = 0; i < 500; ++i) a.Add(n(rng));

  DecayedHistogram b(-240.0, 480.0, 1.0, 0.99);
  b.SetRaw(a.raw_bins(), a.raw_unit(), a.raw_total());
  CHECK(b.raw_bins() == a.raw_bins());
  CHECK(b.raw_unit() == a.raw_unit());
  CHECK(b.raw_total() == a.raw_total());
  CHECK(b.TotalWeight() == a.TotalWeight());
  for (double q : {0.1, 0.5, 0.9}) CHECK(b.Quantile(q) == a.Quantile(q));

  // The unit is part of the state: later observations weigh the same in both.
  for (int i = 0; i < 50; ++i) {
    double v = 40.0 + i;
    a.Add(v);
    b.Add(v);
  }
  CHECK(b.raw_bins() == a.raw_bins());
  CHECK(b.Quantile(0.9) == a.Quantile(0.9));
}

TEST_CASE(
    "DecayedHistogram TotalWeight counts the latest observation as "
    "weight one",
    "[decayed_histogram]") {
  // Contract: Add() adds "one observation of weight 1 (today's weight)" and
  // TotalWeight() is "in units of today's observations"; AddNormalPrior(...,
  // 30) alone reads back as 30. One Add with decay 0.5 should therefore read
  // back 1, and a prior of 10 followed by one Add should read 10*0.5 + 1 = 6.
  DecayedHistogram one(0.0, 100.0, 1.0, /*decay=*/0.5);
  one.Add(10.0);
  CHECK(one.TotalWeight() == Approx(1.0));
  DecayedHistogram prior_then_one(0.0, 100.0, 1.0, /*decay=*/0.5);
  prior_then_one.AddNormalPrior(50.0, 10.0, 10.0);
  prior_then_one.Add(10.0);
  CHECK(prior_then_one.TotalWeight() == Approx(6.0).epsilon(1e-6));
}

}  // namespace
}  // namespace noqueue::model::testing
