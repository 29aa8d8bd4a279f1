#!/usr/bin/env python3
"""The Kaldi fbank features WeSpeaker and 3D-Speaker models are fed, computed with kaldi-native-fbank (the C++
library sherpa-onnx uses; `pip install kaldi-native-fbank`), for voxmill's tests.

    fbank_reference.py WAV OUT.f32 [--bins N] [--window povey|hamming] [--cmn]

writes frames x N float32 (little-endian, row-major) to OUT.f32. WAV is 16 kHz mono, 16-bit PCM (scaled by 1/32768)
or 32-bit float, read here without other packages than numpy.

Options (kaldi-native-fbank's FbankOptions; those not listed keep Kaldi's defaults, which are also torchaudio's):
    frame_opts: samp_freq 16000, frame_length_ms 25, frame_shift_ms 10, dither 0 (kaldi-native-fbank's own
        default is 3e-5 but inference is done without dither), snip_edges True (1 + (n - 400) // 160 frames),
        remove_dc_offset True, preemph_coeff 0.97, round_to_power_of_two True (FFT of 512), window_type povey or
        hamming (--window, default povey);
    mel_opts: num_bins N (--bins, default 80), low_freq 20, high_freq 0 (= Nyquist), htk_mode False, is_librosa
        False (Kaldi's triangles on mel = 1127 ln(1 + f / 700), unnormalised);
    use_energy False, use_power True, use_log_fbank True (natural log, floored at float32 epsilon).
Samples are multiplied by 32768 first, as WeSpeaker does (`waveform * (1 << 15)`) and sherpa-onnx for WeSpeaker
models (normalize_samples = 0). With --cmn, each band's mean over the file's frames is subtracted afterwards (in
float64, written as float32), as WeSpeaker's `apply_cmvn(norm_var=False)` and 3D-Speaker's `mean_nor=True` do.

Which window: WeSpeaker passes window_type='hamming' to torchaudio.compliance.kaldi.fbank in training
(wespeaker/dataset/processor.py `compute_fbank`), in wespeaker/bin/infer_onnx.py and wespeaker/cli/speaker.py, and
its C++ runtime (runtime/core/frontend/fbank.h) applies a Hamming window too; 3D-Speaker (speakerlab/process/
processor.py `FBank`) keeps torchaudio's default, povey.
"""

import argparse
import struct
import sys

import numpy as np

SAMPLE_RATE = 16000


def read_wav(path):
    """Mono 16 kHz samples in [-1, 1] as float32, from 16-bit PCM (format 1) or 32-bit float (format 3) WAV."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        sys.exit(f"{path}: not a RIFF/WAVE file")
    fmt = None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if chunk == b"fmt ":
            fmt = list(struct.unpack("<HHIIHH", body[:16]))
            if fmt[0] == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the sub-format's tag
                fmt[0] = struct.unpack("<H", body[24:26])[0]
        elif chunk == b"data":
            if fmt is None:
                sys.exit(f"{path}: data before fmt")
            tag, channels, rate, _, _, bits = fmt
            if channels != 1 or rate != SAMPLE_RATE:
                sys.exit(f"{path}: need 16 kHz mono, not {rate} Hz x {channels}")
            if tag == 1 and bits == 16:
                return (np.frombuffer(body, dtype="<i2").astype(np.float32) / np.float32(32768.0)).astype(np.float32)
            if tag == 3 and bits == 32:
                return np.frombuffer(body, dtype="<f4").astype(np.float32)
            sys.exit(f"{path}: need 16-bit PCM or 32-bit float samples, not format {tag} with {bits} bits")
        pos += 8 + size + (size & 1)
    sys.exit(f"{path}: no data chunk")


def fbank(samples, bins=80, window="povey"):
    """frames x bins float32 log mel energies of float32 samples in [-1, 1], before any mean normalisation."""
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq = SAMPLE_RATE
    opts.frame_opts.frame_length_ms = 25
    opts.frame_opts.frame_shift_ms = 10
    opts.frame_opts.dither = 0
    opts.frame_opts.snip_edges = True
    opts.frame_opts.remove_dc_offset = True
    opts.frame_opts.preemph_coeff = 0.97
    opts.frame_opts.round_to_power_of_two = True
    opts.frame_opts.window_type = window
    opts.mel_opts.num_bins = bins
    opts.mel_opts.low_freq = 20
    opts.mel_opts.high_freq = 0
    opts.mel_opts.htk_mode = False
    opts.mel_opts.is_librosa = False
    opts.use_energy = False
    opts.use_power = True
    opts.use_log_fbank = True

    computer = knf.OnlineFbank(opts)
    computer.accept_waveform(SAMPLE_RATE, (samples * np.float32(32768.0)).astype(np.float32))
    computer.input_finished()
    n = computer.num_frames_ready
    expected = 0 if len(samples) < 400 else 1 + (len(samples) - 400) // 160
    if n != expected:
        sys.exit(f"kaldi-native-fbank gave {n} frames for {len(samples)} samples, not {expected}")
    return np.array([computer.get_frame(i) for i in range(n)], dtype=np.float32).reshape(n, bins)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wav")
    parser.add_argument("out")
    parser.add_argument("--bins", type=int, default=80)
    parser.add_argument("--window", choices=["povey", "hamming"], default="povey")
    parser.add_argument("--cmn", action="store_true", help="subtract each band's mean over the frames")
    args = parser.parse_args()
    feats = fbank(read_wav(args.wav), args.bins, args.window)
    if args.cmn and len(feats):
        feats = (feats.astype(np.float64) - feats.astype(np.float64).mean(axis=0)).astype(np.float32)
    feats.astype("<f4").tofile(args.out)


if __name__ == "__main__":
    main()
