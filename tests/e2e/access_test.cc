// Access control end to end: every RPC against every kind of credential,
// venue isolation, key management and its audit, rate limits, TLS and
// mutual TLS, and the attendee's right to be forgotten down to the bytes of
// the database file.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/csv_io.h"
#include "clients/noqueue_client.h"
#include "server/noqueue_server.h"
#include "tests/support/http_get.h"
#include "tests/support/running_server.h"
#include "tests/support/sqlite_peek.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

using client::NoQueueClient;
using testing::ClientOf;
using testing::ExpectError;
using testing::InDatabaseFiles;
using testing::Morning;
using testing::QueryInt;
using testing::Running;
using testing::ScheduleRequest;
using testing::Tag;
using testing::TempDir;

// Row counts of every table a refused call could have written.
std::string Fingerprint(const std::string& db) {
  std::string out;
  for (const char* table :
       {"venues", "schedules", "convocations", "arrival_events",
        "crowd_reports", "api_keys", "audit_log"}) {
    absl::StrAppend(&out, table, "=", testing::CountRows(db, table), " ");
  }
  absl::StrAppend(&out, "venue_a_update=",
                  QueryInt(db,
                           "SELECT update_us FROM venues WHERE venue_id = "
                           "'venue-a'"));
  return out;
}

// Two venues with a schedule each, and keys of every role.
struct World {
  explicit World(const TempDir& dir) : s(Options(dir)) {
    db = dir.file("var/noqueue.db");
    for (const char* v : {"venue-a", "venue-b"}) {
      REQUIRE(s.client->UpsertVenue(testing::ClinicVenue(v)).ok());
    }
    auto a = s.client->CreateSchedule(ScheduleRequest("venue-a", 3));
    auto b = s.client->CreateSchedule(ScheduleRequest("venue-b", 3));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    schedule_a = *a;
    schedule_b = *b;
    manager_a = Key(v1::VENUE_MANAGER, "venue-a");
    device_a = Key(v1::DEVICE, "venue-a");
    viewer_a = Key(v1::VIEWER, "venue-a");
    manager_b = Key(v1::VENUE_MANAGER, "venue-b");
    device_b = Key(v1::DEVICE, "venue-b");
    viewer_b = Key(v1::VIEWER, "venue-b");
    revoked = Key(v1::VENUE_MANAGER, "venue-a");
    auto revoked_key = s.client->RevokeApiKey(revoked_id);
    REQUIRE(revoked_key.ok());
    CHECK(revoked_key->has_revoke_time());
  }

  // The replay clock: the schedules' morning is "now" once tags come.
  static server::ServerOptions Options(const TempDir& dir) {
    server::ServerOptions options = testing::TestOptions(dir);
    options.clock = server::LiveClock::Kind::kEvents;
    options.metrics_listen = "127.0.0.1:0";
    return options;
  }

  std::string Key(v1::Role role, const std::string& venue) {
    v1::CreateApiKeyRequest r;
    r.set_role(role);
    r.add_venue_ids(venue);
    auto k = s.client->CreateApiKey(r);
    REQUIRE(k.ok());
    revoked_id = k->key().key_id();  // the last one made
    return k->secret();
  }

  std::unique_ptr<NoQueueClient> As(const std::string& credential) {
    return ClientOf(*s.server, credential);
  }

  Running s;
  std::string db;
  v1::Schedule schedule_a, schedule_b;
  std::string manager_a, device_a, viewer_a, manager_b, device_b, viewer_b;
  std::string revoked, revoked_id;
};

// One RPC, called on venue A's objects.
struct Row {
  std::string rpc;
  std::function<absl::Status(NoQueueClient&)> call;
  std::string right;        // a credential it admits
  std::string wrong_role;   // a venue-A key of a role it refuses ("": none)
  std::string other_venue;  // a venue-B credential
  absl::StatusCode other_venue_code = absl::StatusCode::kPermissionDenied;
  absl::StatusCode other_token_code = absl::StatusCode::kPermissionDenied;
  absl::StatusCode no_credential_code = absl::StatusCode::kUnauthenticated;
};

absl::Status StreamOne(NoQueueClient& c, const v1::ArrivalEvent& tag) {
  std::vector<v1::ArrivalAck> acks;
  absl::Status st = c.StreamArrivals({tag}, &acks);
  if (!st.ok()) return st;
  if (acks.size() != 1) return absl::InternalError("no ack");
  if (acks[0].status() == v1::REJECTED) {
    return absl::Status(static_cast<absl::StatusCode>(acks[0].code()),
                        acks[0].message());
  }
  return absl::OkStatus();
}

std::vector<Row> Rows(World& w) {
  const std::string sched_a = w.schedule_a.schedule_id();
  const std::string token_a = w.schedule_a.convocations(0).attendee_token();
  // Tokens of attendees the tags below leave expected (not a-1).
  auto token_of = [&w](const std::string& attendee) {
    for (const auto& c : w.schedule_a.convocations()) {
      if (c.attendee_id() == attendee) return c.attendee_token();
    }
    return std::string();
  };
  const std::string token_a1 = token_of("a-0");
  const std::string token_a2 = token_of("a-2");
  int tag = 0;
  auto next_tag = [sched_a, tag]() mutable {
    return Tag(absl::StrCat("t-", ++tag, "-", absl::ToUnixNanos(absl::Now())),
               sched_a, "a-1", v1::SERVICE_STARTED, Morning());
  };
  v1::ExplainPredictionRequest explain;
  explain.set_venue_id("venue-a");
  explain.mutable_attendee()->set_attendee_id("a-0");
  *explain.mutable_convocation_time() = ToTimestamp(Morning());
  v1::ReportQueueRequest report;
  report.set_venue_id("venue-a");
  *report.mutable_observed_at() = ToTimestamp(absl::Now());
  report.set_queue_length(3);
  report.set_wait_state(v1::WAIT_STATE_WAITING);
  report.set_reporter_token("phone-000001");
  v1::CreateApiKeyRequest new_key;
  new_key.set_role(v1::VIEWER);
  new_key.add_venue_ids("venue-a");
  v1::CreateWebhookRequest hook;
  hook.set_venue_id("venue-a");
  hook.set_url("https://hooks.example.com/a");
  hook.add_kinds(v1::WEBHOOK_CONVOCATION_RETIMED);
  hook.set_secret("sixteen-bytes-at-least");
  auto made = w.s.client->CreateWebhook(hook);
  REQUIRE(made.ok());
  const std::string webhook_a = made->webhook_id();
  using C = absl::StatusCode;
  // The operator page's JSON, over HTTP with the client's credential.
  const std::string http =
      absl::StrCat("http://127.0.0.1:", w.s.server->http_port());
  auto http_get = [http](const std::string& path) {
    return [url = http + path](NoQueueClient& c) {
      return testing::HttpCall(url, c.credential()).AsStatus();
    };
  };
  return {
      {"UpsertVenue",
       [](NoQueueClient& c) {
         return c.UpsertVenue(testing::ClinicVenue("venue-a")).status();
       },
       w.manager_a, w.viewer_a, w.manager_b},
      {"GetVenue",
       [](NoQueueClient& c) { return c.GetVenue("venue-a").status(); },
       w.viewer_a, w.device_a, w.viewer_b},
      {"CreateSchedule",
       [](NoQueueClient& c) {
         return c.CreateSchedule(ScheduleRequest("venue-a", 2, 1)).status();
       },
       w.manager_a, w.viewer_a, w.manager_b},
      {"GetSchedule",
       [sched_a](NoQueueClient& c) { return c.GetSchedule(sched_a).status(); },
       w.viewer_a, w.device_a, w.viewer_b},
      {"ListSchedules",
       [](NoQueueClient& c) { return c.ListAllSchedules("venue-a").status(); },
       w.viewer_a, w.device_a, w.viewer_b},
      {"StreamArrivals",
       [next_tag](NoQueueClient& c) mutable {
         return StreamOne(c, next_tag());
       },
       w.device_a, w.viewer_a, w.device_b},
      {"RecordArrivals",
       [next_tag](NoQueueClient& c) mutable {
         return c.RecordArrivals({next_tag()}).status();
       },
       w.device_a, w.manager_a, w.device_b},
      {"GetModelInfo",
       [](NoQueueClient& c) { return c.GetModelInfo("venue-a").status(); },
       w.manager_a, w.viewer_a, w.manager_b},
      {"ExplainPrediction",
       [explain](NoQueueClient& c) {
         return c.ExplainPrediction(explain).status();
       },
       w.manager_a, w.device_a, w.manager_b},
      {"ReportQueue",
       [report](NoQueueClient& c) mutable {
         report.set_reporter_token(
             absl::StrCat("phone-", absl::ToUnixNanos(absl::Now())));
         return c.ReportQueue(report).status();
       },
       "", "", w.viewer_b, C::kOk, C::kOk, C::kOk},
      {"GetVenueStatus",
       [](NoQueueClient& c) { return c.GetVenueStatus("venue-a").status(); },
       w.viewer_a, w.device_a, w.viewer_b},
      {"CreateApiKey",
       [new_key](NoQueueClient& c) { return c.CreateApiKey(new_key).status(); },
       w.s.admin_key, w.manager_a, w.manager_b},
      {"RevokeApiKey",
       [&w](NoQueueClient& c) { return c.RevokeApiKey(w.revoked_id).status(); },
       w.s.admin_key, w.manager_a, w.manager_b},
      {"ListApiKeys", [](NoQueueClient& c) { return c.ListApiKeys().status(); },
       w.s.admin_key, w.viewer_a, w.viewer_b},
      {"EraseAttendee",
       [](NoQueueClient& c) {
         return c.EraseAttendee("venue-a", "nobody").status();
       },
       w.manager_a, w.device_a, w.manager_b},
      {"GetMyConvocation",
       [](NoQueueClient& c) { return c.GetMyConvocation().status(); }, token_a,
       w.s.admin_key, w.viewer_b, C::kPermissionDenied, C::kOk},
      {"WatchSchedule",
       [sched_a](NoQueueClient& c) {
         return c.WatchSchedule(sched_a, 0, [](const auto&) { return false; });
       },
       w.viewer_a, w.device_a, w.viewer_b},
      {"UpdateServicePoints",
       [](NoQueueClient& c) {
         v1::UpdateServicePointsRequest r;
         r.set_venue_id("venue-a");
         r.set_service_points(2);
         return c.UpdateServicePoints(r).status();
       },
       w.manager_a, w.viewer_a, w.manager_b},
      {"WatchMyConvocation",
       [](NoQueueClient& c) {
         return c.WatchMyConvocation(0, [](const auto&) { return false; });
       },
       token_a, w.s.admin_key, w.viewer_b, C::kPermissionDenied, C::kOk},
      {"DeclareDelay",
       [](NoQueueClient& c) {
         return c.DeclareDelay(absl::Minutes(10)).status();
       },
       token_a1, w.s.admin_key, w.viewer_b, C::kPermissionDenied, C::kOk},
      {"CancelConvocation",
       [](NoQueueClient& c) { return c.CancelConvocation().status(); },
       token_a2, w.s.admin_key, w.viewer_b, C::kPermissionDenied, C::kOk},
      {"CreateWebhook",
       [hook](NoQueueClient& c) { return c.CreateWebhook(hook).status(); },
       w.manager_a, w.viewer_a, w.manager_b},
      {"ListWebhooks",
       [](NoQueueClient& c) { return c.ListWebhooks("venue-a").status(); },
       w.manager_a, w.device_a, w.manager_b},
      {"DeleteWebhook",
       [webhook_a](NoQueueClient& c) { return c.DeleteWebhook(webhook_a); },
       w.manager_a, w.viewer_a, w.manager_b},
      // A key of another venue lists its own venues (none of A's).
      {"OperatorVenues", http_get("/api/venues"), w.viewer_a, w.device_a,
       w.viewer_b, C::kOk},
      {"OperatorView", http_get("/api/venues/venue-a"), w.viewer_a, w.device_a,
       w.viewer_b},
  };
}

TEST_CASE(
    "Every RPC admits the right credential and refuses the others "
    "with the right code, storing nothing") {
  TempDir dir;
  World w(dir);
  std::vector<Row> rows = Rows(w);
  REQUIRE(rows.size() == static_cast<size_t>(server::kRpcCount));
  const std::string token_b = w.schedule_b.convocations(0).attendee_token();
  // An unknown key of the right shape, and one with a wrong secret.
  std::string forged = w.manager_a;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  const std::string before = Fingerprint(w.db);
  for (Row& row : rows) {
    INFO(row.rpc);
    auto expect = [&](const std::string& what, const std::string& credential,
                      absl::StatusCode code) {
      INFO(what);
      absl::Status st = row.call(*w.As(credential));
      INFO(st.message());
      CHECK(st.code() == code);
    };
    if (row.no_credential_code != absl::StatusCode::kOk) {
      expect("no credential", "", row.no_credential_code);
    }
    expect("forged key", forged, absl::StatusCode::kUnauthenticated);
    expect("not a credential", "hello", absl::StatusCode::kUnauthenticated);
    expect("revoked key", w.revoked, absl::StatusCode::kUnauthenticated);
    if (row.other_venue_code != absl::StatusCode::kOk) {
      expect("other venue's key", row.other_venue, row.other_venue_code);
    }
    if (!row.wrong_role.empty()) {
      expect("wrong role", row.wrong_role, absl::StatusCode::kPermissionDenied);
    }
    if (row.other_token_code != absl::StatusCode::kOk) {
      expect("another convocation's token", token_b, row.other_token_code);
    }
  }
  // Nothing a refused call asked for was stored.
  CHECK(Fingerprint(w.db) == before);
  for (Row& row : rows) {
    INFO(row.rpc);
    absl::Status st = row.call(*w.As(row.right));
    INFO(st.message());
    CHECK(st.ok());
  }
}

TEST_CASE(
    "A scoped key learns nothing of another venue's objects, an ADMIN "
    "key sees them all") {
  TempDir dir;
  World w(dir);
  auto viewer = w.As(w.viewer_a);
  // Another venue's schedule and a schedule that does not exist look alike.
  ExpectError(viewer->GetSchedule(w.schedule_b.schedule_id()),
              absl::StatusCode::kPermissionDenied, "schedule_id");
  ExpectError(viewer->GetSchedule("sch_nothing"),
              absl::StatusCode::kPermissionDenied, "schedule_id");
  ExpectError(viewer->GetVenue("venue-b"), absl::StatusCode::kPermissionDenied,
              "venue_id");
  ExpectError(viewer->GetVenue("no-such-venue"),
              absl::StatusCode::kPermissionDenied, "venue_id");
  ExpectError(w.s.client->GetSchedule("sch_nothing"),
              absl::StatusCode::kNotFound, "schedule_id");
  CHECK(w.s.client->GetSchedule(w.schedule_b.schedule_id()).ok());
  // A device of venue A tagging venue B's schedule: refused, per tag.
  auto device = w.As(w.device_a);
  std::vector<v1::ArrivalAck> acks;
  REQUIRE(device
              ->StreamArrivals({Tag("x-1", w.schedule_b.schedule_id(), "a-0",
                                    v1::ARRIVED, Morning()),
                                Tag("x-2", w.schedule_a.schedule_id(), "a-0",
                                    v1::ARRIVED, Morning())},
                               &acks)
              .ok());
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].status() == v1::REJECTED);
  CHECK(acks[0].code() ==
        static_cast<int>(absl::StatusCode::kPermissionDenied));
  CHECK(acks[1].status() == v1::ACCEPTED);
  // A manager key may create its own venue, not another.
  auto manager = w.As(w.manager_a);
  ExpectError(manager->UpsertVenue(testing::ClinicVenue("venue-c")),
              absl::StatusCode::kPermissionDenied, "venue_id");
  // A scoped key must name its venue for model information.
  ExpectError(manager->GetModelInfo(""), absl::StatusCode::kPermissionDenied,
              "venue_id");
}

TEST_CASE(
    "Keys are shown once, stored as hashes, revocable, and every "
    "action is audited") {
  TempDir dir;
  World w(dir);
  auto keys = w.s.client->ListApiKeys();
  REQUIRE(keys.ok());
  CHECK(keys->size() == 8);  // the bootstrap key and seven made by World
  // Only hashes are stored: no secret is in the database's bytes.
  for (const std::string& secret : {w.s.admin_key, w.manager_a, w.revoked}) {
    CHECK_FALSE(InDatabaseFiles(w.db, secret));
  }
  auto audit = w.s.server->store().ListAudit(0, 100);
  REQUIRE(audit.ok());
  REQUIRE(audit->size() == 9);  // 8 keys made, 1 revoked
  CHECK((*audit)[0].actor == "bootstrap");
  CHECK((*audit)[1].action == "create_key");
  CHECK((*audit)[8].action == "revoke_key");
  CHECK((*audit)[8].target == w.revoked_id);
  // Bad requests.
  v1::CreateApiKeyRequest bad;
  bad.set_role(v1::VIEWER);
  ExpectError(w.s.client->CreateApiKey(bad), absl::StatusCode::kInvalidArgument,
              "venue_ids: must name 1 to 100 venues");
  bad.set_role(v1::ADMIN);
  bad.add_venue_ids("venue-a");
  ExpectError(w.s.client->CreateApiKey(bad), absl::StatusCode::kInvalidArgument,
              "venue_ids: must be empty for an ADMIN key");
  bad.set_role(static_cast<v1::Role>(9));
  ExpectError(w.s.client->CreateApiKey(bad), absl::StatusCode::kInvalidArgument,
              "role");
  ExpectError(w.s.client->RevokeApiKey("key_zz"),
              absl::StatusCode::kInvalidArgument, "key_id");
  ExpectError(w.s.client->RevokeApiKey("key_000000000000"),
              absl::StatusCode::kNotFound, "key_id");
}

TEST_CASE("Malformed authorization metadata is refused as unauthenticated") {
  TempDir dir;
  Running s(testing::TestOptions(dir));
  for (const std::string& credential :
       {std::string("nqk_short"), std::string("nqk_ZZZZZZZZZZZZ_abc"),
        std::string("nqk_0123456789ab_not base64!"), std::string("nqa_x.y"),
        std::string("nqa_!!.!!.!!"), std::string(2000, 'a')}) {
    INFO(credential);
    ExpectError(ClientOf(*s.server, credential)->GetVenue("venue-a"),
                absl::StatusCode::kUnauthenticated, "authorization");
  }
}

TEST_CASE(
    "Keys and anonymous reporters are rate-limited, with the delay to "
    "wait") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.access.key_rate = 2;
  options.access.key_burst = 3;
  options.access.anonymous_rate = 1;
  options.access.anonymous_burst = 2;
  Running s(options);
  absl::Status last;
  int ok = 0;
  for (int i = 0; i < 6; ++i) {
    last = s.client->GetVenue("v").status();
    ok += last.code() == absl::StatusCode::kNotFound;
  }
  CHECK(ok <= 4);
  CHECK(last.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(last.message()).find("retry in") != std::string::npos);
  auto anonymous = ClientOf(*s.server, "");
  v1::ReportQueueRequest r;
  r.set_venue_id("nowhere");
  for (int i = 0; i < 3; ++i) last = anonymous->ReportQueue(r).status();
  CHECK(last.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(last.message()).find("anonymous calls from") !=
        std::string::npos);
}

TEST_CASE("Without access control the server listens only on loopback") {
  TempDir dir;
  server::ServerOptions options = testing::TestOptions(dir);
  options.access.enabled = false;
  options.listen = "0.0.0.0:0";
  auto refused = server::NoQueueServer::Start(options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(refused.status().message()).find("--auth=none") !=
        std::string::npos);
  options.listen = "127.0.0.1:0";
  auto open = server::NoQueueServer::Start(options);
  REQUIRE(open.ok());
  CHECK(ClientOf(**open, "")->UpsertVenue(testing::ClinicVenue()).ok());
  CHECK(server::IsLoopback("[::1]:50051"));
  CHECK(server::IsLoopback("localhost:1"));
  CHECK(server::IsLoopback("127.8.9.10:1"));
  CHECK(server::IsLoopback("[::ffff:127.0.0.1]:1"));
  CHECK_FALSE(server::IsLoopback("10.0.0.1:1"));
  // A name that starts like a loopback address is any machine's name.
  CHECK_FALSE(server::IsLoopback("127.0.0.1.example.invalid:1"));
  CHECK_FALSE(server::IsLoopback("localhost.example.invalid:1"));
  CHECK_FALSE(server::IsLoopback("[::1:1"));
  CHECK_FALSE(server::IsLoopback("0.0.0.0:1"));
  options.listen = "127.0.0.1.example.invalid:0";
  CHECK(server::NoQueueServer::Start(options).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  // The HTTP listener's /api is the same API: it must be on loopback too.
  options.listen = "127.0.0.1:0";
  options.metrics_listen = "0.0.0.0:0";
  auto http = server::NoQueueServer::Start(options);
  REQUIRE_FALSE(http.ok());
  CHECK(http.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(http.status().message()).find("--metrics_listen") !=
        std::string::npos);
}

TEST_CASE(
    "An attendee token reads its own convocation, and nothing after an "
    "erasure") {
  TempDir dir;
  World w(dir);
  const v1::Convocation& mine = w.schedule_a.convocations(1);
  auto attendee = w.As(mine.attendee_token());
  auto got = attendee->GetMyConvocation();
  REQUIRE(got.ok());
  CHECK(got->convocation().attendee_id() == mine.attendee_id());
  CHECK(got->schedule_id() == w.schedule_a.schedule_id());
  CHECK(got->venue_status().venue_id() == "venue-a");
  // A token with a changed convocation does not verify.
  std::string altered = mine.attendee_token();
  altered[5] = altered[5] == 'a' ? 'b' : 'a';
  ExpectError(w.As(altered)->GetMyConvocation(),
              absl::StatusCode::kUnauthenticated, "authorization");
  REQUIRE(w.s.client->EraseAttendee("venue-a", mine.attendee_id()).ok());
  ExpectError(attendee->GetMyConvocation(), absl::StatusCode::kUnauthenticated,
              "no longer valid");
}

TEST_CASE(
    "After an erasure the attendee's id is nowhere in the database "
    "files, and the next schedule treats them as a stranger") {
  TempDir dir;
  Running s(testing::TestOptions(dir));
  const std::string db = dir.file("var/noqueue.db");
  const std::string who = "erase-me-7f3a9c";
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue("venue-a")).ok());
  // Three days of visits teach the model this attendee's habit (early).
  for (int day = 0; day < 3; ++day) {
    auto request = ScheduleRequest("venue-a", 3, day);
    request.mutable_attendees(1)->set_attendee_id(who);
    auto sch = s.client->CreateSchedule(request);
    REQUIRE(sch.ok());
    const absl::Time at = ToTime(sch->convocations(1).convocation_time());
    REQUIRE(s.client
                ->RecordArrivals(
                    {Tag(absl::StrCat("e", day, "a"), sch->schedule_id(), who,
                         v1::ARRIVED, at - absl::Minutes(25)),
                     Tag(absl::StrCat("e", day, "s"), sch->schedule_id(), who,
                         v1::SERVICE_STARTED, at - absl::Minutes(20))})
                .ok());
  }
  REQUIRE(s.server->learning().Flush().ok());
  CHECK(InDatabaseFiles(db, who));
  v1::ExplainPredictionRequest explain;
  explain.set_venue_id("venue-a");
  explain.mutable_attendee()->set_attendee_id(who);
  *explain.mutable_convocation_time() = ToTimestamp(Morning(5));
  auto known = s.client->ExplainPrediction(explain);
  REQUIRE(known.ok());
  CHECK(known->attendee_arrivals() == 3);

  auto erased = s.client->EraseAttendee("venue-a", who);
  REQUIRE(erased.ok());
  CHECK(erased->convocations_erased() == 3);
  CHECK(erased->tags_erased() == 6);
  CHECK(erased->habit_forgotten());
  CHECK_FALSE(InDatabaseFiles(db, who));
  // The stranger's prediction: no arrival known.
  auto stranger = s.client->ExplainPrediction(explain);
  REQUIRE(stranger.ok());
  CHECK(stranger->attendee_arrivals() == 0);
  CHECK(stranger->habit_raw_minutes() == 0.0);
  // Idempotent, audited without the id.
  auto again = s.client->EraseAttendee("venue-a", who);
  REQUIRE(again.ok());
  CHECK(again->convocations_erased() == 0);
  auto audit = s.server->store().ListAudit(0, 100);
  REQUIRE(audit.ok());
  int erasures = 0;
  for (const auto& a : *audit) erasures += a.action == "erase_attendee";
  CHECK(erasures == 2);
  CHECK_FALSE(InDatabaseFiles(db, who));
  // The other attendees' data stays.
  CHECK(QueryInt(db, "SELECT count(*) FROM convocations") == 6);
  CHECK(testing::QueryText(db, "PRAGMA integrity_check") == "ok");
}

TEST_CASE(
    "Attendee ids past their venue's retention become pseudonyms and the "
    "retention is checked") {
  TempDir dir;
  Running s(testing::TestOptions(dir));
  const std::string db = dir.file("var/noqueue.db");
  v1::Venue venue = testing::ClinicVenue("venue-a");
  for (int days : {0, 3651, -1}) {
    venue.set_personal_data_retention_days(days);
    ExpectError(s.client->UpsertVenue(venue),
                absl::StatusCode::kInvalidArgument,
                "venue.personal_data_retention_days");
  }
  venue.set_personal_data_retention_days(30);
  REQUIRE(s.client->UpsertVenue(venue).ok());
  CHECK(s.client->GetVenue("venue-a")->personal_data_retention_days() == 30);
  // Morning() is in March 2026: long past 30 days. A schedule of today is not.
  auto old = ScheduleRequest("venue-a", 2);
  old.mutable_attendees(0)->set_attendee_id("old-visitor-1");
  auto old_schedule = s.client->CreateSchedule(old);
  REQUIRE(old_schedule.ok());
  REQUIRE(s.client
              ->RecordArrivals({Tag("o1", old_schedule->schedule_id(),
                                    "old-visitor-1", v1::ARRIVED, Morning())})
              .ok());
  v1::CreateScheduleRequest recent = ScheduleRequest("venue-a", 2);
  *recent.mutable_window_start() = ToTimestamp(absl::Now());
  *recent.mutable_window_end() = ToTimestamp(absl::Now() + absl::Hours(2));
  recent.mutable_attendees(0)->set_attendee_id("recent-visitor-1");
  REQUIRE(s.client->CreateSchedule(recent).ok());

  auto purged = s.server->personal_data().PurgeNow(absl::Now());
  REQUIRE(purged.ok());
  CHECK(*purged == 1);
  CHECK_FALSE(InDatabaseFiles(db, "old-visitor-1"));
  CHECK(InDatabaseFiles(db, "recent-visitor-1"));
  // The anonymous learning stays: the tag and the convocation, pseudonymous.
  CHECK(testing::CountRows(db, "arrival_events") == 1);
  CHECK(QueryInt(db,
                 "SELECT count(*) FROM convocations WHERE attendee_id "
                 "LIKE '~%'") == 2);
  auto schedule = s.client->GetSchedule(old_schedule->schedule_id());
  REQUIRE(schedule.ok());
  CHECK(schedule->convocations(0).attendee_id().rfind("~", 0) == 0);
  // A second purge finds nothing more.
  CHECK(*s.server->personal_data().PurgeNow(absl::Now()) == 0);
}

// ------------------------------------------------------------------- TLS

TEST_CASE(
    "Over TLS the API answers clients that trust the server, and with "
    "a client CA only clients with a certificate") {
  if (!testing::HaveOpenssl()) {
    WARN("openssl is not installed: TLS not tested");
    return;
  }
  TempDir dir;
  const std::string d = dir.path();
  // A CA, a server certificate for 127.0.0.1 and a client certificate.
  REQUIRE(testing::MakeTestPki(d));
  server::ServerOptions options = testing::TestOptions(dir);
  options.tls_cert = d + "/server.pem";
  options.tls_key = d + "/server.key";
  Running s(options);  // its plain client cannot talk TLS
  CHECK_FALSE(s.client->GetVenue("clinic-1").ok());
  client::ClientOptions tls;
  tls.credential = s.admin_key;
  tls.tls_ca_pem = testing::Slurp(d + "/ca.pem");
  auto secure = client::NoQueueClient::Connect(
      "127.0.0.1:" + std::to_string(s.server->port()), tls);
  REQUIRE(secure->UpsertVenue(testing::ClinicVenue()).ok());
  CHECK(secure->GetVenue("clinic-1").ok());
  s.server->Shutdown(absl::Seconds(1));

  // Mutual TLS: the same database, client certificates required.
  options.tls_client_ca = d + "/ca.pem";
  auto mutual = server::NoQueueServer::Start(options);
  REQUIRE(mutual.ok());
  const std::string target = "127.0.0.1:" + std::to_string((*mutual)->port());
  tls.deadline = absl::Seconds(5);
  CHECK_FALSE(
      client::NoQueueClient::Connect(target, tls)->GetVenue("clinic-1").ok());
  tls.tls_cert_pem = testing::Slurp(d + "/client.pem");
  tls.tls_key_pem = testing::Slurp(d + "/client.key");
  CHECK(client::NoQueueClient::Connect(target, tls)->GetVenue("clinic-1").ok());

  // Bad settings are refused with the flag.
  options.tls_key = "";
  auto half = server::NoQueueServer::Start(options);
  REQUIRE_FALSE(half.ok());
  CHECK(std::string(half.status().message()).find("--tls_key") !=
        std::string::npos);
}

}  // namespace
}  // namespace noqueue
