// The load generator's parts shared by noqueue-bench's workloads and its
// soak: credentials, the run's id, the server's CPU time and memory from
// /proc, a recorder of completions, channels, the venues and the schedules
// tags go to, a closed loop of unary calls, and bidirectional streams that
// keep a window of messages unanswered.
#ifndef NOQUEUE_BENCH_LOAD_H_
#define NOQUEUE_BENCH_LOAD_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_callback.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_results.h"
#include "bench/workloads.h"
#include "noqueue/v1/arrival.pb.h"
#include "noqueue/v1/scheduling.pb.h"

namespace noqueue::bench {

namespace v1 = ::noqueue::v1;
using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The credential every call carries ("authorization: Bearer ..."), the echo
// ceiling's calls included, so that both carry the same header.
std::string& Credential();
void Authorize(grpc::ClientContext* ctx);
std::unique_ptr<grpc::ClientContext> NewContext();

// A new run's id (the time, hex microseconds): ids of a run's requests and
// tags start with it, so that a run on a server that has seen others
// repeats none.
std::string NewRunId();

struct ProcessUsage {
  double cpu_s = 0;        // user + system
  double peak_rss_mb = 0;  // VmHWM
  double rss_mb = 0;       // VmRSS
  double anon_mb = 0;      // RssAnon: the heap, not the database's map
  // Each thread alive now: what its name says it does ("planning": the
  // server's nq-plan threads; "store": nq-store-*, the writer, its
  // completions, its checkpointer; "other": gRPC's threads and the rest),
  // and its CPU (user + system), by thread id.
  struct Thread {
    std::string role;
    double cpu_s = 0;
  };
  std::map<pid_t, Thread> threads;
};

// A process's usage, from /proc (zeros for pid <= 0).
ProcessUsage ReadUsage(pid_t pid);

// The CPU each role's threads spent from `before` to `after`: a thread's
// own difference, all of it for a thread born in between; "other" is the
// process's CPU less the other roles' (threads that ended in between
// count there).
std::map<std::string, double> CpuByRoleSince(const ProcessUsage& before,
                                             const ProcessUsage& after);

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
                                                     int n);

// Creates BenchVenue(n) for each n of `sizes` on `channel`; false after
// printing "noqueue-bench: <what>: <error>" at the first that fails.
bool UpsertBenchVenues(const std::shared_ptr<grpc::Channel>& channel,
                       const std::vector<int>& sizes, const std::string& what);

// Creates `count` schedules of TagPlan::kAttendees, the k-th `request(k)`
// with the constructive plan (rows for tags to go to: a new venue's search
// with its guard takes seconds at this size), from two threads at once,
// the t-th on channels[t % channels.size()]. Their ids and convocations,
// the k-th schedule k-th; false after printing "noqueue-bench: <what>:
// <error>" when one fails (no new one starts then).
bool MakeTagSchedules(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels, int count,
    const std::function<v1::CreateScheduleRequest(int k)>& request,
    const std::string& what, std::vector<TagPlan::Schedule>* made);

struct Timing {
  double warmup_s;
  double measure_s;
};

// Closed loop of unary calls: `issue(slot, done)` starts one call of slot
// `slot` and calls done(status) when it completes.
using Done = std::function<void(const grpc::Status&)>;
using Issue = std::function<void(int slot, Done done)>;
void RunUnary(int concurrency, const Timing& timing, const Issue& issue,
              Recorder* recorder, double* measured_s);

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

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_LOAD_H_
