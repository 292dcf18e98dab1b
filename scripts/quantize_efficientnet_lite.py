"""Quantize a pixfly EfficientNet-Lite ONNX model to int8 (static, calibrated), for fast CPUs.

EfficientNet-Lite was designed for post-training integer quantization (ReLU6, no squeeze-excite).
Weights become int8 per output channel, activations uint8 with ranges measured on a fixed list
of calibration images (prepared as pixfly prepares them: the centre square of `crop_fraction`
of the shorter side, bicubic to the input size). The result keeps the float model's `pixfly.*`
metadata under a model id of its own (`efficientnet-lite0-int8`), so its vectors are cached apart.

ONNX Runtime's quantizer is deterministic for a given model, image list and onnxruntime version,
so the same pins give the same file (scripts/fetch-model.sh checks its sha256).
"""

import argparse
import os
import tempfile

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType
from onnxruntime.quantization import quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image


def metadata(model):
    return {p.key: p.value for p in model.metadata_props}


def prepare(path, size, crop_fraction, mean, std):
    """One picture as the network's NCHW float input, as pixfly's embed/preprocess.rs makes it."""
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        side = min(w, h) * crop_fraction
        box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
        im = im.resize((size, size), Image.Resampling.BICUBIC, box=box)
        x = (np.asarray(im, dtype=np.float32) - mean) / std
    return x.transpose(2, 0, 1)[None]


class Pictures(CalibrationDataReader):
    def __init__(self, paths, info):
        self.pending = iter(paths)
        self.info = info

    def get_next(self):
        path = next(self.pending, None)
        return None if path is None else {"input": prepare(path, *self.info)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--float", required=True, help="the float model from convert_efficientnet_lite.py")
    ap.add_argument("--images", required=True, help="a file listing the calibration images, one path a line")
    ap.add_argument("--output", required=True)
    args = ap.parse_args()

    model = onnx.load(args.float)
    meta = metadata(model)
    info = (
        int(meta["pixfly.input_size"]),
        float(meta["pixfly.crop_fraction"]),
        float(meta["pixfly.mean"]),
        float(meta["pixfly.std"]),
    )
    with open(args.images) as f:
        paths = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    if not paths:
        raise SystemExit(f"{args.images}: no calibration images listed")

    with tempfile.TemporaryDirectory() as tmp:
        prepared = os.path.join(tmp, "prepared.onnx")
        quant_pre_process(args.float, prepared, skip_symbolic_shape=True)
        quantized = os.path.join(tmp, "int8.onnx")
        quantize_static(
            prepared,
            quantized,
            Pictures(paths, info),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        out = onnx.load(quantized)

    # The quantizer drops the metadata: put the float model's back, under its own id.
    meta["pixfly.model_id"] += "-int8"
    meta["pixfly.precision"] = "int8"
    meta["pixfly.source"] += f"; quantized to int8 by onnxruntime, calibrated on {len(paths)} images"
    del out.metadata_props[:]
    for key, value in meta.items():
        out.metadata_props.add(key=key, value=value)
    onnx.save(out, args.output)


if __name__ == "__main__":
    main()
