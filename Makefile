# Vigil — two commands on a fresh Debian 12 machine: `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
VIGIL := $(TARGET_DIR)/debug/vigil
DEMO_SECONDS ?= 60

.PHONY: setup build test lint unit demo bench bench-soak models media fmt clean-cache services fuzz schemathesis

## setup: install Debian packages, ONNX Runtime, models and test media (idempotent)
setup:
	@bash scripts/setup.sh

models: setup
media: setup

build: setup
	$(CARGO) build --workspace

## lint: formatting, clippy with warnings as errors, and cargo deny (licences, bans, sources)
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p vigil-alert --features kafka,tls --all-targets -- -D warnings
# Supply chain (deny.toml): licences, duplicate versions, sources. No network needed;
# advisories need the RustSec database: `cargo deny check advisories` where there is network.
	@$(CARGO) deny --version >/dev/null 2>&1 || { echo "[lint] cargo-deny is missing: run make setup"; exit 1; }
	$(CARGO) deny check --hide-inclusion-graph licenses bans sources

## unit: the whole test suite (real models, real GStreamer, real brokers)
unit: export ORT_DYLIB_PATH ?= $(CURDIR)/.cache/onnxruntime/libonnxruntime.so.1.32.0
unit: export VIGIL_MODEL_DIR ?= $(CURDIR)/models
unit: export VIGIL_TESTDATA ?= $(CURDIR)/.cache/testdata
unit:
	@bash scripts/services.sh
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest run --workspace --no-fail-fast; \
	else \
	  $(CARGO) test --workspace --no-fail-fast; \
	fi
# MQTT over TLS needs the sinks' optional `tls` feature (NATS over TLS ran above): one more
# build of vigil-alert and its TLS clients, then two tests against private TLS brokers.
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest run -p vigil-alert --features tls --test tls; \
	else \
	  $(CARGO) test -p vigil-alert --features tls --test tls; \
	fi

## test: set up if needed, then lint and run every test
test: setup lint unit

## demo: set up if needed, build, run the main job on the embedded defaults
demo: setup
	$(CARGO) build -p vigil
	DEMO_SECONDS=$(DEMO_SECONDS) bash scripts/demo.sh

## bench: criterion benchmarks of the hot path (results in BENCHMARKS.md)
bench: setup
	$(CARGO) bench -p vigil-benches

## bench-soak: 8 simulated cameras × 5 analysis fps for 10 minutes (release build; BENCHMARKS.md)
bench-soak: setup
	$(CARGO) build --release -p vigil
	target/release/vigil bench soak

fmt:
	$(CARGO) fmt --all

## schemathesis: the OpenAPI document against the real router (not part of `make test`; bounded
## by SCHEMATHESIS_SECONDS, default 300, and SCHEMATHESIS_EXAMPLES per operation, default 100)
schemathesis:
	@bash scripts/schemathesis.sh

## fuzz: every fuzz target for FUZZ_SECONDS each (nightly + cargo-fuzz; not part of `make test`).
## Results go in docs/security.md; a crash leaves its input in fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 90
FUZZ_TARGETS ?= rules_config watchlist_csv watchlist_json plate_text ctc_decode api_config api_bodies
fuzz:
	@rustup run nightly rustc --version >/dev/null 2>&1 || { echo "[fuzz] needs the nightly toolchain: rustup toolchain install nightly"; exit 1; }
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install --locked cargo-fuzz
# Start from the workspace lock file so the fuzzed crates build with the same dependency versions.
	@[ -f fuzz/Cargo.lock ] || cp Cargo.lock fuzz/Cargo.lock
	cd fuzz && $(CARGO) +nightly fuzz build -a
	@cd fuzz; rm -rf target/api_bodies-store; mkdir -p artifacts; failed=""; for t in $(FUZZ_TARGETS); do \
	  mkdir -p corpus/$$t seeds/$$t regressions/$$t; \
	  echo "[fuzz] $$t: $(FUZZ_SECONDS) s (log: fuzz/artifacts/$$t.log)"; \
	  $(CARGO) +nightly fuzz run -a $$t corpus/$$t seeds/$$t regressions/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
	    >artifacts/$$t.log 2>&1 || { tail -n 30 artifacts/$$t.log; failed="$$failed $$t"; }; \
	  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|new_units_added)' artifacts/$$t.log | tr '\n' ' '; echo; \
	done; \
	if [ -n "$$failed" ]; then echo "[fuzz] crashed:$$failed (inputs in fuzz/artifacts/)"; exit 1; fi
