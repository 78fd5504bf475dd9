// SqliteWriter: the one writer of an SQLite database, with group commit.
//
// Writes are jobs queued from any thread. One writer thread takes what is
// queued (up to kMaxBatch jobs) and runs it in one transaction, each job in
// its own savepoint so that one job's failure does not undo the others; one
// commit, one WAL append, for the whole batch. A completion thread then runs
// the jobs' `finish` callbacks in commit order, with each job's status, while
// the writer commits the next batch; a checkpointer thread folds the WAL
// back into the database in the background (PASSIVE: it never blocks the
// writer), so that no commit waits for a checkpoint's sync.
//
// The checkpointer runs PASSIVE every 250 ms and whenever the writer's commit
// hook wakes it: every WalPolicy::step_bytes of new log (so that no round has
// much to copy, and none holds the CPU for long) and at every commit past
// WalPolicy::checkpoint_bytes.
//
// The WAL stays bounded. Under a steady stream of commits a PASSIVE
// checkpoint never finds the log idle, so SQLite never restarts it and the
// file grows for ever. Once the log passes WalPolicy::checkpoint_bytes and a
// PASSIVE round has caught up, the checkpointer queues a TRUNCATE checkpoint
// that the writer runs between two batches: it copies the few frames committed
// since and truncates the file (a few milliseconds,
// WalStats::longest_truncation). Past WalPolicy::force_bytes it is queued even
// if PASSIVE could not catch up. journal_size_limit caps what a restarted log
// keeps on disk.
//
// A job's status is OK only once the batch that holds it has committed. When
// SQLite rolls the whole transaction back (an I/O error, a full disk, no
// memory) or the commit fails, every job of the batch fails with that error
// and nothing of it is stored.
//
//   SqliteWriter writer(std::move(db), path, /*on_rollback=*/nullptr);
//   writer.Submit<int64_t>(
//       [](SqliteDb& db) -> absl::StatusOr<int64_t> { ...; return rowid; },
//       [](absl::StatusOr<int64_t> r) { ... });
#ifndef NOQUEUE_SERVER_STORE_SQLITE_SQLITE_WRITER_H_
#define NOQUEUE_SERVER_STORE_SQLITE_SQLITE_WRITER_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/common/metrics.h"
#include "server/store/sqlite/sqlite_db.h"

namespace noqueue::server {

// When the writer's checkpointer folds the WAL back and truncates it.
struct WalPolicy {
  // The log's size past which it is truncated once PASSIVE has caught up.
  int64_t checkpoint_bytes = 16 << 20;
  // The log's size past which it is truncated in any case.
  int64_t force_bytes = 64 << 20;
  // A PASSIVE checkpoint runs once the log has grown by this much since the
  // last one was called for (and every 250 ms in any case), so that each
  // copies a bounded amount: its burst of CPU and I/O is short beside a
  // request's.
  int64_t step_bytes = 1 << 20;
};

// Whether a commit that leaves `log_bytes` in the WAL calls for a PASSIVE
// checkpoint under `policy`: the log is past checkpoint_bytes, or has grown
// by step_bytes since `*mark_bytes` (the log's size when one was last called
// for, which it then updates; a log smaller than the mark has restarted).
bool CheckpointDue(const WalPolicy& policy, int64_t log_bytes,
                   int64_t* mark_bytes);

// What the WAL has been, for tests and metrics.
struct WalStats {
  int64_t bytes = 0;      // the log's frames after the last commit, in bytes
  int64_t max_bytes = 0;  // the most it held since the writer started
  int64_t truncations = 0;
  // The longest a truncation held the writer (between two batches).
  absl::Duration longest_truncation;
};

class SqliteWriter {
 public:
  static constexpr size_t kMaxBatch = 2048;

  // Takes the write connection `db` of the database at `path` (a second
  // connection to it is opened for the checkpointer). `on_rollback` runs on
  // the writer thread whenever changes of a job or of a whole batch are
  // undone, so that whoever caches what jobs wrote can forget it.
  SqliteWriter(std::unique_ptr<SqliteDb> db, const std::string& path,
               const std::string& vfs, std::function<void()> on_rollback,
               WalPolicy wal = {});
  // Commits what is queued, then stops.
  ~SqliteWriter();
  SqliteWriter(const SqliteWriter&) = delete;
  SqliteWriter& operator=(const SqliteWriter&) = delete;

  // Runs `on_commit` on the writer thread after each batch commits. Call it
  // before the first job is submitted.
  void SetOnCommit(std::function<void()> on_commit) {
    on_commit_ = std::move(on_commit);
  }

  // Queues `run` (executed on the writer thread inside the batch's
  // transaction); `finish` gets its status once the batch has committed, or
  // UNAVAILABLE when the writer is closed.
  void Submit(std::function<absl::Status(SqliteDb&)> run,
              std::function<void(absl::Status)> finish);

  // The same for a job with a result.
  template <typename T>
  void Submit(std::function<absl::StatusOr<T>(SqliteDb&)> run,
              std::function<void(absl::StatusOr<T>)> done) {
    auto result = std::make_shared<absl::StatusOr<T>>(
        absl::InternalError("write did not run"));
    Submit(
        [run = std::move(run), result](SqliteDb& db) {
          *result = run(db);
          return result->status();
        },
        [done = std::move(done), result](absl::Status st) {
          if (st.ok()) {
            done(std::move(*result));
          } else {
            done(st);
          }
        });
  }

  // Queues `run` to run alone, outside any transaction, after what was
  // queued before it has committed (a checkpoint, say).
  void SubmitAlone(std::function<absl::Status(SqliteDb&)> run,
                   std::function<void(absl::Status)> finish);

  // Commits what is queued and stops the threads; later jobs fail with
  // UNAVAILABLE. Idempotent. Must not be called from a `finish` callback.
  void Close();

  WalStats wal_stats() const;
  // Each batch's time from BEGIN to the end of COMMIT, and its jobs.
  const metrics::HistogramFamily& commit_seconds() const {
    return commit_seconds_;
  }
  const metrics::HistogramFamily& batch_jobs() const { return batch_jobs_; }

 private:
  struct Job {
    std::function<absl::Status(SqliteDb&)> run;
    std::function<void(absl::Status)> finish;
    bool alone = false;  // outside any transaction
  };
  void Enqueue(Job job);
  // A committed (or failed) batch whose callbacks are still to run.
  struct Finished {
    std::vector<Job> jobs;
    std::vector<absl::Status> results;
  };

  void WriterLoop();
  // Runs one batch in one transaction; returns each job's status.
  std::vector<absl::Status> RunBatch(std::vector<Job>& batch);
  void CompletionLoop();
  void CheckpointLoop(SqliteDb& db);
  // One round of the checkpointer: PASSIVE, then TRUNCATE when the log is
  // past its bound.
  void Checkpoint(SqliteDb& db);
  // The TRUNCATE checkpoint, run alone on the writer's thread.
  absl::Status TruncateWal(SqliteDb& db);
  // SQLite's commit hook of the write connection: `frames` in the log.
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int frames);

  metrics::HistogramFamily commit_seconds_{
      "noqueue_store_commit_seconds",
      "Time of each write batch, from BEGIN to the end of COMMIT.",
      metrics::SecondsBuckets()};
  prometheus::Histogram& commit_seconds_all_ = commit_seconds_.With({});
  metrics::HistogramFamily batch_jobs_{
      "noqueue_store_batch_jobs",
      "Writes committed in each batch.",
      {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}};
  prometheus::Histogram& batch_jobs_all_ = batch_jobs_.With({});
  const WalPolicy wal_policy_;
  int64_t page_size_ = 4096;
  // The log's size when a checkpoint was last called for (the commit hook's,
  // on the writer thread).
  int64_t wal_mark_bytes_ = 0;
  const std::function<void()> on_rollback_;
  std::function<void()> on_commit_;
  std::unique_ptr<SqliteDb> db_;  // the writer thread's

  absl::Mutex queue_mu_;
  absl::CondVar queue_cv_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool closing_ ABSL_GUARDED_BY(queue_mu_) = false;
  // With queue_mu_: on closing, or when the commit hook calls for a round.
  absl::CondVar checkpoint_cv_;
  bool checkpoint_due_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool truncation_queued_ ABSL_GUARDED_BY(queue_mu_) = false;

  mutable absl::Mutex wal_mu_;
  WalStats wal_stats_ ABSL_GUARDED_BY(wal_mu_);

  absl::Mutex done_mu_;
  absl::CondVar done_cv_;
  std::deque<Finished> done_ ABSL_GUARDED_BY(done_mu_);
  bool writer_exited_ ABSL_GUARDED_BY(done_mu_) = false;

  absl::Mutex close_mu_;  // serialises Close
  std::thread writer_;
  std::thread completer_;
  std::thread checkpointer_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_STORE_SQLITE_SQLITE_WRITER_H_
