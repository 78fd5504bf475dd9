#!/usr/bin/env python3
"""A venue, a schedule from a CSV of attendees, a tag, and the schedule's
events as they stream; the same steps as the README's CLI walk-through.

    PYTHONPATH=clients/python:build/clients/python/gen \
        python3 clients/python/example.py --server=127.0.0.1:50051 \
        --key_file=var/admin.key [--attendees=people.csv]

The CSV has a header: attendee_id, then optional party_size and numeric
features (lead_days, distance_km...), as the CLI reads it.
"""

import argparse
import csv
import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import noqueue


def read_attendees(path):
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            a = noqueue.Attendee(row.pop("attendee_id"),
                                 int(row.pop("party_size", "") or 0))
            a.features = {k: float(v) for k, v in row.items() if v}
            yield a


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", default="127.0.0.1:50051")
    p.add_argument("--key_file",
                   default=os.environ.get("NOQUEUE_KEY_FILE", "var/admin.key"))
    p.add_argument("--attendees", help="CSV; default: three attendees")
    p.add_argument("--venue", default="louvre-east")
    args = p.parse_args()

    paris = ZoneInfo("Europe/Paris")  # the venue's zone, for display
    nq = noqueue.Client(args.server, key_file=args.key_file, deadline=30)
    nq.upsert_venue(args.venue, name="Louvre, east entrance",
                    convocation_type="MUSEUM", time_zone="Europe/Paris",
                    service_points=2, mean_service_time=timedelta(minutes=1.5))
    people = (list(read_attendees(args.attendees)) if args.attendees else
              [noqueue.Attendee("ana", 2, {"lead_days": 14}),
               noqueue.Attendee("ben", 1, {"lead_days": 1}),
               noqueue.Attendee("chloe", 4, {"lead_days": 30})])
    # This hour's half hour, so that the tag below happens "now".
    start = datetime.now(timezone.utc).replace(minute=0, second=0,
                                               microsecond=0)
    s = nq.create_schedule(args.venue, start, start + timedelta(minutes=30),
                           people, request_id=f"example-{start:%Y%m%dT%H}")
    print(f"schedule {s.schedule_id}  expected mean wait "
          f"{s.expected_mean_wait.total_seconds() / 60:.1f} min")
    for c in sorted(s.convocations, key=lambda c: c.convocation_time):
        come, p10, p90 = (t.astimezone(paris) for t in (
            c.convocation_time, c.arrival_p10, c.arrival_p90))
        print(f"  {c.attendee_id:<8} come {come:%H:%M}  arrive "
              f"{p10:%H:%M}..{p90:%H:%M}  no-show {c.no_show_probability:.0%}")

    first = min(s.convocations, key=lambda c: c.convocation_time)
    acks = nq.record_arrivals([noqueue.Tag(
        f"example-arr-{s.schedule_id}-{first.attendee_id}", s.schedule_id,
        first.attendee_id, "ARRIVED", first.convocation_time, "gate-1")])
    print(f"tag: {first.attendee_id} arrived: {acks[0].status}")

    # The day's events so far, then live ones for two seconds.
    try:
        for e in nq.watch_schedule(s.schedule_id, resume_after=0, deadline=2):
            print(f"  event {e.seq:>3} {e.kind:<22} {e.attendee_id or '-':<8}"
                  f" at {e.at.astimezone(paris):%H:%M:%S}")
    except noqueue.NoQueueError as e:
        if e.code.name != "DEADLINE_EXCEEDED":
            raise


if __name__ == "__main__":
    main()
