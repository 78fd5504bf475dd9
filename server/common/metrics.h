// Prometheus metrics, with prometheus-cpp (Debian's prometheus-cpp-dev).
//
// A component owns the families it updates (prometheus::Family of counters
// or histograms: thread-safe, and Add() returns the same instrument for the
// same labels, so a hot path keeps the reference); gauges that are read off
// a component's state are computed at scrape time by a collector. The
// composition root lists them all in a Scrape, which writes the text format
// (prometheus::TextSerializer, format 0.0.4).
//
//   metrics::CounterFamily reports("noqueue_crowd_reports_total",
//                                  "Crowd reports by verdict.");
//   reports.Add({{"verdict", "rejected"}}).Increment();
//   metrics::Scrape scrape;
//   scrape.Add(&reports);
//   scrape.AddCollector([&] {
//     return std::vector{metrics::ReadGauge("noqueue_planner_queued",
//                                           "Tasks waiting.", {{{}, 3}})};
//   });
//   std::string text = scrape.Text();
#ifndef NOQUEUE_SERVER_COMMON_METRICS_H_
#define NOQUEUE_SERVER_COMMON_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace noqueue::server::metrics {

using Labels = prometheus::Labels;

// A family of counters, or of histograms, by label values; with no labels,
// Add({}) is its one instrument.
class CounterFamily : public prometheus::Family<prometheus::Counter> {
 public:
  CounterFamily(const std::string& name, const std::string& help)
      : Family(name, help, {}) {}
};

class HistogramFamily : public prometheus::Family<prometheus::Histogram> {
 public:
  // Every histogram of the family has the upper bounds `bounds`
  // (increasing; the +Inf bucket is implicit).
  HistogramFamily(const std::string& name, const std::string& help,
                  prometheus::Histogram::BucketBoundaries bounds)
      : Family(name, help, {}), bounds_(std::move(bounds)) {}
  prometheus::Histogram& With(const Labels& labels) {
    return Add(labels, bounds_);
  }

 private:
  const prometheus::Histogram::BucketBoundaries bounds_;
};

// Latency buckets in seconds, from 0.5 ms to 10 s.
prometheus::Histogram::BucketBoundaries SecondsBuckets();

// Metrics read off a component at scrape time, for collectors: a gauge of
// one sample per label set, and a counter that the component keeps itself.
struct Sample {
  Labels labels;
  double value = 0;
};
prometheus::MetricFamily ReadGauge(std::string name, std::string help,
                                   const std::vector<Sample>& samples);
prometheus::MetricFamily ReadCounter(std::string name, std::string help,
                                     double value);

// Every metric of a server, written in the text format at each scrape.
class Scrape {
 public:
  // `collectable` (a family) must outlive the Scrape.
  void Add(const prometheus::Collectable* collectable);
  // Runs `collect` at each scrape; it must not block for long.
  void AddCollector(std::function<std::vector<prometheus::MetricFamily>()>);

  // Every metric, in the order added.
  std::string Text() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::function<std::vector<prometheus::MetricFamily>()>>
      collectors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace noqueue::server::metrics

#endif  // NOQUEUE_SERVER_COMMON_METRICS_H_
