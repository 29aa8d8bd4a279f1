# Sourced by scripts/bench-asr.sh and scripts/bench-diarize.sh: where the checkout is, the cargo features `make`
# builds with, the throwaway virtual environment of a Python reference, and how voxmill is run.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# Build CTranslate2 the way `make` does (CT2: prebuilt, the default; mkl or ruy: source builds).
features=()
case "${CT2:-prebuilt}" in
    mkl) export MKLROOT="${MKLROOT:-${VOXMILL_HOME:-$HOME/.local/share/voxmill}/mkl}" CMAKE_LIBRARY_PATH=
         features=(--no-default-features --features voxmill/mkl) ;;
    ruy) export CMAKE_LIBRARY_PATH=; features=(--no-default-features --features voxmill/ct2-source) ;;
esac

# ensure_venv VENV IMPORTS WHO PIP-ARGS…: creates VENV and pip-installs PIP-ARGS there, unless
# `python -c "import IMPORTS"` already works in it. WHO names the caller in the one-time message.
ensure_venv() {
    local venv="$1" imports="$2" who="$3"
    shift 3
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -W ignore -c "import $imports" 2>/dev/null; then
        return
    fi
    echo "$who: creating $venv with $* (one time)" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
}

# run_voxmill ARGS…: $VOXMILL_BIN when set (as `make bench` does), else a release build of this checkout.
run_voxmill() {
    if [ -n "${VOXMILL_BIN:-}" ]; then
        exec "$VOXMILL_BIN" "$@"
    fi
    cd "$root"
    exec cargo run --quiet --release -p voxmill "${features[@]}" -- "$@"
}
