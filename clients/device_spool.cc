#include "clients/device_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "clients/csv_io.h"

namespace noqueue::client {

absl::StatusOr<std::vector<v1::ArrivalEvent>> DeviceSpool::Load() const {
  if (!std::filesystem::exists(path_)) return std::vector<v1::ArrivalEvent>();
  absl::StatusOr<std::string> text = ReadFile(path_);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<v1::ArrivalEvent>> events = ArrivalsFromCsv(*text);
  if (!events.ok()) {
    return absl::DataLossError(
        absl::StrCat("spool ", path_, ": ", events.status().message()));
  }
  return events;
}

absl::Status DeviceSpool::Save(
    const std::vector<v1::ArrivalEvent>& pending) const {
  std::filesystem::path p(path_);
  if (p.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
  }
  const std::string tmp = path_ + ".tmp";
  const std::string text = ArrivalsToCsv(pending);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return absl::UnavailableError(absl::StrCat(tmp, ": cannot write"));
  bool ok = ::write(fd, text.data(), text.size()) ==
                static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat(path_, ": cannot save spool"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DeviceReport> SendWithSpool(
    NoQueueClient& client, const DeviceSpool& spool,
    const std::vector<v1::ArrivalEvent>& new_events, absl::Duration retry_for) {
  absl::StatusOr<std::vector<v1::ArrivalEvent>> loaded = spool.Load();
  if (!loaded.ok()) return loaded.status();
  std::vector<v1::ArrivalEvent> pending = *std::move(loaded);
  absl::flat_hash_set<std::string> ids;
  for (const auto& e : pending) ids.insert(e.event_id());
  for (const auto& e : new_events) {
    if (ids.insert(e.event_id()).second) pending.push_back(e);
  }
  absl::Status saved = spool.Save(pending);
  if (!saved.ok()) return saved;

  DeviceReport report;
  const absl::Time give_up = absl::Now() + retry_for;
  absl::Duration backoff = absl::Milliseconds(200);
  while (!pending.empty()) {
    ++report.attempts;
    std::vector<v1::ArrivalAck> acks;
    absl::Status st = client.StreamArrivals(pending, &acks);
    // Acks arrive in tag order: the first acks.size() tags are settled.
    for (const auto& ack : acks) {
      if (ack.status() == v1::ACCEPTED) ++report.accepted;
      if (ack.status() == v1::DUPLICATE) ++report.duplicates;
      if (ack.status() == v1::REJECTED) report.rejected.push_back(ack);
    }
    pending.erase(pending.begin(),
                  pending.begin() + std::min(acks.size(), pending.size()));
    saved = spool.Save(pending);
    if (!saved.ok()) return saved;
    if (st.ok() || pending.empty()) break;
    if (absl::Now() + backoff > give_up) break;
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(backoff));
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
  report.pending = static_cast<int>(pending.size());
  return report;
}

}  // namespace noqueue::client
