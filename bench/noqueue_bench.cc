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
//
// Each workload is a function of its own file (schedule_workload.h,
// crowd_workload.h, tag_workloads.h, store_floor_workload.h,
// mixed_workload.h, isolation_workload.h, overhead_workloads.h) adding its
// points to the run (BenchRun); this file chooses them and reports.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/bench_results.h"
#include "bench/bench_run.h"
#include "bench/cpu_pinning.h"
#include "bench/crowd_workload.h"
#include "bench/echo_server.h"
#include "bench/isolation_workload.h"
#include "bench/load.h"
#include "bench/mixed_workload.h"
#include "bench/overhead_workloads.h"
#include "bench/result_file.h"
#include "bench/schedule_workload.h"
#include "bench/soak.h"
#include "bench/store_floor_workload.h"
#include "bench/tag_workloads.h"
#include "bench/watch_workload.h"
#include "bench/workloads.h"
#include "clients/noqueue_client.h"
#include "proto/base/tool_flags.h"
#include "server/common/planning_memory.h"
#include "tests/support/server_process.h"

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
          "schedule,crowd,stream,sqlite,mixed,memory,isolation,auth,metrics,"
          "watchers",
          "which workloads to run");
ABSL_FLAG(int, isolation_schedules, 20,
          "isolation: CreateSchedule calls at once beside GetVenue");
ABSL_FLAG(int, isolation_size, 10000,
          "isolation: attendees of each of those schedules");
ABSL_FLAG(int, watchers, 1000,
          "watchers: attendees watching the busy day's convocations");
ABSL_FLAG(int, watchers_tags_per_s, 5000,
          "watchers: the busy day's tags per second, in calls of 50");
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
      absl::GetFlag(FLAGS_memory_streams) <= 0 ||
      absl::GetFlag(FLAGS_watchers) <= 0 ||
      absl::GetFlag(FLAGS_watchers_tags_per_s) <= 0) {
    std::fprintf(stderr,
                 "noqueue-bench: --window, --repeats, --memory_streams, "
                 "--isolation_schedules, --isolation_size, --watchers and "
                 "--watchers_tags_per_s must be positive and --duration_s not "
                 "negative\n");
    return 2;
  }
  for (absl::string_view w :
       absl::StrSplit(absl::GetFlag(FLAGS_workloads), ',')) {
    if (w != "schedule" && w != "crowd" && w != "stream" && w != "sqlite" &&
        w != "mixed" && w != "memory" && w != "isolation" && w != "auth" &&
        w != "metrics" && w != "watchers") {
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
  std::unique_ptr<testing::ServerProcess> echo;
  if (soak_minutes <= 0) {
    echo = std::make_unique<testing::ServerProcess>(
        self, std::vector<std::string>{"--echo_server"});
    if (echo->port() == 0) {
      std::fprintf(stderr, "noqueue-bench: the echo server did not start\n");
      return 1;
    }
  }
  std::unique_ptr<testing::ServerProcess> server;
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
    server = std::make_unique<testing::ServerProcess>(
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
  BenchRun bench(target, server_pid, echo->target(), echo->pid(), timing,
                 levels, facts.repeats, facts.server_cpu,
                 absl::GetFlag(FLAGS_window));
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
  if ((pool > 0 || run("memory")) && !MakeTagPlan(bench, std::max(pool, 1))) {
    return 1;
  }
  if (run("schedule")) {
    for (int n : sizes) MeasureCreateSchedule(bench, n, *budgets);
  }
  if (run("crowd")) MeasureCrowd(bench);
  if (run("stream")) MeasureArrivals(bench);
  if (run("sqlite")) MeasureStoreFloors(bench, dir);
  if (run("mixed")) MeasureMixed(bench);
  if (run("memory")) {
    MeasureOpenStreams(bench, absl::GetFlag(FLAGS_memory_streams));
  }
  // The same binary on databases of its own, on the server's core.
  const ComparedServers compared{server_binary, dir, facts.server_cpu,
                                 facts.generator_cpu};
  if (run("auth") && server && !MeasureAuthCost(bench, compared)) return 1;
  if (run("metrics") && server && !MeasureMetricsCost(bench, compared)) {
    return 1;
  }
  if (run("isolation")) {
    MeasureIsolation(bench, absl::GetFlag(FLAGS_isolation_schedules),
                     absl::GetFlag(FLAGS_isolation_size));
  }
  if (run("watchers")) {
    MeasureWatchers(bench, absl::GetFlag(FLAGS_watchers),
                    absl::GetFlag(FLAGS_watchers_tags_per_s));
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
  std::printf("\n");
  WriteResultFile(json_path, Json(bench.points(), facts));
  WriteResultFile(svg_path, Svg(bench.points(), levels));
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
  noqueue::ParseToolFlags(
      argc, argv,
      "noqueue-bench [--quick] [--server=HOST:PORT] [--workloads=...]: "
      "NoQueue's "
      "RPCs under load beside the ceilings of gRPC, the planner and SQLite");
  // Its planner ceiling and its echo allocate as the server does.
  noqueue::server::KeepPlanningBuffers();
  if (absl::GetFlag(FLAGS_echo_server)) return noqueue::bench::ServeEcho();
  return noqueue::bench::Run();
}