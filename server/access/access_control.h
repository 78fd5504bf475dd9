// AccessControl: who is calling, and whether they may do what they ask.
//
// Every RPC handler begins with Admit(ctx, rpc, venue): the credential in the
// call's metadata (`authorization: Bearer <credential>`) is authenticated and
// checked against the RPC's policy (kPolicies in access_control.cc: which
// roles may call it, whether anonymous callers may, and where its venue
// is), before the handler reads or writes anything. (gRPC 1.51's C++ server
// interceptors cannot refuse a call, and its auth metadata processors do not
// run on insecure ports; so the one place is this call, and a test calls
// every RPC of every service without a credential.)
//
// Credentials:
// - API keys, "nqk_<12 hex>_<43 base64url>": 256 random bits, stored as
//   their SHA-256, compared in constant time, scoped to venues (ADMIN: all),
//   revocable, rate-limited by a token bucket each.
// - Attendee tokens, "nqa_<schedule>.<attendee>.<HMAC>": an HMAC-SHA256 of
//   the convocation under a server secret; they authorise that convocation
//   (AttendeeService) and nothing else.
// - None: only for what anonymous callers may do (ReportQueue), rate-limited
//   per peer address.
// Refusals: UNAUTHENTICATED for a missing, malformed, unknown or revoked
// credential; PERMISSION_DENIED for a role or venue that may not, without
// telling whether another venue's object exists; RESOURCE_EXHAUSTED past a
// rate, with the delay to wait.
#ifndef NOQUEUE_SERVER_ACCESS_ACCESS_CONTROL_H_
#define NOQUEUE_SERVER_ACCESS_ACCESS_CONTROL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "noqueue/v1/access.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "server/store/store.h"

namespace noqueue::server {

// Every RPC that needs admitting.
enum class Rpc {
  kUpsertVenue,
  kGetVenue,
  kCreateSchedule,
  kGetSchedule,
  kListSchedules,
  kStreamArrivals,
  kRecordArrivals,
  kGetModelInfo,
  kExplainPrediction,
  kReportQueue,
  kGetVenueStatus,
  kCreateApiKey,
  kRevokeApiKey,
  kListApiKeys,
  kEraseAttendee,
  kGetMyConvocation,
  kWatchSchedule,
  kUpdateServicePoints,
  kWatchMyConvocation,
  kDeclareDelay,
  kCancelConvocation,
  kCreateWebhook,
  kListWebhooks,
  kDeleteWebhook,
  // The operator's page's JSON, on the HTTP listener (GET /api/venues and
  // GET /api/venues/{venue_id}).
  kOperatorVenues,
  kOperatorView,
};
inline constexpr int kRpcCount = static_cast<int>(Rpc::kOperatorView) + 1;

// Who is calling.
struct Caller {
  enum class Kind { kOpen, kKey, kAttendee, kAnonymous };
  Kind kind = Kind::kAnonymous;
  std::string key_id;  // kKey
  v1::Role role = v1::ROLE_UNSPECIFIED;
  VenueScope scope;  // the venues it may act on
  // kAttendee: the one convocation it may act on.
  std::string schedule_id;
  std::string attendee_id;

  // For the audit log: the key's id, "open" without access control.
  std::string Actor() const;
};

struct AccessOptions {
  // False: every call is admitted as ADMIN (--auth=none, loopback only).
  bool enabled = true;
  // Calls per second per API key, and its burst; 0: no limit.
  double key_rate = 100.0;
  double key_burst = 200.0;
  // Anonymous calls (crowd reports) per second per peer address, and their
  // burst; 0: no limit.
  double anonymous_rate = 5.0;
  double anonymous_burst = 30.0;
};

class AccessControl {
 public:
  // Loads the keys and the token secret. When the store holds no key yet,
  // makes an ADMIN key and returns its secret in *bootstrap_secret.
  static absl::StatusOr<std::unique_ptr<AccessControl>> Create(
      Store* store, AccessOptions options, std::string* bootstrap_secret);

  // Authenticates the call and checks that its credential may call `rpc`,
  // on `venue_id` when the RPC names its venue in the request. RPCs that
  // address an object by id (a schedule) are checked again by Reveal once
  // the object's venue is known.
  absl::StatusOr<Caller> Admit(const grpc::CallbackServerContext& ctx, Rpc rpc,
                               absl::string_view venue_id = "");
  // The same from the call's metadata and peer (tests, and Admit).
  absl::StatusOr<Caller> AdmitCredential(
      std::optional<absl::string_view> authorization, absl::string_view peer,
      Rpc rpc, absl::string_view venue_id, absl::Time now);

  // What `caller` may learn of an object looked up by id (`field` names the
  // id): `lookup` itself when its venue is the caller's (or the caller sees
  // all venues), else PERMISSION_DENIED; a scoped caller gets the same
  // PERMISSION_DENIED for an object that does not exist.
  absl::Status Reveal(const Caller& caller, const absl::Status& lookup,
                      absl::string_view object_venue,
                      absl::string_view field) const;

  // The attendee token of a convocation.
  std::string AttendeeToken(absl::string_view schedule_id,
                            absl::string_view attendee_id) const;
  // Sets every convocation's attendee_token.
  void AddTokens(v1::Schedule* schedule) const;

  // Key management. A new key's secret, and its stored form.
  struct NewKey {
    StoredApiKey stored;
    std::string secret;
  };
  static NewKey MakeKey(v1::Role role, std::vector<std::string> venue_ids,
                        std::string description, std::string created_by,
                        absl::Time now);
  // The cache follows what was committed.
  void KeyStored(const StoredApiKey& key);

 private:
  struct Key {
    v1::Role role = v1::ROLE_UNSPECIFIED;
    VenueScope scope;
    std::string secret_sha256;
    bool revoked = false;
  };
  struct Bucket {
    double tokens = 0;
    absl::Time last;
  };

  AccessControl(Store* store, AccessOptions options, std::string token_secret)
      : store_(store),
        options_(options),
        token_secret_(std::move(token_secret)) {}

  absl::StatusOr<Caller> AuthenticateKey(absl::string_view credential,
                                         absl::Time now);
  absl::StatusOr<Caller> AuthenticateToken(absl::string_view credential) const;
  // The anonymous bucket of `peer`'s address.
  absl::Status TakePeer(absl::string_view peer, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // RESOURCE_EXHAUSTED when `bucket` has no token left.
  static absl::Status Take(Bucket& bucket, double rate, double burst,
                           absl::Time now, absl::string_view who);

  Store* const store_;
  const AccessOptions options_;
  const std::string token_secret_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Key> keys_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Bucket> key_buckets_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Bucket> peer_buckets_ ABSL_GUARDED_BY(mu_);
  // By "<schedule_id>/<attendee_id>".
  absl::flat_hash_map<std::string, Bucket> attendee_buckets_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_ACCESS_ACCESS_CONTROL_H_
