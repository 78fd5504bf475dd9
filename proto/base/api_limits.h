// Size limits of the API that the server enforces and the clients respect.
#ifndef NOQUEUE_PROTO_BASE_API_LIMITS_H_
#define NOQUEUE_PROTO_BASE_API_LIMITS_H_

namespace noqueue {

// The largest gRPC message either side sends or accepts.
inline constexpr int kMaxMessageBytes = 64 << 20;

}  // namespace noqueue

#endif  // NOQUEUE_PROTO_BASE_API_LIMITS_H_
