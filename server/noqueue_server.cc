#include "server/noqueue_server.h"

#include <fcntl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/base/api_limits.h"
#include "proto/base/status_macros.h"
#include "server/domain_metrics.h"
#include "server/webhooks/webhook_targets.h"

namespace noqueue::server {

namespace {

absl::StatusOr<std::string> ReadPem(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::FailedPreconditionError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  if (text.str().find("-----BEGIN") == std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat(flag, ": ", path, " is not a PEM file"));
  }
  return text.str();
}

// The listening credentials: TLS (requiring client certificates signed by
// tls_client_ca, when given) or plain.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServerOptions& options) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key: give both or neither");
  }
  if (options.tls_cert.empty()) {
    if (!options.tls_client_ca.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca: needs --tls_cert and --tls_key");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl;
  ASSIGN_OR_RETURN(std::string cert, ReadPem("--tls_cert", options.tls_cert));
  ASSIGN_OR_RETURN(std::string key, ReadPem("--tls_key", options.tls_key));
  ssl.pem_key_cert_pairs.push_back({key, cert});
  if (!options.tls_client_ca.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs,
                     ReadPem("--tls_client_ca", options.tls_client_ca));
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

// Writes `secret` to `path` with mode 0600, atomically.
absl::Status WriteKeyFile(const std::string& path, const std::string& secret) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot write the admin key to ", path, ": ", std::strerror(errno)));
  }
  const std::string line = secret + "\n";
  const bool written = write(fd, line.data(), line.size()) ==
                           static_cast<ssize_t>(line.size()) &&
                       fchmod(fd, 0600) == 0 && fsync(fd) == 0;
  close(fd);
  if (!written || rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot write the admin key to ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopback(absl::string_view listen) {
  absl::string_view host = listen;
  if (absl::StartsWith(host, "[")) {
    const size_t close = host.find(']');
    if (close == absl::string_view::npos) return false;
    host = host.substr(1, close - 1);
  } else if (const size_t colon = host.rfind(':');
             colon != absl::string_view::npos) {
    host = host.substr(0, colon);
  }
  // An address, or the name "localhost" itself: a prefix of the text
  // ("127.0.0.1.example.invalid") is not one.
  const std::string h(host);
  return h == "localhost" || IsLoopbackAddress(h);
}

std::string AdminKeyPath(const ServerOptions& options) {
  if (!options.admin_key_file.empty()) return options.admin_key_file;
  const std::filesystem::path db(options.db_path);
  return (db.has_parent_path() ? db.parent_path() / "admin.key"
                               : std::filesystem::path("admin.key"))
      .string();
}

absl::StatusOr<std::unique_ptr<NoQueueServer>> NoQueueServer::Start(
    const ServerOptions& options) {
  // Without access control every listener answers anyone who reaches it:
  // the gRPC port and the HTTP listener (whose /api is the same API) must
  // both be on loopback.
  if (!options.access.enabled) {
    for (const auto& [flag, listen] :
         {std::pair<const char*, const std::string&>{"--listen",
                                                     options.listen},
          {"--metrics_listen", options.metrics_listen}}) {
      if (listen.empty() || IsLoopback(listen)) continue;
      return absl::FailedPreconditionError(absl::StrCat(
          "--auth=none: refused with ", flag, "=", listen,
          ", which is not a loopback address (127.0.0.1, [::1], localhost)"));
    }
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   Credentials(options));
  std::filesystem::path db(options.db_path);
  if (db.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(db.parent_path(), ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("--db: cannot create folder ", db.parent_path().string(),
                       ": ", ec.message()));
    }
  }
  std::unique_ptr<NoQueueServer> s(new NoQueueServer());
  SqliteStoreOptions store_options;
  store_options.sync_commits = options.sync_commits;
  ASSIGN_OR_RETURN(s->store_,
                   SqliteStore::Open(options.db_path, store_options));
  std::string bootstrap_secret;
  ASSIGN_OR_RETURN(s->access_,
                   AccessControl::Create(s->store_.get(), options.access,
                                         &bootstrap_secret));
  if (!bootstrap_secret.empty()) {
    s->admin_key_file_ = AdminKeyPath(options);
    RETURN_IF_ERROR(WriteKeyFile(s->admin_key_file_, bootstrap_secret));
  }
  s->learning_ =
      std::make_unique<Learner>(s->store_.get(), options.snapshot_every);
  RETURN_IF_ERROR(s->learning_->Restore());
  s->crowd_ = std::make_unique<CrowdTracker>(s->store_.get());
  RETURN_IF_ERROR(s->crowd_->Restore());
  s->webhooks_ =
      std::make_unique<WebhookDispatcher>(s->store_.get(), options.webhooks);
  RETURN_IF_ERROR(s->webhooks_->Start());
  s->crossings_ = std::make_unique<WaitCrossings>(
      s->store_.get(), s->crowd_.get(), options.webhooks.wait_check_every);
  RETURN_IF_ERROR(s->crossings_->Start());
  s->crowd_->SetChangeListener(
      [crossings = s->crossings_.get()](const std::string& venue_id) {
        crossings->VenueChanged(venue_id);
      });
  s->personal_data_ = std::make_unique<PersonalData>(
      s->store_.get(), s->learning_.get(), options.retention_check_every);

  const int planning_threads =
      options.planning_threads > 0 ? options.planning_threads : UsableCores();
  s->planner_ = std::make_unique<BoundedExecutor>(planning_threads,
                                                  options.max_queued_plans);
  s->clock_ = std::make_unique<LiveClock>(options.clock);
  if (options.clock == LiveClock::Kind::kEvents) {
    // The replay clock goes on from where it stood, not from 1970: a day
    // already over stays over after a restart.
    ASSIGN_OR_RETURN(std::optional<absl::Time> latest,
                     s->store_->LatestTagTime());
    if (latest) s->clock_->Observe(*latest);
  }
  s->live_ = std::make_unique<LiveDays>(s->store_.get(), s->crowd_.get(),
                                        s->planner_.get(), s->clock_.get(),
                                        options.live);
  RETURN_IF_ERROR(s->live_->Recover());

  AccessControl* access = s->access_.get();
  s->venues_ = std::make_unique<VenueServiceImpl>(access, s->store_.get(),
                                                  s->crowd_.get());
  s->scheduling_ = std::make_unique<SchedulingServiceImpl>(
      access, s->store_.get(), s->learning_.get(), s->crowd_.get(),
      s->planner_.get(), s->live_.get(), options.limits);
  s->arrivals_ = std::make_unique<ArrivalServiceImpl>(
      access, s->store_.get(),
      TagConsumers{s->learning_.get(), s->crowd_.get(), s->live_.get(),
                   &s->tag_counters_},
      options.limits);
  s->crowd_service_ = std::make_unique<CrowdServiceImpl>(
      access, s->store_.get(), s->crowd_.get());
  s->model_ = std::make_unique<ModelServiceImpl>(
      access, s->store_.get(), s->learning_.get(), s->crowd_.get());
  s->access_service_ = std::make_unique<AccessServiceImpl>(
      access, s->store_.get(), s->personal_data_.get());
  s->attendees_ = std::make_unique<AttendeeServiceImpl>(
      access, s->store_.get(), s->crowd_.get(), s->live_.get());
  s->live_service_ = std::make_unique<LiveServiceImpl>(access, s->store_.get(),
                                                       s->live_.get());
  s->webhook_service_ = std::make_unique<WebhookServiceImpl>(
      access, s->store_.get(), s->webhooks_.get(), s->crossings_.get());
  if (const size_t colon = options.listen.rfind(':');
      colon != std::string::npos) {
    int port = 0;
    if (absl::SimpleAtoi(options.listen.substr(colon + 1), &port)) {
      s->webhook_service_->set_own_port(port);
    }
  }

  const bool serve_http = !options.metrics_listen.empty();
  if (serve_http) {
    RegisterDomainMetrics(
        MetricSources{s->store_.get(), s->learning_.get(), s->crowd_.get(),
                      s->live_.get(), s->planner_.get(), &s->tag_counters_,
                      s->webhooks_.get(), s->arrivals_.get(),
                      options.limits.max_streams},
        s->scrape_);
  }
  s->observer_ = std::make_unique<RpcObserverFactory>(
      serve_http ? &s->scrape_ : nullptr, options.rpc_log);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &s->port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(s->venues_.get());
  builder.RegisterService(s->scheduling_.get());
  builder.RegisterService(s->arrivals_.get());
  builder.RegisterService(s->model_.get());
  builder.RegisterService(s->crowd_service_.get());
  builder.RegisterService(s->access_service_.get());
  builder.RegisterService(s->attendees_.get());
  builder.RegisterService(s->live_service_.get());
  if (serve_http || options.rpc_log != nullptr) {
    builder.experimental().SetInterceptorCreators(
        ObserverCreators(s->observer_.get()));
  }
  builder.RegisterService(s->webhook_service_.get());
  s->grpc_ = builder.BuildAndStart();
  if (!s->grpc_ || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("--listen: cannot listen on ", options.listen));
  }
  if (serve_http) {
    s->operator_http_ = std::make_unique<OperatorHttp>(
        access,
        OperatorSources{s->store_.get(), s->live_.get(), s->crowd_.get()},
        &s->scrape_);
    OperatorHttp* http = s->operator_http_.get();
    // HTTPS with the gRPC port's certificate when that port has TLS: the
    // page and /api take the same API keys.
    std::optional<HttpTls> tls;
    if (!options.tls_cert.empty()) {
      tls.emplace();
      ASSIGN_OR_RETURN(tls->cert_pem, ReadPem("--tls_cert", options.tls_cert));
      ASSIGN_OR_RETURN(tls->key_pem, ReadPem("--tls_key", options.tls_key));
    }
    absl::StatusOr<std::unique_ptr<HttpListener>> listener =
        HttpListener::Start(
            options.metrics_listen,
            [http](const HttpRequest& r) { return http->Handle(r); },
            /*threads=*/2, std::move(tls));
    if (!listener.ok()) {
      return absl::Status(
          listener.status().code(),
          absl::StrCat("--metrics_listen: ", listener.status().message()));
    }
    s->http_ = *std::move(listener);
  }
  s->webhook_service_->set_own_port(s->port_);
  return s;
}

NoQueueServer::~NoQueueServer() { Shutdown(absl::Seconds(5)); }

void NoQueueServer::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  // Load balancers see the server drain (gRPC health NOT_SERVING, /healthz
  // 503) for as long as running calls take.
  if (operator_http_) operator_http_->SetDraining();
  if (grpc_) {
    grpc_->GetHealthCheckService()->Shutdown();
    grpc_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
  http_.reset();  // its handlers read the store and the live days
  if (live_) live_->Stop();
  // Planning that gRPC's shutdown cancelled ends now; nothing new comes.
  if (planner_) planner_->Shutdown();
  if (personal_data_) personal_data_->Stop();
  // Before the store closes: their last writes are committed by Close.
  if (crossings_) crossings_->Stop();
  if (webhooks_) webhooks_->Stop();
  if (learning_ && store_) learning_->Flush().IgnoreError();
  if (store_) store_->Close();
}

void NoQueueServer::Wait() {
  if (grpc_) grpc_->Wait();
}

}  // namespace noqueue::server
