#include "server/store/sqlite/sqlite_writer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/executor.h"

namespace noqueue::server {

SqliteWriter::SqliteWriter(std::unique_ptr<SqliteDb> db,
                           const std::string& path, const std::string& vfs,
                           std::function<void()> on_rollback, WalPolicy wal)
    : wal_policy_(wal),
      on_rollback_(on_rollback ? std::move(on_rollback) : [] {}),
      db_(std::move(db)) {
  // The writer keeps the pages it rewrites (the right edges of tables and
  // indexes) in an 8 MiB cache of its own, and reads the rest through the
  // memory map. Not more: every commit costs SQLite time in proportion to the
  // pages cached, and a larger cache made the tag path no faster.
  db_->Exec("PRAGMA cache_size=-8192").IgnoreError();
  // Checkpoints are the checkpointer's job, not the writer's, when it has a
  // connection of its own; otherwise the writer keeps SQLite's automatic
  // checkpoints.
  absl::StatusOr<std::unique_ptr<SqliteDb>> checkpoint_db =
      SqliteDb::Open(path, vfs);
  if (absl::StatusOr<Statement*> ps = db_->Prepare("PRAGMA page_size");
      ps.ok()) {
    if (absl::StatusOr<bool> row = (*ps)->Step(); row.ok() && *row) {
      page_size_ = (*ps)->ColumnInt(0);
    }
    (*ps)->Reset();
  }
  // A log restarted after a checkpoint keeps at most this much on disk.
  db_->Exec(absl::StrCat("PRAGMA journal_size_limit=",
                         wal_policy_.checkpoint_bytes))
      .IgnoreError();
  if (checkpoint_db.ok()) {
    db_->Exec("PRAGMA wal_autocheckpoint=0").IgnoreError();
    // After wal_autocheckpoint, which sets a hook of its own.
    sqlite3_wal_hook(db_->raw(), &SqliteWriter::OnWalCommit, this);
    checkpointer_ = std::thread(
        [this, cdb = std::shared_ptr<SqliteDb>(std::move(*checkpoint_db))] {
          NameThisThread("nq-store-ckpt");
          CheckpointLoop(*cdb);
        });
  }
  writer_ = std::thread([this] {
    NameThisThread("nq-store-write");
    WriterLoop();
  });
  completer_ = std::thread([this] {
    NameThisThread("nq-store-done");
    CompletionLoop();
  });
}

SqliteWriter::~SqliteWriter() { Close(); }

void SqliteWriter::Close() {
  absl::MutexLock close_lock(&close_mu_);
  {
    absl::MutexLock lock(&queue_mu_);
    closing_ = true;
    queue_cv_.SignalAll();
    checkpoint_cv_.SignalAll();
  }
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock lock(&done_mu_);
    writer_exited_ = true;
    done_cv_.SignalAll();
  }
  if (completer_.joinable()) completer_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
  // The write connection, the last one, checkpoints the rest on closing.
  db_.reset();
}

void SqliteWriter::Submit(std::function<absl::Status(SqliteDb&)> run,
                          std::function<void(absl::Status)> finish) {
  Enqueue(Job{std::move(run), std::move(finish), /*alone=*/false});
}

void SqliteWriter::SubmitAlone(std::function<absl::Status(SqliteDb&)> run,
                               std::function<void(absl::Status)> finish) {
  Enqueue(Job{std::move(run), std::move(finish), /*alone=*/true});
}

void SqliteWriter::Enqueue(Job job) {
  {
    absl::MutexLock lock(&queue_mu_);
    if (!closing_) {
      queue_.push_back(std::move(job));
      queue_cv_.Signal();
      return;
    }
  }
  job.finish(absl::UnavailableError("store is closed"));
}

void SqliteWriter::WriterLoop() {
  std::vector<Job> batch;
  while (true) {
    batch.clear();
    {
      absl::MutexLock lock(&queue_mu_);
      while (!closing_ && queue_.empty()) queue_cv_.Wait(&queue_mu_);
      if (queue_.empty()) break;  // closing and drained
      // A job that runs alone makes a batch of its own.
      while (!queue_.empty() && batch.size() < kMaxBatch &&
             !queue_.front().alone) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (batch.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const absl::Time began = absl::Now();
    std::vector<absl::Status> results =
        batch.front().alone ? std::vector<absl::Status>{batch.front().run(*db_)}
                            : RunBatch(batch);
    if (!batch.front().alone) {
      commit_seconds_all_.Observe(absl::ToDoubleSeconds(absl::Now() - began));
      batch_jobs_all_.Observe(static_cast<double>(batch.size()));
    }
    {
      absl::MutexLock lock(&done_mu_);
      done_.push_back(Finished{std::move(batch), std::move(results)});
      done_cv_.Signal();
    }
    batch = {};
  }
}

std::vector<absl::Status> SqliteWriter::RunBatch(std::vector<Job>& batch) {
  SqliteDb& db = *db_;
  std::vector<absl::Status> results(batch.size(), absl::OkStatus());
  // Not OK once the batch's transaction is gone: the jobs after it fail.
  absl::Status batch_status = db.Run("BEGIN IMMEDIATE");
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!batch_status.ok()) {
      results[i] = batch_status;
      continue;
    }
    absl::Status st = db.Run("SAVEPOINT job");
    if (st.ok()) {
      st = batch[i].run(db);
      if (!st.ok()) {
        db.Run("ROLLBACK TO job").IgnoreError();
        on_rollback_();
      }
      db.Run("RELEASE job").IgnoreError();
    }
    results[i] = st;
    // Some errors (I/O, full disk, no memory) make SQLite roll back the
    // whole transaction: the rest of the batch then fails rather than run
    // outside one, and what the batch had done before is gone too.
    if (!st.ok() && sqlite3_get_autocommit(db.raw())) {
      batch_status = absl::Status(
          st.code(), absl::StrCat("the batch's transaction was rolled back: ",
                                  st.message()));
      on_rollback_();
      for (size_t j = 0; j < i; ++j) {
        if (results[j].ok()) results[j] = batch_status;
      }
    }
  }
  if (batch_status.ok()) {
    absl::Status commit = db.Run("COMMIT");
    if (!commit.ok()) {
      db.Run("ROLLBACK").IgnoreError();
      on_rollback_();
      for (absl::Status& st : results) {
        if (st.ok()) st = commit;
      }
    } else if (on_commit_) {
      on_commit_();
    }
  }
  return results;
}

void SqliteWriter::CompletionLoop() {
  while (true) {
    Finished finished;
    {
      absl::MutexLock lock(&done_mu_);
      while (!writer_exited_ && done_.empty()) done_cv_.Wait(&done_mu_);
      if (done_.empty()) return;  // the writer is gone and all is done
      finished = std::move(done_.front());
      done_.pop_front();
    }
    for (size_t i = 0; i < finished.jobs.size(); ++i) {
      finished.jobs[i].finish(finished.results[i]);
    }
  }
}

bool CheckpointDue(const WalPolicy& policy, int64_t log_bytes,
                   int64_t* mark_bytes) {
  if (log_bytes < *mark_bytes) *mark_bytes = 0;  // restarted from frame one
  if (log_bytes < policy.checkpoint_bytes &&
      log_bytes - *mark_bytes < policy.step_bytes) {
    return false;
  }
  *mark_bytes = log_bytes;
  return true;
}

int SqliteWriter::OnWalCommit(void* self, sqlite3* /*db*/, const char* /*name*/,
                              int frames) {
  auto* writer = static_cast<SqliteWriter*>(self);
  const int64_t bytes = int64_t{frames} * writer->page_size_;
  {
    absl::MutexLock lock(&writer->wal_mu_);
    writer->wal_stats_.bytes = bytes;
    writer->wal_stats_.max_bytes =
        std::max(writer->wal_stats_.max_bytes, bytes);
  }
  if (CheckpointDue(writer->wal_policy_, bytes, &writer->wal_mark_bytes_)) {
    absl::MutexLock lock(&writer->queue_mu_);
    if (!writer->checkpoint_due_) {
      writer->checkpoint_due_ = true;
      writer->checkpoint_cv_.Signal();
    }
  }
  return SQLITE_OK;
}

WalStats SqliteWriter::wal_stats() const {
  absl::MutexLock lock(&wal_mu_);
  return wal_stats_;
}

void SqliteWriter::CheckpointLoop(SqliteDb& db) {
  while (true) {
    {
      absl::MutexLock lock(&queue_mu_);
      if (!closing_ && !checkpoint_due_)
        checkpoint_cv_.WaitWithTimeout(&queue_mu_, absl::Milliseconds(250));
      if (closing_) return;
      checkpoint_due_ = false;
      // A PASSIVE round holds the checkpoint lock, which the queued
      // TRUNCATE needs: none runs until the writer has had its turn (with
      // rounds every step of log, the truncation otherwise found one running
      // nearly every time and the log outgrew its bound).
      if (truncation_queued_) continue;
    }
    Checkpoint(db);
  }
}

void SqliteWriter::Checkpoint(SqliteDb& db) {
  // PASSIVE: copies what no reader still needs, never blocks the writer.
  int log_frames = 0, checkpointed = 0;
  sqlite3_wal_checkpoint_v2(db.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                            &log_frames, &checkpointed);
  const int64_t log_bytes = int64_t{log_frames} * page_size_;
  const bool caught_up = log_frames > 0 && checkpointed == log_frames;
  if (log_bytes < wal_policy_.checkpoint_bytes ||
      (!caught_up && log_bytes < wal_policy_.force_bytes)) {
    return;
  }
  {
    absl::MutexLock lock(&queue_mu_);
    if (truncation_queued_) return;
    truncation_queued_ = true;
  }
  // On the writer's thread, between two batches: no lock to wait for, and
  // only the frames committed since PASSIVE left to copy.
  SubmitAlone([this](SqliteDb& writer_db) { return TruncateWal(writer_db); },
              [](absl::Status) {});
}

absl::Status SqliteWriter::TruncateWal(SqliteDb& db) {
  {
    absl::MutexLock lock(&queue_mu_);
    truncation_queued_ = false;
  }
  const absl::Time start = absl::Now();
  // Readers still in the log are waited for briefly, not for the usual
  // busy timeout: the writer is held meanwhile; the next round retries.
  sqlite3_busy_timeout(db.raw(), 50);
  const int rc = sqlite3_wal_checkpoint_v2(
      db.raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_busy_timeout(db.raw(), 5000);
  const absl::Duration held = absl::Now() - start;
  absl::MutexLock lock(&wal_mu_);
  wal_stats_.longest_truncation = std::max(wal_stats_.longest_truncation, held);
  if (rc != SQLITE_OK) return absl::OkStatus();  // busy: the next round
  wal_stats_.bytes = 0;
  ++wal_stats_.truncations;
  return absl::OkStatus();
}

}  // namespace noqueue::server
