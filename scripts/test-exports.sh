#!/usr/bin/env bash
# `make test-exports`: voxmill's dataset exports loaded by their real consumers. Synthesises a short two-voice
# recording (flite), runs voxmill on it, exports every dataset format (rejected clips included: synthetic voices
# fail the DNSMOS gate), then loads each with the tool that trains on it (scripts/check_exports.py, in the venv
# of scripts/setup-export-consumers.sh: datasets 3.6 + pyarrow, lhotse + torch, webdataset, piper1-gpl's data
# module), and checks Piper's phonemizer against the goldens when scripts/check-phonemes.sh exists.
set -euo pipefail
cd "$(dirname "$0")/.."
VOXMILL="${VOXMILL:-target/release/voxmill}"
[ -x "$VOXMILL" ] || { echo "test-exports: $VOXMILL not built; run \`make test-exports\`" >&2; exit 1; }
python="$(bash scripts/setup-export-consumers.sh)"
work="$(mktemp -d "${TMPDIR:-/tmp}/voxmill-test-exports.XXXXXX")"
trap 'rm -rf "$work"' EXIT

i=0
while IFS='|' read -r voice text; do
  flite -voice "$voice" -t "$text" -o "$work/$i.wav"
  sox "$work/$i.wav" "$work/$i-p.wav" pad 0.3 0.6
  i=$((i + 1))
done <<'LINES'
slt|The old lighthouse stood at the edge of the cliff, watching the grey sea.
awb|Every evening the keeper climbed the narrow stairs and lit the great lamp.
slt|Ships passing in the night would see its beam sweep across the water.
awb|In winter the storms were fierce, and the waves reached the windows.
slt|Still the keeper never missed a single night in forty years.
awb|When he retired, the village gathered to thank him for his work.
slt|Today the lamp is automatic, but people still remember his name.
awb|Children visit the tower and climb the same narrow stairs.
LINES
sox $(ls "$work"/*-p.wav | sort -V) "$work/lighthouse story.wav"
project="$work/project"
"$VOXMILL" init --quiet "$project"
# Big validation and test shares, so that eight sentences fill every split; English, so asr.model = "auto" takes
# Whisper tiny.en.
sed -i 's/^validation = .*/validation = 0.25/; s/^test = .*/test = 0.25/; s/^language = .*/language = "en"/' \
  "$project/voxmill.toml"
"$VOXMILL" add --quiet "$project" "$work/lighthouse story.wav"
"$VOXMILL" run --offline --quiet "$project"
for format in piper hf audiofolder lhotse webdataset; do
  "$VOXMILL" export --quiet --include-rejected "$project" --format "$format"
done
"$VOXMILL" review --json "$project" > "$work/review.jsonl"
"$python" scripts/check_exports.py "$project" "$work/review.jsonl"
if [ -f scripts/check-phonemes.sh ]; then
  bash scripts/check-phonemes.sh
fi
echo "test-exports: passed"
