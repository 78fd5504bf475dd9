// HttpListener: a small HTTP/1.1 server (libmicrohttpd) for what is not
// gRPC: Prometheus scrapes and the operator's page. GET only; each request
// is answered by one handler on the listener's own threads, never on
// gRPC's. A connection idle for 5 s is closed; one peer address holds at
// most 16 connections of 1024, so that slow clients of one host cannot
// take the listener from the others.
//
//   ASSIGN_OR_RETURN(auto http, HttpListener::Start("127.0.0.1:0",
//       [](const HttpRequest& r) { return HttpResponse{200, "text/plain",
//                                                      "hello\n"}; }));
//   int port = http->port();
#ifndef NOQUEUE_SERVER_OPS_HTTP_LISTENER_H_
#define NOQUEUE_SERVER_OPS_HTTP_LISTENER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct MHD_Daemon;

namespace noqueue::server {

struct HttpRequest {
  std::string method;                        // "GET", "HEAD"...
  std::string path;                          // "/venues/louvre" (no query)
  std::optional<std::string> authorization;  // the Authorization header
  std::string peer;                          // "ipv4:127.0.0.1:5555"
  std::vector<std::pair<std::string, std::string>> query;

  // The query parameter `name`, or "".
  std::string Query(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// The listener's certificate chain and private key (PEM): it then speaks
// HTTPS only.
struct HttpTls {
  std::string cert_pem;
  std::string key_pem;
};

class HttpListener {
 public:
  // Listens on `listen` ("host:port"; port 0 picks a free one; host an IPv4
  // or IPv6 literal, or localhost) with `threads` worker threads, over TLS
  // when `tls` is given.
  static absl::StatusOr<std::unique_ptr<HttpListener>> Start(
      absl::string_view listen, HttpHandler handler, int threads = 2,
      std::optional<HttpTls> tls = std::nullopt);
  ~HttpListener();  // stops: running handlers finish first
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const { return port_; }

 private:
  HttpListener(HttpHandler handler) : handler_(std::move(handler)) {}
  friend struct HttpDispatch;

  const HttpHandler handler_;
  std::optional<HttpTls> tls_;  // libmicrohttpd reads it, does not copy it
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_OPS_HTTP_LISTENER_H_
