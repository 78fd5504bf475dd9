#include "server/webhooks/webhook_http.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/crypto.h"

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

WebhookPoster::WebhookPoster() {
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
  char error[CURL_ERROR_SIZE] = {0};
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
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AbortWhenStopping);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, stop);
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
  if (res != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("the request failed: ",
                     error[0] != 0 ? error : curl_easy_strerror(res)));
  }
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) return absl::OkStatus();
  if (code >= 300 && code < 400) {
    char* location = nullptr;
    curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location);
    return absl::UnavailableError(absl::StrFormat(
        "answered %d (redirects are not followed)%s", code,
        location != nullptr ? absl::StrCat(" to ", location) : ""));
  }
  return absl::UnavailableError(absl::StrFormat("answered %d", code));
}

}  // namespace noqueue::server
