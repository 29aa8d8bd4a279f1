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

.PHONY: setup build demo test bench lint fmt check-cuda

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

# Compiles the CUDA build (CTranslate2's CUDA kernels included) without needing a GPU. The CUDA compiler comes from
# NVIDIA's PyPI wheels (scripts/install_cuda.sh) unless CUDA_TOOLKIT_ROOT_DIR names an installed toolkit.
# CUDA_ARCH_LIST picks the GPU generations to compile for (default 8.0 and 9.0: A100, H100/H200).
check-cuda: setup
	root="$${CUDA_TOOLKIT_ROOT_DIR:-}"; [ -n "$$root" ] || root="$$(bash scripts/install_cuda.sh)" || exit 1; \
	CUDA_TOOLKIT_ROOT_DIR="$$root" CUDA_ARCH_LIST="$${CUDA_ARCH_LIST:-8.0;9.0}" \
	$(CARGO) check --locked -p voxmill --features voxmill/cuda $(FEATURES)

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked $(FEATURES) -- -D warnings

fmt:
	$(CARGO) fmt --all
