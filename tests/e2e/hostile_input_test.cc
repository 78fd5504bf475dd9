// Hostile input, end to end: requests that a careless or malicious client
// sends (paths for time zones, times out of range, bytes that do not parse,
// huge values, reused idempotency keys) are refused with INVALID_ARGUMENT or
// FAILED_PRECONDITION, a short message naming the field and the rule, and
// nothing stored; the server keeps serving.
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/sync_stream.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/noqueue_client.h"
#include "proto/base/api_limits.h"
#include "proto/base/wire_time.h"
#include "server/wire/validation.h"
#include "tests/support/running_server.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

using testing::ExpectError;
using testing::Running;
using testing::ScheduleRequest;
using testing::TempDir;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

TEST_CASE("A time zone is accepted only as an IANA name, never as a path") {
  TempDir dir;
  Running s(dir);
  const std::string fifo = dir.file("zone-fifo");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  // A FIFO hung the handler in the zone loader's fopen: refused at once now.
  for (const std::string& zone :
       {fifo, std::string("/usr/share/zoneinfo/UTC"),
        std::string("UTC\0junk", 8), std::string("../../../etc/passwd"),
        std::string("Europe/../Europe/Paris"), std::string("Europe//Paris"),
        std::string("Europe/Paris/"), std::string("file:UTC"),
        std::string("localtime"), std::string("Mars/Olympus_Mons")}) {
    INFO(zone);
    v1::Venue v = testing::ClinicVenue();
    v.set_time_zone(zone);
    ExpectError(s.client->UpsertVenue(v), kInvalid, "venue.time_zone");
  }
  for (const char* zone : {"Europe/Paris", "UTC", "Etc/GMT+5",
                           "America/Argentina/Buenos_Aires", "EST5EDT"}) {
    INFO(zone);
    v1::Venue v = testing::ClinicVenue();
    v.set_time_zone(zone);
    CHECK(s.client->UpsertVenue(v).ok());
  }
}

TEST_CASE("An error quotes at most a short prefix of what it rejects") {
  Running s;
  v1::Venue v = testing::ClinicVenue();
  v.set_time_zone(std::string(1 << 20, 'A'));
  auto r = s.client->UpsertVenue(v);
  ExpectError(r, kInvalid, "venue.time_zone");
  CHECK(r.status().message().size() < 300);
  // The connection still serves calls.
  CHECK(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  CHECK(server::Quote(std::string(1000, 'x')).size() < 100);
  const std::string quoted = server::Quote(std::string("a\0b", 3));
  CHECK(quoted.find('\0') == std::string::npos);
  CHECK(quoted.front() == '"');
}

TEST_CASE("Times outside 1970..2200 or with bad nanos are refused") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  google::protobuf::Timestamp year1;
  year1.set_seconds(-62135596800);
  google::protobuf::Timestamp year9999;
  year9999.set_seconds(253402300799);
  google::protobuf::Timestamp negative_nanos = ToTimestamp(testing::Morning());
  negative_nanos.set_nanos(-5);

  auto request = ScheduleRequest("clinic-1", 3);
  *request.mutable_window_start() = year1;
  ExpectError(s.client->CreateSchedule(request), kInvalid,
              "window_start: must lie between 1970-01-01 and 2200-01-01");
  request = ScheduleRequest("clinic-1", 3);
  *request.mutable_window_end() = year9999;
  ExpectError(s.client->CreateSchedule(request), kInvalid, "window_end");
  request = ScheduleRequest("clinic-1", 3);
  *request.mutable_window_start() = negative_nanos;
  ExpectError(s.client->CreateSchedule(request), kInvalid,
              "window_start: nanos must be between 0 and 999999999");
  auto all = s.client->ListAllSchedules("clinic-1");
  REQUIRE(all.ok());
  CHECK(all->empty());

  v1::ExplainPredictionRequest explain;
  explain.set_venue_id("clinic-1");
  explain.mutable_attendee()->set_attendee_id("a-1");
  *explain.mutable_convocation_time() = ToTimestamp(testing::Morning());
  REQUIRE(s.client->ExplainPrediction(explain).ok());
  for (const google::protobuf::Timestamp& bad :
       {year1, year9999, negative_nanos}) {
    auto e = explain;
    *e.mutable_convocation_time() = bad;
    ExpectError(s.client->ExplainPrediction(e), kInvalid, "convocation_time");
  }
  auto e = explain;
  e.mutable_convocation_time()->set_seconds(
      std::numeric_limits<int64_t>::max());
  ExpectError(s.client->ExplainPrediction(e), kInvalid, "convocation_time");
  e = explain;
  e.mutable_attendee()->set_party_size(-5);
  ExpectError(s.client->ExplainPrediction(e), kInvalid,
              "attendee.party_size: must be between 0 and 1000");
}

TEST_CASE(
    "Durations with nanos out of range or of the wrong sign are refused") {
  Running s;
  for (auto [seconds, nanos] : {std::pair<int64_t, int32_t>{60, 1000000000},
                                std::pair<int64_t, int32_t>{60, -5},
                                std::pair<int64_t, int32_t>{-60, 5}}) {
    INFO(seconds << " s " << nanos << " ns");
    v1::Venue v = testing::ClinicVenue();
    v.mutable_mean_service_time()->set_seconds(seconds);
    v.mutable_mean_service_time()->set_nanos(nanos);
    ExpectError(s.client->UpsertVenue(v), kInvalid,
                "venue.mean_service_time: is not a valid duration");
  }
  ExpectError(s.client->GetVenue("clinic-1"), absl::StatusCode::kNotFound,
              "clinic-1");
}

TEST_CASE("A request id reused for a different request is refused") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  auto request = ScheduleRequest("clinic-1", 5);
  request.set_request_id("booking-42");
  auto first = s.client->CreateSchedule(request);
  REQUIRE(first.ok());
  auto retry = s.client->CreateSchedule(request);
  REQUIRE(retry.ok());
  CHECK(retry->schedule_id() == first->schedule_id());
  auto other = request;
  other.add_attendees()->set_attendee_id("someone-else");
  ExpectError(s.client->CreateSchedule(other),
              absl::StatusCode::kFailedPrecondition,
              "request_id: \"booking-42\" was already used for a different "
              "request");
  auto all = s.client->ListAllSchedules("clinic-1");
  REQUIRE(all.ok());
  CHECK(all->size() == 1);
}

// Calls `method` of the server with raw `bytes` as the request.
grpc::Status CallRaw(Running& s, const std::string& method,
                     const std::string& bytes) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + s.admin_key);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      s.client->channel(),
      grpc::internal::RpcMethod(method.c_str(),
                                grpc::internal::RpcMethod::NORMAL_RPC),
      &ctx, request, &response);
}

// Bytes that no message parses: a field 1 of wire type 2 whose length runs
// past the end.
const std::string kGarbage("\x0a\xff\xff\xff\x0f\x01", 6);

TEST_CASE("Bytes that do not parse as the request answer INVALID_ARGUMENT") {
  Running s;
  for (const char* method : {
           "/noqueue.v1.VenueService/UpsertVenue",
           "/noqueue.v1.VenueService/GetVenue",
           "/noqueue.v1.SchedulingService/CreateSchedule",
           "/noqueue.v1.SchedulingService/GetSchedule",
           "/noqueue.v1.SchedulingService/ListSchedules",
           "/noqueue.v1.ArrivalService/RecordArrivals",
           "/noqueue.v1.ModelService/GetModelInfo",
           "/noqueue.v1.ModelService/ExplainPrediction",
           "/noqueue.v1.CrowdService/ReportQueue",
           "/noqueue.v1.CrowdService/GetVenueStatus",
           "/noqueue.v1.AccessService/CreateApiKey",
           "/noqueue.v1.AccessService/RevokeApiKey",
           "/noqueue.v1.AccessService/ListApiKeys",
           "/noqueue.v1.AccessService/EraseAttendee",
           "/noqueue.v1.AttendeeService/GetMyConvocation",
       }) {
    INFO(method);
    grpc::Status st = CallRaw(s, method, kGarbage);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(st.error_message().find("request: the bytes received are not a "
                                  "valid noqueue.v1.") != std::string::npos);
  }
  // A string field that is not UTF-8 does not parse either.
  grpc::Status st = CallRaw(s, "/noqueue.v1.VenueService/GetVenue",
                            std::string("\x0a\x02\xff\xfe", 4));
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.client->UpsertVenue(testing::ClinicVenue()).ok());
}

TEST_CASE("A malformed tag on the stream is acknowledged as INVALID_ARGUMENT") {
  Running s;
  REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + s.admin_key);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>
      stream(grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer,
                                                       grpc::ByteBuffer>::
                 Create(s.client->channel(),
                        grpc::internal::RpcMethod(
                            "/noqueue.v1.ArrivalService/StreamArrivals",
                            grpc::internal::RpcMethod::BIDI_STREAMING),
                        &ctx));
  grpc::Slice slice(kGarbage);
  REQUIRE(stream->Write(grpc::ByteBuffer(&slice, 1)));
  grpc::ByteBuffer reply;
  REQUIRE(stream->Read(&reply));
  v1::ArrivalAck ack;
  std::vector<grpc::Slice> slices;
  REQUIRE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& piece : slices) {
    bytes.append(reinterpret_cast<const char*>(piece.begin()), piece.size());
  }
  REQUIRE(ack.ParseFromString(bytes));
  CHECK(ack.status() == v1::REJECTED);
  CHECK(ack.code() == static_cast<int>(kInvalid));
  CHECK(ack.message().find("event: the bytes received are not a valid "
                           "noqueue.v1.ArrivalEvent") != std::string::npos);
  stream->WritesDone();
  CHECK(stream->Finish().ok());
}

TEST_CASE("The message size limit holds the largest schedule the API allows") {
  // Every attendee at its byte limit, as many as a schedule may hold.
  v1::CreateScheduleRequest r = ScheduleRequest("clinic-1", 0);
  r.set_request_id(std::string(128, 'r'));
  v1::Attendee big;
  big.set_attendee_id(std::string(128, 'a'));
  for (int i = 0; big.ByteSizeLong() + 80 < kMaxAttendeeBytes; ++i) {
    (*big.mutable_features())[absl::StrCat("feature_", i)] = 1.0 * i;
  }
  REQUIRE(big.ByteSizeLong() <= static_cast<size_t>(kMaxAttendeeBytes));
  const size_t without = r.ByteSizeLong();
  *r.add_attendees() = big;
  const size_t per_attendee = r.ByteSizeLong() - without;
  CHECK(without + kMaxAttendeesPerSchedule * per_attendee <=
        static_cast<size_t>(kMaxMessageBytes));
  CHECK(kMaxMessageBytes < 48 << 20);

  // One attendee over the limit is refused, naming it.
  v1::CreateScheduleRequest one = ScheduleRequest("clinic-1", 2);
  for (int i = 0; i < 60; ++i) {
    (*one.mutable_attendees(1)
          ->mutable_features())[absl::StrCat(std::string(50, 'f'), i)] = 1.0;
  }
  absl::Status st = server::ValidateCreateSchedule(one, server::Limits());
  CHECK(st.code() == kInvalid);
  CHECK(std::string(st.message()).find("attendees[1]: takes") !=
        std::string::npos);
}

}  // namespace
}  // namespace noqueue
