# tidewatch — build, demo, test.
#
#   make demo    replay the sample events in events/ and print the findings
#   make test    unit, integration (DynamoDB Local, moto) and end-to-end tests
#
# Everything the targets need beyond Go and Node.js is installed here,
# pinned, under .cache/ (git-ignored).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO        ?= go
GOFLAGS   ?= -buildvcs=false
export GOFLAGS
FUNCTIONS := flowlogs audit metrics
TIDEWATCH := bin/tidewatch
OUT       := out

# synth, diff and deploy package the Lambda binaries.
INFRA_BUILD_DEPS := build
include infra/infra.mk

.PHONY: build tidewatch demo test unit bench fuzz events vet clean npm-stamp

## tidewatch: the local command (replay, report, simulate, ...)
tidewatch:
	$(GO) build -o $(TIDEWATCH) ./cmd/tidewatch

## build: the Lambda functions as linux/arm64 bootstrap binaries in build/<name>/
build:
	@for f in $(FUNCTIONS); do \
	  echo "build/$$f/bootstrap"; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
	    -o build/$$f/bootstrap ./functions/$$f; \
	done

## demo: replay every sample event through the pipeline with the embedded store,
## then write the HTML report
demo: tidewatch
	@mkdir -p $(OUT)
	$(TIDEWATCH) replay --config events/tidewatch.yaml --out $(OUT)/findings.jsonl events/flowlogs events/audit events/metrics
	@echo "findings (ASFF, one per line): $(OUT)/findings.jsonl"
	@$(TIDEWATCH) report --quiet --html $(OUT)/report.html $(OUT)/findings.jsonl
	@echo "report (open in a browser): $$(pwd)/$(OUT)/report.html"

## vet: static checks
vet: npm-stamp
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

## test: every test, with DynamoDB Local and moto started on loopback, then
## the CDK template through cfn-lint
test: vet build tidewatch
	test/run.sh $(GO) test -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory cfn-lint

## unit: the tests that need no server
unit:
	$(GO) test ./...

## bench: the speed and memory targets, measured as ratios in one run
BENCH_RECORDS ?= 2000000
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./shared/...
	TIDEWATCH_BENCH_RECORDS=$(BENCH_RECORDS) $(GO) test -run '^$$' -bench 'ReplayFlows|ReplayMemoryFlat' -benchtime 3x ./cmd/tidewatch

## fuzz: every fuzz target for FUZZTIME each
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$($(GO) list ./shared/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## events: regenerate the sample events from the deterministic simulator
events: tidewatch
	$(TIDEWATCH) simulate --out events

# node_modules (the pinned CDK CLI) must exist before `go vet ./...` so its
# go.mod keeps the Go tool out of it.
npm-stamp: $(INFRA_NPM_STAMP)

clean:
	rm -rf bin build $(OUT) cdk.out


