#include "server/services.h"

#include <charconv>
#include <map>
#include <mutex>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/proto_time.h"
#include "server/schedule_builder.h"

namespace noqueue::server {
namespace {

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// Feeds committed results to the model (outcomes) and to the crowd
// estimator (measured waits and services).
void LearnFrom(LearningLoop* learning, CrowdLoop* crowd,
               const std::vector<EventResult>& results) {
  std::vector<LearnableEvent> learnable;
  for (const EventResult& r : results) {
    if (r.learnable) learnable.push_back(*r.learnable);
  }
  learning->Learn(learnable);
  crowd->Observe(results);
}

v1::ArrivalAck ToAck(const std::string& event_id, const EventResult& r) {
  v1::ArrivalAck ack;
  ack.set_event_id(event_id);
  ack.set_status(r.disposition);
  ack.set_code(static_cast<int>(r.status.code()));
  ack.set_message(std::string(r.status.message()));
  return ack;
}

v1::ArrivalAck Rejected(const std::string& event_id, const absl::Status& st) {
  EventResult r;
  r.disposition = v1::REJECTED;
  r.status = st;
  return ToAck(event_id, r);
}

}  // namespace

std::string NewId(absl::string_view prefix) {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%s%016x%08x", prefix, absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint32_t>(gen));
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// ---------------------------------------------------------------- venues

grpc::ServerUnaryReactor* VenueServiceImpl::UpsertVenue(
    grpc::CallbackServerContext* ctx, const v1::UpsertVenueRequest* request,
    v1::UpsertVenueResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!request->has_venue()) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError("venue: is required")));
    return reactor;
  }
  absl::Status valid = ValidateVenue(request->venue());
  if (!valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  v1::Venue venue = request->venue();
  venue.clear_create_time();
  venue.clear_update_time();
  store_->UpsertVenue(std::move(venue), NowMicros(),
                      [reactor, response](absl::StatusOr<UpsertVenueResult> r) {
                        if (r.ok()) {
                          *response->mutable_venue() = std::move(r->venue);
                          response->set_created(r->created);
                        }
                        reactor->Finish(ToGrpcStatus(r.status()));
                      });
  return reactor;
}

grpc::ServerUnaryReactor* VenueServiceImpl::GetVenue(
    grpc::CallbackServerContext* ctx, const v1::GetVenueRequest* request,
    v1::GetVenueResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status st = ValidateId("venue_id", request->venue_id());
  if (st.ok()) {
    absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
    if (venue.ok()) *response->mutable_venue() = *std::move(venue);
    st = venue.status();
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

// ------------------------------------------------------------ scheduling

grpc::ServerUnaryReactor* SchedulingServiceImpl::CreateSchedule(
    grpc::CallbackServerContext* ctx, const v1::CreateScheduleRequest* request,
    v1::CreateScheduleResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto fail = [reactor](const absl::Status& st) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  };
  absl::Status valid = ValidateCreateSchedule(*request, limits_);
  if (!valid.ok()) return fail(valid);
  if (!request->request_id().empty()) {
    absl::StatusOr<std::optional<v1::Schedule>> existing =
        store_->FindScheduleByRequest(request->venue_id(),
                                      request->request_id());
    if (!existing.ok()) return fail(existing.status());
    if (existing->has_value()) {
      *response->mutable_schedule() = std::move(**existing);
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
  }
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
  if (!venue.ok()) return fail(venue.status());
  const absl::Time now = absl::Now();
  absl::StatusOr<NewSchedule> built =
      BuildSchedule(*request, *venue, *learning_,
                    crowd_->ForPlanning(*venue, absl::ToUnixMicros(now)), now,
                    NewId("sch_"));
  if (!built.ok()) return fail(built.status());
  store_->InsertSchedule(std::move(*built),
                         [reactor, response](absl::StatusOr<v1::Schedule> r) {
                           if (r.ok()) {
                             *response->mutable_schedule() = *std::move(r);
                           }
                           reactor->Finish(ToGrpcStatus(r.status()));
                         });
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::GetSchedule(
    grpc::CallbackServerContext* ctx, const v1::GetScheduleRequest* request,
    v1::GetScheduleResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status st = ValidateId("schedule_id", request->schedule_id());
  if (st.ok()) {
    absl::StatusOr<v1::Schedule> s = store_->GetSchedule(request->schedule_id());
    if (s.ok()) *response->mutable_schedule() = *std::move(s);
    st = s.status();
  }
  reactor->Finish(ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* SchedulingServiceImpl::ListSchedules(
    grpc::CallbackServerContext* ctx, const v1::ListSchedulesRequest* request,
    v1::ListSchedulesResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = [reactor](const absl::Status& st) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  };
  absl::Status st = ValidateId("venue_id", request->venue_id());
  if (!st.ok()) return finish(st);
  if (request->page_size() < 0 || request->page_size() > 1000) {
    return finish(absl::InvalidArgumentError(
        "page_size: must be between 0 and 1000 (0 means 50)"));
  }
  int64_t after = 0;
  const std::string& token = request->page_token();
  if (!token.empty()) {
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(),
                                     after);
    if (ec != std::errc() || end != token.data() + token.size() || after < 0) {
      return finish(absl::InvalidArgumentError(
          "page_token: is not a token from a previous ListSchedules"));
    }
  }
  absl::StatusOr<v1::Venue> venue = store_->GetVenue(request->venue_id());
  if (!venue.ok()) return finish(venue.status());
  absl::StatusOr<SchedulePage> page = store_->ListSchedules(
      request->venue_id(), after,
      request->page_size() == 0 ? 50 : request->page_size());
  if (!page.ok()) return finish(page.status());
  for (v1::Schedule& s : page->schedules) {
    *response->add_schedules() = std::move(s);
  }
  if (page->next_after > 0) {
    response->set_next_page_token(absl::StrCat(page->next_after));
  }
  return finish(absl::OkStatus());
}

// -------------------------------------------------------------- arrivals

namespace {

// One device's stream. Tags are stored as they come (many in flight at
// once); acks go back in the tags' order, each once its tag has committed.
// The reactor deletes itself when gRPC is done with it *and* no store
// callback still refers to it.
class ArrivalStream final
    : public grpc::ServerBidiReactor<v1::ArrivalEvent, v1::ArrivalAck> {
 public:
  static constexpr uint64_t kMaxUnacked = 4096;

  ArrivalStream(Store* store, LearningLoop* learning, CrowdLoop* crowd)
      : store_(store), learning_(learning), crowd_(crowd) {
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::unique_lock lock(mu_);
      reads_done_ = true;
      Pump(lock);
      return;
    }
    uint64_t index;
    {
      std::lock_guard lock(mu_);
      index = next_index_++;
    }
    v1::ArrivalEvent event = std::move(incoming_);
    incoming_.Clear();
    absl::Status valid = ValidateArrivalEvent("event", event);
    if (!valid.ok()) {
      std::unique_lock lock(mu_);
      ready_.emplace(index, Rejected(event.event_id(), valid));
      Pump(lock);
    } else {
      // Tags that arrive while this stream's previous ones are being
      // committed wait and go to the store together, as one job.
      std::unique_lock lock(mu_);
      ++in_flight_;
      pending_.push_back(std::move(event));
      pending_index_.push_back(index);
      if (!storing_) {
        storing_ = true;
        StorePending(lock);
      }
    }
    std::unique_lock lock(mu_);
    if (next_index_ - written_ < kMaxUnacked) {
      lock.unlock();
      StartRead(&incoming_);
    } else {
      read_paused_ = true;
    }
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mu_);
    writing_ = false;
    ++written_;
    if (!ok) write_failed_ = true;
    bool resume = read_paused_ && next_index_ - written_ < kMaxUnacked &&
                  !write_failed_;
    if (resume) read_paused_ = false;
    Pump(lock);
    if (resume) StartRead(&incoming_);
  }

  void OnCancel() override {
    std::unique_lock lock(mu_);
    cancelled_ = true;
    Pump(lock);
  }

  void OnDone() override {
    std::unique_lock lock(mu_);
    done_ = true;
    Pump(lock);
  }

 private:
  // Sends the pending tags to the store as one non-atomic job (each tag
  // stored or rejected on its own); when they are committed, acks them and
  // sends what has come meanwhile. Called with mu_ held and storing_ set;
  // releases the lock.
  void StorePending(std::unique_lock<std::mutex>& lock) {
    std::vector<v1::ArrivalEvent> events = std::move(pending_);
    std::vector<uint64_t> indices = std::move(pending_index_);
    pending_.clear();
    pending_index_.clear();
    lock.unlock();
    std::vector<std::string> ids;
    ids.reserve(events.size());
    for (const v1::ArrivalEvent& e : events) ids.push_back(e.event_id());
    store_->RecordEvents(
        std::move(events), /*atomic=*/false, NowMicros(),
        [this, indices = std::move(indices), ids = std::move(ids)](
            absl::StatusOr<std::vector<EventResult>> r) {
          if (r.ok()) LearnFrom(learning_, crowd_, *r);
          std::unique_lock lock(mu_);
          if (r.ok()) {
            for (size_t i = 0; i < indices.size(); ++i) {
              ready_.emplace(indices[i], ToAck(ids[i], (*r)[i]));
            }
          } else if (store_failure_.ok()) {
            // The store could not take them (closed, or a storage error):
            // they are not the device's fault, so they are not rejected.
            // The stream ends after the acks before them; the device
            // resends what was not acknowledged.
            store_failure_ = r.status();
            first_unstored_ = indices.front();
          }
          in_flight_ -= static_cast<int>(indices.size());
          if (!pending_.empty()) {
            // Still storing: the callback below acks and pumps.
            ++in_flight_;  // keeps this alive across the call
            StorePending(lock);
            lock.lock();
            --in_flight_;
          } else {
            storing_ = false;
          }
          Pump(lock);
        });
  }

  // Decides what to do next under the lock, does it outside. Deletes `this`
  // when nothing refers to it any more.
  void Pump(std::unique_lock<std::mutex>& lock) {
    if (done_) {
      if (in_flight_ == 0) {
        lock.unlock();
        delete this;
      }
      return;
    }
    if (finished_) return;
    if (cancelled_ || write_failed_) {
      finished_ = true;
      lock.unlock();
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"));
      return;
    }
    if (!store_failure_.ok() && !writing_ && written_ >= first_unstored_) {
      finished_ = true;
      const absl::Status failure = store_failure_;
      lock.unlock();
      Finish(ToGrpcStatus(failure));
      return;
    }
    if (!writing_) {
      auto it = ready_.find(written_);
      if (it != ready_.end()) {
        outgoing_ = std::move(it->second);
        ready_.erase(it);
        writing_ = true;
        // When the next ack is ready too, let gRPC send them together.
        grpc::WriteOptions options;
        if (ready_.contains(written_ + 1)) options.set_buffer_hint();
        lock.unlock();
        StartWrite(&outgoing_, options);
        return;
      }
      if (reads_done_ && written_ == next_index_) {
        finished_ = true;
        lock.unlock();
        Finish(grpc::Status::OK);
      }
    }
  }

  Store* const store_;
  LearningLoop* const learning_;
  CrowdLoop* const crowd_;
  v1::ArrivalEvent incoming_;  // touched by the read path only

  std::mutex mu_;
  uint64_t next_index_ = 0;  // tags read so far
  std::map<uint64_t, v1::ArrivalAck> ready_;
  std::vector<v1::ArrivalEvent> pending_;  // valid tags not yet stored
  std::vector<uint64_t> pending_index_;    // their positions in the stream
  bool storing_ = false;                   // a store job is running
  // Set when a store job failed as a whole: the stream ends once the acks
  // before its first tag are written.
  absl::Status store_failure_;
  uint64_t first_unstored_ = 0;
  v1::ArrivalAck outgoing_;
  uint64_t written_ = 0;
  int in_flight_ = 0;
  bool writing_ = false;
  bool reads_done_ = false;
  bool read_paused_ = false;
  bool write_failed_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
  bool done_ = false;
};

}  // namespace

grpc::ServerBidiReactor<v1::ArrivalEvent, v1::ArrivalAck>*
ArrivalServiceImpl::StreamArrivals(grpc::CallbackServerContext* ctx) {
  return new ArrivalStream(store_, learning_, crowd_);
}

grpc::ServerUnaryReactor* ArrivalServiceImpl::RecordArrivals(
    grpc::CallbackServerContext* ctx, const v1::RecordArrivalsRequest* request,
    v1::RecordArrivalsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto fail = [reactor](const absl::Status& st) {
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  };
  if (request->events_size() == 0) {
    return fail(absl::InvalidArgumentError("events: must not be empty"));
  }
  if (request->events_size() > limits_.max_events_per_batch) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("events: ", request->events_size(),
                     " exceeds the limit of ", limits_.max_events_per_batch,
                     " per call")));
  }
  for (int i = 0; i < request->events_size(); ++i) {
    absl::Status st = ValidateArrivalEvent(absl::StrCat("events[", i, "]"),
                                           request->events(i));
    if (!st.ok()) return fail(st);
  }
  std::vector<v1::ArrivalEvent> events(request->events().begin(),
                                       request->events().end());
  LearningLoop* learning = learning_;
  CrowdLoop* crowd = crowd_;
  store_->RecordEvents(
      std::move(events), /*atomic=*/true, NowMicros(),
      [reactor, request, response, learning,
       crowd](absl::StatusOr<std::vector<EventResult>> r) {
        if (r.ok()) {
          LearnFrom(learning, crowd, *r);
          for (size_t i = 0; i < r->size(); ++i) {
            *response->add_acks() =
                ToAck(request->events(static_cast<int>(i)).event_id(), (*r)[i]);
          }
        }
        reactor->Finish(ToGrpcStatus(r.status()));
      });
  return reactor;
}

}  // namespace noqueue::server
