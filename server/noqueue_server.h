// NoQueueServer: the whole service in one object: the SQLite store, the
// learning loop restored from it, and the gRPC server (noqueue.v1 services,
// grpc.health.v1.Health and server reflection).
//
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";  // any free port
//   ASSIGN_OR_RETURN(auto server, NoQueueServer::Start(options));
//   int port = server->port();
//   ...
//   server->Shutdown(absl::Seconds(5));
#ifndef NOQUEUE_SERVER_NOQUEUE_SERVER_H_
#define NOQUEUE_SERVER_NOQUEUE_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/access/access_control.h"
#include "server/api/access_service.h"
#include "server/api/arrival_service.h"
#include "server/api/attendee_service.h"
#include "server/api/crowd_service.h"
#include "server/api/live_service.h"
#include "server/api/model_service.h"
#include "server/api/scheduling_service.h"
#include "server/api/venue_service.h"
#include "server/api/webhook_service.h"
#include "server/common/executor.h"
#include "server/common/metrics.h"
#include "server/core/crowd_tracker.h"
#include "server/core/learner.h"
#include "server/core/personal_data.h"
#include "server/live/live_clock.h"
#include "server/live/live_days.h"
#include "server/ops/http_listener.h"
#include "server/ops/operator_http.h"
#include "server/ops/rpc_observer.h"
#include "server/store/sqlite/sqlite_store.h"
#include "server/webhooks/wait_crossings.h"
#include "server/webhooks/webhook_dispatcher.h"
#include "server/wire/validation.h"

namespace noqueue::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  // Created with its folder and schema when missing.
  std::string db_path = "var/noqueue.db";
  // Each commit synced: acknowledged writes survive a power loss
  // (SqliteStoreOptions::sync_commits).
  bool sync_commits = false;
  int snapshot_every = 1000;
  Limits limits;
  // Threads that plan schedules (0: one per core the process may run on),
  // and how many planning
  // requests may wait for one before CreateSchedule answers
  // RESOURCE_EXHAUSTED.
  int planning_threads = 0;
  size_t max_queued_plans = 64;
  // Access control (AccessOptions::enabled false is refused unless `listen`
  // is a loopback address).
  AccessOptions access;
  // Where the first ADMIN key is written on an empty database (default:
  // admin.key beside the database).
  std::string admin_key_file;
  // TLS: the server's certificate chain and key (PEM files), and the CA
  // that client certificates must be signed by (then required).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // How often attendee ids past retention are purged (<= 0: never).
  absl::Duration retention_check_every = absl::Hours(1);
  // The live day's clock (wall, or the replay clock of the tags' times) and
  // its re-timing.
  LiveClock::Kind clock = LiveClock::Kind::kWall;
  LiveOptions live;
  // The HTTP listener of /metrics (Prometheus) and the operator's page
  // ("host:port"; "": none).
  std::string metrics_listen;
  // Where one JSON line per RPC is written (null: nowhere).
  std::FILE* rpc_log = nullptr;
  // Webhook delivery: threads, request timeout, backoff, give-up window.
  WebhookOptions webhooks;
};

// Whether `listen` ("host:port") is on a loopback address.
bool IsLoopback(absl::string_view listen);
// Where the first ADMIN key goes for `options`.
std::string AdminKeyPath(const ServerOptions& options);

class NoQueueServer {
 public:
  static absl::StatusOr<std::unique_ptr<NoQueueServer>> Start(
      const ServerOptions& options);
  ~NoQueueServer();

  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  Learner& learning() { return *learning_; }
  CrowdTracker& crowd() { return *crowd_; }
  SqliteStore& store() { return *store_; }
  BoundedExecutor& planner() { return *planner_; }
  AccessControl& access() { return *access_; }
  PersonalData& personal_data() { return *personal_data_; }
  LiveDays& live() { return *live_; }
  // The HTTP listener's port (0 without one).
  int http_port() const { return http_ ? http_->port() : 0; }
  // Its counters() are the webhook metrics.
  WebhookDispatcher& webhooks() { return *webhooks_; }
  // StreamArrivals calls open now.
  int open_streams() const { return arrivals_->open_streams(); }
  // The file the first ADMIN key was written to by this start ("" when the
  // database already had keys).
  const std::string& admin_key_file() const { return admin_key_file_; }

  // Stops accepting RPCs, lets running ones finish for up to `grace`, then
  // snapshots the model and closes the store. Idempotent.
  void Shutdown(absl::Duration grace);
  // Blocks until Shutdown has been called.
  void Wait();

 private:
  NoQueueServer() = default;

  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<AccessControl> access_;
  std::string admin_key_file_;
  std::unique_ptr<Learner> learning_;
  std::unique_ptr<PersonalData> personal_data_;
  std::unique_ptr<CrowdTracker> crowd_;
  // After the store and the crowd loop: stopped and destroyed before them.
  std::unique_ptr<WebhookDispatcher> webhooks_;
  std::unique_ptr<WaitCrossings> crossings_;
  std::unique_ptr<LiveClock> clock_;
  // Before planner_: its re-timings run there, so it is destroyed after.
  std::unique_ptr<LiveDays> live_;
  std::unique_ptr<BoundedExecutor> planner_;
  std::unique_ptr<VenueServiceImpl> venues_;
  std::unique_ptr<SchedulingServiceImpl> scheduling_;
  std::unique_ptr<ArrivalServiceImpl> arrivals_;
  std::unique_ptr<ModelServiceImpl> model_;
  std::unique_ptr<CrowdServiceImpl> crowd_service_;
  std::unique_ptr<AccessServiceImpl> access_service_;
  std::unique_ptr<AttendeeServiceImpl> attendees_;
  std::unique_ptr<LiveServiceImpl> live_service_;
  metrics::Scrape scrape_;
  TagCounters tag_counters_;
  std::unique_ptr<RpcObserverFactory> observer_;
  std::unique_ptr<OperatorHttp> operator_http_;
  // Before the parts it reads: destroyed (stopped) first.
  std::unique_ptr<HttpListener> http_;
  std::unique_ptr<WebhookServiceImpl> webhook_service_;
  std::unique_ptr<grpc::Server> grpc_;
  int port_ = 0;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_NOQUEUE_SERVER_H_
