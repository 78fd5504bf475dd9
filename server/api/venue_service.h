// VenueService: a venue's settings, created or replaced, and read back.
#ifndef NOQUEUE_SERVER_API_VENUE_SERVICE_H_
#define NOQUEUE_SERVER_API_VENUE_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/venue.grpc.pb.h"
#include "server/access/access_control.h"
#include "server/core/crowd_tracker.h"
#include "server/store/store.h"

namespace noqueue::server {

class VenueServiceImpl final : public v1::VenueService::CallbackService {
 public:
  VenueServiceImpl(AccessControl* access, Store* store, CrowdTracker* crowd)
      : access_(access), store_(store), crowd_(crowd) {}
  grpc::ServerUnaryReactor* UpsertVenue(
      grpc::CallbackServerContext* ctx, const v1::UpsertVenueRequest* request,
      v1::UpsertVenueResponse* response) override;
  grpc::ServerUnaryReactor* GetVenue(grpc::CallbackServerContext* ctx,
                                     const v1::GetVenueRequest* request,
                                     v1::GetVenueResponse* response) override;

 private:
  AccessControl* const access_;
  Store* const store_;
  CrowdTracker* const crowd_;  // told of every venue stored
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_VENUE_SERVICE_H_
