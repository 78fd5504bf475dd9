#include "bench/load.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "noqueue/v1/scheduling.grpc.pb.h"
#include "noqueue/v1/venue.grpc.pb.h"
#include "proto/base/wire_time.h"

namespace noqueue::bench {

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

std::string NewRunId() {
  return absl::StrCat(absl::Hex(absl::ToUnixMicros(absl::Now())));
}

bool UpsertBenchVenues(const std::shared_ptr<grpc::Channel>& channel,
                       const std::vector<int>& sizes, const std::string& what) {
  auto venues = v1::VenueService::NewStub(channel);
  for (int n : sizes) {
    grpc::ClientContext ctx;
    Authorize(&ctx);
    v1::UpsertVenueRequest req;
    *req.mutable_venue() = BenchVenue(n);
    v1::UpsertVenueResponse resp;
    const grpc::Status st = venues->UpsertVenue(&ctx, req, &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "noqueue-bench: %s: %s\n", what.c_str(),
                   st.error_message().c_str());
      return false;
    }
  }
  return true;
}

bool MakeTagSchedules(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels, int count,
    const std::function<v1::CreateScheduleRequest(int k)>& request,
    const std::string& what, std::vector<TagPlan::Schedule>* made) {
  made->assign(count, {});
  std::atomic<int> next{0};
  std::atomic<bool> ok{true};
  auto work = [&](int t) {
    auto stub = v1::SchedulingService::NewStub(channels[t % channels.size()]);
    for (int k = next++; k < count && ok; k = next++) {
      grpc::ClientContext ctx;
      Authorize(&ctx);
      v1::CreateScheduleRequest req = request(k);
      *req.mutable_planning()->mutable_time_budget() =
          ToProtoDuration(absl::ZeroDuration());
      v1::CreateScheduleResponse resp;
      const grpc::Status st = stub->CreateSchedule(&ctx, req, &resp);
      if (!st.ok()) {
        std::fprintf(stderr, "noqueue-bench: %s: %s\n", what.c_str(),
                     st.error_message().c_str());
        ok = false;
        return;
      }
      TagPlan::Schedule& s = (*made)[k];
      s.id = resp.schedule().schedule_id();
      for (const v1::Convocation& c : resp.schedule().convocations()) {
        s.convocations.emplace_back(c.attendee_id(),
                                    ToTime(c.convocation_time()));
      }
    }
  };
  std::thread other(work, 1);
  work(0);
  other.join();
  return ok;
}

namespace {

// User + system CPU seconds from a /proc stat file (of a process or of one
// of its threads); 0 when it cannot be read.
double StatCpuSeconds(const std::string& path) {
  std::ifstream stat(path);
  std::string line;
  std::getline(stat, line);
  // Fields after the command name (which may hold spaces): state is 3rd,
  // utime the 14th and stime the 15th.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> f =
      absl::StrSplit(line.substr(close + 2), ' ', absl::SkipEmpty());
  if (f.size() <= 13) return 0;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(f[11]) + std::stod(f[12])) / tick;
}

std::string RoleOfThread(const std::string& name) {
  if (name.rfind("nq-plan", 0) == 0) return "planning";
  if (name.rfind("nq-store", 0) == 0) return "store";
  return "other";
}

}  // namespace

ProcessUsage ReadUsage(pid_t pid) {
  ProcessUsage u;
  if (pid <= 0) return u;
  u.cpu_s = StatCpuSeconds(absl::StrCat("/proc/", pid, "/stat"));
  std::error_code error;
  std::filesystem::directory_iterator task(absl::StrCat("/proc/", pid, "/task"),
                                           error);
  // Threads may end while they are listed: no exception, no entry.
  for (; !error && task != std::filesystem::directory_iterator();
       task.increment(error)) {
    std::ifstream comm(task->path() / "comm");
    std::string name;
    if (!std::getline(comm, name)) continue;
    pid_t tid = 0;
    if (!absl::SimpleAtoi(task->path().filename().string(), &tid)) continue;
    u.threads[tid] = {RoleOfThread(name),
                      StatCpuSeconds(task->path() / "stat")};
  }
  std::string line;
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

std::map<std::string, double> CpuByRoleSince(const ProcessUsage& before,
                                             const ProcessUsage& after) {
  std::map<std::string, double> out;
  double named = 0;
  for (const auto& [tid, t] : after.threads) {
    if (t.role == "other") continue;
    auto it = before.threads.find(tid);
    const double s = std::max(
        0.0, t.cpu_s - (it == before.threads.end() ? 0 : it->second.cpu_s));
    out[t.role] += s;
    named += s;
  }
  out["other"] = std::max(0.0, after.cpu_s - before.cpu_s - named);
  return out;
}

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

}  // namespace noqueue::bench
