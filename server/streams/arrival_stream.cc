#include "server/streams/arrival_stream.h"

#include <utility>

#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "server/wire/validation.h"

namespace noqueue::server {

ArrivalStream::ArrivalStream(Store* store, TagConsumers consumers,
                             VenueScope scope, std::atomic<int>* open)
    : store_(store),
      consumers_(consumers),
      scope_(std::move(scope)),
      open_(open) {
  StartRead(&incoming_);
}

ArrivalStream::~ArrivalStream() {
  if (open_ != nullptr) open_->fetch_sub(1);
}

void ArrivalStream::OnReadDone(bool ok) {
  mu_.Lock();
  if (!ok) {
    reads_done_ = true;
    return Pump();
  }
  const uint64_t index = read_++;
  v1::ArrivalEvent event = std::move(incoming_);
  incoming_.Clear();
  absl::Status valid = ParsedRequest(event, "event");
  if (valid.ok()) valid = ValidateArrivalEvent("event", event);
  if (valid.ok()) {
    ++in_flight_;
    pending_.push_back(std::move(event));
    pending_index_.push_back(index);
  } else {
    EventResult rejected;
    rejected.disposition = v1::REJECTED;
    rejected.status = valid;
    if (consumers_.counters != nullptr) consumers_.counters->Count(rejected);
    ready_.emplace(index, ToAck(event.event_id(), rejected));
  }
  const bool read_more = ShouldRead();
  if (!read_more) read_paused_ = true;
  if (valid.ok() && !storing_) {
    storing_ = true;
    StorePending();
  } else {
    Pump();
  }
  if (read_more) StartRead(&incoming_);
}

void ArrivalStream::OnWriteDone(bool ok) {
  mu_.Lock();
  writing_ = false;
  ++written_;
  if (!ok) write_failed_ = true;
  const bool resume = read_paused_ && ShouldRead() && !write_failed_;
  if (resume) read_paused_ = false;
  Pump();
  if (resume) StartRead(&incoming_);
}

void ArrivalStream::OnCancel() {
  mu_.Lock();
  cancelled_ = true;
  Pump();
}

void ArrivalStream::OnDone() {
  mu_.Lock();
  phase_ = Phase::kDone;
  Pump();
}

void ArrivalStream::StorePending() {
  std::vector<v1::ArrivalEvent> events = std::move(pending_);
  std::vector<uint64_t> indices = std::move(pending_index_);
  pending_.clear();
  pending_index_.clear();
  mu_.Unlock();
  std::vector<std::string> ids;
  ids.reserve(events.size());
  for (const v1::ArrivalEvent& e : events) ids.push_back(e.event_id());
  store_->RecordEvents(
      std::move(events), /*atomic=*/false, absl::Now(), scope_,
      [this, indices = std::move(indices),
       ids = std::move(ids)](absl::StatusOr<std::vector<EventResult>> r) {
        Stored(indices, ids, std::move(r));
      });
}

void ArrivalStream::Stored(const std::vector<uint64_t>& indices,
                           const std::vector<std::string>& ids,
                           absl::StatusOr<std::vector<EventResult>> r) {
  if (r.ok()) consumers_.Consume(*r);
  mu_.Lock();
  if (r.ok()) {
    for (size_t i = 0; i < indices.size(); ++i) {
      ready_.emplace(indices[i], ToAck(ids[i], (*r)[i]));
    }
  } else if (store_failure_.ok()) {
    // The store could not take them (closed, or a storage error): they are
    // not the device's fault, so they are not rejected. The stream ends
    // after the acks before them; the device resends what was not
    // acknowledged.
    store_failure_ = r.status();
    first_unstored_ = indices.front();
  }
  in_flight_ -= static_cast<int>(indices.size());
  if (!pending_.empty()) {
    ++in_flight_;  // keeps this alive across the call
    StorePending();
    mu_.Lock();
    --in_flight_;
  } else {
    storing_ = false;
  }
  Pump();
}

void ArrivalStream::FinishLocked(const grpc::Status& status) {
  phase_ = Phase::kFinished;
  mu_.Unlock();
  Finish(status);
}

void ArrivalStream::Pump() {
  if (phase_ == Phase::kDone) {
    const bool unused = in_flight_ == 0;
    mu_.Unlock();
    if (unused) delete this;
    return;
  }
  if (phase_ == Phase::kFinished) return mu_.Unlock();
  if (cancelled_ || write_failed_) {
    return FinishLocked(
        grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"));
  }
  if (writing_) return mu_.Unlock();
  if (!store_failure_.ok() && written_ >= first_unstored_) {
    return FinishLocked(ToGrpcStatus(store_failure_));
  }
  auto it = ready_.find(written_);
  if (it != ready_.end()) {
    outgoing_ = std::move(it->second);
    ready_.erase(it);
    writing_ = true;
    // When the next ack is ready too, let gRPC send them together.
    grpc::WriteOptions options;
    if (ready_.contains(written_ + 1)) options.set_buffer_hint();
    mu_.Unlock();
    StartWrite(&outgoing_, options);
    return;
  }
  if (reads_done_ && written_ == read_) return FinishLocked(grpc::Status::OK);
  mu_.Unlock();
}

}  // namespace noqueue::server
