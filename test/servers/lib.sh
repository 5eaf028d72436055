# Helpers shared by the server scripts in this folder; source, don't run.

# repo root and the git-ignored cache the servers live in
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$root/.cache"
mkdir -p "$cache"

# port_free PORT: nothing listens on 127.0.0.1:PORT
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: a random unused loopback port in 20000-59999
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if port_free "$p"; then
      echo "$p"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# wait_http URL PID LOG: until URL answers any HTTP status, or PID dies, or
# 60 s pass
wait_http() {
  local url=$1 pid=$2 log=$3 i
  for i in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "server exited during start-up; its log ($log):" >&2
      tail -n 30 "$log" >&2 || true
      return 1
    fi
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" != "000" ]]; then
      return 0
    fi
    sleep 0.2
  done
  echo "server did not answer at $url within 60 s; its log ($log):" >&2
  tail -n 30 "$log" >&2 || true
  return 1
}

# running NAME: the server's pid file names a live process that answers
# at its endpoint file
running() {
  local pidf="$cache/$1.pid" endf="$cache/$1.endpoint"
  [[ -f "$pidf" && -f "$endf" ]] || return 1
  kill -0 "$(cat "$pidf")" 2>/dev/null || return 1
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(cat "$endf")" || true)" != "000" ]]
}

# reuse NAME: print the endpoint of a NAME that is running and succeed;
# otherwise clear what an earlier one left behind and fail
reuse() {
  if running "$1"; then
    cat "$cache/$1.endpoint"
    return 0
  fi
  stop_server "$1" >/dev/null
  return 1
}

# started NAME PID ENDPOINT READY_URL: NAME was just started as PID, logging
# to NAME.log; wait until READY_URL answers, then record and print ENDPOINT.
# A server that does not come up is stopped and the script exits 1.
started() {
  local name=$1 pid=$2 endpoint=$3 ready=$4
  echo "$pid" >"$cache/$name.pid"
  if ! wait_http "$ready" "$pid" "$cache/$name.log"; then
    stop_server "$name" >/dev/null
    exit 1
  fi
  echo "$endpoint" >"$cache/$name.endpoint"
  echo "$endpoint"
}

# stop_server NAME: end the process in NAME.pid, if any, and forget it
stop_server() {
  local pidf="$cache/$1.pid" pid i
  if [[ -f "$pidf" ]]; then
    pid=$(cat "$pidf")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidf" "$cache/$1.endpoint"
  echo "$1 stopped"
}
