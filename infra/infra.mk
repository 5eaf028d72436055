# infra/infra.mk: CDK targets for tidewatch (the Go CDK app in infra/).
#
# Include it from the root Makefile (`include infra/infra.mk`), or run it
# standalone from the repository root: `make -f infra/infra.mk synth`.
# Targets: synth diff deploy destroy cfn-lint cdk-bootstrap infra-clean.
#
# Variables (override on the command line or before the include):
#   CDK_CONTEXT       CDK context flags, e.g. CDK_CONTEXT='-c eksClusters=prod,stage -c notifyEmails=sec@example.com'
#   AWS_REGION        region to deploy to (default us-east-1)
#   INFRA_BUILD_DEPS  targets that must run before synth, e.g. `build` (it makes build/<fn>/bootstrap)
#   CDK_DEPLOY_FLAGS  extra `cdk deploy` flags, e.g. --require-approval never in automation
#   CDK_OUT           cloud assembly folder (default cdk.out)

AWS_REGION ?= us-east-1
CDK_CONTEXT ?=
INFRA_BUILD_DEPS ?=
CDK_DEPLOY_FLAGS ?=
CDK_OUT ?= cdk.out

# npm ci runs again only when package.json or package-lock.json change; the
# stamp sits in node_modules/, which is git-ignored.
INFRA_NPM_STAMP := node_modules/.tidewatch-npm-ci.stamp

# The CLI pinned in package.json, never a global or downloaded one. The
# environment keeps it quiet and offline-friendly: no telemetry, no version
# check, no node end-of-life banner.
INFRA_CDK_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
	CDK_DISABLE_CLI_TELEMETRY=1 CDK_DISABLE_VERSION_CHECK=1 AWS_REGION=$(AWS_REGION)
INFRA_CDK := $(INFRA_CDK_ENV) npx --no-install cdk --no-notices --output $(CDK_OUT)

.PHONY: synth diff deploy destroy cfn-lint cdk-bootstrap infra-clean

$(INFRA_NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@# A go.mod keeps the Go tool out of node_modules (`go test ./...`).
	@printf 'module node_modules\n' > node_modules/go.mod
	@touch $@

# synth needs no AWS credentials: the stack is environment-agnostic and
# makes no context lookups. The instance metadata service is switched off
# so the CLI does not wait for it while looking for optional credentials.
synth: $(INFRA_NPM_STAMP) $(INFRA_BUILD_DEPS)
	AWS_EC2_METADATA_DISABLED=true $(INFRA_CDK) synth --quiet --no-lookups $(CDK_CONTEXT)

diff: $(INFRA_NPM_STAMP) $(INFRA_BUILD_DEPS)
	$(INFRA_CDK) diff $(CDK_CONTEXT)

deploy: $(INFRA_NPM_STAMP) $(INFRA_BUILD_DEPS)
	$(INFRA_CDK) deploy $(CDK_DEPLOY_FLAGS) $(CDK_CONTEXT)

# The table, the topic key and the VPC flow log groups are retained.
destroy: $(INFRA_NPM_STAMP) $(INFRA_BUILD_DEPS)
	$(INFRA_CDK) destroy $(CDK_CONTEXT)

# One-time per account and region: the asset bucket and deploy roles.
cdk-bootstrap: $(INFRA_NPM_STAMP) $(INFRA_BUILD_DEPS)
	$(INFRA_CDK) bootstrap $(CDK_CONTEXT)

# W3005 flags DependsOn already implied by a Ref; CDK writes those on purpose.
cfn-lint: synth
	@if command -v cfn-lint >/dev/null 2>&1; then \
		cfn-lint --ignore-checks W3005 -- $(CDK_OUT)/*.template.json && echo "cfn-lint: clean"; \
	elif [ "$$CI" = "true" ]; then \
		echo "cfn-lint: not installed, and CI requires it (pip install cfn-lint)" >&2; exit 1; \
	else \
		echo "cfn-lint: not installed, skipping (pip install cfn-lint)"; \
	fi

infra-clean:
	rm -rf $(CDK_OUT)
