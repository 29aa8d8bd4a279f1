#!/usr/bin/env bash
# `voxmill bench asr` on the real recordings setup.sh installs (the README's table): the two silero-vad recordings and
# five AMI excerpts joined into one file, each against faster-whisper 1.2.1 sequential and batched (batch 8), same
# model, beam, compute type and threads, word timestamps on, one after the other on this machine.
#
#   scripts/bench-asr-real.sh [extra voxmill bench asr options, e.g. --compute-type int8]
#
# Prints one line per recording and the JSON of every run under $VOXMILL_BENCH_OUT (default /tmp/voxmill-bench-real).
set -euo pipefail
home="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
real="$home/real"
out="${VOXMILL_BENCH_OUT:-/tmp/voxmill-bench-real}"
[ -f "$real/.complete" ] || { echo "bench-asr-real: no real recordings under $real; run scripts/setup.sh" >&2; exit 1; }
mkdir -p "$out"
sox "$real"/ami/trn0{0,1,2,3,4}.wav "$out/ami-trn00-04.wav"
bin="${VOXMILL_BIN:-target/release/voxmill}"
[ -x "$bin" ] || { echo "bench-asr-real: $bin is not built; run make build" >&2; exit 1; }
printf '%-22s %7s %9s %9s %9s %11s %11s\n' recording audio_s voxmill_s fw_seq_s fw_batch_s vs_seq vs_batch
for audio in "$real/silero/aepyx.wav" "$real/silero/test.wav" "$out/ami-trn00-04.wav"; do
    name="$(basename "$audio" .wav)"
    "$bin" --json bench asr --audio "$audio" --keep "$out/$name" "$@" > "$out/$name.json"
    python3 - "$out/$name.json" "$name" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
runs = {r["name"]: r for r in d["runs"]}
v, s, b = runs["voxmill"], runs.get("faster-whisper sequential"), runs.get("faster-whisper batched")
f = lambda r: f"{r['seconds']:9.2f}" if r else f"{'-':>9}"
x = lambda r: f"{r['seconds'] / v['seconds']:10.2f}x" if r else f"{'-':>11}"
print(f"{sys.argv[2]:<22} {d['audio_secs']:7.1f} {f(v)} {f(s)} {f(b)} {x(s)} {x(b)}")
PY
done
echo "(vs_*: faster-whisper time / voxmill time; above 1 = voxmill faster. Runs: $out/*.json)"
