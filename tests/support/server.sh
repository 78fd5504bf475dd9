# What the shell tests share, sourced: a work folder removed at exit with
# the server it ran, a failure that says why, and the real noqueue-server
# started on a database in that folder.
#
#   source "$(dirname "$0")/../support/server.sh"
#   server_bin=$1
#   start_server 0 --clock=events --metrics_listen=127.0.0.1:0 ||
#     fail "server did not start: $(cat "$work/server.log")"
#   ... "$port" "$http_port" ...
#   stop_server
# shellcheck shell=bash

work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# start_server PORT [FLAGS...]: starts "$server_bin" on 127.0.0.1:PORT (0:
# any free port) with its database at $work/var/noqueue.db and its log in
# $work/server.log; sets $server_pid, $port and, when the flags ask for an
# HTTP listener, $http_port. Returns 1 when the server exits before
# listening (the port was taken, say).
start_server() {
  local listen=$1
  shift
  "$server_bin" --listen="127.0.0.1:$listen" --db="$work/var/noqueue.db" "$@" \
    >"$work/server.log" 2>&1 &
  server_pid=$!
  port= http_port=
  local wants_http=
  [[ " $* " == *" --metrics_listen="* ]] && wants_http=1
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$work/server.log")
    http_port=$(sed -n 's/.*on HTTP port \([0-9]*\).*/\1/p' "$work/server.log")
    [[ -n $port && ( -z $wants_http || -n $http_port ) ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || {
      server_pid=
      return 1
    }
    sleep 0.1
  done
  fail "server did not start: $(cat "$work/server.log")"
}

# stop_server: SIGTERM, and waits for the graceful stop.
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid"
  server_pid=
}
