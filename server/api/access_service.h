// AccessService: API keys (made, revoked, listed: ADMIN only) and the
// erasure of an attendee's personal data (ADMIN, or the venue's manager).
// Every action is audited.
#ifndef NOQUEUE_SERVER_API_ACCESS_SERVICE_H_
#define NOQUEUE_SERVER_API_ACCESS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/access.grpc.pb.h"
#include "server/access/access_control.h"
#include "server/core/personal_data.h"
#include "server/store/store.h"

namespace noqueue::server {

class AccessServiceImpl final : public v1::AccessService::CallbackService {
 public:
  AccessServiceImpl(AccessControl* access, Store* store,
                    PersonalData* personal_data)
      : access_(access), store_(store), personal_data_(personal_data) {}
  grpc::ServerUnaryReactor* CreateApiKey(
      grpc::CallbackServerContext* ctx, const v1::CreateApiKeyRequest* request,
      v1::CreateApiKeyResponse* response) override;
  grpc::ServerUnaryReactor* RevokeApiKey(
      grpc::CallbackServerContext* ctx, const v1::RevokeApiKeyRequest* request,
      v1::RevokeApiKeyResponse* response) override;
  grpc::ServerUnaryReactor* ListApiKeys(
      grpc::CallbackServerContext* ctx, const v1::ListApiKeysRequest* request,
      v1::ListApiKeysResponse* response) override;
  grpc::ServerUnaryReactor* EraseAttendee(
      grpc::CallbackServerContext* ctx, const v1::EraseAttendeeRequest* request,
      v1::EraseAttendeeResponse* response) override;

 private:
  AccessControl* const access_;
  Store* const store_;
  PersonalData* const personal_data_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_ACCESS_SERVICE_H_
