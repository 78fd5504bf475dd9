#!/usr/bin/env bash
# The noqueue command-line tool against the real server binary: venue,
# schedule from CSV (table and JSON), atomic batch of tags, and the tagging
# device's spool surviving a server that is away, crowd reports and status.
# Usage: cli_test.sh <noqueue-server> <noqueue>
set -euo pipefail
server_bin=$1
cli=$2
source "$(dirname "$0")/../support/server.sh"

start_server 0 || fail "server did not start: $(cat "$work/server.log")"
grep -q "made the first ADMIN key and wrote it to $work/var/admin.key" \
  "$work/server.log" || fail "no bootstrap key message: $(cat "$work/server.log")"
[[ $(stat -c %a "$work/var/admin.key") == 600 ]] || fail "admin.key is not mode 0600"
grep -q "$(cat "$work/var/admin.key")" "$work/server.log" && fail "the key was printed"
export NOQUEUE_KEY_FILE="$work/var/admin.key"
nq() { "$cli" --server="127.0.0.1:$port" --deadline=10s "$@"; }

nq venue upsert --venue=museum-1 --name="City museum" --type=MUSEUM \
  --time_zone=Europe/Paris --service_points=2 --service_min=3 >"$work/venue.json"
grep -q '"created": true' "$work/venue.json" || fail "venue not created"

if nq venue upsert --venue=museum-2 --type=MUSEUM --time_zone=Nowhere/Land \
     --service_points=2 2>"$work/err.txt"; then fail "bad zone accepted"; fi
grep -q "INVALID_ARGUMENT: venue.time_zone" "$work/err.txt" || fail "bad zone message: $(cat "$work/err.txt")"

cat >"$work/people.csv" <<CSV
attendee_id,party_size,fixed_convocation_time,distance_km
ana,2,,4.5
ben,,2026-03-02T10:30:00+01:00,
"chloé, jr",1,,12
CSV
# Quoted ids with commas are valid CSV but not valid ids: the server says so.
if nq schedule create --venue=museum-1 --start=2026-03-02T10:00:00+01:00 \
     --end=2026-03-02T12:00:00+01:00 --attendees="$work/people.csv" 2>"$work/err.txt"; then
  fail "invalid attendee id accepted"
fi
grep -q "attendees\[2\].attendee_id" "$work/err.txt" || fail "id message: $(cat "$work/err.txt")"
sed -i 's/"chloé, jr"/chloe/' "$work/people.csv"

nq schedule create --venue=museum-1 --start=2026-03-02T10:00:00+01:00 \
  --end=2026-03-02T12:00:00+01:00 --attendees="$work/people.csv" \
  --request_id=r-1 >"$work/table.txt"
grep -q "^ben *10:30" "$work/table.txt" || fail "fixed time not kept: $(cat "$work/table.txt")"
grep -q "^NoQueue  mean wait" "$work/table.txt" || fail "no KPIs in table"
nq schedule create --venue=museum-1 --start=2026-03-02T10:00:00+01:00 \
  --end=2026-03-02T12:00:00+01:00 --attendees="$work/people.csv" \
  --request_id=r-1 --format=json >"$work/schedule.json"
sid=$(sed -n 's/.*"schedule_id": "\(sch_[0-9a-f]*\)".*/\1/p' "$work/schedule.json" | head -1)
[[ -n $sid ]] || fail "no schedule id in JSON"
grep -q "$sid" "$work/table.txt" || fail "retry with the same request_id made a new schedule"
[[ $(nq schedule list --venue=museum-1 | wc -l) == 1 ]] || fail "list"

cat >"$work/tags.csv" <<CSV
event_id,schedule_id,attendee_id,kind,observed_at,device_id
t1,$sid,ana,ARRIVED,2026-03-02T09:07:00Z,gate
t2,$sid,ben,ARRIVED,2026-03-02T09:33:00Z,gate
CSV
nq arrivals record --csv="$work/tags.csv" | grep -q "2 tags: 2 accepted, 0 duplicates" || fail "record"
nq arrivals record --csv="$work/tags.csv" | grep -q "2 tags: 0 accepted, 2 duplicates" || fail "retry"

# The device keeps its tags while the server is away ...
cat >"$work/more.csv" <<CSV
event_id,schedule_id,attendee_id,kind,observed_at,device_id
t3,$sid,chloe,ARRIVED,2026-03-02T09:41:00Z,gate
t4,$sid,ana,SERVICE_STARTED,2026-03-02T09:10:00Z,desk
CSV
old_port=$port
stop_server
if nq device --csv="$work/more.csv" --spool="$work/spool.csv" --retry_for=1s >"$work/dev.txt"; then
  fail "device claimed success with no server"
fi
grep -q "2 still spooled" "$work/dev.txt" || fail "spool: $(cat "$work/dev.txt")"
[[ $(wc -l <"$work/spool.csv") == 3 ]] || fail "spool file"
# ... and sends them when it is back: on the same port (the device's
# configuration), unless another program took it meanwhile.
start_server "$old_port" || start_server 0 || fail "restart: $(cat "$work/server.log")"
nq device --spool="$work/spool.csv" --retry_for=10s >"$work/dev.txt" || fail "resend: $(cat "$work/dev.txt")"
grep -q "2 accepted, 0 duplicates, 0 rejected, 0 still spooled" "$work/dev.txt" || fail "resend: $(cat "$work/dev.txt")"
[[ $(wc -l <"$work/spool.csv") == 1 ]] || fail "spool not emptied"

# Crowd reports: a few visitors say how long they waited; the status says it.
nq status --venue=museum-1 | grep -q "museum-1: wait unknown" || fail "status before reports"
for i in 1 2 3 4 5; do
  nq report --venue=museum-1 --token="visitor-app-$i" --queue=6 --waited_min=$((8 + i)) \
    --finished | grep -q "^rep_" || fail "report $i"
done
nq status --venue=museum-1 >"$work/status.txt"
grep -q "museum-1: wait [0-9]* min (P90 [0-9]*), queue" "$work/status.txt" || fail "status: $(cat "$work/status.txt")"
if nq report --venue=museum-1 --token=visitor-app-1 --queue=-2 2>"$work/err.txt"; then
  fail "negative queue accepted"
fi
grep -q "INVALID_ARGUMENT: queue_length" "$work/err.txt" || fail "report message: $(cat "$work/err.txt")"
nq status --venue=museum-1 --format=json | grep -q '"state": "STATUS_STATE_KNOWN"' || fail "status json"
# Webhooks: one registered (the secret from a file), listed, refused, deleted.
printf 'a-webhook-secret-of-32-bytes-ok\n' >"$work/hook.secret"
nq webhooks create --venue=museum-1 --url=https://booking.example.com/noqueue \
  --kinds=CONVOCATION_RETIMED,WAIT_CROSSED --wait_threshold_min=20 \
  --secret_file="$work/hook.secret" >"$work/hook.json" || fail "webhooks create"
hook=$(grep -o '"wh_[0-9a-f]*"' "$work/hook.json" | tr -d '"')
[[ -n $hook ]] || fail "webhooks create: $(cat "$work/hook.json")"
nq webhooks list --venue=museum-1 | grep -q "$hook" || fail "webhooks list"
if nq webhooks create --venue=museum-1 --url=http://booking.example.com/x \
  --kinds=CONVOCATION_RETIMED --secret_file="$work/hook.secret" 2>"$work/err.txt"; then
  fail "http:// to a remote host accepted"
fi
grep -q "INVALID_ARGUMENT: url: http:// is allowed only to a loopback" "$work/err.txt" ||
  fail "webhooks message: $(cat "$work/err.txt")"
nq webhooks delete --webhook="$hook" || fail "webhooks delete"
nq webhooks list --venue=museum-1 | grep -q "$hook" && fail "deleted webhook listed"
stop_server
echo "cli_test: all checks passed"
