// The HTTP listener: Prometheus metrics (the text format, the gRPC server
// metrics and the domain's), one JSON log line per RPC, and the operator
// page's JSON (the proto3 JSON mapping) behind the API's access control.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <future>
#include <map>
#include <regex>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "noqueue/v1/operator.pb.h"
#include "noqueue/v1/venue.grpc.pb.h"
#include "server/common/metrics.h"
#include "tests/support/http_get.h"
#include "tests/support/running_server.h"

namespace noqueue {
namespace {

using testing::ClinicVenue;
using testing::HttpCall;
using testing::Morning;
using testing::Running;
using testing::ScheduleRequest;
using testing::Tag;
using testing::TempDir;

// A scrape, parsed strictly: every sample line is `name{labels} value`, its
// metric declared by a # TYPE line before it; samples keyed by
// `name{labels}` exactly as written.
struct Scrape {
  std::map<std::string, std::string> types;
  std::map<std::string, double> samples;

  double operator()(const std::string& key) const {
    auto it = samples.find(key);
    return it == samples.end() ? -1 : it->second;
  }
};

Scrape Parse(const std::string& text) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$)");
  static const std::regex kType(
      R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  Scrape s;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    std::smatch m;
    if (absl::StartsWith(line, "# HELP ")) continue;
    if (absl::StartsWith(line, "# TYPE ")) {
      REQUIRE(std::regex_match(line, m, kType));
      CHECK(s.types.emplace(m[1], m[2]).second);  // one TYPE per metric
      continue;
    }
    REQUIRE(std::regex_match(line, m, kSample));
    std::string family = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!s.types.count(family) && absl::EndsWith(family, suffix)) {
        family.resize(family.size() - std::strlen(suffix));
      }
    }
    CHECK(s.types.count(family) == 1);
    const size_t space = line.rfind(' ');
    s.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return s;
}

TEST_CASE("The metrics text format escapes labels and sums histogram buckets") {
  server::metrics::CounterFamily reports("test_reports_total", "Reports.");
  reports.Add({{"reason", "said \"5\"\n\\"}}).Increment(3);
  server::metrics::HistogramFamily latency("test_seconds", "Latency.",
                                           {0.1, 1});
  for (double v : {0.05, 0.5, 0.5, 7.0}) latency.With({}).Observe(v);
  server::metrics::Scrape scrape;
  scrape.Add(&reports);
  scrape.Add(&latency);
  scrape.AddCollector([] {
    return std::vector{server::metrics::ReadGauge(
        "test_open", "Open now.", {{{{"venue_id", "a"}}, 2}, {{}, 5}})};
  });
  const std::string text = scrape.Text();
  INFO(text);
  const Scrape s = Parse(text);
  CHECK(s(R"(test_reports_total{reason="said \"5\"\n\\"})") == 3);
  CHECK(s.types.at("test_seconds") == "histogram");
  CHECK(s(R"(test_seconds_bucket{le="0.1"})") == 1);
  CHECK(s(R"(test_seconds_bucket{le="1"})") == 3);
  CHECK(s(R"(test_seconds_bucket{le="+Inf"})") == 4);
  CHECK(s("test_seconds_count") == 4);
  CHECK(s("test_seconds_sum") == Approx(8.05));
  CHECK(s.types.at("test_open") == "gauge");
  CHECK(s(R"(test_open{venue_id="a"})") == 2);
  CHECK(s("test_open") == 5);
}

// A venue with a schedule whose first two attendees came (one is served),
// on the replay clock.
struct Day {
  explicit Day(const TempDir& dir, std::FILE* log = nullptr)
      : s(Options(dir, log)) {
    REQUIRE(s.client->UpsertVenue(ClinicVenue("clinic-1")).ok());
    // Busy enough (25 x 10 minutes at 2 desks in 3 hours) that the plan
    // promises some waiting.
    auto made = s.client->CreateSchedule(ScheduleRequest("clinic-1", 25));
    REQUIRE(made.ok());
    schedule = *made;
    const std::string id = schedule.schedule_id();
    const absl::Time t0 = Morning();
    REQUIRE(s.client
                ->RecordArrivals(
                    {Tag("e1", id, "a-0", v1::ARRIVED, t0 + absl::Minutes(2)),
                     Tag("e2", id, "a-1", v1::ARRIVED, t0 + absl::Minutes(4)),
                     Tag("e3", id, "a-0", v1::SERVICE_STARTED,
                         t0 + absl::Minutes(9))})
                .ok());
    http = absl::StrCat("http://127.0.0.1:", s.server->http_port());
  }
  static server::ServerOptions Options(const TempDir& dir, std::FILE* log) {
    server::ServerOptions o = testing::TestOptions(dir);
    o.clock = server::LiveClock::Kind::kEvents;
    o.metrics_listen = "127.0.0.1:0";
    o.rpc_log = log;
    return o;
  }
  Running s;
  v1::Schedule schedule;
  std::string http;
};

TEST_CASE("A scrape shows the gRPC server metrics and the domain's") {
  TempDir dir;
  Day d(dir);
  CHECK_FALSE(d.s.client->GetVenue("nowhere").ok());
  v1::ReportQueueRequest report;
  report.set_venue_id("clinic-1");
  *report.mutable_observed_at() = ToTimestamp(absl::Now());
  report.set_queue_length(3);
  report.set_wait_state(v1::WAIT_STATE_WAITING);
  report.set_reporter_token("phone-000001");
  CHECK(d.s.client->ReportQueue(report).ok());

  const testing::HttpReply reply = HttpCall(d.http + "/metrics");
  REQUIRE(reply.status == 200);
  CHECK(absl::StartsWith(reply.content_type, "text/plain; version=0.0.4"));
  const Scrape s = Parse(reply.body);
  // Labels come sorted by name.
  const std::string venue =
      R"(grpc_service="noqueue.v1.VenueService",grpc_type="unary"})";
  CHECK(s(R"(grpc_server_started_total{grpc_method="UpsertVenue",)" + venue) ==
        1);
  CHECK(s(R"(grpc_server_handled_total{grpc_code="NotFound",)"
          R"(grpc_method="GetVenue",)" +
          venue) == 1);
  CHECK(s(R"(grpc_server_handling_seconds_count{grpc_method="GetVenue",)" +
          venue) == 1);
  CHECK(s.types.at("grpc_server_handling_seconds") == "histogram");
  CHECK(s(R"(noqueue_tags_total{code="OK",result="ACCEPTED"})") == 3);
  double judged = 0;
  for (const auto& [key, v] : s.samples) {
    if (absl::StartsWith(key, "noqueue_crowd_reports_total{")) judged += v;
  }
  CHECK(judged == 1);
  CHECK(s("noqueue_store_commit_seconds_count") > 0);
  CHECK(s("noqueue_store_batch_jobs_count") > 0);
  // Present (-1 when missing): the live day may still be re-timing after
  // the tags, a task of its own on the planner.
  CHECK(s.types.at("noqueue_planner_queued") == "gauge");
  CHECK(s("noqueue_planner_queued") >= 0);
  CHECK(s("noqueue_planner_running") >= 0);
  CHECK(s("noqueue_store_wal_bytes") >= 0);
  CHECK(s("noqueue_webhook_deliveries_total") == 0);
  CHECK(s("noqueue_webhook_pending") == 0);
  // Today (the replay clock's day) promises waits; a-0 waited 7 minutes.
  CHECK(s(R"(noqueue_wait_promised_seconds{venue_id="clinic-1"})") >= 0);
  CHECK(s(R"(noqueue_wait_measured_seconds{venue_id="clinic-1"})") == 420);
  CHECK(s(R"(noqueue_waits_measured{venue_id="clinic-1"})") == 1);
}

TEST_CASE(
    "Each RPC writes one JSON line with its method, venue, code and request "
    "id") {
  TempDir dir;
  std::FILE* log = std::tmpfile();
  REQUIRE(log != nullptr);
  {
    Day d(dir, log);
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", d.s.server->port()),
                            grpc::InsecureChannelCredentials());
    auto stub = v1::VenueService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + d.s.admin_key);
    ctx.AddMetadata("x-request-id", "req-42");
    v1::GetVenueRequest request;
    request.set_venue_id("clinic-9");
    v1::GetVenueResponse response;
    CHECK(stub->GetVenue(&ctx, request, &response).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    // The request id comes back with the answer.
    auto echoed = ctx.GetServerInitialMetadata().find("x-request-id");
    REQUIRE(echoed != ctx.GetServerInitialMetadata().end());
    CHECK(std::string(echoed->second.data(), echoed->second.size()) ==
          "req-42");
  }
  std::rewind(log);
  std::vector<google::protobuf::Struct> lines;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), log)) {
    google::protobuf::Struct line;
    INFO(buffer);
    REQUIRE(google::protobuf::util::JsonStringToMessage(buffer, &line).ok());
    lines.push_back(line);
  }
  std::fclose(log);
  // UpsertVenue, CreateSchedule, RecordArrivals, GetVenue.
  REQUIRE(lines.size() == 4);
  auto field = [](const google::protobuf::Struct& s, const std::string& k) {
    auto it = s.fields().find(k);
    return it == s.fields().end() ? std::string("<none>")
                                  : it->second.string_value();
  };
  CHECK(field(lines[0], "method") == "noqueue.v1.VenueService/UpsertVenue");
  CHECK(field(lines[0], "code") == "OK");
  CHECK(field(lines[1], "venue_id") == "clinic-1");
  CHECK(field(lines[2], "method") ==
        "noqueue.v1.ArrivalService/RecordArrivals");
  CHECK(field(lines[3], "code") == "NotFound");
  CHECK(field(lines[3], "venue_id") == "clinic-9");
  CHECK(field(lines[3], "request_id") == "req-42");
  CHECK(field(lines[0], "request_id").size() == 16);  // made by the server
  for (const auto& l : lines) {
    CHECK(l.fields().at("latency_ms").number_value() >= 0);
    CHECK(l.fields().at("latency_ms").number_value() < 20000);
  }
}

// Health hands its interceptors raw bytes, not a protobuf message, and a
// client may call any method name: neither may crash the JSON log or grow
// the metrics by a series per name.
TEST_CASE(
    "Health checks and unknown methods under the JSON log: no crash, and one "
    "bounded series for every unknown method") {
  TempDir dir;
  std::FILE* log = std::tmpfile();
  REQUIRE(log != nullptr);
  Day d(dir, log);
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", d.s.server->port()),
                          grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  auto call = [&](const std::string& method, const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer in(&slice, 1), out;
    grpc::ClientContext ctx;  // no credential
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &in, &out,
                   [&](grpc::Status st) { done.set_value(st); });
    return done.get_future().get();
  };
  // HealthCheckRequest{service: "noqueue.v1.VenueService"}: field 1.
  CHECK(call("/grpc.health.v1.Health/Check", "").ok());
  CHECK(call("/grpc.health.v1.Health/Check",
             std::string("\x0a\x17noqueue.v1.VenueService", 25))
            .error_code() != grpc::StatusCode::UNAVAILABLE);
  constexpr int kUnknown = 300;
  for (int i = 0; i < kUnknown; ++i) {
    const std::string method =
        i % 2 == 0 ? absl::StrCat("/probe.Service", i, "/Method")
                   : absl::StrCat("/noqueue.v1.VenueService/Nope", i);
    CHECK(call(method, std::string("\x0a\x03"
                                   "abc"))
              .error_code() == grpc::StatusCode::UNIMPLEMENTED);
  }
  // Still serving.
  CHECK(d.s.client->GetVenue("clinic-1").ok());

  const testing::HttpReply reply = HttpCall(d.http + "/metrics");
  REQUIRE(reply.status == 200);
  const Scrape s = Parse(reply.body);
  CHECK(reply.body.find("probe.Service") == std::string::npos);
  CHECK(reply.body.find("Nope") == std::string::npos);
  double unknown = 0;
  for (const auto& [key, v] : s.samples) {
    if (absl::StartsWith(key, "grpc_server_started_total{") &&
        absl::StrContains(key, R"(grpc_method="unknown")")) {
      CHECK(absl::StrContains(key, R"(grpc_service="unknown")"));
      unknown += v;
    }
  }
  CHECK(unknown == kUnknown);
  CHECK(s(R"(grpc_server_started_total{grpc_method="Check",)"
          R"(grpc_service="grpc.health.v1.Health",grpc_type="unary"})") == 2);

  std::rewind(log);
  int lines = 0, health = 0;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), log)) {
    google::protobuf::Struct line;
    INFO(buffer);
    REQUIRE(google::protobuf::util::JsonStringToMessage(buffer, &line).ok());
    ++lines;
    if (line.fields().at("method").string_value() ==
        "grpc.health.v1.Health/Check") {
      ++health;
      CHECK(line.fields().count("venue_id") == 0);
    }
  }
  std::fclose(log);
  CHECK(health == 2);
  CHECK(lines >= 3 + 2 + kUnknown + 1);  // the Day's three calls first
}

TEST_CASE("The operator page's JSON is the proto3 mapping of the venue's day") {
  TempDir dir;
  Day d(dir);
  const std::string url = d.http + "/api/venues/clinic-1";
  const testing::HttpReply reply = HttpCall(url, d.s.admin_key);
  REQUIRE(reply.status == 200);
  CHECK(reply.content_type == "application/json");
  v1::OperatorView view;
  REQUIRE(google::protobuf::util::JsonStringToMessage(reply.body, &view).ok());
  CHECK(view.venue().display_name() == "Test clinic");
  CHECK(view.day() == "2026-03-02");
  REQUIRE(view.schedules_size() == 1);
  const v1::OperatorSchedule& s = view.schedules(0);
  CHECK(s.schedule().convocations_size() == 25);
  CHECK(s.schedule().convocations(0).attendee_token().empty());
  REQUIRE(s.attendees_size() == 25);
  CHECK(s.attendees(0).has_arrived());
  CHECK(s.attendees(0).has_service_started());
  CHECK_FALSE(s.attendees(2).has_arrived());
  // Every 5 minutes over the window; measured up to now (09:09, the last
  // tag), promised all day.
  REQUIRE(s.queue_size() >= 36);
  double promised = 0;
  for (const auto& p : s.queue()) promised += p.promised();
  CHECK(promised > 0);
  CHECK(s.queue(0).measured() == 0);       // 09:00: nobody yet
  CHECK(s.queue(1).measured() == 2);       // 09:05: a-0 (since 09:02) and a-1
  CHECK_FALSE(s.queue(2).has_measured());  // 09:10 is after now

  const testing::HttpReply chart = HttpCall(url + "/queue.svg", d.s.admin_key);
  CHECK(chart.status == 200);
  CHECK(chart.content_type == "image/svg+xml");
  CHECK(absl::StrContains(chart.body,
                          "People waiting at Test clinic on 2026-03-02"));

  const testing::HttpReply page = HttpCall(d.http + "/venues/clinic-1");
  CHECK(page.status == 200);
  CHECK(absl::StrContains(page.body, "<script src=\"/operator.js\">"));
  CHECK(HttpCall(d.http + "/operator.js").status == 200);
}

TEST_CASE("The operator HTTP endpoints refuse bad input with clear errors") {
  TempDir dir;
  Day d(dir);
  const std::string admin = d.s.admin_key;
  auto expect = [&](const testing::HttpReply& r, long status,
                    const std::string& needle) {
    INFO(r.body);
    CHECK(r.status == status);
    CHECK(r.content_type == "application/json");
    CHECK(absl::StrContains(r.body, needle));
  };
  expect(HttpCall(d.http + "/api/venues/clinic-1?day=2026-13-40", admin), 400,
         "day: \\\"2026-13-40\\\" is not a date");
  expect(HttpCall(d.http + "/api/venues/nowhere", admin), 404, "nowhere");
  expect(HttpCall(d.http + "/api/venues/bad%20id", admin), 400, "venue_id");
  expect(HttpCall(d.http + "/api/venues/clinic-1"), 401, "authorization");
  expect(HttpCall(d.http + "/api/venues/clinic-1", "nqk_nonsense"), 401,
         "authorization");
  expect(HttpCall(d.http + "/no/such/page", admin), 404, "not served here");
  expect(HttpCall(d.http + "/api/venuesclinic-1", admin), 404,
         "not served here");
  const testing::HttpReply post =
      HttpCall(d.http + "/api/venues/clinic-1", admin, "POST");
  CHECK(post.status == 405);
  CHECK(absl::StrContains(post.body, "only GET"));
}

}  // namespace
}  // namespace noqueue
