// The cost of two things every call pays, measured on GetVenue (the
// cheapest RPC, so that the difference shows) at the lowest and the
// highest concurrency: access control (the server under test, whose calls
// carry an API key, against the same binary with --auth=none) and the
// metrics (the gRPC interceptor and the domain's instruments: two servers
// without access control, one with --metrics_listen, measured in turns).
// The compared servers run on the server's core, each on a database of its
// own.
#include "bench/overhead_workloads.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/cpu_pinning.h"
#include "bench/workloads.h"
#include "noqueue/v1/venue.grpc.pb.h"
#include "tests/support/server_process.h"

namespace noqueue::bench {
namespace {

using Servers = std::vector<std::unique_ptr<testing::ServerProcess>>;

// Starts `servers.binary` once per database name of `dbs` (with the
// arguments of `extra` too), on the server's core; each listens on a free
// port without access control.
Servers StartCompared(const ComparedServers& servers,
                      const std::vector<std::vector<std::string>>& args) {
  if (servers.server_cpu >= 0) PinThisThread(servers.server_cpu);
  Servers out;
  for (const std::vector<std::string>& a : args) {
    out.push_back(std::make_unique<testing::ServerProcess>(servers.binary, a));
  }
  if (servers.server_cpu >= 0) PinThisThread(servers.generator_cpu);
  return out;
}

void UpsertOpenVenue(const std::shared_ptr<grpc::Channel>& channel) {
  auto venues = v1::VenueService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::UpsertVenueRequest req;
  *req.mutable_venue() = BenchVenue(100);
  v1::UpsertVenueResponse resp;
  venues->UpsertVenue(&ctx, req, &resp);
}

// GetVenue at concurrency `c` on `channels` (with the bench's API key or
// none), as one point of `run`.
const Point& GetVenuePoint(
    BenchRun& run, const std::string& name,
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
  BenchRun::Progress(name, "noqueue", c);
  return run.Add(
      run.Measure(name, "noqueue", c, 1, pid, [&](int slot, Done done) {
        Slot& sl = slots[slot];
        sl.ctx = keys ? NewContext() : std::make_unique<grpc::ClientContext>();
        stubs[slot % stubs.size()]->async()->GetVenue(
            sl.ctx.get(), &get, &sl.resp, std::move(done));
      }));
}

}  // namespace

bool MeasureAuthCost(BenchRun& run, const ComparedServers& servers) {
  Servers open = StartCompared(
      servers, {{"--listen=127.0.0.1:0", "--db=" + servers.dir + "/open.db",
                 "--auth=none"}});
  if (open[0]->port() == 0) {
    std::fprintf(stderr,
                 "noqueue-bench: the --auth=none server did not start\n");
    return false;
  }
  const auto open_channels = Channels(open[0]->target(), 4);
  UpsertOpenVenue(open_channels[0]);
  for (int c : {run.levels().front(), run.levels().back()}) {
    GetVenuePoint(run, "GetVenue (API key)", run.noqueue_channels(),
                  run.noqueue_pid(), c, true);
    GetVenuePoint(run, "GetVenue (no access control)", open_channels,
                  open[0]->pid(), c, false);
  }
  open[0]->Stop(SIGTERM);
  return true;
}

bool MeasureMetricsCost(BenchRun& run, const ComparedServers& servers) {
  Servers both = StartCompared(
      servers, {{"--listen=127.0.0.1:0", "--db=" + servers.dir + "/plain.db",
                 "--auth=none"},
                {"--listen=127.0.0.1:0", "--db=" + servers.dir + "/metrics.db",
                 "--auth=none", "--metrics_listen=127.0.0.1:0"}});
  testing::ServerProcess& plain_server = *both[0];
  testing::ServerProcess& observed_server = *both[1];
  if (plain_server.port() == 0 || observed_server.port() == 0) {
    std::fprintf(stderr, "noqueue-bench: the metrics servers did not start\n");
    return false;
  }
  const auto plain = Channels(plain_server.target(), 4);
  const auto observed = Channels(observed_server.target(), 4);
  UpsertOpenVenue(plain[0]);
  UpsertOpenVenue(observed[0]);
  std::vector<std::string> parts;
  for (int c : {run.levels().front(), run.levels().back()}) {
    const double base = GetVenuePoint(run, "GetVenue (no metrics)", plain,
                                      plain_server.pid(), c, false)
                            .Rate();
    const double with = GetVenuePoint(run, "GetVenue (metrics on)", observed,
                                      observed_server.pid(), c, false)
                            .Rate();
    const double ratio = base > 0 ? with / base : 0;
    parts.push_back(absl::StrFormat("C=%d: %.3fx the calls/s (%+.1f%%)", c,
                                    ratio, 100 * (ratio - 1)));
  }
  run.AddNote(absl::StrCat(
      "metrics on (--metrics_listen) vs off, GetVenue without access "
      "control: ",
      absl::StrJoin(parts, "; "), "; target: under 3% slower"));
  plain_server.Stop(SIGTERM);
  observed_server.Stop(SIGTERM);
  return true;
}

}  // namespace noqueue::bench
