# voxmill — the README's commands. Each target that needs tools or models runs `setup` first (fast when done).
SHELL := /bin/bash
CARGO ?= cargo
export VOXMILL_HOME ?= $(HOME)/.local/share/voxmill
# On x86-64 CTranslate2 multiplies with Intel oneMKL, which setup.sh installs under $VOXMILL_HOME/mkl and which is
# linked statically (crates/voxmill-asr/Cargo.toml, feature `mkl`); elsewhere it uses ruy.
ifeq ($(shell uname -m),x86_64)
export MKLROOT ?= $(VOXMILL_HOME)/mkl
FEATURES ?= --features voxmill/mkl
endif

.PHONY: setup build demo test bench lint fmt

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --locked $(FEATURES)

demo: build
	@bash scripts/demo.sh

# VOXMILL_REQUIRE_MODELS: tests that need the model bundle fail instead of skipping (setup installed it).
test: setup
	VOXMILL_REQUIRE_MODELS=1 $(CARGO) test --workspace --locked $(FEATURES)

bench: build
	$(CARGO) bench -p voxmill-audio --locked
	VOXMILL_BIN=target/release/voxmill bash scripts/bench-asr.sh
	VOXMILL_BIN=target/release/voxmill bash scripts/bench-diarize.sh

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked $(FEATURES) -- -D warnings

fmt:
	$(CARGO) fmt --all
