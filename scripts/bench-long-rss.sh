#!/usr/bin/env bash
# Memory against recording length: the real speech setup.sh installs (silero-vad's two recordings and the ten AMI
# excerpts, 8.8 minutes) looped into one 16 kHz WAV per length, each run through the whole pipeline (`voxmill run`,
# default settings) in a fresh project under /usr/bin/time -v. Peak RSS should not grow with the length: every
# stage streams.
#
#   scripts/bench-long-rss.sh [MINUTES ...]      (default: 30 180)
#
# Prints one line per length (wall time, real-time factor, peak RSS, clips) and keeps each run's log and project under
# $VOXMILL_BENCH_OUT (default /tmp/voxmill-bench-long). A 3-hour run takes about 15 minutes on 2 cores.
set -euo pipefail
home="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
real="$home/real"
out="${VOXMILL_BENCH_OUT:-/tmp/voxmill-bench-long}"
bin="${VOXMILL_BIN:-target/release/voxmill}"
[ -f "$real/.complete" ] || { echo "bench-long-rss: no real recordings under $real; run scripts/setup.sh" >&2; exit 1; }
[ -x "$bin" ] || { echo "bench-long-rss: $bin is not built; run make build" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-long-rss: needs GNU time (/usr/bin/time; apt install time)" >&2; exit 1; }
minutes=("$@")
[ ${#minutes[@]} -gt 0 ] || minutes=(30 180)
mkdir -p "$out"
# One pass over every recording, 16 kHz mono 16-bit (the AMI excerpts are float WAVs).
base="$out/real-once.wav"
[ -f "$base" ] || sox "$real"/silero/aepyx.wav "$real"/silero/test.wav "$real"/ami/trn0?.wav -r 16000 -c 1 -b 16 "$base"
once="$(soxi -D "$base")"
printf '%8s %10s %8s %12s %7s\n' minutes wall_s x_real peak_rss_MB clips
for m in "${minutes[@]}"; do
    wav="$out/real-${m}min.wav"
    if [ ! -f "$wav" ]; then
        repeats="$(python3 -c "import math; print(max(0, math.ceil($m * 60 / $once) - 1))")"
        sox "$base" "$wav" repeat "$repeats" trim 0 "$((m * 60))"
    fi
    project="$out/project-${m}min"
    rm -rf "$project"
    # English speech: asr.language = "en" has asr.model = "auto" take Whisper tiny.en, as measured.
    "$bin" --quiet init "$project"
    sed -i 's/^language = .*/language = "en"/' "$project/voxmill.toml"
    /usr/bin/time -v -o "$out/time-${m}min.txt" "$bin" run --offline "$wav" --out "$project" >"$out/run-${m}min.log" 2>&1 \
        || { echo "bench-long-rss: voxmill run failed on $wav; see $out/run-${m}min.log" >&2; exit 1; }
    python3 - "$out/time-${m}min.txt" "$m" "$project" "$bin" <<'PY'
import json, subprocess, sys
t = {}
for line in open(sys.argv[1]):
    k, _, v = line.strip().rpartition(": ")
    t[k] = v
wall = t["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
rss = int(t["Maximum resident set size (kbytes)"]) / 1024
minutes = float(sys.argv[2])
stats = subprocess.run([sys.argv[4], "--json", "stats", sys.argv[3]], capture_output=True, text=True, check=True)
clips = json.loads(stats.stdout)["clips"]
print(f"{minutes:8.0f} {secs:10.1f} {minutes * 60 / secs:8.1f} {rss:12.0f} {clips:7d}")
PY
done
