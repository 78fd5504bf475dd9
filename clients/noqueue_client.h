// NoQueueClient: a small C++ client of the noqueue.v1 API. Every call has a
// deadline, carries the client's credential (an API key, or an attendee
// token) and returns absl::Status / StatusOr with the server's code and
// message.
//
//   ClientOptions options;
//   options.credential = *ReadCredentialFile("var/admin.key");
//   auto client = NoQueueClient::Connect("127.0.0.1:50051", options);
//   absl::StatusOr<v1::Schedule> s = client->CreateSchedule(request);
#ifndef NOQUEUE_CLIENTS_NOQUEUE_CLIENT_H_
#define NOQUEUE_CLIENTS_NOQUEUE_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "noqueue/v1/access.grpc.pb.h"
#include "noqueue/v1/arrival.grpc.pb.h"
#include "noqueue/v1/attendee.grpc.pb.h"
#include "noqueue/v1/crowd.grpc.pb.h"
#include "noqueue/v1/live.grpc.pb.h"
#include "noqueue/v1/model.grpc.pb.h"
#include "noqueue/v1/scheduling.grpc.pb.h"
#include "noqueue/v1/venue.grpc.pb.h"
#include "noqueue/v1/webhook.grpc.pb.h"

namespace noqueue::client {

namespace v1 = ::noqueue::v1;

struct ClientOptions {
  absl::Duration deadline = absl::Seconds(30);
  // Sent as "authorization: Bearer <credential>" (empty: none).
  std::string credential;
  // TLS when set: the CA (PEM) that signed the server's certificate, and
  // optionally this client's certificate chain and key (PEM) for servers
  // that require them.
  std::string tls_ca_pem;
  std::string tls_cert_pem;
  std::string tls_key_pem;
};

// The credential in a file (an API key or an attendee token, whitespace
// around it ignored): NOT_FOUND / INVALID_ARGUMENT naming the file.
absl::StatusOr<std::string> ReadCredentialFile(const std::string& path);

class NoQueueClient {
 public:
  NoQueueClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options);
  // A channel to `target` ("host:port"), with TLS when options say so.
  static std::unique_ptr<NoQueueClient> Connect(const std::string& target,
                                                ClientOptions options);
  // A plain channel without a credential.
  static std::unique_ptr<NoQueueClient> Connect(
      const std::string& target, absl::Duration deadline = absl::Seconds(30));

  absl::StatusOr<v1::UpsertVenueResponse> UpsertVenue(const v1::Venue& venue);
  absl::StatusOr<v1::Venue> GetVenue(const std::string& venue_id);
  absl::StatusOr<v1::Schedule> CreateSchedule(
      const v1::CreateScheduleRequest& request);
  absl::StatusOr<v1::Schedule> GetSchedule(const std::string& schedule_id);
  // Every schedule of the venue, oldest first, without convocations.
  absl::StatusOr<std::vector<v1::Schedule>> ListAllSchedules(
      const std::string& venue_id);
  // One atomic batch: all stored, or none and an error.
  absl::StatusOr<std::vector<v1::ArrivalAck>> RecordArrivals(
      const std::vector<v1::ArrivalEvent>& events);
  // Streams `events` and collects their acks in order into *acks. When the
  // stream breaks, returns its status; *acks then holds the acks received
  // before the break (those tags are durably stored).
  absl::Status StreamArrivals(const std::vector<v1::ArrivalEvent>& events,
                              std::vector<v1::ArrivalAck>* acks);

  // What the model has learned; with a venue id, that venue's metrics too.
  absl::StatusOr<v1::GetModelInfoResponse> GetModelInfo(
      const std::string& venue_id = "");
  absl::StatusOr<v1::ExplainPredictionResponse> ExplainPrediction(
      const v1::ExplainPredictionRequest& request);

  // A crowd report; the answer is the stored report's id.
  absl::StatusOr<v1::ReportQueueResponse> ReportQueue(
      const v1::ReportQueueRequest& request);
  absl::StatusOr<v1::VenueStatus> GetVenueStatus(const std::string& venue_id);

  // Access control (an ADMIN key; EraseAttendee also a venue's manager).
  absl::StatusOr<v1::CreateApiKeyResponse> CreateApiKey(
      const v1::CreateApiKeyRequest& request);
  absl::StatusOr<v1::ApiKey> RevokeApiKey(const std::string& key_id);
  absl::StatusOr<std::vector<v1::ApiKey>> ListApiKeys();
  absl::StatusOr<v1::EraseAttendeeResponse> EraseAttendee(
      const std::string& venue_id, const std::string& attendee_id);

  // The attendee's own convocation (the credential is its attendee token).
  absl::StatusOr<v1::GetMyConvocationResponse> GetMyConvocation();
  absl::StatusOr<v1::DeclareDelayResponse> DeclareDelay(absl::Duration delay);
  absl::StatusOr<v1::CancelConvocationResponse> CancelConvocation();

  // The live day. A watch calls `on_event` for each event after
  // `resume_after` until it returns false (the watch is then cancelled and
  // OK returned) or the stream ends (its status; a watch runs until the
  // client's deadline at most).
  using OnEvent = std::function<bool(const v1::ScheduleEvent&)>;
  absl::Status WatchSchedule(const std::string& schedule_id,
                             int64_t resume_after, const OnEvent& on_event);
  absl::Status WatchMyConvocation(int64_t resume_after,
                                  const OnEvent& on_event);
  absl::StatusOr<v1::UpdateServicePointsResponse> UpdateServicePoints(
      const v1::UpdateServicePointsRequest& request);

  // Webhooks.
  absl::StatusOr<v1::Webhook> CreateWebhook(
      const v1::CreateWebhookRequest& request);
  absl::StatusOr<std::vector<v1::Webhook>> ListWebhooks(
      const std::string& venue_id);
  absl::Status DeleteWebhook(const std::string& webhook_id);

  grpc::Channel* channel() { return channel_.get(); }

  // The credential it calls with ("" for none).
  const std::string& credential() const { return options_.credential; }

 private:
  void Prepare(grpc::ClientContext* ctx) const;
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(
      Stub* stub,
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                   Response*),
      const Request& request) const;

  std::shared_ptr<grpc::Channel> channel_;
  ClientOptions options_;
  std::unique_ptr<v1::VenueService::Stub> venues_;
  std::unique_ptr<v1::SchedulingService::Stub> scheduling_;
  std::unique_ptr<v1::ArrivalService::Stub> arrivals_;
  std::unique_ptr<v1::ModelService::Stub> model_;
  std::unique_ptr<v1::CrowdService::Stub> crowd_;
  std::unique_ptr<v1::AccessService::Stub> access_;
  std::unique_ptr<v1::AttendeeService::Stub> attendee_;
  std::unique_ptr<v1::LiveService::Stub> live_;
  std::unique_ptr<v1::WebhookService::Stub> webhooks_;
};

}  // namespace noqueue::client

#endif  // NOQUEUE_CLIENTS_NOQUEUE_CLIENT_H_
