"""What a webhook receiver needs: check the signature of a NoQueue webhook
and read its event.

    if not verify_signature(secret, headers["X-NoQueue-Signature"], body):
        return 400
    event = parse_event(body)   # a noqueue.v1.WebhookEvent
    if seen(event.event_id): return 200   # delivered at least once
"""

import hashlib
import hmac
import time
from typing import Optional, Union

from google.protobuf import json_format

from noqueue.v1 import webhook_pb2


def signature(secret: Union[str, bytes], unix_seconds: int,
              body: bytes) -> str:
    """The X-NoQueue-Signature value NoQueue sends for `body` at
    `unix_seconds`: "t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>">",
    keyed by the secret's bytes (UTF-8 for a str)."""
    if isinstance(secret, str):
        secret = secret.encode()
    mac = hmac.new(secret, f"{unix_seconds}.".encode() + body, hashlib.sha256)
    return f"t={unix_seconds},v1={mac.hexdigest()}"


def verify_signature(secret: Union[str, bytes], header: str, body: bytes,
                     tolerance_s: float = 300,
                     now: Optional[float] = None) -> bool:
    """True when `header` signs `body` with `secret`, made within
    `tolerance_s` of `now` (default: the clock), so that a captured request
    cannot be replayed later."""
    fields = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(fields["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - t) > tolerance_s:
        return False
    expected = signature(secret, t, body).split(",v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def parse_event(body: bytes) -> webhook_pb2.WebhookEvent:
    """The event of a webhook's body (the proto3 JSON mapping); unknown
    fields of a newer server are ignored."""
    return json_format.Parse(body, webhook_pb2.WebhookEvent(),
                             ignore_unknown_fields=True)
