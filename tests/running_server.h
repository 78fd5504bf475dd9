// The real server on a free port and a real SQLite file under a TempDir,
// with a C++ client talking gRPC to it; and a check of refusals.
#ifndef NOQUEUE_TESTS_RUNNING_SERVER_H_
#define NOQUEUE_TESTS_RUNNING_SERVER_H_

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "clients/noqueue_client.h"
#include "server/noqueue_server.h"
#include "tests/test_util.h"

namespace noqueue::testing {

struct Running {
  explicit Running(const TempDir& dir, int max_attendees = 500) {
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.db_path = dir.file("var/noqueue.db");
    options.snapshot_every = 50;
    options.limits.max_attendees = max_attendees;
    auto started = server::NoQueueServer::Start(options);
    REQUIRE(started.ok());
    server = *std::move(started);
    client = client::NoQueueClient::Connect(
        "127.0.0.1:" + std::to_string(server->port()), absl::Seconds(20));
  }
  std::unique_ptr<server::NoQueueServer> server;
  std::unique_ptr<client::NoQueueClient> client;
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

#endif  // NOQUEUE_TESTS_RUNNING_SERVER_H_
