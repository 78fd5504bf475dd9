// StoreFloor: the least the server's writes can cost. Raw SQLite on the
// server's own schema (server/sqlite_schema.h) and connection settings, in
// the bench process on one pinned thread: the rows a tag or a schedule
// leaves, with every index the schema keeps on them, many tags to a
// transaction or one schedule to each, and nothing else: no look-up, no
// savepoint, no cache, no thread hand-off, no gRPC. It writes less than the
// server does, never more: a schedule's row without the convocations its
// body repeats, no request id (nor its index entry and digest row), no
// convocation features; no secure_delete; the events are built before the
// clock runs.
//
// Beside the echo's CPU per call (what gRPC alone costs) and the planner in
// process, it bounds what a ratio target can reach: a server that spent
// only the echo's CPU and the floor's on a tag would carry
// echo / (echo + floor) of the echo's tags per core-second.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<StoreFloor> floor, StoreFloor::Open(dir));
//   ASSIGN_OR_RETURN(StoreFloor::Run tags, floor->Tags(/*seconds=*/2, 1));
//   double us_per_tag = 1e6 * tags.cpu_s / tags.calls;
#ifndef NOQUEUE_BENCH_STORE_FLOOR_H_
#define NOQUEUE_BENCH_STORE_FLOOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "noqueue/v1/scheduling.pb.h"
#include "server/store/sqlite/sqlite_db.h"

namespace noqueue::bench {

class StoreFloor {
 public:
  // Tags to a commit.
  static constexpr int kTagBatch = 256;

  // A database at `dir`/floor.db, made by the server's migrations.
  static absl::StatusOr<std::unique_ptr<StoreFloor>> Open(
      const std::string& dir);

  struct Run {
    int64_t calls = 0;  // tags, or schedules
    double wall_s = 0;
    double cpu_s = 0;  // the writing thread's, writes only
  };
  // The bench's tags (TagPlan::Synthetic), each its arrival_events row and
  // its live-day event, kTagBatch to a commit, for `seconds` on a thread
  // pinned to `cpu` (< 0: not pinned).
  absl::StatusOr<Run> Tags(double seconds, int cpu);
  // Copies of `schedule` (new ids), each in its own commit: its row, its
  // convocations' rows as the server writes them, and its live-day event.
  absl::StatusOr<Run> Schedules(const v1::Schedule& schedule, double seconds,
                                int cpu);

 private:
  explicit StoreFloor(std::unique_ptr<server::SqliteDb> db)
      : db_(std::move(db)) {}
  std::unique_ptr<server::SqliteDb> db_;
  int64_t next_id_ = 0;
};

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_STORE_FLOOR_H_
