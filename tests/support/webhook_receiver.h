// A real HTTP receiver of webhooks for tests, on libmicrohttpd: it records
// every request (headers and body) and answers as it is told (200, 500, a
// 302, or after a delay longer than the dispatcher's timeout).
#ifndef NOQUEUE_TESTS_SUPPORT_WEBHOOK_RECEIVER_H_
#define NOQUEUE_TESTS_SUPPORT_WEBHOOK_RECEIVER_H_

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace noqueue::testing {

class WebhookReceiver {
 public:
  enum class Mode { kOk, kFail, kRedirect, kSlow };
  struct Request {
    std::string event_id;   // X-NoQueue-Event-Id
    std::string signature;  // X-NoQueue-Signature
    std::string body;
    absl::Time at;
    unsigned status = 0;  // what it answered (0: answered too late)
  };

  // Answers kSlow requests after `slow` (make it longer than the timeout).
  explicit WebhookReceiver(absl::Duration slow = absl::Seconds(1))
      : slow_(slow) {
    daemon_ =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
                         0, nullptr, nullptr, &WebhookReceiver::Handle, this,
                         MHD_OPTION_SOCK_ADDR, Loopback(), MHD_OPTION_END);
    if (daemon_ != nullptr) {
      port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
    }
  }
  ~WebhookReceiver() {
    if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
  }

  int port() const { return port_; }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
  }
  void set_mode(Mode mode) {
    absl::MutexLock lock(&mu_);
    mode_ = mode;
  }
  std::vector<Request> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  // Waits until `done(requests)` holds (true) or `limit` passes (false).
  bool WaitFor(const std::function<bool(const std::vector<Request>&)>& done,
               absl::Duration limit = absl::Seconds(20)) {
    const absl::Time end = absl::Now() + limit;
    while (absl::Now() < end) {
      if (done(requests())) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return done(requests());
  }

 private:
  struct Upload {
    std::string body;
  };

  static const sockaddr* Loopback() {
    static sockaddr_in addr = [] {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = 0;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      return a;
    }();
    return reinterpret_cast<const sockaddr*>(&addr);
  }

  static MHD_Result Handle(void* self, MHD_Connection* connection,
                           const char* /*url*/, const char* /*method*/,
                           const char* /*version*/, const char* upload_data,
                           size_t* upload_data_size, void** state) {
    auto* r = static_cast<WebhookReceiver*>(self);
    if (*state == nullptr) {
      *state = new Upload;
      return MHD_YES;
    }
    auto* upload = static_cast<Upload*>(*state);
    if (*upload_data_size > 0) {
      upload->body.append(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    Request req;
    auto header = [&](const char* name) {
      const char* v =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
      return std::string(v == nullptr ? "" : v);
    };
    req.event_id = header("X-NoQueue-Event-Id");
    req.signature = header("X-NoQueue-Signature");
    req.body = std::move(upload->body);
    req.at = absl::Now();
    delete upload;
    *state = nullptr;
    Mode mode;
    {
      absl::MutexLock lock(&r->mu_);
      mode = r->mode_;
    }
    unsigned status = MHD_HTTP_OK;
    if (mode == Mode::kFail) status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    if (mode == Mode::kRedirect) status = MHD_HTTP_FOUND;
    if (mode == Mode::kSlow) {
      absl::SleepFor(r->slow_);
      status = 0;  // the dispatcher has given up by now
    }
    req.status = status;
    {
      absl::MutexLock lock(&r->mu_);
      r->requests_.push_back(req);
    }
    MHD_Response* response =
        MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
    if (mode == Mode::kRedirect) {
      MHD_add_response_header(response, "Location",
                              "https://elsewhere.example/hook");
    }
    const MHD_Result ret = MHD_queue_response(
        connection, status == 0 ? MHD_HTTP_OK : status, response);
    MHD_destroy_response(response);
    return ret;
  }

  const absl::Duration slow_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  absl::Mutex mu_;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kOk;
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace noqueue::testing

#endif  // NOQUEUE_TESTS_SUPPORT_WEBHOOK_RECEIVER_H_
