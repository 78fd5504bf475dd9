#include "server/domain_metrics.h"

#include "absl/time/clock.h"
#include "model/prequential_metrics.h"
#include "proto/base/wire_time.h"

namespace noqueue::server {

namespace {

// Today's waits at a venue: promised by its plans (each attendee's expected
// wait, weighted by their chance to come) and measured by its tags (arrival
// to the start of service).
struct DayWaits {
  double promised_s = 0, promised_weight = 0;
  double measured_s = 0;
  int measured = 0;
};

DayWaits WaitsToday(Store& store, LiveDays& live, const v1::Venue& venue) {
  DayWaits w;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(venue.time_zone(), &tz)) tz = absl::UTCTimeZone();
  absl::Time now = live.clock().Now();
  if (now == absl::UnixEpoch()) now = absl::Now();
  const absl::CivilDay today = absl::ToCivilDay(now, tz);
  absl::StatusOr<std::vector<std::string>> ids =
      store.SchedulesBetween(venue.venue_id(), absl::FromCivil(today, tz),
                             absl::FromCivil(today + 1, tz));
  if (!ids.ok()) return w;
  for (const std::string& id : *ids) {
    absl::StatusOr<LiveState> state = live.Load(id);
    if (!state.ok()) continue;
    for (const v1::Convocation& c : state->schedule.convocations()) {
      const double come = 1.0 - c.no_show_probability();
      w.promised_s +=
          come * absl::ToDoubleSeconds(ToDuration(c.expected_wait()));
      w.promised_weight += come;
    }
    for (const LiveAttendee& a : state->attendees) {
      if (a.arrived && a.serving_since) {
        w.measured_s += absl::ToDoubleSeconds(*a.serving_since - *a.arrived);
        ++w.measured;
      }
    }
  }
  return w;
}

}  // namespace

void RegisterDomainMetrics(const MetricSources& s, metrics::Scrape& scrape) {
  if (s.tags != nullptr) {
    scrape.Add(&s.tags->results());
    scrape.Add(&s.tags->excluded());
  }
  scrape.Add(&s.crowd->reports_judged());
  scrape.Add(&s.store->writer().commit_seconds());
  scrape.Add(&s.store->writer().batch_jobs());
  SqliteStore* store = s.store;
  scrape.AddCollector([store] {
    const WalStats wal = store->wal_stats();
    return std::vector{
        metrics::ReadGauge(
            "noqueue_store_wal_bytes",
            "Bytes in the SQLite write-ahead log after the last commit.",
            {{{}, static_cast<double>(wal.bytes)}}),
        metrics::ReadCounter("noqueue_store_wal_truncations_total",
                             "TRUNCATE checkpoints of the write-ahead log.",
                             static_cast<double>(wal.truncations))};
  });
  if (const ArrivalServiceImpl* arrivals = s.arrivals) {
    const int max_streams = s.max_streams;
    scrape.AddCollector([arrivals, max_streams] {
      return std::vector{
          metrics::ReadGauge(
              "noqueue_tag_streams_open", "StreamArrivals calls open.",
              {{{}, static_cast<double>(arrivals->open_streams())}}),
          metrics::ReadGauge("noqueue_tag_streams_max",
                             "StreamArrivals calls open at once before new "
                             "ones are refused (RESOURCE_EXHAUSTED).",
                             {{{}, static_cast<double>(max_streams)}})};
    });
  }
  BoundedExecutor* planner = s.planner;
  scrape.AddCollector([planner] {
    return std::vector{
        metrics::ReadGauge(
            "noqueue_planner_queued",
            "Planning tasks (schedules, re-timings) waiting for a thread.",
            {{{}, static_cast<double>(planner->queued())}}),
        metrics::ReadGauge("noqueue_planner_running", "Planning tasks running.",
                           {{{}, static_cast<double>(planner->running())}})};
  });
  if (WebhookDispatcher* webhooks = s.webhooks) {
    scrape.AddCollector([webhooks] {
      const WebhookCounters c = webhooks->counters();
      std::vector<prometheus::MetricFamily> out = {
          metrics::ReadCounter("noqueue_webhook_deliveries_total",
                               "Webhook events delivered (answered 2xx).",
                               static_cast<double>(c.delivered)),
          metrics::ReadCounter(
              "noqueue_webhook_failed_attempts_total",
              "Webhook deliveries that failed (retried, or dead).",
              static_cast<double>(c.failed_attempts)),
          metrics::ReadCounter(
              "noqueue_webhook_dead_total",
              "Webhook events given up on after the retry window.",
              static_cast<double>(c.dead))};
      if (c.pending >= 0) {
        out.push_back(metrics::ReadGauge(
            "noqueue_webhook_pending",
            "Webhook events waiting for delivery, all endpoints.",
            {{{}, static_cast<double>(c.pending)}}));
      }
      return out;
    });
  }
  Learner* learning = s.learning;
  LiveDays* live = s.live;
  scrape.AddCollector([store, learning, live] {
    std::vector<prometheus::MetricFamily> out;
    absl::StatusOr<std::vector<v1::Venue>> venues = store->ListVenues();
    if (!venues.ok()) return out;
    std::vector<metrics::Sample> mae, coverage, scored;
    learning->WithModel([&](const model::ArrivalModel& m) {
      for (const v1::Venue& v : *venues) {
        const model::PrequentialMetrics* vm = m.VenueMetrics(v.venue_id());
        if (vm == nullptr) continue;
        const auto recent = vm->Recent();
        if (recent.arrivals == 0) continue;
        const metrics::Labels venue = {{"venue_id", v.venue_id()}};
        mae.push_back({venue, recent.mae_p50_min});
        coverage.push_back({venue, recent.coverage_p10_p90});
        scored.push_back({venue, static_cast<double>(recent.arrivals)});
      }
      return 0;
    });
    out.push_back(metrics::ReadGauge(
        "noqueue_model_mae_minutes",
        "Rolling mean absolute error of the predicted median arrival.", mae));
    out.push_back(metrics::ReadGauge(
        "noqueue_model_coverage_p10_p90",
        "Rolling share of arrivals inside their predicted P10-P90.", coverage));
    out.push_back(metrics::ReadGauge(
        "noqueue_model_arrivals_scored",
        "Arrivals behind the rolling error and coverage.", scored));
    std::vector<metrics::Sample> promised, measured, count;
    for (const v1::Venue& v : *venues) {
      const DayWaits w = WaitsToday(*store, *live, v);
      if (w.promised_weight == 0 && w.measured == 0) continue;
      const metrics::Labels venue = {{"venue_id", v.venue_id()}};
      promised.push_back({venue, w.promised_weight > 0
                                     ? w.promised_s / w.promised_weight
                                     : 0});
      measured.push_back(
          {venue, w.measured > 0 ? w.measured_s / w.measured : 0});
      count.push_back({venue, static_cast<double>(w.measured)});
    }
    out.push_back(metrics::ReadGauge(
        "noqueue_wait_promised_seconds",
        "Mean wait today's schedules promised (expected, as planned).",
        promised));
    out.push_back(metrics::ReadGauge("noqueue_wait_measured_seconds",
                                     "Mean wait measured today by the tags "
                                     "(arrival to the start of service).",
                                     measured));
    out.push_back(metrics::ReadGauge("noqueue_waits_measured",
                                     "Waits measured today (behind the mean).",
                                     count));
    return out;
  });
}

}  // namespace noqueue::server
