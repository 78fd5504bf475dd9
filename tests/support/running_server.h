// The real server on a free port and a real SQLite file under a TempDir,
// with a C++ client talking gRPC to it; and a check of refusals.
#ifndef NOQUEUE_TESTS_SUPPORT_RUNNING_SERVER_H_
#define NOQUEUE_TESTS_SUPPORT_RUNNING_SERVER_H_

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "clients/noqueue_client.h"
#include "server/noqueue_server.h"
#include "tests/support/test_util.h"

namespace noqueue::testing {

// Options of a test server on a free port, its database under `dir`, with
// no rate limit on keys (tests call fast).
inline server::ServerOptions TestOptions(const TempDir& dir,
                                         int max_attendees = 500) {
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.db_path = dir.file("var/noqueue.db");
  options.snapshot_every = 50;
  options.limits.max_attendees = max_attendees;
  options.access.key_rate = 0;
  options.access.anonymous_rate = 0;
  return options;
}

// A client of `server` calling with `credential`.
inline std::unique_ptr<client::NoQueueClient> ClientOf(
    const server::NoQueueServer& server, const std::string& credential,
    absl::Duration deadline = absl::Seconds(20)) {
  client::ClientOptions options;
  options.deadline = deadline;
  options.credential = credential;
  return client::NoQueueClient::Connect(
      "127.0.0.1:" + std::to_string(server.port()), options);
}

// The real server with a client holding its first ADMIN key: on a database
// in a folder of its own (removed with it), in `dir`, or as `options` say.
struct Running {
  Running() : Running(std::make_unique<TempDir>()) {}
  explicit Running(const TempDir& dir, int max_attendees = 500)
      : Running(TestOptions(dir, max_attendees)) {}
  explicit Running(const server::ServerOptions& options) { Start(options); }

  // The folder of its own (null when given one).
  std::unique_ptr<TempDir> own_dir;
  std::unique_ptr<server::NoQueueServer> server;
  std::string admin_key;
  // Calls with the ADMIN key made at the first start.
  std::unique_ptr<client::NoQueueClient> client;

 private:
  explicit Running(std::unique_ptr<TempDir> dir) : own_dir(std::move(dir)) {
    Start(TestOptions(*own_dir));
  }
  void Start(const server::ServerOptions& options) {
    auto started = server::NoQueueServer::Start(options);
    REQUIRE(started.ok());
    server = *std::move(started);
    auto key = client::ReadCredentialFile(server::AdminKeyPath(options));
    REQUIRE(key.ok());
    admin_key = *key;
    client = ClientOf(*server, admin_key);
  }
};

// Checks that `r` failed with `code` and a message that contains `needle`.
template <typename T>
void ExpectError(const absl::StatusOr<T>& r, absl::StatusCode code,
                 const std::string& needle) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == code);
  INFO(r.status().message());
  CHECK(std::string(r.status().message()).find(needle) != std::string::npos);
}

}  // namespace noqueue::testing

#endif  // NOQUEUE_TESTS_SUPPORT_RUNNING_SERVER_H_
