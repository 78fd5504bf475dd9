"""NoQueue's Python client: the gRPC API with a credential, deadlines, typed
helpers and datetime/timedelta at the edges.

    from datetime import datetime, timedelta, timezone
    import noqueue

    nq = noqueue.Client("127.0.0.1:50051", key_file="var/admin.key")
    nq.upsert_venue("louvre-east", time_zone="Europe/Paris", service_points=2,
                    mean_service_time=timedelta(minutes=1.5))
    start = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    s = nq.create_schedule("louvre-east", start, start + timedelta(minutes=30),
                           ["ana", "ben"], request_id="booking-2026-12-01")
    for c in s.convocations:
        print(c.attendee_id, c.convocation_time)

The generated stubs (`noqueue.v1.*_pb2`, `*_pb2_grpc`) are not in the source
tree: the build writes them to build/clients/python/gen/noqueue/v1/, which
must be on sys.path too (PYTHONPATH=clients/python:build/clients/python/gen).
"""

import pkgutil

# `noqueue.v1` lives in another directory of sys.path (the build tree).
__path__ = pkgutil.extend_path(__path__, __name__)

try:
    from noqueue.v1 import venue_pb2 as _probe  # noqa: F401
except ImportError as e:  # a setup error, said plainly
    if not (e.name or "").startswith("noqueue"):
        raise  # python3-protobuf is missing: its own message says so.
    raise ImportError(
        "noqueue: the generated stubs noqueue.v1 are not on sys.path; build "
        "them (cmake --build build --target noqueue_python) and add "
        "build/clients/python/gen to PYTHONPATH") from e

from noqueue.client import Client, NoQueueError
from noqueue.webhooks import parse_event, verify_signature
from noqueue.values import (Ack, Attendee, Convocation, MyConvocation,
                           Schedule, ScheduleEvent, Tag, Venue, VenueStatus)

__all__ = [
    "Ack", "Attendee", "Client", "Convocation", "MyConvocation",
    "NoQueueError", "Schedule", "ScheduleEvent", "Tag", "Venue",
    "VenueStatus", "parse_event", "verify_signature",
]
