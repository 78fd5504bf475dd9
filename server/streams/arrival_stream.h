// ArrivalStream: one tagging device's StreamArrivals call.
//
// Tags are read as they come and stored in the background: the valid tags
// that arrive while the stream's previous ones are being committed wait in
// `pending_` and go to the store together, as one job (so a fast device
// gets group commit within its own stream). Each tag gets one ack, in the
// order of the tags, once it has committed (ACCEPTED, DUPLICATE) or been
// refused (REJECTED with its code); invalid tags are refused without being
// stored.
//
// State, under mu_, and its invariants:
// - read side: `read_` tags read so far (each has an index 0..read_-1);
//   reading pauses while read_ - written_ >= kMaxUnacked and resumes when
//   acks go out; `reads_done_` once the device half-closed.
// - store side: at most one store job at a time (`storing_`); `pending_`
//   holds the valid tags read meanwhile; `in_flight_` counts store callbacks
//   that will still touch this object (the stream is deleted only when it
//   is 0). When a job fails as a whole (the store is closed or broken),
//   `store_failure_` keeps its status and `first_unstored_` the index of its
//   first tag: the stream ends with that status once every ack before it is
//   written, and the device resends what was not acknowledged.
// - write side: `ready_` holds the acks whose tags are decided, by index;
//   acks are written one at a time (`writing_`), strictly in index order
//   (ack `written_` next).
// - lifecycle: kOpen, then kFinished once Finish is called (after the last
//   ack, a store failure, a failed write or a cancellation), then OnDone
//   sets kDone; the object deletes itself when kDone and in_flight_ == 0.
#ifndef NOQUEUE_SERVER_STREAMS_ARRIVAL_STREAM_H_
#define NOQUEUE_SERVER_STREAMS_ARRIVAL_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "noqueue/v1/arrival.pb.h"
#include "server/store/store.h"
#include "server/streams/tag_intake.h"

namespace noqueue::server {

class ArrivalStream final
    : public grpc::ServerBidiReactor<v1::ArrivalEvent, v1::ArrivalAck> {
 public:
  // Tags read and not yet acknowledged before reading pauses.
  static constexpr uint64_t kMaxUnacked = 4096;

  // Tags of schedules outside `scope` are refused (PERMISSION_DENIED acks).
  // `open` (may be null) counts the streams alive: the stream has counted
  // itself in, and counts itself out when it is deleted.
  ArrivalStream(Store* store, TagConsumers consumers, VenueScope scope,
                std::atomic<int>* open = nullptr);
  ~ArrivalStream() override;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  enum class Phase { kOpen, kFinished, kDone };

  // Sends the pending tags to the store as one non-atomic job; when they
  // are committed, acks them and sends what has come meanwhile. Called with
  // mu_ held and storing_ set; releases it.
  void StorePending() ABSL_UNLOCK_FUNCTION(mu_);
  // The store's answer to a job of tags at `indices`.
  void Stored(const std::vector<uint64_t>& indices,
              const std::vector<std::string>& ids,
              absl::StatusOr<std::vector<EventResult>> r);
  // Decides what to do next under mu_, does it outside: always releases
  // mu_. Deletes `this` when nothing refers to it any more.
  void Pump() ABSL_UNLOCK_FUNCTION(mu_);
  // Ends the call with `status`; releases mu_.
  void FinishLocked(const grpc::Status& status) ABSL_UNLOCK_FUNCTION(mu_);
  // Starts the next read unless too many acks are outstanding.
  bool ShouldRead() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return read_ - written_ < kMaxUnacked;
  }

  Store* const store_;
  const TagConsumers consumers_;
  const VenueScope scope_;
  std::atomic<int>* const open_;
  v1::ArrivalEvent incoming_;  // touched by the read path only
  v1::ArrivalAck outgoing_;    // touched by the write path only

  absl::Mutex mu_;
  // Read side.
  uint64_t read_ ABSL_GUARDED_BY(mu_) = 0;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  // Store side.
  std::vector<v1::ArrivalEvent> pending_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> pending_index_ ABSL_GUARDED_BY(mu_);
  bool storing_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status store_failure_ ABSL_GUARDED_BY(mu_);
  uint64_t first_unstored_ ABSL_GUARDED_BY(mu_) = 0;
  // Write side.
  std::map<uint64_t, v1::ArrivalAck> ready_ ABSL_GUARDED_BY(mu_);
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  // Lifecycle.
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kOpen;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STREAMS_ARRIVAL_STREAM_H_
