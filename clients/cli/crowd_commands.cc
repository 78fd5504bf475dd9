// `noqueue report` and `noqueue status`: a crowd report of the queue one
// sees, and the venue's live status those reports and the tags make.
#include <cmath>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "clients/cli/cli.h"
#include "clients/cli/commands.h"
#include "clients/csv_io.h"
#include "noqueue/v1/crowd.pb.h"

ABSL_FLAG(int, queue, -1, "report: people seen ahead in the queue");
ABSL_FLAG(double, waited_min, -1.0, "report: minutes waited so far");
ABSL_FLAG(bool, finished, false, "report: the wait is over (served)");
ABSL_FLAG(std::string, token, "", "report: the reporter's anonymous token");

namespace noqueue::cli {

int ReportCommand(const Invocation& in) {
  v1::ReportQueueRequest request;
  request.set_venue_id(absl::GetFlag(FLAGS_venue));
  absl::Time at = absl::Now();
  if (!absl::GetFlag(FLAGS_at).empty()) {
    auto parsed = client::ParseTime("--at", absl::GetFlag(FLAGS_at));
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
  auto r = in.client->ReportQueue(request);
  if (!r.ok()) return Fail(r.status());
  std::printf("%s\n", r->report_id().c_str());
  return 0;
}

int StatusCommand(const Invocation& in) {
  auto status = in.client->GetVenueStatus(absl::GetFlag(FLAGS_venue));
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

}  // namespace noqueue::cli
