// crash_trials: kill -9 the real server while tags stream in, restart it on
// the same file, and check that every acknowledged tag is there.
//
//   crash_trials --server=build/server/noqueue-server --trials=200
//
// Each trial starts noqueue-server on one database file, makes a schedule,
// streams tags for it (in chunks, on a thread) and kills the server with
// SIGKILL after a random delay. Then, with the server down, the file must
// pass PRAGMA integrity_check; restarted on it, the server must answer
// DUPLICATE for every tag it had acknowledged (ACCEPTED or DUPLICATE), and
// store the others when they are sent again (none refused). Prints the counts;
// exits non-zero on any loss or corruption.
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/noqueue_client.h"
#include "clients/server_process.h"
#include "proto/base/wire_time.h"

ABSL_FLAG(std::string, server, "", "the noqueue-server binary");
ABSL_FLAG(int, trials, 10, "kill -9 trials");
ABSL_FLAG(int, max_delay_ms, 600,
          "the kill comes after 20 ms to this many ms of streaming");
ABSL_FLAG(std::string, dir, "",
          "folder for the database (default: a new one under /tmp)");
ABSL_FLAG(uint64_t, seed, 17, "random seed of the kill times");

namespace noqueue {
namespace {

using client::NoQueueClient;
using client::ServerProcess;

// PRAGMA integrity_check of the file, with no server on it.
std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  std::string result = "cannot open";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return result;
}

std::unique_ptr<NoQueueClient> Connect(const ServerProcess& server,
                                       const std::string& key) {
  client::ClientOptions options;
  options.deadline = absl::Seconds(30);
  options.credential = key;
  return NoQueueClient::Connect(server.target(), options);
}

v1::Venue Venue() {
  v1::Venue v;
  v.set_venue_id("crash-venue");
  v.set_display_name("Crash trials");
  v.set_convocation_type(v1::MUSEUM);
  v.set_time_zone("Europe/Paris");
  v.set_service_points(4);
  v.mutable_mean_service_time()->set_seconds(120);
  return v;
}

struct Totals {
  int trials = 0;
  int64_t sent = 0;
  int64_t acknowledged = 0;
  int64_t lost = 0;     // acknowledged, then not found after the restart
  int64_t refused = 0;  // sent again after the restart and refused
  int corrupt = 0;
  absl::Duration max_restart;
};

int Run() {
  const std::string binary = absl::GetFlag(FLAGS_server);
  if (binary.empty()) {
    std::fprintf(stderr, "crash_trials: --server is required\n");
    return 2;
  }
  std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    std::string tmpl = "/tmp/noqueue-crash-XXXXXX";
    dir = mkdtemp(tmpl.data());
  }
  const std::string db = dir + "/noqueue.db";
  const std::vector<std::string> args = {"--listen=127.0.0.1:0", "--db=" + db,
                                         "--key_rate=0"};
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  std::uniform_int_distribution<int> delay_ms(
      20, std::max(21, absl::GetFlag(FLAGS_max_delay_ms)));
  Totals totals;
  std::string key;
  for (int trial = 0; trial < absl::GetFlag(FLAGS_trials); ++trial) {
    const absl::Time started = absl::Now();
    auto server = std::make_unique<ServerProcess>(binary, args);
    if (server->port() == 0) {
      std::fprintf(stderr,
                   "crash_trials: trial %d: the server did not start\n%s",
                   trial, server->output().c_str());
      return 1;
    }
    totals.max_restart = std::max(totals.max_restart, absl::Now() - started);
    if (key.empty()) {
      auto read = client::ReadCredentialFile(dir + "/admin.key");
      if (!read.ok()) {
        std::fprintf(stderr, "crash_trials: no admin key\n");
        return 1;
      }
      key = *read;
    }
    auto client = Connect(*server, key);
    if (!client->UpsertVenue(Venue()).ok()) {
      std::fprintf(stderr, "crash_trials: trial %d: UpsertVenue failed\n",
                   trial);
      return 1;
    }
    v1::CreateScheduleRequest request;
    request.set_venue_id("crash-venue");
    const absl::Time start = absl::FromUnixSeconds(1772442000);  // 2026-03-02
    *request.mutable_window_start() =
        ToTimestamp(start - absl::Hours(24 * trial));
    *request.mutable_window_end() =
        ToTimestamp(start - absl::Hours(24 * trial) + absl::Hours(8));
    for (int i = 0; i < 400; ++i) {
      request.add_attendees()->set_attendee_id(absl::StrCat("a", i));
    }
    auto schedule = client->CreateSchedule(request);
    if (!schedule.ok()) {
      std::fprintf(stderr, "crash_trials: trial %d: CreateSchedule: %s\n",
                   trial, std::string(schedule.status().message()).c_str());
      return 1;
    }
    std::vector<v1::ArrivalEvent> tags;
    for (v1::ArrivalKind kind :
         {v1::ARRIVED, v1::SERVICE_STARTED, v1::SERVICE_ENDED}) {
      for (const v1::Convocation& c : schedule->convocations()) {
        v1::ArrivalEvent e;
        e.set_event_id(absl::StrCat("t", trial, "-", tags.size()));
        e.set_schedule_id(schedule->schedule_id());
        e.set_attendee_id(c.attendee_id());
        e.set_kind(kind);
        *e.mutable_observed_at() =
            ToTimestamp(ToTime(c.convocation_time()) +
                        absl::Minutes(kind == v1::ARRIVED ? 0 : 3 * kind));
        e.set_device_id("gate");
        tags.push_back(std::move(e));
      }
    }
    // Streams chunks until the server dies; acked[i]: tag i was acknowledged.
    std::vector<char> acked(tags.size(), 0);
    std::atomic<size_t> sent{0};
    std::thread streamer([&] {
      constexpr size_t kChunk = 100;
      for (size_t at = 0; at < tags.size(); at += kChunk) {
        std::vector<v1::ArrivalEvent> chunk(
            tags.begin() + at,
            tags.begin() + std::min(tags.size(), at + kChunk));
        sent = at + chunk.size();
        std::vector<v1::ArrivalAck> acks;
        const absl::Status st = client->StreamArrivals(chunk, &acks);
        for (size_t i = 0; i < acks.size(); ++i) {
          const auto status = acks[i].status();
          if (status == v1::ACCEPTED || status == v1::DUPLICATE)
            acked[at + i] = 1;
        }
        if (!st.ok()) return;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    server->Stop(SIGKILL);
    streamer.join();
    server.reset();

    const std::string integrity = IntegrityCheck(db);
    if (integrity != "ok") {
      ++totals.corrupt;
      std::fprintf(stderr, "crash_trials: trial %d: integrity_check: %s\n",
                   trial, integrity.c_str());
    }
    // Restarted, the server knows every acknowledged tag and none of the
    // others; sending everything sent again tells which is which.
    const absl::Time restarting = absl::Now();
    server = std::make_unique<ServerProcess>(binary, args);
    totals.max_restart = std::max(totals.max_restart, absl::Now() - restarting);
    if (server->port() == 0) {
      std::fprintf(stderr, "crash_trials: trial %d: no restart\n%s", trial,
                   server->output().c_str());
      return 1;
    }
    client = Connect(*server, key);
    const std::vector<v1::ArrivalEvent> again(tags.begin(),
                                              tags.begin() + sent.load());
    std::vector<v1::ArrivalAck> acks;
    if (absl::Status s3 = client->StreamArrivals(again, &acks); !s3.ok()) {
      std::fprintf(stderr, "crash_trials: trial %d: resend: %s\n", trial,
                   std::string(s3.message()).c_str());
      return 1;
    }
    for (size_t i = 0; i < acks.size(); ++i) {
      if (acked[i] && acks[i].status() != v1::DUPLICATE) ++totals.lost;
      if (acks[i].status() == v1::REJECTED) ++totals.refused;
      totals.acknowledged += acked[i];
    }
    totals.sent += static_cast<int64_t>(again.size());
    ++totals.trials;
    server->Stop(SIGKILL);
  }
  std::printf(
      "crash_trials: %d kill -9 trials, %lld tags sent, %lld acknowledged, "
      "%lld lost, %lld refused when sent again, %d failed integrity_check, "
      "slowest "
      "start %s\n",
      totals.trials, static_cast<long long>(totals.sent),
      static_cast<long long>(totals.acknowledged),
      static_cast<long long>(totals.lost),
      static_cast<long long>(totals.refused), totals.corrupt,
      absl::FormatDuration(totals.max_restart).c_str());
  if (absl::GetFlag(FLAGS_dir).empty()) std::filesystem::remove_all(dir);
  return totals.lost == 0 && totals.refused == 0 && totals.corrupt == 0 ? 0 : 1;
}

}  // namespace
}  // namespace noqueue

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return noqueue::Run();
}
