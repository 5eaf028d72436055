#!/usr/bin/env bash
# moto_server (Security Hub, SNS, SQS) for the integration tests, on a free
# loopback port.
#
#   test/servers/moto.sh start   start, print the endpoint
#   test/servers/moto.sh stop
#
# moto is not installed here: it comes with the machine (`pip install
# 'moto[server]'`). Without moto_server, start says so and exits 0, and the
# tests that need it skip — unless CI=true, where it exits 1. The endpoint
# is written to .cache/moto.endpoint; tests read it from
# TIDEWATCH_MOTO_ENDPOINT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

name=moto

start() {
  reuse "$name" && return 0
  if ! command -v moto_server >/dev/null; then
    echo "moto_server not found: install it with pip install 'moto[server]'; tests that need it will skip" >&2
    if [[ "${CI:-}" == "true" ]]; then
      exit 1
    fi
    exit 0
  fi
  local port
  port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" >"$cache/$name.log" 2>&1 &
  started "$name" $! "http://127.0.0.1:$port" "http://127.0.0.1:$port/moto-api/"
}

case "${1:-}" in
  start) start ;;
  stop) stop_server "$name" ;;
  running) running "$name" ;;
  *) echo "usage: $0 start|stop|running" >&2; exit 2 ;;
esac
