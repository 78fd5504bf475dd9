// noqueue-server: the NoQueue gRPC service on an embedded SQLite file.
//
//   noqueue-server --listen=127.0.0.1:50051 --db=var/noqueue.db
//
// Stops gracefully on SIGINT or SIGTERM: running RPCs get a few seconds,
// the model is snapshotted, the store committed and closed.
#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "server/noqueue_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "address:port to serve gRPC on (port 0 picks a free one)");
ABSL_FLAG(std::string, db, "var/noqueue.db",
          "SQLite database file, created with its schema when missing");
ABSL_FLAG(int, snapshot_every, 1000,
          "snapshot the model every this many learned events");
ABSL_FLAG(int, max_attendees, 20000, "largest schedule accepted");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "NoQueue: tells each attendee exactly when to come.");
  absl::ParseCommandLine(argc, argv);

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  noqueue::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.db_path = absl::GetFlag(FLAGS_db);
  options.snapshot_every = absl::GetFlag(FLAGS_snapshot_every);
  options.limits.max_attendees = absl::GetFlag(FLAGS_max_attendees);
  auto server = noqueue::server::NoQueueServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "noqueue-server: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf(
      "noqueue-server listening on port %d (db %s, %lld events learned)\n",
      (*server)->port(), options.db_path.c_str(),
      static_cast<long long>((*server)->learning().events_learned()));
  std::fflush(stdout);

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::printf("noqueue-server: signal %d, shutting down\n", sig);
    std::fflush(stdout);
    (*server)->Shutdown(absl::Seconds(5));
  });
  (*server)->Wait();
  stopper.join();
  std::printf("noqueue-server: stopped\n");
  return 0;
}
