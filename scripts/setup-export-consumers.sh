#!/usr/bin/env bash
# The real consumers of voxmill's exports, for `make test-exports`: Hugging Face `datasets` (3.x, which decodes
# audio with soundfile; 4.x and later need torchcodec; with pandas 2, as pandas 3 reads CSV strings as large_string,
# which datasets 3.6 does not take for `file_name`), `pyarrow`, `lhotse` (which needs torch: the PyPI wheel with
# its CUDA libraries, several GB), `webdataset`, and piper1-gpl with its training extras (its dataset reader and
# phonemizer). They go into a virtual environment of their own, $VOXMILL_HOME/export-consumers, built in place and
# stamped with the pins when whole: a second run with the same pins does nothing. Prints the environment's python.
set -euo pipefail
VOXMILL_HOME="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
PYTHON="${PYTHON:-python3}"
SPECS=(
  "datasets==3.6.0" "pandas==2.3.3" "pyarrow==21.0.0" "soundfile==0.13.1" "lhotse==1.33.0" "torch==2.9.1" "webdataset==1.0.2"
  "piper-tts[train]==1.8.0"
)
dest="$VOXMILL_HOME/export-consumers"
stamp="${SPECS[*]}"
if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ]; then
  echo "$dest/bin/python"
  exit 0
fi
echo "setup-export-consumers: installing ${SPECS[*]} into $dest (several GB with torch; once)" >&2
rm -rf "$dest"
"$PYTHON" -m venv "$dest" || { echo "setup-export-consumers: $PYTHON -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
"$dest/bin/python" -m pip install --quiet --disable-pip-version-check "${SPECS[@]}" >&2 \
  || { echo "setup-export-consumers: could not install ${SPECS[*]} from PyPI" >&2; exit 1; }
echo "$stamp" > "$dest/.complete"
echo "$dest/bin/python"
