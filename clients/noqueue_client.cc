#include "clients/noqueue_client.h"

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "proto/base/api_limits.h"
#include "proto/base/grpc_status.h"
#include "proto/base/wire_time.h"

namespace noqueue::client {

absl::StatusOr<std::string> ReadCredentialFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("credential file ", path, ": cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string credential(absl::StripAsciiWhitespace(text.str()));
  if (credential.empty() ||
      credential.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("credential file ", path, ": must hold one key or token"));
  }
  return credential;
}

NoQueueClient::NoQueueClient(std::shared_ptr<grpc::Channel> channel,
                             ClientOptions options)
    : channel_(std::move(channel)),
      options_(std::move(options)),
      venues_(v1::VenueService::NewStub(channel_)),
      scheduling_(v1::SchedulingService::NewStub(channel_)),
      arrivals_(v1::ArrivalService::NewStub(channel_)),
      model_(v1::ModelService::NewStub(channel_)),
      crowd_(v1::CrowdService::NewStub(channel_)),
      access_(v1::AccessService::NewStub(channel_)),
      attendee_(v1::AttendeeService::NewStub(channel_)),
      live_(v1::LiveService::NewStub(channel_)),
      webhooks_(v1::WebhookService::NewStub(channel_)) {}

std::unique_ptr<NoQueueClient> NoQueueClient::Connect(const std::string& target,
                                                      ClientOptions options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (!options.tls_ca_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_ca_pem;
    ssl.pem_cert_chain = options.tls_cert_pem;
    ssl.pem_private_key = options.tls_key_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  return std::make_unique<NoQueueClient>(
      grpc::CreateCustomChannel(target, credentials, args), std::move(options));
}

std::unique_ptr<NoQueueClient> NoQueueClient::Connect(const std::string& target,
                                                      absl::Duration deadline) {
  ClientOptions options;
  options.deadline = deadline;
  return Connect(target, std::move(options));
}

void NoQueueClient::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
  if (!options_.credential.empty()) {
    ctx->AddMetadata("authorization", "Bearer " + options_.credential);
  }
}

// One unary call under the client's deadline: the response, or the status.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> NoQueueClient::Call(
    Stub* stub,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                 Response*),
    const Request& request) const {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  Response response;
  absl::Status st = FromGrpcStatus((stub->*method)(&ctx, request, &response));
  if (!st.ok()) return st;
  return response;
}

absl::StatusOr<v1::UpsertVenueResponse> NoQueueClient::UpsertVenue(
    const v1::Venue& venue) {
  v1::UpsertVenueRequest request;
  *request.mutable_venue() = venue;
  return Call(venues_.get(), &v1::VenueService::Stub::UpsertVenue, request);
}

absl::StatusOr<v1::Venue> NoQueueClient::GetVenue(const std::string& venue_id) {
  v1::GetVenueRequest request;
  request.set_venue_id(venue_id);
  auto response =
      Call(venues_.get(), &v1::VenueService::Stub::GetVenue, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_venue());
}

absl::StatusOr<v1::Schedule> NoQueueClient::CreateSchedule(
    const v1::CreateScheduleRequest& request) {
  auto response = Call(scheduling_.get(),
                       &v1::SchedulingService::Stub::CreateSchedule, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_schedule());
}

absl::StatusOr<v1::Schedule> NoQueueClient::GetSchedule(
    const std::string& schedule_id) {
  v1::GetScheduleRequest request;
  request.set_schedule_id(schedule_id);
  auto response = Call(scheduling_.get(),
                       &v1::SchedulingService::Stub::GetSchedule, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_schedule());
}

absl::StatusOr<std::vector<v1::Schedule>> NoQueueClient::ListAllSchedules(
    const std::string& venue_id) {
  std::vector<v1::Schedule> all;
  v1::ListSchedulesRequest request;
  request.set_venue_id(venue_id);
  request.set_page_size(1000);
  do {
    auto response = Call(scheduling_.get(),
                         &v1::SchedulingService::Stub::ListSchedules, request);
    if (!response.ok()) return response.status();
    for (auto& s : *response->mutable_schedules()) all.push_back(std::move(s));
    request.set_page_token(response->next_page_token());
  } while (!request.page_token().empty());
  return all;
}

absl::StatusOr<std::vector<v1::ArrivalAck>> NoQueueClient::RecordArrivals(
    const std::vector<v1::ArrivalEvent>& events) {
  v1::RecordArrivalsRequest request;
  request.mutable_events()->Assign(events.begin(), events.end());
  auto response =
      Call(arrivals_.get(), &v1::ArrivalService::Stub::RecordArrivals, request);
  if (!response.ok()) return response.status();
  return std::vector<v1::ArrivalAck>(response->acks().begin(),
                                     response->acks().end());
}

absl::StatusOr<v1::GetModelInfoResponse> NoQueueClient::GetModelInfo(
    const std::string& venue_id) {
  v1::GetModelInfoRequest request;
  request.set_venue_id(venue_id);
  return Call(model_.get(), &v1::ModelService::Stub::GetModelInfo, request);
}

absl::StatusOr<v1::ExplainPredictionResponse> NoQueueClient::ExplainPrediction(
    const v1::ExplainPredictionRequest& request) {
  return Call(model_.get(), &v1::ModelService::Stub::ExplainPrediction,
              request);
}

absl::StatusOr<v1::ReportQueueResponse> NoQueueClient::ReportQueue(
    const v1::ReportQueueRequest& request) {
  return Call(crowd_.get(), &v1::CrowdService::Stub::ReportQueue, request);
}

absl::StatusOr<v1::VenueStatus> NoQueueClient::GetVenueStatus(
    const std::string& venue_id) {
  v1::GetVenueStatusRequest request;
  request.set_venue_id(venue_id);
  auto response =
      Call(crowd_.get(), &v1::CrowdService::Stub::GetVenueStatus, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_status());
}

absl::StatusOr<v1::CreateApiKeyResponse> NoQueueClient::CreateApiKey(
    const v1::CreateApiKeyRequest& request) {
  return Call(access_.get(), &v1::AccessService::Stub::CreateApiKey, request);
}

absl::StatusOr<v1::ApiKey> NoQueueClient::RevokeApiKey(
    const std::string& key_id) {
  v1::RevokeApiKeyRequest request;
  request.set_key_id(key_id);
  auto response =
      Call(access_.get(), &v1::AccessService::Stub::RevokeApiKey, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_key());
}

absl::StatusOr<std::vector<v1::ApiKey>> NoQueueClient::ListApiKeys() {
  auto response = Call(access_.get(), &v1::AccessService::Stub::ListApiKeys,
                       v1::ListApiKeysRequest());
  if (!response.ok()) return response.status();
  return std::vector<v1::ApiKey>(response->keys().begin(),
                                 response->keys().end());
}

absl::StatusOr<v1::EraseAttendeeResponse> NoQueueClient::EraseAttendee(
    const std::string& venue_id, const std::string& attendee_id) {
  v1::EraseAttendeeRequest request;
  request.set_venue_id(venue_id);
  request.set_attendee_id(attendee_id);
  return Call(access_.get(), &v1::AccessService::Stub::EraseAttendee, request);
}

absl::StatusOr<v1::GetMyConvocationResponse> NoQueueClient::GetMyConvocation() {
  return Call(attendee_.get(), &v1::AttendeeService::Stub::GetMyConvocation,
              v1::GetMyConvocationRequest());
}

absl::StatusOr<v1::DeclareDelayResponse> NoQueueClient::DeclareDelay(
    absl::Duration delay) {
  v1::DeclareDelayRequest request;
  *request.mutable_delay() = ToProtoDuration(delay);
  return Call(attendee_.get(), &v1::AttendeeService::Stub::DeclareDelay,
              request);
}

absl::StatusOr<v1::CancelConvocationResponse>
NoQueueClient::CancelConvocation() {
  return Call(attendee_.get(), &v1::AttendeeService::Stub::CancelConvocation,
              v1::CancelConvocationRequest());
}

absl::StatusOr<v1::UpdateServicePointsResponse>
NoQueueClient::UpdateServicePoints(
    const v1::UpdateServicePointsRequest& request) {
  return Call(live_.get(), &v1::LiveService::Stub::UpdateServicePoints,
              request);
}

absl::StatusOr<v1::Webhook> NoQueueClient::CreateWebhook(
    const v1::CreateWebhookRequest& request) {
  return Call(webhooks_.get(), &v1::WebhookService::Stub::CreateWebhook,
              request);
}

absl::StatusOr<std::vector<v1::Webhook>> NoQueueClient::ListWebhooks(
    const std::string& venue_id) {
  v1::ListWebhooksRequest request;
  request.set_venue_id(venue_id);
  auto response =
      Call(webhooks_.get(), &v1::WebhookService::Stub::ListWebhooks, request);
  if (!response.ok()) return response.status();
  return std::vector<v1::Webhook>(response->webhooks().begin(),
                                  response->webhooks().end());
}

absl::Status NoQueueClient::DeleteWebhook(const std::string& webhook_id) {
  v1::DeleteWebhookRequest request;
  request.set_webhook_id(webhook_id);
  return Call(webhooks_.get(), &v1::WebhookService::Stub::DeleteWebhook,
              request)
      .status();
}

namespace {

// Reads `reader` until `on_event` declines (then cancels: OK) or it ends.
absl::Status ReadEvents(grpc::ClientContext& ctx,
                        grpc::ClientReader<v1::ScheduleEvent>& reader,
                        const NoQueueClient::OnEvent& on_event) {
  v1::ScheduleEvent e;
  while (reader.Read(&e)) {
    if (!on_event(e)) {
      ctx.TryCancel();
      reader.Finish().error_code();  // CANCELLED, as asked
      return absl::OkStatus();
    }
  }
  return FromGrpcStatus(reader.Finish());
}

}  // namespace

absl::Status NoQueueClient::WatchSchedule(const std::string& schedule_id,
                                          int64_t resume_after,
                                          const OnEvent& on_event) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::WatchScheduleRequest request;
  request.set_schedule_id(schedule_id);
  request.set_resume_after(resume_after);
  auto reader = live_->WatchSchedule(&ctx, request);
  return ReadEvents(ctx, *reader, on_event);
}

absl::Status NoQueueClient::WatchMyConvocation(int64_t resume_after,
                                               const OnEvent& on_event) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  v1::WatchMyConvocationRequest request;
  request.set_resume_after(resume_after);
  auto reader = attendee_->WatchMyConvocation(&ctx, request);
  return ReadEvents(ctx, *reader, on_event);
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
    return absl::DataLossError(
        "stream ended before every tag was acknowledged");
  }
  return st;
}

}  // namespace noqueue::client
