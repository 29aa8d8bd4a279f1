#!/usr/bin/env python3
"""A tiny ONNX model with pyannote segmentation-3.0's signature (input x [B,1,T] at 16 kHz, output y [B,F,7]
log-probabilities over the powerset classes) that "hears" tones instead of voices: 200 Hz is speaker 0, 1000 Hz is
speaker 1, both at once is {0,1}, silence is the empty set. Tests use it to check the segmentation code paths, since
the real model cannot be downloaded here.

usage: tone_segmentation_model.py OUT.onnx [classes=N] [raw] [dynclasses] [batch=N] [len=N] [meta=key:value,...]

A Conv with stride 270 and kernel 991 gives segmentation-3.0's frames; its four filters are Hann-windowed
quadrature pairs at 200 Hz and 1000 Hz scaled so a tone of amplitude A gives A^2 per pair; a 1x1 Conv turns the two
energies e0, e1 into class scores 1000 (e0 - 0.02) for {0}, 1000 (e1 - 0.02) for {1}, their sum for {0,1}, 0 for the
empty set and -100 for the classes with speaker 2. `raw` leaves out the final LogSoftmax; `dynclasses` slices the 7
scores down to samples / 32000 classes at run time, where no shape inference can see it.
"""
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
out, opts = sys.argv[1], dict(a.split("=", 1) if "=" in a else (a, "1") for a in sys.argv[2:])
classes = int(opts.get("classes", 7))
K, S, k, thr = 991, 270, 1000.0, 0.02
t = np.arange(K) / 16000.0
hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(K) / (K - 1))
kern = np.stack([np.sin(2 * np.pi * f * t + ph) * hann * 2 / hann.sum()
                 for f in (200.0, 1000.0) for ph in (0.0, np.pi / 2)])[:, None, :].astype(np.float32)
w = np.zeros((classes, 4, 1), np.float32)
b = np.full(classes, -100.0, np.float32)
b[0] = 0
for c, cols, n in ((1, [0, 1], 1), (2, [2, 3], 1), (4, [0, 1, 2, 3], 2)):
    if c < classes:
        w[c, cols, 0] = k
        b[c] = -n * k * thr
last = "y" if "raw" in opts else "z"
nodes = [helper.make_node("Conv", ["x", "kern"], ["f"], strides=[S]),
         helper.make_node("Mul", ["f", "f"], ["e"]),
         helper.make_node("Conv", ["e", "w", "b"], ["s"]),
         helper.make_node("Transpose", ["s"], ["all" if "dynclasses" in opts else last], perm=[0, 2, 1])]
consts = []
if "dynclasses" in opts:
    consts = [numpy_helper.from_array(np.array(v, np.int64), n)
              for v, n in ((2, "two"), (32000, "per"), ([0], "zero"), ([2], "axis"))]
    nodes += [helper.make_node("Shape", ["x"], ["xs"]),
              helper.make_node("Gather", ["xs", "two"], ["len"]),
              helper.make_node("Div", ["len", "per"], ["k"]),
              helper.make_node("Unsqueeze", ["k", "zero"], ["ends"]),
              helper.make_node("Slice", ["all", "zero", "ends", "axis"], [last])]
if "raw" not in opts:
    nodes.append(helper.make_node("LogSoftmax", ["z"], ["y"], axis=-1))
batch = int(opts["batch"]) if "batch" in opts else "B"
length = int(opts["len"]) if "len" in opts else "T"
frames = (length - K) // S + 1 if "len" in opts else "F"
graph = helper.make_graph(
    nodes, "tones", [helper.make_tensor_value_info("x", T.FLOAT, [batch, 1, length])],
    [helper.make_tensor_value_info("y", T.FLOAT, [batch, frames, "C" if "dynclasses" in opts else classes])],
    initializer=[numpy_helper.from_array(kern, "kern"), numpy_helper.from_array(w, "w"),
                 numpy_helper.from_array(b, "b")] + consts)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
for pair in filter(None, opts.get("meta", "").split(",")):
    key, value = pair.split(":")
    model.metadata_props.add(key=key, value=value)
onnx.checker.check_model(model)
onnx.save(model, out)
