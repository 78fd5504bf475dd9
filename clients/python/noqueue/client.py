"""Client: one channel to a NoQueue server, a credential sent as
`authorization: Bearer ...` on every call, a deadline on every unary call,
and a NoQueueError carrying the gRPC code and message for every refusal.

    nq = Client("127.0.0.1:50051", key_file="var/admin.key")
    me = Client("127.0.0.1:50051", attendee_token="nqa_...")
    me.declare_delay(timedelta(minutes=15))
"""

from datetime import datetime, timedelta
from typing import Iterable, Iterator, List, Optional, Union

import grpc

from noqueue.v1 import (arrival_pb2, arrival_pb2_grpc, attendee_pb2,
                        attendee_pb2_grpc, crowd_pb2, crowd_pb2_grpc,
                        live_pb2, live_pb2_grpc, scheduling_pb2,
                        scheduling_pb2_grpc, venue_pb2, venue_pb2_grpc,
                        webhook_pb2, webhook_pb2_grpc)
from noqueue.values import (Ack, Attendee, Convocation, MyConvocation,
                            Schedule, ScheduleEvent, Tag, Venue, VenueStatus,
                            duration, timestamp)


class NoQueueError(Exception):
    """A call the server (or the channel) refused: `code` is the
    grpc.StatusCode, `message` the server's text, which names the field and
    the rule ("delay: must be 1 minute to 12 hours, got -5m")."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message

    @classmethod
    def of(cls, e: grpc.RpcError) -> "NoQueueError":
        return cls(e.code(), e.details() or "")


class Client:
    """A NoQueue API client. Give at most one credential: an API key
    (`key`, or `key_file` holding it, as the server writes admin.key), or an
    attendee's token (`attendee_token`); none is for anonymous calls only.
    `deadline` (seconds) bounds every unary call. TLS: `tls_ca` is the PEM
    file of the CA that signed the server's certificate; `tls_cert` and
    `tls_key` the client's own, when the server requires one."""

    def __init__(self, target: str, key: Optional[str] = None,
                 key_file: Optional[str] = None,
                 attendee_token: Optional[str] = None,
                 deadline: float = 30, tls_ca: Optional[str] = None,
                 tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None):
        given = [c for c in (key, key_file, attendee_token) if c is not None]
        if len(given) > 1:
            raise ValueError(
                "key, key_file, attendee_token: give at most one credential")
        if key_file is not None:
            with open(key_file, encoding="ascii") as f:
                key = f.read().strip()
        credential = key if key is not None else attendee_token
        self._metadata = (() if credential is None else
                          (("authorization", f"Bearer {credential}"),))
        self._deadline = deadline
        if tls_ca is None and tls_cert is None:
            self.channel = grpc.insecure_channel(target)
        else:
            def read(path):
                if path is None:
                    return None
                with open(path, "rb") as f:
                    return f.read()
            self.channel = grpc.secure_channel(
                target, grpc.ssl_channel_credentials(
                    read(tls_ca), read(tls_key), read(tls_cert)))
        self._venues = venue_pb2_grpc.VenueServiceStub(self.channel)
        self._scheduling = scheduling_pb2_grpc.SchedulingServiceStub(
            self.channel)
        self._arrivals = arrival_pb2_grpc.ArrivalServiceStub(self.channel)
        self._crowd = crowd_pb2_grpc.CrowdServiceStub(self.channel)
        self._live = live_pb2_grpc.LiveServiceStub(self.channel)
        self._attendee = attendee_pb2_grpc.AttendeeServiceStub(self.channel)
        self._webhooks = webhook_pb2_grpc.WebhookServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def metadata(self):
        """The credential's metadata, for calls through the raw stubs
        (`noqueue.v1.*_pb2_grpc`) on `self.channel`."""
        return self._metadata

    def _call(self, method, request):
        try:
            return method(request, timeout=self._deadline,
                          metadata=self._metadata)
        except grpc.RpcError as e:
            raise NoQueueError.of(e) from None

    # --- Venues and schedules (API keys) -----------------------------------

    def upsert_venue(self, venue_id: str, *, time_zone: str,
                     service_points: int, mean_service_time: timedelta,
                     convocation_type: str = "MUSEUM", name: str = "",
                     retention_days: Optional[int] = None,
                     service_time_cv: Optional[float] = None) -> Venue:
        """Creates the venue or replaces its settings; the stored venue,
        `created` when it did not exist before."""
        v = venue_pb2.Venue(
            venue_id=venue_id, display_name=name,
            convocation_type=venue_pb2.ConvocationType.Value(
                convocation_type),
            time_zone=time_zone, service_points=service_points,
            mean_service_time=duration(mean_service_time))
        if retention_days is not None:
            v.personal_data_retention_days = retention_days
        if service_time_cv is not None:
            v.service_time_cv = service_time_cv
        r = self._call(self._venues.UpsertVenue,
                       venue_pb2.UpsertVenueRequest(venue=v))
        return Venue.of(r.venue, r.created)

    def create_schedule(self, venue_id: str, window_start: datetime,
                        window_end: datetime,
                        attendees: Iterable[Union[str, Attendee]], *,
                        request_id: str = "",
                        convocation_type: Optional[str] = None) -> Schedule:
        """Convokes the attendees (ids or Attendee) in [window_start,
        window_end). A retry with the same request_id returns the first
        schedule."""
        req = scheduling_pb2.CreateScheduleRequest(
            venue_id=venue_id, window_start=timestamp(window_start),
            window_end=timestamp(window_end), request_id=request_id,
            attendees=[(Attendee(a) if isinstance(a, str) else a).to_proto()
                       for a in attendees])
        if convocation_type is not None:
            req.convocation_type = venue_pb2.ConvocationType.Value(
                convocation_type)
        return Schedule.of(
            self._call(self._scheduling.CreateSchedule, req).schedule)

    def get_schedule(self, schedule_id: str) -> Schedule:
        """The schedule with each convocation's current time and state."""
        r = self._call(self._scheduling.GetSchedule,
                       scheduling_pb2.GetScheduleRequest(
                           schedule_id=schedule_id))
        return Schedule.of(r.schedule)

    def record_arrivals(self, tags: Iterable[Tag]) -> List[Ack]:
        """Stores the tags, all or none (at most 10000); one Ack per tag."""
        r = self._call(self._arrivals.RecordArrivals,
                       arrival_pb2.RecordArrivalsRequest(
                           events=[t.to_proto() for t in tags]))
        return [Ack.of(a) for a in r.acks]

    def get_venue_status(self, venue_id: str) -> VenueStatus:
        r = self._call(self._crowd.GetVenueStatus,
                       crowd_pb2.GetVenueStatusRequest(venue_id=venue_id))
        return VenueStatus.of(r.status)

    def watch_schedule(self, schedule_id: str, resume_after: int = 0,
                       deadline: Optional[float] = None
                       ) -> Iterator[ScheduleEvent]:
        """Yields every stored event after seq `resume_after`, then new ones
        as the day goes. The watch lasts until the generator is closed (a
        `break` cancels the call) or `deadline` seconds have passed
        (NoQueueError DEADLINE_EXCEEDED); a watcher too slow is ended with
        RESOURCE_EXHAUSTED naming the seq to resume after."""
        call = self._live.WatchSchedule(
            live_pb2.WatchScheduleRequest(schedule_id=schedule_id,
                                          resume_after=resume_after),
            timeout=deadline, metadata=self._metadata)
        try:
            for e in call:
                yield ScheduleEvent.of(e)
        except grpc.RpcError as e:
            raise NoQueueError.of(e) from None
        finally:
            call.cancel()

    # --- The attendee's side (attendee token) ------------------------------

    def get_my_convocation(self) -> MyConvocation:
        r = self._call(self._attendee.GetMyConvocation,
                       attendee_pb2.GetMyConvocationRequest())
        return MyConvocation(r.schedule_id, r.venue_id,
                             Convocation.of(r.convocation),
                             VenueStatus.of(r.venue_status))

    def declare_delay(self, delay: timedelta) -> Convocation:
        """"I will be `delay` late" (1 minute to 12 hours); the convocation
        after the re-timing it triggered."""
        r = self._call(self._attendee.DeclareDelay,
                       attendee_pb2.DeclareDelayRequest(
                           delay=duration(delay)))
        return Convocation.of(r.convocation)

    def cancel_convocation(self) -> bool:
        """Frees the slot; True when it was already cancelled."""
        r = self._call(self._attendee.CancelConvocation,
                       attendee_pb2.CancelConvocationRequest())
        return r.already_cancelled

    # --- Webhooks (API keys) --------------------------------------------------

    def create_webhook(self, venue_id: str, url: str, kinds: Iterable[str],
                       secret: str,
                       wait_threshold: Optional[timedelta] = None
                       ) -> webhook_pb2.Webhook:
        """Registers an endpoint for the venue's events of `kinds`
        ("WEBHOOK_CONVOCATION_RETIMED", ...; WEBHOOK_WAIT_CROSSED needs
        `wait_threshold`), signed with `secret` (16 to 256 bytes)."""
        req = webhook_pb2.CreateWebhookRequest(
            venue_id=venue_id, url=url, secret=secret,
            kinds=[webhook_pb2.WebhookEventKind.Value(k) for k in kinds])
        if wait_threshold is not None:
            req.wait_threshold.CopyFrom(duration(wait_threshold))
        return self._call(self._webhooks.CreateWebhook, req)

    def list_webhooks(self, venue_id: str) -> List[webhook_pb2.Webhook]:
        """The venue's webhooks with their backlog and dead events."""
        r = self._call(self._webhooks.ListWebhooks,
                       webhook_pb2.ListWebhooksRequest(venue_id=venue_id))
        return list(r.webhooks)

    def delete_webhook(self, webhook_id: str) -> None:
        self._call(self._webhooks.DeleteWebhook,
                   webhook_pb2.DeleteWebhookRequest(webhook_id=webhook_id))
