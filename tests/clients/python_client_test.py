#!/usr/bin/env python3
"""The Python client (clients/python/noqueue) against the real server
binary with a replay clock (--clock=events: now is the latest tag's time):
a venue, a schedule, tags, the schedule's events watched, an attendee's
delay, and refusals with their code and the field they name.

Usage: python_client_test.py <noqueue-server>; PYTHONPATH holds
clients/python and the generated stubs. Exit 77 (skipped) when Debian's
python3-grpcio or python3-protobuf are missing; a failure when the stubs
are (build the noqueue_python target).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

try:
    import grpc
    import google.protobuf  # noqa: F401
except ImportError as e:
    print(f"SKIP python_client_test: {e} with {sys.executable} (install "
          "Debian's python3-grpcio and python3-protobuf: "
          "scripts/install-deps.sh)")
    sys.exit(77)
# When the stubs are missing, its ImportError says how to build them.
import noqueue  # noqa: E402

SERVER = None  # the binary, from argv
# Monday 2 March 2026, 9:00 in Paris.
MORNING = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


class RunningServer:
    """noqueue-server on a free port with its database in a temp dir; it
    writes admin.key beside the database."""

    def __init__(self, tls=False):
        self.dir = tempfile.mkdtemp(prefix="noqueue_py_")
        db = os.path.join(self.dir, "var", "noqueue.db")
        self.log_path = os.path.join(self.dir, "server.log")
        self.log = open(self.log_path, "w")
        flags = []
        if tls:  # a self-signed certificate for 127.0.0.1: its own CA
            self.cert = os.path.join(self.dir, "server.pem")
            key = os.path.join(self.dir, "server.key")
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-keyout", key, "-out", self.cert, "-days", "1",
                 "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1"],
                check=True, capture_output=True)
            flags = [f"--tls_cert={self.cert}", f"--tls_key={key}"]
        self.process = subprocess.Popen(
            [SERVER, "--listen=127.0.0.1:0", f"--db={db}", "--clock=events",
             "--webhook_private_targets"]
            + flags, stdout=self.log, stderr=subprocess.STDOUT)
        self.key_file = os.path.join(self.dir, "var", "admin.key")
        deadline = time.monotonic() + 30
        while True:
            with open(self.log_path) as f:
                m = re.search(r"listening on port (\d+)", f.read())
            if m and os.path.exists(self.key_file):
                self.target = f"127.0.0.1:{m.group(1)}"
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("server did not start: " + self.output())

    def output(self) -> str:
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = RunningServer()
        cls.admin = noqueue.Client(cls.server.target,
                                   key_file=cls.server.key_file, deadline=10)

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()
        cls.server.stop()

    def make_day(self, venue_id):
        """A clinic with two doctors and six patients from 9:00 to 10:00."""
        venue = self.admin.upsert_venue(
            venue_id, name="Clinic", convocation_type="MEDICAL",
            time_zone="Europe/Paris", service_points=2,
            mean_service_time=timedelta(minutes=10))
        self.assertTrue(venue.created)
        self.assertEqual(venue.mean_service_time, timedelta(minutes=10))
        self.assertEqual(venue.convocation_type, "MEDICAL")
        return self.admin.create_schedule(*self.day(venue_id),
                                          request_id=f"{venue_id}-day")

    @staticmethod
    def day(venue_id):
        people = [noqueue.Attendee("ana", party_size=2,
                                   features={"lead_days": 14})]
        people += ["ben", "chloe", "dan", "eve", "fay"]
        return venue_id, MORNING, MORNING + timedelta(hours=1), people

    def test_a_schedule_convokes_everyone_inside_its_window(self):
        s = self.make_day("clinic-window")
        self.assertEqual(len(s.convocations), 6)
        for c in s.convocations:
            self.assertEqual(c.convocation_time.tzinfo, timezone.utc)
            self.assertTrue(MORNING <= c.convocation_time
                            < MORNING + timedelta(hours=1), c)
            self.assertTrue(c.arrival_p10 <= c.arrival_p50 <= c.arrival_p90)
            self.assertTrue(c.attendee_token.startswith("nqa_"))
        self.assertEqual(s.convocation("ana").party_size, 2)
        # A retry (the same request_id and request): the same schedule; the
        # same request_id for another request is refused, by name.
        again = self.admin.create_schedule(*self.day("clinic-window"),
                                           request_id="clinic-window-day")
        self.assertEqual(again.schedule_id, s.schedule_id)
        with self.assertRaises(noqueue.NoQueueError) as reused:
            self.admin.create_schedule(
                "clinic-window", MORNING, MORNING + timedelta(hours=1), ["x"],
                request_id="clinic-window-day")
        self.assertEqual(reused.exception.code,
                         grpc.StatusCode.FAILED_PRECONDITION)
        self.assertTrue(reused.exception.message.startswith("request_id"))
        got = self.admin.get_schedule(s.schedule_id)
        self.assertEqual([c.attendee_id for c in got.convocations],
                         [c.attendee_id for c in s.convocations])
        # No report and no tag yet: the live wait is unknown.
        status = self.admin.get_venue_status("clinic-window")
        self.assertEqual(status.venue_id, "clinic-window")
        self.assertEqual(status.state, "STATUS_STATE_UNKNOWN")
        self.assertIsNone(status.wait_p50)

    def test_a_watcher_sees_the_day_created_then_tagged_and_a_delay(self):
        s = self.make_day("clinic-live")
        first = min(s.convocations, key=lambda c: c.convocation_time)
        last = max(s.convocations, key=lambda c: c.convocation_time)
        at = first.convocation_time
        tags = [
            noqueue.Tag("arr-1", s.schedule_id, first.attendee_id, "ARRIVED",
                        at, "gate"),
            noqueue.Tag("beg-1", s.schedule_id, first.attendee_id,
                        "SERVICE_STARTED", at + timedelta(minutes=1), "desk"),
        ]
        acks = self.admin.record_arrivals(tags)
        self.assertEqual([a.status for a in acks], ["ACCEPTED", "ACCEPTED"])
        acks = self.admin.record_arrivals(tags)
        self.assertEqual([a.status for a in acks], ["DUPLICATE", "DUPLICATE"])

        # The stored events from the start, then the live ones: the delay
        # declared while watching arrives on the same stream.
        seen = []
        delayed = False
        watch = self.admin.watch_schedule(s.schedule_id, resume_after=0,
                                          deadline=20)
        for e in watch:
            seen.append(e)
            if e.kind == "EVENT_ARRIVED" and not delayed:
                me = noqueue.Client(self.server.target,
                                    attendee_token=last.attendee_token)
                mine = me.get_my_convocation()
                self.assertEqual(mine.convocation.attendee_id,
                                 last.attendee_id)
                self.assertEqual(mine.convocation.state,
                                 "ATTENDEE_STATE_UNSPECIFIED")
                after = me.declare_delay(timedelta(minutes=20))
                self.assertEqual(after.attendee_id, last.attendee_id)
                me.close()
                delayed = True
            if e.kind == "EVENT_DELAY_DECLARED":
                break
        watch.close()
        kinds = [e.kind for e in seen]
        self.assertEqual(kinds[0], "EVENT_CREATED", kinds)
        self.assertIn("EVENT_ARRIVED", kinds)
        self.assertIn("EVENT_SERVICE_STARTED", kinds)
        self.assertEqual(kinds.count("EVENT_ARRIVED"), 1, kinds)
        arrived = seen[kinds.index("EVENT_ARRIVED")]
        self.assertEqual(arrived.attendee_id, first.attendee_id)
        self.assertEqual(arrived.at, at)
        delay = seen[-1]
        self.assertEqual(delay.attendee_id, last.attendee_id)
        self.assertEqual(delay.delay, timedelta(minutes=20))
        seqs = [e.seq for e in seen]
        self.assertEqual(seqs, sorted(set(seqs)))

        # Resuming after the last seq seen: nothing old comes again.
        resumed = []
        try:
            for e in self.admin.watch_schedule(
                    s.schedule_id, resume_after=seqs[-1], deadline=1):
                resumed.append(e)
        except noqueue.NoQueueError as e:
            self.assertEqual(e.code, grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertTrue(all(e.seq > seqs[-1] for e in resumed))

    def test_refusals_carry_the_code_and_name_the_field(self):
        s = self.make_day("clinic-refusals")
        token = s.convocations[-1].attendee_token
        me = noqueue.Client(self.server.target, attendee_token=token)
        with self.assertRaises(noqueue.NoQueueError) as bad:
            me.declare_delay(timedelta(minutes=-5))
        self.assertEqual(bad.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(bad.exception.message.startswith("delay:"),
                        bad.exception.message)
        self.assertIn("INVALID_ARGUMENT: delay:", str(bad.exception))
        # An attendee token reads its convocation and nothing else.
        with self.assertRaises(noqueue.NoQueueError) as other:
            me.get_schedule(s.schedule_id)
        self.assertEqual(other.exception.code,
                         grpc.StatusCode.PERMISSION_DENIED)
        me.close()

        nobody = noqueue.Client(self.server.target, deadline=10)
        with self.assertRaises(noqueue.NoQueueError) as anonymous:
            nobody.get_schedule(s.schedule_id)
        self.assertEqual(anonymous.exception.code,
                         grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn("authorization", anonymous.exception.message)
        nobody.close()

        with self.assertRaises(noqueue.NoQueueError) as window:
            self.admin.create_schedule("clinic-refusals", MORNING, MORNING,
                                       ["ana"])
        self.assertEqual(window.exception.code,
                         grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(window.exception.message.startswith("window_end"),
                        window.exception.message)
        # Naive datetimes are refused before anything is sent.
        with self.assertRaises(ValueError):
            self.admin.create_schedule("clinic-refusals",
                                       datetime(2026, 3, 2, 9),
                                       datetime(2026, 3, 2, 10), ["ana"])
        with self.assertRaises(ValueError):
            noqueue.Client(self.server.target, key="k", attendee_token=token)

    def test_a_webhook_reaches_a_python_receiver_that_verifies_it(self):
        got = []

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append((self.headers["X-NoQueue-Signature"],
                            self.headers["X-NoQueue-Event-Id"], body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        receiver = HTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            secret = "python-receiver-secret"
            self.admin.upsert_venue(
                "clinic-hooks", time_zone="Europe/Paris", service_points=2,
                mean_service_time=timedelta(minutes=10))
            hook = self.admin.create_webhook(
                "clinic-hooks",
                f"http://127.0.0.1:{receiver.server_port}/hook",
                ["WEBHOOK_SCHEDULE_CREATED"], secret)
            self.assertTrue(hook.webhook_id.startswith("wh_"))
            with self.assertRaises(noqueue.NoQueueError) as short:
                self.admin.create_webhook(
                    "clinic-hooks", "https://hooks.example.com/x",
                    ["WEBHOOK_SCHEDULE_CREATED"], "too-short")
            self.assertEqual(short.exception.code,
                             grpc.StatusCode.INVALID_ARGUMENT)
            s = self.admin.create_schedule(
                "clinic-hooks", MORNING, MORNING + timedelta(hours=1),
                ["ana", "ben"])
            for _ in range(500):
                if got:
                    break
                time.sleep(0.01)
            self.assertEqual(len(got), 1)
            header, event_id, body = got[0]
            self.assertTrue(noqueue.verify_signature(secret, header, body))
            self.assertFalse(
                noqueue.verify_signature("another-secret-16b", header, body))
            self.assertFalse(noqueue.verify_signature(
                secret, header, body, now=time.time() + 3600))
            event = noqueue.parse_event(body)
            self.assertEqual(event.event_id, event_id)
            self.assertEqual(event.sequence, 1)
            self.assertEqual(event.schedule_event.schedule_id, s.schedule_id)
            listed = self.admin.list_webhooks("clinic-hooks")
            self.assertEqual([h.webhook_id for h in listed], [hook.webhook_id])
            self.admin.delete_webhook(hook.webhook_id)
            self.assertEqual(self.admin.list_webhooks("clinic-hooks"), [])
        finally:
            receiver.shutdown()
            receiver.server_close()

    def test_a_tls_server_answers_a_client_that_trusts_its_certificate(self):
        server = RunningServer(tls=True)
        try:
            with noqueue.Client(server.target, key_file=server.key_file,
                                tls_ca=server.cert, deadline=10) as nq:
                venue = nq.upsert_venue(
                    "museum-tls", time_zone="Europe/Paris", service_points=1,
                    mean_service_time=timedelta(minutes=2))
                self.assertTrue(venue.created)
            # Without TLS the same server is not reached.
            with noqueue.Client(server.target, key_file=server.key_file,
                                deadline=5) as plain:
                with self.assertRaises(noqueue.NoQueueError) as refused:
                    plain.get_venue_status("museum-tls")
                self.assertEqual(refused.exception.code,
                                 grpc.StatusCode.UNAVAILABLE)
        finally:
            server.stop()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python_client_test.py <noqueue-server> "
                 "[unittest args]")
    SERVER = sys.argv.pop(1)
    unittest.main(verbosity=2)
