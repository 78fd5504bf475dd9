// Webhooks end to end: a real server, a real HTTP receiver on loopback, and
// the dispatcher's backoff, timeout and give-up window shortened so that
// failures, recoveries and a restart take seconds.
#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "clients/noqueue_client.h"
#include "server/common/crypto.h"
#include "tests/support/running_server.h"
#include "tests/support/sqlite_peek.h"
#include "tests/support/test_util.h"
#include "tests/support/webhook_receiver.h"

namespace noqueue {
namespace {

using testing::ClientOf;
using testing::ExpectError;
using testing::Running;
using testing::ScheduleRequest;
using testing::TempDir;
using testing::WebhookReceiver;
using Mode = WebhookReceiver::Mode;
using Requests = std::vector<WebhookReceiver::Request>;

constexpr char kSecret[] = "a-secret-of-32-bytes-for-testing";

server::ServerOptions FastOptions(const TempDir& dir) {
  server::ServerOptions options = testing::TestOptions(dir);
  options.webhooks.request_timeout = absl::Milliseconds(300);
  options.webhooks.initial_backoff = absl::Milliseconds(40);
  options.webhooks.max_backoff = absl::Milliseconds(200);
  options.webhooks.poll_every = absl::Milliseconds(20);
  // The receiver is on loopback.
  options.webhooks.private_targets = true;
  return options;
}

v1::CreateWebhookRequest Hook(const std::string& venue, const std::string& url,
                              std::vector<v1::WebhookEventKind> kinds = {
                                  v1::WEBHOOK_SCHEDULE_CREATED}) {
  v1::CreateWebhookRequest r;
  r.set_venue_id(venue);
  r.set_url(url);
  for (auto k : kinds) r.add_kinds(k);
  r.set_secret(kSecret);
  return r;
}

// The event a request carried, after checking its signature and headers.
v1::WebhookEvent Verified(const WebhookReceiver::Request& r) {
  // "t=<unix>,v1=<hex>"
  std::vector<std::string> parts = absl::StrSplit(r.signature, ',');
  REQUIRE(parts.size() == 2);
  REQUIRE(parts[0].rfind("t=", 0) == 0);
  REQUIRE(parts[1].rfind("v1=", 0) == 0);
  const std::string t = parts[0].substr(2);
  int64_t unix_seconds = 0;
  REQUIRE(absl::SimpleAtoi(t, &unix_seconds));
  CHECK(std::abs(unix_seconds - absl::ToUnixSeconds(absl::Now())) < 60);
  CHECK(parts[1].substr(3) ==
        server::Hex(server::HmacSha256(kSecret, t + "." + r.body)));
  v1::WebhookEvent e;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.body, &e).ok());
  CHECK(e.event_id() == r.event_id);
  CHECK(e.event_id() == absl::StrCat(e.webhook_id(), ".", e.sequence()));
  return e;
}

// The sequences delivered (answered 2xx), in the order first delivered.
std::vector<int64_t> Delivered(const Requests& requests) {
  std::vector<int64_t> out;
  std::map<int64_t, bool> seen;
  for (const auto& r : requests) {
    if (r.status != 200) continue;
    const int64_t seq = Verified(r).sequence();
    if (!seen[seq]) out.push_back(seq);
    seen[seq] = true;
  }
  return out;
}

bool DeliveredThrough(const Requests& requests, int64_t last) {
  int64_t through = 0;
  for (const auto& r : requests) {
    if (r.status != 200) continue;
    v1::WebhookEvent e;
    if (!google::protobuf::util::JsonStringToMessage(r.body, &e).ok()) continue;
    through = std::max(through, e.sequence());
  }
  return through >= last;
}

// A server with the fast options (changed by `tune`), venue "v", and a
// webhook of it to `receiver` for `kinds`; restartable on its database.
struct HookedVenue {
  explicit HookedVenue(
      const WebhookReceiver& receiver,
      const std::function<void(server::ServerOptions&)>& tune = {},
      std::vector<v1::WebhookEventKind> kinds = {v1::WEBHOOK_SCHEDULE_CREATED})
      : options(FastOptions(dir)) {
    REQUIRE(receiver.port() != 0);
    if (tune) tune(options);
    Start();
    REQUIRE(s->client->UpsertVenue(testing::ClinicVenue("v")).ok());
    auto made = s->client->CreateWebhook(Hook("v", receiver.url(), kinds));
    REQUIRE(made.ok());
    hook = *std::move(made);
  }
  void Start() { s = std::make_unique<Running>(options); }
  void Stop() { s.reset(); }
  // Waits until `hook` has a dead event; returns the webhook as listed.
  v1::Webhook WaitForDead() const {
    std::vector<v1::Webhook> listed;
    for (int i = 0; i < 200; ++i) {
      auto l = s->client->ListWebhooks("v");
      REQUIRE(l.ok());
      listed = *l;
      REQUIRE(listed.size() == 1);
      if (!listed[0].dead_events().empty()) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return listed[0];
  }

  TempDir dir;
  server::ServerOptions options;
  std::unique_ptr<Running> s;
  v1::Webhook hook;
};

int CountAnswered(const Requests& requests, unsigned status) {
  int n = 0;
  for (const auto& r : requests) n += r.status == status;
  return n;
}

TEST_CASE(
    "Every event reaches the receiver signed and in order without a gap "
    "through failures a timeout and a restart") {
  WebhookReceiver receiver(absl::Milliseconds(700));
  HookedVenue h(receiver);
  const std::string webhook_id = h.hook.webhook_id();
  CHECK(h.hook.url() == receiver.url());
  {
    Running& s = *h.s;

    // Delivered at once.
    for (int i = 0; i < 3; ++i) {
      REQUIRE(s.client->CreateSchedule(ScheduleRequest("v", 3, i)).ok());
    }
    REQUIRE(receiver.WaitFor(
        [](const Requests& r) { return DeliveredThrough(r, 3); }));

    // The receiver fails (500), then answers too late, then recovers.
    receiver.set_mode(Mode::kFail);
    for (int i = 3; i < 5; ++i) {
      REQUIRE(s.client->CreateSchedule(ScheduleRequest("v", 3, i)).ok());
    }
    REQUIRE(receiver.WaitFor(
        [](const Requests& r) { return CountAnswered(r, 500) >= 3; }));
    receiver.set_mode(Mode::kSlow);
    REQUIRE(receiver.WaitFor(
        [](const Requests& r) { return CountAnswered(r, 0) >= 1; }));
    auto listed = s.client->ListWebhooks("v");
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    CHECK((*listed)[0].pending_events() == 2);
    receiver.set_mode(Mode::kOk);
    REQUIRE(receiver.WaitFor(
        [](const Requests& r) { return DeliveredThrough(r, 5); }));

    // Events pending when the server stops.
    receiver.set_mode(Mode::kFail);
    for (int i = 5; i < 8; ++i) {
      REQUIRE(s.client->CreateSchedule(ScheduleRequest("v", 3, i)).ok());
    }
    REQUIRE(receiver.WaitFor(
        [](const Requests& r) { return CountAnswered(r, 500) >= 5; }));
  }
  h.Stop();
  receiver.set_mode(Mode::kOk);
  {
    h.Start();  // the same database
    Running& s = *h.s;
    REQUIRE(receiver.WaitFor(
        [](const Requests& r) { return DeliveredThrough(r, 8); }));
    auto listed = s.client->ListWebhooks("v");
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    CHECK((*listed)[0].dead_events().empty());
    // Its record of the last delivery is committed soon after.
    for (int i = 0; i < 100 && (*listed)[0].pending_events() != 0; ++i) {
      absl::SleepFor(absl::Milliseconds(20));
      listed = s.client->ListWebhooks("v");
    }
    CHECK((*listed)[0].pending_events() == 0);
    const server::WebhookCounters c = s.server->webhooks().counters();
    CHECK(c.pending == 0);
    CHECK(c.dead == 0);
  }

  const Requests requests = receiver.requests();
  // Every request, failed ones too, is signed and names its event.
  for (const auto& r : requests) {
    const v1::WebhookEvent e = Verified(r);
    CHECK(e.webhook_id() == webhook_id);
    CHECK(e.venue_id() == "v");
    CHECK(e.kind() == v1::WEBHOOK_SCHEDULE_CREATED);
    CHECK(e.schedule_event().kind() == v1::EVENT_CREATED);
    CHECK_FALSE(e.schedule_event().schedule_id().empty());
  }
  // Each of the 8 delivered, first deliveries in order: no gap, no reorder.
  CHECK(Delivered(requests) == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8});
  // An endpoint's next event waits for the one before: between a failed
  // attempt of event n and its delivery, nothing after n was sent.
  int64_t head = 0;
  for (const auto& r : requests) {
    const int64_t seq = Verified(r).sequence();
    CHECK(seq <= head + 1);
    if (r.status == 200) head = std::max(head, seq);
  }
}

TEST_CASE(
    "A redirect is a failed attempt and an event past the give-up window "
    "is dead and listed") {
  WebhookReceiver receiver;
  receiver.set_mode(Mode::kRedirect);
  HookedVenue h(receiver, [](server::ServerOptions& o) {
    o.webhooks.give_up_after = absl::Milliseconds(400);
  });
  Running& s = *h.s;
  REQUIRE(s.client->CreateSchedule(ScheduleRequest("v", 3)).ok());
  const v1::Webhook listed = h.WaitForDead();
  REQUIRE(listed.dead_events_size() == 1);
  const v1::DeadWebhookEvent& dead = listed.dead_events(0);
  CHECK(dead.sequence() == 1);
  CHECK(dead.event_id() == listed.webhook_id() + ".1");
  CHECK(dead.kind() == v1::WEBHOOK_SCHEDULE_CREATED);
  CHECK(dead.attempts() >= 2);
  CHECK(dead.attempts() == CountAnswered(receiver.requests(), 302));
  INFO(dead.last_error());
  CHECK(dead.last_error().find("302") != std::string::npos);
  CHECK(dead.last_error().find("redirects are not followed") !=
        std::string::npos);
  CHECK(dead.has_first_attempted_at());
  CHECK(listed.pending_events() == 0);
  CHECK(s.server->webhooks().counters().dead == 1);

  // The next event is delivered once the receiver answers.
  receiver.set_mode(Mode::kOk);
  REQUIRE(s.client->CreateSchedule(ScheduleRequest("v", 3, 1)).ok());
  REQUIRE(receiver.WaitFor(
      [](const Requests& r) { return DeliveredThrough(r, 2); }));
}

TEST_CASE("A slow receiver fails its attempt at the timeout, clearly") {
  WebhookReceiver receiver(absl::Seconds(1));
  receiver.set_mode(Mode::kSlow);
  HookedVenue h(receiver, [](server::ServerOptions& o) {
    o.webhooks.give_up_after = absl::Milliseconds(200);
  });
  REQUIRE(h.s->client->CreateSchedule(ScheduleRequest("v", 3)).ok());
  const v1::Webhook listed = h.WaitForDead();
  REQUIRE(listed.dead_events_size() == 1);
  INFO(listed.dead_events(0).last_error());
  CHECK(listed.dead_events(0).last_error().find("no answer within 300ms") !=
        std::string::npos);
}

TEST_CASE("A receiver that hangs does not hold up the API") {
  WebhookReceiver receiver(absl::Seconds(4));
  receiver.set_mode(Mode::kSlow);
  HookedVenue h(receiver, [](server::ServerOptions& o) {
    o.webhooks.request_timeout = absl::Seconds(5);
  });
  Running& s = *h.s;
  REQUIRE(s.client->CreateSchedule(ScheduleRequest("v", 3)).ok());
  REQUIRE(receiver.WaitFor([](const Requests&) { return true; }));
  absl::SleepFor(absl::Milliseconds(100));  // the first POST hangs now
  for (int i = 1; i <= 5; ++i) {
    const absl::Time start = absl::Now();
    REQUIRE(s.client->CreateSchedule(ScheduleRequest("v", 20, i)).ok());
    CHECK(absl::Now() - start < absl::Seconds(1));
  }
  const absl::Time start = absl::Now();
  auto listed = s.client->ListWebhooks("v");
  REQUIRE(listed.ok());
  CHECK((*listed)[0].pending_events() == 6);
  REQUIRE(s.client->DeleteWebhook(h.hook.webhook_id()).ok());
  CHECK(absl::Now() - start < absl::Seconds(1));
  CHECK(s.client->ListWebhooks("v")->empty());
  // Shutting down abandons the hanging POST rather than waiting for it.
  const absl::Time stop = absl::Now();
  s.server->Shutdown(absl::Seconds(1));
  CHECK(absl::Now() - stop < absl::Seconds(3));
}

// 20 hanging endpoints of one venue held both delivery threads, and another
// venue's healthy webhook waited for them (~10 s, 70-79 s behind blocking
// POSTs). One venue now holds at most all threads but one.
TEST_CASE("One venue's hanging webhooks do not hold up another venue's") {
  WebhookReceiver tarpit(absl::Seconds(4));
  tarpit.set_mode(Mode::kSlow);
  WebhookReceiver healthy;
  REQUIRE(tarpit.port() != 0);
  REQUIRE(healthy.port() != 0);
  TempDir dir;
  server::ServerOptions options = FastOptions(dir);
  options.webhooks.request_timeout = absl::Seconds(5);
  Running s(options);
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("a")).ok());
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("b")).ok());
  for (int i = 0; i < 10; ++i) {
    REQUIRE(
        s.client
            ->CreateWebhook(Hook("a", tarpit.url() + "?n=" + std::to_string(i)))
            .ok());
  }
  REQUIRE(s.client->CreateWebhook(Hook("b", healthy.url())).ok());
  REQUIRE(s.client->CreateSchedule(ScheduleRequest("a", 3)).ok());
  REQUIRE(tarpit.WaitFor([](const Requests& r) { return !r.empty(); }));
  absl::SleepFor(absl::Milliseconds(200));  // venue a's POSTs hang now
  const absl::Time made = absl::Now();
  REQUIRE(s.client->CreateSchedule(ScheduleRequest("b", 3)).ok());
  REQUIRE(healthy.WaitFor([](const Requests& r) { return !r.empty(); },
                          absl::Seconds(10)));
  // Well within the 4 s that venue a's receivers hang.
  CHECK(healthy.requests().front().at - made < absl::Seconds(2));
  s.server->Shutdown(absl::Seconds(1));
}

TEST_CASE("CreateWebhook refuses what it must not register") {
  TempDir dir;
  Running s(FastOptions(dir));
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("v")).ok());
  const std::string own = std::to_string(s.server->port());
  using C = absl::StatusCode;
  ExpectError(s.client->CreateWebhook(Hook("v", "http://example.com/hook")),
              C::kInvalidArgument,
              "url: http:// is allowed only to a loopback");
  ExpectError(s.client->CreateWebhook(Hook("v", "ftp://127.0.0.1/hook")),
              C::kInvalidArgument, "url: must be https://");
  ExpectError(s.client->CreateWebhook(Hook("v", "not a url")),
              C::kInvalidArgument, "url:");
  ExpectError(s.client->CreateWebhook(Hook("v", "")), C::kInvalidArgument,
              "url: must not be empty");
  for (const std::string host :
       {"127.0.0.1", "localhost", "[::1]", "0.0.0.0"}) {
    INFO(host);
    ExpectError(s.client->CreateWebhook(
                    Hook("v", "https://" + host + ":" + own + "/x")),
                C::kInvalidArgument, "url: is this server itself");
  }
  ExpectError(
      s.client->CreateWebhook(Hook("v", "http://localhost:" + own + "/x")),
      C::kInvalidArgument, "url: is this server itself");
  auto short_secret = Hook("v", "https://hooks.example.com/x");
  short_secret.set_secret("fifteen-bytes!!");
  ExpectError(s.client->CreateWebhook(short_secret), C::kInvalidArgument,
              "secret: must be 16 to 256 bytes, got 15");
  ExpectError(
      s.client->CreateWebhook(Hook("v", "https://hooks.example.com/x", {})),
      C::kInvalidArgument, "kinds: must name at least one");
  ExpectError(s.client->CreateWebhook(Hook("v", "https://hooks.example.com/x",
                                           {v1::WEBHOOK_WAIT_CROSSED})),
              C::kInvalidArgument, "wait_threshold: required");
  ExpectError(s.client->CreateWebhook(Hook("nowhere", "https://h.example/x")),
              C::kNotFound, "venue_id");
  const absl::Status missing = s.client->DeleteWebhook("wh_000000000000");
  CHECK(missing.code() == C::kNotFound);
  CHECK(std::string(missing.message()).find("webhook_id") != std::string::npos);
  CHECK(s.client->ListWebhooks("v")->empty());

  // https anywhere, http to loopback, another port of this machine.
  CHECK(s.client->CreateWebhook(Hook("v", "https://hooks.example.com/x")).ok());
  CHECK(s.client->CreateWebhook(Hook("v", "http://localhost:9/x")).ok());
  CHECK(s.client->CreateWebhook(Hook("v", "http://[::1]:9/x")).ok());
  auto listed = s.client->ListWebhooks("v");
  REQUIRE(listed.ok());
  CHECK(listed->size() == 3);
  for (int i = 3; i < 20; ++i) {
    REQUIRE(s.client->CreateWebhook(Hook("v", "https://h.example/x")).ok());
  }
  ExpectError(s.client->CreateWebhook(Hook("v", "https://h.example/x")),
              C::kFailedPrecondition, "already has 20 webhooks");
}

TEST_CASE("Erasing an attendee scrubs their undelivered webhook events") {
  WebhookReceiver receiver;
  receiver.set_mode(Mode::kFail);
  HookedVenue h(receiver,
                [](server::ServerOptions& o) {
                  // The replay clock: the schedule's morning is not over.
                  o.clock = server::LiveClock::Kind::kEvents;
                },
                {v1::WEBHOOK_CONVOCATION_CANCELLED});
  Running& s = *h.s;
  auto schedule = s.client->CreateSchedule(ScheduleRequest("v", 3));
  REQUIRE(schedule.ok());
  const v1::Convocation& who = schedule->convocations(0);
  auto cancelled =
      ClientOf(*s.server, who.attendee_token())->CancelConvocation();
  INFO(cancelled.status().message());
  REQUIRE(cancelled.ok());
  REQUIRE(receiver.WaitFor(
      [](const Requests& r) { return CountAnswered(r, 500) >= 1; }));
  CHECK(receiver.requests()[0].body.find(who.attendee_id()) !=
        std::string::npos);
  REQUIRE(s.client->EraseAttendee("v", who.attendee_id()).ok());
  receiver.set_mode(Mode::kOk);
  REQUIRE(receiver.WaitFor(
      [](const Requests& r) { return DeliveredThrough(r, 1); }));
  const Requests requests = receiver.requests();
  const v1::WebhookEvent e = Verified(requests.back());
  CHECK(e.erased());
  CHECK_FALSE(e.has_schedule_event());
  CHECK(requests.back().body.find(who.attendee_id()) == std::string::npos);
}

}  // namespace
}  // namespace noqueue

namespace noqueue {
namespace {

v1::ReportQueueRequest WaitReport(const std::string& token, absl::Time at,
                                  double waited_min) {
  v1::ReportQueueRequest r;
  r.set_venue_id("v");
  *r.mutable_observed_at() = ToTimestamp(at);
  r.mutable_waited()->set_seconds(static_cast<int64_t>(waited_min * 60));
  r.set_wait_state(v1::WAIT_STATE_FINISHED);
  r.set_reporter_token(token);
  return r;
}

TEST_CASE(
    "The live wait crossing a webhook's threshold is delivered once "
    "each way and not again after a restart") {
  TempDir dir;
  WebhookReceiver receiver;
  const server::ServerOptions options = FastOptions(dir);
  const absl::Time now = absl::Now();
  {
    Running s(options);
    REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("v")).ok());
    auto hook = Hook("v", receiver.url(), {v1::WEBHOOK_WAIT_CROSSED});
    hook.mutable_wait_threshold()->set_seconds(10 * 60);
    REQUIRE(s.client->CreateWebhook(hook).ok());
    // Eight people who waited about 20 minutes: above 10.
    for (int i = 0; i < 8; ++i) {
      REQUIRE(s.client
                  ->ReportQueue(WaitReport(absl::StrCat("phone-up-", i),
                                           now - absl::Minutes(40 - 4 * i),
                                           18.0 + i % 5))
                  .ok());
    }
    REQUIRE(receiver.WaitFor(
        [](const Requests& r) { return DeliveredThrough(r, 1); }));
    // More of the same keeps it above: no second event.
    for (int i = 0; i < 3; ++i) {
      REQUIRE(s.client
                  ->ReportQueue(WaitReport(absl::StrCat("phone-more-", i),
                                           now - absl::Minutes(2), 20.0))
                  .ok());
    }
    absl::SleepFor(absl::Milliseconds(300));
  }
  Requests requests = receiver.requests();
  REQUIRE(requests.size() == 1);
  const v1::WebhookEvent up = Verified(requests[0]);
  CHECK(up.kind() == v1::WEBHOOK_WAIT_CROSSED);
  CHECK(up.wait_crossing().above());
  CHECK(up.wait_crossing().threshold().seconds() == 600);
  CHECK(up.wait_crossing().wait_p50().seconds() >= 600);

  // Restarted, the server knows the wait was already above: no repeat.
  Running s(options);
  absl::SleepFor(absl::Milliseconds(300));
  CHECK(receiver.requests().size() == 1);
  // The wait falls: many short waits now.
  for (int i = 0; i < 30; ++i) {
    REQUIRE(s.client
                ->ReportQueue(WaitReport(absl::StrCat("phone-down-", i),
                                         absl::Now(), 1.0 + i % 2))
                .ok());
  }
  REQUIRE(
      receiver.WaitFor([](const Requests& r) { return DeliveredThrough(r, 2); },
                       absl::Seconds(5)));
  requests = receiver.requests();
  REQUIRE(requests.size() == 2);
  const v1::WebhookEvent down = Verified(requests.back());
  CHECK(down.sequence() == 2);
  CHECK_FALSE(down.wait_crossing().above());
  CHECK(down.wait_crossing().wait_p50().seconds() < 480);
}

TEST_CASE(
    "The retention purge gives undelivered webhook events the attendees' "
    "pseudonyms") {
  WebhookReceiver receiver;
  receiver.set_mode(Mode::kFail);
  HookedVenue h(receiver,
                [](server::ServerOptions& o) {
                  o.clock = server::LiveClock::Kind::kEvents;
                },
                {v1::WEBHOOK_CONVOCATION_CANCELLED});
  Running& s = *h.s;
  v1::Venue venue = testing::ClinicVenue("v");
  venue.set_personal_data_retention_days(30);
  REQUIRE(s.client->UpsertVenue(venue).ok());
  // Morning() is in March 2026: long past 30 days.
  auto schedule = s.client->CreateSchedule(ScheduleRequest("v", 3));
  REQUIRE(schedule.ok());
  const v1::Convocation& who = schedule->convocations(0);
  REQUIRE(ClientOf(*s.server, who.attendee_token())->CancelConvocation().ok());
  REQUIRE(receiver.WaitFor(
      [](const Requests& r) { return CountAnswered(r, 500) >= 1; }));
  auto purged = s.server->personal_data().PurgeNow(absl::Now());
  REQUIRE(purged.ok());
  CHECK(*purged == 1);
  CHECK_FALSE(testing::InDatabaseFiles(h.dir.file("var/noqueue.db"),
                                       who.attendee_id()));
  receiver.set_mode(Mode::kOk);
  REQUIRE(receiver.WaitFor(
      [](const Requests& r) { return DeliveredThrough(r, 1); }));
  const Requests requests = receiver.requests();
  const v1::WebhookEvent e = Verified(requests.back());
  REQUIRE(e.has_schedule_event());
  CHECK(e.schedule_event().attendee_id().rfind("~", 0) == 0);
  CHECK(requests.back().body.find(who.attendee_id()) == std::string::npos);
}

}  // namespace
}  // namespace noqueue
