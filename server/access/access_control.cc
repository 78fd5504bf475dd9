#include "server/access/access_control.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <future>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "proto/base/status_macros.h"
#include "proto/base/wire_time.h"
#include "server/common/crypto.h"

namespace noqueue::server {
namespace {

constexpr char kKeyPrefix[] = "nqk_";
constexpr char kTokenPrefix[] = "nqa_";
constexpr size_t kKeyIdHex = 12;
constexpr size_t kSecretBytes = 32;
constexpr size_t kMaxCredential = 1024;
constexpr char kTokenSecretName[] = "attendee_token_hmac";

// Roles as bits.
constexpr unsigned kAdmin = 1u << v1::ADMIN;
constexpr unsigned kManager = 1u << v1::VENUE_MANAGER;
constexpr unsigned kDevice = 1u << v1::DEVICE;
constexpr unsigned kViewer = 1u << v1::VIEWER;
constexpr unsigned kAnyRole = kAdmin | kManager | kDevice | kViewer;

// Where an RPC's venue is, for the scope check.
enum class VenueIn {
  kRequest,  // the request names it: checked by Admit
  kObject,   // the object the request addresses: checked by Reveal
  kNone,     // none (key management, crowd reports, the attendee's own)
};

struct Policy {
  Rpc rpc;
  const char* name;
  unsigned roles;  // API keys of these roles
  bool anonymous;  // no credential at all
  bool attendee;   // an attendee token
  VenueIn venue;
};

// The one table of who may call what.
constexpr std::array<Policy, kRpcCount> kPolicies = {{
    {Rpc::kUpsertVenue, "VenueService/UpsertVenue", kAdmin | kManager, false,
     false, VenueIn::kRequest},
    {Rpc::kGetVenue, "VenueService/GetVenue", kAdmin | kManager | kViewer,
     false, false, VenueIn::kRequest},
    {Rpc::kCreateSchedule, "SchedulingService/CreateSchedule",
     kAdmin | kManager, false, false, VenueIn::kRequest},
    {Rpc::kGetSchedule, "SchedulingService/GetSchedule",
     kAdmin | kManager | kViewer, false, false, VenueIn::kObject},
    {Rpc::kListSchedules, "SchedulingService/ListSchedules",
     kAdmin | kManager | kViewer, false, false, VenueIn::kRequest},
    {Rpc::kStreamArrivals, "ArrivalService/StreamArrivals", kAdmin | kDevice,
     false, false, VenueIn::kObject},
    {Rpc::kRecordArrivals, "ArrivalService/RecordArrivals", kAdmin | kDevice,
     false, false, VenueIn::kObject},
    {Rpc::kGetModelInfo, "ModelService/GetModelInfo", kAdmin | kManager, false,
     false, VenueIn::kRequest},
    {Rpc::kExplainPrediction, "ModelService/ExplainPrediction",
     kAdmin | kManager, false, false, VenueIn::kRequest},
    {Rpc::kReportQueue, "CrowdService/ReportQueue", kAnyRole, true, true,
     VenueIn::kNone},
    {Rpc::kGetVenueStatus, "CrowdService/GetVenueStatus",
     kAdmin | kManager | kViewer, false, false, VenueIn::kRequest},
    {Rpc::kCreateApiKey, "AccessService/CreateApiKey", kAdmin, false, false,
     VenueIn::kNone},
    {Rpc::kRevokeApiKey, "AccessService/RevokeApiKey", kAdmin, false, false,
     VenueIn::kNone},
    {Rpc::kListApiKeys, "AccessService/ListApiKeys", kAdmin, false, false,
     VenueIn::kNone},
    {Rpc::kEraseAttendee, "AccessService/EraseAttendee", kAdmin | kManager,
     false, false, VenueIn::kRequest},
    {Rpc::kGetMyConvocation, "AttendeeService/GetMyConvocation", 0, false, true,
     VenueIn::kNone},
    {Rpc::kWatchSchedule, "LiveService/WatchSchedule",
     kAdmin | kManager | kViewer, false, false, VenueIn::kObject},
    {Rpc::kUpdateServicePoints, "LiveService/UpdateServicePoints",
     kAdmin | kManager, false, false, VenueIn::kRequest},
    {Rpc::kWatchMyConvocation, "AttendeeService/WatchMyConvocation", 0, false,
     true, VenueIn::kNone},
    {Rpc::kDeclareDelay, "AttendeeService/DeclareDelay", 0, false, true,
     VenueIn::kNone},
    {Rpc::kCancelConvocation, "AttendeeService/CancelConvocation", 0, false,
     true, VenueIn::kNone},
    {Rpc::kCreateWebhook, "WebhookService/CreateWebhook", kAdmin | kManager,
     false, false, VenueIn::kRequest},
    {Rpc::kListWebhooks, "WebhookService/ListWebhooks", kAdmin | kManager,
     false, false, VenueIn::kRequest},
    {Rpc::kDeleteWebhook, "WebhookService/DeleteWebhook", kAdmin | kManager,
     false, false, VenueIn::kObject},
    {Rpc::kOperatorVenues, "HTTP GET /api/venues", kAdmin | kManager | kViewer,
     false, false, VenueIn::kNone},
    {Rpc::kOperatorView, "HTTP GET /api/venues/{venue_id}",
     kAdmin | kManager | kViewer, false, false, VenueIn::kRequest},
}};

constexpr bool PoliciesInOrder() {
  for (int i = 0; i < kRpcCount; ++i) {
    if (static_cast<int>(kPolicies[i].rpc) != i) return false;
  }
  return true;
}
static_assert(PoliciesInOrder(), "kPolicies lists every Rpc, in order");

const Policy& PolicyOf(Rpc rpc) { return kPolicies[static_cast<int>(rpc)]; }

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("authorization: ", why));
}

std::string TokenData(absl::string_view schedule_id,
                      absl::string_view attendee_id) {
  return absl::StrCat("noqueue attendee token v1\n", schedule_id, "\n",
                      attendee_id);
}

// "ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7"; "ipv6:[::1]:5" -> "ipv6:[::1]".
std::string PeerAddress(absl::string_view peer) {
  if (absl::StartsWith(peer, "ipv6:[")) {
    const size_t close = peer.find(']');
    if (close != absl::string_view::npos) {
      return std::string(peer.substr(0, close + 1));
    }
  }
  if (absl::StartsWith(peer, "ipv4:")) {
    const size_t colon = peer.rfind(':');
    if (colon > 4) return std::string(peer.substr(0, colon));
  }
  return std::string(peer);
}

bool IsHex(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

}  // namespace

std::string Caller::Actor() const {
  switch (kind) {
    case Kind::kKey:
      return key_id;
    case Kind::kOpen:
      return "open";
    case Kind::kAttendee:
      return "attendee";
    case Kind::kAnonymous:
      break;
  }
  return "anonymous";
}

absl::StatusOr<std::unique_ptr<AccessControl>> AccessControl::Create(
    Store* store, AccessOptions options, std::string* bootstrap_secret) {
  ASSIGN_OR_RETURN(std::string token_secret,
                   store->Secret(kTokenSecretName, kSecretBytes));
  ASSIGN_OR_RETURN(std::vector<StoredApiKey> keys, store->ListApiKeys());
  std::unique_ptr<AccessControl> access(
      new AccessControl(store, options, std::move(token_secret)));
  for (const StoredApiKey& k : keys) access->KeyStored(k);
  if (keys.empty()) {
    // The first start on an empty database: an ADMIN key for the operator.
    NewKey admin = MakeKey(v1::ADMIN, {}, "made at the first start",
                           "bootstrap", absl::Now());
    AuditEntry audit{0,
                     absl::Now(),
                     "bootstrap",
                     "create_key",
                     admin.stored.key.key_id(),
                     "role ADMIN"};
    std::promise<absl::Status> stored;
    store->InsertApiKey(admin.stored, audit, [&](absl::StatusOr<bool> r) {
      stored.set_value(r.status());
    });
    RETURN_IF_ERROR(stored.get_future().get());
    access->KeyStored(admin.stored);
    *bootstrap_secret = admin.secret;
  }
  return access;
}

AccessControl::NewKey AccessControl::MakeKey(v1::Role role,
                                             std::vector<std::string> venues,
                                             std::string description,
                                             std::string created_by,
                                             absl::Time now) {
  NewKey k;
  const std::string id_hex = Hex(RandomBytes(kKeyIdHex / 2));
  k.secret = absl::StrCat(kKeyPrefix, id_hex, "_",
                          Base64Url(RandomBytes(kSecretBytes)));
  v1::ApiKey& key = k.stored.key;
  key.set_key_id(absl::StrCat("key_", id_hex));
  key.set_role(role);
  std::sort(venues.begin(), venues.end());
  for (std::string& v : venues) key.add_venue_ids(std::move(v));
  key.set_description(std::move(description));
  *key.mutable_create_time() = ToTimestamp(now);
  key.set_created_by(std::move(created_by));
  k.stored.secret_sha256 = Sha256(k.secret);
  return k;
}

void AccessControl::KeyStored(const StoredApiKey& stored) {
  Key k;
  k.role = stored.key.role();
  k.scope.all = stored.key.role() == v1::ADMIN;
  for (const std::string& v : stored.key.venue_ids()) k.scope.venues.insert(v);
  k.secret_sha256 = stored.secret_sha256;
  k.revoked = stored.key.has_revoke_time();
  absl::MutexLock lock(&mu_);
  keys_.insert_or_assign(stored.key.key_id(), std::move(k));
}

absl::Status AccessControl::TakePeer(absl::string_view peer, absl::Time now) {
  const std::string address = PeerAddress(peer);
  if (peer_buckets_.size() > 100000) peer_buckets_.clear();
  return Take(peer_buckets_[address], options_.anonymous_rate,
              options_.anonymous_burst, now,
              absl::StrCat("anonymous calls from ", address));
}

absl::Status AccessControl::Take(Bucket& bucket, double rate, double burst,
                                 absl::Time now, absl::string_view who) {
  if (rate <= 0) return absl::OkStatus();
  if (bucket.last == absl::Time()) {
    bucket.tokens = burst;
  } else if (now > bucket.last) {
    bucket.tokens = std::min(
        burst, bucket.tokens + rate * absl::ToDoubleSeconds(now - bucket.last));
  }
  bucket.last = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return absl::OkStatus();
  }
  const double wait_s = (1.0 - bucket.tokens) / rate;
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s: over the limit of %g calls per second; retry in %.0f ms", who, rate,
      std::ceil(wait_s * 1000.0)));
}

absl::StatusOr<Caller> AccessControl::AuthenticateKey(
    absl::string_view credential, absl::Time now) {
  const absl::Status invalid = Unauthenticated("not a valid API key");
  const size_t id_end = 4 + kKeyIdHex;
  if (credential.size() <= id_end + 1 || credential[id_end] != '_' ||
      !IsHex(credential.substr(4, kKeyIdHex)) ||
      !FromBase64Url(credential.substr(id_end + 1))) {
    return Unauthenticated(
        "malformed API key (\"nqk_\", 12 hex digits, \"_\", the secret)");
  }
  const std::string key_id =
      absl::StrCat("key_", credential.substr(4, kKeyIdHex));
  const std::string hash = Sha256(credential);
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(key_id);
  // Unknown and wrong secrets look alike to the caller.
  if (it == keys_.end() ||
      !ConstantTimeEquals(hash, it->second.secret_sha256)) {
    return invalid;
  }
  if (it->second.revoked) return Unauthenticated("the API key is revoked");
  RETURN_IF_ERROR(Take(key_buckets_[key_id], options_.key_rate,
                       options_.key_burst, now,
                       absl::StrCat("authorization: key ", key_id)));
  Caller c;
  c.kind = Caller::Kind::kKey;
  c.key_id = key_id;
  c.role = it->second.role;
  c.scope = it->second.scope;
  return c;
}

std::string AccessControl::AttendeeToken(absl::string_view schedule_id,
                                         absl::string_view attendee_id) const {
  return absl::StrCat(kTokenPrefix, Base64Url(schedule_id), ".",
                      Base64Url(attendee_id), ".",
                      Base64Url(HmacSha256(
                          token_secret_, TokenData(schedule_id, attendee_id))));
}

void AccessControl::AddTokens(v1::Schedule* schedule) const {
  for (v1::Convocation& c : *schedule->mutable_convocations()) {
    c.set_attendee_token(
        AttendeeToken(schedule->schedule_id(), c.attendee_id()));
  }
}

absl::StatusOr<Caller> AccessControl::AuthenticateToken(
    absl::string_view credential) const {
  const std::vector<absl::string_view> parts =
      absl::StrSplit(credential.substr(4), '.');
  std::optional<std::string> schedule, attendee, mac;
  if (parts.size() == 3) {
    schedule = FromBase64Url(parts[0]);
    attendee = FromBase64Url(parts[1]);
    mac = FromBase64Url(parts[2]);
  }
  if (!schedule || !attendee || !mac || schedule->empty() ||
      attendee->empty()) {
    return Unauthenticated(
        "malformed attendee token (\"nqa_\", three base64url parts)");
  }
  if (!ConstantTimeEquals(
          *mac, HmacSha256(token_secret_, TokenData(*schedule, *attendee)))) {
    return Unauthenticated("not a valid attendee token");
  }
  Caller c;
  c.kind = Caller::Kind::kAttendee;
  c.scope.all = false;
  c.schedule_id = *std::move(schedule);
  c.attendee_id = *std::move(attendee);
  return c;
}

absl::StatusOr<Caller> AccessControl::Admit(
    const grpc::CallbackServerContext& ctx, Rpc rpc,
    absl::string_view venue_id) {
  std::optional<absl::string_view> authorization;
  const auto& metadata = ctx.client_metadata();
  auto [first, last] = metadata.equal_range("authorization");
  if (first != last) {
    if (std::next(first) != last) {
      return Unauthenticated("sent more than once");
    }
    authorization =
        absl::string_view(first->second.data(), first->second.size());
  }
  return AdmitCredential(authorization, ctx.peer(), rpc, venue_id, absl::Now());
}

absl::StatusOr<Caller> AccessControl::AdmitCredential(
    std::optional<absl::string_view> authorization, absl::string_view peer,
    Rpc rpc, absl::string_view venue_id, absl::Time now) {
  const Policy& policy = PolicyOf(rpc);
  // Without access control every call is admitted as ADMIN, except what only
  // an attendee token names (which convocation is "mine").
  if (!options_.enabled && policy.roles != 0) {
    Caller open;
    open.kind = Caller::Kind::kOpen;
    open.role = v1::ADMIN;
    return open;
  }
  if (!authorization) {
    if (!policy.anonymous) {
      return Unauthenticated(absl::StrCat(
          "missing: ", policy.name,
          " needs \"authorization: Bearer <API key or attendee token>\""));
    }
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(TakePeer(peer, now));
    Caller anonymous;
    anonymous.scope.all = false;
    return anonymous;
  }
  constexpr absl::string_view kBearer = "Bearer ";
  if (authorization->size() > kMaxCredential + kBearer.size() ||
      !absl::StartsWith(*authorization, kBearer)) {
    return Unauthenticated("must be \"Bearer <API key or attendee token>\"");
  }
  const absl::string_view credential = authorization->substr(kBearer.size());
  absl::StatusOr<Caller> caller;
  if (absl::StartsWith(credential, kKeyPrefix)) {
    caller = AuthenticateKey(credential, now);
  } else if (absl::StartsWith(credential, kTokenPrefix)) {
    caller = AuthenticateToken(credential);
  } else {
    return Unauthenticated(
        "not an API key (\"nqk_...\") nor an attendee token (\"nqa_...\")");
  }
  if (!caller.ok()) return caller.status();
  if (caller->kind == Caller::Kind::kAttendee) {
    if (!policy.attendee) {
      return absl::PermissionDeniedError(
          absl::StrCat(policy.name, ": an attendee token may not call it"));
    }
    // Counted like any caller: the token's own bucket (as a key's), and,
    // on what anyone may call (crowd reports), its peer's as if anonymous,
    // so that a token is no way around the anonymous limit.
    absl::MutexLock lock(&mu_);
    if (policy.anonymous) RETURN_IF_ERROR(TakePeer(peer, now));
    if (attendee_buckets_.size() > 100000) attendee_buckets_.clear();
    RETURN_IF_ERROR(Take(attendee_buckets_[absl::StrCat(
                             caller->schedule_id, "/", caller->attendee_id)],
                         options_.key_rate, options_.key_burst, now,
                         "this attendee token"));
    return caller;
  }
  if (!(policy.roles & (1u << caller->role))) {
    return absl::PermissionDeniedError(absl::StrCat(policy.name, ": a ",
                                                    v1::Role_Name(caller->role),
                                                    " key may not call it"));
  }
  if (policy.venue == VenueIn::kRequest && !caller->scope.all) {
    if (venue_id.empty()) {
      return absl::PermissionDeniedError(
          "venue_id: a key scoped to venues must name one of them");
    }
    if (!caller->scope.Allows(venue_id)) {
      return absl::PermissionDeniedError(
          "venue_id: not one of this key's venues");
    }
  }
  return caller;
}

absl::Status AccessControl::Reveal(const Caller& caller,
                                   const absl::Status& lookup,
                                   absl::string_view object_venue,
                                   absl::string_view field) const {
  if (caller.scope.all) return lookup;
  if (!lookup.ok() && lookup.code() != absl::StatusCode::kNotFound) {
    return lookup;
  }
  if (!lookup.ok() || !caller.scope.Allows(object_venue)) {
    return absl::PermissionDeniedError(
        absl::StrCat(field, ": not visible to this credential"));
  }
  return lookup;
}

}  // namespace noqueue::server
