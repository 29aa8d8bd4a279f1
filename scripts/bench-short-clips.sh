#!/usr/bin/env bash
# Is a folder of short recordings transcribed as fast per audio second as one long recording?
#
# Cuts VOXMILL_BENCH_CLIPS (default 200) clips of 3-15 s out of the real recordings scripts/setup.sh installs
# ($VOXMILL_HOME/real/silero/{aepyx,test}.wav and real/ami/trn00-09.wav). The cuts are deterministic (a fixed
# seed) and lie in pauses: in the middle of the gaps between the speech regions voxmill's own VAD finds, or of the
# silences (80 ms or more) it measures between words (a clip whose speech runs on for 15 s without one is cut at
# 15 s, and counted). The same clips, joined in order, make one long file.
# Then, each in a fresh project, `voxmill init` + `voxmill add` + `voxmill run --until transcribe` on
# (a) the folder of clips and (b) the long file, and prints for both the wall time of the run, the audio seconds,
# the seconds per audio second and the peak RSS (/usr/bin/time -v, when installed), and their ratio
# (short folder / long file; 1.0 = short files cost no more per audio second than one long file).
# The timed runs log at VOXMILL_LOG (default: info, and debug for voxmill_asr and voxmill_pipeline, which gives the
# seconds each ASR batch spent encoding, generating and aligning) into VOXMILL_BENCH_OUT/{short,long}.log.
#
#   scripts/bench-short-clips.sh [extra `voxmill run` options, e.g. --jobs 1]
#
# VOXMILL_BIN names the binary (default target/release/voxmill, `make build`); the clips, the projects and each
# run's log stay in VOXMILL_BENCH_OUT (default /tmp/voxmill-bench-short).
set -euo pipefail
home="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
real="$home/real"
out="${VOXMILL_BENCH_OUT:-/tmp/voxmill-bench-short}"
count="${VOXMILL_BENCH_CLIPS:-200}"
bin="${VOXMILL_BIN:-target/release/voxmill}"
[ -f "$real/.complete" ] || { echo "bench-short-clips: no real recordings under $real; run scripts/setup.sh" >&2; exit 1; }
[ -x "$bin" ] || { echo "bench-short-clips: $bin is not built; run make build" >&2; exit 1; }
command -v sox >/dev/null || { echo "bench-short-clips: sox is needed; run scripts/setup.sh" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
log="${VOXMILL_LOG:-info,voxmill_asr=debug,voxmill_pipeline=debug}"
unset VOXMILL_LOG
mkdir -p "$out"
sources=("$real/silero/aepyx.wav" "$real/silero/test.wav" "$real"/ami/trn0[0-9].wav)

# 1. Where the pauses are: voxmill's VAD over the real recordings (fast: no Whisper).
rm -rf "$out/vad"
"$bin" --quiet init "$out/vad"
"$bin" --quiet add "$out/vad" "${sources[@]}"
"$bin" --quiet run "$out/vad" --until vad

# 2. Deterministic cuts in those pauses, then the clips and the long file.
rm -rf "$out/clips" "$out/long"
mkdir -p "$out/clips" "$out/long"
python3 - "$out/vad/voxmill.db" "$count" > "$out/cuts.tsv" <<'PY'
import random, sqlite3, sys
db, count = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
rng = random.Random(20261128)
recordings = db.execute("SELECT id, source_path, duration_secs FROM recordings ORDER BY source_path").fetchall()
pauses = {}
for rid, _, duration in recordings:
    regions = db.execute("SELECT start, end FROM speech_regions WHERE recording_id = ? ORDER BY idx", (rid,)).fetchall()
    ends = [0.0] + [e for _, e in regions]
    starts = [s for s, _ in regions] + [duration]
    # The middle of every gap between speech regions (and of the lead-in and the tail), and of every silence
    # (80 ms or more below the silence floor: the pauses between words inside a region).
    gaps = [(a, b) for a, b in zip(ends, starts) if b > a]
    gaps += db.execute("SELECT start, end FROM silences WHERE recording_id = ?", (rid,)).fetchall()
    pauses[rid] = sorted({round((a + b) / 2, 3) for a, b in gaps})
cuts, seen, chopped = [], set(), 0
for rotation in range(1000):
    for rid, path, duration in recordings:
        points = pauses[rid]
        if not points:
            continue
        # Each pass over a recording starts at a different pause, so its clips differ from the last pass's.
        t = points[(rotation * 3) % len(points)]
        while len(cuts) < count and t + 3.0 <= duration:
            target = t + rng.uniform(3.0, 15.0)
            inside = [p for p in points if t + 3.0 <= p <= t + 15.0]
            end = min(inside, key=lambda p: abs(p - target)) if inside else round(min(target, duration), 3)
            chopped += not inside
            if (path, t, end) not in seen:
                seen.add((path, t, end))
                cuts.append((path, t, end))
            t = end
    if len(cuts) >= count:
        break
for i, (path, a, b) in enumerate(cuts[:count]):
    print(f"clip-{i:03d}\t{path}\t{a:.3f}\t{b:.3f}")
print(f"bench-short-clips: {len(cuts[:count])} clips; {chopped} cut outside a pause (speech ran on past 15 s)",
      file=sys.stderr)
PY
clips=()
while IFS=$'\t' read -r name path start end; do
    sox "$path" "$out/clips/$name.wav" trim "$start" "=$end"
    clips+=("$out/clips/$name.wav")
done < "$out/cuts.tsv"
sox "${clips[@]}" "$out/long/long.wav"

# 3. Each input in a fresh project: init, add, then the timed run up to transcription.
# measure NAME INPUT: prints "NAME recordings audio_s add_s run_s run_s/audio_s rss_MB".
measure() {
    local name="$1" input="$2"
    local project="$out/$name-project"
    rm -rf "$project"
    "$bin" --quiet init "$project"
    # Short recordings share Whisper windows (asr.pack_recordings, on by default); VOXMILL_BENCH_PACK=false
    # measures each recording in windows of its own.
    # The inputs are English: asr.language = "en" has asr.model = "auto" take Whisper tiny.en, as measured.
    # VOXMILL_BENCH_LANGUAGE= (empty) measures a fresh project's default instead: the multilingual Whisper base
    # with each window's language detected.
    sed -i "s/^pack_recordings = .*/pack_recordings = ${VOXMILL_BENCH_PACK:-true}/; s/^language = .*/language = \"${VOXMILL_BENCH_LANGUAGE-en}\"/" \
        "$project/voxmill.toml"
    local t0 t1 t2
    t0=$(date +%s.%N)
    "$bin" --quiet add "$project" "$input"
    t1=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
        VOXMILL_LOG="$log" /usr/bin/time -v -o "$out/$name.time" \
            "$bin" --quiet run "$project" --until transcribe "${extra[@]}" > "$out/$name.log" 2>&1
    else
        VOXMILL_LOG="$log" "$bin" --quiet run "$project" --until transcribe "${extra[@]}" > "$out/$name.log" 2>&1
        : > "$out/$name.time"
    fi
    t2=$(date +%s.%N)
    local load
    load=$(cut -d' ' -f2 /proc/loadavg 2>/dev/null || echo -)
    python3 - "$name" "$project/voxmill.db" "$t0" "$t1" "$t2" "$out/$name.time" "$load" <<'PY'
import re, sqlite3, sys
name, db, t0, t1, t2, timefile, load = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6]), *sys.argv[6:8]
db = sqlite3.connect(db)
recordings, audio = db.execute("SELECT count(*), sum(duration_secs) FROM recordings").fetchone()
failed = db.execute("SELECT count(*) FROM stage_runs WHERE state = 'failed'").fetchone()[0]
done = db.execute("SELECT count(*) FROM stage_runs WHERE stage = 'transcribe' AND state = 'done'").fetchone()[0]
words = db.execute("SELECT count(*) FROM words").fetchone()[0]
rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timefile).read())
rss = f"{int(rss.group(1)) / 1024:.0f}" if rss else "-"
run = t2 - t1
print(f"{name:<7} {recordings:5d} {audio:8.1f} {t1 - t0:7.2f} {run:8.2f} {run / audio:10.4f} {rss:>7} {words:6d} {load:>6}")
if failed or done != recordings:
    sys.exit(f"bench-short-clips: {name}: {failed} failed stages, {done} of {recordings} transcribed; see its log")
PY
}
extra=("$@")
printf '%-7s %5s %8s %7s %8s %10s %7s %6s %6s\n' input recs audio_s add_s run_s s/audio_s rss_MB words load5
short=$(measure short "$out/clips")
echo "$short"
long=$(measure long "$out/long/long.wav")
echo "$long"
awk -v s="$short" -v l="$long" 'BEGIN { split(s, a, " "); split(l, b, " ");
    printf "ratio (short s/audio_s / long s/audio_s): %.2f\n", a[6] / b[6] }'
echo "(run_s: wall time of \`voxmill run --until transcribe\` (standardize, vad, transcribe); load5: the machine's"
echo " 5-minute load average when the run ended, $(nproc) cores: other work on them slows both runs; logs: $out/{short,long}.log)"
