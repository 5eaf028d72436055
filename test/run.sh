#!/usr/bin/env bash
# Runs a command (the test suite) with DynamoDB Local and moto_server
# started on loopback, their endpoints exported, and stopped after. A
# server already running (another run's) is used and left running.
#
#   test/run.sh go test ./...
set -euo pipefail
cd "$(dirname "$0")/.."
servers=test/servers
own=()
cleanup() {
  for s in "${own[@]}"; do
    "$servers/$s.sh" stop >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
for s in dynamodb-local moto; do
  "$servers/$s.sh" running || own+=("$s")
done
TIDEWATCH_DYNAMODB_ENDPOINT=$("$servers/dynamodb-local.sh" start)
TIDEWATCH_MOTO_ENDPOINT=$("$servers/moto.sh" start)
export TIDEWATCH_DYNAMODB_ENDPOINT TIDEWATCH_MOTO_ENDPOINT
echo "DynamoDB Local: ${TIDEWATCH_DYNAMODB_ENDPOINT:-not started}; moto: ${TIDEWATCH_MOTO_ENDPOINT:-not started}"
"$@"
