"""Reads a zip-format PyTorch checkpoint (`torch.save` since torch 1.6) into numpy arrays, without torch.

Developer tooling shared by scripts/convert_segmentation.py and scripts/convert_campplus.py; voxmill never runs
Python. Needs only numpy.

The file is a zip archive `<name>/data.pkl` + `<name>/data/<key>` + `<name>/version`. The pickle refers to storages
by persistent id `('storage', StorageType, key, location, numel)`, and each `data/<key>` member is that storage's raw
little-endian bytes. Tensors are rebuilt by `torch._utils._rebuild_tensor_v2(storage, offset, shape, stride, ...)`.
Every other class the pickle names (a Lightning checkpoint's task specifications, torch's version string) is
replaced by an inert stand-in that only records its arguments: nothing from the checkpoint is ever imported or run.
"""

import collections
import pickle
import zipfile

import numpy as np

STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": None,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class CheckpointError(Exception):
    """The file is not a checkpoint this reader understands."""


class StorageType:
    """Stands for `torch.FloatStorage` and friends: only its element type matters."""

    def __init__(self, name):
        if STORAGE_DTYPES.get(name) is None:
            raise CheckpointError(f"unsupported storage type torch.{name}")
        self.dtype = np.dtype(STORAGE_DTYPES[name]).newbyteorder("<")


class Inert:
    """Any other class named in the pickle: keeps its arguments and state, does nothing."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __setstate__(self, state):
        self.state = state


def rebuild_tensor_v2(storage, offset, shape, stride, *_rest):
    """`torch._utils._rebuild_tensor_v2` as a numpy array (a copy, in C order)."""
    data = storage
    shape = tuple(shape)
    if not shape:
        return data[offset].copy()
    view = np.lib.stride_tricks.as_strided(
        data[offset:], shape=shape, strides=tuple(s * data.itemsize for s in stride), writeable=False
    )
    return np.array(view)


def rebuild_parameter(data, _requires_grad, _hooks, *_rest):
    return data


class ZipUnpickler(pickle.Unpickler):
    def __init__(self, stream, archive, prefix):
        super().__init__(stream)
        self.archive = archive
        self.prefix = prefix
        self.storages = {}

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        return type(name, (Inert,), {"__module__": "inert." + module})

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise CheckpointError(f"unexpected persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid[:5]
        if not isinstance(storage_type, StorageType):
            raise CheckpointError(f"storage {key} has an unknown type")
        if key not in self.storages:
            raw = self.archive.read(f"{self.prefix}data/{key}")
            data = np.frombuffer(raw, dtype=storage_type.dtype)
            if data.size != numel:
                raise CheckpointError(f"storage {key} holds {data.size} elements, the pickle says {numel}")
            self.storages[key] = data
        return self.storages[key]


def load(path):
    """The checkpoint's top-level object, with every tensor as a numpy array."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise CheckpointError(f"{path}: not a zip-format torch checkpoint ({e})") from e
    with archive:
        pkl = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise CheckpointError(f"{path}: no data.pkl in the archive")
        prefix = pkl[0][: -len("data.pkl")]
        with archive.open(pkl[0]) as stream:
            return ZipUnpickler(stream, archive, prefix).load()


def state_dict(path, expected):
    """The float32 weights named in `expected` ({name: shape}) from the checkpoint's `state_dict` (or the top-level
    dict), checked against those shapes. Exits with a clear message when something is missing or misshapen."""
    import sys

    try:
        top = load(path)
    except CheckpointError as e:
        sys.exit(str(e))
    state = top.get("state_dict", top) if isinstance(top, dict) else None
    if not isinstance(state, dict):
        sys.exit(f"{path}: no state dict in the checkpoint")
    weights = {}
    for name, shape in expected.items():
        if name not in state:
            sys.exit(f"{path}: {name} is missing; is this the right checkpoint?")
        w = np.asarray(state[name], dtype=np.float32)
        if w.shape != tuple(shape):
            sys.exit(f"{path}: {name} has shape {w.shape}, expected {tuple(shape)}")
        weights[name] = w
    return weights, top


def read_wav(path):
    """A mono WAV (16-bit PCM or 32-bit float) as float32 samples in [-1, 1] and its sample rate."""
    import struct

    with open(path, "rb") as f:
        raw = f.read()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a WAV file")
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        body = raw[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = list(struct.unpack("<HHIIHH", body[:16]))
            if fmt[0] == 0xFFFE and len(body) >= 26:
                # WAVE_FORMAT_EXTENSIBLE: the real format tag opens the sub-format GUID.
                fmt[0] = struct.unpack("<H", body[24:26])[0]
        elif cid == b"data":
            data = body
        pos += 8 + size + (size & 1)
    if fmt is None or data is None:
        raise ValueError(f"{path}: no fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    if tag == 3 and bits == 32:
        x = np.frombuffer(data, dtype="<f4")
    elif tag == 1 and bits == 16:
        x = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    else:
        raise ValueError(f"{path}: unsupported WAV format (tag {tag}, {bits} bits)")
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    return x.astype(np.float32), rate
