// The rules of arrival tags, as pure functions: which outcomes the model
// learns from, and what service tags measure.
#include "server/store/tag_rules.h"

#include <catch2/catch.hpp>

namespace noqueue::server {
namespace {

const absl::Time kConvocation = absl::FromUnixSeconds(1772442000);  // 09:00
absl::Time At(int minutes) { return kConvocation + absl::Minutes(minutes); }

TEST_CASE("The first plausible outcome is learned from") {
  const LearningPolicy policy;
  TagHistory none;
  CHECK_FALSE(ExcludeFromLearning(policy, v1::ARRIVED, At(-12), kConvocation,
                                  At(0), none));
  CHECK_FALSE(ExcludeFromLearning(policy, v1::NO_SHOW, At(60), kConvocation,
                                  At(60), none));
  CHECK(OffsetMinutes(At(-12), kConvocation) == Approx(-12.0));
}

TEST_CASE(
    "Outcomes are kept out of learning by repeat, clock ahead, absurd "
    "offset, in that order") {
  const LearningPolicy policy;  // 12 h, 5 min
  TagHistory learned;
  learned.Add(v1::ARRIVED, At(0), /*learned=*/true);
  TagHistory none;
  // A second outcome, even a plausible one, is a repeat.
  CHECK(ExcludeFromLearning(policy, v1::NO_SHOW, At(1), kConvocation, At(1),
                            learned) == model::Exclusion::kRepeat);
  // Observed 6 minutes after it was received: a clock running ahead.
  CHECK(ExcludeFromLearning(policy, v1::ARRIVED, At(6), kConvocation, At(0),
                            none) == model::Exclusion::kFuture);
  CHECK_FALSE(ExcludeFromLearning(policy, v1::ARRIVED, At(5), kConvocation,
                                  At(0), none));
  // An arrival 13 hours from its convocation; a no-show then is fine.
  CHECK(ExcludeFromLearning(policy, v1::ARRIVED, At(13 * 60), kConvocation,
                            At(13 * 60), none) == model::Exclusion::kAbsurd);
  CHECK(ExcludeFromLearning(policy, v1::ARRIVED, At(-13 * 60), kConvocation,
                            At(0), none) == model::Exclusion::kAbsurd);
  CHECK_FALSE(ExcludeFromLearning(policy, v1::NO_SHOW, At(13 * 60),
                                  kConvocation, At(13 * 60), none));
  // A repeat is a repeat before anything else.
  CHECK(ExcludeFromLearning(policy, v1::ARRIVED, At(13 * 60), kConvocation,
                            At(0), learned) == model::Exclusion::kRepeat);
  // An excluded outcome does not make the next one a repeat.
  TagHistory excluded;
  excluded.Add(v1::ARRIVED, At(13 * 60), /*learned=*/false);
  CHECK_FALSE(ExcludeFromLearning(policy, v1::ARRIVED, At(2), kConvocation,
                                  At(2), excluded));
}

TEST_CASE(
    "A service start measures the wait since the first arrival stored "
    "before it, observed no later") {
  TagHistory h;
  h.Add(v1::ARRIVED, At(-3), true);
  h.Add(v1::ARRIVED, At(0), false);  // a second arrival does not move it
  auto o = MeasureService("v", v1::SERVICE_STARTED, At(5), h);
  REQUIRE(o.has_value());
  CHECK(o->venue_id == "v");
  CHECK(o->at == At(5));
  CHECK(o->arrival == At(-3));
  CHECK_FALSE(o->duration.has_value());
  // By the clocks it started before it arrived: a start, no wait.
  o = MeasureService("v", v1::SERVICE_STARTED, At(-4), h);
  REQUIRE(o.has_value());
  CHECK_FALSE(o->arrival.has_value());
  // No arrival stored before it: a start, no wait.
  o = MeasureService("v", v1::SERVICE_STARTED, At(5), TagHistory{});
  REQUIRE(o.has_value());
  CHECK_FALSE(o->arrival.has_value());
}

TEST_CASE(
    "A service end measures the service since the first start, and "
    "only the first tag of each kind measures") {
  TagHistory h;
  h.Add(v1::SERVICE_STARTED, At(5), false);
  auto o = MeasureService("v", v1::SERVICE_ENDED, At(12), h);
  REQUIRE(o.has_value());
  CHECK(o->duration == absl::Minutes(7));
  CHECK_FALSE(o->arrival.has_value());
  CHECK_FALSE(MeasureService("v", v1::SERVICE_STARTED, At(6), h));
  h.Add(v1::SERVICE_ENDED, At(12), false);
  CHECK_FALSE(MeasureService("v", v1::SERVICE_ENDED, At(13), h));
  // Outcomes measure no service.
  CHECK_FALSE(MeasureService("v", v1::ARRIVED, At(0), TagHistory{}));
  CHECK_FALSE(MeasureService("v", v1::NO_SHOW, At(0), TagHistory{}));
}

}  // namespace
}  // namespace noqueue::server
