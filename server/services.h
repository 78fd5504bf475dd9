// The gRPC services of noqueue.v1, on the callback API. Handlers validate,
// then hand writes to the store's writer and finish the RPC from its
// completion callback, so no gRPC thread blocks on SQLite's commit.
#ifndef NOQUEUE_SERVER_SERVICES_H_
#define NOQUEUE_SERVER_SERVICES_H_

#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/strings/string_view.h"
#include "noqueue/v1/arrival.grpc.pb.h"
#include "noqueue/v1/scheduling.grpc.pb.h"
#include "noqueue/v1/venue.grpc.pb.h"
#include "server/crowd_loop.h"
#include "server/learning_loop.h"
#include "server/store.h"
#include "server/validation.h"

namespace noqueue::server {

// The one place where absl::Status becomes grpc::Status (same codes).
grpc::Status ToGrpcStatus(const absl::Status& status);

// A fresh random id with `prefix` ("sch_", "rep_"): 96 random bits in hex.
std::string NewId(absl::string_view prefix);

class VenueServiceImpl final : public v1::VenueService::CallbackService {
 public:
  explicit VenueServiceImpl(Store* store) : store_(store) {}
  grpc::ServerUnaryReactor* UpsertVenue(
      grpc::CallbackServerContext* ctx, const v1::UpsertVenueRequest* request,
      v1::UpsertVenueResponse* response) override;
  grpc::ServerUnaryReactor* GetVenue(grpc::CallbackServerContext* ctx,
                                     const v1::GetVenueRequest* request,
                                     v1::GetVenueResponse* response) override;

 private:
  Store* const store_;
};

class SchedulingServiceImpl final
    : public v1::SchedulingService::CallbackService {
 public:
  SchedulingServiceImpl(Store* store, const LearningLoop* learning,
                        CrowdLoop* crowd, Limits limits)
      : store_(store), learning_(learning), crowd_(crowd), limits_(limits) {}
  grpc::ServerUnaryReactor* CreateSchedule(
      grpc::CallbackServerContext* ctx,
      const v1::CreateScheduleRequest* request,
      v1::CreateScheduleResponse* response) override;
  grpc::ServerUnaryReactor* GetSchedule(
      grpc::CallbackServerContext* ctx, const v1::GetScheduleRequest* request,
      v1::GetScheduleResponse* response) override;
  grpc::ServerUnaryReactor* ListSchedules(
      grpc::CallbackServerContext* ctx,
      const v1::ListSchedulesRequest* request,
      v1::ListSchedulesResponse* response) override;

 private:
  Store* const store_;
  const LearningLoop* const learning_;
  CrowdLoop* const crowd_;
  const Limits limits_;
};

class ArrivalServiceImpl final : public v1::ArrivalService::CallbackService {
 public:
  ArrivalServiceImpl(Store* store, LearningLoop* learning, CrowdLoop* crowd,
                     Limits limits)
      : store_(store), learning_(learning), crowd_(crowd), limits_(limits) {}
  grpc::ServerBidiReactor<v1::ArrivalEvent, v1::ArrivalAck>* StreamArrivals(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* RecordArrivals(
      grpc::CallbackServerContext* ctx,
      const v1::RecordArrivalsRequest* request,
      v1::RecordArrivalsResponse* response) override;

 private:
  Store* const store_;
  LearningLoop* const learning_;
  CrowdLoop* const crowd_;
  const Limits limits_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_SERVICES_H_
