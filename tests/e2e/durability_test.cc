// Durability under load, end to end: the write-ahead log stays bounded while
// 24,000 tags stream into the real server, and every acknowledged tag is
// stored; on a real full disk (a small tmpfs, where the machine lets the
// test mount one) tags are refused, none acknowledged is lost, and the
// server recovers by itself when space comes back.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/noqueue_client.h"
#include "server/store/sqlite/sqlite_writer.h"
#include "tests/support/running_server.h"
#include "tests/support/sqlite_peek.h"
#include "tests/support/test_util.h"

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

// A tmpfs mounted at `path` while it lives ("" error() when it could not be:
// not root, or no right to mount in this container).
class Tmpfs {
 public:
  Tmpfs(const std::string& path, int64_t bytes) : path_(path) {
    ::mkdir(path.c_str(), 0700);
    if (::mount("tmpfs", path.c_str(), "tmpfs", 0,
                absl::StrCat("size=", bytes).c_str()) != 0) {
      error_ = std::strerror(errno);
    }
  }
  ~Tmpfs() {
    if (error_.empty()) ::umount2(path_.c_str(), MNT_DETACH);
  }
  const std::string& error() const { return error_; }
  bool Resize(int64_t bytes) {
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT,
                   absl::StrCat("size=", bytes).c_str()) == 0;
  }
  // What the database's files take on it.
  int64_t used() const {
    int64_t total = 0;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      total += FileBytes(path_ + "/var/noqueue.db" + suffix);
    }
    return total;
  }

 private:
  std::string path_;
  std::string error_;
};

TEST_CASE(
    "On a real full disk tags are refused, none acknowledged is lost, and "
    "the server recovers when space comes back") {
  TempDir dir;
  Tmpfs disk(dir.file("disk"), 64 << 20);
  if (!disk.error().empty()) {
    WARN("skipped: cannot mount a tmpfs here (" << disk.error() << ")");
    return;
  }
  auto options = testing::TestOptions(dir);
  options.db_path = dir.file("disk/var/noqueue.db");
  options.snapshot_every = 1 << 30;  // the model's snapshots aside
  std::vector<v1::ArrivalEvent> tags;
  std::vector<bool> acked;
  {
    Running s(options);
    REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
    auto schedule = s.client->CreateSchedule(ScheduleRequest("clinic-1", 500));
    REQUIRE(schedule.ok());
    for (v1::ArrivalKind kind :
         {v1::ARRIVED, v1::SERVICE_STARTED, v1::SERVICE_ENDED}) {
      for (const v1::Convocation& c : schedule->convocations()) {
        tags.push_back(Tag(absl::StrCat("full-", tags.size()),
                           schedule->schedule_id(), c.attendee_id(), kind,
                           ToTime(c.convocation_time()) +
                               absl::Minutes(3 * static_cast<int>(kind))));
      }
    }
    acked.assign(tags.size(), false);
    // Little room left: a few hundred KB past what the files take now.
    REQUIRE(disk.Resize(disk.used() + (256 << 10) + (1 << 20)));
    int refused_full = 0;
    for (size_t at = 0; at < tags.size(); at += 10) {
      std::vector<v1::ArrivalEvent> chunk(
          tags.begin() + at, tags.begin() + std::min(tags.size(), at + 10));
      std::vector<v1::ArrivalAck> acks;
      const absl::Status st = s.client->StreamArrivals(chunk, &acks);
      for (size_t i = 0; i < acks.size(); ++i) {
        if (acks[i].status() == v1::ACCEPTED) acked[at + i] = true;
        refused_full +=
            acks[i].status() == v1::REJECTED &&
            acks[i].code() ==
                static_cast<int>(absl::StatusCode::kResourceExhausted);
      }
      if (st.code() == absl::StatusCode::kResourceExhausted) ++refused_full;
    }
    const int acknowledged =
        static_cast<int>(std::count(acked.begin(), acked.end(), true));
    INFO(acknowledged << " of " << tags.size() << " tags acknowledged, "
                      << refused_full << " refusals for a full disk");
    CHECK(refused_full > 0);
    CHECK(acknowledged > 0);
    // Reads still answer.
    CHECK(s.client->GetVenue("clinic-1").ok());
    // Space comes back: the same tags again are all stored, the
    // acknowledged ones as duplicates.
    REQUIRE(disk.Resize(64 << 20));
    std::vector<v1::ArrivalAck> acks;
    absl::Status st;
    for (int attempt = 0; attempt < 50; ++attempt) {
      acks.clear();
      st = s.client->StreamArrivals(tags, &acks);
      if (st.ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(st.ok());
    REQUIRE(acks.size() == tags.size());
    int lost = 0, stored = 0;
    for (size_t i = 0; i < tags.size(); ++i) {
      if (acked[i]) lost += acks[i].status() != v1::DUPLICATE;
      stored +=
          acks[i].status() == v1::ACCEPTED || acks[i].status() == v1::DUPLICATE;
    }
    CHECK(lost == 0);
    CHECK(stored == static_cast<int>(tags.size()));
  }
  CHECK(testing::QueryText(options.db_path, "PRAGMA integrity_check") == "ok");
  CHECK(testing::QueryInt(options.db_path,
                          "SELECT count(*) FROM arrival_events") ==
        static_cast<int64_t>(tags.size()));
}

}  // namespace
}  // namespace noqueue
