#!/usr/bin/env python3
"""An independent numpy implementation of Resemblyzer's front end and utterance embedding, for voxmill's tests.

    ge2e_reference.py mel WAV OUT.f32        the 40-band power mel of WAV, frames x 40 float32, to OUT.f32
    ge2e_reference.py embed WAV GE2E.ONNX    the utterance embedding of WAV as JSON on stdout

WAV is 16 kHz mono 16-bit PCM, read with the `wave` module and scaled by 1/32768 like librosa.load.

Front end (resemblyzer/audio.py `wav_to_mel_spectrogram`): librosa.feature.melspectrogram(sr=16000, n_fft=400,
hop_length=160, n_mels=40) with its defaults: periodic Hann window of 400, centred frames, power 2, Slaney-scale mel
filters with Slaney area normalisation from 0 Hz to 8 kHz, no log; transposed to frames x 40. Centring pads 200
samples on each side. librosa up to 0.9 padded by reflection; librosa 0.10 changed the default pad_mode to
"constant" (zeros). resemblyzer 0.1.4 asks for librosa>=0.9.1, and pip resolves that to librosa 0.11 today, so
Resemblyzer users get ZERO padding, and so does this reference (and voxmill).

Embedding (resemblyzer/voice_encoder.py `embed_utterance`, rate 1.3, min_coverage 0.75) after `normalize_volume` to
-30 dBFS with increase_only=True (the first half of `preprocess_wav`). The second half, `trim_long_silences`, needs
webrtcvad and is left out: voxmill feeds the embedder speech found by its own VAD. The network runs in numpy from the
weights inside the ONNX file (read with the `onnx` package), following the ONNX LSTM equations, not onnxruntime.
"""

import json
import sys
import wave

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 40
PARTIAL_FRAMES = 160
TARGET_DBFS = -30.0
INT16_MAX = 2**15 - 1


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getnchannels() != 1 or w.getframerate() != SAMPLE_RATE or w.getsampwidth() != 2:
            sys.exit(f"{path}: need 16 kHz mono 16-bit PCM")
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def hz_to_mel(f):
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, f / f_sp)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filters():
    """[40, 201] triangular filters, Slaney-normalised (each triangle has area 2 / bandwidth)."""
    fft_freqs = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    weights = np.zeros((N_MELS, len(fft_freqs)))
    for m in range(N_MELS):
        left, centre, right = edges[m], edges[m + 1], edges[m + 2]
        rising = (fft_freqs - left) / (centre - left)
        falling = (right - fft_freqs) / (right - centre)
        weights[m] = np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (right - left))
    return weights


def mel_spectrogram(wav):
    """frames x 40 power mel, frames = 1 + len(wav) // 160."""
    padded = np.pad(wav, (N_FFT // 2, N_FFT // 2), mode="constant")
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    spectrum = np.fft.rfft(padded[idx] * window, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    return power @ mel_filters().T


def normalize_volume(wav):
    """Raise (never lower) the level to -30 dBFS, as resemblyzer's normalize_volume(increase_only=True)."""
    rms = np.sqrt(np.mean((wav * INT16_MAX) ** 2))
    if rms == 0.0:
        return wav
    change = TARGET_DBFS - 20.0 * np.log10(rms / INT16_MAX)
    if change < 0:
        return wav
    return wav * 10.0 ** (change / 20.0)


def partial_slices(n_samples, rate=1.3, min_coverage=0.75):
    """Start frames of the 160-frame partial windows, as VoiceEncoder.compute_partial_slices."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    frame_step = int(np.round((SAMPLE_RATE / rate) / HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + frame_step + 1)
    starts = list(range(0, steps, frame_step))
    last = starts[-1] * HOP
    coverage = (n_samples - last) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]
    return starts


def load_weights(onnx_path):
    import onnx
    from onnx import numpy_helper

    model = onnx.load(onnx_path)
    return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def encoder(weights, mels):
    """mels [batch, frames, 40] -> L2-normalised embeddings [batch, 256], ONNX LSTM gate order (i, o, f, c)."""
    x = mels
    layer = 0
    while f"W{layer}" in weights:
        w, r, b = weights[f"W{layer}"][0], weights[f"R{layer}"][0], weights[f"B{layer}"][0]
        hidden = r.shape[1]
        bias = b[: 4 * hidden] + b[4 * hidden :]
        h = np.zeros((x.shape[0], hidden))
        c = np.zeros((x.shape[0], hidden))
        out = np.empty((x.shape[0], x.shape[1], hidden))
        for t in range(x.shape[1]):
            gates = x[:, t] @ w.T + h @ r.T + bias
            i, o, f, g = np.split(gates, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            out[:, t] = h
        x = out
        layer += 1
    raw = np.maximum(h @ weights["linear_w"].T + weights["linear_b"], 0.0)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def embed_utterance(weights, wav):
    wav = normalize_volume(wav)
    starts = partial_slices(len(wav))
    end = (starts[-1] + PARTIAL_FRAMES) * HOP
    if end >= len(wav):
        wav = np.pad(wav, (0, end - len(wav)))
    mel = mel_spectrogram(wav)
    mels = np.stack([mel[s : s + PARTIAL_FRAMES] for s in starts]).astype(np.float32).astype(np.float64)
    partials = encoder(weights, mels)
    raw = partials.mean(axis=0)
    return raw / np.linalg.norm(raw), len(starts)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "mel":
        mel_spectrogram(read_wav(sys.argv[2])).astype("<f4").tofile(sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "embed":
        embedding, partials = embed_utterance(load_weights(sys.argv[3]), read_wav(sys.argv[2]))
        print(json.dumps({"embedding": [float(v) for v in embedding], "partials": partials}))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
