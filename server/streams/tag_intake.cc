#include "server/streams/tag_intake.h"

#include <utility>

#include "model/prequential_metrics.h"

namespace noqueue::server {

void TagCounters::Count(const EventResult& r) {
  if (r.status.ok() && r.disposition == v1::ACCEPTED) {
    accepted_.Increment();
  } else if (r.status.ok() && r.disposition == v1::DUPLICATE) {
    duplicate_.Increment();
  } else {
    results_
        .Add({{"result", v1::AckStatus_Name(r.disposition)},
              {"code", absl::StatusCodeToString(r.status.code())}})
        .Increment();
  }
  if (r.learnable && r.learnable->excluded) {
    excluded_
        .Add({{"reason",
               std::string(model::ExclusionName(*r.learnable->excluded))}})
        .Increment();
  }
}

void TagConsumers::Consume(std::vector<EventResult>& results) const {
  if (counters != nullptr) {
    for (const EventResult& r : results) counters->Count(r);
  }
  // Moved, not copied: a live-day event and a learnable tag are a few
  // allocations each, on the completion thread every stream shares.
  std::vector<LearnableEvent> learnable;
  std::vector<v1::ScheduleEvent> events;
  for (EventResult& r : results) {
    if (r.learnable) learnable.push_back(std::move(*r.learnable));
    if (r.live && live != nullptr) events.push_back(std::move(*r.live));
    r.learnable.reset();
    r.live.reset();
  }
  learning->Learn(learnable);
  crowd->Observe(results);
  if (live != nullptr) live->TagsStored(events);
}

v1::ArrivalAck ToAck(const std::string& event_id, const EventResult& r) {
  v1::ArrivalAck ack;
  ack.set_event_id(event_id);
  ack.set_status(r.disposition);
  ack.set_code(static_cast<int>(r.status.code()));
  ack.set_message(std::string(r.status.message()));
  return ack;
}

}  // namespace noqueue::server
