#include "bench/echo_server.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "echo.grpc.pb.h"

namespace noqueue::bench {
namespace {

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

}  // namespace

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

EchoMessage EchoOf(size_t request_bytes, size_t reply_bytes) {
  EchoMessage m;
  m.mutable_payload()->assign(request_bytes, 'q');
  m.set_reply_bytes(static_cast<int32_t>(reply_bytes));
  return m;
}

}  // namespace noqueue::bench
