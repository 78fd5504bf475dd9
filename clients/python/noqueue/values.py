"""What the client's methods take and return: small dataclasses with
datetime (timezone-aware, UTC) and timedelta, converted from and to the
wire's google.protobuf.Timestamp and Duration here and nowhere else. Each
result keeps its message in `.proto` for the fields not copied out.
"""

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

from google.protobuf import duration_pb2, timestamp_pb2

from noqueue.v1 import (arrival_pb2, crowd_pb2, live_pb2, scheduling_pb2,
                        venue_pb2)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# --- Wire time -------------------------------------------------------------

def timestamp(t: datetime) -> timestamp_pb2.Timestamp:
    """A timezone-aware datetime as a Timestamp (a naive one is refused:
    it would silently mean the machine's zone or UTC)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{t!r}: a timezone-aware datetime is required")
    d = t - _EPOCH
    return timestamp_pb2.Timestamp(seconds=d.days * 86400 + d.seconds,
                                   nanos=d.microseconds * 1000)


def duration(d: timedelta) -> duration_pb2.Duration:
    """A timedelta as a Duration (seconds and nanos of the same sign)."""
    micros = (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
    seconds = abs(micros) // 1_000_000 * (1 if micros >= 0 else -1)
    nanos = (micros - seconds * 1_000_000) * 1000
    return duration_pb2.Duration(seconds=seconds, nanos=nanos)


def from_timestamp(msg, field: str) -> Optional[datetime]:
    """`msg.field` as an aware UTC datetime; None when unset."""
    if not msg.HasField(field):
        return None
    ts = getattr(msg, field)
    return _EPOCH + timedelta(seconds=ts.seconds,
                              microseconds=ts.nanos // 1000)


def from_duration(msg, field: str) -> Optional[timedelta]:
    """`msg.field` as a timedelta; None when unset."""
    if not msg.HasField(field):
        return None
    d = getattr(msg, field)
    return timedelta(seconds=d.seconds, microseconds=d.nanos // 1000)


# --- Requests --------------------------------------------------------------

@dataclasses.dataclass
class Attendee:
    """One attendee of a schedule to make (see scheduling.proto)."""
    attendee_id: str
    party_size: int = 0
    features: Dict[str, float] = dataclasses.field(default_factory=dict)
    fixed_convocation_time: Optional[datetime] = None
    booking_time: Optional[datetime] = None

    def to_proto(self) -> scheduling_pb2.Attendee:
        a = scheduling_pb2.Attendee(attendee_id=self.attendee_id,
                                    party_size=self.party_size,
                                    features=self.features)
        if self.fixed_convocation_time is not None:
            a.fixed_convocation_time.CopyFrom(
                timestamp(self.fixed_convocation_time))
        if self.booking_time is not None:
            a.booking_time.CopyFrom(timestamp(self.booking_time))
        return a


@dataclasses.dataclass
class Tag:
    """One arrival tag; kind is ARRIVED, SERVICE_STARTED, SERVICE_ENDED or
    NO_SHOW."""
    event_id: str
    schedule_id: str
    attendee_id: str
    kind: str
    observed_at: datetime
    device_id: str = ""

    def to_proto(self) -> arrival_pb2.ArrivalEvent:
        return arrival_pb2.ArrivalEvent(
            event_id=self.event_id, schedule_id=self.schedule_id,
            attendee_id=self.attendee_id,
            kind=arrival_pb2.ArrivalKind.Value(self.kind),
            observed_at=timestamp(self.observed_at), device_id=self.device_id)


# --- Results ---------------------------------------------------------------

@dataclasses.dataclass
class Venue:
    venue_id: str
    display_name: str
    convocation_type: str
    time_zone: str
    service_points: int
    mean_service_time: Optional[timedelta]
    proto: Any = dataclasses.field(repr=False)
    # UpsertVenue: whether the venue did not exist before the call.
    created: bool = False

    @classmethod
    def of(cls, v: venue_pb2.Venue, created: bool = False) -> "Venue":
        return cls(v.venue_id, v.display_name,
                   venue_pb2.ConvocationType.Name(v.convocation_type),
                   v.time_zone, v.service_points,
                   from_duration(v, "mean_service_time"), v, created)


@dataclasses.dataclass
class Convocation:
    """When one attendee is asked to come. state is the AttendeeState's
    name (ATTENDEE_STATE_UNSPECIFIED: expected, not come yet)."""
    attendee_id: str
    convocation_time: Optional[datetime]
    arrival_p10: Optional[datetime]
    arrival_p50: Optional[datetime]
    arrival_p90: Optional[datetime]
    no_show_probability: float
    expected_wait: Optional[timedelta]
    party_size: int
    attendee_token: str
    original_time: Optional[datetime]
    changes: int
    state: str
    proto: Any = dataclasses.field(repr=False)

    @classmethod
    def of(cls, c: scheduling_pb2.Convocation) -> "Convocation":
        p = c.predicted_arrival
        return cls(c.attendee_id, from_timestamp(c, "convocation_time"),
                   from_timestamp(p, "p10"), from_timestamp(p, "p50"),
                   from_timestamp(p, "p90"), c.no_show_probability,
                   from_duration(c, "expected_wait"), c.party_size,
                   c.attendee_token, from_timestamp(c, "original_time"),
                   c.changes, scheduling_pb2.AttendeeState.Name(c.state), c)


@dataclasses.dataclass
class Schedule:
    """A schedule; its KPIs are in .proto.kpis and .proto.naive_kpis."""
    schedule_id: str
    venue_id: str
    window_start: Optional[datetime]
    window_end: Optional[datetime]
    convocations: List[Convocation]
    expected_mean_wait: Optional[timedelta]
    request_id: str
    proto: Any = dataclasses.field(repr=False)

    @classmethod
    def of(cls, s: scheduling_pb2.Schedule) -> "Schedule":
        return cls(s.schedule_id, s.venue_id,
                   from_timestamp(s, "window_start"),
                   from_timestamp(s, "window_end"),
                   [Convocation.of(c) for c in s.convocations],
                   from_duration(s.kpis, "expected_mean_wait"), s.request_id,
                   s)

    def convocation(self, attendee_id: str) -> Convocation:
        """The attendee's convocation; KeyError when not convoked."""
        for c in self.convocations:
            if c.attendee_id == attendee_id:
                return c
        raise KeyError(attendee_id)


@dataclasses.dataclass
class Ack:
    """A tag's acknowledgement: status ACCEPTED, DUPLICATE or REJECTED (then
    code is a google.rpc.Code and message says why)."""
    event_id: str
    status: str
    code: int
    message: str

    @classmethod
    def of(cls, a: arrival_pb2.ArrivalAck) -> "Ack":
        return cls(a.event_id, arrival_pb2.AckStatus.Name(a.status), a.code,
                   a.message)


@dataclasses.dataclass
class ScheduleEvent:
    """One stored event of a schedule's day; kind is the ScheduleEventKind's
    name (EVENT_CREATED, EVENT_ARRIVED, EVENT_RETIMED...). Fields that do
    not apply to the kind are None or empty."""
    seq: int
    schedule_id: str
    kind: str
    at: Optional[datetime]
    attendee_id: str
    convocation_time: Optional[datetime]
    previous_time: Optional[datetime]
    reason: str
    delay: Optional[timedelta]
    service_points: int
    proto: Any = dataclasses.field(repr=False)

    @classmethod
    def of(cls, e: live_pb2.ScheduleEvent) -> "ScheduleEvent":
        return cls(e.seq, e.schedule_id,
                   live_pb2.ScheduleEventKind.Name(e.kind),
                   from_timestamp(e, "at"), e.attendee_id,
                   from_timestamp(e, "convocation_time"),
                   from_timestamp(e, "previous_time"), e.reason,
                   from_duration(e, "delay"), e.service_points, e)


@dataclasses.dataclass
class VenueStatus:
    """A venue's live wait; state STATUS_STATE_UNKNOWN leaves the figures
    None or zero."""
    venue_id: str
    state: str
    wait_p50: Optional[timedelta]
    wait_p90: Optional[timedelta]
    queue_length: float
    confidence: float
    as_of: Optional[datetime]
    proto: Any = dataclasses.field(repr=False)

    @classmethod
    def of(cls, s: crowd_pb2.VenueStatus) -> "VenueStatus":
        return cls(s.venue_id, crowd_pb2.StatusState.Name(s.state),
                   from_duration(s, "wait_p50"), from_duration(s, "wait_p90"),
                   s.queue_length, s.confidence, from_timestamp(s, "as_of"), s)


@dataclasses.dataclass
class MyConvocation:
    """What an attendee's app sees (GetMyConvocation)."""
    schedule_id: str
    venue_id: str
    convocation: Convocation
    venue_status: VenueStatus
