"""pixfly's UMAP against umap-learn on the same data, in one run (see bench/umap.sh).

For each data set: umap-learn's wall time cold (first fit in a fresh process: imports and numba
compilation included) and warm (later fits in that process, best of two), pixfly's (best of two
runs of `cargo bench --bench umap`, stage by stage), and for both layouts sklearn's
trustworthiness (k = 15, on a 5,000-point sample) and the 15-NN label accuracy in 2D.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors


def gaussians(n=20_000, dims=256, components=20, seed=0):
    """A mixture of 20 unit Gaussians in 256 dimensions with standard-normal centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(components, dims))
    labels = rng.integers(components, size=n)
    return (centres[labels] + rng.normal(size=(n, dims))).astype(np.float32), labels


def fashion_mnist(folder):
    """All 70,000 Fashion-MNIST pictures as 784-long rows in 0..1, labelled by class file."""
    rows, labels = [], []
    for label in range(10):
        data = json.loads((Path(folder) / f"{label}.json").read_text())["data"]
        data = [row for row in data if len(row) == 784]  # 0.json also holds two empty rows
        rows.append(np.asarray(data, dtype=np.float32) / 255.0)
        labels.append(np.full(len(data), label))
    return np.concatenate(rows), np.concatenate(labels)


UMAP_LEARN = """
import sys, time
import numpy as np
start = time.perf_counter()
import umap
x = np.load(sys.argv[1])
times = []
for _ in range(3):
    t = time.perf_counter()
    layout = umap.UMAP(n_neighbors=15, min_dist=0.1).fit_transform(x)
    times.append(time.perf_counter() - t)
    if len(times) == 1:
        times[0] = time.perf_counter() - start
np.save(sys.argv[2], layout.astype(np.float32))
print(" ".join(f"{t:.3f}" for t in times))
"""


def run_umap_learn(data_path, work):
    out = work / "umap_learn.npy"
    result = subprocess.run([sys.executable, "-c", UMAP_LEARN, data_path, out], check=True, capture_output=True, text=True)
    cold, *warm = map(float, result.stdout.split())
    return {"cold": cold, "warm": min(warm)}, np.load(out)


def run_pixfly(data_path, work, runs=2, init="spectral"):
    env = dict(os.environ, PIXFLY_BENCH_INPUT=str(data_path), PIXFLY_BENCH_OUTPUT=str(work), PIXFLY_BENCH_INIT=init)
    best = None
    for _ in range(runs):
        result = subprocess.run(
            ["cargo", "bench", "--quiet", "--locked", "-p", "pixfly-core", "--bench", "umap"],
            check=True, capture_output=True, text=True, env=env,
        )
        times = json.loads(result.stdout.strip().splitlines()[-1])
        if best is None or times["total"] < best["total"]:
            best = times
    return best, np.load(work / "layout.npy"), np.load(work / "hotspots.npy"), np.load(work / "spread.npy")


def hotspot_quality(hotspots, labels):
    """Share of points in a hotspot, the hotspots' purity (share of members with their hotspot's
    most common label) and the adjusted Rand index against the labels on those points."""
    inside = hotspots >= 0
    if not inside.any():
        return 0.0, 0.0, 0.0
    majority = sum(np.bincount(labels[hotspots == h]).max() for h in np.unique(hotspots[inside]))
    return float(inside.mean()), majority / inside.sum(), adjusted_rand_score(labels[inside], hotspots[inside])


def quality(x, layout, labels, seed=0):
    sample = np.random.default_rng(seed).choice(len(x), size=min(5_000, len(x)), replace=False)
    trust = trustworthiness(x[sample], layout[sample], n_neighbors=15)
    _, neighbours = NearestNeighbors(n_neighbors=16).fit(layout).kneighbors(layout)
    votes = labels[neighbours[:, 1:]]
    predicted = np.array([np.bincount(v).argmax() for v in votes])
    return trust, float(np.mean(predicted == labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("fashion_mnist", help="folder with Fashion-MNIST's 0.json … 9.json")
    parser.add_argument("--only", choices=["gaussians", "fashion-mnist", "gaussians-100k"])
    parser.add_argument("--pixfly-only", action="store_true", help="skip umap-learn")
    parser.add_argument("--init", default="spectral", choices=["spectral", "pca"])
    args = parser.parse_args()
    sets = {"gaussians": gaussians, "fashion-mnist": lambda: fashion_mnist(args.fashion_mnist)}
    if args.only == "gaussians-100k":  # for the spread-out layout's time at 100,000 images
        sets["gaussians-100k"] = lambda: gaussians(n=100_000)
    rows = []
    for name, make in sets.items():
        if args.only and name != args.only:
            continue
        x, labels = make()
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            data_path = work / "data.npy"
            np.save(data_path, x)
            ours, our_layout, hotspots, spread = run_pixfly(data_path, work, init=args.init)
            theirs, their_layout = (None, None) if args.pixfly_only else run_umap_learn(data_path, work)
        our_trust, our_acc = quality(x, our_layout, labels)
        stages = ", ".join(f"{k} {v:.2f}" for k, v in ours.items() if k not in ("total", "init+sgd"))
        print(f"{name} {x.shape[0]}×{x.shape[1]}: pixfly {stages}", flush=True)
        spread_trust, spread_acc = quality(x, spread, labels)
        print(
            f"{name}: spread2d (every image in view) took {ours['spread2d']:.2f} s, "
            f"{ours['spread2d'] / ours['total']:.1%} of UMAP 2D's {ours['total']:.2f} s"
            + (f"; spread3d {ours['spread3d']:.2f} s, {ours['spread3d'] / ours['init+sgd3d']:.1%} of UMAP 3D's SGD" if "spread3d" in ours else "")
            + f"; trustworthiness {spread_trust:.4f} (UMAP 2D {our_trust:.4f}), "
            f"15-NN accuracy {spread_acc:.3f} (UMAP 2D {our_acc:.3f})",
            flush=True,
        )
        if theirs is None:
            continue
        their_trust, their_acc = quality(x, their_layout, labels)
        covered, purity, ari = hotspot_quality(hotspots, labels)
        print(
            f"{name}: {hotspots.max() + 1} hotspots hold {covered:.1%} of the points, purity {purity:.3f}, "
            f"adjusted Rand index {ari:.3f} against the labels",
            flush=True,
        )
        rows.append((name, x.shape, ours["total"], theirs, our_trust, their_trust, our_acc, their_acc))

    print()
    print("| data | pixfly s | umap-learn warm s | cold s | speed-up (warm) | trustworthiness pixfly / umap-learn | 15-NN accuracy pixfly / umap-learn |")
    print("|---|---|---|---|---|---|---|")
    for name, shape, ours, theirs, ot, tt, oa, ta in rows:
        print(
            f"| {name} {shape[0]:,}×{shape[1]} | {ours:.2f} | {theirs['warm']:.2f} | {theirs['cold']:.2f} | "
            f"{theirs['warm'] / ours:.2f}× | {ot:.4f} / {tt:.4f} | {oa:.3f} / {ta:.3f} |"
        )


if __name__ == "__main__":
    main()
