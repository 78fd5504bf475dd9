#include "server/server_metrics.h"

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

void RegisterDomainMetrics(const MetricSources& s, metrics::Registry& r) {
  if (s.tags != nullptr) {
    r.Add("noqueue_tags_total",
          "Tags received, by result (ACCEPTED, DUPLICATE, REJECTED) and code.",
          &s.tags->results);
    r.Add("noqueue_tags_excluded_total",
          "Tags stored but kept out of learning, by reason.",
          &s.tags->excluded);
  }
  r.Add("noqueue_crowd_reports_total",
        "Crowd reports judged, by verdict and rejection reason.",
        &s.crowd->reports_judged());
  r.Add("noqueue_store_commit_seconds",
        "Time of each write batch, from BEGIN to the end of COMMIT.",
        &s.store->writer().commit_seconds());
  r.Add("noqueue_store_batch_jobs", "Writes committed in each batch.",
        &s.store->writer().batch_jobs());
  SqliteStore* store = s.store;
  r.AddCollector([store](metrics::Exposition& out) {
    const WalStats wal = store->wal_stats();
    out.Gauge("noqueue_store_wal_bytes",
              "Bytes in the SQLite write-ahead log after the last commit.", {},
              static_cast<double>(wal.bytes));
    out.Header("noqueue_store_wal_truncations_total",
               "TRUNCATE checkpoints of the write-ahead log.", "counter");
    out.Sample("noqueue_store_wal_truncations_total", {},
               static_cast<double>(wal.truncations));
  });
  if (const ArrivalServiceImpl* arrivals = s.arrivals) {
    const int max_streams = s.max_streams;
    r.AddCollector([arrivals, max_streams](metrics::Exposition& out) {
      out.Gauge("noqueue_tag_streams_open", "StreamArrivals calls open.", {},
                static_cast<double>(arrivals->open_streams()));
      out.Gauge("noqueue_tag_streams_max",
                "StreamArrivals calls open at once before new ones are "
                "refused (RESOURCE_EXHAUSTED).",
                {}, static_cast<double>(max_streams));
    });
  }
  BoundedExecutor* planner = s.planner;
  r.AddCollector([planner](metrics::Exposition& out) {
    out.Gauge("noqueue_planner_queued",
              "Planning tasks (schedules, re-timings) waiting for a thread.",
              {}, static_cast<double>(planner->queued()));
    out.Gauge("noqueue_planner_running", "Planning tasks running.", {},
              static_cast<double>(planner->running()));
  });
  if (WebhookDispatcher* webhooks = s.webhooks) {
    r.AddCollector([webhooks](metrics::Exposition& out) {
      const WebhookCounters c = webhooks->counters();
      auto counter = [&](const char* name, const char* help, int64_t v) {
        out.Header(name, help, "counter");
        out.Sample(name, {}, static_cast<double>(v));
      };
      counter("noqueue_webhook_deliveries_total",
              "Webhook events delivered (answered 2xx).", c.delivered);
      counter("noqueue_webhook_failed_attempts_total",
              "Webhook deliveries that failed (retried, or dead).",
              c.failed_attempts);
      counter("noqueue_webhook_dead_total",
              "Webhook events given up on after the retry window.", c.dead);
      if (c.pending >= 0) {
        out.Gauge("noqueue_webhook_pending",
                  "Webhook events waiting for delivery, all endpoints.", {},
                  static_cast<double>(c.pending));
      }
    });
  }
  LearningLoop* learning = s.learning;
  LiveDays* live = s.live;
  r.AddCollector([store, learning, live](metrics::Exposition& out) {
    absl::StatusOr<std::vector<v1::Venue>> venues = store->ListVenues();
    if (!venues.ok()) return;
    struct Model {
      double mae = 0, coverage = 0, scored = 0;
    };
    std::vector<std::optional<Model>> models(venues->size());
    learning->WithModel([&](const model::ArrivalModel& m) {
      for (size_t i = 0; i < venues->size(); ++i) {
        const model::PrequentialMetrics* vm =
            m.VenueMetrics((*venues)[i].venue_id());
        if (vm == nullptr) continue;
        const auto recent = vm->Recent();
        if (recent.arrivals == 0) continue;
        models[i] = Model{recent.mae_p50_min, recent.coverage_p10_p90,
                          static_cast<double>(recent.arrivals)};
      }
      return 0;
    });
    auto per_venue = [&](const char* name, const char* help, auto value) {
      out.Header(name, help, "gauge");
      for (size_t i = 0; i < venues->size(); ++i) {
        if (!models[i]) continue;
        out.Sample(name, {{"venue_id", (*venues)[i].venue_id()}},
                   value(*models[i]));
      }
    };
    per_venue("noqueue_model_mae_minutes",
              "Rolling mean absolute error of the predicted median arrival.",
              [](const Model& m) { return m.mae; });
    per_venue("noqueue_model_coverage_p10_p90",
              "Rolling share of arrivals inside their predicted P10-P90.",
              [](const Model& m) { return m.coverage; });
    per_venue("noqueue_model_arrivals_scored",
              "Arrivals behind the rolling error and coverage.",
              [](const Model& m) { return m.scored; });
    std::vector<DayWaits> waits;
    for (const v1::Venue& v : *venues) {
      waits.push_back(WaitsToday(*store, *live, v));
    }
    auto per_venue_wait = [&](const char* name, const char* help, auto value) {
      out.Header(name, help, "gauge");
      for (size_t i = 0; i < venues->size(); ++i) {
        if (waits[i].promised_weight == 0 && waits[i].measured == 0) continue;
        out.Sample(name, {{"venue_id", (*venues)[i].venue_id()}},
                   value(waits[i]));
      }
    };
    per_venue_wait(
        "noqueue_wait_promised_seconds",
        "Mean wait today's schedules promised (expected, as planned).",
        [](const DayWaits& w) {
          return w.promised_weight > 0 ? w.promised_s / w.promised_weight : 0;
        });
    per_venue_wait("noqueue_wait_measured_seconds",
                   "Mean wait measured today by the tags (arrival to the "
                   "start of service).",
                   [](const DayWaits& w) {
                     return w.measured > 0 ? w.measured_s / w.measured : 0;
                   });
    per_venue_wait("noqueue_waits_measured",
                   "Waits measured today (behind the mean).",
                   [](const DayWaits& w) { return double(w.measured); });
  });
}

}  // namespace noqueue::server
