// The live day's re-timing rules of a schedule: what the request asked for,
// completed by its convocation type's defaults (notice, hysteresis, changes
// per attendee).
#ifndef NOQUEUE_SERVER_CORE_RETIMING_RULES_H_
#define NOQUEUE_SERVER_CORE_RETIMING_RULES_H_

#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"

namespace noqueue::server {

// The rules asked for, with the convocation type's defaults where unset.
v1::RetimingRules EffectiveRetimingRules(const v1::RetimingRules& asked,
                                         v1::ConvocationType type);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_CORE_RETIMING_RULES_H_
