#!/usr/bin/env python3
"""Reference side of `voxmill bench diarize`: the diarization glue a Resemblyzer user writes, run on the same
16 kHz mono WAV as voxmill, writing an RTTM and printing one JSON object with its timings.

    bench_diarize_reference.py AUDIO.wav OUT.rttm

The steps, with the same window, hop and threshold as voxmill's diarize stage (its defaults: 1.5 s, 0.75 s, 0.3):

1. Audio: librosa.load at 16 kHz, then resemblyzer's `normalize_volume(wav, -30 dBFS, increase_only=True)` (the
   first half of `preprocess_wav`).
2. Speech: resemblyzer's own webrtcvad voice detection, the mask of `trim_long_silences` (30 ms frames, mode 3,
   moving average of 8 frames, dilation by 6 frames) with its timestamps kept instead of cutting the silence out
   (`preprocess_wav` would cut it out and lose the times). The PCM is made with numpy's `tobytes` rather than
   resemblyzer's `struct.pack(*samples)`, which needs gigabytes on hours of audio; the bytes are the same.
3. Windows of WINDOW seconds every HOP seconds inside each speech region (the last ends at the region's end;
   regions shorter than a window are one window, those under 0.5 s none), as voxmill plans them.
4. Embeddings: `VoiceEncoder.embed_utterance` of each window (partials of 1.6 s at rate 1.3; a 1.5 s window is one
   zero-padded partial), computed batched: the partials of 64 windows go through the network at once.
5. Clustering: scikit-learn `AgglomerativeClustering(metric="cosine", linkage="average",
   distance_threshold=THRESHOLD)` over all windows.
6. Turns: each 10 ms of speech takes the speaker of the window whose centre is nearest; runs of one speaker are
   turns, and one speaker's turns less than 1 s apart are joined (voxmill joins them too).

`seconds` covers steps 1-6 and writing the RTTM; `load_seconds` is importing torch, loading the model and a warm-up
of librosa on 0.1 s of silence (its first call imports modules lazily and loads compiled code).

Settings: VOXMILL_BENCH_WINDOW (1.5), VOXMILL_BENCH_HOP (0.75), VOXMILL_BENCH_THRESHOLD (0.3),
VOXMILL_BENCH_THREADS (0 = every core).
"""
import importlib.metadata
import io
import json
import os
import sys
import time
import wave

T_IMPORT = time.perf_counter()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import webrtcvad  # noqa: E402
import librosa  # noqa: E402
import sklearn  # noqa: E402
from scipy.ndimage import binary_dilation  # noqa: E402
from sklearn.cluster import AgglomerativeClustering  # noqa: E402

from resemblyzer import VoiceEncoder, hparams  # noqa: E402
from resemblyzer.audio import int16_max, normalize_volume, wav_to_mel_spectrogram  # noqa: E402

RATE = hparams.sampling_rate
MIN_WINDOW_SECS = 0.5
FRAME_SECS = 0.01
FILL_GAP_SECS = 1.0
BATCH = 64


def speech_regions(wav):
    """resemblyzer's trim_long_silences mask, as (start, end) seconds."""
    step = (hparams.vad_window_length * RATE) // 1000
    wav = wav[: len(wav) - len(wav) % step]
    pcm = np.round(wav * int16_max).astype(np.int16).tobytes()
    vad = webrtcvad.Vad(mode=3)
    flags = np.array(
        [vad.is_speech(pcm[i * 2 : (i + step) * 2], sample_rate=RATE) for i in range(0, len(wav), step)], dtype=float
    )
    width = hparams.vad_moving_average_width
    padded = np.concatenate((np.zeros((width - 1) // 2), flags, np.zeros(width // 2)))
    ret = np.cumsum(padded, dtype=float)
    ret[width:] = ret[width:] - ret[:-width]
    mask = np.round(ret[width - 1 :] / width).astype(bool)
    mask = binary_dilation(mask, np.ones(hparams.vad_max_silence_length + 1))
    regions = []
    frame = step / RATE
    i = 0
    while i < len(mask):
        if mask[i]:
            j = i
            while j < len(mask) and mask[j]:
                j += 1
            regions.append((i * frame, j * frame))
            i = j
        else:
            i += 1
    return regions


def plan_windows(regions, window, hop):
    out = []
    for start, end in regions:
        length = end - start
        if length < MIN_WINDOW_SECS:
            continue
        if length <= window:
            out.append((start, end))
            continue
        t = start
        while t + window < end - 1e-9:
            out.append((t, t + window))
            t += hop
        out.append((end - window, end))
    return out


def embed_windows(encoder, wav, windows):
    """embed_utterance of every window, the partials of BATCH windows per network run."""
    embeddings = np.zeros((len(windows), hparams.model_embedding_size), dtype=np.float32)
    for b in range(0, len(windows), BATCH):
        mels, owner = [], []
        for k, (s, e) in enumerate(windows[b : b + BATCH]):
            piece = wav[int(round(s * RATE)) : int(round(e * RATE))]
            wav_slices, mel_slices = encoder.compute_partial_slices(len(piece), 1.3, 0.75)
            if wav_slices[-1].stop >= len(piece):
                piece = np.pad(piece, (0, wav_slices[-1].stop - len(piece)), "constant")
            mel = wav_to_mel_spectrogram(piece)
            for sl in mel_slices:
                mels.append(mel[sl])
                owner.append(b + k)
        with torch.no_grad():
            partials = encoder(torch.from_numpy(np.array(mels)).to(encoder.device)).cpu().numpy()
        owner = np.array(owner)
        for i in np.unique(owner):
            raw = partials[owner == i].mean(axis=0)
            embeddings[i] = raw / np.linalg.norm(raw)
    return embeddings


def cluster(embeddings, threshold):
    if len(embeddings) < 2:
        return np.zeros(len(embeddings), dtype=int)
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
    )
    return model.fit_predict(embeddings)


def turns_of(regions, windows, labels):
    """Each 10 ms frame of speech takes the label of the window with the nearest centre; runs become turns."""
    centres = np.array([(s + e) / 2 for s, e in windows])
    order = np.argsort(centres)
    centres, ordered = centres[order], np.asarray(labels)[order]
    turns = []
    for start, end in regions:
        times = np.arange(start, end, FRAME_SECS) + FRAME_SECS / 2
        idx = np.clip(np.searchsorted(centres, times), 1, len(centres) - 1)
        left = centres[idx - 1]
        right = centres[idx]
        nearest = np.where(times - left <= right - times, idx - 1, idx)
        frame_labels = ordered[nearest]
        run_start = 0
        for i in range(1, len(frame_labels) + 1):
            if i == len(frame_labels) or frame_labels[i] != frame_labels[run_start]:
                s = start + run_start * FRAME_SECS
                e = min(end, start + i * FRAME_SECS)
                turns.append([s, e, int(frame_labels[run_start])])
                run_start = i
    turns.sort()
    merged = []
    for t in turns:
        # Join with the same speaker's previous turn when nobody else spoke in between and the gap is short.
        if merged and merged[-1][2] == t[2] and t[0] - merged[-1][1] < FILL_GAP_SECS:
            merged[-1][1] = max(merged[-1][1], t[1])
        else:
            merged.append(t)
    return merged


def warm_up():
    """Runs librosa's loading and mel code once on 0.1 s of silence: its first call imports modules lazily and loads
    compiled code (about a second), which belongs to start-up, not to the work measured."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"\0\0" * (RATE // 10))
    buf.seek(0)
    silence, _ = librosa.load(buf, sr=RATE)
    wav_to_mel_spectrogram(np.pad(silence, (0, hparams.partials_n_frames * 160 - len(silence))))


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: bench_diarize_reference.py AUDIO.wav OUT.rttm")
    audio, out = sys.argv[1], sys.argv[2]
    window = float(os.environ.get("VOXMILL_BENCH_WINDOW", "1.5"))
    hop = float(os.environ.get("VOXMILL_BENCH_HOP", "0.75"))
    threshold = float(os.environ.get("VOXMILL_BENCH_THRESHOLD", "0.3"))
    threads = int(os.environ.get("VOXMILL_BENCH_THREADS", "0")) or os.cpu_count() or 1
    torch.set_num_threads(threads)

    encoder = VoiceEncoder("cpu", verbose=False)
    warm_up()
    load = time.perf_counter() - T_IMPORT

    t0 = time.perf_counter()
    wav, _ = librosa.load(audio, sr=RATE)
    wav = normalize_volume(wav, hparams.audio_norm_target_dBFS, increase_only=True)
    t1 = time.perf_counter()
    regions = speech_regions(wav)
    t2 = time.perf_counter()
    windows = plan_windows(regions, window, hop)
    embeddings = embed_windows(encoder, wav, windows) if windows else np.zeros((0, 256), dtype=np.float32)
    t3 = time.perf_counter()
    labels = cluster(embeddings, threshold)
    t4 = time.perf_counter()
    turns = turns_of(regions, windows, labels) if windows else []
    name = os.path.splitext(os.path.basename(audio))[0]
    with open(out, "w") as f:
        for s, e, who in turns:
            f.write(f"SPEAKER {name} 1 {s:.3f} {e - s:.3f} <NA> <NA> spk{who} <NA> <NA>\n")
    seconds = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "seconds": seconds,
                "load_seconds": load,
                "read_seconds": t1 - t0,
                "vad_seconds": t2 - t1,
                "embed_seconds": t3 - t2,
                "cluster_seconds": t4 - t3,
                "audio_secs": len(wav) / RATE,
                "speech_secs": sum(e - s for s, e in regions),
                "windows": len(windows),
                "speakers": len(set(int(x) for x in labels)),
                "turns": len(turns),
                "rttm": out,
                "threads": threads,
                "vad": "webrtcvad (resemblyzer trim_long_silences mask)",
                "clustering": f"sklearn AgglomerativeClustering cosine average threshold {threshold}",
                "resemblyzer": importlib.metadata.version("resemblyzer"),
                "torch": torch.__version__,
                "sklearn": sklearn.__version__,
                "librosa": librosa.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
