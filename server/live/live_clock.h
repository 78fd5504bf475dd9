// LiveClock: "now" for the live day's decisions (the minimum notice, which
// schedules run, the periodic tick). The wall clock in production; the
// replay clock (--clock=events) makes now the latest observed_at of the tags
// accepted so far, never going back, so that a whole day can be played
// through the real API in seconds.
#ifndef NOQUEUE_SERVER_LIVE_LIVE_CLOCK_H_
#define NOQUEUE_SERVER_LIVE_LIVE_CLOCK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace noqueue::server {

class LiveClock {
 public:
  enum class Kind { kWall, kEvents };
  explicit LiveClock(Kind kind = Kind::kWall) : kind_(kind) {}
  // "wall" or "events"; INVALID_ARGUMENT otherwise.
  static absl::StatusOr<Kind> Parse(const std::string& name);

  Kind kind() const { return kind_; }
  // Wall: absl::Now(). Events: the latest time observed (the Unix epoch
  // before any).
  absl::Time Now() const {
    if (kind_ == Kind::kWall) return absl::Now();
    absl::MutexLock lock(&mu_);
    return latest_;
  }
  // A tag observed at `t` was accepted (moves the events clock forward).
  void Observe(absl::Time t) {
    if (kind_ == Kind::kWall) return;
    absl::MutexLock lock(&mu_);
    if (t > latest_) latest_ = t;
  }

 private:
  const Kind kind_;
  mutable absl::Mutex mu_;
  absl::Time latest_ ABSL_GUARDED_BY(mu_) = absl::UnixEpoch();
};

inline absl::StatusOr<LiveClock::Kind> LiveClock::Parse(
    const std::string& name) {
  if (name == "wall") return Kind::kWall;
  if (name == "events") return Kind::kEvents;
  return absl::InvalidArgumentError("--clock: must be \"wall\" or \"events\"");
}

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_LIVE_LIVE_CLOCK_H_
