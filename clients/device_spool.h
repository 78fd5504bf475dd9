// The tagging device's outbox: tags are written to a local file before they
// are sent, and leave it only once the server has acknowledged them, so that
// a device which loses the server keeps its tags and resends them later
// (event ids make resending safe: the server counts a tag once).
//
//   DeviceSpool spool("var/device-gate-1.csv");
//   absl::StatusOr<DeviceReport> r =
//       SendWithSpool(client, spool, new_tags, absl::Minutes(1));
#ifndef NOQUEUE_CLIENTS_DEVICE_SPOOL_H_
#define NOQUEUE_CLIENTS_DEVICE_SPOOL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/noqueue_client.h"

namespace noqueue::client {

class DeviceSpool {
 public:
  explicit DeviceSpool(std::string path) : path_(std::move(path)) {}

  // Tags waiting for an ack (none when the file does not exist).
  absl::StatusOr<std::vector<v1::ArrivalEvent>> Load() const;
  // Replaces the spool's content, atomically (write, fsync, rename).
  absl::Status Save(const std::vector<v1::ArrivalEvent>& pending) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct DeviceReport {
  int accepted = 0;
  int duplicates = 0;
  std::vector<v1::ArrivalAck> rejected;  // will not be resent
  int pending = 0;                       // still in the spool
  int attempts = 0;
};

// Adds `new_events` to the spool, then streams everything the spool holds
// until all of it is acknowledged or `retry_for` has passed, backing off
// between attempts while the server cannot be reached. Rejected tags leave
// the spool (resending would not help) and are reported.
absl::StatusOr<DeviceReport> SendWithSpool(
    NoQueueClient& client, const DeviceSpool& spool,
    const std::vector<v1::ArrivalEvent>& new_events, absl::Duration retry_for);

}  // namespace noqueue::client

#endif  // NOQUEUE_CLIENTS_DEVICE_SPOOL_H_
