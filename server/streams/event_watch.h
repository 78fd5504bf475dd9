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
#include "noqueue/v1/live.pb.h"
#include "server/live/live_days.h"
#include "server/store/store.h"

namespace noqueue::server {

// The events of a schedule (or only those of one attendee) after
// `resume_after`, read from the store a page at a time, then as they are
// stored (an attendee's: their own and the schedule-wide ones). It holds
// at most one page in memory; a watcher that falls more
// than kMaxBehind events behind what is stored is ended with
// RESOURCE_EXHAUSTED, naming the seq to resume after.
class EventWatch final : public grpc::ServerWriteReactor<v1::ScheduleEvent>,
                         public LiveDays::Watcher {
 public:
  static constexpr int kPage = 64;
  static constexpr int64_t kMaxBehind = 256;

  // Validates the request (the schedule exists and has reached
  // resume_after) and starts the stream, or answers the error.
  static grpc::ServerWriteReactor<v1::ScheduleEvent>* Start(
      LiveDays* live, Store* store, const std::string& schedule_id,
      std::string attendee_id, int64_t resume_after);

  void Wake() override;
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
  // Writes the next event, reading a page when none is buffered.
  void Pump();

  LiveDays* const live_;
  Store* const store_;
  const std::string schedule_id_;
  const std::string attendee_id_;  // empty: every event
  absl::Mutex mu_;
  std::deque<v1::ScheduleEvent> page_ ABSL_GUARDED_BY(mu_);
  int64_t read_after_ ABSL_GUARDED_BY(mu_);
  int64_t sent_ ABSL_GUARDED_BY(mu_);
  int64_t behind_ ABSL_GUARDED_BY(mu_) = 0;  // wakes not yet caught up
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  v1::ScheduleEvent current_ ABSL_GUARDED_BY(mu_);
};

// A server stream that ends at once with `status`.
grpc::ServerWriteReactor<v1::ScheduleEvent>* FinishedWatch(
    const absl::Status& status);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STREAMS_EVENT_WATCH_H_
