// `noqueue venue`, `noqueue desks` and `noqueue model`: a venue, its open
// desks, and what its model has learned.
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "clients/cli/cli.h"
#include "clients/cli/commands.h"
#include "clients/csv_io.h"
#include "proto/base/wire_time.h"

ABSL_FLAG(std::string, name, "", "venue display name");
ABSL_FLAG(std::string, time_zone, "", "IANA time zone of the venue");
ABSL_FLAG(double, service_min, 5.0, "mean service time per attendee, minutes");

namespace noqueue::cli {

int VenueCommand(const Invocation& in) {
  if (in.verb == "get") {
    auto v = in.client->GetVenue(absl::GetFlag(FLAGS_venue));
    if (!v.ok()) return Fail(v.status());
    std::printf("%s\n", Json(*v).c_str());
    return 0;
  }
  if (in.verb != "upsert") return Usage();
  v1::Venue venue;
  venue.set_venue_id(absl::GetFlag(FLAGS_venue));
  venue.set_display_name(absl::GetFlag(FLAGS_name));
  auto type = TypeFromFlag();
  if (!type.ok()) return Fail(type.status());
  venue.set_convocation_type(*type);
  venue.set_time_zone(absl::GetFlag(FLAGS_time_zone));
  venue.set_service_points(absl::GetFlag(FLAGS_service_points));
  venue.mutable_mean_service_time()->set_seconds(
      static_cast<int64_t>(absl::GetFlag(FLAGS_service_min) * 60.0));
  auto r = in.client->UpsertVenue(venue);
  if (!r.ok()) return Fail(r.status());
  std::printf("%s\n", Json(*r).c_str());
  return 0;
}

int DesksCommand(const Invocation& in) {
  v1::UpdateServicePointsRequest r;
  r.set_venue_id(absl::GetFlag(FLAGS_venue));
  r.set_service_points(absl::GetFlag(FLAGS_service_points));
  if (!absl::GetFlag(FLAGS_at).empty()) {
    auto at = client::ParseTime("--at", absl::GetFlag(FLAGS_at));
    if (!at.ok()) return Fail(at.status());
    *r.mutable_effective_from() = ToTimestamp(*at);
  }
  auto done = in.client->UpdateServicePoints(r);
  if (!done.ok()) return Fail(done.status());
  std::printf("%s\n", Json(*done).c_str());
  return 0;
}

int ModelCommand(const Invocation& in) {
  if (in.verb == "info") {
    auto info = in.client->GetModelInfo(absl::GetFlag(FLAGS_venue));
    if (!info.ok()) return Fail(info.status());
    std::printf("%s\n", Json(*info).c_str());
    return 0;
  }
  if (in.verb != "explain") return Usage();
  v1::ExplainPredictionRequest request;
  request.set_venue_id(absl::GetFlag(FLAGS_venue));
  request.mutable_attendee()->set_attendee_id(absl::GetFlag(FLAGS_attendee));
  auto at = client::ParseTime("--at", absl::GetFlag(FLAGS_at));
  if (!at.ok()) return Fail(at.status());
  request.mutable_convocation_time()->set_seconds(absl::ToUnixSeconds(*at));
  auto e = in.client->ExplainPrediction(request);
  if (!e.ok()) return Fail(e.status());
  std::printf("%s\n", Json(*e).c_str());
  return 0;
}

}  // namespace noqueue::cli
