#include "server/metrics.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace noqueue::server::metrics {

namespace {

// The text format's escapes: a label value's \ " and newline; a help
// text's \ and newline.
void AppendEscaped(std::string* out, absl::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && quote) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

void AppendValue(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    absl::StrAppend(out, static_cast<int64_t>(v));
  } else {
    absl::StrAppendFormat(out, "%.17g", v);
  }
}

std::vector<Label> Zip(const std::vector<std::string>& names,
                       const std::vector<std::string>& values) {
  std::vector<Label> labels;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    labels.emplace_back(names[i], values[i]);
  }
  return labels;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(new std::atomic<int64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i] = 0;
}

void Histogram::Observe(double v) {
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Reading Histogram::Read() const {
  Reading r;
  r.bounds = bounds_;
  int64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    r.cumulative.push_back(total);
  }
  r.sum = sum_.load(std::memory_order_relaxed);
  return r;
}

std::vector<double> SecondsBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
}

void Exposition::Header(absl::string_view name, absl::string_view help,
                        absl::string_view type) {
  absl::StrAppend(&text_, "# HELP ", name, " ");
  AppendEscaped(&text_, help, /*quote=*/false);
  absl::StrAppend(&text_, "\n# TYPE ", name, " ", type, "\n");
}

void Exposition::Sample(absl::string_view name, absl::Span<const Label> labels,
                        double value) {
  text_.append(name.data(), name.size());
  if (!labels.empty()) {
    text_.push_back('{');
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_.push_back(',');
      absl::StrAppend(&text_, labels[i].first, "=\"");
      AppendEscaped(&text_, labels[i].second, /*quote=*/true);
      text_.push_back('"');
    }
    text_.push_back('}');
  }
  text_.push_back(' ');
  AppendValue(&text_, value);
  text_.push_back('\n');
}

void Exposition::Histogram(absl::string_view name,
                           absl::Span<const Label> labels,
                           const Histogram::Reading& r) {
  std::vector<Label> with_le(labels.begin(), labels.end());
  with_le.emplace_back("le", "");
  const std::string bucket = absl::StrCat(name, "_bucket");
  for (size_t i = 0; i <= r.bounds.size(); ++i) {
    std::string le = "+Inf";
    if (i < r.bounds.size()) {
      le.clear();
      AppendValue(&le, r.bounds[i]);
    }
    with_le.back().second = le;
    Sample(bucket, with_le, static_cast<double>(r.cumulative[i]));
  }
  Sample(absl::StrCat(name, "_sum"), labels, r.sum);
  Sample(absl::StrCat(name, "_count"), labels,
         static_cast<double>(r.cumulative.back()));
}

void Exposition::Gauge(absl::string_view name, absl::string_view help,
                       absl::Span<const Label> labels, double value) {
  Header(name, help, "gauge");
  Sample(name, labels, value);
}

void Registry::Add(std::string name, std::string help, const Counter* counter) {
  AddCollector([=](Exposition& out) {
    out.Header(name, help, "counter");
    out.Sample(name, {}, static_cast<double>(counter->value()));
  });
}

void Registry::Add(std::string name, std::string help,
                   const Family<Counter>* family) {
  AddCollector([=](Exposition& out) {
    out.Header(name, help, "counter");
    family->ForEach(
        [&](const std::vector<std::string>& values, const Counter& c) {
          out.Sample(name, Zip(family->label_names(), values),
                     static_cast<double>(c.value()));
        });
  });
}

void Registry::Add(std::string name, std::string help,
                   const Histogram* histogram) {
  AddCollector([=](Exposition& out) {
    out.Header(name, help, "histogram");
    out.Histogram(name, {}, histogram->Read());
  });
}

void Registry::Add(std::string name, std::string help,
                   const Family<Histogram>* family) {
  AddCollector([=](Exposition& out) {
    out.Header(name, help, "histogram");
    family->ForEach(
        [&](const std::vector<std::string>& values, const Histogram& h) {
          out.Histogram(name, Zip(family->label_names(), values), h.Read());
        });
  });
}

void Registry::AddCollector(std::function<void(Exposition&)> collect) {
  absl::MutexLock lock(&mu_);
  writers_.push_back(std::move(collect));
}

std::string Registry::Scrape() const {
  Exposition out;
  absl::MutexLock lock(&mu_);
  for (const auto& write : writers_) write(out);
  return std::move(out.text());
}

}  // namespace noqueue::server::metrics
