// Attacks an outside tester ran on a running server, each kept as a test
// of the fix: what a local user can read of the files, what a probe of the
// API learns or moves.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "clients/noqueue_client.h"
#include "proto/base/svg_chart.h"
#include "proto/base/wire_time.h"
#include "server/noqueue_server.h"
#include "server/webhooks/webhook_http.h"
#include "server/webhooks/webhook_targets.h"
#include "tests/support/http_get.h"
#include "tests/support/running_server.h"
#include "tests/support/sqlite_peek.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

using testing::Running;
using testing::ScheduleRequest;
using testing::TempDir;

// The permission bits of `path`; -1 when it does not exist.
int ModeOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// The database holds the attendee tokens' signing secret and the webhooks'
// secrets: under the usual umask (022) it was readable by every local user,
// who could then forge any attendee's token.
TEST_CASE("The database, its WAL and shared memory are its owner's only") {
  TempDir dir;
  const mode_t before = umask(022);
  const std::string db = dir.file("var/noqueue.db");
  {
    Running s(testing::TestOptions(dir));
    REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
    REQUIRE(s.client->CreateSchedule(ScheduleRequest("clinic-1", 3)).ok());
    for (const std::string& path : {db, db + "-wal", db + "-shm"}) {
      INFO(path);
      CHECK(ModeOf(path) == 0600);
    }
    CHECK(ModeOf(dir.file("var/admin.key")) == 0600);
  }
  // A database left readable by an earlier run is closed to others on open.
  REQUIRE(chmod(db.c_str(), 0644) == 0);
  {
    Running s(testing::TestOptions(dir));
    CHECK(ModeOf(db) == 0600);
    CHECK(s.client->GetVenue("clinic-1").ok());
  }
  umask(before);
}

// A key of venue A read server-wide totals (venues known, attendees
// known, events learned): what other venues the server holds.
TEST_CASE("A key scoped to one venue learns nothing of the others' model") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("venue-a")).ok());
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("venue-b")).ok());
  auto b = s.client->CreateSchedule(ScheduleRequest("venue-b", 4));
  REQUIRE(b.ok());
  REQUIRE(s.client
              ->RecordArrivals(
                  {testing::Tag("t1", b->schedule_id(), "a-0", v1::ARRIVED,
                                testing::Morning() + absl::Minutes(2))})
              .ok());
  // The model learns in the background: wait until it has the tag.
  absl::StatusOr<v1::GetModelInfoResponse> all;
  for (int i = 0; i < 250; ++i) {
    all = s.client->GetModelInfo();
    REQUIRE(all.ok());
    if (all->last_event_seq() > 0) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  REQUIRE(all->last_event_seq() > 0);
  v1::CreateApiKeyRequest r;
  r.set_role(v1::VENUE_MANAGER);
  r.add_venue_ids("venue-a");
  auto key = s.client->CreateApiKey(r);
  REQUIRE(key.ok());
  auto manager = testing::ClientOf(*s.server, key->secret());
  auto mine = manager->GetModelInfo("venue-a");
  REQUIRE(mine.ok());
  CHECK_FALSE(mine->model_version().empty());
  CHECK(mine->has_venue_service());
  CHECK(mine->venues_known() == 0);
  CHECK(mine->attendees_known() == 0);
  CHECK(mine->events_learned() == 0);
  CHECK(mine->last_event_seq() == 0);
  CHECK(mine->types().empty());
  testing::ExpectError(manager->GetModelInfo("venue-b"),
                       absl::StatusCode::kPermissionDenied, "venue");
}

// ReportQueue answered NOT_FOUND for a missing venue and OK otherwise, to
// anyone: an anonymous venue directory.
TEST_CASE("An anonymous report cannot tell which venues exist") {
  TempDir dir;
  Running s(testing::TestOptions(dir));
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("venue-a")).ok());
  auto anonymous = testing::ClientOf(*s.server, "");
  v1::ReportQueueRequest report;
  *report.mutable_observed_at() = ToTimestamp(absl::Now());
  report.set_queue_length(3);
  report.set_wait_state(v1::WAIT_STATE_WAITING);
  report.set_reporter_token("phone-000001");
  report.set_venue_id("venue-a");
  auto real = anonymous->ReportQueue(report);
  REQUIRE(real.ok());
  report.set_venue_id("no-such-venue");
  report.set_reporter_token("phone-000002");
  auto made_up = anonymous->ReportQueue(report);
  REQUIRE(made_up.ok());
  CHECK(made_up->report_id().size() == real->report_id().size());
  // Nothing stored for it; a keyed caller is still told.
  const std::string db = dir.file("var/noqueue.db");
  CHECK(testing::QueryInt(db,
                          "SELECT count(*) FROM crowd_reports WHERE "
                          "venue_id = 'no-such-venue'") == 0);
  testing::ExpectError(s.client->ReportQueue(report),
                       absl::StatusCode::kNotFound, "venue_id");
}

// A control character in a venue's name made its queue chart invalid XML
// (the operator's page then showed nothing).
TEST_CASE("A venue's name is one line of text, and the chart stays XML") {
  Running s;
  v1::Venue v = testing::ClinicVenue("venue-a");
  for (const std::string& name :
       {std::string("Clinic\x01"), std::string("Line\nbreak"),
        std::string("Bell\x07"), std::string("Del\x7f")}) {
    v.set_display_name(name);
    testing::ExpectError(s.client->UpsertVenue(v),
                         absl::StatusCode::kInvalidArgument,
                         "venue.display_name");
  }
  CHECK_FALSE(s.client->GetVenue("venue-a").ok());
  svg::Chart chart;
  chart.panels.emplace_back().title = std::string("Old\x01name <b>");
  const std::string rendered = svg::Render(chart);
  for (const char c : rendered) {
    CHECK((static_cast<unsigned char>(c) >= 0x20 || c == '\n'));
  }
  CHECK(rendered.find("&lt;b&gt;") != std::string::npos);
}

// SSRF: a VENUE_MANAGER's webhook URL made the server POST to its own
// metrics port, to loopback in every spelling, to the cloud metadata
// address and to private networks, and the dead event's last_error told
// which ports answered.
TEST_CASE("Webhooks reach public addresses only, in every spelling") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("venue-a")).ok());
  auto hook = [](const std::string& url) {
    v1::CreateWebhookRequest r;
    r.set_venue_id("venue-a");
    r.set_url(url);
    r.add_kinds(v1::WEBHOOK_SCHEDULE_CREATED);
    r.set_secret("sixteen-bytes-at-least");
    return r;
  };
  const std::string port = std::to_string(s.server->port());
  const std::vector<std::string> urls = {"http://127.0.0.1:9090/metrics",
                                         "http://2130706433/",
                                         "http://0x7f.1/",
                                         "http://0177.0.0.1/",
                                         "http://127.1/",
                                         "http://localhost/",
                                         "https://localhost.:" + port + "/",
                                         "https://app.localhost/",
                                         "https://[::1]/",
                                         "https://[::ffff:127.0.0.1]/",
                                         "https://[::ffff:7f00:1]/",
                                         "https://[64:ff9b::a9fe:a9fe]/",
                                         "https://169.254.169.254/latest/",
                                         "https://10.1.2.3/",
                                         "https://172.16.0.1/",
                                         "https://192.168.1.1/",
                                         "https://100.64.0.1/",
                                         "https://0.0.0.0/",
                                         "https://[fe80::1]/",
                                         "https://[fd00::1]/",
                                         "https://224.0.0.1/",
                                         "https://255.255.255.255/"};
  for (const std::string& url : urls) {
    INFO(url);
    testing::ExpectError(s.client->CreateWebhook(hook(url)),
                         absl::StatusCode::kInvalidArgument, "url: ");
  }
  CHECK(s.client->ListWebhooks("venue-a")->empty());
  // A public address or a name is taken (the name is checked when it
  // resolves, below).
  CHECK(s.client->CreateWebhook(hook("https://93.184.216.34/x")).ok());
  CHECK(s.client->CreateWebhook(hook("https://hooks.example.com/x")).ok());
  // Port 0, an absurd threshold and an unknown venue are named as such.
  testing::ExpectError(
      s.client->CreateWebhook(hook("https://93.184.216.34:0/")),
      absl::StatusCode::kInvalidArgument, "url: port 0");
  v1::CreateWebhookRequest huge = hook("https://hooks.example.com/y");
  huge.add_kinds(v1::WEBHOOK_WAIT_CROSSED);
  huge.mutable_wait_threshold()->set_seconds(1000000000000);
  testing::ExpectError(s.client->CreateWebhook(huge),
                       absl::StatusCode::kInvalidArgument,
                       "wait_threshold: must be more than 0 and at most 24h");
  testing::ExpectError(s.client->ListWebhooks("no-such-venue"),
                       absl::StatusCode::kNotFound, "venue_id");
}

TEST_CASE("The address a name resolves to is checked at each connection") {
  // A listening socket on loopback that never answers.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  REQUIRE(listen(fd, 8) == 0);
  socklen_t len = sizeof(a);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const std::string url =
      "http://localhost:" + std::to_string(ntohs(a.sin_port)) + "/hook";
  // "localhost" is a name: only its address tells where it goes.
  server::WebhookPoster public_only(/*private_targets=*/false);
  const absl::Status refused =
      public_only.Post(url, "{}", {}, absl::Milliseconds(300), nullptr);
  CHECK(refused.code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(refused.message()).find("not public") != std::string::npos);
  server::WebhookPoster any(/*private_targets=*/true);
  const absl::Status reached =
      any.Post(url, "{}", {}, absl::Milliseconds(300), nullptr);
  CHECK(std::string(reached.message()).find("no answer within") !=
        std::string::npos);
  close(fd);
  // A closed port and an open one must not read differently beyond
  // "could not connect": no port, no protocol.
  const absl::Status closed =
      any.Post(url, "{}", {}, absl::Milliseconds(300), nullptr);
  INFO(closed.message());
  CHECK(std::string(closed.message()) == "could not connect");
}

TEST_CASE("Every form of an address is read as the resolver reads it") {
  using server::IsPublicAddressLiteral;
  CHECK(IsPublicAddressLiteral("2130706433") == false);
  CHECK(IsPublicAddressLiteral("0x7f000001") == false);
  CHECK(IsPublicAddressLiteral("017700000001") == false);
  CHECK(IsPublicAddressLiteral("[::]") == false);
  CHECK(IsPublicAddressLiteral("[2002:7f00:1::]") == false);  // 6to4
  CHECK(IsPublicAddressLiteral("[fe80::1%25eth0]") == false);
  CHECK(IsPublicAddressLiteral("8.8.8.8") == true);
  CHECK(IsPublicAddressLiteral("[2606:4700::1111]") == true);
  CHECK_FALSE(IsPublicAddressLiteral("hooks.example.com").has_value());
}

// event_id was unique across the server: venue A's device could claim an
// id first and make venue B's genuine tag fail ALREADY_EXISTS.
TEST_CASE("One venue's tag ids cannot block another venue's tags") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("venue-a")).ok());
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("venue-b")).ok());
  auto a = s.client->CreateSchedule(ScheduleRequest("venue-a", 2));
  auto b = s.client->CreateSchedule(ScheduleRequest("venue-b", 2));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const absl::Time t = testing::Morning() + absl::Minutes(3);
  auto first = s.client->RecordArrivals(
      {testing::Tag("gate-0001", a->schedule_id(), "a-0", v1::ARRIVED, t)});
  REQUIRE(first.ok());
  auto other = s.client->RecordArrivals(
      {testing::Tag("gate-0001", b->schedule_id(), "a-0", v1::ARRIVED, t)});
  INFO(other.status().message());
  REQUIRE(other.ok());
  CHECK((*other)[0].status() == v1::ACCEPTED);
  // Within a schedule the id still means one tag: a retry is a duplicate,
  // a different tag with it a conflict.
  auto retry = s.client->RecordArrivals(
      {testing::Tag("gate-0001", b->schedule_id(), "a-0", v1::ARRIVED, t)});
  REQUIRE(retry.ok());
  CHECK((*retry)[0].status() == v1::DUPLICATE);
  auto reused = s.client->RecordArrivals(
      {testing::Tag("gate-0001", b->schedule_id(), "a-1", v1::ARRIVED, t)});
  CHECK(reused.status().code() == absl::StatusCode::kAlreadyExists);
}

// 130 slow half-open connections (a header line every few seconds) from one
// host filled the HTTP listener's 128 connections: /metrics and the
// operator's page answered no one until they closed.
TEST_CASE("Slow clients of one host cannot take the HTTP listener") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.metrics_listen = "127.0.0.1:0";
  Running s(options);
  const int port = s.server->http_port();
  REQUIRE(port > 0);
  // The attacker: another loopback address, 130 connections that send the
  // start of a request and then one header byte now and then.
  std::vector<int> slow;
  for (int i = 0; i < 130; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.2", &from.sin_addr);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) == 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
      close(fd);
      continue;
    }
    const char start[] = "GET /metrics HTTP/1.1\r\nX-a: ";
    (void)!send(fd, start, sizeof(start) - 1, MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  for (int round = 0; round < 2; ++round) {
    absl::SleepFor(absl::Milliseconds(500));
    for (int fd : slow) (void)!send(fd, "a", 1, MSG_NOSIGNAL);
    // Everyone else is still answered.
    const absl::Time asked = absl::Now();
    const testing::HttpReply reply = testing::HttpCall(
        "http://127.0.0.1:" + std::to_string(port) + "/metrics");
    INFO(reply.error);
    CHECK(reply.status == 200);
    CHECK(absl::Now() - asked < absl::Seconds(3));
  }
  for (int fd : slow) close(fd);
}

// An attendee token skipped every rate limit on ReportQueue: 1,000 reports
// at ~2,200/s, each with a fresh reporter token, set another venue's live
// status.
TEST_CASE("An attendee token is rate-limited like any caller") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.access.anonymous_rate = 5;
  options.access.anonymous_burst = 30;
  options.access.key_rate = 100;
  options.access.key_burst = 200;
  Running s(options);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("venue-a")).ok());
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("venue-b")).ok());
  auto mine = s.client->CreateSchedule(ScheduleRequest("venue-a", 2));
  REQUIRE(mine.ok());
  auto phone =
      testing::ClientOf(*s.server, mine->convocations(0).attendee_token());
  v1::ReportQueueRequest report;
  report.set_venue_id("venue-b");
  report.set_queue_length(80);
  report.set_wait_state(v1::WAIT_STATE_WAITING);
  int ok = 0;
  absl::Status last;
  for (int i = 0; i < 100; ++i) {
    *report.mutable_observed_at() = ToTimestamp(absl::Now());
    report.set_reporter_token("fresh-reporter-" + std::to_string(i));
    auto r = phone->ReportQueue(report);
    last = r.status();
    ok += r.ok();
  }
  // The peer's anonymous burst, then refusals with when to come back.
  CHECK(ok <= 32);
  CHECK(last.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(last.message()).find("retry in") != std::string::npos);
}

// One attendee token opened 1,000 WatchMyConvocation streams in 14 s, each
// woken by every tag of the day. A credential now holds a bounded number of
// watches; ending one frees its place.
TEST_CASE("One credential holds a bounded number of watches") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.clock = server::LiveClock::Kind::kEvents;
  options.live.max_watches_per_key = 2;
  Running s(options);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("clinic-1")).ok());
  auto day = s.client->CreateSchedule(ScheduleRequest("clinic-1", 3));
  REQUIRE(day.ok());
  const std::string token = day->convocations(0).attendee_token();
  const int per_attendee = options.live.max_watches_per_attendee;

  // Watches held open until their deadline, each once it has its first
  // event.
  std::atomic<int> open{0};
  auto hold = [&](const std::string& credential, bool attendee) {
    return std::thread([&, credential, attendee] {
      auto c = testing::ClientOf(*s.server, credential, absl::Seconds(3));
      bool once = false;
      auto take = [&](const v1::ScheduleEvent&) {
        if (!once) ++open;
        once = true;
        return true;
      };
      absl::Status st = attendee
                            ? c->WatchMyConvocation(0, take)
                            : c->WatchSchedule(day->schedule_id(), 0, take);
      CHECK(st.code() == absl::StatusCode::kDeadlineExceeded);
    });
  };
  std::vector<std::thread> held;
  for (int i = 0; i < per_attendee; ++i) held.push_back(hold(token, true));
  for (int i = 0; i < 2; ++i) held.push_back(hold(s.admin_key, false));
  const int all = per_attendee + 2;
  for (int i = 0; i < 400 && open.load() < all; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  REQUIRE(open.load() == all);

  auto never = [](const v1::ScheduleEvent&) { return true; };
  absl::Status more =
      testing::ClientOf(*s.server, token)->WatchMyConvocation(0, never);
  CHECK(more.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(more.message()).find("watch") != std::string::npos);
  more = s.client->WatchSchedule(day->schedule_id(), 0, never);
  CHECK(more.code() == absl::StatusCode::kResourceExhausted);
  // Another attendee of the same day is counted apart.
  auto other = testing::ClientOf(
      *s.server, day->convocations(1).attendee_token(), absl::Seconds(1));
  CHECK(other->WatchMyConvocation(0, never).code() ==
        absl::StatusCode::kDeadlineExceeded);

  for (std::thread& t : held) t.join();
  // The watches have ended: their places are free again.
  auto again = testing::ClientOf(*s.server, token, absl::Seconds(1));
  CHECK(again->WatchMyConvocation(0, never).code() ==
        absl::StatusCode::kDeadlineExceeded);
}

// Under --tls_cert the HTTP listener stayed cleartext: an API key sent to
// /api over plain HTTP was answered. It now speaks HTTPS with the gRPC
// port's certificate, and nothing in clear.
TEST_CASE("The HTTP listener speaks TLS when the gRPC port does") {
  if (!testing::HaveOpenssl()) {
    WARN("openssl is not installed: TLS not tested");
    return;
  }
  TempDir dir;
  const std::string d = dir.path();
  REQUIRE(testing::MakeTestPki(d));
  server::ServerOptions options = testing::TestOptions(dir);
  options.tls_cert = d + "/server.pem";
  options.tls_key = d + "/server.key";
  options.metrics_listen = "127.0.0.1:0";
  Running s(options);  // its plain gRPC client is not used
  const std::string& key = s.admin_key;
  const std::string at = "127.0.0.1:" + std::to_string(s.server->http_port());

  const testing::HttpReply secure = testing::HttpCall(
      "https://" + at + "/api/venues", key, "GET", d + "/ca.pem");
  INFO(secure.error);
  CHECK(secure.status == 200);
  CHECK(
      testing::HttpCall("https://" + at + "/healthz", "", "GET", d + "/ca.pem")
          .body == "serving\n");
  // In clear, the key is not even read: no HTTP answer comes.
  const testing::HttpReply plain =
      testing::HttpCall("http://" + at + "/api/venues", key);
  CHECK(plain.status != 200);
  // A client that does not trust the certificate does not send its key.
  CHECK(testing::HttpCall("https://" + at + "/api/venues", key).status == 0);
}

}  // namespace
}  // namespace noqueue
