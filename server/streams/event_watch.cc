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
    std::string attendee_id, int64_t resume_after, const Holder& holder) {
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
  if (absl::Status st = live->Subscribe(schedule_id, watch->attendee_id_, watch,
                                        holder.name, holder.limit);
      !st.ok()) {
    watch->Unref();
    return FinishedWatch(st);
  }
  absl::MutexLock lock(&watch->mu_);
  watch->Pump();
  return watch;
}

bool EventWatch::Mine(const v1::ScheduleEvent& e) const {
  // An attendee sees their own events and the schedule-wide ones.
  return attendee_id_.empty() || e.attendee_id() == attendee_id_ ||
         e.attendee_id().empty();
}

void EventWatch::Wake(absl::Span<const v1::ScheduleEvent* const> events) {
  absl::MutexLock lock(&mu_);
  if (finished_ || too_far_behind_) return;
  for (const v1::ScheduleEvent* e : events) {
    if (e->seq() <= read_after_ || !Mine(*e)) continue;  // read, or not ours
    if (caught_up_) {
      read_after_ = e->seq();
      page_.push_back(*e);
    } else {
      unread_.push_back(e->seq());  // the store has it: read in turn
    }
  }
  if (caught_up_) {
    Pump();  // from memory: no store read on this thread
    if (page_.size() > static_cast<size_t>(kMaxBehind)) {
      // More than it may hold (a big commit, or a client that reads
      // slowly): the store has them, read in turn after what is in flight.
      page_.clear();
      caught_up_ = false;
      read_after_ = writing_ ? current_.seq() : sent_;
    }
  }
  if (unread_.size() > static_cast<size_t>(kMaxBehind)) {
    too_far_behind_ = true;
    page_.clear();
    unread_.clear();
    if (!writing_) FinishBehind();
  }
}

void EventWatch::Pump() {
  if (finished_ || writing_) return;
  while (page_.empty() && !caught_up_) {
    absl::StatusOr<std::vector<v1::ScheduleEvent>> events =
        store_->ListScheduleEvents(schedule_id_, read_after_, kPage);
    if (!events.ok()) {
      finished_ = true;
      Finish(ToGrpcStatus(events.status()));
      return;
    }
    for (v1::ScheduleEvent& e : *events) {
      read_after_ = e.seq();
      if (Mine(e)) page_.push_back(std::move(e));
    }
    while (!unread_.empty() && unread_.front() <= read_after_) {
      unread_.pop_front();
    }
    if (events->size() < static_cast<size_t>(kPage)) {
      caught_up_ = true;  // the wakes bring the rest
      unread_.clear();
    }
  }
  if (page_.empty()) return;
  current_ = std::move(page_.front());
  page_.pop_front();
  writing_ = true;
  StartWrite(&current_);
}

void EventWatch::FinishBehind() {
  finished_ = true;
  Finish(ToGrpcStatus(absl::ResourceExhaustedError(
      absl::StrCat("the watcher fell more than ", kMaxBehind,
                   " events behind; watch again with resume_after=", sent_))));
}

void EventWatch::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (finished_) return;
  if (!ok) {  // the client is gone
    finished_ = true;
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away"));
    return;
  }
  sent_ = current_.seq();
  if (too_far_behind_) return FinishBehind();
  Pump();
}

void EventWatch::OnCancel() {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  finished_ = true;
  Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the watch was cancelled"));
}

void EventWatch::OnDone() {
  live_->Unsubscribe(schedule_id_, attendee_id_, this);
  Unref();
}

}  // namespace noqueue::server
