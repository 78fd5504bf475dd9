#include "server/ops/operator_http.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/ops/operator_assets.h"
#include "server/wire/validation.h"

namespace noqueue::server {

namespace {

constexpr char kPagePolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "frame-ancestors 'none'";

HttpResponse Reply(int status, std::string content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

// {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "..."}},
// as Google's JSON APIs answer errors.
HttpResponse Error(const absl::Status& status) {
  google::protobuf::Struct body;
  google::protobuf::Struct* error =
      (*body.mutable_fields())["error"].mutable_struct_value();
  auto& f = *error->mutable_fields();
  const int http = HttpStatusOf(status.code());
  f["code"].set_number_value(http);
  f["status"].set_string_value(absl::StatusCodeToString(status.code()));
  f["message"].set_string_value(std::string(status.message()));
  HttpResponse r = Reply(http, "application/json", "");
  (void)google::protobuf::util::MessageToJsonString(body, &r.body);
  r.body.push_back('\n');
  if (http == 401) r.headers.push_back({"WWW-Authenticate", "Bearer"});
  return r;
}

HttpResponse Json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  HttpResponse r = Reply(200, "application/json", "");
  const auto st =
      google::protobuf::util::MessageToJsonString(message, &r.body, options);
  if (!st.ok()) {
    return Error(absl::InternalError(
        absl::StrCat("cannot write JSON: ", st.message().as_string())));
  }
  r.body.push_back('\n');
  return r;
}

HttpResponse Page() {
  HttpResponse r = Reply(200, "text/html; charset=utf-8", kOperatorHtml);
  r.headers.push_back({"Content-Security-Policy", kPagePolicy});
  return r;
}

}  // namespace

HttpResponse OperatorHttp::Handle(const HttpRequest& request) {
  const std::string& path = request.path;
  if (path == "/metrics") {
    if (scrape_ == nullptr) return Error(absl::NotFoundError("no metrics"));
    return Reply(200, "text/plain; version=0.0.4; charset=utf-8",
                 scrape_->Text());
  }
  if (path == "/healthz") {
    return draining_ ? Reply(503, "text/plain; charset=utf-8", "draining\n")
                     : Reply(200, "text/plain; charset=utf-8", "serving\n");
  }
  if (path == "/" || absl::StartsWith(path, "/venues/")) return Page();
  if (path == "/operator.js") {
    return Reply(200, "text/javascript; charset=utf-8", kOperatorJs);
  }
  if (path == "/operator.css")
    return Reply(200, "text/css; charset=utf-8", kOperatorCss);
  absl::string_view rest = path;
  // "/api/venues", "/api/venues/" and "/api/venues/{venue_id}[/queue.svg]".
  if (absl::ConsumePrefix(&rest, "/api/venues") &&
      (rest.empty() || rest.front() == '/')) {
    return Api(request, rest);
  }
  return Error(absl::NotFoundError(absl::StrCat(
      "path \"", path,
      "\": not served here (/, /venues/{venue_id}, /api/venues, /metrics, "
      "/healthz)")));
}

HttpResponse OperatorHttp::Api(const HttpRequest& request,
                               absl::string_view rest) {
  std::optional<absl::string_view> authorization;
  if (request.authorization) authorization = *request.authorization;
  if (rest.empty() || rest == "/") {
    absl::StatusOr<Caller> caller = access_->AdmitCredential(
        authorization, request.peer, Rpc::kOperatorVenues, "", absl::Now());
    if (!caller.ok()) return Error(caller.status());
    absl::StatusOr<std::vector<v1::Venue>> venues =
        sources_.store->ListVenues();
    if (!venues.ok()) return Error(venues.status());
    v1::OperatorVenues out;
    for (v1::Venue& v : *venues) {
      if (caller->scope.Allows(v.venue_id())) *out.add_venues() = std::move(v);
    }
    return Json(out);
  }
  absl::ConsumePrefix(&rest, "/");
  const bool chart = absl::ConsumeSuffix(&rest, "/queue.svg");
  const std::string venue_id(rest);
  absl::StatusOr<Caller> caller = access_->AdmitCredential(
      authorization, request.peer, Rpc::kOperatorView, venue_id, absl::Now());
  if (!caller.ok()) return Error(caller.status());
  if (absl::Status st = ValidateId("venue_id", venue_id); !st.ok()) {
    return Error(st);
  }
  absl::StatusOr<v1::OperatorView> view =
      BuildOperatorView(sources_, venue_id, request.Query("day"));
  if (!view.ok()) return Error(view.status());
  if (chart) return Reply(200, "image/svg+xml", QueueChart(*view));
  return Json(*view);
}

}  // namespace noqueue::server
