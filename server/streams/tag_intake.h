// What every stored tag feeds, whichever call brought it (a device's
// StreamArrivals, a batch's RecordArrivals): the metrics count it, the model
// learns its outcome, the crowd tracker the waits and services it measures,
// the live day its event; and the ack the device reads.
#ifndef NOQUEUE_SERVER_STREAMS_TAG_INTAKE_H_
#define NOQUEUE_SERVER_STREAMS_TAG_INTAKE_H_

#include <string>
#include <vector>

#include "noqueue/v1/arrival.pb.h"
#include "server/common/metrics.h"
#include "server/core/crowd_tracker.h"
#include "server/core/learner.h"
#include "server/live/live_days.h"
#include "server/store/store.h"

namespace noqueue::server {

// Tags by what became of them, for the metrics: noqueue_tags_total by
// result (ACCEPTED, DUPLICATE, REJECTED) and gRPC code, and
// noqueue_tags_excluded_total (stored, kept out of learning) by reason.
class TagCounters {
 public:
  void Count(const EventResult& r);
  const metrics::CounterFamily& results() const { return results_; }
  const metrics::CounterFamily& excluded() const { return excluded_; }

 private:
  metrics::CounterFamily results_{
      "noqueue_tags_total",
      "Tags received, by result (ACCEPTED, DUPLICATE, REJECTED) and code."};
  metrics::CounterFamily excluded_{
      "noqueue_tags_excluded_total",
      "Tags stored but kept out of learning, by reason."};
  // Nearly every tag's: found once, not at every tag.
  prometheus::Counter& accepted_ =
      results_.Add({{"result", "ACCEPTED"}, {"code", "OK"}});
  prometheus::Counter& duplicate_ =
      results_.Add({{"result", "DUPLICATE"}, {"code", "OK"}});
};

// Where committed tags go: the model learns the outcomes, the crowd
// estimator the waits and services they measure, the live day its events.
struct TagConsumers {
  Learner* learning;
  CrowdTracker* crowd;
  LiveDays* live;                   // may be null (no live day)
  TagCounters* counters = nullptr;  // may be null
  // Counts, learns from and passes on each stored tag; takes their
  // learnable and live-day events out of `results` (an ack needs neither).
  void Consume(std::vector<EventResult>& results) const;
};

// The ack of a tag with its result.
v1::ArrivalAck ToAck(const std::string& event_id, const EventResult& r);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STREAMS_TAG_INTAKE_H_
