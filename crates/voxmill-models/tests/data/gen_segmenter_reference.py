# Builds segmenter_reference.json: random speech-probability sequences and the regions (in samples) that
# silero-vad's own get_speech_timestamps_from_probs returns for them. Developer tooling, not run by the tests:
#
#   pip download silero-vad==6.2.3 --no-deps -d /tmp/sv && unzip -o /tmp/sv/*.whl silero_vad/utils_vad.py -d /tmp/sv
#   python3 gen_segmenter_reference.py /tmp/sv/silero_vad/utils_vad.py segmenter_reference.json
#
# utils_vad.py imports torch at module level but the function used here needs neither torch nor numpy, so a stub
# module stands in for torch. Probabilities end in 5e-4 so none sits exactly on a threshold (f32 vs f64 rounding).
import json, random, sys, types
t = types.ModuleType('torch'); t.Tensor = object; t.__getattr__ = lambda name: (lambda *a, **k: None) if name != 'jit' else None; t.device = lambda *a, **k: None; t.no_grad = lambda *a, **k: (lambda f: f); sys.modules['torch'] = t
pk = types.ModuleType('packaging'); pk.version = types.SimpleNamespace(parse=lambda v: v)
sys.modules['packaging'] = pk
src = open(sys.argv[1]).read()
ns = {}
exec(compile(src, 'utils_vad.py', 'exec'), ns)
ref = ns['get_speech_timestamps_from_probs']
random.seed(7)
def seq(n):
    out = []
    speech = False
    while len(out) < n:
        run = random.choice([1, 2, 3, 4, 6, 10, 20, 40, 80, 200, 600])
        for _ in range(run):
            if speech:
                p = random.choice([random.uniform(0.5, 1.0)] * 6 + [random.uniform(0.2, 0.5)] * 2 + [random.uniform(0, 0.35)])
            else:
                p = random.choice([random.uniform(0, 0.3)] * 8 + [random.uniform(0.3, 0.6)] + [random.uniform(0.5, 1)])
            out.append(round(p, 3) + 0.0005)
        speech = not speech
    return out[:n]
cases = []
optsets = [
    {},
    {"max_speech_s": 5.0},
    {"max_speech_s": 2.0, "min_silence_ms": 300},
    {"threshold": 0.6, "neg_threshold": 0.3, "speech_pad_ms": 100, "min_speech_ms": 100},
    {"speech_pad_ms": 0, "min_silence_ms": 0},
    {"max_speech_s": 1.5, "speech_pad_ms": 200},
]
for i, o in enumerate(optsets * 3):
    probs = seq(random.choice([50, 700, 3000]))
    total = len(probs) * 512 - random.randrange(0, 512)
    kw = dict(threshold=o.get("threshold", 0.5), min_speech_duration_ms=o.get("min_speech_ms", 250),
              max_speech_duration_s=o.get("max_speech_s", float('inf')), min_silence_duration_ms=o.get("min_silence_ms", 100),
              speech_pad_ms=o.get("speech_pad_ms", 30), neg_threshold=o.get("neg_threshold"))
    got = ref(probs, sampling_rate=16000, audio_length_samples=total, **kw)
    cases.append({"opts": o, "total": total, "probs": probs, "expected": [[s['start'], s['end']] for s in got]})
json.dump({"source": "silero-vad 6.2.3 get_speech_timestamps_from_probs", "cases": cases}, open(sys.argv[2], 'w'))
print(sum(len(c['expected']) for c in cases), "regions in", len(cases), "cases")
