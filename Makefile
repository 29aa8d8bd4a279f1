# voxmill — the README's commands. Each target that needs tools or models runs `setup` first (fast when done).
SHELL := /bin/bash
CARGO ?= cargo
export VOXMILL_HOME ?= $(HOME)/.local/share/voxmill

.PHONY: setup build demo test bench lint fmt

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --locked

demo: build
	@bash scripts/demo.sh

test: setup
	$(CARGO) test --workspace --locked

bench: setup
	$(CARGO) bench --workspace --locked

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all
