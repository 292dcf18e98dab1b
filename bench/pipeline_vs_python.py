#!/usr/bin/env python3
"""The whole job, folder → viewable result: `pixfly build` against the usual Python way doing the
same work, in one run; and whether the vectors are as good.

Usage: pipeline_vs_python.py PIXFLY_BINARY COLLECTION LABELS.csv [--repeat N]

The Python way is PixPlot's: every distinct image file (in filename order, a content seen before
not decoded again) decoded with Pillow (JPEG drafts at the smallest scale that keeps what is
needed), by one thread per core; a 256 px thumbnail written as a JPEG, a 64 px atlas cell pasted
into 2048 px atlas JPEGs, and the picture pixfly's network sees (the centre crop, bicubic) run in
batches of 32 through onnxruntime with the float EfficientNet-Lite0 pixfly's set-up makes (one
intra-op thread per core, spinning off); then umap-learn (cosine, 15 neighbours, min_dist 0.1) in
2D and in 3D, and scikit-learn's HDBSCAN on the 2D layout (min_cluster_size 1 % of the images, at
least 5) for clusters; positions and clusters written as JSON. Same threads in all as pixfly.
umap-learn's numba compilation is done before the timed span (warm), so the comparison does not
count Python's start-up against it; the span starts before the session is loaded.

pixfly's build (its defaults: int8 network where the CPU has fast integer dot products) does more:
it also lays out a similarity grid, spread and metadata layouts, lists similar images and writes
its caches. Each contender runs `--repeat` times from a cold cache; the best run counts.

Quality: the 15-NN label accuracy of each side's vectors (cosine; each image's label is the
majority of its 15 nearest others' labels), over the images both embedded, with the labels of
LABELS.csv (`filename,category`, names relative to COLLECTION).
"""
import argparse
import csv
import io
import json
import math
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from embed_vs_python import (MODEL, Preprocessing, best_of, distinct, find_images, in_batches, in_order,
                             load_session, pixfly_build)
from pillow_common import upright_rgb

BATCH = 32
CELL, THUMB, ATLAS = 64, 256, 2048


def fit(im, side):
    w, h = im.size
    scale = side / max(w, h)
    return im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BICUBIC)


def python_job(files, out, cores):
    """Returns {filename: digest}, {digest: unit vector}."""
    import umap
    from sklearn.cluster import HDBSCAN

    (out / "thumbs").mkdir(parents=True)
    session = load_session()
    prep = Preprocessing(session)
    names, vectors, cells = {}, {}, []

    def prepare(item):
        digest, data = item
        try:
            im = Image.open(io.BytesIO(data))
            if im.format == "JPEG":
                w, h = im.size
                need = min(1.0, max(prep.min_short / min(w, h), THUMB / max(w, h)))
                im.draft("RGB", (math.ceil(w * need), math.ceil(h * need)))
            im = upright_rgb(im)
        except Exception:
            return digest, None, None
        fit(im, THUMB).save(out / "thumbs" / f"{digest}.jpg", quality=85)
        w, h = im.size
        side = min(w, h) * prep.crop
        left, top = (w - side) / 2, (h - side) / 2
        picture = im.resize((prep.size, prep.size), Image.BICUBIC, box=(left, top, left + side, top + side))
        return digest, fit(im, CELL), np.asarray(picture)

    def run(batch):
        digests, pictures = zip(*batch)
        v, _ = session.run(["embedding", "logits"], {"input": prep.batch(pictures)})
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        vectors.update(zip(digests, v))

    def decoded(prepared):
        for digest, cell, picture in prepared:
            if picture is not None:
                cells.append(cell)
                yield digest, picture

    with ThreadPoolExecutor(cores) as pool:
        for batch in in_batches(decoded(in_order(pool, prepare, distinct(files, names), 2 * BATCH))):
            run(batch)

    per_atlas = (ATLAS // CELL) ** 2
    for a in range(0, len(cells), per_atlas):
        atlas = Image.new("RGB", (ATLAS, ATLAS))
        for i, cell in enumerate(cells[a:a + per_atlas]):
            atlas.paste(cell, ((i % (ATLAS // CELL)) * CELL, (i // (ATLAS // CELL)) * CELL))
        atlas.save(out / f"atlas-{a // per_atlas}.jpg", quality=85)

    digests = list(vectors)
    x = np.stack([vectors[d] for d in digests])
    layouts = {f"umap{k}d": umap.UMAP(n_components=k, n_neighbors=15, min_dist=0.1, metric="cosine")
               .fit_transform(x) for k in (2, 3)}
    clusters = HDBSCAN(min_cluster_size=max(5, len(x) // 100), copy=True).fit_predict(layouts["umap2d"])
    (out / "layouts.json").write_text(json.dumps({
        "images": digests, "clusters": clusters.tolist(),
        **{name: np.round(p, 4).tolist() for name, p in layouts.items()}}))
    return names, vectors


def knn_accuracy(x, labels, k=15):
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    s = x @ x.T
    np.fill_diagonal(s, -np.inf)
    nearest = np.argpartition(-s, k, axis=1)[:, :k]
    _, codes = np.unique(labels, return_inverse=True)
    votes = np.apply_along_axis(lambda row: np.bincount(row, minlength=codes.max() + 1), 1, codes[nearest])
    return float(np.mean(votes.argmax(axis=1) == codes))


def bundle_vectors(bundle):
    manifest = json.loads((bundle / "manifest.json").read_text())
    rows = np.load(bundle / manifest["embedding"]["path"])
    return {image["filename"]: rows[i] for i, image in enumerate(manifest["images"])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pixfly")
    parser.add_argument("collection", type=Path)
    parser.add_argument("labels", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    files = find_images(args.collection)
    with open(args.labels, newline="") as f:
        labels = {row["filename"]: row["category"] for row in csv.DictReader(f)}
    cores = os.cpu_count() or 1
    print(f"{len(files)} files in {args.collection}, {cores} cores; Python: {MODEL.stem} (float), "
          f"onnxruntime {ort.__version__}, Pillow {Image.__version__}, numpy {np.__version__}")

    import umap  # numba's compilation, outside the timed span
    umap.UMAP(n_components=2, metric="cosine").fit_transform(np.random.default_rng(0).normal(size=(300, 16)))
    umap.UMAP(n_components=3, metric="cosine").fit_transform(np.random.default_rng(0).normal(size=(300, 16)))

    with tempfile.TemporaryDirectory() as scratch:
        runs = {}
        for name, extra in [("pixfly build", []), ("pixfly build --precision fp32", ["--precision", "fp32"])]:
            runs[name] = best_of(args.repeat, lambda out: pixfly_build(args.pixfly, args.collection, out, extra),
                                 scratch)
        py_s, (names, py_vectors), _ = best_of(args.repeat, lambda out: python_job(files, out, cores), scratch)

        print(f"{'':32} {'images':>6} {'seconds':>8} {'images/s':>9} {'÷ Python':>9}  15-NN accuracy")
        common = None
        for seconds, (n, model), bundle in runs.values():
            ours = bundle_vectors(bundle)
            names_here = [f for f in ours if f in labels and names.get(f) in py_vectors]
            common = names_here if common is None else [f for f in common if f in set(names_here)]
        y = np.array([labels[f] for f in common])
        py_acc = knn_accuracy(np.stack([py_vectors[names[f]] for f in common]), y)
        for name, (seconds, (n, model), bundle) in runs.items():
            ours = bundle_vectors(bundle)
            acc = knn_accuracy(np.stack([ours[f] for f in common]), y)
            print(f"{name:32} {n:6} {seconds:8.2f} {n / seconds:9.1f} {py_s / seconds:8.2f}x  "
                  f"{acc:.4f} ({model}; {acc - py_acc:+.4f} vs Python)")
        print(f"{'Python (PixPlot way)':32} {len(py_vectors):6} {py_s:8.2f} {len(py_vectors) / py_s:9.1f} "
              f"{'1.00x':>9}  {py_acc:.4f} ({MODEL.stem})")
        print(f"(best of {args.repeat}; accuracy over the {len(common)} labelled images all embedded)")


if __name__ == "__main__":
    sys.exit(main())
