#!/usr/bin/env bash
# `make demo`: synthesises a short spoken sample (espeak-ng voices, pauses, an mp3 like a real podcast), runs the
# whole voxmill pipeline on it and shows the result. Run `make demo` rather than this script: it builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
VOXMILL="${VOXMILL:-target/release/voxmill}"
OUT="${DEMO_OUT:-demo-out}"
[ -x "$VOXMILL" ] || { echo "demo: $VOXMILL not built; run \`make demo\`" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/parts"
i=0
while IFS='|' read -r voice text; do
  espeak-ng -v "$voice" -s 160 -w "$OUT/parts/$i.wav" "$text"
  sox "$OUT/parts/$i.wav" -r 44100 -c 2 "$OUT/parts/$i-44k.wav" pad 0 0.6
  i=$((i + 1))
done <<'LINES'
en-us|Welcome to the voxmill demo. This sample was synthesised a moment ago.
en-gb+m3|Every recording is decoded, mixed down to mono and resampled to sixteen kilohertz.
en-us+f3|Its loudness is measured, and the result is committed atomically to the project.
en-gb|Run the command again and nothing is redone, because every stage is fingerprinted.
LINES
sox "$OUT"/parts/*-44k.wav "$OUT/podcast.wav"
ffmpeg -v error -y -i "$OUT/podcast.wav" -b:a 96k "$OUT/podcast.mp3"
rm -rf "$OUT/parts" "$OUT/podcast.wav"

echo "demo: running voxmill on $OUT/podcast.mp3"
"$VOXMILL" run "$OUT/podcast.mp3" --out "$OUT/podcast-voxmill"
echo
"$VOXMILL" status "$OUT/podcast-voxmill"
echo
echo "demo: project at $OUT/podcast-voxmill (settings: voxmill.toml, catalog: voxmill.db, working audio: work/)"
