// The flags several commands of `noqueue` read, and how answers print.
#include "clients/cli/cli.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/csv_io.h"
#include "proto/base/wire_time.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "NoQueue server address");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(30), "deadline of each call");
ABSL_FLAG(std::string, format, "table", "output: table or json");
ABSL_FLAG(std::string, key_file, "",
          "file holding the API key to call with (default: $NOQUEUE_KEY_FILE; "
          "none when neither is set)");
ABSL_FLAG(std::string, attendee_token, "",
          "me: the attendee token of a convocation (nqa_...)");
ABSL_FLAG(std::string, tls_ca, "",
          "TLS: the CA (PEM file) that signed the server's certificate");
ABSL_FLAG(std::string, tls_cert, "",
          "TLS: this client's certificate (PEM file), for servers that ask");
ABSL_FLAG(std::string, tls_key, "", "TLS: this client's key (PEM file)");
ABSL_FLAG(std::string, venue, "", "venue id");
ABSL_FLAG(
    std::string, type, "",
    "convocation type: MUSEUM, AIRPORT, TRAIN_STATION, SALE, MEDICAL, OTHER");
ABSL_FLAG(int, service_points, 1, "desks, gates or doctors");
ABSL_FLAG(std::string, schedule, "", "schedule id");
ABSL_FLAG(std::string, attendee, "", "model explain, erase: attendee id");
ABSL_FLAG(std::string, at, "",
          "model explain: convocation time; report: when seen (default now); "
          "desks: from when (default now); RFC 3339");
ABSL_FLAG(std::string, csv, "", "arrival tags CSV (- for stdin)");
ABSL_FLAG(int64_t, resume_after, 0,
          "watch: the last event seq already seen (0: from the beginning)");

namespace noqueue::cli {
namespace {

void PrintKpis(const char* label, const v1::ScheduleKpis& k) {
  std::printf(
      "%-8s mean wait %5.1f min | P90 wait %5.1f min | max queue %4.1f "
      "| idle %6.1f min | overtime %5.1f min\n",
      label, Minutes(k.expected_mean_wait()), Minutes(k.p90_wait()),
      k.expected_max_queue(), Minutes(k.staff_idle_time()),
      Minutes(k.overtime()));
}

// What an event changed, for its line.
std::string EventChange(const v1::ScheduleEvent& e) {
  auto utc = [](const char* format, const google::protobuf::Timestamp& t) {
    return absl::FormatTime(format, ToTime(t), absl::UTCTimeZone());
  };
  switch (e.kind()) {
    case v1::EVENT_RETIMED:
      return absl::StrCat(utc("%H:%M", e.previous_time()), " -> ",
                          utc("%H:%M", e.convocation_time()), " UTC (",
                          e.reason(), ")");
    case v1::EVENT_DELAY_DECLARED:
      return absl::StrFormat("%.0f min late", Minutes(e.delay()));
    case v1::EVENT_SERVICE_POINTS_CHANGED:
      return absl::StrCat(e.service_points(), " desks from ",
                          utc(absl::RFC3339_sec, e.effective_from()));
    case v1::EVENT_KPIS_UPDATED:
      return absl::StrFormat("expected wait %.1f min, overtime %.1f min",
                             Minutes(e.expected_mean_wait()),
                             Minutes(e.expected_overtime()));
    default:
      return "";
  }
}

}  // namespace

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

void PrintSchedule(const v1::Schedule& s, const v1::Venue* venue) {
  if (absl::GetFlag(FLAGS_format) == "json") {
    std::printf("%s\n", Json(s).c_str());
    return;
  }
  absl::TimeZone tz = absl::UTCTimeZone();
  if (venue) absl::LoadTimeZone(venue->time_zone(), &tz);
  std::printf("schedule %s  venue %s  %s  %s .. %s\n", s.schedule_id().c_str(),
              s.venue_id().c_str(),
              v1::ConvocationType_Name(s.convocation_type()).c_str(),
              client::FormatTime(ToTime(s.window_start()), tz).c_str(),
              client::FormatTime(ToTime(s.window_end()), tz).c_str());
  std::printf("%-24s %-6s %-17s %-17s %-6s %s\n", "attendee", "come",
              "arrive P10..P90", "median arrival", "no-show", "exp. wait");
  for (const auto& c : s.convocations()) {
    auto hm = [&](const google::protobuf::Timestamp& ts) {
      return absl::FormatTime("%H:%M", ToTime(ts), tz);
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

bool PrintEvent(const v1::ScheduleEvent& e) {
  if (absl::GetFlag(FLAGS_format) == "json") {
    std::string out;
    google::protobuf::util::JsonPrintOptions opts;
    opts.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(e, &out, opts);
    std::printf("%s\n", out.c_str());
  } else {
    std::printf(
        "%8lld  %s  %-28s %-12s %s\n", static_cast<long long>(e.seq()),
        absl::FormatTime(absl::RFC3339_sec, ToTime(e.at()), absl::UTCTimeZone())
            .c_str(),
        v1::ScheduleEventKind_Name(e.kind()).c_str(), e.attendee_id().c_str(),
        EventChange(e).c_str());
  }
  std::fflush(stdout);
  return true;
}

int Watching(const absl::Status& st) {
  if (st.ok() || st.code() == absl::StatusCode::kDeadlineExceeded) return 0;
  return Fail(st);
}

absl::StatusOr<v1::ConvocationType> TypeFromFlag() {
  const std::string name = absl::GetFlag(FLAGS_type);
  v1::ConvocationType type = v1::CONVOCATION_TYPE_UNSPECIFIED;
  if (!name.empty() && !v1::ConvocationType_Parse(name, &type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--type: \"", name, "\" is not a convocation type"));
  }
  return type;
}

}  // namespace noqueue::cli
