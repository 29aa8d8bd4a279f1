#!/usr/bin/env python3
"""The reference DNSMOS scores of WAV files: Microsoft's DNSMOS code as PyPI speechmos 0.0.1.1 ships it
(dnsmos_local.py's windows and polynomial fits, librosa's log-mel for P.808), on onnxruntime.

    $VOXMILL_HOME/dnsmos-reference/bin/python scripts/dnsmos_reference.py a.wav b.wav ...

prints one JSON object per file: {"file", "sig", "bak", "ovrl", "p808"}. The files must be 16 kHz (the reference
refuses other rates). scripts/setup.sh installs the environment; crates/voxmill-models/tests/dnsmos.rs compares
voxmill's scores with these.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

from speechmos import dnsmos  # noqa: E402


def main(paths):
    for path in paths:
        scores = dnsmos.run(path, 16000)
        print(json.dumps({
            "file": path,
            "sig": float(scores["sig_mos"]),
            "bak": float(scores["bak_mos"]),
            "ovrl": float(scores["ovrl_mos"]),
            "p808": float(scores["p808_mos"]),
        }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
