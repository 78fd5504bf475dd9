// Requests whose bytes do not parse, answered INVALID_ARGUMENT.
//
// gRPC's callback server answers a unary request that fails to deserialize
// with UNIMPLEMENTED and an empty message, and ends a stream whose next
// message fails to deserialize as if the client had closed it (OnReadDone
// with ok=false, then OK): no handler, interceptor or allocator sees the
// failure. So the serialization traits of every request message are
// replaced here: when the bytes do not parse, the message is cleared and
// marked (an unknown field of number kUnparsableMark) and deserialization
// "succeeds"; the handler then checks the mark first:
//
//   if (absl::Status st = ParsedRequest(*request); !st.ok())
//     return FinishUnary(ctx, st);
//
// This header is included by every generated *.grpc.pb.h (protoc's
// additional_header_includes, proto/CMakeLists.txt) so that every
// translation unit that instantiates the traits sees the same ones. A new
// request message must be listed at the end of this file.
#ifndef NOQUEUE_PROTO_BASE_UNPARSABLE_REQUEST_H_
#define NOQUEUE_PROTO_BASE_UNPARSABLE_REQUEST_H_

#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "noqueue/v1/access.pb.h"
#include "noqueue/v1/arrival.pb.h"
#include "noqueue/v1/attendee.pb.h"
#include "noqueue/v1/crowd.pb.h"
#include "noqueue/v1/live.pb.h"
#include "noqueue/v1/model.pb.h"
#include "noqueue/v1/scheduling.pb.h"
#include "noqueue/v1/venue.pb.h"
#include "noqueue/v1/webhook.pb.h"

namespace noqueue {

// The field number that marks a request whose bytes did not parse: the
// largest that protobuf allows, used by no message of the API.
inline constexpr int kUnparsableMark = 536870911;

// OK when `request` came from bytes that parsed; otherwise INVALID_ARGUMENT
// naming `field` and the message type.
inline absl::Status ParsedRequest(const google::protobuf::Message& request,
                                  const std::string& field = "request") {
  const google::protobuf::UnknownFieldSet& unknown =
      request.GetReflection()->GetUnknownFields(request);
  for (int i = 0; i < unknown.field_count(); ++i) {
    if (unknown.field(i).number() == kUnparsableMark) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": the bytes received are not a valid ", request.GetTypeName(),
          " (malformed protobuf encoding)"));
    }
  }
  return absl::OkStatus();
}

// gRPC's protobuf traits, except that bytes that do not parse give an empty
// message marked as unparsable, and OK.
template <class T>
class UnparsableTolerantTraits {
 public:
  static grpc::Status Serialize(const grpc::protobuf::MessageLite& msg,
                                grpc::ByteBuffer* bb, bool* own_buffer) {
    return grpc::GenericSerialize<grpc::ProtoBufferWriter, T>(msg, bb,
                                                              own_buffer);
  }
  static grpc::Status Deserialize(grpc::ByteBuffer* buffer,
                                  grpc::protobuf::MessageLite* msg) {
    grpc::Status st =
        grpc::GenericDeserialize<grpc::ProtoBufferReader, T>(buffer, msg);
    if (st.ok()) return st;
    T* message = static_cast<T*>(msg);
    message->Clear();
    message->GetReflection()->MutableUnknownFields(message)->AddVarint(
        kUnparsableMark, 1);
    return grpc::Status::OK;
  }
};

}  // namespace noqueue

#define NOQUEUE_UNPARSABLE_TOLERANT(T)                    \
  namespace grpc {                                        \
  template <>                                             \
  class SerializationTraits<T, void>                      \
      : public ::noqueue::UnparsableTolerantTraits<T> {}; \
  }

// Every message a client sends to the server.
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::UpsertVenueRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::GetVenueRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::CreateScheduleRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::GetScheduleRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::ListSchedulesRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::ArrivalEvent)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::RecordArrivalsRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::GetModelInfoRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::ExplainPredictionRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::ReportQueueRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::GetVenueStatusRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::CreateApiKeyRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::RevokeApiKeyRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::ListApiKeysRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::EraseAttendeeRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::GetMyConvocationRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::WatchMyConvocationRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::DeclareDelayRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::CancelConvocationRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::WatchScheduleRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::UpdateServicePointsRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::CreateWebhookRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::ListWebhooksRequest)
NOQUEUE_UNPARSABLE_TOLERANT(::noqueue::v1::DeleteWebhookRequest)

#endif  // NOQUEUE_PROTO_BASE_UNPARSABLE_REQUEST_H_
