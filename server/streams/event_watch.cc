#include "server/streams/event_watch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"

namespace noqueue::server {
namespace {

class Finished final : public grpc::ServerWriteReactor<v1::ScheduleEvent> {
 public:
  explicit Finished(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::ScheduleEvent>* FinishedWatch(
    const absl::Status& status) {
  return new Finished(status);
}

grpc::ServerWriteReactor<v1::ScheduleEvent>* EventWatch::Start(
    LiveDays* live, Store* store, const std::string& schedule_id,
    std::string attendee_id, int64_t resume_after) {
  if (resume_after < 0) {
    return FinishedWatch(
        absl::InvalidArgumentError("resume_after: must be >= 0"));
  }
  absl::StatusOr<int64_t> last = store->LastScheduleEventSeq(schedule_id);
  if (!last.ok()) return FinishedWatch(last.status());
  if (resume_after > *last) {
    return FinishedWatch(absl::OutOfRangeError(
        absl::StrCat("resume_after: ", resume_after,
                     " is past the schedule's last event (", *last, ")")));
  }
  auto* watch = new EventWatch(live, store, schedule_id, std::move(attendee_id),
                               resume_after);
  live->Subscribe(schedule_id, watch);
  watch->Pump();
  return watch;
}

void EventWatch::Wake() {
  {
    absl::MutexLock lock(&mu_);
    ++behind_;
  }
  Pump();
}

void EventWatch::Pump() {
  absl::MutexLock lock(&mu_);
  if (finished_ || writing_) return;
  if (page_.empty()) {
    absl::StatusOr<std::vector<v1::ScheduleEvent>> events =
        store_->ListScheduleEvents(schedule_id_, read_after_, kPage);
    if (!events.ok()) {
      finished_ = true;
      Finish(ToGrpcStatus(events.status()));
      return;
    }
    for (v1::ScheduleEvent& e : *events) {
      read_after_ = e.seq();
      // An attendee sees their own events and the schedule-wide ones.
      if (attendee_id_.empty() || e.attendee_id() == attendee_id_ ||
          e.attendee_id().empty()) {
        page_.push_back(std::move(e));
      }
    }
    if (page_.empty()) {
      behind_ = 0;  // caught up with the store
      return;
    }
  }
  current_ = std::move(page_.front());
  page_.pop_front();
  writing_ = true;
  StartWrite(&current_);
}

void EventWatch::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (finished_) return;
    if (!ok) {  // the client is gone
      finished_ = true;
      Finish(
          grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away"));
      return;
    }
    sent_ = current_.seq();
    if (behind_ > kMaxBehind) {
      finished_ = true;
      Finish(ToGrpcStatus(absl::ResourceExhaustedError(absl::StrCat(
          "the watcher fell more than ", kMaxBehind,
          " events behind; watch again with resume_after=", sent_))));
      return;
    }
  }
  Pump();
}

void EventWatch::OnCancel() {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  finished_ = true;
  Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the watch was cancelled"));
}

void EventWatch::OnDone() {
  live_->Unsubscribe(schedule_id_, this);
  Unref();
}

}  // namespace noqueue::server
