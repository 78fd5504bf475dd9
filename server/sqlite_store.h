// SqliteStore: the Store on an embedded SQLite file.
//
// One writer thread owns the write connection and commits queued writes in
// batches (group commit: one transaction, one WAL sync for up to
// kMaxBatch writes, each in its own savepoint so that one failure does not
// undo the others). A completion thread then runs the writes' callbacks
// (acknowledgements, learning) in commit order, while the writer commits the
// next batch, and a checkpointer thread folds the WAL into the database in
// the background, so that no write waits for a checkpoint's sync. Readers
// use a small pool of connections; WAL lets them read while the writer
// writes. The schema is versioned with PRAGMA user_version and migrated
// forward on open.
#ifndef NOQUEUE_SERVER_SQLITE_STORE_H_
#define NOQUEUE_SERVER_SQLITE_STORE_H_

#include <array>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"

#include "server/sqlite_db.h"
#include "server/store.h"

namespace noqueue::server {

class SqliteStore final : public Store {
 public:
  static constexpr int kSchemaVersion = 4;
  static constexpr size_t kMaxBatch = 2048;
  // What the writer may remember of tagged convocations, in bytes.
  static constexpr size_t kMaxTaggedBytes = 32 << 20;

  // Opens or creates the database at `path` (its folder must exist),
  // migrates it, and starts the writer.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, LearningPolicy policy = {});
  ~SqliteStore() override;

  absl::StatusOr<v1::Venue> GetVenue(const std::string& venue_id) override;
  void UpsertVenue(v1::Venue venue, int64_t now_us,
                   Done<UpsertVenueResult> done) override;
  absl::StatusOr<v1::Schedule> GetSchedule(
      const std::string& schedule_id) override;
  absl::StatusOr<std::optional<v1::Schedule>> FindScheduleByRequest(
      const std::string& venue_id, const std::string& request_id) override;
  absl::StatusOr<SchedulePage> ListSchedules(const std::string& venue_id,
                                             int64_t after,
                                             int limit) override;
  void InsertSchedule(NewSchedule schedule, Done<v1::Schedule> done) override;
  void RecordEvents(std::vector<v1::ArrivalEvent> events, bool atomic,
                    int64_t now_us,
                    Done<std::vector<EventResult>> done) override;
  absl::Status ReplayLearnable(
      int64_t after_seq,
      const std::function<void(const LearnableEvent&)>& fn) override;
  void InsertReport(StoredReport report, Done<bool> done) override;
  absl::Status ReplayCrowd(
      const std::function<void(const StoredReport&)>& report,
      const std::function<void(const ServiceObservation&)>& service) override;
  void SaveSnapshot(ModelSnapshot snapshot, Done<bool> done) override;
  absl::StatusOr<std::optional<ModelSnapshot>> LoadSnapshot() override;
  void Close() override;

  // The schema version of the open database.
  absl::StatusOr<int> SchemaVersion();

 private:
  // A queued write: `run` executes inside the batch transaction on the writer
  // thread; `finish` gets its status once the batch has committed.
  struct Job {
    std::function<absl::Status(SqliteDb&)> run;
    std::function<void(absl::Status)> finish;
  };
  // Leases a read connection for the life of the lease.
  class ReadLease;

  SqliteStore(std::string path, LearningPolicy policy,
              std::unique_ptr<SqliteDb> writer);
  template <typename T>
  void Submit(std::function<absl::StatusOr<T>(SqliteDb&)> run, Done<T> done);
  void WriterLoop();
  absl::StatusOr<std::unique_ptr<SqliteDb>> AcquireReader();
  void ReleaseReader(std::unique_ptr<SqliteDb> db);
  void CompletionLoop();
  void CheckpointLoop(SqliteDb& db);
  // What the writer knows of a convocation that tags were stored for: its
  // row, and what its stored tags say so far.
  struct TaggedConvocation {
    int64_t seq = 0;  // convocations.seq
    std::string venue_id;
    int64_t convocation_us = 0;
    model::ArrivalContext context;
    // The observed time of its first stored tag of each kind.
    std::array<std::optional<int64_t>, v1::ArrivalKind_ARRAYSIZE> first_us;
    bool outcome_learned = false;
  };
  // Keys (schedule_id, attendee_id), looked up without copying the tag's.
  struct ConvocationKeyHash {
    using is_transparent = void;
    size_t operator()(
        const std::pair<std::string_view, std::string_view>& k) const {
      return absl::HashOf(k.first, k.second);
    }
  };
  struct ConvocationKeyEq {
    using is_transparent = void;
    bool operator()(const std::pair<std::string_view, std::string_view>& a,
                    const std::pair<std::string_view, std::string_view>& b)
        const {
      return a == b;
    }
  };
  // The tagged convocation of `e`, from the writer's cache or the database;
  // NotFound (naming events[index]) for an unknown schedule or attendee.
  absl::StatusOr<TaggedConvocation*> FindConvocation(SqliteDb& db,
                                                     const v1::ArrivalEvent& e,
                                                     size_t index);
  void ForgetTagged() {
    tagged_.clear();
    tagged_bytes_ = 0;
  }
  // Stores one tag. On an error, *wrote says whether the tag had already
  // changed the database (then only rolling back the whole job undoes it);
  // when it had not, the error is the tag's own rejection.
  absl::StatusOr<EventResult> StoreEvent(SqliteDb& db,
                                         const v1::ArrivalEvent& event,
                                         size_t index, int64_t now_us,
                                         bool* wrote);

  const std::string path_;
  const LearningPolicy policy_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;     // guarded by queue_mu_
  bool closing_ = false;      // guarded by queue_mu_
  std::unique_ptr<SqliteDb> writer_db_;  // writer thread only
  // Writer thread only. Forgotten when it would pass kMaxTaggedBytes, and
  // whenever a job or a batch is rolled back, since it may hold what was
  // undone.
  absl::flat_hash_map<std::pair<std::string, std::string>, TaggedConvocation,
                      ConvocationKeyHash, ConvocationKeyEq>
      tagged_;
  size_t tagged_bytes_ = 0;  // writer thread only
  std::thread writer_;

  // Committed batches whose callbacks are still to run, in commit order.
  struct Finished {
    std::vector<Job> jobs;
    std::vector<absl::Status> results;
  };
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::deque<Finished> done_;  // guarded by done_mu_
  bool writer_exited_ = false;  // guarded by done_mu_
  std::thread completer_;

  std::condition_variable checkpoint_cv_;  // with queue_mu_, on closing
  std::thread checkpointer_;  // stops when closing_ is set

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<SqliteDb>> readers_;  // guarded by readers_mu_
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_SQLITE_STORE_H_
