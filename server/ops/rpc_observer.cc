#include "server/ops/rpc_observer.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/server_context.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/common/crypto.h"

namespace noqueue::server {

namespace {

using grpc::experimental::InterceptionHookPoints;
using Type = grpc::experimental::ServerRpcInfo::Type;

const char* TypeName(Type type) {
  switch (type) {
    case Type::UNARY:
      return "unary";
    case Type::CLIENT_STREAMING:
      return "client_stream";
    case Type::SERVER_STREAMING:
      return "server_stream";
    case Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

// gRPC's code names, as grpc_code label values and in the log.
const char* CodeName(int code) {
  static constexpr const char* kNames[] = {"OK",
                                           "Canceled",
                                           "Unknown",
                                           "InvalidArgument",
                                           "DeadlineExceeded",
                                           "NotFound",
                                           "AlreadyExists",
                                           "PermissionDenied",
                                           "ResourceExhausted",
                                           "FailedPrecondition",
                                           "Aborted",
                                           "OutOfRange",
                                           "Unimplemented",
                                           "Internal",
                                           "Unavailable",
                                           "DataLoss",
                                           "Unauthenticated"};
  return code >= 0 && code < 17 ? kNames[code] : "Unknown";
}

// "/package.Service/Method" as {"package.Service", "Method"}.
std::pair<absl::string_view, absl::string_view> SplitMethod(
    absl::string_view method) {
  if (!method.empty() && method.front() == '/') method.remove_prefix(1);
  const size_t slash = method.find('/');
  if (slash == absl::string_view::npos) return {"", method};
  return {method.substr(0, slash), method.substr(slash + 1)};
}

// Whether this server serves `method`: a method of a service compiled into
// it (NoQueue's, reflection), or gRPC's health service (which has no
// protobuf descriptor of its own here).
bool Served(absl::string_view method) {
  const auto [service, name] = SplitMethod(method);
  if (service.empty() || name.empty()) return false;
  if (service == "grpc.health.v1.Health") {
    return name == "Check" || name == "Watch";
  }
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
             absl::StrCat(service, ".", name)) != nullptr;
}

// The string field `name` of a request, when it has one.
std::string StringField(const google::protobuf::Message& m,
                        const std::string& name) {
  const google::protobuf::FieldDescriptor* f =
      m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->is_repeated() ||
      f->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
    return "";
  }
  return m.GetReflection()->GetString(m, f);
}

class RpcObserver final : public grpc::experimental::Interceptor {
 public:
  RpcObserver(grpc::experimental::ServerRpcInfo* info,
              RpcObserverFactory* factory)
      : factory_(factory),
        logging_(factory->logging()),
        reads_request_(logging_ &&
                       RpcObserverFactory::IsNoQueueMethod(info->method())),
        start_(absl::Now()) {
    call_.method = info->method();
    call_.type = info->type();
    factory_->Started(call_.method, call_.type);
    // What only the log needs is read only when logging.
    if (!logging_) return;
    if (grpc::ServerContextBase* ctx = info->server_context()) {
      call_.peer = ctx->peer();
    }
  }

  ~RpcObserver() override {
    // A call that ends without sending a status was cancelled.
    if (!ended_) Finish(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (logging_) Read(methods);
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finish(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  // The request id (the client's, or a new one sent back) and the request's
  // venue and schedule, for the log.
  void Read(grpc::experimental::InterceptorBatchMethods* methods) {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* metadata = methods->GetRecvInitialMetadata();
      if (metadata != nullptr) {
        auto it = metadata->find("x-request-id");
        if (it != metadata->end() && it->second.size() <= 128) {
          call_.request_id.assign(it->second.data(), it->second.size());
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      if (call_.request_id.empty()) call_.request_id = Hex(RandomBytes(8));
      methods->GetSendInitialMetadata()->emplace("x-request-id",
                                                 call_.request_id);
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        reads_request_ && !seen_request_) {
      if (void* m = methods->GetRecvMessage(); m != nullptr) {
        seen_request_ = true;
        const auto& request = *static_cast<google::protobuf::Message*>(m);
        call_.venue_id = StringField(request, "venue_id");
        call_.schedule_id = StringField(request, "schedule_id");
      }
    }
  }

  void Finish(int code) {
    ended_ = true;
    call_.code = code;
    call_.seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    factory_->End(call_);
  }

  RpcObserverFactory* const factory_;
  const bool logging_;
  // Only NoQueue's own requests are known to be protobuf messages.
  const bool reads_request_;
  const absl::Time start_;
  RpcObserverFactory::Ended call_;
  bool seen_request_ = false;
  bool ended_ = false;
};

// ServerBuilder owns its creators: this one hands calls to the server's
// long-lived factory.
class Forwarder final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Forwarder(RpcObserverFactory* factory) : factory_(factory) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return factory_->CreateServerInterceptor(info);
  }

 private:
  RpcObserverFactory* const factory_;
};

}  // namespace

RpcObserverFactory::RpcObserverFactory(metrics::Scrape* scrape,
                                       std::FILE* json_log)
    : count_(scrape != nullptr), json_log_(json_log) {
  if (scrape == nullptr) return;
  scrape->Add(&started_);
  scrape->Add(&handled_);
  scrape->Add(&seconds_);
}

grpc::experimental::Interceptor* RpcObserverFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcObserver(info, this);
}

bool RpcObserverFactory::IsNoQueueMethod(absl::string_view method) {
  return absl::StartsWith(method, "/noqueue.v1.") && Served(method);
}

RpcObserverFactory::MethodInstruments& RpcObserverFactory::InstrumentsOf(
    const char* method, Type type) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = methods_.find(method);
    if (it != methods_.end()) return *it->second;
  }
  absl::MutexLock lock(&mu_);
  if (auto it = methods_.find(method); it != methods_.end()) {
    return *it->second;
  }
  if (!Served(method)) {
    std::unique_ptr<MethodInstruments>& u = unknown_[static_cast<int>(type)];
    if (u == nullptr) u = MakeInstruments("unknown", "unknown", type);
    return *u;
  }
  const auto [service, name] = SplitMethod(method);
  std::unique_ptr<MethodInstruments>& m = methods_[method];
  m = MakeInstruments(service, name, type);
  return *m;
}

std::unique_ptr<RpcObserverFactory::MethodInstruments>
RpcObserverFactory::MakeInstruments(absl::string_view service,
                                    absl::string_view name, Type type) {
  auto m = std::make_unique<MethodInstruments>();
  m->type = TypeName(type);
  m->service = std::string(service);
  m->name = std::string(name);
  const metrics::Labels labels = {{"grpc_type", m->type},
                                  {"grpc_service", m->service},
                                  {"grpc_method", m->name}};
  m->started = &started_.Add(labels);
  m->seconds = &seconds_.With(labels);
  return m;
}

void RpcObserverFactory::Started(const char* method, Type type) {
  if (count_) InstrumentsOf(method, type).started->Increment();
}

void RpcObserverFactory::End(const Ended& call) {
  if (count_) {
    MethodInstruments& m = InstrumentsOf(call.method, call.type);
    const int code = call.code >= 0 && call.code < 17 ? call.code : 2;
    prometheus::Counter* handled = m.handled[code].load();
    if (handled == nullptr) {
      handled = &handled_.Add({{"grpc_type", m.type},
                               {"grpc_service", m.service},
                               {"grpc_method", m.name},
                               {"grpc_code", CodeName(code)}});
      m.handled[code].store(handled);
    }
    handled->Increment();
    m.seconds->Observe(call.seconds);
  }
  if (json_log_ == nullptr) return;
  google::protobuf::Struct line;
  auto& f = *line.mutable_fields();
  f["time"].set_string_value(
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()));
  absl::string_view method(call.method);
  if (!method.empty() && method.front() == '/') method.remove_prefix(1);
  // A name this server does not serve is the client's: any bytes, any
  // length. It is logged escaped and cut, so that the line stays JSON.
  f["method"].set_string_value(Served(call.method)
                                   ? std::string(method)
                                   : absl::CHexEscape(method.substr(0, 128)));
  if (!call.venue_id.empty()) f["venue_id"].set_string_value(call.venue_id);
  if (!call.schedule_id.empty()) {
    f["schedule_id"].set_string_value(call.schedule_id);
  }
  f["code"].set_string_value(CodeName(call.code));
  f["latency_ms"].set_number_value(call.seconds * 1e3);
  f["request_id"].set_string_value(call.request_id);
  f["peer"].set_string_value(call.peer);
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(line, &json).ok()) return;
  json.push_back('\n');
  std::fwrite(json.data(), 1, json.size(), json_log_);  // locks the stream
  std::fflush(json_log_);
}

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
ObserverCreators(RpcObserverFactory* factory) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      creators;
  creators.push_back(std::make_unique<Forwarder>(factory));
  return creators;
}

}  // namespace noqueue::server
