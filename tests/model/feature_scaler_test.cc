// Tests of the feature scaler: online standardisation, clipping, and the
// names it gives slots to.
#include "model/feature_scaler.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>

#include "model/byte_codec.h"
#include "tests/support/model_fixtures.h"

namespace noqueue::model::testing {
namespace {

TEST_CASE(
    "FeatureScaler standardises by the running mean and sample standard "
    "deviation and clips at 5",
    "[feature_scaler]") {
  FeatureScaler s;
  const std::optional<int> slot = s.SlotOrAssign("price_eur");
  REQUIRE(slot == 0);
  CHECK(s.Slot("price_eur") == 0);
  CHECK(s.Slot("distance_km") == std::nullopt);
  // Nothing known until two values: 0.
  CHECK(s.Standardise(*slot, 42.0) == 0.0);
  s.Observe(*slot, 1.0);
  CHECK(s.Standardise(*slot, 42.0) == 0.0);
  // 1 2 3: mean 2, sample sd 1.
  s.Observe(*slot, 2.0);
  s.Observe(*slot, 3.0);
  CHECK(s.Standardise(*slot, 4.0) == Approx(2.0));
  CHECK(s.Standardise(*slot, 0.5) == Approx(-1.5));
  CHECK(s.Standardise(*slot, 1000.0) == 5.0);
  CHECK(s.Standardise(*slot, -1000.0) == -5.0);
  // A constant feature has no spread: 0, not a division by zero.
  const int flat = *s.SlotOrAssign("constant");
  CHECK(flat == 1);
  for (int i = 0; i < 5; ++i) s.Observe(flat, 7.0);
  CHECK(s.Standardise(flat, 9.0) == 0.0);
}

TEST_CASE(
    "FeatureScaler gives slots to the first kMaxFeatures names only and "
    "ignores later ones",
    "[feature_scaler]") {
  FeatureScaler s;
  for (int i = 0; i < FeatureScaler::kMaxFeatures + 6; ++i) {
    const std::string name = "f" + std::to_string(i);
    const std::optional<int> slot = s.SlotOrAssign(name);
    if (i < FeatureScaler::kMaxFeatures) {
      CHECK(slot == i);
      s.Observe(*slot, i);
    } else {
      CHECK(slot == std::nullopt);
      CHECK(s.Slot(name) == std::nullopt);
    }
  }
  CHECK(s.names().size() == FeatureScaler::kMaxFeatures);
  CHECK(s.SlotOrAssign("f3") == 3);  // a known name keeps its slot

  // A round trip through bytes restores the names, slots and moments.
  ByteWriter w;
  s.Write(w);
  const std::string bytes = w.Take();
  FeatureScaler t;
  ByteReader r(bytes);
  REQUIRE(t.Read(r));
  CHECK(r.AtEnd());
  CHECK(t.names() == s.names());
  CHECK(t.Slot("f23") == 23);
  // A name count above kMaxFeatures is refused.
  std::string too_many = bytes;
  const uint32_t n = FeatureScaler::kMaxFeatures + 1;
  std::memcpy(too_many.data(), &n, sizeof(n));
  FeatureScaler u;
  ByteReader r2(too_many);
  CHECK_FALSE(u.Read(r2));
}

}  // namespace
}  // namespace noqueue::model::testing
