// RpcObserver: a gRPC server interceptor that sees every call of the server
// (NoQueue's services, health and reflection alike) and
//   - counts it in the conventional gRPC server metrics:
//     grpc_server_started_total, grpc_server_handled_total and the
//     grpc_server_handling_seconds histogram, labelled by grpc_type,
//     grpc_service, grpc_method (and grpc_code when handled); a method this
//     server does not serve (a client may send any name) is counted under
//     grpc_service="unknown", grpc_method="unknown", so that the series
//     stay bounded;
//   - with JSON logs on, writes one JSON line per call (method, venue, code,
//     latency, request id) when it ends; the venue and schedule are read
//     from the first request of NoQueue's own services only (health, for
//     one, hands its interceptors raw bytes, not a protobuf message);
//   - gives each call a request id: the client's x-request-id, or a fresh
//     one, sent back in the response's initial metadata.
//
//   RpcObserverFactory observer(&scrape, /*json_log=*/stderr);
//   builder.experimental().SetInterceptorCreators(ObserverCreators(&observer));
#ifndef NOQUEUE_SERVER_OPS_RPC_OBSERVER_H_
#define NOQUEUE_SERVER_OPS_RPC_OBSERVER_H_

#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/common/metrics.h"

namespace noqueue::server {

class RpcObserverFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // The gRPC metrics are counted, and listed in `scrape`, when it is not
  // null; each ended call is logged as a JSON line to `json_log` when it is
  // not null.
  RpcObserverFactory(metrics::Scrape* scrape, std::FILE* json_log);

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // One call's end: counts it, and logs it.
  struct Ended {
    const char* method = "";  // "/package.Service/Method"
    grpc::experimental::ServerRpcInfo::Type type =
        grpc::experimental::ServerRpcInfo::Type::UNARY;
    int code = 0;
    double seconds = 0;
    std::string venue_id;     // of the first request message, if any
    std::string schedule_id;  // likewise
    std::string request_id;
    std::string peer;
  };
  bool logging() const { return json_log_ != nullptr; }
  void Started(const char* method,
               grpc::experimental::ServerRpcInfo::Type type);
  void End(const Ended& call);

  // Whether `method` ("/package.Service/Method") is one of NoQueue's own
  // (package noqueue.v1), whose requests are protobuf messages.
  static bool IsNoQueueMethod(absl::string_view method);

 private:
  // A method's instruments, made on its first call.
  struct MethodInstruments {
    prometheus::Counter* started = nullptr;
    prometheus::Histogram* seconds = nullptr;
    std::array<std::atomic<prometheus::Counter*>, 17> handled{};
    std::string type, service, name;
  };
  MethodInstruments& InstrumentsOf(
      const char* method, grpc::experimental::ServerRpcInfo::Type type);
  std::unique_ptr<MethodInstruments> MakeInstruments(
      absl::string_view service, absl::string_view name,
      grpc::experimental::ServerRpcInfo::Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const bool count_;
  std::FILE* const json_log_;
  metrics::CounterFamily started_{
      "grpc_server_started_total",
      "Total number of RPCs started on the server."};
  metrics::CounterFamily handled_{
      "grpc_server_handled_total",
      "Total number of RPCs completed on the server, regardless of success "
      "or failure."};
  metrics::HistogramFamily seconds_{
      "grpc_server_handling_seconds",
      "Histogram of response latency (seconds) of gRPC that had been "
      "application-level handled by the server.",
      metrics::SecondsBuckets()};
  absl::Mutex mu_;
  // By the method name's address: gRPC keeps one per registered method
  // (an unknown method's name is the call's own, so it is never kept).
  absl::flat_hash_map<const char*, std::unique_ptr<MethodInstruments>> methods_
      ABSL_GUARDED_BY(mu_);
  // Every method this server does not serve, by type.
  absl::flat_hash_map<int, std::unique_ptr<MethodInstruments>> unknown_
      ABSL_GUARDED_BY(mu_);
};

// The interceptor creators to give to ServerBuilder (which takes ownership
// of them): they create observers of `factory`, which must outlive the
// server.
std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
ObserverCreators(RpcObserverFactory* factory);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_OPS_RPC_OBSERVER_H_
