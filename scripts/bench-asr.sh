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
#       VOXMILL_BENCH_THREADS (0 = all cores), VOXMILL_BENCH_CONDITION (1 = condition on previous text),
#       VOXMILL_BENCH_DEVICE (cpu or cuda).
#
# faster-whisper lives in a throwaway virtual environment (VOXMILL_BENCH_VENV, default
# /tmp/voxmill-bench-venv), created with `pip install faster-whisper` on first use and reused after.
set -euo pipefail

# shellcheck source=scripts/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
venv="${VOXMILL_BENCH_VENV:-/tmp/voxmill-bench-venv}"
reference_venv() { ensure_venv "$venv" faster_whisper bench-asr faster-whisper==1.2.1; }

if [ "${1:-}" = "--reference" ]; then
    audio="${2:?usage: bench-asr.sh --reference AUDIO.wav}"
    reference_venv
    exec "$venv/bin/python" "$here/bench_asr_reference.py" "$audio"
fi

args=(bench asr)
if [ -n "${1:-}" ]; then args+=(--audio "$1"); fi
if [ -n "${2:-}" ]; then args+=(--script "$2"); fi
# shellcheck disable=SC2206
args+=(${VOXMILL_BENCH_ARGS:-})
reference_venv
run_voxmill "${args[@]}"
