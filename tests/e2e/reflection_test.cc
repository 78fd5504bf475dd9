// A generic gRPC client that knows nothing of noqueue.v1 in advance: it
// discovers the services through server reflection, builds the message types
// from the descriptors the server sends, and creates a venue and a schedule
// with messages written as JSON - what grpcurl or Postman do. The server is
// the real noqueue-server binary, which also stops cleanly on SIGTERM.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <future>
#include <map>
#include <set>

#include "clients/noqueue_client.h"
#include "reflection_v1alpha.grpc.pb.h"
#include "tests/support/server_process.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

namespace refl = ::grpc::reflection::v1alpha;
namespace pb = ::google::protobuf;

class ReflectionClient {
 public:
  explicit ReflectionClient(std::shared_ptr<grpc::Channel> channel)
      : stub_(refl::ServerReflection::NewStub(channel)) {
    ctx_.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(20));
    stream_ = stub_->ServerReflectionInfo(&ctx_);
  }
  ~ReflectionClient() {
    stream_->WritesDone();
    stream_->Finish().ok();
  }

  std::vector<std::string> ListServices() {
    refl::ServerReflectionRequest req;
    req.set_list_services("*");
    refl::ServerReflectionResponse resp = Ask(req);
    std::vector<std::string> names;
    for (const auto& s : resp.list_services_response().service()) {
      names.push_back(s.name());
    }
    return names;
  }

  // Adds the file defining `symbol`, and every file it imports, to pool_.
  void LoadSymbol(const std::string& symbol) {
    refl::ServerReflectionRequest req;
    req.set_file_containing_symbol(symbol);
    Collect(Ask(req));
    Build();
  }

  const pb::DescriptorPool& pool() const { return pool_; }

 private:
  refl::ServerReflectionResponse Ask(const refl::ServerReflectionRequest& req) {
    refl::ServerReflectionResponse resp;
    REQUIRE(stream_->Write(req));
    REQUIRE(stream_->Read(&resp));
    REQUIRE_FALSE(resp.has_error_response());
    return resp;
  }

  void Collect(const refl::ServerReflectionResponse& resp) {
    for (const std::string& bytes :
         resp.file_descriptor_response().file_descriptor_proto()) {
      pb::FileDescriptorProto file;
      REQUIRE(file.ParseFromString(bytes));
      files_.emplace(file.name(), file);
    }
  }

  void Build() {
    bool missing = true;
    while (missing) {  // fetch imports the server did not send yet
      missing = false;
      std::vector<std::string> wanted;
      for (const auto& [name, file] : files_) {
        for (const auto& dep : file.dependency()) {
          if (!files_.count(dep)) wanted.push_back(dep);
        }
      }
      for (const auto& dep : wanted) {
        refl::ServerReflectionRequest req;
        req.set_file_by_filename(dep);
        Collect(Ask(req));
        missing = true;
      }
    }
    std::function<void(const std::string&)> build =
        [&](const std::string& name) {
          if (pool_.FindFileByName(name)) return;
          const pb::FileDescriptorProto& file = files_.at(name);
          for (const auto& dep : file.dependency()) build(dep);
          REQUIRE(pool_.BuildFile(file) != nullptr);
        };
    for (const auto& [name, file] : files_) build(name);
  }

  std::unique_ptr<refl::ServerReflection::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<refl::ServerReflectionRequest,
                                           refl::ServerReflectionResponse>>
      stream_;
  std::map<std::string, pb::FileDescriptorProto> files_;
  pb::DescriptorPool pool_;
};

// Calls `service/method` with a request given as JSON; returns the answer as
// JSON, or the status when the call fails.
struct CallResult {
  grpc::Status status;
  std::string json;
};

CallResult CallJson(grpc::Channel* channel, const pb::DescriptorPool& pool,
                    const std::string& service, const std::string& method,
                    const std::string& request_json,
                    const std::string& credential) {
  const pb::ServiceDescriptor* sd = pool.FindServiceByName(service);
  REQUIRE(sd != nullptr);
  const pb::MethodDescriptor* md = sd->FindMethodByName(method);
  REQUIRE(md != nullptr);
  pb::DynamicMessageFactory factory(&pool);
  std::unique_ptr<pb::Message> request(
      factory.GetPrototype(md->input_type())->New());
  std::unique_ptr<pb::Message> response(
      factory.GetPrototype(md->output_type())->New());
  REQUIRE(pb::util::JsonStringToMessage(request_json, request.get()).ok());

  std::string bytes = request->SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer in(&slice, 1), out;
  grpc::GenericStub stub(std::shared_ptr<grpc::Channel>(channel, [](auto*) {}));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!credential.empty()) {
    ctx.AddMetadata("authorization", "Bearer " + credential);
  }
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/" + service + "/" + method, grpc::StubOptions(), &in,
                 &out, [&](grpc::Status st) { done.set_value(st); });
  CallResult result;
  result.status = done.get_future().get();
  if (!result.status.ok()) return result;
  grpc::Slice single;
  REQUIRE(out.DumpToSingleSlice(&single).ok());
  REQUIRE(response->ParseFromArray(single.begin(),
                                   static_cast<int>(single.size())));
  pb::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  REQUIRE(pb::util::MessageToJsonString(*response, &result.json, opts).ok());
  return result;
}

TEST_CASE(
    "A generic client lists the services and schedules through reflection "
    "alone") {
  testing::TempDir dir;
  testing::ServerProcess server(NOQUEUE_SERVER_BINARY, dir.file("var/n.db"));
  REQUIRE(server.port() > 0);
  auto channel =
      grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  // The ADMIN key the server made at its first start, beside the database.
  const auto read_key = client::ReadCredentialFile(dir.file("var/admin.key"));
  REQUIRE(read_key.ok());
  const std::string key = *read_key;

  std::string venue_json, schedule_json, got_json;
  {
    ReflectionClient reflection(channel);
    const std::vector<std::string> services = reflection.ListServices();
    const std::set<std::string> names(services.begin(), services.end());
    CHECK(names.count("noqueue.v1.VenueService"));
    CHECK(names.count("noqueue.v1.SchedulingService"));
    CHECK(names.count("noqueue.v1.ArrivalService"));
    CHECK(names.count("grpc.health.v1.Health"));
    CHECK(names.count("grpc.reflection.v1alpha.ServerReflection"));
    for (const auto& name : services) {
      if (name.rfind("noqueue.", 0) == 0) reflection.LoadSymbol(name);
    }

    CallResult venue =
        CallJson(channel.get(), reflection.pool(), "noqueue.v1.VenueService",
                 "UpsertVenue",
                 R"({"venue": {"venue_id": "louvre", "display_name": "Louvre",
            "convocation_type": "MUSEUM", "time_zone": "Europe/Paris",
            "service_points": 4, "mean_service_time": "90s"}})",
                 key);
    INFO(venue.status.error_message());
    REQUIRE(venue.status.ok());
    venue_json = venue.json;

    CallResult schedule = CallJson(
        channel.get(), reflection.pool(), "noqueue.v1.SchedulingService",
        "CreateSchedule",
        R"({"venue_id": "louvre", "window_start": "2026-03-02T09:00:00Z",
            "window_end": "2026-03-02T10:00:00Z",
            "attendees": [{"attendee_id": "ana"}, {"attendee_id": "ben",
                           "party_size": 2}]})",
        key);
    REQUIRE(schedule.status.ok());
    schedule_json = schedule.json;
    const size_t at = schedule_json.find("\"schedule_id\":\"");
    REQUIRE(at != std::string::npos);
    const std::string id = schedule_json.substr(
        at + 15, schedule_json.find('"', at + 15) - at - 15);

    CallResult got = CallJson(channel.get(), reflection.pool(),
                              "noqueue.v1.SchedulingService", "GetSchedule",
                              R"({"schedule_id": ")" + id + R"("})", key);
    REQUIRE(got.status.ok());
    got_json = got.json;

    CallResult bad = CallJson(
        channel.get(), reflection.pool(), "noqueue.v1.SchedulingService",
        "CreateSchedule",
        R"({"venue_id": "louvre", "window_start": "2026-03-02T10:00:00Z",
            "window_end": "2026-03-02T09:00:00Z",
            "attendees": [{"attendee_id": "ana"}]})",
        key);
    CHECK(bad.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(bad.status.error_message().find("window_end") != std::string::npos);

    // Every unary method of every noqueue service the server lists refuses a
    // call without a credential, but anonymous crowd reports (whose empty
    // request is then invalid).
    int methods = 0;
    for (const auto& name : services) {
      if (name.rfind("noqueue.", 0) != 0) continue;
      const pb::ServiceDescriptor* sd =
          reflection.pool().FindServiceByName(name);
      REQUIRE(sd != nullptr);
      for (int m = 0; m < sd->method_count(); ++m) {
        const pb::MethodDescriptor* md = sd->method(m);
        if (md->client_streaming() || md->server_streaming()) continue;
        ++methods;
        INFO(md->full_name());
        CallResult refused = CallJson(channel.get(), reflection.pool(), name,
                                      md->name(), "{}", "");
        if (md->full_name() == "noqueue.v1.CrowdService.ReportQueue") {
          CHECK(refused.status.error_code() ==
                grpc::StatusCode::INVALID_ARGUMENT);
        } else {
          CHECK(refused.status.error_code() ==
                grpc::StatusCode::UNAUTHENTICATED);
        }
      }
    }
    CHECK(methods >= 15);
  }
  CHECK(venue_json.find("\"created\":true") != std::string::npos);
  CHECK(schedule_json.find("\"attendee_id\":\"ana\"") != std::string::npos);
  CHECK(schedule_json.find("\"naive_kpis\"") != std::string::npos);
  CHECK(got_json.find("\"attendee_id\":\"ben\"") != std::string::npos);

  // The server stops cleanly on SIGTERM ...
  CHECK(server.Stop(SIGTERM) == 0);
  CHECK(server.output().find("stopped") != std::string::npos);

  // ... and a new process finds the venue in the same file.
  testing::ServerProcess restarted(NOQUEUE_SERVER_BINARY, dir.file("var/n.db"));
  REQUIRE(restarted.port() > 0);
  auto channel2 = grpc::CreateChannel(restarted.target(),
                                      grpc::InsecureChannelCredentials());
  ReflectionClient reflection2(channel2);
  reflection2.LoadSymbol("noqueue.v1.VenueService");
  CallResult venue =
      CallJson(channel2.get(), reflection2.pool(), "noqueue.v1.VenueService",
               "GetVenue", R"({"venue_id": "louvre"})", key);
  REQUIRE(venue.status.ok());
  CHECK(venue.json.find("Louvre") != std::string::npos);
}

TEST_CASE("The health service reports the server as serving") {
  testing::TempDir dir;
  testing::ServerProcess server(NOQUEUE_SERVER_BINARY, dir.file("n.db"));
  REQUIRE(server.port() > 0);
  auto channel =
      grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  // grpc.health.v1.HealthCheckRequest{service: ""} is the empty message; the
  // answer HealthCheckResponse{status: SERVING} is field 1 = 1: bytes 08 01.
  grpc::GenericStub stub(channel);
  grpc::ByteBuffer in, out;
  grpc::Slice empty("");
  in = grpc::ByteBuffer(&empty, 1);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &in,
                 &out, [&](grpc::Status st) { done.set_value(st); });
  REQUIRE(done.get_future().get().ok());
  grpc::Slice single;
  REQUIRE(out.DumpToSingleSlice(&single).ok());
  CHECK(std::string(reinterpret_cast<const char*>(single.begin()),
                    single.size()) == std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace noqueue
