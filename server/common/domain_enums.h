// The wire's enums and the model's, one to the other. Switches, not
// arithmetic: a value added to one side fails to compile (-Wswitch) or the
// static_assert below, rather than mapping to a neighbour.
#ifndef NOQUEUE_SERVER_COMMON_DOMAIN_ENUMS_H_
#define NOQUEUE_SERVER_COMMON_DOMAIN_ENUMS_H_

#include "model/convocation_type.h"
#include "noqueue/v1/arrival.pb.h"
#include "noqueue/v1/live.pb.h"
#include "noqueue/v1/venue.pb.h"

namespace noqueue::server {

static_assert(v1::ConvocationType_ARRAYSIZE == model::kConvocationTypeCount + 1,
              "every wire ConvocationType but UNSPECIFIED has a model type");

// The model's type of a known wire type (UNSPECIFIED, which validation
// refuses, maps to kOther).
inline model::ConvocationType ToModelType(v1::ConvocationType type) {
  switch (type) {
    case v1::MUSEUM:
      return model::ConvocationType::kMuseum;
    case v1::AIRPORT:
      return model::ConvocationType::kAirport;
    case v1::TRAIN_STATION:
      return model::ConvocationType::kTrainStation;
    case v1::SALE:
      return model::ConvocationType::kSale;
    case v1::MEDICAL:
      return model::ConvocationType::kMedical;
    case v1::OTHER:
    case v1::CONVOCATION_TYPE_UNSPECIFIED:
    default:
      return model::ConvocationType::kOther;
  }
}

inline v1::ConvocationType ToWireType(model::ConvocationType type) {
  switch (type) {
    case model::ConvocationType::kMuseum:
      return v1::MUSEUM;
    case model::ConvocationType::kAirport:
      return v1::AIRPORT;
    case model::ConvocationType::kTrainStation:
      return v1::TRAIN_STATION;
    case model::ConvocationType::kSale:
      return v1::SALE;
    case model::ConvocationType::kMedical:
      return v1::MEDICAL;
    case model::ConvocationType::kOther:
      return v1::OTHER;
  }
  return v1::OTHER;
}

// The live-day event a tag of `kind` is.
inline v1::ScheduleEventKind ToLiveEvent(v1::ArrivalKind kind) {
  switch (kind) {
    case v1::ARRIVED:
      return v1::EVENT_ARRIVED;
    case v1::SERVICE_STARTED:
      return v1::EVENT_SERVICE_STARTED;
    case v1::SERVICE_ENDED:
      return v1::EVENT_SERVICE_ENDED;
    case v1::NO_SHOW:
      return v1::EVENT_NO_SHOW;
    case v1::ARRIVAL_KIND_UNSPECIFIED:
    default:
      return v1::SCHEDULE_EVENT_KIND_UNSPECIFIED;
  }
}

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_COMMON_DOMAIN_ENUMS_H_
