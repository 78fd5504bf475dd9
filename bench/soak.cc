#include "bench/soak.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/load.h"
#include "bench/result_file.h"
#include "bench/workloads.h"
#include "noqueue/v1/arrival.grpc.pb.h"
#include "noqueue/v1/scheduling.grpc.pb.h"
#include "proto/base/svg_chart.h"

namespace noqueue::bench {
namespace {

// What completed since the last sample.
struct Window {
  std::vector<double> tag_ms, schedule_ms;
  int64_t tags = 0, tag_errors = 0, schedule_errors = 0;
};

class Collector {
 public:
  void Tag(double ms, bool ok) {
    std::lock_guard lock(mu_);
    ++w_.tags;
    if (ok) {
      w_.tag_ms.push_back(ms);
    } else {
      ++w_.tag_errors;
    }
  }
  void Schedule(double ms, bool ok) {
    std::lock_guard lock(mu_);
    if (ok) {
      w_.schedule_ms.push_back(ms);
    } else {
      ++w_.schedule_errors;
    }
  }
  Window Take() {
    std::lock_guard lock(mu_);
    Window out = std::move(w_);
    w_ = Window();
    return out;
  }

 private:
  std::mutex mu_;
  Window w_;
};

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

double Median(std::vector<double> v) { return Quantile(std::move(v), 0.5); }

// One tag stream: a writer thread sends the plan's tags (at `rate` per
// second, or as fast as the window lets when rate is 0) and a reader thread
// times each acknowledgement from the moment its tag was due (so that a
// stall counts for every tag it delays).
class TagDevice {
 public:
  TagDevice(std::shared_ptr<grpc::Channel> channel, TagPlan* plan,
            std::string device, double rate, int window, Collector* out)
      : stub_(v1::ArrivalService::NewStub(std::move(channel))),
        plan_(plan),
        device_(std::move(device)),
        rate_(rate),
        window_(window),
        out_(out) {
    Authorize(&ctx_);
    stream_ = stub_->StreamArrivals(&ctx_);
    writer_ = std::thread([this] { Write(); });
    reader_ = std::thread([this] { Read(); });
  }
  // Stops sending, waits for the last acknowledgements; false when the
  // stream ended with an error.
  bool Stop() {
    stop_ = true;
    cv_.notify_all();
    writer_.join();
    reader_.join();
    const grpc::Status st = stream_->Finish();
    if (!st.ok()) {
      std::fprintf(stderr, "noqueue-bench: soak stream %s: %s\n",
                   device_.c_str(), st.error_message().c_str());
    }
    return st.ok();
  }

 private:
  void Write() {
    const Clock::time_point t0 = Clock::now();
    v1::ArrivalEvent tag;
    for (int64_t i = 0; !stop_; ++i) {
      Clock::time_point due = Clock::now();
      if (rate_ > 0) {
        due = t0 + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(i / rate_));
        std::unique_lock lock(mu_);
        cv_.wait_until(lock, due, [&] { return stop_.load(); });
        if (stop_) break;
      }
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] {
          return stop_ || static_cast<int>(due_.size()) < window_;
        });
        if (stop_) break;
        due_.push_back(due);
      }
      plan_->Next(device_, &tag);
      if (!stream_->Write(tag)) break;
    }
    stream_->WritesDone();
  }
  void Read() {
    v1::ArrivalAck ack;
    while (stream_->Read(&ack)) {
      Clock::time_point due;
      {
        std::lock_guard lock(mu_);
        due = due_.front();
        due_.pop_front();
      }
      cv_.notify_all();
      const bool ok =
          ack.status() == v1::ACCEPTED || ack.status() == v1::DUPLICATE;
      out_->Tag(1e3 * Seconds(Clock::now() - due), ok);
    }
  }

  std::unique_ptr<v1::ArrivalService::Stub> stub_;
  TagPlan* const plan_;
  const std::string device_;
  const double rate_;
  const int window_;
  Collector* const out_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ArrivalEvent, v1::ArrivalAck>>
      stream_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Clock::time_point> due_;  // of the tags sent, not yet acked
  std::atomic<bool> stop_{false};
  std::thread writer_, reader_;
};

// A CreateSchedule(100) every second, on a thread of its own, while it
// lives.
class ScheduleTicker {
 public:
  ScheduleTicker(std::shared_ptr<grpc::Channel> channel, std::string run,
                 Collector* out)
      : stub_(v1::SchedulingService::NewStub(std::move(channel))),
        run_(std::move(run)),
        out_(out),
        thread_([this] { Loop(); }) {}
  ~ScheduleTicker() {
    on_ = false;
    thread_.join();
  }

 private:
  void Loop() {
    const Clock::time_point t0 = Clock::now();
    for (int k = 0; on_; ++k) {
      std::this_thread::sleep_until(t0 + std::chrono::seconds(k));
      grpc::ClientContext ctx;
      Authorize(&ctx);
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
      v1::CreateScheduleRequest req = ScheduleRequest(100, 1000 + k % 3000);
      req.set_request_id(absl::StrCat("soak-", run_, "-", k));
      v1::CreateScheduleResponse resp;
      const Clock::time_point start = Clock::now();
      const grpc::Status st = stub_->CreateSchedule(&ctx, req, &resp);
      out_->Schedule(1e3 * Seconds(Clock::now() - start), st.ok());
      if (!st.ok()) {
        std::fprintf(stderr, "noqueue-bench: soak CreateSchedule(100): %s\n",
                     st.error_message().c_str());
      }
    }
  }

  std::unique_ptr<v1::SchedulingService::Stub> stub_;
  const std::string run_;
  Collector* const out_;
  std::atomic<bool> on_{true};
  std::thread thread_;  // last: started once the rest is set
};

// Creates `count` schedules of TagPlan::kAttendees (the constructive plan:
// rows for tags to go to), `first_day` days before yesterday and earlier.
bool MakeSchedules(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                   const std::string& run, int first_day, int count,
                   std::vector<TagPlan::Schedule>* out) {
  return MakeTagSchedules(
      channels, count,
      [&](int k) {
        v1::CreateScheduleRequest req =
            ScheduleRequest(TagPlan::kAttendees, first_day + k);
        req.set_request_id(absl::StrCat("soak-", run, "-", first_day + k));
        return req;
      },
      "soak CreateSchedule", out);
}

// Runs `streams` devices on `plan` for `seconds` at `rate` tags per second
// in all (0: unpaced), calling `sample` every `interval_s`.
bool Drive(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
           TagPlan* plan, const std::string& run, int streams, double rate,
           int window, double seconds, double interval_s, Collector* collector,
           const std::function<void(double at_s)>& sample) {
  std::vector<std::unique_ptr<TagDevice>> devices;
  for (int s = 0; s < streams; ++s) {
    devices.push_back(std::make_unique<TagDevice>(
        channels[s % channels.size()], plan, absl::StrCat("soak-", run, "-", s),
        rate / streams, window, collector));
  }
  const Clock::time_point t0 = Clock::now();
  for (int k = 1; k * interval_s <= seconds + 1e-9; ++k) {
    std::this_thread::sleep_until(
        t0 + std::chrono::duration_cast<Clock::duration>(
                 std::chrono::duration<double>(k * interval_s)));
    sample(k * interval_s);
  }
  bool ok = true;
  for (auto& d : devices) ok = d->Stop() && ok;
  return ok;
}

struct Sample {
  double minute;
  double tags_per_s, p50_ms, p99_ms, schedule_p99_ms;
  double rss_mb, heap_mb, wal_mb;
};

// The drift of `value` from the first quarter of `samples` (after the first
// one, a warm-up) to the last quarter, as a fraction of the first.
double Drift(const std::vector<Sample>& samples, double Sample::*value) {
  const size_t n = samples.size();
  if (n < 5) return 0;
  const size_t q = std::max<size_t>(1, (n - 1) / 4);
  std::vector<double> first, last;
  for (size_t i = 1; i < 1 + q; ++i) first.push_back(samples[i].*value);
  for (size_t i = n - q; i < n; ++i) last.push_back(samples[i].*value);
  const double a = Median(first);
  return a > 0 ? Median(last) / a - 1 : 0;
}

std::string Plot(const std::vector<Sample>& samples, double rate) {
  svg::Chart chart;
  auto series = [&](const char* name, double Sample::*value) {
    svg::Series s{name, {}};
    for (const Sample& x : samples) s.points.emplace_back(x.minute, x.*value);
    return s;
  };
  auto panel = [&](const char* title, const char* unit,
                   std::vector<svg::Series> series) {
    svg::Panel& p = chart.panels.emplace_back();
    p.title = title;
    p.x.title = "minutes";
    p.y.title = unit;
    p.series = std::move(series);
  };
  panel("Tag acknowledgement latency", "ms",
        {series("P50", &Sample::p50_ms), series("P99", &Sample::p99_ms)});
  panel("Server memory", "MB",
        {series("resident", &Sample::rss_mb),
         series("heap (RssAnon)", &Sample::heap_mb)});
  panel("WAL on disk", "MB", {series("-wal file", &Sample::wal_mb)});
  chart.note = absl::StrFormat(
      "noqueue-bench --soak: %.0f tags/s on streams, a CreateSchedule(100) "
      "every second",
      rate);
  return svg::Render(chart);
}

}  // namespace

int RunSoak(const SoakOptions& o) {
  const std::vector<std::shared_ptr<grpc::Channel>> channels =
      Channels(o.target, 4);
  const std::string run = NewRunId();
  if (!UpsertBenchVenues(channels[0], {100, TagPlan::kAttendees},
                         "soak UpsertVenue")) {
    return 1;
  }

  // The probe: the most tags per second, unpaced, beside a
  // CreateSchedule(100) every second (the load is that mix), on schedules of
  // its own,
  // enough for 60,000 tags/s without repeating one (a repeat is cheaper:
  // the probe would overestimate).
  std::vector<TagPlan::Schedule> probe_pool;
  const int probe_schedules = std::max(
      1,
      static_cast<int>(std::ceil(o.probe_s * 60000 / 3 / TagPlan::kAttendees)));
  if (!MakeSchedules(channels, run, 1, probe_schedules, &probe_pool)) return 1;
  TagPlan probe_plan(std::move(probe_pool), run + "p");
  Collector collector;
  int64_t probe_tags = 0;
  const double warmup_s = std::min(5.0, o.probe_s / 4);
  std::printf("# soak: probing the most tags/s on %d streams for %.0f s\n",
              o.streams, o.probe_s);
  std::fflush(stdout);
  {
    ScheduleTicker ticker(channels[1 % channels.size()], run + "p", &collector);
    Drive(channels, &probe_plan, run + "p", o.streams, 0, o.window, o.probe_s,
          warmup_s, &collector, [&](double at) {
            const Window w = collector.Take();
            if (at > warmup_s + 1e-9) probe_tags += w.tags;
          });
  }
  collector.Take();
  const double max_rate = probe_tags / std::max(1e-9, o.probe_s - warmup_s);
  if (probe_plan.repeats() > 0) {
    std::printf(
        "# soak: the probe ran past its schedules (%lld tags repeated a "
        "kind): its maximum is an overestimate\n",
        static_cast<long long>(probe_plan.repeats()));
  }
  const double rate = o.load * max_rate;

  // The soak's own schedules: enough that tags repeat none. (A tag
  // repeating a kind is no cheaper: the writer no longer has its
  // convocation in its cache, and the soak would measure that instead.)
  const double seconds = o.minutes * 60;
  const int soak_schedules = std::max(
      1, static_cast<int>(std::ceil(rate * seconds / 3 / TagPlan::kAttendees)));
  std::printf("# soak: making %d schedules of %d for the tags\n",
              soak_schedules, TagPlan::kAttendees);
  std::fflush(stdout);
  std::vector<TagPlan::Schedule> pool;
  if (!MakeSchedules(channels, run, 1 + probe_schedules, soak_schedules,
                     &pool)) {
    return 1;
  }
  TagPlan plan(std::move(pool), run);
  std::printf(
      "# soak: %.0f tags/s at most, soaking at %.0f%% of it (%.0f tags/s) "
      "for %.1f min, a CreateSchedule(100) every second; a sample every "
      "%.0f s\n",
      max_rate, 100 * o.load, rate, o.minutes, o.interval_s);
  std::printf("%7s %9s %9s %9s %12s %9s %9s %8s\n", "minute", "tags/s",
              "P50 ms", "P99 ms", "sched P99", "RSS MB", "heap MB", "WAL MB");
  std::fflush(stdout);

  // The same CreateSchedule(100) every second beside the tags.
  std::optional<ScheduleTicker> ticker;
  ticker.emplace(channels[1 % channels.size()], run + "s", &collector);
  std::vector<Sample> samples;
  int64_t tag_errors = 0, schedule_errors = 0;
  const bool streams_ok = Drive(
      channels, &plan, run, o.streams, rate, o.window, seconds, o.interval_s,
      &collector, [&](double at) {
        Window w = collector.Take();
        tag_errors += w.tag_errors;
        schedule_errors += w.schedule_errors;
        const ProcessUsage u = ReadUsage(o.server_pid);
        std::error_code ec;
        const double wal = o.wal_path.empty()
                               ? 0
                               : static_cast<double>(std::filesystem::file_size(
                                     o.wal_path, ec)) /
                                     1e6;
        Sample s{at / 60,
                 w.tags / o.interval_s,
                 Quantile(w.tag_ms, 0.5),
                 Quantile(w.tag_ms, 0.99),
                 Quantile(w.schedule_ms, 0.99),
                 u.rss_mb,
                 u.anon_mb,
                 ec ? 0 : wal};
        samples.push_back(s);
        std::printf("%7.1f %9.0f %9.2f %9.2f %12.2f %9.1f %9.1f %8.1f\n",
                    s.minute, s.tags_per_s, s.p50_ms, s.p99_ms,
                    s.schedule_p99_ms, s.rss_mb, s.heap_mb, s.wal_mb);
        std::fflush(stdout);
      });
  ticker.reset();

  double wal_max = 0;
  for (const Sample& s : samples) wal_max = std::max(wal_max, s.wal_mb);
  std::printf(
      "\nSoak: %.1f min at %.0f tags/s (%.0f%% of the %.0f measured), %lld "
      "tag errors, %lld schedule errors.\n"
      "Drift, last quarter against the first: tag P99 %+.1f%%, schedule P99 "
      "%+.1f%%, resident memory %+.1f%%, heap %+.1f%% (target: each under "
      "10%%); WAL at most %.1f MB.\n",
      o.minutes, rate, 100 * o.load, max_rate,
      static_cast<long long>(tag_errors),
      static_cast<long long>(schedule_errors),
      100 * Drift(samples, &Sample::p99_ms),
      100 * Drift(samples, &Sample::schedule_p99_ms),
      100 * Drift(samples, &Sample::rss_mb),
      100 * Drift(samples, &Sample::heap_mb), wal_max);
  if (!o.svg_path.empty()) WriteResultFile(o.svg_path, Plot(samples, rate));
  if (plan.repeats() > 0) {
    std::printf("%lld tags repeated a kind (past the soak's %d schedules).\n",
                static_cast<long long>(plan.repeats()), soak_schedules);
  }
  return streams_ok && tag_errors == 0 && schedule_errors == 0 ? 0 : 3;
}

}  // namespace noqueue::bench
