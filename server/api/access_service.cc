#include "server/api/access_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/grpc_status.h"
#include "proto/base/unparsable_request.h"
#include "server/api/unary_call.h"
#include "server/wire/validation.h"

namespace noqueue::server {

grpc::ServerUnaryReactor* AccessServiceImpl::CreateApiKey(
    grpc::CallbackServerContext* ctx, const v1::CreateApiKeyRequest* request,
    v1::CreateApiKeyResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kCreateApiKey, *request);
  if (!call.admitted()) return call.reactor();
  if (absl::Status st = ValidateCreateApiKey(*request); !st.ok()) {
    return call.Finish(st);
  }
  const absl::Time now = absl::Now();
  AccessControl::NewKey key = AccessControl::MakeKey(
      request->role(),
      {request->venue_ids().begin(), request->venue_ids().end()},
      request->description(), call.caller().Actor(), now);
  AuditEntry audit{
      0,
      now,
      call.caller().Actor(),
      "create_key",
      key.stored.key.key_id(),
      absl::StrCat("role ", v1::Role_Name(request->role()), "; venues ",
                   absl::StrJoin(key.stored.key.venue_ids(), ","))};
  grpc::ServerUnaryReactor* reactor = call.reactor();
  *response->mutable_key() = key.stored.key;
  response->set_secret(key.secret);
  store_->InsertApiKey(
      key.stored, std::move(audit),
      [this, reactor, stored = key.stored, response](absl::StatusOr<bool> r) {
        if (r.ok()) {
          access_->KeyStored(stored);
        } else {
          response->Clear();
        }
        reactor->Finish(ToGrpcStatus(r.status()));
      });
  return reactor;
}

grpc::ServerUnaryReactor* AccessServiceImpl::RevokeApiKey(
    grpc::CallbackServerContext* ctx, const v1::RevokeApiKeyRequest* request,
    v1::RevokeApiKeyResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kRevokeApiKey, *request);
  if (!call.admitted()) return call.reactor();
  if (absl::Status st = ValidateKeyId("key_id", request->key_id()); !st.ok()) {
    return call.Finish(st);
  }
  const absl::Time now = absl::Now();
  AuditEntry audit{
      0, now, call.caller().Actor(), "revoke_key", request->key_id(), ""};
  grpc::ServerUnaryReactor* reactor = call.reactor();
  store_->RevokeApiKey(
      request->key_id(), now, std::move(audit),
      [this, reactor, response](absl::StatusOr<StoredApiKey> r) {
        if (r.ok()) {
          access_->KeyStored(*r);
          *response->mutable_key() = r->key;
        }
        reactor->Finish(ToGrpcStatus(r.status()));
      });
  return reactor;
}

grpc::ServerUnaryReactor* AccessServiceImpl::ListApiKeys(
    grpc::CallbackServerContext* ctx, const v1::ListApiKeysRequest* request,
    v1::ListApiKeysResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kListApiKeys, *request);
  if (!call.admitted()) return call.reactor();
  absl::StatusOr<std::vector<StoredApiKey>> keys = store_->ListApiKeys();
  if (keys.ok()) {
    for (StoredApiKey& k : *keys) *response->add_keys() = std::move(k.key);
  }
  return call.Finish(keys.status());
}

grpc::ServerUnaryReactor* AccessServiceImpl::EraseAttendee(
    grpc::CallbackServerContext* ctx, const v1::EraseAttendeeRequest* request,
    v1::EraseAttendeeResponse* response) {
  UnaryCall call(ctx, *access_, Rpc::kEraseAttendee, *request,
                 request->venue_id());
  if (!call.admitted()) return call.reactor();
  if (absl::Status st = ValidateEraseAttendee(*request); !st.ok()) {
    return call.Finish(st);
  }
  grpc::ServerUnaryReactor* reactor = call.reactor();
  personal_data_->Erase(
      request->venue_id(), request->attendee_id(), call.caller().Actor(),
      [reactor, response](absl::StatusOr<v1::EraseAttendeeResponse> r) {
        if (r.ok()) *response = *std::move(r);
        reactor->Finish(ToGrpcStatus(r.status()));
      });
  return reactor;
}

}  // namespace noqueue::server
