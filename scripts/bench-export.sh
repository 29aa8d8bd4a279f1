#!/usr/bin/env bash
# Exporting a big dataset: COUNT (default 10,000) synthetic clips of 2-8 s at 22050 Hz exported as FORMAT (default
# hf, Parquet), timed, with the peak RSS from /usr/bin/time -v. The clips stay in VOXMILL_BENCH_OUT (default
# /tmp/voxmill-bench-export) for the next run; the export is redone each time.
#
#   scripts/bench-export.sh [COUNT] [FORMAT]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${VOXMILL_BENCH_OUT:-/tmp/voxmill-bench-export}"
count="${1:-10000}"
format="${2:-hf}"
cargo build --release --locked -q -p voxmill-export --example export_bench
mkdir -p "$out"
rm -rf "$out/export"
# A first run synthesises the clips; the timed run finds them.
[ -f "$out/clips/rec$(printf %03d $(((count - 1) / 100)))-$(printf %05d $(((count - 1) % 100))).wav" ] \
  || target/release/examples/export_bench "$out" "$count" "$format" >/dev/null
rm -rf "$out/export"
/usr/bin/time -v -o "$out/time.txt" target/release/examples/export_bench "$out" "$count" "$format"
rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$out/time.txt")
echo "peak RSS: $((rss_kb / 1024)) MB; load5 $(cut -d' ' -f2 /proc/loadavg)"
