#!/usr/bin/env bash
# Compares voxmill's phonemes with Piper's own, live, on the golden sentences (or on files you name):
#
#   bash scripts/check-phonemes.sh                       # en-us fr nl: must be equal, exits 1 on any difference
#   bash scripts/check-phonemes.sh de:FILE es:FILE ...   # VOICE:FILE pairs, one sentence a line
#   REGENERATE=1 bash scripts/check-phonemes.sh          # rewrite crates/voxmill-phonemize/tests/golden/*.tsv
#
# Installs piper-tts (pinned) into a cached virtual environment, $VOXMILL_HOME/piper-phonemes (about 60 MB; not
# part of `make test`), runs Piper's phonemizer (scripts/piper_phonemes.py) and ours
# (`cargo run -p voxmill-phonemize --example phonemize`, espeak-ng's C library with the data in
# $VOXMILL_HOME/espeak-ng-data, which scripts/setup.sh installs from the same piper-tts wheel) on the same
# sentences, and prints both for every sentence that differs. For the export tests: `make test-exports` can call it.
# The default voices are those whose phonemes equal Piper's with any espeak-ng library; de and es (golden files
# too) need espeak-ng newer than 1.52.0 for some IPA symbols (see the README's Phonemes section).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VOXMILL_HOME="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
export VOXMILL_HOME
VENV="$VOXMILL_HOME/piper-phonemes"
SPEC="piper-tts==1.8.0"
PYTHON="${PYTHON:-python3}"
GOLDEN=crates/voxmill-phonemize/tests/golden

if [ ! -f "$VENV/.complete" ] || [ "$(cat "$VENV/.complete")" != "$SPEC" ]; then
  echo "check-phonemes: installing $SPEC into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SPEC"
  echo "$SPEC" > "$VENV/.complete"
fi
if [ ! -f "$VOXMILL_HOME/espeak-ng-data/phontab" ]; then
  echo "check-phonemes: no espeak-ng data in $VOXMILL_HOME/espeak-ng-data; run bash scripts/setup.sh" >&2
  exit 2
fi

pairs=("$@")
if [ ${#pairs[@]} -eq 0 ]; then
  for v in en-us fr nl; do pairs+=("$v:$GOLDEN/$v.tsv"); done
fi
cargo build --quiet -p voxmill-phonemize --example phonemize
ours_bin="${CARGO_TARGET_DIR:-target}/debug/examples/phonemize"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
total=0
differ=0
for pair in "${pairs[@]}"; do
  voice="${pair%%:*}"
  file="${pair#*:}"
  cut -f1 "$file" | grep -v '^$' > "$tmp/in.txt"
  "$VENV/bin/python" scripts/piper_phonemes.py "$voice" --json < "$tmp/in.txt" > "$tmp/piper.txt"
  "$ours_bin" "$voice" < "$tmp/in.txt" > "$tmp/ours.txt"
  if [ "${REGENERATE:-}" = 1 ]; then
    "$VENV/bin/python" scripts/piper_phonemes.py "$voice" < "$tmp/in.txt" > "$file"
  fi
  n=$(wc -l < "$tmp/in.txt")
  d=0
  while IFS= read -r i; do
    text="$(sed -n "${i}p" "$tmp/in.txt")"
    p="$(sed -n "${i}p" "$tmp/piper.txt")"
    o="$(sed -n "${i}p" "$tmp/ours.txt")"
    if [ "$p" != "$o" ]; then
      d=$((d + 1))
      printf 'DIFF %s: %s\n  piper:   %s\n  voxmill: %s\n' "$voice" "$text" "$p" "$o"
    fi
  done < <(seq 1 "$n")
  echo "$voice: $((n - d)) of $n sentences equal to Piper's"
  total=$((total + n))
  differ=$((differ + d))
done
echo "espeak-ng library $(espeak-ng --version 2>/dev/null | head -1 || echo '?'); data $VOXMILL_HOME/espeak-ng-data"
echo "$((total - differ)) passed, $differ failed"
[ "$differ" -eq 0 ]
