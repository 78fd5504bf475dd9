#include "server/ops/http_listener.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace noqueue::server {

namespace {

MHD_Result CollectQuery(void* cls, MHD_ValueKind, const char* key,
                        const char* value) {
  auto* query =
      static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
  query->emplace_back(key ? key : "", value ? value : "");
  return MHD_YES;
}

std::string PeerOf(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "";
  char host[INET6_ADDRSTRLEN] = {};
  const sockaddr* addr = info->client_addr;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return absl::StrCat("ipv4:", host, ":", ntohs(in->sin_port));
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return absl::StrCat("ipv6:[", host, "]:", ntohs(in6->sin6_port));
  }
  return "";
}

// Slow and idle clients: a connection that sends nothing for kIdleSeconds
// is closed, and one peer address holds at most kMaxPerPeer of the
// kMaxConnections (130 half-open connections from one host, a header line
// every 4 s, filled the listener when all 128 were anyone's).
constexpr unsigned kIdleSeconds = 5;
constexpr unsigned kMaxConnections = 1024;
constexpr unsigned kMaxPerPeer = 16;

MHD_Result Queue(MHD_Connection* connection, const HttpResponse& r) {
  MHD_Response* response = MHD_create_response_from_buffer(
      r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, "Content-Type", r.content_type.c_str());
  MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(response, "Cache-Control", "no-store");
  for (const auto& [name, value] : r.headers) {
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  const MHD_Result queued =
      MHD_queue_response(connection, static_cast<unsigned>(r.status), response);
  MHD_destroy_response(response);
  return queued;
}

}  // namespace

// libmicrohttpd's access handler, with the listener as its closure.
struct HttpDispatch {
  static MHD_Result Handle(void* cls, MHD_Connection* connection,
                           const char* url, const char* method,
                           const char* /*version*/, const char* /*upload*/,
                           size_t* upload_size, void** /*state*/) {
    auto* listener = static_cast<HttpListener*>(cls);
    HttpRequest request;
    request.method = method ? method : "";
    request.path = url ? url : "/";
    if (request.method != "GET" && request.method != "HEAD") {
      *upload_size = 0;  // whatever it sent is not read
      HttpResponse refused;
      refused.status = 405;
      refused.body = absl::StrCat(request.method, " ", request.path,
                                  ": only GET is served here\n");
      refused.headers.push_back({"Allow", "GET, HEAD"});
      return Queue(connection, refused);
    }
    if (const char* auth = MHD_lookup_connection_value(
            connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)) {
      request.authorization = auth;
    }
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, CollectQuery,
                              &request.query);
    request.peer = PeerOf(connection);
    return Queue(connection, listener->handler_(request));
  }
};

std::string HttpRequest::Query(absl::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return "";
}

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(
    absl::string_view listen, HttpHandler handler, int threads,
    std::optional<HttpTls> tls) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", listen, "\": must be host:port (port 0-65535)"));
  }
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_storage addr{};
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
  if (sockaddr_in in{}; inet_pton(AF_INET, host.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&addr, &in, sizeof(in));
  } else if (sockaddr_in6 in6{};
             inet_pton(AF_INET6, host.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&addr, &in6, sizeof(in6));
    flags |= MHD_USE_IPv6;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", listen,
                     "\": the host must be an IP address or localhost"));
  }
  std::unique_ptr<HttpListener> listener(new HttpListener(std::move(handler)));
  listener->tls_ = std::move(tls);
  std::vector<MHD_OptionItem> options = {
      {MHD_OPTION_SOCK_ADDR, 0, &addr},
      {MHD_OPTION_THREAD_POOL_SIZE, std::max(1, threads), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, kIdleSeconds, nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, kMaxConnections, nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, kMaxPerPeer, nullptr}};
  if (listener->tls_) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
      return absl::FailedPreconditionError(
          "this libmicrohttpd has no TLS: the HTTP listener cannot serve "
          "HTTPS beside a TLS gRPC port");
    }
    flags |= MHD_USE_TLS;
    options.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0,
                       const_cast<char*>(listener->tls_->key_pem.c_str())});
    options.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0,
                       const_cast<char*>(listener->tls_->cert_pem.c_str())});
  }
  options.push_back({MHD_OPTION_END, 0, nullptr});
  listener->daemon_ =
      MHD_start_daemon(flags, static_cast<uint16_t>(port), nullptr, nullptr,
                       &HttpDispatch::Handle, listener.get(), MHD_OPTION_ARRAY,
                       options.data(), MHD_OPTION_END);
  if (listener->daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for ", listener->tls_ ? "HTTPS" : "HTTP", " on ", listen,
        listener->tls_
            ? " (address in use, not this machine's, or a certificate and key "
              "that GnuTLS cannot use)"
            : " (address in use, or not this machine's)"));
  }
  const MHD_DaemonInfo* info =
      MHD_get_daemon_info(listener->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  listener->port_ = info != nullptr ? info->port : port;
  return listener;
}

HttpListener::~HttpListener() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

}  // namespace noqueue::server
