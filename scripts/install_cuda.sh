#!/usr/bin/env bash
# Installs a CUDA compiler toolchain (nvcc, cicc, headers, the static CUDA runtime, cuBLAS, cuRAND) from NVIDIA's PyPI wheels
# under $VOXMILL_HOME/cuda/<version>, laid out like a CUDA toolkit, and prints its root on stdout. It is for building
# voxmill with `--features voxmill/cuda` where no CUDA toolkit is installed, e.g. `make check-cuda` on a machine
# without a GPU; a machine with the toolkit can set CUDA_TOOLKIT_ROOT_DIR instead. Idempotent (a stamp file).
# x86-64 Linux only: NVIDIA publishes these wheels for manylinux x86-64 and aarch64, this script picks x86-64.
set -euo pipefail

VOXMILL_HOME="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
PYTHON="${PYTHON:-python3}"
CUDA_VERSION="13.5.37"
# The wheels of one CUDA release (CCCL, the C++ core libraries, has its own numbering).
WHEELS=(
  "nvidia-cuda-nvcc==$CUDA_VERSION"
  "nvidia-nvvm==$CUDA_VERSION"
  "nvidia-cuda-crt==$CUDA_VERSION"
  "nvidia-cuda-runtime==$CUDA_VERSION"
  "nvidia-cuda-cccl==13.3.5.0.6"
  "nvidia-cublas==13.10.0.20"
  "nvidia-curand==10.4.5.25"
)
DEST="$VOXMILL_HOME/cuda/$CUDA_VERSION"

say() { printf '\033[1minstall_cuda:\033[0m %s\n' "$*" >&2; }
die() { printf 'install_cuda: error: %s\n' "$*" >&2; exit 1; }

[ "$(uname -m)" = "x86_64" ] || die "only x86-64 is handled; set CUDA_TOOLKIT_ROOT_DIR to an installed CUDA toolkit"
if [ -f "$DEST/.complete" ] && [ "$(cat "$DEST/.complete")" = "${WHEELS[*]}" ]; then
  say "CUDA $CUDA_VERSION toolchain present at $DEST"
  echo "$DEST"
  exit 0
fi

say "installing the CUDA $CUDA_VERSION toolchain from PyPI wheels into $DEST (about 600 MB download)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  -d "$tmp/wheels" "${WHEELS[@]}" >&2 \
  || die "could not download the CUDA wheels from PyPI (${WHEELS[*]})"
for whl in "$tmp"/wheels/*.whl; do
  unzip -q -o "$whl" 'nvidia/cu13/*' -d "$tmp/unpacked" || die "could not unpack $(basename "$whl")"
done
root="$tmp/unpacked/nvidia/cu13"
for need in bin/nvcc nvvm/bin/cicc include/cuda_runtime.h include/cublas_v2.h include/curand_kernel.h \
  lib/libcudart_static.a; do
  [ -e "$root/$need" ] || die "the CUDA wheels did not contain $need"
done
# Where CMake's FindCUDA and ct2rs look: lib64/, unversioned shared library names.
ln -s lib "$root/lib64"
for lib in cudart cublas cublasLt; do
  ln -sf "lib$lib.so.13" "$root/lib/lib$lib.so"
done
echo "${WHEELS[*]}" > "$root/.complete"
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$root" "$DEST"
say "done: $DEST"
echo "$DEST"
