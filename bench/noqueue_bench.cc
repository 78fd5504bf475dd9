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
// gRPC on this machine; raw SQLite writes of the rows a tag or a schedule
// leaves, on the server's schema (StoreFloor), are the floor of the store's
// cost; and the server's own planner run in this
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
// in-process planner ceiling (PlannerCeiling) and the store's floor run on
// the server's core.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
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
#include "bench/echo_server.h"
#include "bench/load.h"
#include "bench/planner_ceiling.h"
#include "bench/soak.h"
#include "bench/store_floor.h"
#include "bench/workloads.h"
#include "clients/noqueue_client.h"
#include "clients/server_process.h"
#include "echo.grpc.pb.h"
#include "noqueue/v1/arrival.grpc.pb.h"
#include "noqueue/v1/crowd.grpc.pb.h"
#include "noqueue/v1/scheduling.grpc.pb.h"
#include "noqueue/v1/venue.grpc.pb.h"
#include "proto/base/wire_time.h"
#include "server/common/planning_memory.h"

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
ABSL_FLAG(double, soak, 0,
          "minutes: instead of the points, a soak at --soak_load of the most "
          "tags/s measured, sampled every --soak_interval_s (tag P99, server "
          "memory, WAL size), with its drift");
ABSL_FLAG(double, soak_interval_s, 10, "the soak's sampling interval");
ABSL_FLAG(double, soak_probe_s, 20,
          "how long the soak's probe of the most tags/s runs");
ABSL_FLAG(double, soak_load, 0.8,
          "the soak's tag rate, as a fraction of the probe's");
ABSL_FLAG(std::string, soak_svg, "var/noqueue_soak.svg",
          "where the soak's plot is written");
ABSL_FLAG(bool, echo_server, false, "internal: serve the echo ceiling");
ABSL_FLAG(std::string, key_file, "",
          "the API key to call --server with (default: the ADMIN key of the "
          "server the bench starts)");

namespace noqueue::bench {
namespace {

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
  // The store's floors (points of kind "sqlite"): raw SQLite writes of the
  // rows a tag leaves, and a schedule of each size the planner ceiling ran
  // for, on the server's schema, on the server's core (StoreFloor).
  void StoreFloors(const std::string& dir) {
    absl::StatusOr<std::unique_ptr<StoreFloor>> floor = StoreFloor::Open(dir);
    if (!floor.ok()) {
      notes_.push_back(
          absl::StrCat("no store floor: ", floor.status().ToString()));
      return;
    }
    auto measure =
        [&](const std::string& workload, int c, double items,
            const std::function<absl::StatusOr<StoreFloor::Run>()>& once) {
          Progress(workload, "sqlite", c);
          std::vector<Point> runs;
          for (int r = 0; r < repeats_; ++r) {
            absl::StatusOr<StoreFloor::Run> run = once();
            if (!run.ok()) {
              notes_.push_back(absl::StrCat(
                  workload, ": no store floor: ", run.status().ToString()));
              return;
            }
            Point p;
            p.workload = workload;
            p.kind = "sqlite";
            p.concurrency = c;
            p.per_call_items = items;
            p.seconds = run->wall_s;
            p.calls = run->calls;
            p.server_cpu_s = run->cpu_s;
            runs.push_back(std::move(p));
          }
          points_.push_back(Merge(std::move(runs)));
        };
    measure("StreamArrivals", StoreFloor::kTagBatch, 1,
            [&] { return (*floor)->Tags(timing_.measure_s, planner_cpu_); });
    for (const auto& served : served_) {
      const v1::Schedule& schedule = served.second;
      measure(served.first, 1, schedule.convocations_size(), [&] {
        return (*floor)->Schedules(schedule, timing_.measure_s, planner_cpu_);
      });
    }
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
      p.server_cpu_s_by_role = CpuByRoleSince(at_start, after);
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
    served_.emplace(workload.substr(0, workload.find(' ')), served);
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
      p.server_cpu_s_by_role = CpuByRoleSince(at_start, after);
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
  // A schedule the server answered, by CreateSchedule size, for the store's
  // floor.
  std::map<std::string, v1::Schedule> served_;
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

// Where the run's processes are, for its header.
std::string PinningText(const RunFacts& facts) {
  if (!facts.pinned) return facts.pin_note;
  return absl::StrFormat(
      "server (and echo) on core %d, load generator on core %d",
      facts.server_cpu, facts.generator_cpu);
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
  const double soak_minutes = absl::GetFlag(FLAGS_soak);
  std::unique_ptr<client::ServerProcess> echo;
  if (soak_minutes <= 0) {
    echo = std::make_unique<client::ServerProcess>(
        self, std::vector<std::string>{"--echo_server"});
    if (echo->port() == 0) {
      std::fprintf(stderr, "noqueue-bench: the echo server did not start\n");
      return 1;
    }
  }
  std::unique_ptr<client::ServerProcess> server;
  std::string server_binary;
  std::string target = absl::GetFlag(FLAGS_server);
  pid_t server_pid = -1;
  char tmpl[] = "/tmp/noqueue-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("noqueue-bench: mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;  // removed whole at the end
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
  if (soak_minutes > 0) {
    if (absl::GetFlag(FLAGS_soak_interval_s) <= 0 ||
        absl::GetFlag(FLAGS_soak_probe_s) <= 0 ||
        absl::GetFlag(FLAGS_soak_load) <= 0 ||
        absl::GetFlag(FLAGS_soak_load) > 2) {
      std::fprintf(stderr,
                   "noqueue-bench: --soak_interval_s and --soak_probe_s must "
                   "be positive, --soak_load in (0, 2]\n");
      return 2;
    }
    SoakOptions soak;
    soak.target = target;
    soak.server_pid = server_pid;
    if (server) soak.wal_path = dir + "/bench.db-wal";
    soak.minutes = soak_minutes;
    soak.interval_s = absl::GetFlag(FLAGS_soak_interval_s);
    soak.probe_s = absl::GetFlag(FLAGS_soak_probe_s);
    soak.load = absl::GetFlag(FLAGS_soak_load);
    soak.svg_path = absl::GetFlag(FLAGS_soak_svg);
    std::printf("# noqueue-bench --soak: %d cores; %s; load average %s\n",
                facts.cores, PinningText(facts).c_str(),
                facts.load_start.c_str());
    const int status = RunSoak(soak);
    if (server) server->Stop(SIGTERM);
    std::filesystem::remove_all(dir);
    return status;
  }
  std::printf(
      "# noqueue-bench%s: %d cores, %.1f s per point x %d repeats, "
      "concurrency %s; %s; load average %s\n\n",
      quick ? " --quick" : "", facts.cores, timing.measure_s, facts.repeats,
      absl::StrJoin(levels, ",").c_str(), PinningText(facts).c_str(),
      facts.load_start.c_str());
  std::fflush(stdout);

  std::vector<int> venue_sizes = sizes;
  venue_sizes.push_back(100);
  venue_sizes.push_back(absl::GetFlag(FLAGS_isolation_size));
  venue_sizes.push_back(TagPlan::kAttendees);
  Bench bench(target, server_pid, echo->target(), echo->pid(), timing, levels,
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
  if (run("sqlite")) bench.StoreFloors(dir);
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
  facts.echo_cpus = AllowedCpus(echo->pid());
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
  // Its planner ceiling and its echo allocate as the server does.
  noqueue::server::KeepPlanningBuffers();
  if (absl::GetFlag(FLAGS_echo_server)) return noqueue::bench::ServeEcho();
  return noqueue::bench::Run();
}
