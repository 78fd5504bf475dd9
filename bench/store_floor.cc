#include "bench/store_floor.h"

#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/cpu_pinning.h"
#include "bench/workloads.h"
#include "proto/base/status_macros.h"
#include "server/common/domain_enums.h"
#include "server/store/sqlite/sqlite_rows.h"
#include "server/store/sqlite/sqlite_schema.h"

namespace noqueue::bench {
namespace {

using server::SqliteDb;
using server::Statement;
using server::rows::ToMicros;

// Runs `once` (one round of writes: it returns the calls it made, and adds
// to *untimed_s the thread's CPU it spent on anything else) again and again
// for `seconds` on a thread pinned to `cpu`.
template <typename Once>
absl::StatusOr<StoreFloor::Run> Timed(double seconds, int cpu, Once once) {
  StoreFloor::Run run;
  absl::Status status;
  std::thread worker([&] {
    if (cpu >= 0) PinThisThread(cpu);
    using Clock = std::chrono::steady_clock;
    double untimed_s = 0;
    const double cpu0 = ThreadCpuSeconds();
    const auto t0 = Clock::now();
    while (status.ok() &&
           std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
      absl::StatusOr<int64_t> calls = once(&untimed_s);
      if (calls.ok()) {
        run.calls += *calls;
      } else {
        status = calls.status();
      }
    }
    run.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    run.cpu_s = ThreadCpuSeconds() - cpu0 - untimed_s;
  });
  worker.join();
  if (!status.ok()) return status;
  return run;
}

// `write` in one transaction, BEGIN and COMMIT prepared once as the
// server's writer does.
template <typename Write>
absl::Status InTransaction(SqliteDb& db, Write write) {
  RETURN_IF_ERROR(db.Run("BEGIN IMMEDIATE"));
  absl::Status st = write();
  if (st.ok()) st = db.Run("COMMIT");
  if (!st.ok()) db.Exec("ROLLBACK").IgnoreError();
  return st;
}

// A tag's or a schedule's live-day event, without a body.
absl::Status InsertLiveEvent(SqliteDb& db, const std::string& schedule_id,
                             v1::ScheduleEventKind kind,
                             const std::string& attendee_id, int64_t at_us) {
  ASSIGN_OR_RETURN(
      Statement * put,
      db.Prepare("INSERT INTO schedule_events (schedule_id, kind, "
                 "attendee_id, at_us, body) VALUES (?1, ?2, ?3, ?4, NULL)"));
  put->BindUncopied(1, schedule_id)
      .Bind(2, int64_t{kind})
      .BindUncopied(3, attendee_id)
      .Bind(4, at_us);
  return put->Run();
}

}  // namespace

absl::StatusOr<std::unique_ptr<StoreFloor>> StoreFloor::Open(
    const std::string& dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db,
                   SqliteDb::Open(dir + "/floor.db", ""));
  RETURN_IF_ERROR(server::MigrateSchema(*db));
  // The server's writer's page cache (server/sqlite_writer.cc).
  RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-8192"));
  return std::unique_ptr<StoreFloor>(new StoreFloor(std::move(db)));
}

absl::StatusOr<StoreFloor::Run> StoreFloor::Tags(double seconds, int cpu) {
  TagPlan plan = TagPlan::Synthetic(absl::StrCat("floor-", next_id_++));
  std::vector<v1::ArrivalEvent> batch(kTagBatch);
  int64_t tag = 0;
  const int64_t now_us = ToMicros(absl::Now());
  return Timed(seconds, cpu, [&](double* untimed_s) -> absl::StatusOr<int64_t> {
    const double made0 = ThreadCpuSeconds();
    for (v1::ArrivalEvent& e : batch) plan.Next("gate-0", &e);
    *untimed_s += ThreadCpuSeconds() - made0;
    RETURN_IF_ERROR(InTransaction(*db_, [&]() -> absl::Status {
      for (const v1::ArrivalEvent& e : batch) {
        ASSIGN_OR_RETURN(
            Statement * put,
            db_->Prepare("INSERT INTO arrival_events (event_id, schedule_id, "
                         "attendee_id, kind, observed_us, device_id, "
                         "received_us, learn, conv_seq) VALUES (?1, ?2, ?3, "
                         "?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (schedule_id, "
                         "event_id) DO NOTHING"));
        const int64_t observed_us = ToMicros(e.observed_at());
        // The plan's tags name each convocation thrice, in about the order
        // of the convocations (service tags lag their arrivals): rows of
        // nearby convocations, as the server's tags name.
        put->BindUncopied(1, e.event_id())
            .BindUncopied(2, e.schedule_id())
            .BindUncopied(3, e.attendee_id())
            .Bind(4, int64_t{e.kind()})
            .Bind(5, observed_us)
            .BindUncopied(6, e.device_id())
            .Bind(7, now_us)
            .Bind(8, int64_t{e.kind() == v1::ARRIVED ? 1 : 0})
            .Bind(9, tag++ / 3 + 1);
        RETURN_IF_ERROR(put->Run());
        RETURN_IF_ERROR(InsertLiveEvent(*db_, e.schedule_id(),
                                        server::ToLiveEvent(e.kind()),
                                        e.attendee_id(), observed_us));
      }
      return absl::OkStatus();
    }));
    return kTagBatch;
  });
}

absl::StatusOr<StoreFloor::Run> StoreFloor::Schedules(
    const v1::Schedule& schedule, double seconds, int cpu) {
  ASSIGN_OR_RETURN(
      Statement * venue,
      db_->Prepare("INSERT OR IGNORE INTO venues (venue_id, display_name, "
                   "convocation_type, time_zone, service_points, "
                   "mean_service_us, create_us, update_us) VALUES (?1, '', "
                   "?2, 'UTC', 1, 60000000, 0, 0)"));
  venue->Bind(1, schedule.venue_id())
      .Bind(2, int64_t{schedule.convocation_type()});
  RETURN_IF_ERROR(venue->Run());
  server::NewSchedule in;
  in.schedule = schedule;
  in.facts.resize(schedule.convocations_size());
  const std::string body =
      server::rows::WithoutConvocations(schedule).SerializeAsString();
  const std::string prefix = absl::StrCat("floor-", next_id_++, "-");
  int64_t made = 0;
  return Timed(seconds, cpu, [&](double*) -> absl::StatusOr<int64_t> {
    // Ids that sort by the time they were made, as the server's do.
    in.schedule.set_schedule_id(absl::StrFormat("%s%012d", prefix, made++));
    const v1::Schedule& s = in.schedule;
    RETURN_IF_ERROR(InTransaction(*db_, [&]() -> absl::Status {
      ASSIGN_OR_RETURN(
          Statement * put,
          db_->Prepare("INSERT INTO schedules (schedule_id, venue_id, "
                       "request_id, convocation_type, window_start_us, "
                       "window_end_us, create_us, body) VALUES (?1, ?2, "
                       "NULL, ?3, ?4, ?5, ?6, ?7)"));
      put->BindUncopied(1, s.schedule_id())
          .BindUncopied(2, s.venue_id())
          .Bind(3, int64_t{s.convocation_type()})
          .Bind(4, ToMicros(s.window_start()))
          .Bind(5, ToMicros(s.window_end()))
          .Bind(6, ToMicros(s.create_time()))
          .BindBlob(7, body);
      RETURN_IF_ERROR(put->Run());
      RETURN_IF_ERROR(server::rows::InsertConvocations(*db_, in));
      return InsertLiveEvent(*db_, s.schedule_id(), v1::EVENT_CREATED, "",
                             ToMicros(s.create_time()));
    }));
    return 1;
  });
}

}  // namespace noqueue::bench
