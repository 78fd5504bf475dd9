// The echo server: the ceiling of gRPC itself. A gRPC callback server with
// noqueue-server's settings that answers at once, unary and streaming, with
// a payload of the size each request asks for, so that a NoQueue RPC's
// ceiling carries the same bytes. noqueue-bench runs it as a child process
// (itself with --echo_server), pinned to the server's core.
//
//   if (absl::GetFlag(FLAGS_echo_server)) return ServeEcho();
//   EchoMessage m = EchoOf(/*request_bytes=*/120, /*reply_bytes=*/40);
#ifndef NOQUEUE_BENCH_ECHO_SERVER_H_
#define NOQUEUE_BENCH_ECHO_SERVER_H_

#include <cstddef>

#include "echo.pb.h"

namespace noqueue::bench {

// Serves on a free port of 127.0.0.1, prints "noqueue-bench echo listening
// on port N" and serves until killed; returns non-zero when it cannot start.
int ServeEcho();

// A request of `request_bytes` that asks for `reply_bytes` back.
EchoMessage EchoOf(size_t request_bytes, size_t reply_bytes);

}  // namespace noqueue::bench

#endif  // NOQUEUE_BENCH_ECHO_SERVER_H_
