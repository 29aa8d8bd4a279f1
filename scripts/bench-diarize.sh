#!/usr/bin/env bash
# Compares voxmill's diarization with the Resemblyzer glue users write (scripts/bench_diarize_reference.py: the same
# GE2E speaker model in PyTorch, webrtcvad, scikit-learn agglomerative clustering) on the same audio.
#
#   scripts/bench-diarize.sh [AUDIO REF.rttm]
#       Runs `voxmill bench diarize` on AUDIO scored against REF.rttm. Without them it first builds a synthetic
#       conversation with a ground-truth RTTM (the diarization tests' fixture, crates/voxmill/tests/bench_fixture.rs,
#       through `cargo test --release`): VOXMILL_BENCH_DIARIZE_MINUTES (10) minutes of VOXMILL_BENCH_VOICES (the
#       tests' four voices; comma-separated labels such as flite-slt,flite-awb,espeak-en-us-f3,piper-joe,flite-rms),
#       seed VOXMILL_BENCH_SEED (1), kept in VOXMILL_BENCH_FIXTURES (/tmp/voxmill-bench-diarize) for the next run.
#       Extra options for voxmill go in VOXMILL_BENCH_ARGS, e.g. VOXMILL_BENCH_ARGS="--json --keep /tmp/b".
#   scripts/bench-diarize.sh --reference AUDIO.wav OUT.rttm
#       Only the reference side (what `voxmill bench diarize` calls): writes OUT.rttm and prints one JSON object
#       {"seconds", "load_seconds", "windows", "speakers", ...} on stdout. Settings come from VOXMILL_BENCH_WINDOW
#       (1.5), VOXMILL_BENCH_HOP (0.75), VOXMILL_BENCH_THRESHOLD (0.3), VOXMILL_BENCH_THREADS (0 = all cores).
#
# The reference lives in a throwaway virtual environment (VOXMILL_BENCH_DIARIZE_VENV, default
# /tmp/voxmill-bench-diarize-venv), created with `pip install resemblyzer scikit-learn` on first use (PyPI's torch
# comes with it: several GB) and reused after. webrtcvad 2.0.10, which resemblyzer needs, imports pkg_resources,
# which setuptools 81 removed, so setuptools stays below 81.
set -euo pipefail

# shellcheck source=scripts/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
venv="${VOXMILL_BENCH_DIARIZE_VENV:-/tmp/voxmill-bench-diarize-venv}"
reference_venv() {
    ensure_venv "$venv" "resemblyzer, sklearn" bench-diarize resemblyzer==0.1.4 scikit-learn "setuptools<81"
}

if [ "${1:-}" = "--reference" ]; then
    audio="${2:?usage: bench-diarize.sh --reference AUDIO.wav OUT.rttm}"
    out="${3:?usage: bench-diarize.sh --reference AUDIO.wav OUT.rttm}"
    reference_venv
    exec "$venv/bin/python" -W ignore "$here/bench_diarize_reference.py" "$audio" "$out"
fi

if [ -n "${1:-}" ]; then
    audio="$1"
    rttm="${2:?usage: bench-diarize.sh [AUDIO REF.rttm]}"
else
    fixtures="${VOXMILL_BENCH_FIXTURES:-/tmp/voxmill-bench-diarize}"
    minutes="${VOXMILL_BENCH_DIARIZE_MINUTES:-10}"
    seed="${VOXMILL_BENCH_SEED:-1}"
    voices="${VOXMILL_BENCH_VOICES:-flite-slt,flite-awb,espeak-en-us-f3,piper-joe}"
    # The voices go in as a checksum: voxmill cuts recording names at 80 characters.
    name="conversation-${minutes}min-seed${seed}-voices$(printf '%s' "$voices" | cksum | cut -d' ' -f1)"
    audio="$fixtures/$name.wav"
    rttm="$fixtures/$name.rttm"
    if [ ! -s "$audio" ] || [ ! -s "$rttm" ]; then
        echo "bench-diarize: synthesising $audio (voices are cached in $fixtures/voice-cache)" >&2
        mkdir -p "$fixtures"
        (cd "$root" && VOXMILL_BENCH_FIXTURE_DIR="$fixtures" VOXMILL_BENCH_FIXTURE_NAME="$name" \
            VOXMILL_BENCH_MINUTES="$minutes" VOXMILL_BENCH_VOICES="$voices" VOXMILL_BENCH_SEED="$seed" \
            cargo test --quiet --release -p voxmill "${features[@]}" --test bench_fixture -- --ignored >&2)
    fi
fi

args=(bench diarize --audio "$audio" --rttm "$rttm")
# shellcheck disable=SC2206
args+=(${VOXMILL_BENCH_ARGS:-})
reference_venv
run_voxmill "${args[@]}"
