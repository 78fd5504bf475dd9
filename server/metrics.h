// Prometheus instruments and their text exposition (format 0.0.4).
//
// Debian 12 packages no prometheus-cpp (it arrives in Debian 13), so this is
// the small part of it NoQueue needs: counters and histograms that a
// component owns and updates lock-free on its hot path, families of them by
// label values, and a registry that writes every registered metric (and the
// gauges its collectors read at scrape time) in the text format.
//
//   metrics::Family<metrics::Counter> reports({"result", "reason"});
//   reports.With({"rejected", "too_far"}).Increment();
//   metrics::Registry registry;
//   registry.Add("noqueue_crowd_reports_total", "Crowd reports by verdict.",
//                &reports);
//   std::string text = registry.Scrape();
#ifndef NOQUEUE_SERVER_METRICS_H_
#define NOQUEUE_SERVER_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace noqueue::server::metrics {

// A monotonic count.
class Counter {
 public:
  void Increment(int64_t by = 1) {
    n_.fetch_add(by, std::memory_order_relaxed);
  }
  int64_t value() const { return n_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> n_{0};
};

// Observations counted in buckets of fixed upper bounds, with their sum.
class Histogram {
 public:
  // `bounds`: increasing upper bounds (the +Inf bucket is implicit).
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  struct Reading {
    std::vector<double> bounds;
    std::vector<int64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
  };
  Reading Read() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<int64_t>[]> counts_;  // per bound, then +Inf
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, from 0.5 ms to 10 s.
std::vector<double> SecondsBuckets();

// Instruments of one metric by label values. With() returns the same
// instrument for the same values for the family's lifetime.
template <typename T>
class Family {
 public:
  explicit Family(
      std::vector<std::string> label_names,
      std::function<std::unique_ptr<T>()> make =
          [] { return std::make_unique<T>(); })
      : names_(std::move(label_names)), make_(std::move(make)) {}

  T& With(std::initializer_list<absl::string_view> values) {
    std::vector<std::string> key(values.begin(), values.end());
    absl::MutexLock lock(&mu_);
    std::unique_ptr<T>& slot = by_values_[key];
    if (!slot) slot = make_();
    return *slot;
  }

  const std::vector<std::string>& label_names() const { return names_; }
  // Calls `fn(values, instrument)` for every instrument made so far.
  template <typename Fn>
  void ForEach(Fn fn) const {
    absl::MutexLock lock(&mu_);
    for (const auto& [values, instrument] : by_values_) fn(values, *instrument);
  }

 private:
  const std::vector<std::string> names_;
  const std::function<std::unique_ptr<T>()> make_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::vector<std::string>, std::unique_ptr<T>> by_values_
      ABSL_GUARDED_BY(mu_);
};

using Label = std::pair<absl::string_view, absl::string_view>;

// Text being written: one metric at a time, its samples right after its
// header, as the format requires.
class Exposition {
 public:
  // `type`: "counter", "gauge" or "histogram".
  void Header(absl::string_view name, absl::string_view help,
              absl::string_view type);
  void Sample(absl::string_view name, absl::Span<const Label> labels,
              double value);
  // The _bucket, _sum and _count samples of one histogram.
  void Histogram(absl::string_view name, absl::Span<const Label> labels,
                 const Histogram::Reading& reading);
  // A whole gauge metric with one sample per label set.
  void Gauge(absl::string_view name, absl::string_view help,
             absl::Span<const Label> labels, double value);

  std::string& text() { return text_; }

 private:
  std::string text_;
};

// What a scrape shows: registered instruments, then the collectors' gauges.
// Registered instruments must outlive the registry's scrapes.
class Registry {
 public:
  void Add(std::string name, std::string help, const Counter* counter);
  void Add(std::string name, std::string help, const Family<Counter>* family);
  void Add(std::string name, std::string help, const Histogram* histogram);
  void Add(std::string name, std::string help, const Family<Histogram>* family);
  // Writes whole metrics (Header then Samples) at each scrape.
  void AddCollector(std::function<void(Exposition&)> collect);

  // Every metric in the text format.
  std::string Scrape() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::function<void(Exposition&)>> writers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace noqueue::server::metrics

#endif  // NOQUEUE_SERVER_METRICS_H_
