#!/usr/bin/env bash
# `make demo`: synthesises a short spoken sample (flite voices, pauses, an mp3 like a real podcast), runs the
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
  flite -voice "$voice" -t "$text" -o "$OUT/parts/$i.wav"
  sox "$OUT/parts/$i.wav" -r 44100 -c 2 "$OUT/parts/$i-44k.wav" pad 0.3 0.5
  i=$((i + 1))
done <<'LINES'
slt|Welcome to the voxmill demo. This short podcast was synthesised a moment ago.
slt|Every recording is decoded, mixed down to mono, and resampled for the models.
awb|Speech is found with a neural voice activity detector, then transcribed by Whisper.
awb|Each sentence becomes its own clip, cut in a pause so that no word is split.
slt|The clips and their transcripts are written as an LJSpeech dataset.
awb|Run the command again, and nothing is redone, because every stage is fingerprinted.
LINES
sox $(ls "$OUT"/parts/*-44k.wav | sort -V) "$OUT/podcast.wav"
ffmpeg -v error -y -i "$OUT/podcast.wav" -b:a 96k "$OUT/podcast.mp3"
rm -rf "$OUT/parts" "$OUT/podcast.wav"

echo "demo: running voxmill on $OUT/podcast.mp3"
# The sample is English: asr.language = "en" has asr.model = "auto" take English-only Whisper tiny.en (a fresh
# project detects the language with the multilingual base, slower).
"$VOXMILL" init --quiet "$OUT/podcast-voxmill"
sed -i 's/^language = .*/language = "en"/' "$OUT/podcast-voxmill/voxmill.toml"
"$VOXMILL" run --offline "$OUT/podcast.mp3" --out "$OUT/podcast-voxmill"
echo
"$VOXMILL" status "$OUT/podcast-voxmill"
echo
echo "demo: the speakers found (two flite voices, slt and awb, take turns):"
"$VOXMILL" speakers "$OUT/podcast-voxmill" list
echo
echo "demo: the dataset, $OUT/podcast-voxmill/exports/ljspeech/metadata.csv:"
cat "$OUT/podcast-voxmill/exports/ljspeech/metadata.csv"
echo
echo "demo: dataset at $OUT/podcast-voxmill/exports/ljspeech (metadata.csv + wavs/, 22050 Hz mono 16-bit)"
