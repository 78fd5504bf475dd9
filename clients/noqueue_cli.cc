// noqueue: the command-line tool of NoQueue.
//
//   noqueue venue upsert --venue=louvre --name="Louvre" --type=MUSEUM
//       --time_zone=Europe/Paris --service_points=4 --service_min=2
//   noqueue venue get --venue=louvre
//   noqueue schedule create --venue=louvre --start=2026-12-01T09:00:00+01:00
//       --end=2026-12-01T12:00:00+01:00 --attendees=people.csv [--format=json]
//   noqueue schedule get --schedule=sch_...      noqueue schedule list
//   --venue=louvre noqueue arrivals record --csv=tags.csv       (one atomic
//   batch) noqueue device --csv=tags.csv --spool=var/device.csv
//   [--retry_for=60s] noqueue demo [--days=1] noqueue plan
//   --instance=instance.json     (offline, no server) noqueue report
//   --venue=louvre --token=app-install-42 --queue=30
//       --waited_min=12 [--finished]
//   noqueue status --venue=louvre
//   noqueue watch --schedule=sch_... [--resume_after=N] --deadline=8h
//   noqueue desks --venue=louvre --service_points=3 [--at=...]
//   noqueue me [watch|delay --delay_min=15|cancel] --attendee_token=nqa_...
//   noqueue webhooks create --venue=louvre --url=https://example.com/hook
//       --kinds=CONVOCATION_RETIMED,CONVOCATION_CANCELLED --secret_file=F
//   noqueue webhooks list --venue=louvre
//   noqueue model info [--venue=louvre]
//   noqueue model explain --venue=louvre --attendee=ana
//   --at=2026-12-01T09:00:00+01:00
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "clients/csv_io.h"
#include "clients/demo_day.h"
#include "clients/demo_live.h"
#include "clients/device_spool.h"
#include "clients/noqueue_client.h"
#include "clients/plan_instance.h"
#include "proto/base/wire_time.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "NoQueue server address");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(30), "deadline of each call");
ABSL_FLAG(std::string, format, "table", "output: table or json");
ABSL_FLAG(std::string, venue, "", "venue id");
ABSL_FLAG(std::string, name, "", "venue display name");
ABSL_FLAG(
    std::string, type, "",
    "convocation type: MUSEUM, AIRPORT, TRAIN_STATION, SALE, MEDICAL, OTHER");
ABSL_FLAG(std::string, time_zone, "", "IANA time zone of the venue");
ABSL_FLAG(int, service_points, 1, "desks, gates or doctors");
ABSL_FLAG(double, service_min, 5.0, "mean service time per attendee, minutes");
ABSL_FLAG(std::string, start, "", "window start, RFC 3339");
ABSL_FLAG(std::string, end, "", "window end, RFC 3339");
ABSL_FLAG(std::string, attendees, "", "attendees CSV (- for stdin)");
ABSL_FLAG(std::string, request_id, "", "idempotency key of a schedule request");
ABSL_FLAG(std::string, schedule, "", "schedule id");
ABSL_FLAG(std::string, csv, "", "arrival tags CSV (- for stdin)");
ABSL_FLAG(std::string, spool, "var/device-spool.csv",
          "device mode: file that keeps tags until they are acknowledged");
ABSL_FLAG(absl::Duration, retry_for, absl::Seconds(60),
          "device mode: keep retrying this long while the server is away");
ABSL_FLAG(int, days, 1, "demo: new days to play");
ABSL_FLAG(bool, live, true,
          "demo: also play a disrupted day live (needs the server's "
          "--clock=events)");
ABSL_FLAG(std::string, instance, "",
          "plan: JSON instance to plan offline (- for stdin)");
ABSL_FLAG(std::string, attendee, "", "model explain: attendee id");
ABSL_FLAG(std::string, at, "",
          "model explain: convocation time; report: when seen (default now); "
          "RFC 3339");
ABSL_FLAG(int, queue, -1, "report: people seen ahead in the queue");
ABSL_FLAG(double, waited_min, -1.0, "report: minutes waited so far");
ABSL_FLAG(bool, finished, false, "report: the wait is over (served)");
ABSL_FLAG(std::string, token, "", "report: the reporter's anonymous token");
ABSL_FLAG(std::string, key_file, "",
          "file holding the API key to call with (default: $NOQUEUE_KEY_FILE; "
          "none when neither is set)");
ABSL_FLAG(std::string, attendee_token, "",
          "me: the attendee token of a convocation (nqa_...)");
ABSL_FLAG(int64_t, resume_after, 0,
          "watch: the last event seq already seen (0: from the beginning)");
ABSL_FLAG(double, delay_min, 0, "me delay: minutes late");
ABSL_FLAG(std::string, tls_ca, "",
          "TLS: the CA (PEM file) that signed the server's certificate");
ABSL_FLAG(std::string, tls_cert, "",
          "TLS: this client's certificate (PEM file), for servers that ask");
ABSL_FLAG(std::string, tls_key, "", "TLS: this client's key (PEM file)");
ABSL_FLAG(std::string, role, "",
          "key create: ADMIN, VENUE_MANAGER, DEVICE or VIEWER");
ABSL_FLAG(std::string, venues, "", "key create: comma-separated venue ids");
ABSL_FLAG(std::string, description, "", "key create: a note for people");
ABSL_FLAG(std::string, key_id, "", "key revoke: the key's id (key_...)");
ABSL_FLAG(std::string, url, "", "webhooks create: the endpoint (https://...)");
ABSL_FLAG(std::string, kinds, "",
          "webhooks create: comma-separated SCHEDULE_CREATED, "
          "CONVOCATION_RETIMED, CONVOCATION_CANCELLED, ATTENDEE_LATE, "
          "WAIT_CROSSED");
ABSL_FLAG(std::string, secret_file, "",
          "webhooks create: file holding the signing secret (16 to 256 bytes, "
          "surrounding whitespace ignored)");
ABSL_FLAG(double, wait_threshold_min, 0,
          "webhooks create: the live wait, in minutes, whose crossing "
          "WAIT_CROSSED reports");
ABSL_FLAG(std::string, webhook, "", "webhooks delete: the webhook's id");

namespace {

namespace v1 = ::noqueue::v1;
using noqueue::client::NoQueueClient;

int Fail(const absl::Status& st) {
  std::fprintf(stderr, "noqueue: %s: %s\n",
               absl::StatusCodeToString(st.code()).c_str(),
               std::string(st.message()).c_str());
  return 1;
}

int Usage() {
  std::fprintf(stderr, "%s\n",
               std::string(absl::ProgramUsageMessage()).c_str());
  return 2;
}

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

double Minutes(const google::protobuf::Duration& d) {
  return (d.seconds() + d.nanos() / 1e9) / 60.0;
}

void PrintKpis(const char* label, const v1::ScheduleKpis& k) {
  std::printf(
      "%-8s mean wait %5.1f min | P90 wait %5.1f min | max queue %4.1f "
      "| idle %6.1f min | overtime %5.1f min\n",
      label, Minutes(k.expected_mean_wait()), Minutes(k.p90_wait()),
      k.expected_max_queue(), Minutes(k.staff_idle_time()),
      Minutes(k.overtime()));
}

void PrintSchedule(const v1::Schedule& s, const v1::Venue* venue) {
  if (absl::GetFlag(FLAGS_format) == "json") {
    std::printf("%s\n", Json(s).c_str());
    return;
  }
  absl::TimeZone tz = absl::UTCTimeZone();
  if (venue) absl::LoadTimeZone(venue->time_zone(), &tz);
  std::printf(
      "schedule %s  venue %s  %s  %s .. %s\n", s.schedule_id().c_str(),
      s.venue_id().c_str(),
      v1::ConvocationType_Name(s.convocation_type()).c_str(),
      noqueue::client::FormatTime(noqueue::ToTime(s.window_start()), tz)
          .c_str(),
      noqueue::client::FormatTime(noqueue::ToTime(s.window_end()), tz).c_str());
  std::printf("%-24s %-6s %-17s %-17s %-6s %s\n", "attendee", "come",
              "arrive P10..P90", "median arrival", "no-show", "exp. wait");
  for (const auto& c : s.convocations()) {
    auto hm = [&](const google::protobuf::Timestamp& ts) {
      return absl::FormatTime("%H:%M", noqueue::ToTime(ts), tz);
    };
    std::printf("%-24s %-6s %5s .. %-8s %-17s %5.0f%%  %5.1f min%s\n",
                c.attendee_id().c_str(), hm(c.convocation_time()).c_str(),
                hm(c.predicted_arrival().p10()).c_str(),
                hm(c.predicted_arrival().p90()).c_str(),
                hm(c.predicted_arrival().p50()).c_str(),
                100.0 * c.no_show_probability(), Minutes(c.expected_wait()),
                c.fixed() ? "  (fixed)" : "");
  }
  PrintKpis("NoQueue", s.kpis());
  PrintKpis("naive", s.naive_kpis());
}

int VenueCommand(NoQueueClient& client, const std::string& verb) {
  if (verb == "get") {
    absl::StatusOr<v1::Venue> v = client.GetVenue(absl::GetFlag(FLAGS_venue));
    if (!v.ok()) return Fail(v.status());
    std::printf("%s\n", Json(*v).c_str());
    return 0;
  }
  if (verb != "upsert") return Usage();
  v1::Venue venue;
  venue.set_venue_id(absl::GetFlag(FLAGS_venue));
  venue.set_display_name(absl::GetFlag(FLAGS_name));
  v1::ConvocationType type = v1::CONVOCATION_TYPE_UNSPECIFIED;
  if (!absl::GetFlag(FLAGS_type).empty() &&
      !v1::ConvocationType_Parse(absl::GetFlag(FLAGS_type), &type)) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--type: \"", absl::GetFlag(FLAGS_type),
                     "\" is not a convocation type")));
  }
  venue.set_convocation_type(type);
  venue.set_time_zone(absl::GetFlag(FLAGS_time_zone));
  venue.set_service_points(absl::GetFlag(FLAGS_service_points));
  venue.mutable_mean_service_time()->set_seconds(
      static_cast<int64_t>(absl::GetFlag(FLAGS_service_min) * 60.0));
  auto r = client.UpsertVenue(venue);
  if (!r.ok()) return Fail(r.status());
  std::printf("%s\n", Json(*r).c_str());
  return 0;
}

int ScheduleCommand(NoQueueClient& client, const std::string& verb) {
  if (verb == "get") {
    auto s = client.GetSchedule(absl::GetFlag(FLAGS_schedule));
    if (!s.ok()) return Fail(s.status());
    auto venue = client.GetVenue(s->venue_id());
    PrintSchedule(*s, venue.ok() ? &*venue : nullptr);
    return 0;
  }
  if (verb == "list") {
    auto all = client.ListAllSchedules(absl::GetFlag(FLAGS_venue));
    if (!all.ok()) return Fail(all.status());
    for (const auto& s : *all) {
      std::printf(
          "%s  %s  %s\n", s.schedule_id().c_str(),
          absl::FormatTime(absl::RFC3339_sec, noqueue::ToTime(s.window_start()),
                           absl::UTCTimeZone())
              .c_str(),
          s.request_id().c_str());
    }
    return 0;
  }
  if (verb != "create") return Usage();
  v1::CreateScheduleRequest request;
  request.set_venue_id(absl::GetFlag(FLAGS_venue));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  if (!absl::GetFlag(FLAGS_type).empty()) {
    v1::ConvocationType type;
    if (!v1::ConvocationType_Parse(absl::GetFlag(FLAGS_type), &type)) {
      return Fail(absl::InvalidArgumentError("--type: not a convocation type"));
    }
    request.set_convocation_type(type);
  }
  for (auto [flag, field] :
       {std::pair{absl::GetFlag(FLAGS_start), request.mutable_window_start()},
        std::pair{absl::GetFlag(FLAGS_end), request.mutable_window_end()}}) {
    auto t = noqueue::client::ParseTime("--start/--end", flag);
    if (!t.ok()) return Fail(t.status());
    field->set_seconds(absl::ToUnixSeconds(*t));
  }
  auto text = noqueue::client::ReadFile(absl::GetFlag(FLAGS_attendees));
  if (!text.ok()) return Fail(text.status());
  auto attendees = noqueue::client::AttendeesFromCsv(*text);
  if (!attendees.ok()) return Fail(attendees.status());
  for (auto& a : *attendees) *request.add_attendees() = std::move(a);
  auto s = client.CreateSchedule(request);
  if (!s.ok()) return Fail(s.status());
  auto venue = client.GetVenue(s->venue_id());
  PrintSchedule(*s, venue.ok() ? &*venue : nullptr);
  return 0;
}

absl::StatusOr<std::vector<v1::ArrivalEvent>> TagsFromFlag() {
  auto text = noqueue::client::ReadFile(absl::GetFlag(FLAGS_csv));
  if (!text.ok()) return text.status();
  return noqueue::client::ArrivalsFromCsv(*text);
}

int ArrivalsCommand(NoQueueClient& client) {
  auto tags = TagsFromFlag();
  if (!tags.ok()) return Fail(tags.status());
  auto acks = client.RecordArrivals(*tags);
  if (!acks.ok()) return Fail(acks.status());
  int accepted = 0, duplicates = 0;
  for (const auto& a : *acks) {
    accepted += a.status() == v1::ACCEPTED;
    duplicates += a.status() == v1::DUPLICATE;
  }
  std::printf("%d tags: %d accepted, %d duplicates\n",
              static_cast<int>(acks->size()), accepted, duplicates);
  return 0;
}

int DeviceCommand(NoQueueClient& client) {
  std::vector<v1::ArrivalEvent> tags;
  if (!absl::GetFlag(FLAGS_csv).empty()) {
    auto read = TagsFromFlag();
    if (!read.ok()) return Fail(read.status());
    tags = *std::move(read);
  }
  noqueue::client::DeviceSpool spool(absl::GetFlag(FLAGS_spool));
  auto report = noqueue::client::SendWithSpool(client, spool, tags,
                                               absl::GetFlag(FLAGS_retry_for));
  if (!report.ok()) return Fail(report.status());
  std::printf(
      "%d accepted, %d duplicates, %d rejected, %d still spooled in %s "
      "(%d attempts)\n",
      report->accepted, report->duplicates,
      static_cast<int>(report->rejected.size()), report->pending,
      spool.path().c_str(), report->attempts);
  for (const auto& r : report->rejected) {
    std::printf("  rejected %s: %s\n", r.event_id().c_str(),
                r.message().c_str());
  }
  return report->pending == 0 ? 0 : 3;
}

int ModelCommand(NoQueueClient& client, const std::string& verb) {
  if (verb == "info") {
    auto info = client.GetModelInfo(absl::GetFlag(FLAGS_venue));
    if (!info.ok()) return Fail(info.status());
    std::printf("%s\n", Json(*info).c_str());
    return 0;
  }
  if (verb != "explain") return Usage();
  v1::ExplainPredictionRequest request;
  request.set_venue_id(absl::GetFlag(FLAGS_venue));
  request.mutable_attendee()->set_attendee_id(absl::GetFlag(FLAGS_attendee));
  auto at = noqueue::client::ParseTime("--at", absl::GetFlag(FLAGS_at));
  if (!at.ok()) return Fail(at.status());
  request.mutable_convocation_time()->set_seconds(absl::ToUnixSeconds(*at));
  auto e = client.ExplainPrediction(request);
  if (!e.ok()) return Fail(e.status());
  std::printf("%s\n", Json(*e).c_str());
  return 0;
}

int ReportCommand(NoQueueClient& client) {
  v1::ReportQueueRequest request;
  request.set_venue_id(absl::GetFlag(FLAGS_venue));
  absl::Time at = absl::Now();
  if (!absl::GetFlag(FLAGS_at).empty()) {
    auto parsed = noqueue::client::ParseTime("--at", absl::GetFlag(FLAGS_at));
    if (!parsed.ok()) return Fail(parsed.status());
    at = *parsed;
  }
  request.mutable_observed_at()->set_seconds(absl::ToUnixSeconds(at));
  if (absl::GetFlag(FLAGS_queue) >= 0) {
    request.set_queue_length(absl::GetFlag(FLAGS_queue));
  }
  if (absl::GetFlag(FLAGS_waited_min) >= 0) {
    request.mutable_waited()->set_seconds(
        std::llround(absl::GetFlag(FLAGS_waited_min) * 60.0));
  }
  request.set_wait_state(absl::GetFlag(FLAGS_finished)
                             ? v1::WAIT_STATE_FINISHED
                             : v1::WAIT_STATE_WAITING);
  request.set_reporter_token(absl::GetFlag(FLAGS_token));
  auto r = client.ReportQueue(request);
  if (!r.ok()) return Fail(r.status());
  std::printf("%s\n", r->report_id().c_str());
  return 0;
}

int StatusCommand(NoQueueClient& client) {
  auto status = client.GetVenueStatus(absl::GetFlag(FLAGS_venue));
  if (!status.ok()) return Fail(status.status());
  if (absl::GetFlag(FLAGS_format) == "json") {
    std::printf("%s\n", Json(*status).c_str());
    return 0;
  }
  const double rate = status->service_rate_per_minute();
  if (status->state() != v1::STATUS_STATE_KNOWN) {
    std::printf(
        "%s: wait unknown (%d reports, %d tags behind it); "
        "serving %.1f per minute\n",
        status->venue_id().c_str(), status->reports_used(), status->tags_used(),
        rate);
    return 0;
  }
  auto minutes = [](const google::protobuf::Duration& d) {
    return d.seconds() / 60.0;
  };
  std::printf(
      "%s: wait %.0f min (P90 %.0f), queue %.0f, confidence %.0f%%, "
      "%d reports and %d tags behind it; serving %.1f per minute\n",
      status->venue_id().c_str(), minutes(status->wait_p50()),
      minutes(status->wait_p90()), status->queue_length(),
      100.0 * status->confidence(), status->reports_used(), status->tags_used(),
      rate);
  return 0;
}

int KeyCommand(NoQueueClient& client, const std::string& verb) {
  if (verb == "list") {
    auto keys = client.ListApiKeys();
    if (!keys.ok()) return Fail(keys.status());
    for (const v1::ApiKey& k : *keys) std::printf("%s\n", Json(k).c_str());
    return 0;
  }
  if (verb == "revoke") {
    auto key = client.RevokeApiKey(absl::GetFlag(FLAGS_key_id));
    if (!key.ok()) return Fail(key.status());
    std::printf("%s\n", Json(*key).c_str());
    return 0;
  }
  if (verb != "create") return Usage();
  v1::CreateApiKeyRequest request;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  if (!v1::Role_Parse(absl::GetFlag(FLAGS_role), &role)) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--role: \"", absl::GetFlag(FLAGS_role),
                     "\" is not ADMIN, VENUE_MANAGER, DEVICE or VIEWER")));
  }
  request.set_role(role);
  for (absl::string_view v :
       absl::StrSplit(absl::GetFlag(FLAGS_venues), ',', absl::SkipEmpty())) {
    request.add_venue_ids(std::string(v));
  }
  request.set_description(absl::GetFlag(FLAGS_description));
  auto created = client.CreateApiKey(request);
  if (!created.ok()) return Fail(created.status());
  std::printf("%s\n", Json(*created).c_str());
  std::fprintf(stderr,
               "noqueue: keep the secret now: the server stores only its "
               "hash\n");
  return 0;
}

int WebhooksCommand(NoQueueClient& client, const std::string& verb) {
  if (verb == "list") {
    auto hooks = client.ListWebhooks(absl::GetFlag(FLAGS_venue));
    if (!hooks.ok()) return Fail(hooks.status());
    for (const v1::Webhook& h : *hooks) std::printf("%s\n", Json(h).c_str());
    return 0;
  }
  if (verb == "delete") {
    absl::Status st = client.DeleteWebhook(absl::GetFlag(FLAGS_webhook));
    if (!st.ok()) return Fail(st);
    return 0;
  }
  if (verb != "create") return Usage();
  v1::CreateWebhookRequest request;
  request.set_venue_id(absl::GetFlag(FLAGS_venue));
  request.set_url(absl::GetFlag(FLAGS_url));
  for (absl::string_view k :
       absl::StrSplit(absl::GetFlag(FLAGS_kinds), ',', absl::SkipEmpty())) {
    v1::WebhookEventKind kind = v1::WEBHOOK_EVENT_KIND_UNSPECIFIED;
    const std::string name = absl::StartsWith(k, "WEBHOOK_")
                                 ? std::string(k)
                                 : absl::StrCat("WEBHOOK_", k);
    if (!v1::WebhookEventKind_Parse(name, &kind)) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("--kinds: \"", k, "\" is not a webhook event kind")));
    }
    request.add_kinds(kind);
  }
  auto secret =
      noqueue::client::ReadCredentialFile(absl::GetFlag(FLAGS_secret_file));
  if (!secret.ok()) return Fail(secret.status());
  request.set_secret(*secret);
  if (const double m = absl::GetFlag(FLAGS_wait_threshold_min); m > 0) {
    request.mutable_wait_threshold()->set_seconds(
        static_cast<int64_t>(m * 60.0));
  }
  auto created = client.CreateWebhook(request);
  if (!created.ok()) return Fail(created.status());
  std::printf("%s\n", Json(*created).c_str());
  return 0;
}

int EraseCommand(NoQueueClient& client) {
  auto erased = client.EraseAttendee(absl::GetFlag(FLAGS_venue),
                                     absl::GetFlag(FLAGS_attendee));
  if (!erased.ok()) return Fail(erased.status());
  std::printf("%s\n", Json(*erased).c_str());
  return 0;
}

// One line per event: seq, time, kind, attendee and what changed.
bool PrintEvent(const noqueue::v1::ScheduleEvent& e) {
  if (absl::GetFlag(FLAGS_format) == "json") {
    std::string out;
    google::protobuf::util::JsonPrintOptions opts;
    opts.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(e, &out, opts);
    std::printf("%s\n", out.c_str());
  } else {
    std::string what;
    switch (e.kind()) {
      case noqueue::v1::EVENT_RETIMED:
        what = absl::StrCat(
            absl::FormatTime("%H:%M", noqueue::ToTime(e.previous_time()),
                             absl::UTCTimeZone()),
            " -> ",
            absl::FormatTime("%H:%M", noqueue::ToTime(e.convocation_time()),
                             absl::UTCTimeZone()),
            " UTC (", e.reason(), ")");
        break;
      case noqueue::v1::EVENT_DELAY_DECLARED:
        what = absl::StrFormat("%.0f min late", Minutes(e.delay()));
        break;
      case noqueue::v1::EVENT_SERVICE_POINTS_CHANGED:
        what =
            absl::StrCat(e.service_points(), " desks from ",
                         absl::FormatTime(absl::RFC3339_sec,
                                          noqueue::ToTime(e.effective_from()),
                                          absl::UTCTimeZone()));
        break;
      case noqueue::v1::EVENT_KPIS_UPDATED:
        what = absl::StrFormat("expected wait %.1f min, overtime %.1f min",
                               Minutes(e.expected_mean_wait()),
                               Minutes(e.expected_overtime()));
        break;
      default:
        break;
    }
    std::printf("%8lld  %s  %-28s %-12s %s\n", static_cast<long long>(e.seq()),
                absl::FormatTime(absl::RFC3339_sec, noqueue::ToTime(e.at()),
                                 absl::UTCTimeZone())
                    .c_str(),
                noqueue::v1::ScheduleEventKind_Name(e.kind()).c_str(),
                e.attendee_id().c_str(), what.c_str());
  }
  std::fflush(stdout);
  return true;
}

// Runs a watch until its deadline (--deadline), which ends it quietly.
int Watching(const absl::Status& st) {
  if (st.ok() || st.code() == absl::StatusCode::kDeadlineExceeded) return 0;
  return Fail(st);
}

int WatchCommand(NoQueueClient& client) {
  return Watching(client.WatchSchedule(absl::GetFlag(FLAGS_schedule),
                                       absl::GetFlag(FLAGS_resume_after),
                                       PrintEvent));
}

int DesksCommand(NoQueueClient& client) {
  noqueue::v1::UpdateServicePointsRequest r;
  r.set_venue_id(absl::GetFlag(FLAGS_venue));
  r.set_service_points(absl::GetFlag(FLAGS_service_points));
  if (!absl::GetFlag(FLAGS_at).empty()) {
    auto at = noqueue::client::ParseTime("--at", absl::GetFlag(FLAGS_at));
    if (!at.ok()) return Fail(at.status());
    *r.mutable_effective_from() = noqueue::ToTimestamp(*at);
  }
  auto done = client.UpdateServicePoints(r);
  if (!done.ok()) return Fail(done.status());
  std::printf("%s\n", Json(*done).c_str());
  return 0;
}

int MeCommand(NoQueueClient& client, const std::string& verb) {
  if (verb == "watch") {
    return Watching(client.WatchMyConvocation(absl::GetFlag(FLAGS_resume_after),
                                              PrintEvent));
  }
  if (verb == "delay") {
    auto r = client.DeclareDelay(
        absl::Seconds(std::round(absl::GetFlag(FLAGS_delay_min) * 60)));
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\n", Json(*r).c_str());
    return 0;
  }
  if (verb == "cancel") {
    auto r = client.CancelConvocation();
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\n", Json(*r).c_str());
    return 0;
  }
  auto mine = client.GetMyConvocation();
  if (!mine.ok()) return Fail(mine.status());
  std::printf("%s\n", Json(*mine).c_str());
  return 0;
}

// The connection the flags ask for: TLS files, and the credential (the
// attendee token for `me`, else the key file).
absl::StatusOr<noqueue::client::ClientOptions> ConnectionOptions(
    const std::string& command) {
  noqueue::client::ClientOptions options;
  options.deadline = absl::GetFlag(FLAGS_deadline);
  for (auto [flag, name, out] :
       {std::tuple{absl::GetFlag(FLAGS_tls_ca), "--tls_ca",
                   &options.tls_ca_pem},
        std::tuple{absl::GetFlag(FLAGS_tls_cert), "--tls_cert",
                   &options.tls_cert_pem},
        std::tuple{absl::GetFlag(FLAGS_tls_key), "--tls_key",
                   &options.tls_key_pem}}) {
    if (flag.empty()) continue;
    auto pem = noqueue::client::ReadFile(flag);
    if (!pem.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ", pem.status().message()));
    }
    *out = *std::move(pem);
  }
  if (command == "me") {
    options.credential = absl::GetFlag(FLAGS_attendee_token);
    return options;
  }
  std::string key_file = absl::GetFlag(FLAGS_key_file);
  if (key_file.empty()) {
    if (const char* env = std::getenv("NOQUEUE_KEY_FILE")) key_file = env;
  }
  if (!key_file.empty()) {
    auto key = noqueue::client::ReadCredentialFile(key_file);
    if (!key.ok()) return key.status();
    options.credential = *std::move(key);
  }
  return options;
}

int PlanCommand() {
  auto text = noqueue::client::ReadFile(absl::GetFlag(FLAGS_instance));
  if (!text.ok()) return Fail(text.status());
  auto plan = noqueue::client::PlanInstanceJson(*text);
  if (!plan.ok()) return Fail(plan.status());
  std::printf("%s\n", plan->c_str());
  return 0;
}

int DemoCommand(NoQueueClient& client) {
  noqueue::client::DemoOptions options;
  options.days = absl::GetFlag(FLAGS_days);
  if (!absl::GetFlag(FLAGS_venue).empty()) {
    options.venue_id = absl::GetFlag(FLAGS_venue);
  }
  auto days = noqueue::client::RunDemo(client, options);
  if (!days.ok()) return Fail(days.status());
  std::printf(
      "NoQueue demo: clinic \"%s\", %d patients with hidden habits, "
      "%d convoked per day, 3 doctors x 12 min, 08:00-12:00.\n"
      "arrival error: mean |predicted median offset - hidden habit|, "
      "minutes; waits, idle doctors, overtime and cost (wait + idle + 1.5 x "
      "overtime): NoQueue's times vs the naive even spread, on the same "
      "simulated people.\n\n%s",
      options.venue_id.c_str(), options.population, options.patients_per_day,
      noqueue::client::FormatDemoTable(*days).c_str());
  if (!absl::GetFlag(FLAGS_live)) return 0;
  std::fflush(stdout);
  auto live = noqueue::client::RunLiveDemo(client, options);
  if (!live.ok()) return Fail(live.status());
  std::printf("%s", noqueue::client::FormatLiveDay(*live).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "noqueue <command> [flags]\n"
      "  venue upsert|get      schedule create|get|list\n"
      "  arrivals record       device       demo\n"
      "  plan --instance=FILE.json   (offline what-if planner, no server)\n"
      "  model info|explain\n"
      "  key create --role=R --venues=A,B | key revoke --key_id=K | key list\n"
      "  erase --venue=V --attendee=A\n"
      "  webhooks create --venue=V --url=U --kinds=K,.. --secret_file=F "
      "[--wait_threshold_min=M]\n"
      "  webhooks list --venue=V | webhooks delete --webhook=W\n"
      "  me [watch|delay --delay_min=M|cancel] --attendee_token=T\n"
      "  watch --schedule=S [--resume_after=N]   (until --deadline)\n"
      "  desks --venue=V --service_points=N [--at=RFC3339]\n"
      "  (--key_file or $NOQUEUE_KEY_FILE: the API key; --tls_ca: TLS)\n"
      "  report --venue=V --token=T [--queue=N] [--waited_min=M] [--finished]\n"
      "  status --venue=V\n"
      "Run with --helpfull for every flag.");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return Usage();
  const std::string command = args[1];
  const std::string verb = args.size() > 2 ? args[2] : "";
  if (command == "plan") return PlanCommand();
  auto options = ConnectionOptions(command);
  if (!options.ok()) return Fail(options.status());
  auto client =
      NoQueueClient::Connect(absl::GetFlag(FLAGS_server), *std::move(options));
  if (command == "key") return KeyCommand(*client, verb);
  if (command == "erase") return EraseCommand(*client);
  if (command == "webhooks") return WebhooksCommand(*client, verb);
  if (command == "me") return MeCommand(*client, verb);
  if (command == "watch") return WatchCommand(*client);
  if (command == "desks") return DesksCommand(*client);
  if (command == "venue") return VenueCommand(*client, verb);
  if (command == "schedule") return ScheduleCommand(*client, verb);
  if (command == "arrivals" && verb == "record")
    return ArrivalsCommand(*client);
  if (command == "device") return DeviceCommand(*client);
  if (command == "demo") return DemoCommand(*client);
  if (command == "model") return ModelCommand(*client, verb);
  if (command == "report") return ReportCommand(*client);
  if (command == "status") return StatusCommand(*client);
  return Usage();
}
