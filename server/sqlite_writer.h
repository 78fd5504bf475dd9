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
// A job's status is OK only once the batch that holds it has committed. When
// SQLite rolls the whole transaction back (an I/O error, a full disk, no
// memory) or the commit fails, every job of the batch fails with that error
// and nothing of it is stored.
//
//   SqliteWriter writer(std::move(db), path, /*on_rollback=*/nullptr);
//   writer.Submit<int64_t>(
//       [](SqliteDb& db) -> absl::StatusOr<int64_t> { ...; return rowid; },
//       [](absl::StatusOr<int64_t> r) { ... });
#ifndef NOQUEUE_SERVER_SQLITE_WRITER_H_
#define NOQUEUE_SERVER_SQLITE_WRITER_H_

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
#include "server/sqlite_db.h"

namespace noqueue::server {

class SqliteWriter {
 public:
  static constexpr size_t kMaxBatch = 2048;

  // Takes the write connection `db` of the database at `path` (a second
  // connection to it is opened for the checkpointer). `on_rollback` runs on
  // the writer thread whenever changes of a job or of a whole batch are
  // undone, so that whoever caches what jobs wrote can forget it.
  SqliteWriter(std::unique_ptr<SqliteDb> db, const std::string& path,
               const std::string& vfs, std::function<void()> on_rollback);
  // Commits what is queued, then stops.
  ~SqliteWriter();
  SqliteWriter(const SqliteWriter&) = delete;
  SqliteWriter& operator=(const SqliteWriter&) = delete;

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

  const std::function<void()> on_rollback_;
  std::unique_ptr<SqliteDb> db_;  // the writer thread's

  absl::Mutex queue_mu_;
  absl::CondVar queue_cv_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool closing_ ABSL_GUARDED_BY(queue_mu_) = false;
  absl::CondVar checkpoint_cv_;  // with queue_mu_, on closing

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

#endif  // NOQUEUE_SERVER_SQLITE_WRITER_H_
