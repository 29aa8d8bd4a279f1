"""Loads a voxmill project's exports with the real consumers (run by scripts/test-exports.sh in the venv of
scripts/setup-export-consumers.sh) and checks them against the project's clips, as `voxmill review --json` lists
them (a JSON-lines file): every clip once, its text, speaker, duration and sample rate, and one split per clip
across the formats that split.

    python check_exports.py PROJECT REVIEW.jsonl

Exits non-zero with a message naming the format and the clip on the first difference.
"""
import json
import os
import sys
import tempfile
from pathlib import Path

project = Path(sys.argv[1])
exports = project / "exports"
clips = {c["id"]: c for c in map(json.loads, open(sys.argv[2], encoding="utf-8"))}
checked = []


def fail(msg):
    sys.exit(f"check_exports: {msg}")


def same_clips(name, got):
    if set(got) != set(clips):
        fail(f"{name}: holds {sorted(got)}, the project's clips are {sorted(clips)}")
    checked.append(name)


# Hugging Face: the Parquet export loaded as a Hub repository (the card's configs name the splits), audio decoded.
import datasets  # noqa: E402

splits = {}


def check_hf(name, ds, rate):
    got = {}
    for split, rows in ds.items():
        for row in rows:
            clip = clips.get(row["id"])
            if clip is None:
                fail(f"{name}: unknown clip {row['id']}")
            audio = row["audio"]
            secs = len(audio["array"]) / audio["sampling_rate"]
            if audio["sampling_rate"] != rate:
                fail(f"{name} {row['id']}: {audio['sampling_rate']} Hz, expected {rate}")
            if abs(secs - row["duration"]) > 0.002 or abs(secs - clip["duration"]) > 0.06:
                fail(f"{name} {row['id']}: {secs:.3f} s decoded, {row['duration']} written, {clip['duration']} cut")
            if row["text"].split() != clip["text"].split():
                fail(f"{name} {row['id']}: text {row['text']!r}, clip {clip['text']!r}")
            got[row["id"]] = split
    same_clips(name, got)
    return got


card_rate = json.load(open(exports / "piper" / "dataset.json"))["sample_rate"]
hf = check_hf("hf", datasets.load_dataset(str(exports / "hf")), card_rate)
for split, rows in datasets.load_dataset(str(exports / "hf")).items():
    if rows.features["audio"].sampling_rate != card_rate:
        fail(f"hf: the Audio feature says {rows.features['audio'].sampling_rate} Hz")
audiofolder = check_hf("audiofolder", datasets.load_dataset("audiofolder", data_dir=str(exports / "audiofolder")), card_rate)
if audiofolder != hf:
    fail(f"audiofolder and hf split the clips differently: {audiofolder} vs {hf}")

# lhotse: each split's manifests loaded, validated, joined into a CutSet whose audio loads.
import lhotse  # noqa: E402
from lhotse import CutSet, RecordingSet, SupervisionSet  # noqa: E402
from lhotse.qa import validate_recordings_and_supervisions  # noqa: E402

got = {}
for split in ("train", "validation", "test"):
    path = exports / "lhotse" / f"recordings_{split}.jsonl.gz"
    if not path.exists():
        continue
    recordings = lhotse.load_manifest(path)
    supervisions = lhotse.load_manifest(exports / "lhotse" / f"supervisions_{split}.jsonl.gz")
    if not isinstance(recordings, RecordingSet) or not isinstance(supervisions, SupervisionSet):
        fail(f"lhotse {split}: manifests load as {type(recordings)}, {type(supervisions)}")
    validate_recordings_and_supervisions(recordings, supervisions)
    built = CutSet.from_manifests(recordings=recordings, supervisions=supervisions)
    stored = CutSet.from_file(exports / "lhotse" / f"cuts_{split}.jsonl.gz")
    made = {c.recording_id: [s.id for s in c.supervisions] for c in built}
    if made != {c.recording_id: [s.id for s in c.supervisions] for c in stored}:
        fail(f"lhotse {split}: the stored cuts and those built from the manifests differ")
    for cut in stored:
        samples = cut.load_audio()
        if samples.shape[0] != 1 or abs(samples.shape[1] / cut.sampling_rate - cut.duration) > 0.002:
            fail(f"lhotse {cut.id}: audio {samples.shape} at {cut.sampling_rate} Hz for {cut.duration} s")
        (sup,) = cut.supervisions
        if sup.speaker != clips[cut.id]["speaker_name"] or sup.text.split() != clips[cut.id]["text"].split():
            fail(f"lhotse {cut.id}: {sup.speaker} {sup.text!r}")
        words = sup.alignment["word"]
        if not words or any(w.start < 0 or w.end > cut.duration + 0.01 for w in words):
            fail(f"lhotse {cut.id}: word alignment {words}")
        got[cut.id] = split
same_clips("lhotse", got)
if got != hf:
    fail("lhotse and hf split the clips differently")

# WebDataset: every shard through the library's own pipeline, audio decoded from the .wav member.
import io  # noqa: E402
import soundfile  # noqa: E402
import webdataset as wds  # noqa: E402

got = {}
shards = sorted(str(p) for p in (exports / "webdataset").glob("*.tar"))
for sample in wds.WebDataset(shards, shardshuffle=False):
    meta = json.loads(sample["json"])
    samples, rate = soundfile.read(io.BytesIO(sample["wav"]))
    if rate != card_rate or abs(len(samples) / rate - meta["duration"]) > 0.002:
        fail(f"webdataset {meta['id']}: {len(samples)} samples at {rate} Hz for {meta['duration']} s")
    if sample["txt"].decode() != meta["text"] or meta["text"].split() != clips[meta["id"]]["text"].split():
        fail(f"webdataset {meta['id']}: text")
    got[meta["id"]] = os.path.basename(sample["__url__"]).split("-")[0]
same_clips("webdataset", got)
if got != hf:
    fail("webdataset and hf split the clips differently")

# Piper: piper1-gpl's own data module reads metadata.csv and the audio, phonemises every text with espeak-ng
# and caches the tensors training starts from; one training batch is collated.
from piper.train.vits.dataset import VitsDataModule  # noqa: E402

piper = json.load(open(exports / "piper" / "dataset.json"))
with tempfile.TemporaryDirectory() as work:
    data = VitsDataModule(
        csv_path=piper["csv_path"],
        audio_dir=piper["audio_dir"],
        cache_dir=os.path.join(work, "cache"),
        config_path=os.path.join(work, "voice.onnx.json"),
        espeak_voice=piper["espeak_voice"],
        voice_name=piper["voice_name"],
        sample_rate=piper["sample_rate"],
        num_speakers=piper["num_speakers"],
        batch_size=2,
        validation_split=0.0,
        num_test_examples=0,
        num_workers=0,
    )
    data.prepare_data()
    data.setup("fit")
    cached = sorted(p.name for p in Path(work, "cache").glob("*.phonemes.pt"))
    if len(cached) != len(clips):
        fail(f"piper: {len(cached)} clips phonemised, {len(clips)} exported")
    batch = next(iter(data.train_dataloader()))
    if batch.phoneme_ids.shape[0] != min(2, len(clips)):
        fail(f"piper: a batch of {batch.phoneme_ids.shape}")
    config = json.load(open(os.path.join(work, "voice.onnx.json")))
    if config["num_speakers"] != piper["num_speakers"] or config["audio"]["sample_rate"] != piper["sample_rate"]:
        fail(f"piper: config {config['num_speakers']} speakers, {config['audio']['sample_rate']} Hz")
checked.append("piper")

print(f"check_exports: {len(clips)} clips read back by {', '.join(checked)}")
