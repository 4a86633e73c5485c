# codepipeline-hooks: build, test, demo and deploy. `make` alone lists the targets.
#
# Every cargo command honours CARGO_TARGET_DIR (.ci/run sets one outside the clone so runs are incremental);
# the paths to built binaries below follow it.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

CARGO ?= cargo
SAM ?= sam
TARGET_DIR := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),target)
RELEASE_DIR := $(TARGET_DIR)/release
SIM := $(RELEASE_DIR)/pipeline-sim

# The function binaries that get deployed (pipeline-sim is test and demo only and is never packaged).
FUNCTIONS := failure-notifier approval-auto-approver blackday-gate config-compliance-approver pipeline-guardrail-rule post-deploy-test-runner synthetic-canary transition-disabler job-reaper

# `make invoke FUNCTION=... EVENT=...`
FUNCTION ?= failure-notifier
EVENT ?= events/failure-notifier.action-failed.json

.PHONY: help test demo build lint invoke measure bench package deploy deploy-guided

# Extra `sam deploy` flags, e.g. SAM_DEPLOY_FLAGS=--no-confirm-changeset in CI.
SAM_DEPLOY_FLAGS ?=

help: ## List the targets
	@echo 'codepipeline-hooks: make <target>'
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 12

# End-to-end tests run the function binaries the first step builds with the `e2e` profile (release semantics
# without fat LTO; see Cargo.toml), hence the explicit build before `cargo test`.
test: ## Build every binary, run all unit and end-to-end tests, lint the SAM template
	$(CARGO) build --workspace --bins --profile e2e
	$(CARGO) test --workspace
	scripts/lint-template.sh

demo: ## Play a release of a sample pipeline through the local simulator (no AWS account needed)
	$(CARGO) build --workspace --release --bins
	$(SIM) demo --bin-dir $(RELEASE_DIR)

build: ## Release build of every binary (host architecture)
	$(CARGO) build --workspace --release --bins

lint: ## rustfmt check, clippy with warnings as errors, SAM template lint
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	scripts/lint-template.sh

measure: ## Release binary and zip size of every deployable function (`make bench` measures start-up and memory)
	$(CARGO) build --workspace --release --bins
	scripts/measure.py $(FUNCTIONS)

# The performance budget (issue 14), measured side by side in one run: every deployable function and a bare
# `lambda_runtime` hello binary (crates/bench-hello, never packaged), all with the size-tuned release profile;
# zip sizes, interleaved cold starts, first and warm invocations against the simulator, peak memory; then the
# runner's and the calendar engine's benchmarks. Ends with a pass/fail table and rewrites README.md's "What it
# costs". QUICK=1 (CI): the `e2e` binaries `make test` built, 3 rounds, timings not judged. The harnesses
# (bench_functions, bench_checks) are built with the e2e profile: they only drive and time the binaries, and
# building them must not rebuild the release binaries with their dev-dependencies' features.
BENCH_PROFILE := $(if $(QUICK),e2e,release)
bench: ## The performance budget: sizes, cold starts vs a bare runtime, invocations, memory, runner and calendar benchmarks (QUICK=1 for CI)
	$(CARGO) build --workspace --profile $(BENCH_PROFILE) --bins
	$(CARGO) build --profile e2e -p pipeline-sim -p post-deploy-test-runner --example bench_functions --example bench_checks
	scripts/bench.py --functions "$(FUNCTIONS)" --bin-dir $(TARGET_DIR)/$(BENCH_PROFILE) \
		--harness-dir $(TARGET_DIR)/e2e/examples $(if $(QUICK),--quick,--readme README.md)

invoke: ## Run one function on one event locally: make invoke FUNCTION=failure-notifier EVENT=events/<file>.json
	$(CARGO) build --workspace --release --bins
	$(SIM) invoke --bin-dir $(RELEASE_DIR) --function $(FUNCTION) --event $(EVENT)

# Cross-compiles for Lambda (arm64) into $(TARGET_DIR)/lambda/<function>/bootstrap.zip. Needs, once:
#   pip install cargo-lambda ziglang            (cargo-lambda links with zig)
#   rustup target add aarch64-unknown-linux-gnu (the aarch64 standard library)
# Tests and the demo never need these: they run host builds.
package: ## Build deployable arm64 zips with cargo-lambda (needs cargo-lambda, zig, aarch64 std)
	$(CARGO) lambda build --release --arm64 --output-format zip $(addprefix --bin ,$(FUNCTIONS))

# SAM runs cargo-lambda once per function; an absolute CARGO_TARGET_DIR makes them share one target dir, so the
# workspace compiles once. Stack name, capabilities, artifact bucket and parameters come from samconfig.toml, so
# `deploy` asks nothing but the change set's confirmation. Needs the same tools as `package`, plus the SAM CLI and
# AWS credentials (README.md, "Deploying with SAM").
deploy: ## sam build + sam deploy with samconfig.toml (stack codepipeline-hooks; needs SAM CLI, cargo-lambda, zig, aarch64 std, AWS credentials)
	CARGO_TARGET_DIR=$(abspath $(TARGET_DIR)) $(SAM) build
	$(SAM) deploy $(SAM_DEPLOY_FLAGS)

deploy-guided: ## as deploy, but sam deploy --guided asks for every setting (and can save the answers to samconfig.toml)
	CARGO_TARGET_DIR=$(abspath $(TARGET_DIR)) $(SAM) build
	$(SAM) deploy --guided

.PHONY: bench-calendar
bench-calendar: ## The BlackDay calendar engine against its speed budget (release build): each row with pass/fail; QUICK=1 for CI
	$(CARGO) run --release -p blackday-calendar --example bench_calendar -- $(if $(QUICK),--quick,)
