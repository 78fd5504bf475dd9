#include "server/live_service.h"

#include "absl/strings/str_cat.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "proto/base/wire_time.h"
#include "server/validation.h"

namespace noqueue::server {
namespace {

class Finished final : public grpc::ServerWriteReactor<v1::ScheduleEvent> {
 public:
  explicit Finished(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

// Desk counts a venue may declare.
constexpr int kMaxServicePoints = 1000;
// How far from now a desk change may take effect.
constexpr absl::Duration kDeskChangeReach = absl::Hours(24);
// The schedules a desk change applies to: those whose window meets
// [effective_from, effective_from + this).
constexpr absl::Duration kDeskChangeSpan = absl::Hours(12);

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

grpc::ServerWriteReactor<v1::ScheduleEvent>* LiveServiceImpl::WatchSchedule(
    grpc::CallbackServerContext* ctx, const v1::WatchScheduleRequest* request) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishedWatch(st);
  }
  absl::StatusOr<Caller> caller = access_->Admit(*ctx, Rpc::kWatchSchedule);
  if (!caller.ok()) return FinishedWatch(caller.status());
  absl::Status st = ValidateId("schedule_id", request->schedule_id());
  if (!st.ok()) return FinishedWatch(st);
  absl::StatusOr<v1::Schedule> s = store_->GetSchedule(request->schedule_id());
  st = access_->Reveal(*caller, s.status(), s.ok() ? s->venue_id() : "",
                       "schedule_id");
  if (!st.ok()) return FinishedWatch(st);
  return EventWatch::Start(live_, store_, request->schedule_id(), "",
                           request->resume_after());
}

grpc::ServerUnaryReactor* LiveServiceImpl::UpdateServicePoints(
    grpc::CallbackServerContext* ctx,
    const v1::UpdateServicePointsRequest* request,
    v1::UpdateServicePointsResponse* response) {
  if (absl::Status st = ParsedRequest(*request); !st.ok()) {
    return FinishUnary(ctx, st);
  }
  absl::StatusOr<Caller> caller =
      access_->Admit(*ctx, Rpc::kUpdateServicePoints, request->venue_id());
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  absl::Status st = ValidateId("venue_id", request->venue_id());
  if (!st.ok()) return FinishUnary(ctx, st);
  if (request->service_points() < 0 ||
      request->service_points() > kMaxServicePoints) {
    return FinishUnary(
        ctx, absl::InvalidArgumentError(absl::StrCat(
                 "service_points: must be 0 to ", kMaxServicePoints, ", got ",
                 request->service_points())));
  }
  const absl::Time now = live_->clock().Now();
  absl::Time from = now;
  if (request->has_effective_from()) {
    if (!IsValidTimestamp(request->effective_from())) {
      return FinishUnary(ctx, absl::InvalidArgumentError(
                                  "effective_from: not a valid timestamp"));
    }
    from = ToTime(request->effective_from());
    if (absl::AbsDuration(from - now) > kDeskChangeReach) {
      return FinishUnary(ctx,
                         absl::InvalidArgumentError(
                             "effective_from: must be within 24 hours of now"));
    }
  }
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
  if (!venue.ok()) return FinishUnary(ctx, venue.status());
  absl::StatusOr<std::vector<std::string>> ids = store_->SchedulesBetween(
      request->venue_id(), from, from + kDeskChangeSpan);
  if (!ids.ok()) return FinishUnary(ctx, ids.status());
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (ids->empty()) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  std::vector<v1::ScheduleEvent> events;
  for (const std::string& id : *ids) {
    response->add_schedule_ids(id);
    v1::ScheduleEvent e;
    e.set_schedule_id(id);
    e.set_kind(v1::EVENT_SERVICE_POINTS_CHANGED);
    *e.mutable_at() = ToTimestamp(now);
    e.set_service_points(request->service_points());
    *e.mutable_effective_from() = ToTimestamp(from);
    events.push_back(std::move(e));
  }
  live_->Append(std::move(events), "a desk change",
                [reactor](absl::StatusOr<std::vector<v1::ScheduleEvent>> r) {
                  reactor->Finish(ToGrpcStatus(r.status()));
                });
  return reactor;
}

}  // namespace noqueue::server
