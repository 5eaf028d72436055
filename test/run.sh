#!/usr/bin/env bash
# Runs a command (the test suite) with DynamoDB Local and moto_server
# started on loopback, their endpoints exported, and both stopped after.
#
#   test/run.sh go test ./...
set -euo pipefail
cd "$(dirname "$0")/.."
servers=test/servers
cleanup() {
  "$servers/dynamodb-local.sh" stop >/dev/null 2>&1 || true
  "$servers/moto.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
TIDEWATCH_DYNAMODB_ENDPOINT=$("$servers/dynamodb-local.sh" start)
TIDEWATCH_MOTO_ENDPOINT=$("$servers/moto.sh" start)
export TIDEWATCH_DYNAMODB_ENDPOINT TIDEWATCH_MOTO_ENDPOINT
echo "DynamoDB Local: ${TIDEWATCH_DYNAMODB_ENDPOINT:-not started}; moto: ${TIDEWATCH_MOTO_ENDPOINT:-not started}"
"$@"
