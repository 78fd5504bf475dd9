// `noqueue schedule` and `noqueue watch`: a venue's schedules, and the
// events of one as its day runs.
#include <cstdio>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "clients/cli/cli.h"
#include "clients/cli/commands.h"
#include "clients/csv_io.h"
#include "proto/base/wire_time.h"

ABSL_FLAG(std::string, start, "", "window start, RFC 3339");
ABSL_FLAG(std::string, end, "", "window end, RFC 3339");
ABSL_FLAG(std::string, attendees, "", "attendees CSV (- for stdin)");
ABSL_FLAG(std::string, request_id, "", "idempotency key of a schedule request");

namespace noqueue::cli {
namespace {

// The schedule in its venue's time zone (UTC when the venue cannot be read).
void PrintWithVenue(client::NoQueueClient& client, const v1::Schedule& s) {
  auto venue = client.GetVenue(s.venue_id());
  PrintSchedule(s, venue.ok() ? &*venue : nullptr);
}

int CreateSchedule(client::NoQueueClient& client) {
  v1::CreateScheduleRequest request;
  request.set_venue_id(absl::GetFlag(FLAGS_venue));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  auto type = TypeFromFlag();
  if (!type.ok()) return Fail(type.status());
  request.set_convocation_type(*type);
  for (auto [flag, field] :
       {std::pair{absl::GetFlag(FLAGS_start), request.mutable_window_start()},
        std::pair{absl::GetFlag(FLAGS_end), request.mutable_window_end()}}) {
    auto t = client::ParseTime("--start/--end", flag);
    if (!t.ok()) return Fail(t.status());
    field->set_seconds(absl::ToUnixSeconds(*t));
  }
  auto text = client::ReadFile(absl::GetFlag(FLAGS_attendees));
  if (!text.ok()) return Fail(text.status());
  auto attendees = client::AttendeesFromCsv(*text);
  if (!attendees.ok()) return Fail(attendees.status());
  for (auto& a : *attendees) *request.add_attendees() = std::move(a);
  auto s = client.CreateSchedule(request);
  if (!s.ok()) return Fail(s.status());
  PrintWithVenue(client, *s);
  return 0;
}

}  // namespace

int ScheduleCommand(const Invocation& in) {
  if (in.verb == "create") return CreateSchedule(*in.client);
  if (in.verb == "get") {
    auto s = in.client->GetSchedule(absl::GetFlag(FLAGS_schedule));
    if (!s.ok()) return Fail(s.status());
    PrintWithVenue(*in.client, *s);
    return 0;
  }
  if (in.verb != "list") return Usage();
  auto all = in.client->ListAllSchedules(absl::GetFlag(FLAGS_venue));
  if (!all.ok()) return Fail(all.status());
  for (const auto& s : *all) {
    std::printf("%s  %s  %s\n", s.schedule_id().c_str(),
                absl::FormatTime(absl::RFC3339_sec, ToTime(s.window_start()),
                                 absl::UTCTimeZone())
                    .c_str(),
                s.request_id().c_str());
  }
  return 0;
}

int WatchCommand(const Invocation& in) {
  return Watching(in.client->WatchSchedule(absl::GetFlag(FLAGS_schedule),
                                           absl::GetFlag(FLAGS_resume_after),
                                           PrintEvent));
}

}  // namespace noqueue::cli
