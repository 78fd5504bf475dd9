// Size limits of the API that the server enforces and the clients respect.
//
// The message limit is derived from the schedule limit: a CreateSchedule of
// kMaxAttendeesPerSchedule attendees, each at most kMaxAttendeeBytes on the
// wire (validation refuses a larger one, naming it), plus
// kMaxRequestOverheadBytes for the rest of the request, is the largest
// request a server accepts; anything larger is refused by gRPC with
// RESOURCE_EXHAUSTED before it is parsed.
#ifndef NOQUEUE_PROTO_BASE_API_LIMITS_H_
#define NOQUEUE_PROTO_BASE_API_LIMITS_H_

namespace noqueue {

// The most attendees one schedule may hold (the server's --max_attendees
// may lower it, not raise it).
inline constexpr int kMaxAttendeesPerSchedule = 20000;
// The most bytes one attendee may take on the wire: a 128-character id, its
// times and about twenty long-named features (a typical one takes under 200).
inline constexpr int kMaxAttendeeBytes = 2048;
// The rest of a CreateScheduleRequest (ids, window, planning options) and the
// framing of each attendee, with room to spare.
inline constexpr int kMaxRequestOverheadBytes = 1 << 20;

// The largest gRPC message either side sends or accepts: about 40 MiB.
inline constexpr int kMaxMessageBytes =
    kMaxAttendeesPerSchedule * (kMaxAttendeeBytes + 8) +
    kMaxRequestOverheadBytes;

}  // namespace noqueue

#endif  // NOQUEUE_PROTO_BASE_API_LIMITS_H_
