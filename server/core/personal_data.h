// PersonalData: the attendee's right to be forgotten, and the venues'
// retention of attendee ids.
//
// Erase removes an attendee's convocations and tags from the store, their
// habit from the model, then writes a fresh model snapshot (the old one named
// them) and truncates the write-ahead log, so that their id is gone from the
// database's bytes. A purge does the same for the schedules past their
// venue's retention (personal_data_retention_days, 90 by default): their
// attendee ids become pseudonyms, the anonymous learning stays, and the model
// forgets the habits of attendees no schedule of the venue names any more. A
// thread of its own purges every `check_every`.
#ifndef NOQUEUE_SERVER_CORE_PERSONAL_DATA_H_
#define NOQUEUE_SERVER_CORE_PERSONAL_DATA_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "noqueue/v1/access.pb.h"
#include "server/core/learner.h"
#include "server/store/store.h"

namespace noqueue::server {

class PersonalData {
 public:
  // `check_every` <= 0: no periodic purge (PurgeNow still works).
  PersonalData(Store* store, Learner* learning, absl::Duration check_every);
  ~PersonalData();
  PersonalData(const PersonalData&) = delete;
  PersonalData& operator=(const PersonalData&) = delete;

  // Erases an attendee of a venue, audited as done by `actor`; `done` runs
  // once the id is gone from the files (on the store's completion thread).
  void Erase(const std::string& venue_id, const std::string& attendee_id,
             const std::string& actor, Done<v1::EraseAttendeeResponse> done);

  // Purges what is past retention at `now`, until nothing is left; blocks.
  // Returns the schedules purged.
  absl::StatusOr<int64_t> PurgeNow(absl::Time now);

  // Stops the periodic purge. Idempotent.
  void Stop();

 private:
  // One purge batch; `done` gets its result once forgotten and compacted.
  void PurgeBatch(absl::Time now, Done<PurgeResult> done);
  // Snapshots the model, then truncates the log; then `done`.
  void Compact(std::function<void(absl::Status)> done);

  Store* const store_;
  Learner* const learning_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread purger_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_CORE_PERSONAL_DATA_H_
