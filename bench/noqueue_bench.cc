// noqueue-bench: throughput and latency of NoQueue's RPCs, beside the limits
// of what it is built on, measured in the same run on the same machine.
//
//   build/bench/noqueue-bench [--quick] [--server=HOST:PORT]
//       [--json=var/noqueue_bench.json] [--svg=var/noqueue_bench.svg]
//
// Unless --server names a running noqueue-server, it starts one
// (build/server/noqueue-server, --server_binary) on a temporary database, so
// that it can also read the server's CPU time and peak memory from /proc.
// It always starts its own echo server (this binary, --echo_server): a gRPC
// callback server with the same settings that answers at once, with
// payloads of the sizes the NoQueue RPC carries. That is the ceiling of
// gRPC on this machine; raw SQLite inserts of the same rows, in batches, are
// the ceiling of the store; and the server's own planner run in this
// process on the same requests (PlannerCeiling), calls per CPU-second, is
// the ceiling of CreateSchedule, against the server's calls per CPU-second
// of its own (so that the ratio is the API's overhead, not a core count).
// CreateSchedule runs once per --schedule_budgets: the server's default
// search budget, and a budget the request sets (0: the constructive plan).
//
// Load: gRPC's asynchronous (callback) client API, closed loop: at
// concurrency C, C calls are always outstanding (streams: C streams, each
// with up to --window tags unacknowledged). Each point runs a warm-up, then
// --duration_s of measurement (longer when calls are slower: until C calls
// completed). Figures per point: calls (or tags) per second, attendees per
// second, latency P50/P90/P99/P99.9, errors by status code, server CPU per
// call, calls per server core-second and the server's peak memory; for the
// run, the server's memory per million stored convocations and per
// thousand open streams. Each point is
// measured --repeats times, a point and its ceiling in turn, so that a
// ratio's noise shows: the median and the spread of the repeats are
// reported.
//
// Pinning (--pin=on, the default): the server under test and the echo
// server run on core --server_cpu, the load generator on --generator_cpu,
// so that the generator does not compete with the server it measures. The
// in-process planner ceiling (PlannerCeiling) runs on the server's core.
#include <grpcpp/grpcpp.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_results.h"
#include "bench/cpu_pinning.h"
#include "bench/planner_ceiling.h"
#include "clients/noqueue_client.h"
#include "clients/server_process.h"
#include "echo.grpc.pb.h"
#include "noqueue/v1/arrival.grpc.pb.h"
#include "noqueue/v1/crowd.grpc.pb.h"
#include "noqueue/v1/scheduling.grpc.pb.h"
#include "noqueue/v1/venue.grpc.pb.h"
#include "proto/base/wire_time.h"

ABSL_FLAG(bool, quick, false,
          "CI smoke mode: two concurrency levels, short points, < 1 minute");
ABSL_FLAG(double, duration_s, 0.0,
          "measured seconds per repeat of a point (default 0.5 with --quick, "
          "else 2)");
ABSL_FLAG(int, repeats, 3,
          "measurements of each point (median and spread reported)");
ABSL_FLAG(std::string, pin, "on",
          "on: server and echo on --server_cpu, load generator on "
          "--generator_cpu; off: no pinning");
ABSL_FLAG(int, server_cpu, 1, "with --pin=on: the server's (and echo's) core");
ABSL_FLAG(int, generator_cpu, 0, "with --pin=on: the load generator's core");
ABSL_FLAG(std::string, schedule_budgets, "default,0",
          "CreateSchedule variants: \"default\" (no planning.time_budget: "
          "the server's default search budget) or a search budget in ms");
ABSL_FLAG(std::string, concurrency, "",
          "comma-separated levels (default 1,8 with --quick, else "
          "1,2,4,8,16,32,64)");
ABSL_FLAG(std::string, sizes, "",
          "CreateSchedule sizes (default 10,100,1000,10000)");
ABSL_FLAG(std::string, workloads,
          "schedule,crowd,stream,sqlite,mixed,memory,isolation,auth,metrics",
          "which workloads to run");
ABSL_FLAG(int, isolation_schedules, 20,
          "isolation: CreateSchedule calls at once beside GetVenue");
ABSL_FLAG(int, isolation_size, 10000,
          "isolation: attendees of each of those schedules");
ABSL_FLAG(int, window, 256, "unacknowledged tags per stream");
ABSL_FLAG(int, memory_streams, 1000,
          "memory: tag streams held open at once to measure what they cost");
ABSL_FLAG(std::string, server, "", "a running noqueue-server to drive");
ABSL_FLAG(std::string, server_binary, "",
          "noqueue-server to start (default: next to this build)");
ABSL_FLAG(std::string, json, "var/noqueue_bench.json",
          "JSON results file (its folder must exist; empty: none)");
ABSL_FLAG(std::string, svg, "var/noqueue_bench.svg",
          "SVG plot file (its folder must exist; empty: none)");
ABSL_FLAG(bool, echo_server, false, "internal: serve the echo ceiling");
ABSL_FLAG(std::string, key_file, "",
          "the API key to call --server with (default: the ADMIN key of the "
          "server the bench starts)");

namespace noqueue::bench {
namespace {

namespace v1 = ::noqueue::v1;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The credential every call carries ("authorization: Bearer ..."), the echo
// ceiling's calls included, so that both carry the same header.
std::string& Credential() {
  static std::string credential;
  return credential;
}

void Authorize(grpc::ClientContext* ctx) {
  if (!Credential().empty()) {
    ctx->AddMetadata("authorization", "Bearer " + Credential());
  }
}

std::unique_ptr<grpc::ClientContext> NewContext() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  Authorize(ctx.get());
  return ctx;
}

// ---------------------------------------------------------------------------
// The echo server (a child process: this binary with --echo_server).

class EchoStream final
    : public grpc::ServerBidiReactor<EchoMessage, EchoMessage> {
 public:
  EchoStream() { StartRead(&in_); }
  void OnReadDone(bool ok) override {
    std::unique_lock lock(mu_);
    if (!ok) {
      reads_done_ = true;
      Pump(lock);
      return;
    }
    EchoMessage reply;
    reply.mutable_payload()->assign(static_cast<size_t>(in_.reply_bytes()),
                                    'a');
    queue_.push_back(std::move(reply));
    Pump(lock);
    if (lock.owns_lock()) lock.unlock();
    StartRead(&in_);
  }
  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mu_);
    writing_ = false;
    if (!ok) failed_ = true;
    Pump(lock);
  }
  void OnDone() override { delete this; }

 private:
  void Pump(std::unique_lock<std::mutex>& lock) {
    if (writing_ || finished_) return;
    if (failed_ || (reads_done_ && queue_.empty())) {
      finished_ = true;
      lock.unlock();
      Finish(grpc::Status::OK);
      return;
    }
    if (queue_.empty()) return;
    out_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    // As noqueue-server does with its acks: when more answers wait, let
    // gRPC send them together.
    grpc::WriteOptions options;
    if (!queue_.empty()) options.set_buffer_hint();
    lock.unlock();
    StartWrite(&out_, options);
  }
  std::mutex mu_;
  EchoMessage in_, out_;
  std::deque<EchoMessage> queue_;
  bool writing_ = false, reads_done_ = false, failed_ = false,
       finished_ = false;
};

class EchoService final : public Echo::CallbackService {
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx,
                                  const EchoMessage* request,
                                  EchoMessage* response) override {
    response->mutable_payload()->assign(
        static_cast<size_t>(request->reply_bytes()), 'a');
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerBidiReactor<EchoMessage, EchoMessage>* Stream(
      grpc::CallbackServerContext*) override {
    return new EchoStream();
  }
};

int ServeEcho() {
  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  // The settings of noqueue-server (server/noqueue_server.cc).
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return 1;
  std::printf("noqueue-bench echo listening on port %d\n", port);
  std::fflush(stdout);
  server->Wait();  // killed by the parent
  return 0;
}

// ---------------------------------------------------------------------------
// What the server process costs, from /proc.

struct ProcessUsage {
  double cpu_s = 0;        // user + system
  double peak_rss_mb = 0;  // VmHWM
  double rss_mb = 0;       // VmRSS
  double anon_mb = 0;      // RssAnon: the heap, not the database's map
};

ProcessUsage ReadUsage(pid_t pid) {
  ProcessUsage u;
  if (pid <= 0) return u;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  // Fields after the command name (which may hold spaces): state is 3rd,
  // utime the 14th and stime the 15th.
  const size_t close = line.rfind(')');
  if (close != std::string::npos) {
    std::vector<std::string> f =
        absl::StrSplit(line.substr(close + 2), ' ', absl::SkipEmpty());
    if (f.size() > 13) {
      const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
      u.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / tick;
    }
  }
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      u.peak_rss_mb = std::stod(line.substr(6)) / 1024.0;
    } else if (line.rfind("VmRSS:", 0) == 0) {
      u.rss_mb = std::stod(line.substr(6)) / 1024.0;
    } else if (line.rfind("RssAnon:", 0) == 0) {
      u.anon_mb = std::stod(line.substr(8)) / 1024.0;
    }
  }
  return u;
}

// ---------------------------------------------------------------------------
// One measured point.

// What one repeat of a point measured.
// Collects completions from gRPC's callback threads.
class Recorder {
 public:
  void Start() { recording_ = true; }
  void Stop() { recording_ = false; }
  bool recording() const { return recording_; }
  void Ok(double ms) {
    if (!recording_) return;
    ++completed_;
    std::lock_guard lock(mu_);
    latency_ms_.push_back(ms);
  }
  // Calls completed while recording, with or without an error.
  int64_t completed() const { return completed_; }
  void Error(grpc::StatusCode code) {
    if (!recording_) return;
    ++completed_;
    std::lock_guard lock(mu_);
    ++errors_[StatusName(code)];
  }
  void ErrorNamed(const std::string& name) {
    if (!recording_) return;
    std::lock_guard lock(mu_);
    ++errors_[name];
  }
  void Into(Point* p) {
    std::lock_guard lock(mu_);
    p->calls = static_cast<int64_t>(latency_ms_.size());
    p->latency_ms = std::move(latency_ms_);
    std::sort(p->latency_ms.begin(), p->latency_ms.end());
    p->errors = errors_;
  }
  static std::string StatusName(grpc::StatusCode code) {
    static const char* kNames[] = {"OK",
                                   "CANCELLED",
                                   "UNKNOWN",
                                   "INVALID_ARGUMENT",
                                   "DEADLINE_EXCEEDED",
                                   "NOT_FOUND",
                                   "ALREADY_EXISTS",
                                   "PERMISSION_DENIED",
                                   "RESOURCE_EXHAUSTED",
                                   "FAILED_PRECONDITION",
                                   "ABORTED",
                                   "OUT_OF_RANGE",
                                   "UNIMPLEMENTED",
                                   "INTERNAL",
                                   "UNAVAILABLE",
                                   "DATA_LOSS",
                                   "UNAUTHENTICATED"};
    const int c = static_cast<int>(code);
    return c >= 0 && c <= 16 ? kNames[c] : absl::StrCat("CODE_", c);
  }

 private:
  std::atomic<bool> recording_{false};
  std::atomic<int64_t> completed_{0};
  std::mutex mu_;
  std::vector<double> latency_ms_;
  std::map<std::string, int64_t> errors_;
};

// Channels: a few separate connections, so that load spreads over the
// server's threads as it would from several clients.
std::vector<std::shared_ptr<grpc::Channel>> Channels(const std::string& target,
                                                     int n) {
  std::vector<std::shared_ptr<grpc::Channel>> out;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("noqueue.bench.channel", i);  // distinct connections
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    out.push_back(grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args));
  }
  return out;
}

struct Timing {
  double warmup_s;
  double measure_s;
};

// Closed loop of unary calls: `issue(slot, done)` starts one call of slot
// `slot` and calls done(status) when it completes.
using Done = std::function<void(const grpc::Status&)>;
using Issue = std::function<void(int slot, Done done)>;

void RunUnary(int concurrency, const Timing& timing, const Issue& issue,
              Recorder* recorder, double* measured_s) {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;
  int active = concurrency;
  std::function<void(int)> launch = [&](int slot) {
    const auto start = Clock::now();
    issue(slot, [&, slot, start](const grpc::Status& st) {
      const double ms = 1e3 * Seconds(Clock::now() - start);
      if (st.ok()) {
        recorder->Ok(ms);
      } else {
        recorder->Error(st.error_code());
      }
      if (!stop.load()) {
        launch(slot);
      } else {
        std::lock_guard lock(mu);
        if (--active == 0) cv.notify_all();
      }
    });
  };
  for (int s = 0; s < concurrency; ++s) launch(s);
  std::this_thread::sleep_for(std::chrono::duration<double>(timing.warmup_s));
  recorder->Start();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(timing.measure_s));
  // Calls slower than the point: it lasts until as many completed as run
  // at once (within a few minutes), so that its rate is not one call's
  // accident. What completes after it is not counted.
  while (recorder->completed() < concurrency &&
         Seconds(Clock::now() - t0) < timing.measure_s + 300) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  recorder->Stop();
  *measured_s = Seconds(Clock::now() - t0);
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return active == 0; });
}

// One bidirectional stream that keeps up to `window` messages unanswered;
// `make(i)` builds the i-th message, `check(answer)` says whether the
// answer is a success (else its error name).
template <typename Req, typename Resp>
class LoadStream final : public grpc::ClientBidiReactor<Req, Resp> {
 public:
  using Make = std::function<void(int64_t, Req*)>;
  using Check = std::function<std::string(const Resp&)>;

  LoadStream(int window, Make make, Check check, Recorder* recorder)
      : window_(window),
        make_(std::move(make)),
        check_(std::move(check)),
        recorder_(recorder) {}

  void Begin() {
    this->StartRead(&in_);
    this->AddHold();  // released after WritesDone
    std::unique_lock lock(mu_);
    MaybeWrite(lock);
    this->StartCall();
  }
  void Stop() {
    std::unique_lock lock(mu_);
    stopping_ = true;
    MaybeWrite(lock);
  }
  grpc::Status Await() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return status_;
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mu_);
    writing_ = false;
    if (!ok) stopping_ = true;
    MaybeWrite(lock);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    const std::string error = check_(in_);
    std::unique_lock lock(mu_);
    const double ms = 1e3 * Seconds(Clock::now() - sent_.front());
    sent_.pop_front();
    lock.unlock();
    if (error.empty()) {
      recorder_->Ok(ms);
    } else {
      recorder_->ErrorNamed(error);
    }
    this->StartRead(&in_);
    lock.lock();
    MaybeWrite(lock);
  }
  void OnDone(const grpc::Status& s) override {
    std::lock_guard lock(mu_);
    status_ = s;
    done_ = true;
    cv_.notify_all();
  }

 private:
  // Under the lock; starts the next write if there is room.
  void MaybeWrite(std::unique_lock<std::mutex>& lock) {
    if (writing_ || closed_) return;
    if (stopping_) {
      closed_ = true;
      lock.unlock();
      this->StartWritesDone();
      this->RemoveHold();
      return;
    }
    if (static_cast<int>(sent_.size()) >= window_) return;
    make_(next_++, &out_);
    sent_.push_back(Clock::now());
    writing_ = true;
    lock.unlock();
    this->StartWrite(&out_);
  }

  const int window_;
  Make make_;
  Check check_;
  Recorder* recorder_;
  std::mutex mu_;
  std::condition_variable cv_;
  Req out_;
  Resp in_;
  std::deque<Clock::time_point> sent_;
  int64_t next_ = 0;
  bool writing_ = false, stopping_ = false, closed_ = false, done_ = false;
  grpc::Status status_;
};

// A tag stream held open: it sends one tag, waits for its acknowledgement,
// then stays open, idle, until Close().
class OpenStream final
    : public grpc::ClientBidiReactor<v1::ArrivalEvent, v1::ArrivalAck> {
 public:
  explicit OpenStream(v1::ArrivalEvent first) : out_(std::move(first)) {}
  void Begin() {
    StartWrite(&out_);
    StartRead(&in_);
    AddHold();  // released by Close
    StartCall();
  }
  // True when the tag was accepted.
  bool AwaitAck() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return read_ || done_; });
    return read_ && in_.status() == v1::ACCEPTED;
  }
  void Close() {
    StartWritesDone();
    RemoveHold();
  }
  void AwaitDone() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
  }
  void OnReadDone(bool ok) override {
    std::lock_guard lock(mu_);
    read_ = ok;
    cv_.notify_all();
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  v1::ArrivalEvent out_;
  v1::ArrivalAck in_;
  bool read_ = false, done_ = false;
};

// ---------------------------------------------------------------------------
// The workloads' messages.

// A station-like venue sized for n attendees over a four-hour window at
// about 85% load: one desk per ~136 attendees of 1.5 minutes.
v1::Venue BenchVenue(int n) {
  v1::Venue v;
  v.set_venue_id(absl::StrCat("bench-", n));
  v.set_display_name(absl::StrCat("Benchmark venue for ", n));
  v.set_convocation_type(v1::TRAIN_STATION);
  v.set_time_zone("Europe/Paris");
  v.set_service_points(std::max(1, static_cast<int>(std::ceil(n / 136.0))));
  v.mutable_mean_service_time()->set_seconds(90);
  return v;
}

absl::Time Day() {
  // Yesterday morning: tags on it are in the past, as real ones are.
  return absl::FromCivil(absl::CivilDay(absl::ToCivilDay(absl::Now(),
                                                         absl::UTCTimeZone())) -
                             1,
                         absl::UTCTimeZone()) +
         absl::Hours(8);
}

// A schedule of n attendees over four hours, `days_before` days before
// yesterday morning.
v1::CreateScheduleRequest ScheduleRequest(int n, int days_before = 0) {
  v1::CreateScheduleRequest r;
  r.set_venue_id(absl::StrCat("bench-", n));
  const absl::Time start = Day() - absl::Hours(24) * days_before;
  *r.mutable_window_start() = ToTimestamp(start);
  *r.mutable_window_end() = ToTimestamp(start + absl::Hours(4));
  for (int i = 0; i < n; ++i) {
    v1::Attendee* a = r.add_attendees();
    a->set_attendee_id(absl::StrCat("traveller-", i));
    a->set_party_size(1 + i % 3);
    (*a->mutable_features())["fare_class"] = i % 4;
  }
  return r;
}

// The name of CreateSchedule(n)'s workload with a search budget of
// `budget_ms` (nullopt: the server's default, no planning.time_budget).
std::string ScheduleWorkload(int n, std::optional<double> budget_ms) {
  return budget_ms
             ? absl::StrCat("CreateSchedule/", n, " budget=", *budget_ms, "ms")
             : absl::StrCat("CreateSchedule/", n);
}

// A big station's days of tags: a pool of schedules, one a day (the pool's
// first is the oldest), every convocation tagged ARRIVED (around its time),
// then SERVICE_STARTED and SERVICE_ENDED (3 and 5 minutes later) while the
// doors tag the next kLag convocations, in the order of the convocation
// times, each tag once, in one sequence shared by all streams: the store and
// the model do the work of real tags (an arrival learned, a wait or a
// service measured). Past the pool the sequence starts over: tags of a kind
// a convocation already has, which cost less; repeats() counts them.
class TagPlan {
 public:
  static constexpr int kAttendees = 10000;  // per schedule of the pool
  static constexpr int64_t kLag = 64;
  struct Schedule {
    std::string id;
    std::vector<std::pair<std::string, absl::Time>> convocations;  // by time
  };

  TagPlan(std::vector<Schedule> schedules, std::string run)
      : schedules_(std::move(schedules)), run_(std::move(run)) {
    for (Schedule& s : schedules_) {
      std::stable_sort(
          s.convocations.begin(), s.convocations.end(),
          [](const auto& a, const auto& b) { return a.second < b.second; });
      starts_.push_back(pool_);
      pool_ += static_cast<int64_t>(s.convocations.size());
    }
  }
  // One schedule of kAttendees convoked evenly over four hours, for the
  // sizes of messages and rows without a server.
  static TagPlan Synthetic(const std::string& run) {
    Schedule s{"sch_0123456789abcdef01234567", {}};
    for (int i = 0; i < kAttendees; ++i) {
      s.convocations.emplace_back(
          absl::StrCat("traveller-", i),
          Day() + absl::Minutes(240.0 * i / kAttendees));
    }
    return TagPlan({std::move(s)}, run);
  }

  int64_t pool() const { return pool_; }
  int64_t issued() const { return next_.load(); }
  int64_t repeats() const { return repeats_.load(); }

  void Next(const std::string& device, v1::ArrivalEvent* e) {
    static constexpr v1::ArrivalKind kKinds[] = {
        v1::ARRIVED, v1::SERVICE_STARTED, v1::SERVICE_ENDED};
    static constexpr int kMinutesAfter[] = {0, 3, 5};
    const int64_t g = next_++;
    const int k = static_cast<int>(g % 3);
    const int64_t slot = g / 3 - kLag * k;
    if (slot >= pool_) ++repeats_;
    int64_t conv = (slot % pool_ + pool_) % pool_;
    const size_t k_schedule =
        std::upper_bound(starts_.begin(), starts_.end(), conv) -
        starts_.begin() - 1;
    const Schedule* s = &schedules_[k_schedule];
    conv -= starts_[k_schedule];
    const auto& [attendee, at] = s->convocations[conv];
    e->set_event_id(absl::StrCat("bench-", run_, "-", g));
    e->set_schedule_id(s->id);
    e->set_attendee_id(attendee);
    e->set_kind(kKinds[k]);
    *e->mutable_observed_at() =
        ToTimestamp(at + absl::Minutes(conv % 11 - 5 + kMinutesAfter[k]));
    e->set_device_id(device);
  }

 private:
  std::vector<Schedule> schedules_;
  std::vector<int64_t> starts_;  // each schedule's first slot in the pool
  const std::string run_;
  int64_t pool_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> repeats_{0};
};

v1::ReportQueueRequest Report(const std::string& venue_id, int64_t i) {
  v1::ReportQueueRequest r;
  r.set_venue_id(venue_id);
  *r.mutable_observed_at() = ToTimestamp(absl::Now());
  r.set_queue_length(static_cast<int32_t>(5 + i % 20));
  r.mutable_waited()->set_seconds(60 * (4 + i % 15));
  r.set_wait_state(v1::WAIT_STATE_FINISHED);
  r.set_reporter_token(absl::StrCat("bench-reporter-", i));
  return r;
}

EchoMessage EchoOf(size_t request_bytes, size_t reply_bytes) {
  EchoMessage m;
  m.mutable_payload()->assign(request_bytes, 'q');
  m.set_reply_bytes(static_cast<int32_t>(reply_bytes));
  return m;
}

// ---------------------------------------------------------------------------
// The workloads.

class Bench {
 public:
  // Each point is measured `repeats` times; the in-process planner runs on
  // `planner_cpu` (< 0: not pinned).
  Bench(std::string noqueue_target, pid_t noqueue_pid, std::string echo_target,
        pid_t echo_pid, Timing timing, std::vector<int> levels, int repeats,
        int planner_cpu)
      : nq_target_(std::move(noqueue_target)),
        nq_pid_(noqueue_pid),
        echo_target_(std::move(echo_target)),
        echo_pid_(echo_pid),
        timing_(timing),
        levels_(std::move(levels)),
        repeats_(repeats),
        planner_cpu_(planner_cpu) {
    nq_channels_ = Channels(nq_target_, 4);
    echo_channels_ = Channels(echo_target_, 4);
  }

  bool Setup(const std::vector<int>& sizes) {
    auto venues = v1::VenueService::NewStub(nq_channels_[0]);
    for (int n : sizes) {
      grpc::ClientContext ctx;
      Authorize(&ctx);
      v1::UpsertVenueRequest req;
      *req.mutable_venue() = BenchVenue(n);
      v1::UpsertVenueResponse resp;
      grpc::Status st = venues->UpsertVenue(&ctx, req, &resp);
      if (!st.ok()) {
        std::fprintf(stderr, "noqueue-bench: UpsertVenue: %s\n",
                     st.error_message().c_str());
        return false;
      }
    }
    return true;
  }

  // CreateSchedule(n) at every level, once per search budget of `budgets`
  // (nullopt: the server's default), beside the echo ceiling and, at one
  // core, the planner run in process on the same request.
  void CreateSchedule(int n,
                      const std::vector<std::optional<double>>& budgets) {
    struct Variant {
      std::string name;
      v1::CreateScheduleRequest tmpl;
      size_t response_bytes = 0;
    };
    std::vector<Variant> variants;
    for (const std::optional<double>& budget : budgets) {
      Variant v{ScheduleWorkload(n, budget), ScheduleRequest(n)};
      if (budget) {
        *v.tmpl.mutable_planning()->mutable_time_budget() =
            ToProtoDuration(absl::Milliseconds(*budget));
      }
      v1::CreateScheduleResponse sample;
      auto stub = v1::SchedulingService::NewStub(nq_channels_[0]);
      grpc::ClientContext ctx;
      Authorize(&ctx);
      if (stub->CreateSchedule(&ctx, v.tmpl, &sample).ok()) {
        Planner(v.name, n, v.tmpl, sample.schedule());
      }
      v.response_bytes = sample.ByteSizeLong();
      variants.push_back(std::move(v));
    }
    const size_t req_bytes = variants.front().tmpl.ByteSizeLong();
    // Every call a new request id (a repeated one is a retry, answered from
    // the store), across all concurrency levels.
    std::atomic<int64_t> seq{0};
    struct Slot {
      v1::CreateScheduleRequest req;
      v1::CreateScheduleResponse resp;
      std::unique_ptr<grpc::ClientContext> ctx;
    };
    std::vector<std::unique_ptr<v1::SchedulingService::Stub>> stubs;
    for (auto& ch : nq_channels_) {
      stubs.push_back(v1::SchedulingService::NewStub(ch));
    }
    for (int c : levels_) {
      // 10,000 attendees take a while each: fewer at once is enough.
      if (n >= 10000 && c > 4) continue;
      std::vector<std::vector<Slot>> slots(variants.size());
      std::vector<std::function<Point()>> runs;
      for (size_t k = 0; k < variants.size(); ++k) {
        // A new venue's search at this size takes seconds (its guard
        // against the naive spread runs past the budget): at C=1 only.
        if (n >= 10000 && c > 1 && !budgets[k]) continue;
        slots[k].resize(c);
        for (Slot& s : slots[k]) s.req = variants[k].tmpl;
        runs.push_back([&, k, c] {
          return Measure(variants[k].name, "noqueue", c, n, nq_pid_,
                         [&, k](int slot, Done done) {
                           Slot& s = slots[k][slot];
                           s.req.set_request_id(absl::StrCat(
                               "bench-", run_, "-", n, "-", seq++));
                           s.ctx = NewContext();
                           stubs[slot % stubs.size()]->async()->CreateSchedule(
                               s.ctx.get(), &s.req, &s.resp, std::move(done));
                         });
        });
      }
      // One echo for the variants: their messages differ by a few bytes.
      runs.push_back([&, c] {
        return EchoUnary(ScheduleWorkload(n, std::nullopt), c, req_bytes,
                         variants.front().response_bytes);
      });
      for (Point& p : Interleaved(runs)) points_.push_back(std::move(p));
    }
  }

  void Crowd() {
    const std::string venue = "bench-100";
    std::vector<std::unique_ptr<v1::CrowdService::Stub>> stubs;
    for (auto& ch : nq_channels_)
      stubs.push_back(v1::CrowdService::NewStub(ch));
    const size_t report_bytes = Report(venue, 0).ByteSizeLong();
    v1::GetVenueStatusRequest status_req;
    status_req.set_venue_id(venue);
    for (int c : levels_) {
      struct Slot {
        v1::ReportQueueRequest req;
        v1::ReportQueueResponse resp;
        v1::GetVenueStatusResponse status;
        std::unique_ptr<grpc::ClientContext> ctx;
      };
      std::vector<Slot> slots(c);
      std::atomic<int64_t> seq{next_report_};
      for (Point& p : Interleaved(
               {[&] {
                  return Measure(
                      "ReportQueue", "noqueue", c, 1, nq_pid_,
                      [&](int slot, Done done) {
                        Slot& s = slots[slot];
                        s.req = Report(venue, seq++);
                        s.ctx = NewContext();
                        stubs[slot % stubs.size()]->async()->ReportQueue(
                            s.ctx.get(), &s.req, &s.resp, std::move(done));
                      });
                },
                [&] {
                  return EchoUnary("ReportQueue", c, report_bytes, 32);
                }})) {
        points_.push_back(std::move(p));
      }
      next_report_ = seq;
      size_t status_bytes = 64;
      for (Point& p : Interleaved(
               {[&] {
                  return Measure(
                      "GetVenueStatus", "noqueue", c, 1, nq_pid_,
                      [&](int slot, Done done) {
                        Slot& s = slots[slot];
                        status_bytes =
                            std::max(status_bytes, s.status.ByteSizeLong());
                        s.ctx = NewContext();
                        stubs[slot % stubs.size()]->async()->GetVenueStatus(
                            s.ctx.get(), &status_req, &s.status,
                            std::move(done));
                      });
                },
                [&] {
                  return EchoUnary("GetVenueStatus", c,
                                   status_req.ByteSizeLong(), status_bytes);
                }})) {
        points_.push_back(std::move(p));
      }
    }
  }

  // The pool of schedules tags go to, `schedules` of TagPlan::kAttendees
  // (made by two threads at once, before any measurement).
  bool MakeTagPlan(int schedules) {
    const ProcessUsage before = ReadUsage(nq_pid_);
    std::vector<TagPlan::Schedule> pool(schedules);
    std::atomic<int> next{0};
    std::atomic<bool> ok{true};
    auto work = [&] {
      auto sched = v1::SchedulingService::NewStub(nq_channels_[0]);
      for (int k = next++; k < schedules && ok; k = next++) {
        grpc::ClientContext ctx;
        Authorize(&ctx);
        v1::CreateScheduleRequest req =
            ScheduleRequest(TagPlan::kAttendees, schedules - 1 - k);
        req.set_request_id(absl::StrCat("bench-", run_, "-tags-", k));
        // Rows for tags to go to: the constructive plan is enough (a new
        // venue's search with its guard takes seconds at this size).
        *req.mutable_planning()->mutable_time_budget() =
            ToProtoDuration(absl::ZeroDuration());
        v1::CreateScheduleResponse resp;
        grpc::Status st = sched->CreateSchedule(&ctx, req, &resp);
        if (!st.ok()) {
          std::fprintf(stderr, "noqueue-bench: CreateSchedule: %s\n",
                       st.error_message().c_str());
          ok = false;
        }
        pool[k].id = resp.schedule().schedule_id();
        for (const v1::Convocation& c : resp.schedule().convocations()) {
          pool[k].convocations.emplace_back(
              c.attendee_id(),
              absl::FromUnixSeconds(c.convocation_time().seconds()) +
                  absl::Nanoseconds(c.convocation_time().nanos()));
        }
      }
    };
    std::thread other(work);
    work();
    other.join();
    if (ok) tags_ = std::make_unique<TagPlan>(std::move(pool), run_);
    if (nq_pid_ > 0) {
      const ProcessUsage after = ReadUsage(nq_pid_);
      memory_.convocations = int64_t{schedules} * TagPlan::kAttendees;
      memory_.before_convocations = {before.rss_mb, before.anon_mb};
      memory_.after_convocations = {after.rss_mb, after.anon_mb};
    }
    return ok;
  }

  // The server's resident memory with `streams` tag streams open at once
  // (each has sent one tag of the tag plan and had it acknowledged), beside
  // the same server before they opened.
  void OpenStreams(int streams) {
    if (nq_pid_ <= 0 || !tags_) return;
    Progress("open streams", "memory", streams);
    const ProcessUsage before = ReadUsage(nq_pid_);
    std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
    std::vector<std::unique_ptr<OpenStream>> open;
    for (int s = 0; s < streams; ++s) {
      v1::ArrivalEvent first;
      tags_->Next(absl::StrCat("gate-", next_stream_++), &first);
      ctxs.push_back(NewContext());
      open.push_back(std::make_unique<OpenStream>(std::move(first)));
      v1::ArrivalService::NewStub(nq_channels_[s % nq_channels_.size()])
          ->async()
          ->StreamArrivals(ctxs.back().get(), open.back().get());
      open.back()->Begin();
    }
    int acked = 0;
    for (auto& o : open) acked += o->AwaitAck() ? 1 : 0;
    // Let the server settle what the acknowledgements started.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const ProcessUsage with = ReadUsage(nq_pid_);
    memory_.streams = acked;
    memory_.before_streams = {before.rss_mb, before.anon_mb};
    memory_.with_streams = {with.rss_mb, with.anon_mb};
    for (auto& o : open) o->Close();
    for (auto& o : open) o->AwaitDone();
  }

  // Tag ingest from the tag plan, `c` streams at once for each level.
  void Arrivals() {
    v1::ArrivalEvent sample;
    TagPlan::Synthetic(run_).Next("gate-0", &sample);
    const size_t tag_bytes = sample.ByteSizeLong();
    v1::ArrivalAck sample_ack;
    sample_ack.set_event_id(sample.event_id());
    sample_ack.set_status(v1::ACCEPTED);
    const size_t ack_bytes = sample_ack.ByteSizeLong();
    const EchoMessage m = EchoOf(tag_bytes, ack_bytes);
    for (int c : levels_) {
      auto check = [](const v1::ArrivalAck& ack) -> std::string {
        if (ack.status() == v1::ACCEPTED) return "";
        return absl::StrCat(
            v1::AckStatus_Name(ack.status()), "/",
            Recorder::StatusName(static_cast<grpc::StatusCode>(ack.code())));
      };
      auto tags = [&, c] {
        const int64_t base = next_stream_;
        next_stream_ += c;
        auto make = [&](int s) {
          return [this, device = absl::StrCat("gate-", base + s)](
                     int64_t, v1::ArrivalEvent* e) { tags_->Next(device, e); };
        };
        return MeasureStreams<v1::ArrivalEvent, v1::ArrivalAck>(
            "StreamArrivals", "noqueue", c, nq_pid_,
            [&](int s, grpc::ClientContext* ctx,
                LoadStream<v1::ArrivalEvent, v1::ArrivalAck>* r) {
              v1::ArrivalService::NewStub(nq_channels_[s % nq_channels_.size()])
                  ->async()
                  ->StreamArrivals(ctx, r);
            },
            make, check);
      };
      auto echo = [&, c] {
        return MeasureStreams<EchoMessage, EchoMessage>(
            "StreamArrivals", "echo", c, echo_pid_,
            [&](int s, grpc::ClientContext* ctx,
                LoadStream<EchoMessage, EchoMessage>* r) {
              Echo::NewStub(echo_channels_[s % echo_channels_.size()])
                  ->async()
                  ->Stream(ctx, r);
            },
            [m](int) { return [m](int64_t, EchoMessage* e) { *e = m; }; },
            [](const EchoMessage&) { return std::string(); });
      };
      for (Point& p : Interleaved({tags, echo})) {
        points_.push_back(std::move(p));
      }
    }
  }

  // A busy venue: schedules of 100, reports and status polls, and a device
  // streaming tags (of the tag plan), all at once (concurrency 2, 2, 2 and
  // 1 stream); each repeat all four again.
  void Mixed() {
    std::vector<std::vector<Point>> runs(4);
    for (int r = 0; r < repeats_; ++r) {
      std::vector<Point> once = MixedOnce();
      for (size_t i = 0; i < once.size(); ++i) {
        runs[i].push_back(std::move(once[i]));
      }
    }
    for (std::vector<Point>& r : runs) points_.push_back(Merge(std::move(r)));
  }

  std::vector<Point> MixedOnce() {
    const int n = 100;
    const std::string venue = absl::StrCat("bench-", n);
    Recorder schedules, tags, reports, statuses;
    std::atomic<int64_t> seq{0};
    std::atomic<int64_t> report_seq{next_report_ + 1000000};
    auto sched = v1::SchedulingService::NewStub(nq_channels_[0]);
    auto crowd = v1::CrowdService::NewStub(nq_channels_[1]);
    struct Slot {
      v1::CreateScheduleRequest req = ScheduleRequest(100);
      v1::CreateScheduleResponse resp;
      v1::ReportQueueRequest report;
      v1::ReportQueueResponse report_resp;
      v1::GetVenueStatusRequest status_req;
      v1::GetVenueStatusResponse status;
      std::unique_ptr<grpc::ClientContext> ctx;
    };
    std::vector<Slot> slots(6);
    for (Slot& s : slots) s.status_req.set_venue_id(venue);
    std::vector<double> seconds(4);
    std::vector<std::thread> loops;
    loops.emplace_back([&] {
      RunUnary(
          2, timing_,
          [&](int slot, Done done) {
            Slot& s = slots[slot];
            s.req.set_request_id(
                absl::StrCat("bench-", run_, "-mixed-", seq++));
            s.ctx = NewContext();
            sched->async()->CreateSchedule(s.ctx.get(), &s.req, &s.resp,
                                           std::move(done));
          },
          &schedules, &seconds[0]);
    });
    loops.emplace_back([&] {
      RunUnary(
          2, timing_,
          [&](int slot, Done done) {
            Slot& s = slots[2 + slot];
            s.report = Report(venue, report_seq++);
            s.ctx = NewContext();
            crowd->async()->ReportQueue(s.ctx.get(), &s.report, &s.report_resp,
                                        std::move(done));
          },
          &reports, &seconds[1]);
    });
    loops.emplace_back([&] {
      RunUnary(
          2, timing_,
          [&](int slot, Done done) {
            Slot& s = slots[4 + slot];
            s.ctx = NewContext();
            crowd->async()->GetVenueStatus(s.ctx.get(), &s.status_req,
                                           &s.status, std::move(done));
          },
          &statuses, &seconds[2]);
    });
    grpc::ClientContext stream_ctx;
    Authorize(&stream_ctx);
    const int64_t stream_id = next_stream_++;
    LoadStream<v1::ArrivalEvent, v1::ArrivalAck> stream(
        absl::GetFlag(FLAGS_window),
        [this, device = absl::StrCat("gate-", stream_id)](
            int64_t, v1::ArrivalEvent* e) { tags_->Next(device, e); },
        [](const v1::ArrivalAck& ack) {
          return ack.status() == v1::ACCEPTED
                     ? std::string()
                     : v1::AckStatus_Name(ack.status());
        },
        &tags);
    v1::ArrivalService::NewStub(nq_channels_[2])
        ->async()
        ->StreamArrivals(&stream_ctx, &stream);
    stream.Begin();
    std::this_thread::sleep_for(
        std::chrono::duration<double>(timing_.warmup_s));
    const ProcessUsage at_start = ReadUsage(nq_pid_);
    tags.Start();
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(
        std::chrono::duration<double>(timing_.measure_s));
    tags.Stop();
    seconds[3] = Seconds(Clock::now() - t0);
    const ProcessUsage after = ReadUsage(nq_pid_);
    stream.Stop();
    stream.Await();
    for (std::thread& t : loops) t.join();
    const char* names[] = {"Mixed: CreateSchedule/100", "Mixed: ReportQueue",
                           "Mixed: GetVenueStatus", "Mixed: StreamArrivals"};
    Recorder* recorders[] = {&schedules, &reports, &statuses, &tags};
    int64_t total = 0;
    std::vector<Point> out;
    for (int i = 0; i < 4; ++i) {
      Point p;
      p.workload = names[i];
      p.kind = "noqueue";
      p.concurrency = i == 3 ? 1 : 2;
      p.per_call_items = i == 0 ? n : 1;
      p.seconds = seconds[i];
      recorders[i]->Into(&p);
      total += p.calls;
      if (nq_pid_ > 0) p.server_peak_mb = after.peak_rss_mb;
      out.push_back(std::move(p));
    }
    // The server's CPU is shared: per call of any kind.
    for (Point& p : out) {
      if (nq_pid_ > 0 && total > 0) {
        p.server_cpu_s = (after.cpu_s - at_start.cpu_s) * p.calls / total;
      }
    }
    return out;
  }

  // Cheap calls beside large schedules: GetVenue at C=1 alone, then while
  // `schedules` CreateSchedule(n) run at once (closed loop).
  void Isolation(int schedules, int n) {
    auto venues = v1::VenueService::NewStub(nq_channels_[0]);
    v1::GetVenueRequest get;
    get.set_venue_id(absl::StrCat("bench-", n));
    struct Reply {
      v1::GetVenueResponse resp;
      std::unique_ptr<grpc::ClientContext> ctx;
    };
    Reply reply;
    const Issue get_venue = [&](int, Done done) {
      reply.ctx = NewContext();
      venues->async()->GetVenue(reply.ctx.get(), &get, &reply.resp,
                                std::move(done));
    };
    Progress("GetVenue", "noqueue", 1);
    points_.push_back(Measure("GetVenue", "noqueue", 1, 1, nq_pid_, get_venue));

    const std::string loaded =
        absl::StrCat("GetVenue beside ", schedules, " x CreateSchedule/", n);
    Progress(loaded, "noqueue", 1);
    // The constructive plan and its KPIs (no search): planning as heavy as
    // when the figures beside it were first measured, and not a new venue's
    // guard of seconds per schedule.
    v1::CreateScheduleRequest tmpl = ScheduleRequest(n);
    *tmpl.mutable_planning()->mutable_time_budget() =
        ToProtoDuration(absl::ZeroDuration());
    struct Slot {
      v1::CreateScheduleRequest req;
      v1::CreateScheduleResponse resp;
      std::unique_ptr<grpc::ClientContext> ctx;
    };
    std::vector<Slot> slots(schedules);
    for (Slot& slot : slots) slot.req = tmpl;
    auto sched = v1::SchedulingService::NewStub(nq_channels_[1]);
    std::atomic<int64_t> seq{0};
    Recorder background;
    double background_s = 0;
    // The schedules run through the GetVenue point, warm-up included.
    Timing around = timing_;
    around.warmup_s = std::max(1.0, timing_.warmup_s);
    around.measure_s = timing_.warmup_s + timing_.measure_s + 0.5;
    std::thread load([&] {
      RunUnary(
          schedules, around,
          [&](int i, Done done) {
            Slot& slot = slots[i];
            slot.req.set_request_id(
                absl::StrCat("bench-", run_, "-isolation-", seq++));
            slot.ctx = NewContext();
            sched->async()->CreateSchedule(slot.ctx.get(), &slot.req,
                                           &slot.resp, std::move(done));
          },
          &background, &background_s);
    });
    std::this_thread::sleep_for(std::chrono::duration<double>(around.warmup_s));
    points_.push_back(Measure(loaded, "noqueue", 1, 1, nq_pid_, get_venue));
    load.join();
    Point p;
    p.workload = absl::StrCat("CreateSchedule/", n, " beside GetVenue");
    p.kind = "noqueue";
    p.concurrency = schedules;
    p.per_call_items = n;
    p.seconds = background_s;
    background.Into(&p);
    points_.push_back(std::move(p));
  }

  // What authentication costs: GetVenue at C=1 and the highest level, on
  // this server (every call carries an API key, hashed and compared) and on
  // `open_target`, the same binary with --auth=none (no credential).
  void AuthCost(const std::string& open_target, pid_t open_pid) {
    const auto open_channels = Channels(open_target, 4);
    UpsertOpenVenue(open_channels[0]);
    for (int c : {levels_.front(), levels_.back()}) {
      GetVenuePoint("GetVenue (API key)", nq_channels_, nq_pid_, c, true);
      GetVenuePoint("GetVenue (no access control)", open_channels, open_pid, c,
                    false);
    }
  }

  // What the metrics (the gRPC interceptor and the domain's instruments)
  // cost per call: GetVenue, the cheapest RPC, on two servers without access
  // control, one with --metrics_listen, measured in turns; returns the
  // throughput ratios (with / without) at each concurrency.
  std::vector<std::pair<int, double>> MetricsCost(
      const std::string& plain_target, pid_t plain_pid,
      const std::string& metrics_target, pid_t metrics_pid) {
    const auto plain = Channels(plain_target, 4);
    const auto observed = Channels(metrics_target, 4);
    UpsertOpenVenue(plain[0]);
    UpsertOpenVenue(observed[0]);
    std::vector<std::pair<int, double>> ratios;
    for (int c : {levels_.front(), levels_.back()}) {
      const Point& without =
          GetVenuePoint("GetVenue (no metrics)", plain, plain_pid, c, false);
      const double base = without.Rate();
      const Point& with = GetVenuePoint("GetVenue (metrics on)", observed,
                                        metrics_pid, c, false);
      ratios.emplace_back(c, base > 0 ? with.Rate() / base : 0);
    }
    return ratios;
  }

 private:
  void UpsertOpenVenue(const std::shared_ptr<grpc::Channel>& channel) {
    auto venues = v1::VenueService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::UpsertVenueRequest req;
    *req.mutable_venue() = BenchVenue(100);
    v1::UpsertVenueResponse resp;
    venues->UpsertVenue(&ctx, req, &resp);
  }

  // GetVenue at concurrency `c` on `channels` (with the bench's API key or
  // none), as one point.
  const Point& GetVenuePoint(
      const std::string& name,
      const std::vector<std::shared_ptr<grpc::Channel>>& channels, pid_t pid,
      int c, bool keys) {
    v1::GetVenueRequest get;
    get.set_venue_id("bench-100");
    std::vector<std::unique_ptr<v1::VenueService::Stub>> stubs;
    for (auto& ch : channels) stubs.push_back(v1::VenueService::NewStub(ch));
    struct Slot {
      v1::GetVenueResponse resp;
      std::unique_ptr<grpc::ClientContext> ctx;
    };
    std::vector<Slot> slots(c);
    Progress(name, "noqueue", c);
    points_.push_back(
        Measure(name, "noqueue", c, 1, pid, [&](int slot, Done done) {
          Slot& sl = slots[slot];
          sl.ctx =
              keys ? NewContext() : std::make_unique<grpc::ClientContext>();
          stubs[slot % stubs.size()]->async()->GetVenue(
              sl.ctx.get(), &get, &sl.resp, std::move(done));
        }));
    return points_.back();
  }

 public:
  // Raw SQLite: the same tag rows, inserted in batches into a table shaped
  // like the server's, on a file with the server's settings.
  void RawSqlite(const std::string& dir, int batch) {
    const std::string path = dir + "/raw.db";
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return;
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE arrival_events (seq INTEGER PRIMARY KEY,"
                 " event_id TEXT NOT NULL UNIQUE, schedule_id TEXT NOT NULL,"
                 " attendee_id TEXT NOT NULL, kind INTEGER NOT NULL,"
                 " observed_us INTEGER NOT NULL, device_id TEXT NOT NULL,"
                 " received_us INTEGER NOT NULL, learnable INTEGER NOT NULL);",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db,
                       "INSERT INTO arrival_events (event_id, schedule_id,"
                       " attendee_id, kind, observed_us, device_id,"
                       " received_us, learnable) VALUES (?,?,?,?,?,?,?,1)",
                       -1, &insert, nullptr);
    Point p;
    p.workload = "StreamArrivals";
    p.kind = "sqlite";
    p.concurrency = batch;
    TagPlan plan = TagPlan::Synthetic(run_);
    v1::ArrivalEvent e;
    const auto t0 = Clock::now();
    int64_t rows = 0;
    while (Seconds(Clock::now() - t0) < timing_.measure_s) {
      sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
      for (int i = 0; i < batch; ++i, ++rows) {
        plan.Next("gate-0", &e);
        sqlite3_bind_text(insert, 1, e.event_id().c_str(), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 2, e.schedule_id().c_str(), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 3, e.attendee_id().c_str(), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int(insert, 4, e.kind());
        sqlite3_bind_int64(insert, 5, e.observed_at().seconds() * 1000000);
        sqlite3_bind_text(insert, 6, e.device_id().c_str(), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(insert, 7, absl::ToUnixMicros(absl::Now()));
        sqlite3_step(insert);
        sqlite3_reset(insert);
      }
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    p.seconds = Seconds(Clock::now() - t0);
    p.calls = rows;
    sqlite3_finalize(insert);
    sqlite3_close(db);
    points_.push_back(std::move(p));
  }

  const std::vector<Point>& points() const { return points_; }
  const TagPlan* tag_plan() const { return tags_.get(); }
  const std::vector<std::string>& notes() const { return notes_; }
  void AddNote(std::string note) { notes_.push_back(std::move(note)); }
  const MemoryFigures& memory() const { return memory_; }
  // The search budget of each CreateSchedule workload the planner ran, ms.
  const std::map<std::string, double>& budgets_ms() const {
    return budgets_ms_;
  }

 private:
  static void Progress(const std::string& workload, const std::string& kind,
                       int c) {
    std::fprintf(stderr, "noqueue-bench: %s (%s), C=%d\n", workload.c_str(),
                 kind.c_str(), c);
  }

  Point Measure(const std::string& workload, const std::string& kind, int c,
                double items, pid_t pid, const Issue& issue) {
    Recorder recorder;
    Point p;
    p.workload = workload;
    p.kind = kind;
    p.concurrency = c;
    p.per_call_items = items;
    // CPU is read around the measured part only.
    Timing t = timing_;
    ProcessUsage at_start;
    std::thread sampler([&] {
      std::this_thread::sleep_for(std::chrono::duration<double>(t.warmup_s));
      at_start = ReadUsage(pid);
    });
    RunUnary(c, t, issue, &recorder, &p.seconds);
    sampler.join();
    const ProcessUsage after = ReadUsage(pid);
    recorder.Into(&p);
    if (pid > 0) {
      p.server_cpu_s = after.cpu_s - at_start.cpu_s;
      p.server_peak_mb = after.peak_rss_mb;
    }
    return p;
  }

  Point EchoUnary(const std::string& workload, int c, size_t req_bytes,
                  size_t resp_bytes) {
    const EchoMessage m = EchoOf(req_bytes, resp_bytes);
    std::vector<std::unique_ptr<Echo::Stub>> stubs;
    for (auto& ch : echo_channels_) stubs.push_back(Echo::NewStub(ch));
    struct Slot {
      EchoMessage resp;
      std::unique_ptr<grpc::ClientContext> ctx;
    };
    std::vector<Slot> slots(c);
    return Measure(workload, "echo", c, 1, echo_pid_, [&](int slot, Done done) {
      Slot& s = slots[slot];
      s.ctx = NewContext();
      stubs[slot % stubs.size()]->async()->Unary(s.ctx.get(), &m, &s.resp,
                                                 std::move(done));
    });
  }

  // Measures each of `runs` once per repeat, in turn (A B A B ...), so that
  // a point and its ceiling see the same drift of the machine; one merged
  // point each, in the order of `runs`.
  std::vector<Point> Interleaved(
      const std::vector<std::function<Point()>>& runs) {
    std::vector<std::vector<Point>> got(runs.size());
    for (int r = 0; r < repeats_; ++r) {
      for (size_t i = 0; i < runs.size(); ++i) got[i].push_back(runs[i]());
    }
    std::vector<Point> out;
    for (std::vector<Point>& g : got) out.push_back(Merge(std::move(g)));
    return out;
  }

  // The in-process planner on `request` (a point of kind "planner"), when
  // the server planned `served` from the same model state: else a note
  // says why there is no fair ceiling.
  void Planner(const std::string& workload, int n,
               const v1::CreateScheduleRequest& request,
               const v1::Schedule& served) {
    if (served.model_events_learned() != 0) {
      notes_.push_back(absl::StrCat(
          workload, ": no planner ceiling, the server's model has learned ",
          served.model_events_learned(),
          " events and the in-process planner starts from the prior"));
      return;
    }
    const PlannerCeiling ceiling(BenchVenue(n), request);
    if (std::string d = ceiling.DifferencesFrom(served); !d.empty()) {
      notes_.push_back(
          absl::StrCat(workload, ": no planner ceiling, the server's ", d));
      return;
    }
    Progress(workload, "planner", 1);
    std::vector<Point> runs;
    for (int r = 0; r < repeats_; ++r) {
      const PlannerCeiling::Run run =
          ceiling.Measure(timing_.measure_s, planner_cpu_);
      Point p;
      p.workload = workload;
      p.kind = "planner";
      p.concurrency = 1;
      p.per_call_items = n;
      p.seconds = run.wall_s;
      p.calls = run.calls;
      p.latency_ms = run.latency_ms;
      std::sort(p.latency_ms.begin(), p.latency_ms.end());
      if (run.errors > 0) p.errors["PLANNER_ERROR"] = run.errors;
      p.server_cpu_s = run.cpu_s;
      runs.push_back(std::move(p));
    }
    points_.push_back(Merge(std::move(runs)));
    budgets_ms_[workload] = ceiling.budget_ms();
  }

  template <typename Req, typename Resp, typename Start, typename MakeFor,
            typename Check>
  Point MeasureStreams(const std::string& workload, const std::string& kind,
                       int c, pid_t pid, Start start, MakeFor make_for,
                       Check check) {
    Progress(workload, kind, c);
    Recorder recorder;
    Point p;
    p.workload = workload;
    p.kind = kind;
    p.concurrency = c;
    std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
    std::vector<std::unique_ptr<LoadStream<Req, Resp>>> streams;
    for (int s = 0; s < c; ++s) {
      ctxs.push_back(NewContext());
      streams.push_back(std::make_unique<LoadStream<Req, Resp>>(
          absl::GetFlag(FLAGS_window), make_for(s), check, &recorder));
      start(s, ctxs.back().get(), streams.back().get());
      streams.back()->Begin();
    }
    std::this_thread::sleep_for(
        std::chrono::duration<double>(timing_.warmup_s));
    const ProcessUsage at_start = ReadUsage(pid);
    recorder.Start();
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(
        std::chrono::duration<double>(timing_.measure_s));
    // Count only what was acknowledged inside the measured time.
    recorder.Stop();
    Point counted;
    recorder.Into(&counted);
    p.seconds = Seconds(Clock::now() - t0);
    const ProcessUsage after = ReadUsage(pid);
    for (auto& s : streams) s->Stop();
    for (auto& s : streams) {
      grpc::Status st = s->Await();
      if (!st.ok()) ++counted.errors[Recorder::StatusName(st.error_code())];
    }
    p.calls = counted.calls;
    p.latency_ms = std::move(counted.latency_ms);
    p.errors = std::move(counted.errors);
    if (pid > 0) {
      p.server_cpu_s = after.cpu_s - at_start.cpu_s;
      p.server_peak_mb = after.peak_rss_mb;
    }
    return p;
  }

  std::string nq_target_;
  pid_t nq_pid_;
  std::string echo_target_;
  pid_t echo_pid_;
  Timing timing_;
  std::vector<int> levels_;
  const int repeats_;
  const int planner_cpu_;
  std::vector<std::shared_ptr<grpc::Channel>> nq_channels_, echo_channels_;
  std::vector<Point> points_;
  int64_t next_report_ = 0;
  int64_t next_stream_ = 0;
  // Ids of this run's requests and tags start with it, so that a run on a
  // server that has seen others repeats none.
  const std::string run_ =
      absl::StrCat(absl::Hex(absl::ToUnixMicros(absl::Now())));
  std::unique_ptr<TagPlan> tags_;
  std::vector<std::string> notes_;
  std::map<std::string, double> budgets_ms_;
  MemoryFigures memory_;
};

// ---------------------------------------------------------------------------
// The run.

// A comma-separated list of positive integers (`flag` names it in errors);
// `fallback` when empty, nullopt (after saying why) when malformed.
std::optional<std::vector<int>> Ints(const char* flag, const std::string& csv,
                                     std::vector<int> fallback) {
  if (csv.empty()) return fallback;
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(csv, ',')) {
    int v = 0;
    if (!absl::SimpleAtoi(part, &v) || v <= 0) {
      std::fprintf(stderr,
                   "noqueue-bench: --%s: \"%s\" is not a positive integer\n",
                   flag, std::string(part).c_str());
      return std::nullopt;
    }
    out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// --schedule_budgets: "default" (nullopt) or a budget in ms, each >= 0.
std::optional<std::vector<std::optional<double>>> Budgets(
    const std::string& csv) {
  std::vector<std::optional<double>> out;
  for (absl::string_view part : absl::StrSplit(csv, ',')) {
    double ms = 0;
    if (part == "default") {
      out.push_back(std::nullopt);
    } else if (absl::SimpleAtod(part, &ms) && ms >= 0 && ms <= 10000) {
      out.push_back(ms);
    } else {
      std::fprintf(stderr,
                   "noqueue-bench: --schedule_budgets: \"%s\" is neither "
                   "\"default\" nor a budget of 0 to 10000 ms\n",
                   std::string(part).c_str());
      return std::nullopt;
    }
  }
  return out;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line;
}

// --pin: where the servers and the load generator run. Pinning is turned
// off (and the facts say why) when the machine cannot give them disjoint
// cores; false on a malformed flag.
bool ChoosePinning(RunFacts* facts) {
  const std::string pin = absl::GetFlag(FLAGS_pin);
  if (pin != "on" && pin != "off") {
    std::fprintf(stderr, "noqueue-bench: --pin: \"%s\" is not on or off\n",
                 pin.c_str());
    return false;
  }
  facts->server_cpu = absl::GetFlag(FLAGS_server_cpu);
  facts->generator_cpu = absl::GetFlag(FLAGS_generator_cpu);
  facts->pinned = pin == "on";
  if (!facts->pinned) {
    facts->pin_note = "--pin=off";
  } else if (facts->server_cpu == facts->generator_cpu ||
             std::min(facts->server_cpu, facts->generator_cpu) < 0 ||
             std::max(facts->server_cpu, facts->generator_cpu) >=
                 facts->cores) {
    facts->pinned = false;
    facts->pin_note = absl::StrCat("no disjoint cores ", facts->server_cpu,
                                   " and ", facts->generator_cpu, " among ",
                                   facts->cores, ": not pinned");
  } else if (!PinThisThread(facts->server_cpu)) {
    facts->pinned = false;
    facts->pin_note = absl::StrCat("sched_setaffinity refused core ",
                                   facts->server_cpu, ": not pinned");
  }
  if (!facts->pinned) facts->server_cpu = facts->generator_cpu = -1;
  return true;
}

int Run() {
  const bool quick = absl::GetFlag(FLAGS_quick);
  Timing timing;
  timing.measure_s = absl::GetFlag(FLAGS_duration_s) > 0
                         ? absl::GetFlag(FLAGS_duration_s)
                         : (quick ? 0.5 : 2.0);
  timing.warmup_s = std::min(1.0, std::max(0.1, timing.measure_s / 4));
  const std::optional<std::vector<int>> levels_flag =
      Ints("concurrency", absl::GetFlag(FLAGS_concurrency),
           quick ? std::vector<int>{1, 8}
                 : std::vector<int>{1, 2, 4, 8, 16, 32, 64});
  const std::optional<std::vector<int>> sizes_flag =
      Ints("sizes", absl::GetFlag(FLAGS_sizes), {10, 100, 1000, 10000});
  const std::optional<std::vector<std::optional<double>>> budgets =
      Budgets(absl::GetFlag(FLAGS_schedule_budgets));
  if (!levels_flag || !sizes_flag || !budgets) return 2;
  const std::vector<int>& levels = *levels_flag;
  const std::vector<int>& sizes = *sizes_flag;
  if (absl::GetFlag(FLAGS_window) <= 0 || absl::GetFlag(FLAGS_duration_s) < 0 ||
      absl::GetFlag(FLAGS_isolation_schedules) <= 0 ||
      absl::GetFlag(FLAGS_isolation_size) <= 0 ||
      absl::GetFlag(FLAGS_repeats) <= 0 ||
      absl::GetFlag(FLAGS_memory_streams) <= 0) {
    std::fprintf(stderr,
                 "noqueue-bench: --window, --repeats, --memory_streams, "
                 "--isolation_schedules and --isolation_size must be "
                 "positive and --duration_s not negative\n");
    return 2;
  }
  for (absl::string_view w :
       absl::StrSplit(absl::GetFlag(FLAGS_workloads), ',')) {
    if (w != "schedule" && w != "crowd" && w != "stream" && w != "sqlite" &&
        w != "mixed" && w != "memory" && w != "isolation" && w != "auth" &&
        w != "metrics") {
      std::fprintf(stderr,
                   "noqueue-bench: --workloads: unknown \"%s\" (one of "
                   "schedule, crowd, stream, sqlite, mixed, memory, "
                   "isolation, auth, metrics)\n",
                   std::string(w).c_str());
      return 2;
    }
  }
  RunFacts facts;
  facts.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  facts.repeats = absl::GetFlag(FLAGS_repeats);
  facts.measure_s = timing.measure_s;
  facts.load_start = LoadAverage();
  // The servers are started from this thread on the server's core (they
  // inherit it), then every thread of the generator moves to its own.
  if (!ChoosePinning(&facts)) return 2;
  auto to_generator = [&] {
    if (facts.pinned) PinProcess(getpid(), facts.generator_cpu);
  };

  const std::string self = std::filesystem::canonical("/proc/self/exe");
  client::ServerProcess echo(self, std::vector<std::string>{"--echo_server"});
  if (echo.port() == 0) {
    std::fprintf(stderr, "noqueue-bench: the echo server did not start\n");
    return 1;
  }
  std::unique_ptr<client::ServerProcess> server;
  std::string server_binary;
  std::string target = absl::GetFlag(FLAGS_server);
  pid_t server_pid = -1;
  char tmpl[] = "/tmp/noqueue-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl) ? tmpl : "/tmp";
  if (target.empty()) {
    std::string& binary = server_binary;
    binary = absl::GetFlag(FLAGS_server_binary);
    if (binary.empty()) {
      binary = (std::filesystem::path(self).parent_path().parent_path() /
                "server" / "noqueue-server")
                   .string();
    }
    // No rate limit: the bench measures what the server can carry.
    server = std::make_unique<client::ServerProcess>(
        binary, std::vector<std::string>{"--listen=127.0.0.1:0",
                                         "--db=" + dir + "/bench.db",
                                         "--key_rate=0", "--anonymous_rate=0"});
    if (server->port() == 0) {
      std::fprintf(stderr, "noqueue-bench: %s did not start\n", binary.c_str());
      return 1;
    }
    target = server->target();
    server_pid = server->pid();
  }
  to_generator();
  const std::string key_file = !absl::GetFlag(FLAGS_key_file).empty()
                                   ? absl::GetFlag(FLAGS_key_file)
                               : server ? dir + "/admin.key"
                                        : "";
  if (!key_file.empty()) {
    absl::StatusOr<std::string> key = client::ReadCredentialFile(key_file);
    if (!key.ok()) {
      std::fprintf(stderr, "noqueue-bench: --key_file: %s\n",
                   std::string(key.status().message()).c_str());
      return 2;
    }
    Credential() = *key;
  }
  std::printf(
      "# noqueue-bench%s: %d cores, %.1f s per point x %d repeats, "
      "concurrency %s; %s; load average %s\n\n",
      quick ? " --quick" : "", facts.cores, timing.measure_s, facts.repeats,
      absl::StrJoin(levels, ",").c_str(),
      facts.pinned ? absl::StrFormat("server and echo on core %d, load "
                                     "generator on core %d",
                                     facts.server_cpu, facts.generator_cpu)
                         .c_str()
                   : facts.pin_note.c_str(),
      facts.load_start.c_str());
  std::fflush(stdout);

  std::vector<int> venue_sizes = sizes;
  venue_sizes.push_back(100);
  venue_sizes.push_back(absl::GetFlag(FLAGS_isolation_size));
  venue_sizes.push_back(TagPlan::kAttendees);
  Bench bench(target, server_pid, echo.target(), echo.pid(), timing, levels,
              facts.repeats, facts.server_cpu);
  if (!bench.Setup(venue_sizes)) return 1;
  const std::vector<std::string> workloads =
      absl::StrSplit(absl::GetFlag(FLAGS_workloads), ',');
  auto run = [&](const char* name) {
    return std::find(workloads.begin(), workloads.end(), name) !=
           workloads.end();
  };
  // Enough convocations that tags repeat none at up to 120,000 tags/s;
  // stored first, so that the server's memory grows by them alone.
  const double tag_seconds =
      (timing.warmup_s + timing.measure_s) * facts.repeats *
      static_cast<double>((run("stream") ? levels.size() : 0) +
                          (run("mixed") ? 1 : 0));
  const int pool = static_cast<int>(
      std::ceil(tag_seconds * 120000 / 3 / TagPlan::kAttendees));
  if ((pool > 0 || run("memory")) && !bench.MakeTagPlan(std::max(pool, 1))) {
    return 1;
  }
  if (run("schedule")) {
    for (int n : sizes) bench.CreateSchedule(n, *budgets);
  }
  if (run("crowd")) bench.Crowd();
  if (run("stream")) bench.Arrivals();
  if (run("sqlite")) bench.RawSqlite(dir, 256);
  if (run("mixed")) bench.Mixed();
  if (run("memory")) bench.OpenStreams(absl::GetFlag(FLAGS_memory_streams));
  if (run("auth") && server) {
    // The same binary without access control, on a database of its own, on
    // the server's core.
    if (facts.pinned) PinThisThread(facts.server_cpu);
    client::ServerProcess open(
        server_binary,
        std::vector<std::string>{"--listen=127.0.0.1:0",
                                 "--db=" + dir + "/open.db", "--auth=none"});
    if (facts.pinned) PinThisThread(facts.generator_cpu);
    if (open.port() == 0) {
      std::fprintf(stderr,
                   "noqueue-bench: the --auth=none server did not start\n");
      return 1;
    }
    bench.AuthCost(open.target(), open.pid());
    open.Stop(SIGTERM);
  }
  if (run("metrics") && server) {
    // The same binary without access control, with and without its metrics
    // (--metrics_listen), each on a database of its own, on the server's core.
    if (facts.pinned) PinThisThread(facts.server_cpu);
    client::ServerProcess plain(
        server_binary,
        std::vector<std::string>{"--listen=127.0.0.1:0",
                                 "--db=" + dir + "/plain.db", "--auth=none"});
    client::ServerProcess observed(
        server_binary,
        std::vector<std::string>{"--listen=127.0.0.1:0",
                                 "--db=" + dir + "/metrics.db", "--auth=none",
                                 "--metrics_listen=127.0.0.1:0"});
    if (facts.pinned) PinThisThread(facts.generator_cpu);
    if (plain.port() == 0 || observed.port() == 0) {
      std::fprintf(stderr,
                   "noqueue-bench: the metrics servers did not start\n");
      return 1;
    }
    std::vector<std::string> parts;
    for (const auto& [c, ratio] : bench.MetricsCost(
             plain.target(), plain.pid(), observed.target(), observed.pid())) {
      parts.push_back(absl::StrFormat("C=%d: %.3fx the calls/s (%+.1f%%)", c,
                                      ratio, 100 * (ratio - 1)));
    }
    bench.AddNote(absl::StrCat(
        "metrics on (--metrics_listen) vs off, GetVenue without access "
        "control: ",
        absl::StrJoin(parts, "; "), "; target: under 3% slower"));
    plain.Stop(SIGTERM);
    observed.Stop(SIGTERM);
  }
  if (run("isolation")) {
    bench.Isolation(absl::GetFlag(FLAGS_isolation_schedules),
                    absl::GetFlag(FLAGS_isolation_size));
  }

  facts.load_end = LoadAverage();
  facts.server_cpus = server_pid > 0 ? AllowedCpus(server_pid) : "";
  facts.echo_cpus = AllowedCpus(echo.pid());
  facts.generator_cpus = AllowedCpus(getpid());
  facts.budgets_ms = bench.budgets_ms();
  facts.memory = bench.memory();
  if (server_pid > 0) facts.memory.peak_mb = ReadUsage(server_pid).peak_rss_mb;
  facts.notes = bench.notes();
  PrintTable(bench.points(), facts);
  if (const TagPlan* tags = bench.tag_plan()) {
    std::printf(
        "\nTags: %lld sent to a pool of %lld convocations (each tagged "
        "ARRIVED, SERVICE_STARTED, SERVICE_ENDED once); %lld (%.1f%%) "
        "repeated a kind.\n",
        static_cast<long long>(tags->issued()),
        static_cast<long long>(tags->pool()),
        static_cast<long long>(tags->repeats()),
        100.0 * tags->repeats() / std::max<int64_t>(1, tags->issued()));
  }
  std::printf(
      "\nPinning: server threads on %s, echo threads on %s, generator threads "
      "on %s%s; load average %s at the start, %s at the end.\n",
      facts.server_cpus.empty() ? "n/a" : facts.server_cpus.c_str(),
      facts.echo_cpus.c_str(), facts.generator_cpus.c_str(),
      facts.pinned ? "" : absl::StrCat(" (", facts.pin_note, ")").c_str(),
      facts.load_start.c_str(), facts.load_end.c_str());
  PrintTargets(bench.points(), facts, levels);
  const std::string json_path = absl::GetFlag(FLAGS_json);
  const std::string svg_path = absl::GetFlag(FLAGS_svg);
  auto write = [](const std::string& path, const std::string& text) {
    if (path.empty()) return;
    const std::filesystem::path p(path);
    std::error_code ec;
    if (p.has_parent_path())
      std::filesystem::create_directories(p.parent_path(), ec);
    std::ofstream out(p);
    out << text;
    if (out.good()) {
      std::printf("Wrote %s\n", path.c_str());
    } else {
      std::fprintf(stderr, "noqueue-bench: cannot write %s\n", path.c_str());
    }
  };
  std::printf("\n");
  write(json_path, Json(bench.points(), facts));
  write(svg_path, Svg(bench.points(), levels));
  if (server) server->Stop(SIGTERM);
  std::filesystem::remove_all(dir);
  int errors = 0;
  for (const Point& p : bench.points()) {
    for (const auto& [_, n] : p.errors) errors += static_cast<int>(n);
  }
  return errors == 0 ? 0 : 3;
}

}  // namespace
}  // namespace noqueue::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_echo_server)) return noqueue::bench::ServeEcho();
  return noqueue::bench::Run();
}
