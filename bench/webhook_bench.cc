// webhook_bench: how fast webhook events reach a local receiver, and how
// long after their commit.
//
//   webhook_bench [--events=20000] [--rate=1000] [--seconds=5]
//                 [--webhooks=1] [--threads=2]
//
// An in-process server on a temporary SQLite file, with `--webhooks`
// endpoints on a libmicrohttpd receiver on loopback (answering 200 at
// once). Events are committed through the store's writer exactly as a
// declared delay is (SqliteStore::AppendScheduleEvents, EVENT_DELAY_DECLARED,
// outbox rows in the same transaction), without gRPC in front.
//   1. Sustained: --events events committed in batches of 100 as fast as
//      the writer takes them; events per second from the first commit to the
//      last delivery.
//   2. Delay: --rate events per second for --seconds; the P50, P99 and max
//      delay from an event's created_at (stamped in its commit's
//      transaction) to its arrival at the receiver.
#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <microhttpd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/noqueue_client.h"
#include "proto/base/tool_flags.h"
#include "proto/base/wire_time.h"
#include "server/noqueue_server.h"

ABSL_FLAG(int, events, 20000, "sustained run: events to deliver");
ABSL_FLAG(int, rate, 1000, "delay run: events per second");
ABSL_FLAG(int, seconds, 5, "delay run: how long");
ABSL_FLAG(int, webhooks, 1, "endpoints (each gets every event)");
ABSL_FLAG(int, threads, 2, "the dispatcher's delivery threads");

namespace {

namespace v1 = ::noqueue::v1;
namespace server = ::noqueue::server;

// Records each event's delay from created_at to its arrival.
class Receiver {
 public:
  Receiver() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
        nullptr, nullptr, &Receiver::Handle, this, MHD_OPTION_SOCK_ADDR,
        reinterpret_cast<sockaddr*>(&a), MHD_OPTION_END);
    port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
  }
  ~Receiver() { MHD_stop_daemon(daemon_); }
  int port() const { return port_; }
  int64_t count() {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(delays_.size());
  }
  std::vector<absl::Duration> TakeDelays() {
    absl::MutexLock lock(&mu_);
    std::vector<absl::Duration> d;
    d.swap(delays_);
    return d;
  }

 private:
  static MHD_Result Handle(void* self, MHD_Connection* c, const char*,
                           const char*, const char*, const char* data,
                           size_t* size, void** state) {
    auto* r = static_cast<Receiver*>(self);
    if (*state == nullptr) {
      *state = new std::string;
      return MHD_YES;
    }
    auto* body = static_cast<std::string*>(*state);
    if (*size > 0) {
      body->append(data, *size);
      *size = 0;
      return MHD_YES;
    }
    const absl::Time now = absl::Now();
    v1::WebhookEvent e;
    if (google::protobuf::util::JsonStringToMessage(*body, &e).ok()) {
      absl::MutexLock lock(&r->mu_);
      r->delays_.push_back(now - noqueue::ToTime(e.created_at()));
    }
    delete body;
    *state = nullptr;
    MHD_Response* resp =
        MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
    const MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
  }
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  absl::Mutex mu_;
  std::vector<absl::Duration> delays_ ABSL_GUARDED_BY(mu_);
};

std::vector<v1::ScheduleEvent> Delays(const std::string& schedule_id, int n) {
  std::vector<v1::ScheduleEvent> events(n);
  for (v1::ScheduleEvent& e : events) {
    e.set_schedule_id(schedule_id);
    e.set_kind(v1::EVENT_DELAY_DECLARED);
    e.set_attendee_id("bench-attendee");
    *e.mutable_at() = noqueue::ToTimestamp(absl::Now());
    *e.mutable_delay() = noqueue::ToProtoDuration(absl::Minutes(10));
  }
  return events;
}

void Commit(server::SqliteStore& store, std::vector<v1::ScheduleEvent> events,
            std::atomic<int>* failures) {
  store.AppendScheduleEvents(
      std::move(events),
      [failures](absl::StatusOr<std::vector<v1::ScheduleEvent>> r) {
        if (!r.ok()) ++*failures;
      });
}

double Percentile(std::vector<absl::Duration> d, double p) {
  if (d.empty()) return 0;
  std::sort(d.begin(), d.end());
  const size_t i = std::min(d.size() - 1, static_cast<size_t>(p * d.size()));
  return absl::ToDoubleMilliseconds(d[i]);
}

bool WaitFor(Receiver& r, int64_t n, absl::Duration limit) {
  const absl::Time end = absl::Now() + limit;
  while (r.count() < n) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Microseconds(200));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  noqueue::ParseToolFlags(argc, argv,
                          "webhook_bench: how fast webhook events reach a "
                          "local receiver, and how long after their commit");
  const int n = absl::GetFlag(FLAGS_events);
  const int hooks = absl::GetFlag(FLAGS_webhooks);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           absl::StrCat("webhook_bench_", getpid()))
                              .string();
  std::filesystem::create_directories(dir);
  Receiver receiver;
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.db_path = dir + "/noqueue.db";
  options.access.enabled = false;
  options.webhooks.threads = absl::GetFlag(FLAGS_threads);
  options.webhooks.private_targets = true;  // the receivers are on loopback
  auto started = server::NoQueueServer::Start(options);
  if (!started.ok()) {
    std::fprintf(stderr, "webhook_bench: %s\n",
                 std::string(started.status().message()).c_str());
    return 1;
  }
  auto& s = **started;
  auto client = noqueue::client::NoQueueClient::Connect(
      absl::StrCat("127.0.0.1:", s.port()));
  v1::Venue venue;
  venue.set_venue_id("bench");
  venue.set_display_name("Bench");
  venue.set_time_zone("UTC");
  venue.set_convocation_type(v1::MEDICAL);
  venue.set_service_points(2);
  *venue.mutable_mean_service_time() =
      noqueue::ToProtoDuration(absl::Minutes(5));
  int rc = 0;
  if (!client->UpsertVenue(venue).ok()) return 1;
  for (int i = 0; i < hooks; ++i) {
    v1::CreateWebhookRequest h;
    h.set_venue_id("bench");
    h.set_url(absl::StrCat("http://127.0.0.1:", receiver.port(), "/hook/", i));
    h.add_kinds(v1::WEBHOOK_ATTENDEE_LATE);
    h.set_secret("bench-secret-0123456789");
    if (!client->CreateWebhook(h).ok()) return 1;
  }
  v1::CreateScheduleRequest sr;
  sr.set_venue_id("bench");
  *sr.mutable_window_start() =
      noqueue::ToTimestamp(absl::Now() + absl::Hours(1));
  *sr.mutable_window_end() = noqueue::ToTimestamp(absl::Now() + absl::Hours(3));
  sr.add_attendees()->set_attendee_id("bench-attendee");
  auto schedule = client->CreateSchedule(sr);
  if (!schedule.ok()) {
    std::fprintf(stderr, "webhook_bench: %s\n",
                 std::string(schedule.status().message()).c_str());
    return 1;
  }
  const std::string sid = schedule->schedule_id();
  std::atomic<int> failures{0};

  // 1. Sustained.
  receiver.TakeDelays();
  const int64_t base = 0;
  const absl::Time start = absl::Now();
  for (int done = 0; done < n; done += 100) {
    Commit(s.store(), Delays(sid, std::min(100, n - done)), &failures);
  }
  const bool all =
      WaitFor(receiver, base + int64_t{n} * hooks, absl::Seconds(120));
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  const std::vector<absl::Duration> sustained = receiver.TakeDelays();
  std::printf(
      "sustained: %d events x %d webhook(s) delivered in %.2f s: %.0f "
      "deliveries/s (delay under that load: P50 %.0f ms, P99 %.0f ms)%s\n",
      n, hooks, elapsed, sustained.size() / elapsed, Percentile(sustained, 0.5),
      Percentile(sustained, 0.99), all ? "" : " INCOMPLETE");
  if (!all) rc = 1;

  // 2. Delay at a steady rate, one event per commit.
  const int rate = absl::GetFlag(FLAGS_rate);
  const int total = rate * absl::GetFlag(FLAGS_seconds);
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < total; ++i) {
    const absl::Time due = t0 + absl::Seconds(1) * i / rate;
    const absl::Duration wait = due - absl::Now();
    if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
    Commit(s.store(), Delays(sid, 1), &failures);
  }
  const bool all2 =
      WaitFor(receiver, int64_t{total} * hooks, absl::Seconds(60));
  const std::vector<absl::Duration> steady = receiver.TakeDelays();
  std::printf(
      "steady: %d events/s for %d s x %d webhook(s): delay from commit to "
      "delivery P50 %.2f ms, P99 %.2f ms, max %.2f ms%s\n",
      rate, absl::GetFlag(FLAGS_seconds), hooks, Percentile(steady, 0.5),
      Percentile(steady, 0.99), Percentile(steady, 1.0),
      all2 ? "" : " INCOMPLETE");
  if (!all2 || failures > 0) rc = 1;
  const server::WebhookCounters c = s.webhooks().counters();
  std::printf("dispatcher: %lld delivered, %lld failed attempts, %lld dead\n",
              static_cast<long long>(c.delivered),
              static_cast<long long>(c.failed_attempts),
              static_cast<long long>(c.dead));
  s.Shutdown(absl::Seconds(1));
  std::filesystem::remove_all(dir);
  return rc;
}
