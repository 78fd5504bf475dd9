// Durability under load, end to end: the write-ahead log stays bounded while
// 24,000 tags stream into the real server, and every acknowledged tag is
// stored.
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/noqueue_client.h"
#include "server/sqlite_writer.h"
#include "tests/running_server.h"
#include "tests/sqlite_peek.h"
#include "tests/test_util.h"

namespace noqueue {
namespace {

using testing::Running;
using testing::ScheduleRequest;
using testing::Tag;
using testing::TempDir;

int64_t FileBytes(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

TEST_CASE("The WAL stays under its bound while tags stream in") {
  TempDir dir;
  constexpr int kAttendees = 2000;
  constexpr int kSchedules = 6;
  Running s(testing::TestOptions(dir, kAttendees));
  REQUIRE(testing::TestOptions(dir).db_path == dir.file("var/noqueue.db"));
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  std::vector<v1::ArrivalEvent> tags;
  for (int day = 0; day < kSchedules; ++day) {
    auto schedule =
        s.client->CreateSchedule(ScheduleRequest("clinic-1", kAttendees, day));
    REQUIRE(schedule.ok());
    for (v1::ArrivalKind kind : {v1::ARRIVED, v1::SERVICE_STARTED}) {
      for (const v1::Convocation& c : schedule->convocations()) {
        const absl::Time at = ToTime(c.convocation_time()) +
                              absl::Minutes(kind == v1::ARRIVED ? 0 : 5);
        tags.push_back(Tag(absl::StrCat("t", tags.size()),
                           schedule->schedule_id(), c.attendee_id(), kind, at));
      }
    }
  }
  // Samples the -wal file's size while the tags stream.
  const std::string db = dir.file("var/noqueue.db");
  const std::string wal = db + "-wal";
  std::atomic<bool> streaming{true};
  std::atomic<int64_t> max_file{0};
  std::thread sampler([&] {
    while (streaming) {
      max_file = std::max<int64_t>(max_file, FileBytes(wal));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::vector<v1::ArrivalAck> acks;
  const absl::Time start = absl::Now();
  const absl::Status streamed = s.client->StreamArrivals(tags, &acks);
  const absl::Duration took = absl::Now() - start;
  streaming = false;
  sampler.join();
  REQUIRE(streamed.ok());
  REQUIRE(acks.size() == tags.size());
  int accepted = 0;
  for (const v1::ArrivalAck& ack : acks)
    accepted += ack.status() == v1::ACCEPTED;
  CHECK(accepted == static_cast<int>(tags.size()));

  const server::WalStats stats = s.server->store().wal_stats();
  const server::WalPolicy policy;
  INFO(tags.size() << " tags in " << absl::FormatDuration(took)
                   << "; WAL file max " << max_file << " bytes, log max "
                   << stats.max_bytes << " bytes, " << stats.truncations
                   << " truncations, longest "
                   << absl::FormatDuration(stats.longest_truncation));
  // The log never held twice its checkpoint size (one stream's group
  // commits let PASSIVE catch up; sqlite_writer_test shows the growth that
  // the truncation stops when it cannot).
  CHECK(max_file < 2 * policy.checkpoint_bytes);
  CHECK(stats.max_bytes < 2 * policy.checkpoint_bytes);
  CHECK(testing::QueryInt(db, "SELECT count(*) FROM arrival_events") ==
        static_cast<int64_t>(tags.size()));
}

}  // namespace
}  // namespace noqueue
