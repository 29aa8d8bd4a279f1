#!/usr/bin/env python3
"""faster-whisper side of `voxmill bench asr`: transcribes one 16 kHz WAV with the same CTranslate2 model,
beam size and compute type as voxmill, with word timestamps (voxmill computes them too) and faster-whisper's Silero
VAD (voxmill runs its own), and prints {"text", "seconds", "load_seconds", "segments", ...} as JSON. `seconds`
covers decoding the audio, VAD and transcription, not loading the model.

Settings: VOXMILL_BENCH_MODEL (model folder), VOXMILL_BENCH_BEAM (5), VOXMILL_BENCH_COMPUTE (default),
VOXMILL_BENCH_THREADS (0 = every core), VOXMILL_BENCH_CONDITION (1: condition_on_previous_text, 0: off; sequential
only), VOXMILL_BENCH_DEVICE (cpu or cuda), VOXMILL_BENCH_MODE (sequential: `WhisperModel.transcribe`, window after
window with temperature fallback; batched: `BatchedInferencePipeline`, VAD chunks decoded VOXMILL_BENCH_BATCH (8) at
a time, no fallback, no timestamp tokens: faster-whisper's defaults for each).
"""
import json
import os
import sys
import time

import ctranslate2
import faster_whisper
from faster_whisper import BatchedInferencePipeline, WhisperModel


def main() -> None:
    audio = sys.argv[1]
    model_dir = os.environ["VOXMILL_BENCH_MODEL"]
    beam = int(os.environ.get("VOXMILL_BENCH_BEAM", "5"))
    compute = os.environ.get("VOXMILL_BENCH_COMPUTE", "default")
    threads = int(os.environ.get("VOXMILL_BENCH_THREADS", "0")) or os.cpu_count() or 1
    condition = os.environ.get("VOXMILL_BENCH_CONDITION", "1") != "0"
    device = os.environ.get("VOXMILL_BENCH_DEVICE", "cpu")
    mode = os.environ.get("VOXMILL_BENCH_MODE", "sequential")
    batch = int(os.environ.get("VOXMILL_BENCH_BATCH", "8"))

    t0 = time.perf_counter()
    model = WhisperModel(model_dir, device=device, compute_type=compute, cpu_threads=threads)
    load = time.perf_counter() - t0

    t1 = time.perf_counter()
    if mode == "batched":
        segments, info = BatchedInferencePipeline(model).transcribe(
            audio, batch_size=batch, beam_size=beam, vad_filter=True, word_timestamps=True
        )
    elif mode == "sequential":
        segments, info = model.transcribe(
            audio,
            beam_size=beam,
            vad_filter=True,
            word_timestamps=True,
            condition_on_previous_text=condition,
        )
    else:
        sys.exit(f"VOXMILL_BENCH_MODE={mode!r}: expected sequential or batched")
    texts = [s.text.strip() for s in segments]  # the generator does the work
    seconds = time.perf_counter() - t1
    print(
        json.dumps(
            {
                "text": " ".join(texts),
                "seconds": seconds,
                "load_seconds": load,
                "segments": len(texts),
                "language": info.language,
                "faster_whisper": faster_whisper.__version__,
                "ctranslate2": ctranslate2.__version__,
                "threads": threads,
                "device": device,
                "mode": mode,
                "batch_size": batch if mode == "batched" else 1,
            }
        )
    )


if __name__ == "__main__":
    main()
