# voxmill — the README's commands. Each target that needs tools or models runs `setup` first (fast when done).
SHELL := /bin/bash
CARGO ?= cargo
export VOXMILL_HOME ?= $(HOME)/.local/share/voxmill
# How CTranslate2 gets into voxmill (crates/voxmill-asr/Cargo.toml):
#   prebuilt  the shared library of the ctranslate2 PyPI wheel, which setup.sh unpacks (default on x86-64 Linux);
#   mkl       built from source with Intel oneMKL, which setup.sh installs under $(VOXMILL_HOME)/mkl;
#   ruy       built from source with ruy (portable; the default elsewhere).
ifeq ($(shell uname -sm),Linux x86_64)
export CT2 ?= prebuilt
else
export CT2 ?= ruy
endif
# Source builds must not see the empty archives .cargo/config.toml puts on CMAKE_LIBRARY_PATH for the prebuilt one.
ifneq ($(CT2),prebuilt)
export CMAKE_LIBRARY_PATH :=
endif
ifeq ($(CT2),mkl)
export MKLROOT ?= $(VOXMILL_HOME)/mkl
FEATURES ?= --no-default-features --features voxmill/mkl
else ifeq ($(CT2),ruy)
FEATURES ?= --no-default-features --features voxmill/ct2-source
else
FEATURES ?=
endif

.PHONY: setup build demo test test-exports test-train bench lint fmt check-cuda

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --locked $(FEATURES)

demo: build
	@bash scripts/demo.sh

# VOXMILL_REQUIRE_MODELS: tests that need the model bundle fail instead of skipping (setup installed it).
test: setup
	VOXMILL_REQUIRE_MODELS=1 $(CARGO) test --workspace --locked $(FEATURES)

# The exports loaded by their real consumers (datasets, lhotse + torch, webdataset, Piper's data module): several GB
# of Python packages, installed once into $(VOXMILL_HOME)/export-consumers; not part of `make test`.
test-exports: build
	VOXMILL=target/release/voxmill bash scripts/test-exports.sh

# voxmill train with the real trainer: installs piper-tts[train] (about 7.5 GB, once, under $(VOXMILL_HOME)/trainers),
# trains a Piper voice from scratch on CPU, kills and resumes it, and checks the voice Piper reads; not in `make test`.
test-train: build
	VOXMILL=target/release/voxmill bash scripts/test-train.sh

bench: build
	$(CARGO) bench -p voxmill-audio --locked
	VOXMILL_BIN=target/release/voxmill bash scripts/bench-asr.sh
	VOXMILL_BIN=target/release/voxmill bash scripts/bench-asr-real.sh
	VOXMILL_BIN=target/release/voxmill bash scripts/bench-asr-spanish.sh
	VOXMILL_BIN=target/release/voxmill bash scripts/bench-short-clips.sh
	VOXMILL_BIN=target/release/voxmill bash scripts/bench-diarize.sh
	VOXMILL_BIN=target/release/voxmill bash scripts/bench-long-rss.sh

# Compiles the CUDA build (CTranslate2's CUDA kernels included) without needing a GPU. The CUDA compiler comes from
# NVIDIA's PyPI wheels (scripts/install_cuda.sh) unless CUDA_TOOLKIT_ROOT_DIR names an installed toolkit.
# CUDA_ARCH_LIST picks the GPU generations to compile for (default 8.0 and 9.0: A100, H100/H200).
check-cuda: setup
	root="$${CUDA_TOOLKIT_ROOT_DIR:-}"; [ -n "$$root" ] || root="$$(bash scripts/install_cuda.sh)" || exit 1; \
	CUDA_TOOLKIT_ROOT_DIR="$$root" CUDA_ARCH_LIST="$${CUDA_ARCH_LIST:-8.0;9.0}" CMAKE_LIBRARY_PATH= \
	$(CARGO) check --locked -p voxmill --no-default-features --features voxmill/cuda

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked $(FEATURES) -- -D warnings

fmt:
	$(CARGO) fmt --all
