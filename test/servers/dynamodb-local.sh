#!/usr/bin/env bash
# DynamoDB Local for the integration tests, on a free loopback port.
#
#   test/servers/dynamodb-local.sh start   install if needed, start, print the endpoint
#   test/servers/dynamodb-local.sh stop
#
# DynamoDB Local comes from the npm package amplify-dynamodb-simulator,
# which ships DynamoDBLocal.jar and DynamoDBLocal_lib; only its tarball is
# fetched (npm pack), none of its Node.js dependencies. It needs Java 17+.
# The endpoint is written to .cache/dynamodb.endpoint; tests read it from
# TIDEWATCH_DYNAMODB_ENDPOINT. The jar has no bind-address flag, so it
# listens on every interface; clients only ever use 127.0.0.1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=2.9.30 # amplify-dynamodb-simulator, pinned exactly
name=dynamodb
dir="$cache/amplify-dynamodb-simulator-$version"
emulator="$dir/emulator"

install() {
  [[ -f "$emulator/DynamoDBLocal.jar" ]] && return 0
  command -v npm >/dev/null || { echo "npm is needed to install DynamoDB Local" >&2; exit 1; }
  local tmp
  tmp=$(mktemp -d "$cache/ddb-install.XXXXXX")
  echo "installing amplify-dynamodb-simulator@$version into $dir" >&2
  (cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$version" >/dev/null)
  mkdir -p "$tmp/x"
  tar -xzf "$tmp"/amplify-dynamodb-simulator-"$version".tgz -C "$tmp/x"
  [[ -f "$tmp/x/package/emulator/DynamoDBLocal.jar" ]] || { echo "DynamoDBLocal.jar missing from the package" >&2; exit 1; }
  rm -rf "$dir"
  mv "$tmp/x/package" "$dir"
  rm -rf "$tmp"
}

start() {
  reuse "$name" && return 0
  command -v java >/dev/null || { echo "java (17+) is needed to run DynamoDB Local" >&2; exit 1; }
  install
  local port
  port=$(free_port)
  (cd "$emulator" && exec java -Xmx1g -Djava.library.path=./DynamoDBLocal_lib \
    -jar DynamoDBLocal.jar -inMemory -disableTelemetry -port "$port") >"$cache/$name.log" 2>&1 &
  started "$name" $! "http://127.0.0.1:$port" "http://127.0.0.1:$port"
}

case "${1:-}" in
  start) start ;;
  stop) stop_server "$name" ;;
  running) running "$name" ;;
  *) echo "usage: $0 start|stop|running" >&2; exit 2 ;;
esac
