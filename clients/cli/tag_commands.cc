// `noqueue arrivals record` and `noqueue device`: tags sent as one atomic
// batch, or as a tagging device does, through a spool that keeps them until
// the server acknowledges them.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "clients/cli/cli.h"
#include "clients/cli/commands.h"
#include "clients/csv_io.h"
#include "clients/device_spool.h"

ABSL_FLAG(std::string, spool, "var/device-spool.csv",
          "device mode: file that keeps tags until they are acknowledged");
ABSL_FLAG(absl::Duration, retry_for, absl::Seconds(60),
          "device mode: keep retrying this long while the server is away");

namespace noqueue::cli {
namespace {

absl::StatusOr<std::vector<v1::ArrivalEvent>> TagsFromFlag() {
  auto text = client::ReadFile(absl::GetFlag(FLAGS_csv));
  if (!text.ok()) return text.status();
  return client::ArrivalsFromCsv(*text);
}

}  // namespace

int ArrivalsCommand(const Invocation& in) {
  if (in.verb != "record") return Usage();
  auto tags = TagsFromFlag();
  if (!tags.ok()) return Fail(tags.status());
  auto acks = in.client->RecordArrivals(*tags);
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

int DeviceCommand(const Invocation& in) {
  std::vector<v1::ArrivalEvent> tags;
  if (!absl::GetFlag(FLAGS_csv).empty()) {
    auto read = TagsFromFlag();
    if (!read.ok()) return Fail(read.status());
    tags = *std::move(read);
  }
  client::DeviceSpool spool(absl::GetFlag(FLAGS_spool));
  auto report = client::SendWithSpool(*in.client, spool, tags,
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

}  // namespace noqueue::cli
