#!/usr/bin/env python3
"""Converts Resemblyzer's GE2E speaker encoder (`resemblyzer/pretrained.pt`) to ONNX, without torch.

Developer tooling, run once by scripts/setup.sh; voxmill itself never runs Python. Needs numpy and `onnx`;
`--check` also needs onnxruntime (a throwaway venv is enough).

    convert_ge2e.py pretrained.pt ge2e.onnx [--check]

The checkpoint is a *legacy* (pre-zip) torch pickle stream:
    magic number | protocol version | system info | main pickle | storage keys | storages,
where the main pickle refers to storages by persistent id and each storage is an int64 element count followed by
raw little-endian data. A small `pickle.Unpickler` subclass rebuilds the tensors as numpy arrays.

The model (resemblyzer/voice_encoder.py, hparams.py): 3-layer LSTM (hidden 256) over 40 mel bands, the final hidden
state of the last layer -> linear 256 -> ReLU -> L2 normalisation. The ONNX graph takes `mels` float
[batch, frames, 40] and gives `embedding` float [batch, 256]; batch and frames are dynamic.
"""

import argparse
import collections
import io
import pickle
import struct
import sys

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
HIDDEN = 256
MEL_BANDS = 40
LAYERS = 3
OPSET = 17

# Element types of the storages this checkpoint can hold.
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class StorageType:
    """Stands for `torch.FloatStorage` and friends: only its element type matters."""

    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]


class LazyStorage:
    """A storage named in the main pickle; its data is filled in once the data section has been read."""

    def __init__(self, key, dtype, size):
        self.key = key
        self.dtype = dtype
        self.size = size
        self.data = None


class LazyTensor:
    """`torch._utils._rebuild_tensor_v2`'s arguments, materialised after the storages are read."""

    def __init__(self, storage, offset, shape, stride):
        self.storage = storage
        self.offset = offset
        self.shape = tuple(shape)
        self.stride = tuple(stride)

    def numpy(self):
        data = self.storage.data
        if data is None:
            raise ValueError(f"storage {self.storage.key} was never read")
        item = data.itemsize
        if not self.shape:
            return data[self.offset].copy()
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.shape, strides=tuple(s * item for s in self.stride)
        )
        return np.array(view)


def rebuild_tensor_v2(storage, offset, shape, stride, requires_grad=False, backward_hooks=None, *rest):
    return LazyTensor(storage, offset, shape, stride)


class LegacyUnpickler(pickle.Unpickler):
    """Reads the main pickle of a legacy torch checkpoint into LazyTensors, importing nothing from torch."""

    def __init__(self, stream, storages):
        super().__init__(stream)
        self.storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the checkpoint")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, storage_type, key, _location, size = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        if key not in self.storages:
            self.storages[key] = LazyStorage(key, storage_type.dtype, size)
        return self.storages[key]


def materialise(obj):
    """Replaces every LazyTensor inside dicts, lists and tuples by its numpy array."""
    if isinstance(obj, LazyTensor):
        return obj.numpy()
    if isinstance(obj, dict):
        return type(obj)((k, materialise(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(materialise(v) for v in obj)
    return obj


def load_legacy_checkpoint(path):
    """Loads a legacy (non-zip) torch checkpoint into plain Python objects with numpy arrays."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"PK":
        sys.exit(f"{path}: this is a zip-format torch checkpoint; this reader handles only the legacy format")
    stream = io.BytesIO(raw)
    magic = pickle.load(stream)
    if magic != LEGACY_MAGIC:
        sys.exit(f"{path}: not a legacy torch checkpoint (bad magic number); re-download resemblyzer==0.1.4")
    protocol = pickle.load(stream)
    if protocol != 1001:
        sys.exit(f"{path}: unsupported torch protocol version {protocol}")
    sys_info = pickle.load(stream)
    if not sys_info.get("little_endian", True):
        sys.exit(f"{path}: big-endian checkpoints are not supported")
    storages = {}
    result = LegacyUnpickler(stream, storages).load()
    keys = pickle.load(stream)
    for key in keys:
        (count,) = struct.unpack("<q", stream.read(8))
        storage = storages[key]
        nbytes = count * np.dtype(storage.dtype).itemsize
        chunk = stream.read(nbytes)
        if len(chunk) != nbytes:
            sys.exit(f"{path}: truncated storage {key}; re-download resemblyzer==0.1.4")
        storage.data = np.frombuffer(chunk, dtype=np.dtype(storage.dtype).newbyteorder("<"))
    return materialise(result)


def ge2e_weights(path):
    """The encoder's weights as float32 numpy arrays, checked against the expected shapes."""
    checkpoint = load_legacy_checkpoint(path)
    state = checkpoint["model_state"] if "model_state" in checkpoint else checkpoint
    expected = {"linear.weight": (HIDDEN, HIDDEN), "linear.bias": (HIDDEN,)}
    for layer in range(LAYERS):
        inputs = MEL_BANDS if layer == 0 else HIDDEN
        expected[f"lstm.weight_ih_l{layer}"] = (4 * HIDDEN, inputs)
        expected[f"lstm.weight_hh_l{layer}"] = (4 * HIDDEN, HIDDEN)
        expected[f"lstm.bias_ih_l{layer}"] = (4 * HIDDEN,)
        expected[f"lstm.bias_hh_l{layer}"] = (4 * HIDDEN,)
    weights = {}
    for name, shape in expected.items():
        if name not in state:
            sys.exit(f"{path}: {name} is missing; is this Resemblyzer's pretrained.pt?")
        w = np.asarray(state[name], dtype=np.float32)
        if w.shape != shape:
            sys.exit(f"{path}: {name} has shape {w.shape}, expected {shape}")
        weights[name] = w
    return weights


def torch_to_onnx_gates(w):
    """Reorders the four gate blocks along axis 0 from torch's (i, f, g, o) to ONNX's (i, o, f, c)."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def build_onnx(weights):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = []
    nodes = []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    nodes.append(helper.make_node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2], name="to_time_major"))
    x = "x0"
    y_h = None
    for layer in range(LAYERS):
        w = const(f"W{layer}", torch_to_onnx_gates(weights[f"lstm.weight_ih_l{layer}"])[None])
        r = const(f"R{layer}", torch_to_onnx_gates(weights[f"lstm.weight_hh_l{layer}"])[None])
        b = np.concatenate(
            [
                torch_to_onnx_gates(weights[f"lstm.bias_ih_l{layer}"]),
                torch_to_onnx_gates(weights[f"lstm.bias_hh_l{layer}"]),
            ]
        )[None]
        b = const(f"B{layer}", b)
        y, y_h = f"y{layer}", f"y_h{layer}"
        nodes.append(
            helper.make_node("LSTM", [x, w, r, b], [y, y_h], hidden_size=HIDDEN, direction="forward", name=f"lstm{layer}")
        )
        if layer + 1 < LAYERS:
            # Y is [frames, 1 direction, batch, hidden]: drop the direction axis for the next layer.
            axes = const(f"squeeze_axes{layer}", np.array([1], dtype=np.int64))
            nodes.append(helper.make_node("Squeeze", [y, axes], [f"x{layer + 1}"], name=f"squeeze{layer}"))
            x = f"x{layer + 1}"
    axes = const("squeeze_dir", np.array([0], dtype=np.int64))
    nodes.append(helper.make_node("Squeeze", [y_h, axes], ["hidden"], name="last_hidden"))
    nodes.append(
        helper.make_node(
            "Gemm",
            ["hidden", const("linear_w", weights["linear.weight"]), const("linear_b", weights["linear.bias"])],
            ["linear"],
            transB=1,
            name="linear",
        )
    )
    nodes.append(helper.make_node("Relu", ["linear"], ["raw"], name="relu"))
    # raw / max(||raw||, eps): like torch's division by the norm, but an all-zero vector stays zero
    # instead of becoming NaN.
    nodes.append(helper.make_node("ReduceL2", ["raw"], ["norm"], axes=[1], keepdims=1, name="norm"))
    eps = const("eps", np.array(1e-12, dtype=np.float32))
    nodes.append(helper.make_node("Max", ["norm", eps], ["safe_norm"], name="safe_norm"))
    nodes.append(helper.make_node("Div", ["raw", "safe_norm"], ["embedding"], name="l2_normalise"))

    graph = helper.make_graph(
        nodes,
        "ge2e_resemblyzer",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["batch", "frames", MEL_BANDS])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="voxmill scripts/convert_ge2e.py",
        doc_string="Resemblyzer 0.1.4 GE2E speaker encoder: 40-band power mel (n_fft 400, hop 160, 16 kHz, no log), "
        "160-frame partial windows",
    )
    model.ir_version = 8
    for key, value in [
        ("voxmill.kind", "ge2e"),
        ("voxmill.sample_rate", "16000"),
        ("voxmill.mel_bands", str(MEL_BANDS)),
        ("voxmill.window_frames", "160"),
        ("voxmill.source", "PyPI resemblyzer==0.1.4 resemblyzer/pretrained.pt"),
    ]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_forward(weights, mels):
    """Reference forward pass in float64, written from torch's LSTM equations (gate order i, f, g, o)."""
    x = mels.astype(np.float64)
    batch, frames, _ = x.shape
    for layer in range(LAYERS):
        w_ih = weights[f"lstm.weight_ih_l{layer}"].astype(np.float64)
        w_hh = weights[f"lstm.weight_hh_l{layer}"].astype(np.float64)
        bias = weights[f"lstm.bias_ih_l{layer}"].astype(np.float64) + weights[f"lstm.bias_hh_l{layer}"]
        h = np.zeros((batch, HIDDEN))
        c = np.zeros((batch, HIDDEN))
        out = np.empty((batch, frames, HIDDEN))
        for t in range(frames):
            gates = x[:, t] @ w_ih.T + h @ w_hh.T + bias
            i, f, g, o = np.split(gates, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            out[:, t] = h
        x = out
    raw = np.maximum(h @ weights["linear.weight"].astype(np.float64).T + weights["linear.bias"], 0.0)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def check(weights, onnx_path):
    """Runs the ONNX file on onnxruntime and compares it with the numpy forward pass."""
    try:
        import onnxruntime as ort
    except ImportError:
        sys.exit("--check needs onnxruntime: pip install onnxruntime (in a throwaway venv)")
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(7)
    worst = 0.0
    for batch, frames in [(1, 160), (3, 160), (2, 57)]:
        # Mel power values span several orders of magnitude, like real speech.
        mels = (rng.random((batch, frames, MEL_BANDS)) ** 4 * 5.0).astype(np.float32)
        got = session.run(["embedding"], {"mels": mels})[0]
        want = numpy_forward(weights, mels)
        err = float(np.abs(got - want).max())
        worst = max(worst, err)
        print(f"check batch {batch} frames {frames}: max |onnx - numpy| = {err:.2e}")
    if worst > 1e-4:
        sys.exit(f"ONNX output differs from the numpy reference by {worst:.2e} (> 1e-4)")
    meta = session.get_modelmeta().custom_metadata_map
    if meta.get("voxmill.kind") != "ge2e":
        sys.exit(f"metadata voxmill.kind is {meta.get('voxmill.kind')!r}, expected 'ge2e'")
    print("check passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="resemblyzer/pretrained.pt (from the resemblyzer==0.1.4 wheel)")
    parser.add_argument("output", help="where to write the ONNX model")
    parser.add_argument("--check", action="store_true", help="compare with a numpy forward pass on onnxruntime")
    args = parser.parse_args()

    weights = ge2e_weights(args.checkpoint)
    model = build_onnx(weights)
    import onnx

    onnx.save(model, args.output)
    print(f"wrote {args.output}")
    if args.check:
        check(weights, args.output)


if __name__ == "__main__":
    main()
