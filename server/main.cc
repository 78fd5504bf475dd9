// noqueue-server: the NoQueue gRPC service on an embedded SQLite file.
//
//   noqueue-server --listen=127.0.0.1:50051 --db=var/noqueue.db
//
// Stops gracefully on SIGINT or SIGTERM: running RPCs get a few seconds,
// the model is snapshotted, the store committed and closed.
#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "proto/base/api_limits.h"
#include "proto/base/tool_flags.h"
#include "server/common/planning_memory.h"
#include "server/noqueue_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "address:port to serve gRPC on (port 0 picks a free one)");
ABSL_FLAG(std::string, db, "var/noqueue.db",
          "SQLite database file, created with its schema when missing");
ABSL_FLAG(bool, sync_commits, false,
          "sync the log at every commit (one fsync per group commit): an "
          "acknowledged write then survives a power loss, not only a crash "
          "of the process");
ABSL_FLAG(int, max_streams, 1000,
          "StreamArrivals calls open at once; past it a new one is refused "
          "with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, snapshot_every, 1000,
          "snapshot the model every this many learned events");
ABSL_FLAG(int, max_attendees, noqueue::kMaxAttendeesPerSchedule,
          "largest schedule accepted (1 to 20000: the message size limit "
          "is made for 20000)");
ABSL_FLAG(std::string, auth, "keys",
          "keys: every call needs an API key or attendee token; none: no "
          "access control (refused unless --listen is a loopback address)");
ABSL_FLAG(std::string, admin_key_file, "",
          "where the first ADMIN key is written on an empty database "
          "(default: admin.key beside --db)");
ABSL_FLAG(double, key_rate, 100,
          "calls per second per API key (burst: twice that); 0: no limit");
ABSL_FLAG(double, anonymous_rate, 5,
          "anonymous crowd reports per second per peer address (burst: six "
          "times that); 0: no limit");
ABSL_FLAG(std::string, tls_cert, "", "TLS certificate chain (PEM)");
ABSL_FLAG(std::string, tls_key, "", "TLS private key (PEM)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "CA of the client certificates to require (PEM; needs --tls_cert)");
ABSL_FLAG(absl::Duration, retention_check_every, absl::Hours(1),
          "how often attendee ids past their venue's retention are purged");
ABSL_FLAG(std::string, clock, "wall",
          "the live day's clock: wall, or events (now is the latest "
          "observed_at of the tags accepted, to replay a day in seconds)");
ABSL_FLAG(absl::Duration, retime_every, absl::Minutes(5),
          "the live day's periodic re-timing, in the clock's time");
ABSL_FLAG(std::string, metrics_listen, "",
          "address:port of the HTTP listener serving /metrics (Prometheus) "
          "and the operator's page (/, /venues/{venue_id}); empty: none");
ABSL_FLAG(bool, json_rpc_log, false,
          "write one JSON line per RPC (method, venue, code, latency, "
          "request id) on stderr");

ABSL_FLAG(absl::Duration, webhook_timeout, absl::Seconds(10),
          "a webhook receiver that has not answered by then has failed the "
          "attempt");
ABSL_FLAG(absl::Duration, webhook_give_up, absl::Hours(24),
          "a webhook event still undelivered this long after it was made is "
          "dead (listed by ListWebhooks)");
ABSL_FLAG(int, webhook_threads, 2, "webhook delivery threads");
ABSL_FLAG(bool, webhook_private_targets, false,
          "deliver webhooks to loopback, private and link-local addresses "
          "too (a receiver on this machine or the venue's network); off, "
          "only to public addresses, so that a venue's URL cannot reach "
          "inside this server's network");

int main(int argc, char** argv) {
  noqueue::ParseToolFlags(
      argc, argv,
      "NoQueue's gRPC service, which tells each attendee exactly when to "
      "come.\n\n  noqueue-server --listen=127.0.0.1:50051 "
      "--db=var/noqueue.db");
  noqueue::server::KeepPlanningBuffers();

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  noqueue::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.db_path = absl::GetFlag(FLAGS_db);
  options.sync_commits = absl::GetFlag(FLAGS_sync_commits);
  options.snapshot_every = absl::GetFlag(FLAGS_snapshot_every);
  options.limits.max_attendees = absl::GetFlag(FLAGS_max_attendees);
  options.limits.max_streams = absl::GetFlag(FLAGS_max_streams);
  if (options.limits.max_streams < 1) {
    std::fprintf(stderr, "noqueue-server: --max_streams: must be at least 1\n");
    return 2;
  }
  if (options.limits.max_attendees < 1 ||
      options.limits.max_attendees > noqueue::kMaxAttendeesPerSchedule) {
    std::fprintf(stderr,
                 "noqueue-server: --max_attendees: must be between 1 and %d\n",
                 noqueue::kMaxAttendeesPerSchedule);
    return 2;
  }
  const std::string auth = absl::GetFlag(FLAGS_auth);
  if (auth != "keys" && auth != "none") {
    std::fprintf(stderr, "noqueue-server: --auth: must be keys or none\n");
    return 2;
  }
  options.access.enabled = auth == "keys";
  options.access.key_rate = absl::GetFlag(FLAGS_key_rate);
  options.access.key_burst = 2 * options.access.key_rate;
  options.access.anonymous_rate = absl::GetFlag(FLAGS_anonymous_rate);
  options.access.anonymous_burst = 6 * options.access.anonymous_rate;
  options.admin_key_file = absl::GetFlag(FLAGS_admin_key_file);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  options.retention_check_every = absl::GetFlag(FLAGS_retention_check_every);
  absl::StatusOr<noqueue::server::LiveClock::Kind> clock =
      noqueue::server::LiveClock::Parse(absl::GetFlag(FLAGS_clock));
  if (!clock.ok()) {
    std::fprintf(stderr, "noqueue-server: %s\n",
                 std::string(clock.status().message()).c_str());
    return 2;
  }
  options.clock = *clock;
  options.live.tick = absl::GetFlag(FLAGS_retime_every);
  if (options.live.tick <= absl::ZeroDuration()) {
    std::fprintf(stderr, "noqueue-server: --retime_every: must be > 0\n");
    return 2;
  }
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (absl::GetFlag(FLAGS_json_rpc_log)) options.rpc_log = stderr;
  options.webhooks.request_timeout = absl::GetFlag(FLAGS_webhook_timeout);
  options.webhooks.give_up_after = absl::GetFlag(FLAGS_webhook_give_up);
  options.webhooks.threads = absl::GetFlag(FLAGS_webhook_threads);
  options.webhooks.private_targets =
      absl::GetFlag(FLAGS_webhook_private_targets);
  if (options.webhooks.request_timeout <= absl::ZeroDuration() ||
      options.webhooks.give_up_after <= absl::ZeroDuration() ||
      options.webhooks.threads < 1 || options.webhooks.threads > 64) {
    std::fprintf(stderr,
                 "noqueue-server: --webhook_timeout and --webhook_give_up "
                 "must be > 0, --webhook_threads 1 to 64\n");
    return 2;
  }
  auto server = noqueue::server::NoQueueServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "noqueue-server: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  if (!(*server)->admin_key_file().empty()) {
    std::printf(
        "noqueue-server: made the first ADMIN key and wrote it to %s (mode "
        "0600); give it to the CLI with --key_file or NOQUEUE_KEY_FILE\n",
        (*server)->admin_key_file().c_str());
  }
  std::printf(
      "noqueue-server listening on port %d (db %s, %lld events learned)\n",
      (*server)->port(), options.db_path.c_str(),
      static_cast<long long>((*server)->learning().events_learned()));
  if ((*server)->http_port() != 0) {
    std::printf(
        "noqueue-server: metrics and the operator's page on HTTP port %d\n",
        (*server)->http_port());
  }
  std::fflush(stdout);

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::printf("noqueue-server: signal %d, shutting down\n", sig);
    std::fflush(stdout);
    (*server)->Shutdown(absl::Seconds(5));
  });
  (*server)->Wait();
  stopper.join();
  std::printf("noqueue-server: stopped\n");
  return 0;
}
