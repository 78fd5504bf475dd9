#include "clients/noqueue_client.h"

#include <thread>

namespace noqueue::client {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

NoQueueClient::NoQueueClient(std::shared_ptr<grpc::Channel> channel,
                             absl::Duration deadline)
    : channel_(std::move(channel)),
      deadline_(deadline),
      venues_(v1::VenueService::NewStub(channel_)),
      scheduling_(v1::SchedulingService::NewStub(channel_)),
      arrivals_(v1::ArrivalService::NewStub(channel_)) {}

std::unique_ptr<NoQueueClient> NoQueueClient::Connect(const std::string& target,
                                                      absl::Duration deadline) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return std::make_unique<NoQueueClient>(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                args),
      deadline);
}

void NoQueueClient::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
}

absl::StatusOr<v1::UpsertVenueResponse> NoQueueClient::UpsertVenue(
    const v1::Venue& venue) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::UpsertVenueRequest request;
  *request.mutable_venue() = venue;
  v1::UpsertVenueResponse response;
  absl::Status st =
      FromGrpcStatus(venues_->UpsertVenue(&ctx, request, &response));
  if (!st.ok()) return st;
  return response;
}

absl::StatusOr<v1::Venue> NoQueueClient::GetVenue(const std::string& venue_id) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::GetVenueRequest request;
  request.set_venue_id(venue_id);
  v1::GetVenueResponse response;
  absl::Status st = FromGrpcStatus(venues_->GetVenue(&ctx, request, &response));
  if (!st.ok()) return st;
  return std::move(*response.mutable_venue());
}

absl::StatusOr<v1::Schedule> NoQueueClient::CreateSchedule(
    const v1::CreateScheduleRequest& request) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::CreateScheduleResponse response;
  absl::Status st =
      FromGrpcStatus(scheduling_->CreateSchedule(&ctx, request, &response));
  if (!st.ok()) return st;
  return std::move(*response.mutable_schedule());
}

absl::StatusOr<v1::Schedule> NoQueueClient::GetSchedule(
    const std::string& schedule_id) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::GetScheduleRequest request;
  request.set_schedule_id(schedule_id);
  v1::GetScheduleResponse response;
  absl::Status st =
      FromGrpcStatus(scheduling_->GetSchedule(&ctx, request, &response));
  if (!st.ok()) return st;
  return std::move(*response.mutable_schedule());
}

absl::StatusOr<std::vector<v1::Schedule>> NoQueueClient::ListAllSchedules(
    const std::string& venue_id) {
  std::vector<v1::Schedule> all;
  std::string token;
  do {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    v1::ListSchedulesRequest request;
    request.set_venue_id(venue_id);
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListSchedulesResponse response;
    absl::Status st =
        FromGrpcStatus(scheduling_->ListSchedules(&ctx, request, &response));
    if (!st.ok()) return st;
    for (auto& s : *response.mutable_schedules()) all.push_back(std::move(s));
    token = response.next_page_token();
  } while (!token.empty());
  return all;
}

absl::StatusOr<std::vector<v1::ArrivalAck>> NoQueueClient::RecordArrivals(
    const std::vector<v1::ArrivalEvent>& events) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::RecordArrivalsRequest request;
  for (const auto& e : events) *request.add_events() = e;
  v1::RecordArrivalsResponse response;
  absl::Status st =
      FromGrpcStatus(arrivals_->RecordArrivals(&ctx, request, &response));
  if (!st.ok()) return st;
  return std::vector<v1::ArrivalAck>(response.acks().begin(),
                                     response.acks().end());
}

absl::Status NoQueueClient::StreamArrivals(
    const std::vector<v1::ArrivalEvent>& events,
    std::vector<v1::ArrivalAck>* acks) {
  acks->clear();
  grpc::ClientContext ctx;
  Prepare(&ctx);
  auto stream = arrivals_->StreamArrivals(&ctx);
  std::thread writer([&] {
    for (const auto& e : events) {
      if (!stream->Write(e)) break;
    }
    stream->WritesDone();
  });
  v1::ArrivalAck ack;
  while (stream->Read(&ack)) acks->push_back(ack);
  writer.join();
  absl::Status st = FromGrpcStatus(stream->Finish());
  if (st.ok() && acks->size() != events.size()) {
    return absl::DataLossError("stream ended before every tag was acknowledged");
  }
  return st;
}

}  // namespace noqueue::client
