#!/usr/bin/env bash
# `make test-train`: voxmill train end to end with the real trainer (piper-tts[train] 1.8, installed by voxmill
# itself from crates/voxmill-train/locks/piper.txt into $VOXMILL_HOME/trainers: about 7.5 GB once). It synthesises
# a small one-voice recording with espeak-ng, runs voxmill on it, trains a Piper voice from scratch on CPU with a
# checkpoint every step, kills voxmill with SIGKILL once a checkpoint is saved, checks the run shows as interrupted,
# resumes it (the step counter must continue from the checkpoint, not start over), and checks the exported voice:
# its ONNX and config, the sample voxmill had Piper read, and a second WAV that Piper itself synthesises from the
# voice here, for length and sound. Prints the time per step and the trainer's peak memory.
set -euo pipefail
VOXMILL="${VOXMILL:-target/release/voxmill}"
VOXMILL="$(realpath "$VOXMILL")"
export VOXMILL_HOME="${VOXMILL_HOME:-$HOME/.local/share/voxmill}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
say() { printf '\033[1mtest-train:\033[0m %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

say "synthesising a recording and running voxmill on it"
text="The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore. A stitch in time saves \
nine. Every cloud has a silver lining today. We walked along the river until sunset. The old clock on the wall \
struck twelve. Bright stars filled the quiet night sky. He opened the window and felt the breeze. Rain fell softly \
on the garden all night. The children laughed as the kite rose higher."
espeak-ng -v en-us -s 150 -w "$work/reading.wav" "$text"
# English: asr.language = "en" has asr.model = "auto" take Whisper tiny.en.
"$VOXMILL" -q init "$work/proj"
sed -i 's/^language = .*/language = "en"/' "$work/proj/voxmill.toml"
"$VOXMILL" -q run "$work/reading.wav" --out "$work/proj"
clips=$("$VOXMILL" review "$work/proj" --json | python3 -c 'import json,sys; print(sum(json.loads(l)["verdict"] == "accepted" for l in sys.stdin))')
say "$clips accepted clips"
[ "$clips" -ge 6 ] || fail "expected at least 6 accepted clips, got $clips"
# a checkpoint every step, so that the kill below lands between two of them
sed -i 's/^checkpoint_every = .*/checkpoint_every = 1/' "$work/proj/voxmill.toml"

status() { "$VOXMILL" train "$work/proj" status --json; }
field() { python3 -c "import json,sys; r=json.load(sys.stdin)['runs']; print(r[0]['$1'] if r else '')"; }

say "training from scratch on CPU (4 steps, batch 2); the trainer is installed first if it is not there"
start=$(date +%s)
"$VOXMILL" train "$work/proj" --recipe piper --from-scratch --max-steps 4 --batch-size 2 --device cpu \
  > "$work/first.out" 2>&1 &
pid=$!
killed_at=""
for _ in $(seq 1 7200); do
  step=$(status | field resume_step)
  if [ -n "$step" ] && [ "$step" != "None" ] && [ "$step" -ge 1 ]; then killed_at=$step; break; fi
  kill -0 "$pid" 2>/dev/null || { cat "$work/first.out" >&2; fail "voxmill train exited before a checkpoint"; }
  sleep 0.5
done
[ -n "$killed_at" ] || fail "no checkpoint within an hour"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
say "killed voxmill (SIGKILL) with the checkpoint of step $killed_at saved"
state=$(status | field state)
[ "$state" = "interrupted" ] || fail "after the kill the run is '$state', not 'interrupted'"
# The trainer gets SIGTERM when voxmill dies: it finishes its step, saves last.ckpt and exits.
for _ in $(seq 1 240); do pgrep -f "$work/proj/training" >/dev/null || break; sleep 0.5; done
pgrep -f "$work/proj/training" >/dev/null && fail "the trainer kept running two minutes after voxmill died"
saved=$(status | field resume_step)
say "the trainer saved step $saved and exited after voxmill died"

say "resuming from the checkpoint of step $saved"
python3 - "$work/resume.jsonl" "$VOXMILL" train "$work/proj" --resume --json <<'EOF'
# runs the command with stdout to the file and prints the peak memory of its largest process (the trainer)
import resource, subprocess, sys
with open(sys.argv[1], "w") as out:
    code = subprocess.call([sys.argv[2], *sys.argv[3:]], stdout=out)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"peak memory of the trainer: {peak:.0f} MB", file=sys.stderr)
sys.exit(code)
EOF
end=$(date +%s)
python3 - "$work/resume.jsonl" "$saved" "$work/proj/training/piper-1/events.jsonl" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
saved = int(sys.argv[2])
steps = [l["step"] for l in lines if l.get("event") == "train_progress"]
summary = lines[-1]
assert summary["summary"] == "train", summary
assert summary["resumed_from"] == saved, (summary["resumed_from"], saved)
assert steps and min(steps) > saved, f"after resuming from step {saved} the steps were {steps}: the counter restarted"
assert summary["step"] == 4, summary
assert summary["state"] == "finished", summary
events = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
starts = [e for e in events if e["event"] == "start"]
assert len(starts) == 2 and starts[1]["step"] == saved, starts
secs = [e["secs"] for e in events if e["event"] == "step" and e.get("secs")]
print(f"steps after resume: {sorted(set(steps))}; seconds per step: {min(secs):.1f}-{max(secs):.1f}")
EOF

say "checking the voice"
voice="$work/proj/voices/proj-piper-1.onnx"
[ -s "$voice" ] && [ -s "$voice.json" ] || fail "no voice in $work/proj/voices: $(ls "$work/proj/voices" 2>&1)"
[ -s "$work/proj/voices/proj-piper-1.sample.wav" ] || fail "no sample WAV"
python=$(ls -d "$VOXMILL_HOME"/trainers/piper-*/bin/python | head -1)
echo "Piper reads this with a voice voxmill trained." > "$work/line.txt"
"$python" -m piper --model "$voice" --config "$voice.json" --input-file "$work/line.txt" --output-file "$work/piper.wav" \
  2>/dev/null
for wav in "$work/proj/voices/proj-piper-1.sample.wav" "$work/piper.wav"; do
  python3 - "$wav" <<'EOF'
import array, math, sys, wave
w = wave.open(sys.argv[1])
assert w.getsampwidth() == 2 and w.getnchannels() == 1, (w.getsampwidth(), w.getnchannels())
frames = w.readframes(w.getnframes())
samples = array.array("h", frames)
secs = len(samples) / w.getframerate()
rms = math.sqrt(sum(s * s for s in samples) / max(1, len(samples))) / 32768
assert secs > 0.5, f"{sys.argv[1]}: {secs:.2f} s is too short"
assert rms > 1e-3, f"{sys.argv[1]}: RMS {rms:.5f} is silence"
print(f"{sys.argv[1].rsplit('/', 1)[-1]}: {secs:.2f} s at {w.getframerate()} Hz, RMS {rms:.3f}")
EOF
done
"$VOXMILL" train "$work/proj" status

say "fine-tuning from the first run's checkpoint (--base) and stopping it with \`voxmill train P stop\`"
cp "$work/proj/training/piper-1/checkpoints/last.ckpt" "$work/base.ckpt"
"$VOXMILL" train "$work/proj" --base "$work/base.ckpt" --max-steps 1000 --batch-size 2 --device cpu \
  > "$work/second.out" 2>&1 &
pid=$!
for _ in $(seq 1 1200); do
  # piper-2 exists once its clips are exported
  step=$("$VOXMILL" train "$work/proj" status piper-2 --json 2>/dev/null | field resume_step 2>/dev/null || true)
  [ -n "$step" ] && [ "$step" != "None" ] && [ "$step" -ge 1 ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/second.out" >&2; fail "the fine-tuning run exited early"; }
  sleep 0.5
done
grep -q "Copied .* parameters from $work/base.ckpt" "$work/proj/training/piper-2/trainer.log" \
  || fail "piper-2 did not warm-start from --base (trainer.log says nothing of it)"
"$VOXMILL" train "$work/proj" stop
wait "$pid" || fail "voxmill train exited with an error after stop: $(tail -5 "$work/second.out")"
state=$("$VOXMILL" train "$work/proj" status piper-2 --json | field state)
[ "$state" = "stopped" ] || fail "after stop piper-2 is '$state'"
grep -q "stopped at step" "$work/second.out" || fail "no stop message: $(tail -3 "$work/second.out")"
say "piper-2 stopped at step $("$VOXMILL" train "$work/proj" status piper-2 --json | field step), checkpoint kept"
du -sh "$work/proj/training/piper-1" "$VOXMILL_HOME"/trainers/piper-* | sed 's/^/  /' >&2
say "all checks passed in $((end - start)) s of training (install included when it ran)"
