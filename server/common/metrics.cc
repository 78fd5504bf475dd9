#include "server/common/metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace noqueue::server::metrics {
namespace {

prometheus::ClientMetric::Label ToLabel(
    const std::pair<const std::string, std::string>& label) {
  return {label.first, label.second};
}

}  // namespace

prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
}

prometheus::MetricFamily ReadGauge(std::string name, std::string help,
                                   const std::vector<Sample>& samples) {
  prometheus::MetricFamily family{
      std::move(name), std::move(help), prometheus::MetricType::Gauge, {}};
  for (const Sample& s : samples) {
    prometheus::ClientMetric m;
    for (const auto& label : s.labels) m.label.push_back(ToLabel(label));
    m.gauge.value = s.value;
    family.metric.push_back(std::move(m));
  }
  return family;
}

prometheus::MetricFamily ReadCounter(std::string name, std::string help,
                                     double value) {
  prometheus::MetricFamily family{
      std::move(name), std::move(help), prometheus::MetricType::Counter, {}};
  family.metric.emplace_back().counter.value = value;
  return family;
}

void Scrape::Add(const prometheus::Collectable* collectable) {
  AddCollector([collectable] { return collectable->Collect(); });
}

void Scrape::AddCollector(
    std::function<std::vector<prometheus::MetricFamily>()> collect) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collect));
}

std::string Scrape::Text() const {
  std::vector<std::function<std::vector<prometheus::MetricFamily>()>> all;
  {
    absl::MutexLock lock(&mu_);
    all = collectors_;
  }
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collect : all) {
    for (prometheus::MetricFamily& f : collect()) {
      families.push_back(std::move(f));
    }
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace noqueue::server::metrics
