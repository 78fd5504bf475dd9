// EventWatch: the stream of a schedule's events, for a venue's WatchSchedule
// and an attendee's WatchMyConvocation.
#ifndef NOQUEUE_SERVER_STREAMS_EVENT_WATCH_H_
#define NOQUEUE_SERVER_STREAMS_EVENT_WATCH_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "noqueue/v1/live.pb.h"
#include "server/live/live_days.h"
#include "server/store/store.h"

namespace noqueue::server {

// The events of a schedule (or only those of one attendee: their own and the
// schedule-wide ones) after `resume_after`. What was stored before the watch
// caught up is read from the store, a page at a time; from then on each
// commit's events come with the wake (LiveDays::Watcher), with no store read.
// It holds at most kMaxBehind events for its client: past that (a big
// commit, a client that reads slowly) it goes back to reading the store after
// what it has sent; a watcher that falls kMaxBehind events further behind (a
// client that does not read) is ended with RESOURCE_EXHAUSTED, naming the seq
// to resume after.
class EventWatch final : public grpc::ServerWriteReactor<v1::ScheduleEvent>,
                         public LiveDays::Watcher {
 public:
  static constexpr int kPage = 64;
  static constexpr int64_t kMaxBehind = 256;

  // Who opens a watch: `holder` names their credential, which may hold at
  // most `limit` watches at once (empty: not counted).
  struct Holder {
    std::string name;
    int limit = 0;
  };

  // Validates the request (the schedule exists and has reached
  // resume_after) and starts the stream, or answers the error.
  static grpc::ServerWriteReactor<v1::ScheduleEvent>* Start(
      LiveDays* live, Store* store, const std::string& schedule_id,
      std::string attendee_id, int64_t resume_after, const Holder& holder);

  void Wake(absl::Span<const v1::ScheduleEvent* const> events) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  EventWatch(LiveDays* live, Store* store, std::string schedule_id,
             std::string attendee_id, int64_t resume_after)
      : live_(live),
        store_(store),
        schedule_id_(std::move(schedule_id)),
        attendee_id_(std::move(attendee_id)),
        read_after_(resume_after),
        sent_(resume_after) {}
  // Whether this watcher streams `e`.
  bool Mine(const v1::ScheduleEvent& e) const;
  // Writes the next event, reading the store while not caught up.
  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the stream: its client is too far behind.
  void FinishBehind() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  LiveDays* const live_;
  Store* const store_;
  const std::string schedule_id_;
  const std::string attendee_id_;  // empty: every event
  absl::Mutex mu_;
  std::deque<v1::ScheduleEvent> page_ ABSL_GUARDED_BY(mu_);  // to write
  // The last of the schedule's events read or taken from a wake.
  int64_t read_after_ ABSL_GUARDED_BY(mu_);
  int64_t sent_ ABSL_GUARDED_BY(mu_);
  // Whether the store has been read to its end: the wakes then feed page_.
  bool caught_up_ ABSL_GUARDED_BY(mu_) = false;
  // The seqs of this watcher's events woken while not caught up: in the
  // store, not read yet (at most kMaxBehind).
  std::deque<int64_t> unread_ ABSL_GUARDED_BY(mu_);
  bool too_far_behind_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  v1::ScheduleEvent current_ ABSL_GUARDED_BY(mu_);
};

// A server stream that ends at once with `status`.
grpc::ServerWriteReactor<v1::ScheduleEvent>* FinishedWatch(
    const absl::Status& status);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STREAMS_EVENT_WATCH_H_
