#include "server/webhooks/webhook_http.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/crypto.h"
#include "server/webhooks/webhook_targets.h"

namespace noqueue::server {
namespace {

// curl_global_init is not thread-safe: once, before the first handle.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Receivers' answers are not read: at most this much is kept of them.
constexpr size_t kMaxAnswerBytes = 4096;

size_t KeepSome(char* data, size_t size, size_t n, void* out) {
  auto* answer = static_cast<std::string*>(out);
  const size_t bytes = size * n;
  if (answer->size() < kMaxAnswerBytes) {
    answer->append(data, std::min(bytes, kMaxAnswerBytes - answer->size()));
  }
  return bytes;
}

// Opens the socket curl asks for, unless its address is not public.
curl_socket_t OpenPublicOnly(void* refused, curlsocktype purpose,
                             curl_sockaddr* address) {
  if (purpose != CURLSOCKTYPE_IPCXN || !IsPublicAddress(&address->addr)) {
    *static_cast<bool*>(refused) = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

int AbortWhenStopping(void* stop, curl_off_t, curl_off_t, curl_off_t,
                      curl_off_t) {
  const auto* flag = static_cast<const std::atomic<bool>*>(stop);
  return flag != nullptr && flag->load() ? 1 : 0;
}

}  // namespace

std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body) {
  return absl::StrCat(
      "t=", unix_seconds,
      ",v1=", Hex(HmacSha256(secret, absl::StrCat(unix_seconds, ".", body))));
}

WebhookPoster::WebhookPoster(bool private_targets)
    : private_targets_(private_targets) {
  InitCurlOnce();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) std::abort();  // out of memory
}

WebhookPoster::~WebhookPoster() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

absl::Status WebhookPoster::Post(
    const std::string& url, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers,
    absl::Duration timeout, const std::atomic<bool>* stop) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the connection cache
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Content-Type: application/json");
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  for (const auto& [name, value] : headers) {
    list = curl_slist_append(list, absl::StrCat(name, ": ", value).c_str());
  }
  std::string answer;
  const long timeout_ms =
      std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "NoQueue-Webhooks/1");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, KeepSome);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AbortWhenStopping);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, stop);
  refused_ = false;
  if (!private_targets_) {
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OpenPublicOnly);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &refused_);
  }
  const CURLcode res = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (res == CURLE_ABORTED_BY_CALLBACK) {
    return absl::CancelledError("the dispatcher is stopping");
  }
  if (res == CURLE_OPERATION_TIMEDOUT) {
    return absl::UnavailableError(absl::StrCat("no answer within ",
                                               absl::FormatDuration(timeout),
                                               " (the request timeout)"));
  }
  if (refused_) {
    return absl::UnavailableError(
        "refused: the host's address is not public (webhooks are delivered "
        "to public addresses only)");
  }
  switch (res) {
    case CURLE_OK:
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      return absl::UnavailableError("the host's name did not resolve");
    case CURLE_COULDNT_CONNECT:
      return absl::UnavailableError("could not connect");
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_USE_SSL_FAILED:
      return absl::UnavailableError("the TLS handshake failed");
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return absl::UnavailableError("no valid HTTP answer");
    default:
      return absl::UnavailableError(
          absl::StrCat("the request failed (libcurl error ", res, ")"));
  }
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) return absl::OkStatus();
  if (code >= 300 && code < 400) {
    return absl::UnavailableError(
        absl::StrFormat("answered %d (redirects are not followed)", code));
  }
  return absl::UnavailableError(absl::StrFormat("answered %d", code));
}

}  // namespace noqueue::server
