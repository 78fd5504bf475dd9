#include "server/webhooks/webhook_request.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/base/wire_time.h"
#include "server/webhooks/webhook_targets.h"
#include "server/wire/validation.h"

namespace noqueue::server {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

// A part of a parsed URL ("" when it has none).
std::string Part(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

// "[::1]" -> "::1".
std::string Unbracketed(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

bool IsLoopbackHost(const std::string& host) {
  const std::string h = Unbracketed(host);
  return h == "localhost" || absl::EndsWith(h, ".localhost") ||
         IsLoopbackAddress(h);
}

// Whether `host` names this machine: a loopback or unspecified address, one
// of its interfaces' addresses, or its host name.
bool IsThisMachine(const std::string& host) {
  const std::string h = absl::AsciiStrToLower(Unbracketed(host));
  if (IsLoopbackHost(h) || h == "0.0.0.0" || h == "::") return true;
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) == 0 &&
      h == absl::AsciiStrToLower(name)) {
    return true;
  }
  ifaddrs* addrs = nullptr;
  if (getifaddrs(&addrs) != 0) return false;
  bool found = false;
  for (ifaddrs* a = addrs; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    char text[INET6_ADDRSTRLEN] = {0};
    if (a->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr,
                text, sizeof(text));
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6,
                &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, text,
                sizeof(text));
    }
    found = h == text;
  }
  freeifaddrs(addrs);
  return found;
}

}  // namespace

absl::Status ValidateWebhookUrl(const std::string& url, int own_port,
                                bool private_targets) {
  if (url.empty()) return Invalid("url", "must not be empty");
  if (url.size() > kMaxWebhookUrl) {
    return Invalid(
        "url", absl::StrCat("must be at most ", kMaxWebhookUrl, " characters"));
  }
  std::unique_ptr<CURLU, void (*)(CURLU*)> parsed(curl_url(), curl_url_cleanup);
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return Invalid("url", absl::StrCat(Quote(url), " is not a URL"));
  }
  const std::string scheme =
      absl::AsciiStrToLower(Part(parsed.get(), CURLUPART_SCHEME));
  const std::string host = Part(parsed.get(), CURLUPART_HOST);
  if (host.empty()) return Invalid("url", "must name a host");
  if (scheme != "https" && scheme != "http") {
    return Invalid("url",
                   "must be https:// (or http:// to a loopback address)");
  }
  if (scheme == "http" && !IsLoopbackHost(host)) {
    return Invalid("url",
                   absl::StrCat("http:// is allowed only to a loopback address "
                                "(127.0.0.1, [::1], localhost), not ",
                                Quote(host), ": use https://"));
  }
  if (!private_targets) {
    const std::string h = absl::AsciiStrToLower(Unbracketed(host));
    const bool local_name = h == "localhost" || h == "localhost." ||
                            absl::EndsWith(h, ".localhost") ||
                            absl::EndsWith(h, ".localhost.");
    if (local_name || IsPublicAddressLiteral(host) == false) {
      return Invalid(
          "url", absl::StrCat(Quote(host),
                              " is not a public address (loopback, private, "
                              "link-local or reserved): this server delivers "
                              "webhooks to public addresses only "
                              "(--webhook_private_targets allows others)"));
    }
  }
  int port = 0;
  if (!absl::SimpleAtoi(Part(parsed.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT),
                        &port)) {
    return Invalid("url", "has no port");
  }
  if (port <= 0) return Invalid("url", "port 0 is not a port");
  if (port == own_port && IsThisMachine(host)) {
    return Invalid("url", absl::StrCat("is this server itself (", host, ":",
                                       port, " is its gRPC port)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCreateWebhook(const v1::CreateWebhookRequest& request,
                                   int own_port, bool private_targets) {
  if (absl::Status st =
          ValidateWebhookUrl(request.url(), own_port, private_targets);
      !st.ok()) {
    return st;
  }
  if (request.kinds().empty())
    return Invalid("kinds", "must name at least one");
  bool wait = false;
  for (int i = 0; i < request.kinds_size(); ++i) {
    const int k = request.kinds(i);
    if (k == v1::WEBHOOK_EVENT_KIND_UNSPECIFIED ||
        !v1::WebhookEventKind_IsValid(k)) {
      return Invalid(absl::StrCat("kinds[", i, "]"),
                     absl::StrCat("not a webhook event kind (", k, ")"));
    }
    wait = wait || k == v1::WEBHOOK_WAIT_CROSSED;
  }
  if (request.secret().size() < kMinWebhookSecret ||
      request.secret().size() > kMaxWebhookSecret) {
    return Invalid("secret", absl::StrCat("must be ", kMinWebhookSecret, " to ",
                                          kMaxWebhookSecret, " bytes, got ",
                                          request.secret().size()));
  }
  if (wait) {
    if (!request.has_wait_threshold()) {
      return Invalid("wait_threshold", "required with WEBHOOK_WAIT_CROSSED");
    }
    const bool valid = IsValidDuration(request.wait_threshold());
    const absl::Duration t =
        valid ? ToDuration(request.wait_threshold()) : absl::ZeroDuration();
    if (!valid || t <= absl::ZeroDuration() || t > absl::Hours(24)) {
      return Invalid("wait_threshold", "must be more than 0 and at most 24h");
    }
  } else if (request.has_wait_threshold()) {
    return Invalid("wait_threshold", "only with WEBHOOK_WAIT_CROSSED");
  }
  return absl::OkStatus();
}

}  // namespace noqueue::server
