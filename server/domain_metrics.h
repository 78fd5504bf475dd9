// The domain's metrics: what a scrape of NoQueue shows beside the gRPC
// server metrics (server/rpc_observer.h).
//   noqueue_tags_total{result,code}            tags, by what became of them
//   noqueue_tags_excluded_total{reason}        stored, kept out of learning
//   noqueue_crowd_reports_total{verdict,reason}
//   noqueue_model_mae_minutes{venue_id}        rolling (recent) P50 error
//   noqueue_model_coverage_p10_p90{venue_id}   rolling share in [P10, P90]
//   noqueue_model_arrivals_scored{venue_id}    arrivals behind those two
//   noqueue_wait_promised_seconds{venue_id}    today's schedules, as planned
//   noqueue_wait_measured_seconds{venue_id}    today's tags (arrival->service)
//   noqueue_waits_measured{venue_id}           waits behind the last one
//   noqueue_store_commit_seconds, noqueue_store_batch_jobs (histograms)
//   noqueue_store_wal_bytes, noqueue_store_wal_truncations_total
//   noqueue_planner_queued, noqueue_planner_running
//   noqueue_webhook_deliveries_total, noqueue_webhook_failed_attempts_total,
//   noqueue_webhook_dead_total, noqueue_webhook_pending
#ifndef NOQUEUE_SERVER_DOMAIN_METRICS_H_
#define NOQUEUE_SERVER_DOMAIN_METRICS_H_

#include "server/api/arrival_service.h"
#include "server/common/executor.h"
#include "server/common/metrics.h"
#include "server/core/crowd_tracker.h"
#include "server/core/learner.h"
#include "server/live/live_days.h"
#include "server/store/sqlite/sqlite_store.h"
#include "server/streams/arrival_stream.h"
#include "server/webhooks/webhook_dispatcher.h"

namespace noqueue::server {

struct MetricSources {
  SqliteStore* store = nullptr;
  Learner* learning = nullptr;
  CrowdTracker* crowd = nullptr;
  LiveDays* live = nullptr;
  BoundedExecutor* planner = nullptr;
  const TagCounters* tags = nullptr;
  WebhookDispatcher* webhooks = nullptr;
  const ArrivalServiceImpl* arrivals = nullptr;
  int max_streams = 0;
};

// Lists the domain's metrics in `scrape`; `sources` must outlive it.
void RegisterDomainMetrics(const MetricSources& sources,
                           metrics::Scrape& scrape);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_DOMAIN_METRICS_H_
