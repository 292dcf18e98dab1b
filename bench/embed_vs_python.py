#!/usr/bin/env python3
"""Embedding throughput: `pixfly build` against the usual Python way of embedding a folder with
the same network, in one run; and a check that both get the same vectors.

Usage: embed_vs_python.py PIXFLY_BINARY COLLECTION_FOLDER [--repeat N]

The Python reference embeds what pixfly embeds: every distinct image file (files are read and
hashed in filename order, and a content seen before is not decoded again; files Pillow cannot
decode are skipped) with the float ONNX model (efficientnet-lite0 from scripts/fetch-model.sh;
pixfly runs its int8 version by default on CPUs with fast integer dot products, and is timed with
`--precision fp32` too, the bundle the agreement check reads), in an onnxruntime InferenceSession on the CPU with one intra-op thread
per core, so the same threads in all as pixfly's one 1-thread session per core. Intra-op spinning
is off, as in pixfly (on the 2-core development machine it made no measurable difference). Each
file is decoded with Pillow (JPEG via Image.draft at the smallest scale that keeps full detail),
EXIF orientation applied, alpha composited on grey 128; the centre square of
`pixfly.crop_fraction` of the shorter side is resized to `pixfly.input_size` with Pillow's bicubic
(Catmull-Rom, like pixfly's), normalised with numpy as the model's metadata says (NCHW float32),
and run in batches of 32. Two variants:
  - sequential: one loop that decodes a batch, then runs it;
  - pipelined: one decoding thread per core (concurrent.futures; Pillow, numpy and onnxruntime
    release the GIL) keeps pictures coming while the session runs the batch before. A
    multiprocessing pool was no faster on the development machine (61-62 against 62-68 images/s).
The timed span starts before the session is loaded and ends with the last batch, as pixfly's
starts with its process and ends with a finished bundle. pixfly's build does more: it also makes
and writes thumbnails and atlases, embeddings.npy, a manifest and its caches.

Each contender runs `--repeat` times (pixfly from a cold cache: a fresh output folder); the best
run counts. Reported: images/s (distinct images embedded / wall time) and pixfly's speed as a
ratio of each variant's. Then, over every image both embedded, how closely the sequential
variant's vectors agree with the rows of pixfly's embeddings.npy (cosine similarity, both
L2-normalised; bicubic resizing and JPEG decoders differ slightly, so expect > 0.98) and how often
the most probable ImageNet class is the same (pixfly's auto_tags[0] against the argmax of the
logits).
"""
import argparse
import collections
import hashlib
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from pillow_common import upright_rgb

EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".gif", ".bmp"}
MODEL = Path(os.environ.get("PIXFLY_CACHE") or Path.home() / ".cache/pixfly") / "models/efficientnet-lite0.onnx"
BATCH = 32


def find_images(root):
    """(name relative to root, '/'-separated; path), sorted by name as pixfly sorts them."""
    paths = (p for p in Path(root).rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    return sorted((p.relative_to(root).as_posix(), p) for p in paths)


class Preprocessing:
    """What the model file says about its input (ONNX metadata `pixfly.*`)."""

    def __init__(self, session):
        meta = session.get_modelmeta().custom_metadata_map
        self.size = int(meta["pixfly.input_size"])
        self.crop = float(meta["pixfly.crop_fraction"])
        self.mean = float(meta["pixfly.mean"])
        self.std = float(meta["pixfly.std"])
        self.min_short = math.ceil(self.size / self.crop)  # the shorter side that keeps full detail

    def picture(self, data):
        """File bytes → size × size × 3 uint8 array, or None when Pillow cannot decode them."""
        try:
            im = Image.open(io.BytesIO(data))
            if im.format == "JPEG":
                w, h = im.size
                need = min(1.0, self.min_short / min(w, h))
                im.draft("RGB", (math.ceil(w * need), math.ceil(h * need)))
            im = upright_rgb(im)
            w, h = im.size
            side = min(w, h) * self.crop
            left, top = (w - side) / 2, (h - side) / 2
            im = im.resize((self.size, self.size), Image.BICUBIC, box=(left, top, left + side, top + side))
            return np.asarray(im)
        except Exception:
            return None

    def batch(self, pictures):
        """uint8 N × H × W × 3 → normalised float32 N × 3 × H × W."""
        x = (np.stack(pictures).astype(np.float32) - self.mean) / self.std
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def load_session():
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])


def distinct(files, names):
    """Read and hash each file in order; yield (digest, bytes) for the first of each content.
    `names` gets every file's digest (duplicates included), to look results up by filename."""
    seen = set()
    for name, path in files:
        data = path.read_bytes()
        digest = hashlib.blake2b(data).hexdigest()
        names[name] = digest
        if digest not in seen:
            seen.add(digest)
            yield digest, data


def in_order(executor, fn, items, ahead):
    """executor.map with at most `ahead` items in flight, so memory stays bounded."""
    pending = collections.deque()
    for item in items:
        pending.append(executor.submit(fn, item))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def in_batches(items, size=BATCH):
    """Lists of `size` items (the last may be shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def python_embed(files, workers):
    """Embed the distinct images of `files`; 0 workers: sequential, else that many decoding
    threads. Returns {filename: digest}, {digest: (unit vector, top-1 class)}."""
    session = load_session()
    prep = Preprocessing(session)
    names, results = {}, {}

    def prepare(item):
        digest, data = item
        return digest, prep.picture(data)

    def run(batch):
        digests, pictures = zip(*batch)
        vectors, logits = session.run(["embedding", "logits"], {"input": prep.batch(pictures)})
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        results.update(zip(digests, zip(vectors, logits.argmax(axis=1))))

    def consume(prepared):
        for batch in in_batches((digest, picture) for digest, picture in prepared if picture is not None):
            run(batch)

    if workers == 0:
        consume(map(prepare, distinct(files, names)))
    else:
        with ThreadPoolExecutor(workers) as pool:
            consume(in_order(pool, prepare, distinct(files, names), 2 * BATCH))
    return names, results


def pixfly_build(binary, collection, out, extra=()):
    """Returns how many images pixfly's network embedded, and the network's name."""
    done = subprocess.run([binary, "build", str(collection), "-o", str(out), *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"pixfly build failed ({done.returncode}):\n{done.stderr[-2000:]}")
    found = re.search(r"^vectors\s+(\d+) computed by (\S+), (\d+) reused", done.stdout, re.M)
    if not found or found[3] != "0":
        sys.exit(f"unexpected pixfly summary (no cold embedding of every image):\n{done.stdout}")
    return int(found[1]), found[2]


def best_of(repeat, run, scratch):
    """Best wall time of `repeat` runs, with the last run's result. Outputs are kept until the
    end: deleting a tree of files just before a run slows down whoever runs next."""
    times = []
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp(dir=scratch)) / "out"
        start = time.perf_counter()
        result = run(out)
        times.append(time.perf_counter() - start)
    return min(times), result, out


def agreement(bundle, names, results):
    """Compare Python's vectors and top-1 classes with those in pixfly's bundle."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    pixfly = np.load(bundle / (manifest.get("embedding") or {}).get("path", "embeddings.npy"))
    cosines, same, missing = [], 0, 0
    for row, image in enumerate(manifest["images"]):
        ours = results.get(names.get(image["filename"]))
        if ours is None:
            missing += 1
            continue
        vector, top1 = ours
        cosines.append((float(pixfly[row] @ vector), image["filename"]))
        same += bool(image.get("auto_tags")) and image["auto_tags"][0][0] == top1
    n = len(cosines)
    worst = min(cosines)
    print(f"agreement with pixfly's embeddings.npy over the {n} images both embedded"
          + (f" ({missing} only pixfly embedded)" if missing else "") + ":")
    print(f"  cosine similarity  mean {sum(c for c, _ in cosines) / n:.4f}, "
          f"below 0.98 for {sum(c < 0.98 for c, _ in cosines)}, lowest {worst[0]:.4f} ({worst[1]})")
    print(f"  top-1 class        same for {same} of {n} ({100 * same / n:.1f} %)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pixfly")
    parser.add_argument("collection", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = find_images(args.collection)
    cores = os.cpu_count() or 1
    size = sum(p.stat().st_size for _, p in files)
    print(f"{len(files)} files, {size / 1e6:.0f} MB, {cores} cores, {MODEL.stem}, batch {BATCH}; "
          f"onnxruntime {ort.__version__}, Pillow {Image.__version__}, numpy {np.__version__}")

    with tempfile.TemporaryDirectory() as scratch:
        pix_s, pix_n, _ = best_of(args.repeat, lambda out: pixfly_build(args.pixfly, args.collection, out)[0],
                                  scratch)
        fp32 = ["--precision", "fp32"]
        f32_s, f32_n, bundle = best_of(args.repeat, lambda out: pixfly_build(args.pixfly, args.collection, out, fp32)[0],
                                       scratch)
        seq_s, (names, results), _ = best_of(args.repeat, lambda out: python_embed(files, 0), scratch)
        par_s, (_, par_results), _ = best_of(args.repeat, lambda out: python_embed(files, cores), scratch)
        assert par_results.keys() == results.keys()
        n = len(results)
        rows = [("pixfly build", pix_s, pix_n), ("pixfly build --precision fp32", f32_s, f32_n),
                ("Python, sequential", seq_s, n),
                (f"Python, {cores} decode threads", par_s, n)]
        print(f"{'':30} {'images':>6} {'seconds':>8} {'images/s':>9} {'pixfly is':>10}")
        for name, seconds, count in rows:
            ratio = "" if name == "pixfly build" else f"{(pix_n / pix_s) / (count / seconds):.2f}x"
            print(f"{name:30} {count:6} {seconds:8.2f} {count / seconds:9.1f} {ratio:>10}")
        print(f"(best of {args.repeat}; pixfly's build also makes thumbnails and atlases and writes them, "
              f"a manifest and its caches: the Python only embeds)")
        skipped = len(set(names.values())) - n
        if skipped or pix_n != n:
            print(f"note: Pillow could not decode {skipped} distinct files; pixfly embedded {pix_n}, Python {n}")
        agreement(bundle, names, results)


if __name__ == "__main__":
    sys.exit(main())
