// Tests of the no-show model: its prior, what it learns of tokens, and the
// tokens themselves.
#include "model/no_show_model.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "model/byte_codec.h"
#include "model/convocation_type.h"
#include "tests/support/model_fixtures.h"

namespace noqueue::model::testing {
namespace {

std::vector<uint64_t> Tokens(const std::string& lead) {
  NoShowTokens t;
  t.Add("lead", lead);
  t.Add("bias", 0);
  t.Add("type", 4);
  t.Cross(1);
  return t.tokens();
}

TEST_CASE("NoShowModel that learned nothing predicts the prior",
          "[no_show_model]") {
  NoShowModel m;
  const double prior =
      std::log(0.20 / 0.80);  // medical: PriorFor(kMedical).no_show_rate
  REQUIRE(PriorFor(ConvocationType::kMedical).no_show_rate == 0.20);
  CHECK(m.Predict(Tokens("0"), prior) == Approx(0.20).epsilon(1e-12));
  CHECK(m.Predict({}, prior) == Approx(0.20).epsilon(1e-12));
  CHECK(m.Predict(Tokens("0"), std::log(0.03 / 0.97)) ==
        Approx(0.03).epsilon(1e-12));
}

TEST_CASE(
    "NoShowModel learns that a token predicts no-shows and another "
    "predicts arrivals",
    "[no_show_model]") {
  // Convocations booked 61+ days ahead never come, same-day ones always do;
  // 200 of each, alternating. The model must move both well away from the
  // 0.20 prior; FTRL's L1 and L2 keep it off 0 and 1, and the shared bias
  // and type tokens learn both lessons at once and cancel, so the bounds are
  // loose (seen: 0.94 and 0.063).
  NoShowModel m;
  const double prior = std::log(0.20 / 0.80);
  const std::vector<uint64_t> far = Tokens("61+");
  const std::vector<uint64_t> same_day = Tokens("0");
  REQUIRE(far != same_day);
  double previous = m.Predict(far, prior);
  for (int i = 0; i < 200; ++i) {
    m.Learn(far, prior, /*no_show=*/true);
    m.Learn(same_day, prior, /*no_show=*/false);
    if (i < 5) {
      const double p = m.Predict(far, prior);
      CHECK(p > previous);
      previous = p;
    }
  }
  CHECK(m.Predict(far, prior) > 0.8);
  CHECK(m.Predict(same_day, prior) < 0.10);

  // A round trip through bytes keeps the predictions exactly.
  ByteWriter w;
  m.Write(w);
  const std::string bytes = w.Take();
  NoShowModel restored;
  ByteReader r(bytes);
  REQUIRE(restored.Read(r));
  CHECK(r.AtEnd());
  CHECK(restored.Predict(far, prior) == m.Predict(far, prior));
  CHECK(restored.Predict(same_day, prior) == m.Predict(same_day, prior));
}

TEST_CASE("NoShowTokens are the same for the same facts and differ otherwise",
          "[no_show_model]") {
  // FNV hashing: stable across runs, so a snapshot restores the same slots.
  CHECK(Tokens("4-7") == Tokens("4-7"));
  CHECK(Tokens("4-7") != Tokens("8-14"));
  NoShowTokens a;
  a.Add("venue", "clinic-1");
  a.Add("type", 4);
  a.Add("hour", 9);
  a.Cross(1);
  // 3 facts, then the first crossed with the 2 others.
  CHECK(a.tokens().size() == 5);
  NoShowTokens b;
  b.Add("venue", std::string("clinic-1"));
  b.Add("type", int64_t{4});
  CHECK(b.tokens()[0] == a.tokens()[0]);
  CHECK(b.tokens()[1] == a.tokens()[1]);
}

}  // namespace
}  // namespace noqueue::model::testing
