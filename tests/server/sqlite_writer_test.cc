// The group-commit writer on a real SQLite file: jobs fail alone, a batch
// whose transaction is lost fails whole and stores nothing, and the writer
// recovers by itself once the fault clears.
#include "server/store/sqlite/sqlite_writer.h"

#include <sqlite3.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"
#include "tests/support/fault_vfs.h"
#include "tests/support/sqlite_peek.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

using server::SqliteDb;
using server::SqliteWriter;
using testing::FaultVfs;
using testing::QueryInt;
using testing::TempDir;

// A writer on a fresh file with a table t(x), opened through the fault VFS.
struct Fixture {
  Fixture() {
    FaultVfs::Install().Clear();
    path = dir.file("w.db");
    auto db = SqliteDb::Open(path, FaultVfs::kName);
    REQUIRE(db.ok());
    REQUIRE((*db)->Exec("CREATE TABLE t (x INTEGER)").ok());
    writer = std::make_unique<SqliteWriter>(
        std::move(*db), path, FaultVfs::kName, [this] { ++rollbacks; });
  }
  ~Fixture() { FaultVfs::Install().Clear(); }

  // A job that inserts x.
  static std::function<absl::Status(SqliteDb&)> Insert(int x) {
    return [x](SqliteDb& db) -> absl::Status {
      ASSIGN_OR_RETURN(server::Statement * s,
                       db.Prepare("INSERT INTO t (x) VALUES (?1)"));
      s->Bind(1, int64_t{x});
      return s->Run();
    };
  }
  // Submits a job that inserts x once released, and waits until the
  // writer runs it: jobs submitted after this call form the next batch.
  std::future<absl::Status> SubmitHeld(int x,
                                       std::shared_future<void> released) {
    auto started = std::make_shared<std::promise<void>>();
    std::future<void> running = started->get_future();
    auto f = Submit([x, released, started](SqliteDb& db) {
      started->set_value();
      released.wait();
      return Insert(x)(db);
    });
    running.wait();
    return f;
  }
  // Submits `run` and returns the future of its status.
  std::future<absl::Status> Submit(std::function<absl::Status(SqliteDb&)> run) {
    auto done = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> f = done->get_future();
    writer->Submit(std::move(run),
                   [done](absl::Status st) { done->set_value(st); });
    return f;
  }
  int64_t Count(const std::string& where = "1") {
    return QueryInt(path, "SELECT count(*) FROM t WHERE " + where);
  }

  TempDir dir;
  std::string path;
  std::atomic<int> rollbacks{0};
  std::unique_ptr<SqliteWriter> writer;
};

TEST_CASE(
    "A failing job is rolled back alone and the rest of its batch commits") {
  Fixture f;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  // The first job holds the writer until the others are queued, so that
  // they commit together.
  auto first = f.SubmitHeld(0, released);
  auto ok1 = f.Submit(Fixture::Insert(1));
  auto bad = f.Submit([](SqliteDb& db) -> absl::Status {
    RETURN_IF_ERROR(Fixture::Insert(2)(db));
    return absl::InvalidArgumentError("this job refuses");
  });
  auto ok3 = f.Submit(Fixture::Insert(3));
  release.set_value();
  CHECK(first.get().ok());
  CHECK(ok1.get().ok());
  CHECK(bad.get().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ok3.get().ok());
  CHECK(f.Count() == 3);
  CHECK(f.Count("x = 2") == 0);  // its insert was undone
  CHECK(f.rollbacks == 1);
}

TEST_CASE(
    "A batch whose commit fails fails whole, stores nothing, and the "
    "writer recovers when the fault clears") {
  Fixture f;
  int base = 0;
  for (int code : {SQLITE_IOERR_WRITE, SQLITE_FULL}) {
    INFO("code " << code);
    base += 1000;
    const std::string batch =
        absl::StrCat("x > ", base, " AND x < ", base + 100);
    const int64_t before = f.Count();
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    auto first = f.SubmitHeld(base, released);
    // The next batch's first job arms the fault: every write to the WAL
    // from then on fails, so the batch cannot commit.
    auto arm = f.Submit([code, base](SqliteDb& db) {
      FaultVfs::Install().FailWrites(0, code, "-wal");
      return Fixture::Insert(base + 1)(db);
    });
    std::vector<std::future<absl::Status>> rest;
    for (int x = base + 2; x < base + 10; ++x) {
      rest.push_back(f.Submit(Fixture::Insert(x)));
    }
    const int rollbacks = f.rollbacks;
    release.set_value();
    CHECK(first.get().ok());
    const absl::Status armed = arm.get();
    CHECK_FALSE(armed.ok());
    for (auto& r : rest) {
      const absl::Status st = r.get();
      CHECK_FALSE(st.ok());
      CHECK(st.code() == armed.code());
    }
    CHECK(f.rollbacks > rollbacks);
    FaultVfs::Install().Clear();
    CHECK(f.Count() == before + 1);  // the first batch, and nothing after
    CHECK(f.Count(batch) == 0);
    // Recovered: the next job commits.
    CHECK(f.Submit(Fixture::Insert(base + 100)).get().ok());
    CHECK(f.Count(absl::StrCat("x = ", base + 100)) == 1);
    CHECK(testing::QueryText(f.path, "PRAGMA integrity_check") == "ok");
  }
}

TEST_CASE(
    "At every fault point of a batch only what was acknowledged is stored, "
    "a batch is stored whole or not at all, and the writer recovers") {
  struct Fault {
    const char* what;
    int code;
  };
  for (const Fault fault :
       {Fault{"write", SQLITE_IOERR_WRITE}, Fault{"write", SQLITE_FULL},
        Fault{"sync", SQLITE_IOERR_FSYNC}}) {
    int points = 0;
    // The n-th write (or sync) from now fails, and every one after it until
    // the fault clears; n runs until the batches need fewer than n.
    for (int n = 0; n < 200; ++n) {
      INFO(fault.what << " " << fault.code << " after " << n);
      Fixture f;
      std::promise<void> release;
      std::shared_future<void> released = release.get_future().share();
      auto first = f.SubmitHeld(0, released);
      std::vector<std::future<absl::Status>> batch;
      for (int x = 1; x <= 200; ++x)
        batch.push_back(f.Submit(Fixture::Insert(x)));
      const int failed_before = FaultVfs::Install().failed();
      if (std::string(fault.what) == "write") {
        FaultVfs::Install().FailWrites(n, fault.code, "");
      } else {
        FaultVfs::Install().FailSyncs(n, fault.code, "");
      }
      release.set_value();
      const absl::Status first_status = first.get();
      const bool first_ok = first_status.ok();
      int acked = 0;
      for (auto& r : batch) {
        const absl::Status st = r.get();
        acked += st.ok();
        // Retryable: the file system failed or is full.
        CHECK((st.ok() || st.code() == absl::StatusCode::kUnavailable ||
               st.code() == absl::StatusCode::kResourceExhausted));
      }
      // With synchronous=NORMAL a commit does not sync: the checkpointer
      // (every 250 ms) does, and meets the fault there.
      const bool syncs = std::string(fault.what) == "sync";
      std::this_thread::sleep_for(std::chrono::milliseconds(syncs ? 600 : 1));
      const bool fired = FaultVfs::Install().failed() > failed_before;
      FaultVfs::Install().Clear();
      CHECK((acked == 0 || acked == 200));
      CHECK(f.Count("x = 0") == (first_ok ? 1 : 0));
      CHECK(f.Count("x BETWEEN 1 AND 200") == acked);
      CHECK(f.Submit(Fixture::Insert(1000)).get().ok());
      CHECK(f.Count("x = 1000") == 1);
      CHECK(testing::QueryText(f.path, "PRAGMA integrity_check") == "ok");
      if (!fired) break;
      ++points;
    }
    INFO(fault.what << " " << fault.code);
    CHECK(points > 0);
  }
}

// Streams `jobs` inserts of 2 KB rows through a writer with `policy` while a
// reader queries the table in a loop, as the server's readers do; returns
// what the log held at most.
server::WalStats StreamWithReaders(const server::WalPolicy& policy, int jobs) {
  TempDir dir;
  const std::string path = dir.file("w.db");
  auto db = SqliteDb::Open(path);
  REQUIRE(db.ok());
  REQUIRE((*db)->Exec("CREATE TABLE t (x INTEGER, pad BLOB)").ok());
  SqliteWriter writer(std::move(*db), path, "", nullptr, policy);
  std::atomic<bool> writing{true};
  // Readers as the server's: short read transactions back to back (each
  // holds the log where it started until it ends), read with pread.
  std::thread reader([&] {
    auto rdb = SqliteDb::Open(path);
    REQUIRE(rdb.ok());
    REQUIRE((*rdb)->Exec("PRAGMA mmap_size=0").ok());
    for (int64_t i = 0; writing; ++i) {
      auto s = (*rdb)->Prepare("SELECT length(pad) FROM t WHERE rowid = ?1");
      REQUIRE(s.ok());
      (*s)->Bind(1, i % 1000 + 1);
      (*s)->Step().IgnoreError();
      (*s)->Reset();
    }
  });
  std::vector<std::future<absl::Status>> done;
  for (int x = 0; x < jobs; ++x) {
    auto promise = std::make_shared<std::promise<absl::Status>>();
    done.push_back(promise->get_future());
    writer.Submit(
        [x](SqliteDb& db) -> absl::Status {
          ASSIGN_OR_RETURN(
              server::Statement * s,
              db.Prepare("INSERT INTO t (x, pad) VALUES (?1, zeroblob(2048))"));
          s->Bind(1, int64_t{x});
          return s->Run();
        },
        [promise](absl::Status st) { promise->set_value(st); });
    // Small batches, as tags arriving one by one make.
    if (x % 8 == 7) done.back().wait();
  }
  for (auto& d : done) CHECK(d.get().ok());
  writing = false;
  reader.join();
  return writer.wal_stats();
}

TEST_CASE("The WAL is truncated past its bound while writes go on") {
  // 20,000 rows of 2 KB: about 60 MB of log without truncation.
  constexpr int kJobs = 20000;
  server::WalPolicy never;
  never.checkpoint_bytes = never.force_bytes = int64_t{1} << 40;
  never.step_bytes = int64_t{1} << 40;  // PASSIVE on the 250 ms timer only
  const server::WalStats unbounded = StreamWithReaders(never, kJobs);
  server::WalPolicy bounded;
  bounded.checkpoint_bytes = 2 << 20;
  bounded.force_bytes = 8 << 20;
  const server::WalStats stats = StreamWithReaders(bounded, kJobs);
  INFO("without truncation the log reached "
       << unbounded.max_bytes << " bytes; with it " << stats.max_bytes
       << " bytes, " << stats.truncations << " truncations, the longest "
       << absl::FormatDuration(stats.longest_truncation));
  // Measured here: about 106 MB without truncation, 3.5-8 MB with it (5.6-18
  // MB with another test's work beside it; before PASSIVE rounds waited for
  // a queued truncation, rounds every step of log kept taking the checkpoint
  // lock from it and the log reached 93 MB once); a truncation held the
  // writer up to about 250 ms on this 2-core machine's loaded disk.
  CHECK(unbounded.truncations == 0);
  CHECK(unbounded.max_bytes > 4 * bounded.force_bytes);
  CHECK(stats.truncations > 0);
  // The bound is kept between batches and only when the reader lets the
  // truncation through, so on a loaded machine the log can overshoot it
  // (74 MB once, with both cores busy building): what must hold is that it
  // stays well below the unbounded growth.
  CHECK(stats.max_bytes < unbounded.max_bytes / 2);
  CHECK(stats.longest_truncation < absl::Seconds(1));
}

TEST_CASE("A checkpoint is called for every step of log and past the bound") {
  server::WalPolicy policy;
  policy.step_bytes = 1000;
  policy.checkpoint_bytes = 10000;
  int64_t mark = 0;
  CHECK_FALSE(server::CheckpointDue(policy, 999, &mark));
  CHECK(server::CheckpointDue(policy, 1000, &mark));
  CHECK(mark == 1000);
  // The next step is counted from the last call, not from frame one.
  CHECK_FALSE(server::CheckpointDue(policy, 1999, &mark));
  CHECK(server::CheckpointDue(policy, 2500, &mark));
  CHECK(mark == 2500);
  // A log truncated or restarted starts counting again.
  CHECK_FALSE(server::CheckpointDue(policy, 600, &mark));
  CHECK(mark == 0);
  CHECK(server::CheckpointDue(policy, 1000, &mark));
  // Past the bound, every commit calls for one.
  mark = 0;
  CHECK(server::CheckpointDue(policy, 10000, &mark));
  CHECK(server::CheckpointDue(policy, 10001, &mark));
}

// One power loss: the writer commits batches of rows (x, 2 KB of padding)
// in order until the power goes off after `writes` writes; the files are then
// taken back to what their syncs made durable, as a reboot finds them.
struct PowerLoss {
  bool fired = false;         // the power went off before the writes ended
  std::set<int> acked;        // rows whose job answered OK
  std::vector<int64_t> rows;  // what the file holds after the reboot
  std::string integrity;
};
PowerLoss RunToPowerLoss(int writes, bool sync_commits) {
  FaultVfs& vfs = FaultVfs::Install();
  vfs.Clear();
  TempDir dir;
  const std::string path = dir.file("p.db");
  PowerLoss out;
  {
    auto db = SqliteDb::Open(path, FaultVfs::kName);
    REQUIRE(db.ok());
    REQUIRE(
        (*db)->Exec("CREATE TABLE p (x INTEGER PRIMARY KEY, pad BLOB)").ok());
    if (sync_commits) REQUIRE((*db)->Exec("PRAGMA synchronous=FULL").ok());
    // A small bound, so that checkpoints and truncations happen too.
    server::WalPolicy wal;
    wal.checkpoint_bytes = 64 << 10;
    wal.force_bytes = 256 << 10;
    SqliteWriter writer(std::move(*db), path, FaultVfs::kName, nullptr, wal);
    vfs.RecordUnsynced();
    vfs.PowerOffAfter(writes);
    int x = 0;
    for (int batch = 0; batch < 30 && !vfs.powered_off(); ++batch) {
      std::vector<std::pair<int, std::future<absl::Status>>> jobs;
      for (int i = 0; i < 8; ++i) {
        auto done = std::make_shared<std::promise<absl::Status>>();
        jobs.emplace_back(++x, done->get_future());
        writer.Submit(
            [x](SqliteDb& db) -> absl::Status {
              ASSIGN_OR_RETURN(server::Statement * s,
                               db.Prepare("INSERT INTO p (x, pad) VALUES (?1, "
                                          "zeroblob(2048))"));
              s->Bind(1, int64_t{x});
              return s->Run();
            },
            [done](absl::Status st) { done->set_value(st); });
      }
      for (auto& [row, f] : jobs) {
        if (f.get().ok()) out.acked.insert(row);
      }
    }
    out.fired = vfs.powered_off();
  }  // every connection closed: what they still try to write fails
  vfs.RestoreSynced();
  vfs.Clear();
  // The reboot: a plain connection recovers the file.
  auto db = SqliteDb::Open(path);
  REQUIRE(db.ok());
  out.integrity = testing::QueryText(path, "PRAGMA integrity_check");
  auto rows = (*db)->Prepare("SELECT x FROM p ORDER BY x");
  REQUIRE(rows.ok());
  while (true) {
    absl::StatusOr<bool> row = (*rows)->Step();
    REQUIRE(row.ok());
    if (!*row) break;
    out.rows.push_back((*rows)->ColumnInt(0));
  }
  (*rows)->Reset();
  return out;
}

TEST_CASE(
    "After a power loss the file is consistent and holds a prefix of the "
    "commits: every acknowledged one when each commit syncs") {
  for (const bool sync_commits : {false, true}) {
    int points = 0, acked = 0, acked_lost = 0;
    // The power goes off after n writes, n growing until the run ends
    // first.
    for (int n = 0;; n += 1 + n / 3) {
      INFO((sync_commits ? "synchronous=FULL" : "synchronous=NORMAL")
           << ", power off after " << n << " writes");
      const PowerLoss r = RunToPowerLoss(n, sync_commits);
      if (!r.fired) break;
      ++points;
      CHECK(r.integrity == "ok");
      // Commits are durable in their order: rows 1..m, no gap.
      for (size_t i = 0; i < r.rows.size(); ++i) {
        REQUIRE(r.rows[i] == static_cast<int64_t>(i) + 1);
      }
      const int kept = static_cast<int>(r.rows.size());
      acked += static_cast<int>(r.acked.size());
      for (int x : r.acked) acked_lost += x > kept;
      // A row never acknowledged may be there (its commit reached the
      // disk, its answer did not); with synced commits every acknowledged
      // one is.
      if (sync_commits) CHECK((r.acked.empty() || *r.acked.rbegin() <= kept));
    }
    std::printf(
        "power loss, synchronous=%s: %d power-off points, %d acknowledged "
        "writes, %d of them lost\n",
        sync_commits ? "FULL" : "NORMAL", points, acked, acked_lost);
    CHECK(points > 10);
    if (sync_commits) CHECK(acked_lost == 0);
  }
}

TEST_CASE("Jobs submitted after closing fail as unavailable") {
  Fixture f;
  CHECK(f.Submit(Fixture::Insert(1)).get().ok());
  f.writer->Close();
  CHECK(f.Submit(Fixture::Insert(2)).get().code() ==
        absl::StatusCode::kUnavailable);
  CHECK(f.Count() == 1);
}

}  // namespace
}  // namespace noqueue
