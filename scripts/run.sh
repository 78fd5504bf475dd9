#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts noqueue-server on its
# embedded SQLite default (var/noqueue.db) and plays a demo day against it
# through the real API, then a disrupted day live (re-timing, watched). The server then keeps serving until Ctrl-C, unless
# --demo-only is given. Run it again to play the next day on the same data.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
listen=${NOQUEUE_LISTEN:-127.0.0.1:50051}
http=${NOQUEUE_HTTP:-127.0.0.1:9464}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DBUILD_TESTING=OFF
cd "$root"
mkdir -p var
# The replay clock: the demo plays its days (in 2026) through the API in
# seconds, and the live day's decisions follow the tags' times.
build/server/noqueue-server --listen="$listen" --db=var/noqueue.db \
  --clock=events --metrics_listen="$http" >var/server.log 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "listening on port" var/server.log && break
  kill -0 $server 2>/dev/null || { cat var/server.log; exit 1; }
  sleep 0.1
done
cat var/server.log
export NOQUEUE_KEY_FILE="$root/var/admin.key"
build/clients/noqueue --server="$listen" demo --days="${NOQUEUE_DEMO_DAYS:-1}"
if [[ ${1:-} == --demo-only ]]; then exit 0; fi
echo
echo "noqueue-server is serving on $listen (log: var/server.log); Ctrl-C stops it."
echo "The operator's page: http://$http/venues/demo-clinic#key=<the key in var/admin.key>; metrics: http://$http/metrics"
echo "Try: NOQUEUE_KEY_FILE=var/admin.key build/clients/noqueue --server=$listen schedule list --venue=demo-clinic"
wait $server
