#!/usr/bin/env bash
# Installs yt-dlp, the program voxmill downloads audio from video and audio sites with (YouTube, Vimeo, SoundCloud, …),
# idempotently: a Python virtual environment of its own at $VOXMILL_HOME/yt-dlp (default
# ~/.local/share/voxmill/yt-dlp) with a pinned yt-dlp from PyPI. voxmill never embeds Python; it runs the program this
# script prints at the end (found there by crates/voxmill-fetch's tests; point `fetch.ytdlp` or VOXMILL_YTDLP at it).
# A second run only checks the stamp and exits in well under a second.
set -euo pipefail

VOXMILL_HOME="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
YTDLP_VERSION="2026.10.26"
PYTHON="${PYTHON:-python3}"
DEST="$VOXMILL_HOME/yt-dlp"
PROGRAM="$DEST/bin/yt-dlp"

say() { printf '\033[1msetup-ytdlp:\033[0m %s\n' "$*" >&2; }
die() { printf 'setup-ytdlp: error: %s\n' "$*" >&2; exit 1; }

install_ytdlp() {
  local stamp="yt-dlp==$YTDLP_VERSION"
  if [ -f "$DEST/.complete" ] && [ "$(cat "$DEST/.complete")" = "$stamp" ] && [ -x "$PROGRAM" ]; then
    say "yt-dlp $YTDLP_VERSION present at $PROGRAM"
    return
  fi
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found (Debian: apt-get install python3 python3-venv)"
  say "installing yt-dlp $YTDLP_VERSION from PyPI into $DEST"
  # A virtual environment cannot be moved, so it is built in place and stamped only when whole.
  rm -rf "$DEST"
  "$PYTHON" -m venv "$DEST" || die "$PYTHON -m venv failed (Debian: apt-get install python3-venv)"
  "$DEST/bin/python" -m pip install --quiet --disable-pip-version-check "yt-dlp==$YTDLP_VERSION" \
    || die "could not install yt-dlp==$YTDLP_VERSION from PyPI"
  local got
  got="$("$PROGRAM" --ignore-config --version)" || die "$PROGRAM --version failed"
  [ "$got" = "$YTDLP_VERSION" ] || die "$PROGRAM reports version $got, not the pinned $YTDLP_VERSION"
  echo "$stamp" > "$DEST/.complete"
}

install_ytdlp
# The program's path, alone on stdout, so that `VOXMILL_YTDLP="$(scripts/setup-ytdlp.sh)"` works.
echo "$PROGRAM"
