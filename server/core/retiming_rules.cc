#include "server/core/retiming_rules.h"

#include "proto/base/wire_time.h"

namespace noqueue::server {
namespace {

struct RuleDefaults {
  double notice_min;
  double hysteresis_min;
  int max_changes;
};

RuleDefaults DefaultsOf(v1::ConvocationType type) {
  switch (type) {
    case v1::AIRPORT:  // travellers need time to reach the airport
      return {60, 10, 2};
    case v1::MUSEUM:  // a visit is planned around: move it only for much
      return {30, 15, 2};
    case v1::SALE:
      return {20, 10, 2};
    case v1::MEDICAL:
    case v1::TRAIN_STATION:
    case v1::OTHER:
    case v1::CONVOCATION_TYPE_UNSPECIFIED:
    default:
      return {30, 10, 2};
  }
}

}  // namespace

v1::RetimingRules EffectiveRetimingRules(const v1::RetimingRules& asked,
                                         v1::ConvocationType type) {
  const RuleDefaults d = DefaultsOf(type);
  v1::RetimingRules r = asked;
  if (!r.has_min_notice())
    *r.mutable_min_notice() = ToProtoDuration(absl::Minutes(d.notice_min));
  if (!r.has_hysteresis())
    *r.mutable_hysteresis() = ToProtoDuration(absl::Minutes(d.hysteresis_min));
  if (r.max_changes() == 0) r.set_max_changes(d.max_changes);
  return r;
}

}  // namespace noqueue::server
