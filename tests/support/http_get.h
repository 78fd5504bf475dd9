// A real HTTP client (libcurl) for the tests of the HTTP listener.
#ifndef NOQUEUE_TESTS_SUPPORT_HTTP_GET_H_
#define NOQUEUE_TESTS_SUPPORT_HTTP_GET_H_

#include <curl/curl.h>

#include <string>

#include "absl/status/status.h"

namespace noqueue::testing {

struct HttpReply {
  long status = 0;  // 0: no answer
  std::string content_type;
  std::string body;
  std::string error;  // libcurl's, when there was no answer

  // The gRPC code the access control's refusals map to (200 OK, 400
  // INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED...).
  absl::Status AsStatus() const {
    switch (status) {
      case 200:
        return absl::OkStatus();
      case 400:
        return absl::InvalidArgumentError(body);
      case 401:
        return absl::UnauthenticatedError(body);
      case 403:
        return absl::PermissionDeniedError(body);
      case 404:
        return absl::NotFoundError(body);
      case 429:
        return absl::ResourceExhaustedError(body);
      default:
        return absl::UnknownError(
            status == 0 ? error : "HTTP " + std::to_string(status));
    }
  }
};

// `method` `url`, with "Authorization: Bearer <credential>" when given;
// an https URL's certificate checked against the CA file `ca_file` when
// given.
inline HttpReply HttpCall(const std::string& url,
                          const std::string& credential = "",
                          const std::string& method = "GET",
                          const std::string& ca_file = "") {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return reply;
  curl_slist* headers = nullptr;
  if (!credential.empty()) {
    headers = curl_slist_append(
        headers, ("Authorization: Bearer " + credential).c_str());
  }
  auto write = +[](char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  };
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    char* type = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    if (type != nullptr) reply.content_type = type;
  } else {
    reply.error = curl_easy_strerror(code);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

}  // namespace noqueue::testing

#endif  // NOQUEUE_TESTS_SUPPORT_HTTP_GET_H_
