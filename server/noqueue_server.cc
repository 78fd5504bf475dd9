#include "server/noqueue_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "proto/base/api_limits.h"
#include "proto/base/status_macros.h"

namespace noqueue::server {

absl::StatusOr<std::unique_ptr<NoQueueServer>> NoQueueServer::Start(
    const ServerOptions& options) {
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
  ASSIGN_OR_RETURN(s->store_, SqliteStore::Open(options.db_path));
  s->learning_ =
      std::make_unique<LearningLoop>(s->store_.get(), options.snapshot_every);
  RETURN_IF_ERROR(s->learning_->Restore());
  s->crowd_loop_ = std::make_unique<CrowdLoop>(s->store_.get());
  RETURN_IF_ERROR(s->crowd_loop_->Restore());

  const int planning_threads =
      options.planning_threads > 0
          ? options.planning_threads
          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  s->planner_ = std::make_unique<BoundedExecutor>(planning_threads,
                                                  options.max_queued_plans);

  s->venues_ =
      std::make_unique<VenueServiceImpl>(s->store_.get(), s->crowd_loop_.get());
  s->scheduling_ = std::make_unique<SchedulingServiceImpl>(
      s->store_.get(), s->learning_.get(), s->crowd_loop_.get(),
      s->planner_.get(), options.limits);
  s->arrivals_ = std::make_unique<ArrivalServiceImpl>(
      s->store_.get(), TagConsumers{s->learning_.get(), s->crowd_loop_.get()},
      options.limits);
  s->crowd_ =
      std::make_unique<CrowdServiceImpl>(s->store_.get(), s->crowd_loop_.get());
  s->model_ = std::make_unique<ModelServiceImpl>(
      s->store_.get(), s->learning_.get(), s->crowd_loop_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &s->port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(s->venues_.get());
  builder.RegisterService(s->scheduling_.get());
  builder.RegisterService(s->arrivals_.get());
  builder.RegisterService(s->model_.get());
  builder.RegisterService(s->crowd_.get());
  s->grpc_ = builder.BuildAndStart();
  if (!s->grpc_ || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("--listen: cannot listen on ", options.listen));
  }
  return s;
}

NoQueueServer::~NoQueueServer() { Shutdown(absl::Seconds(5)); }

void NoQueueServer::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (grpc_) {
    grpc_->GetHealthCheckService()->Shutdown();
    grpc_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
  // Planning that gRPC's shutdown cancelled ends now; nothing new comes.
  if (planner_) planner_->Shutdown();
  if (learning_ && store_) learning_->Flush().IgnoreError();
  if (store_) store_->Close();
}

void NoQueueServer::Wait() {
  if (grpc_) grpc_->Wait();
}

}  // namespace noqueue::server
