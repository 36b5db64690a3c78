# Vigil — two commands on a fresh Debian 12 machine: `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
VIGIL := $(TARGET_DIR)/debug/vigil
DEMO_SECONDS ?= 60

.PHONY: setup build test lint unit demo bench models media fmt clean-cache services

## setup: install Debian packages, ONNX Runtime, models and test media (idempotent)
setup:
	@bash scripts/setup.sh

models: setup
media: setup

build: setup
	$(CARGO) build --workspace

## lint: formatting and clippy with warnings as errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p vigil-alert --features kafka --all-targets -- -D warnings

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

## test: set up if needed, then lint and run every test
test: setup lint unit

## demo: set up if needed, build, run the main job on the embedded defaults
demo: setup
	$(CARGO) build -p vigil
	DEMO_SECONDS=$(DEMO_SECONDS) bash scripts/demo.sh

## bench: criterion benchmarks of the hot path (results in BENCHMARKS.md)
bench: setup
	$(CARGO) bench -p vigil-benches

fmt:
	$(CARGO) fmt --all
