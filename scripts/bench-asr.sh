#!/usr/bin/env bash
# Compares voxmill's Whisper with faster-whisper on the same audio, model, beam size and compute type.
#
#   scripts/bench-asr.sh [AUDIO.wav] [SCRIPT.txt]
#       Runs `voxmill bench asr` (synthesised speech when no audio is given; WER needs the script text).
#       Extra options for voxmill go in VOXMILL_BENCH_ARGS, e.g. VOXMILL_BENCH_ARGS="--minutes 5 --beam-size 1".
#   scripts/bench-asr.sh --reference AUDIO.wav
#       Only the faster-whisper side (what `voxmill bench asr` calls): prints one JSON object
#       {"text", "seconds", "load_seconds", "segments", "faster_whisper", "ctranslate2"} on stdout.
#       Settings come from VOXMILL_BENCH_MODEL, VOXMILL_BENCH_BEAM (5), VOXMILL_BENCH_COMPUTE (default),
#       VOXMILL_BENCH_THREADS (0 = all cores), VOXMILL_BENCH_CONDITION (1 = condition on previous text).
#
# faster-whisper lives in a throwaway virtual environment (VOXMILL_BENCH_VENV, default
# /tmp/voxmill-bench-venv), created with `pip install faster-whisper` on first use and reused after.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# Build with Intel oneMKL where scripts/setup.sh installed it, as `make` does.
mkl="${MKLROOT:-${VOXMILL_HOME:-$HOME/.local/share/voxmill}/mkl}"
features=()
if [ -f "$mkl/.complete" ]; then export MKLROOT="$mkl"; features=(--features voxmill/mkl); fi
venv="${VOXMILL_BENCH_VENV:-/tmp/voxmill-bench-venv}"

ensure_venv() {
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import faster_whisper" 2>/dev/null; then
        return
    fi
    echo "bench-asr: creating $venv with faster-whisper (one time)" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check faster-whisper >&2
}

if [ "${1:-}" = "--reference" ]; then
    audio="${2:?usage: bench-asr.sh --reference AUDIO.wav}"
    ensure_venv
    exec "$venv/bin/python" "$here/bench_asr_reference.py" "$audio"
fi

args=(bench asr)
if [ -n "${1:-}" ]; then args+=(--audio "$1"); fi
if [ -n "${2:-}" ]; then args+=(--script "$2"); fi
# shellcheck disable=SC2206
args+=(${VOXMILL_BENCH_ARGS:-})
ensure_venv
if [ -n "${VOXMILL_BIN:-}" ]; then
    exec "$VOXMILL_BIN" "${args[@]}"
fi
cd "$root"
exec cargo run --quiet --release -p voxmill "${features[@]}" -- "${args[@]}"
