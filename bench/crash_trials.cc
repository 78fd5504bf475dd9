// crash_trials: kill -9 the real server while tags stream in and schedules
// and crowd reports are written, restart it on the same file, and check that
// every acknowledged write is there, whole.
//
//   crash_trials --server=build/server/noqueue-server --trials=200
//
// Each trial starts noqueue-server on one database file, makes a schedule,
// streams tags for it (in chunks, on a thread) while another thread creates
// schedules of 50 and sends crowd reports, and kills the server with
// SIGKILL after a random delay. Then, with the server down, the file must
// pass PRAGMA integrity_check and hold every acknowledged report; restarted
// on it, the server must answer DUPLICATE for every tag it had acknowledged
// (ACCEPTED or DUPLICATE) and store the others when they are sent again
// (none refused), and every schedule of the venue must be whole (all its
// convocations: a schedule is never half stored), the acknowledged ones
// first. After the last trial, the model the server restored (its snapshot
// and the log after it) must equal a rebuild from the whole log: a copy of
// the file without its snapshot, served by a second server, must answer
// GetModelInfo and ExplainPrediction identically. Prints the counts; exits
// non-zero on any loss, half write, corruption or difference.
#include <google/protobuf/util/message_differencer.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/noqueue_client.h"
#include "proto/base/tool_flags.h"
#include "proto/base/wire_time.h"
#include "tests/support/server_process.h"

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
using google::protobuf::util::MessageDifferencer;
using testing::ServerProcess;

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
  int64_t schedules_acked = 0, schedules_lost = 0, schedules_partial = 0;
  int64_t reports_acked = 0, reports_lost = 0;
  absl::Duration max_restart;
};

// The number of rows `sql` (with one text parameter) counts in the file.
int64_t CountIn(const std::string& path, const char* sql,
                const std::string& arg) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(s, 1, arg.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return n;
}

constexpr int kBigSchedule = 400, kSmallSchedule = 50;

// Schedules of kSmallSchedule attendees and crowd reports, written one after
// the other until the server dies; what was acknowledged is kept.
struct SideWrites {
  std::vector<std::string> schedules;  // acknowledged schedule ids
  std::vector<std::string> reports;    // acknowledged report ids
};
void WriteUntilDeath(NoQueueClient& client, int trial, SideWrites* out) {
  const absl::Time day = absl::FromUnixSeconds(1772442000);
  for (int k = 0;; ++k) {
    v1::CreateScheduleRequest request;
    request.set_venue_id("crash-venue");
    request.set_request_id(absl::StrCat("t", trial, "-s", k));
    // Days of their own, before the trials' big schedules (which go back a
    // day per trial from `day`): 100 per trial, down to about 1971 after
    // 200 trials.
    const absl::Time start =
        day - absl::Hours(24 * (300 + 100 * trial + k % 100));
    *request.mutable_window_start() = ToTimestamp(start);
    *request.mutable_window_end() = ToTimestamp(start + absl::Hours(2));
    for (int i = 0; i < kSmallSchedule; ++i) {
      request.add_attendees()->set_attendee_id(absl::StrCat("p", i));
    }
    auto schedule = client.CreateSchedule(request);
    if (!schedule.ok()) return;
    out->schedules.push_back(schedule->schedule_id());
    v1::ReportQueueRequest report;
    report.set_venue_id("crash-venue");
    *report.mutable_observed_at() = ToTimestamp(absl::Now());
    report.set_queue_length(3 + k % 10);
    report.set_wait_state(v1::WAIT_STATE_WAITING);
    report.set_reporter_token(absl::StrCat("crash-reporter-", trial, "-", k));
    auto answer = client.ReportQueue(report);
    if (!answer.ok()) return;
    out->reports.push_back(answer->report_id());
  }
}

// Whether two servers' models answer the same: GetModelInfo and
// ExplainPrediction for attendees of `schedule`, every field equal (numbers
// exactly).
bool SameModel(NoQueueClient& a, NoQueueClient& b, const v1::Schedule& schedule,
               std::string* why) {
  auto info_a = a.GetModelInfo("crash-venue");
  auto info_b = b.GetModelInfo("crash-venue");
  if (!info_a.ok() || !info_b.ok()) {
    *why = "GetModelInfo failed";
    return false;
  }
  if (!MessageDifferencer::Equals(*info_a, *info_b)) {
    *why = absl::StrCat("GetModelInfo differs:\n", info_a->DebugString(),
                        "\nagainst a rebuild:\n", info_b->DebugString());
    return false;
  }
  for (int i = 0; i < schedule.convocations_size(); i += 37) {
    v1::ExplainPredictionRequest request;
    request.set_venue_id("crash-venue");
    *request.mutable_convocation_time() =
        schedule.convocations(i).convocation_time();
    request.mutable_attendee()->set_attendee_id(
        schedule.convocations(i).attendee_id());
    auto pa = a.ExplainPrediction(request);
    auto pb = b.ExplainPrediction(request);
    if (!pa.ok() || !pb.ok() || !MessageDifferencer::Equals(*pa, *pb)) {
      *why = absl::StrCat("ExplainPrediction differs for ",
                          schedule.convocations(i).attendee_id());
      return false;
    }
  }
  return true;
}

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
  v1::Schedule last_schedule;
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
    for (int i = 0; i < kBigSchedule; ++i) {
      request.add_attendees()->set_attendee_id(absl::StrCat("a", i));
    }
    auto schedule = client->CreateSchedule(request);
    if (!schedule.ok()) {
      std::fprintf(stderr, "crash_trials: trial %d: CreateSchedule: %s\n",
                   trial, std::string(schedule.status().message()).c_str());
      return 1;
    }
    last_schedule = *schedule;
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
    SideWrites side;
    auto side_client = Connect(*server, key);
    std::thread writer([&] { WriteUntilDeath(*side_client, trial, &side); });
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    server->Stop(SIGKILL);
    streamer.join();
    writer.join();
    server.reset();
    for (const std::string& id : side.reports) {
      if (CountIn(db, "SELECT count(*) FROM crowd_reports WHERE report_id = ?1",
                  id) != 1) {
        ++totals.reports_lost;
      }
    }
    totals.reports_acked += static_cast<int64_t>(side.reports.size());

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
    // Every acknowledged schedule is there; no schedule is half there.
    for (const std::string& id : side.schedules) {
      auto stored = client->GetSchedule(id);
      if (!stored.ok()) ++totals.schedules_lost;
    }
    totals.schedules_acked += static_cast<int64_t>(side.schedules.size());
    auto listed = client->ListAllSchedules("crash-venue");
    if (!listed.ok()) {
      std::fprintf(stderr, "crash_trials: trial %d: ListAllSchedules: %s\n",
                   trial, std::string(listed.status().message()).c_str());
      return 1;
    }
    for (const v1::Schedule& s : *listed) {
      auto whole = client->GetSchedule(s.schedule_id());
      const int n = whole.ok() ? whole->convocations_size() : -1;
      if (n != kBigSchedule && n != kSmallSchedule) ++totals.schedules_partial;
    }
    ++totals.trials;
    server->Stop(SIGKILL);
  }
  // The model restored after the last kill against a rebuild from the log:
  // a copy of the file (killed again, so as it was) without its snapshot.
  bool same_model = true;
  if (totals.trials > 0) {
    const std::string copy = dir + "/rebuild.db";
    for (const char* suffix : {"", "-wal"}) {
      std::error_code ec;
      std::filesystem::copy_file(
          db + suffix, copy + suffix,
          std::filesystem::copy_options::overwrite_existing, ec);
    }
    sqlite3* c = nullptr;
    sqlite3_open(copy.c_str(), &c);
    const bool dropped = sqlite3_exec(c, "DELETE FROM model_snapshots", nullptr,
                                      nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(c);
    ServerProcess restored(binary, args);
    ServerProcess rebuilt(
        binary, std::vector<std::string>{"--listen=127.0.0.1:0", "--db=" + copy,
                                         "--key_rate=0"});
    std::string why = dropped ? "" : "cannot drop the copy's snapshot";
    same_model = dropped && restored.port() != 0 && rebuilt.port() != 0;
    if (same_model) {
      auto a = Connect(restored, key);
      auto b = Connect(rebuilt, key);
      same_model = SameModel(*a, *b, last_schedule, &why);
    }
    if (!same_model) {
      std::fprintf(stderr,
                   "crash_trials: the restored model is not the rebuilt one: "
                   "%s\n",
                   why.c_str());
    }
  }
  std::printf(
      "crash_trials: %d kill -9 trials, %lld tags sent, %lld acknowledged, "
      "%lld lost, %lld refused when sent again; %lld schedules acknowledged, "
      "%lld lost, %lld stored in part; %lld reports acknowledged, %lld lost; "
      "%d failed integrity_check; restored model %s a rebuild from the log; "
      "slowest start %s\n",
      totals.trials, static_cast<long long>(totals.sent),
      static_cast<long long>(totals.acknowledged),
      static_cast<long long>(totals.lost),
      static_cast<long long>(totals.refused),
      static_cast<long long>(totals.schedules_acked),
      static_cast<long long>(totals.schedules_lost),
      static_cast<long long>(totals.schedules_partial),
      static_cast<long long>(totals.reports_acked),
      static_cast<long long>(totals.reports_lost), totals.corrupt,
      same_model ? "equals" : "DIFFERS FROM",
      absl::FormatDuration(totals.max_restart).c_str());
  if (absl::GetFlag(FLAGS_dir).empty()) std::filesystem::remove_all(dir);
  const bool ok = totals.lost == 0 && totals.refused == 0 &&
                  totals.corrupt == 0 && totals.schedules_lost == 0 &&
                  totals.schedules_partial == 0 && totals.reports_lost == 0 &&
                  same_model;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace noqueue

int main(int argc, char** argv) {
  noqueue::ParseToolFlags(
      argc, argv,
      "crash_trials: kill -9 the real server while tags, schedules and crowd "
      "reports are written, restart it, and check every acknowledged write");
  return noqueue::Run();
}
