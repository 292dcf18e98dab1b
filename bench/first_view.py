"""The first view of every layout, and what spreading UMAP out costs (see bench/first_view.sh).

For each bundle: each layout rendered by `pixfly view --screenshot --report` at 1600 × 900
without panels, and from the report's image quads the share of the screen covered by images,
the share of the images' area hidden under other images and the median image side; then, for
UMAP 2D, the similarity grid and the spread-out layout, sklearn's trustworthiness (k = 15, on up
to 5,000 images, against the bundle's vectors) and the 15-NN vote for the images' category.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors

WIDTH, HEIGHT = 1600, 900


def screenshot(pixfly, bundle, layout, out):
    env = dict(os.environ, WGPU_BACKEND="vulkan", VK_ICD_FILENAMES="/usr/share/vulkan/icd.d/lvp_icd.x86_64.json")
    png, report = out / f"{layout}.png", out / f"{layout}.json"
    command = [pixfly, "view", str(bundle), "--layout", layout, "--size", f"{WIDTH}x{HEIGHT}",
               "--screenshot", str(png), "--report", str(report)]
    if not os.environ.get("DISPLAY"):
        command = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24"] + command
    subprocess.run(command, check=True, env=env, capture_output=True)
    return json.loads(report.read_text())


def coverage(report):
    covered = np.zeros((HEIGHT, WIDTH), dtype=bool)
    area, sides = 0, []
    for image in report["images"]:
        x, y, hw, hh = image["x"], image["y"], image["half_width"], image["half_height"]
        sides.append(2 * max(hw, hh))
        x0, x1 = int(max(0, x - hw)), int(min(WIDTH, max(0, x + hw)))
        y0, y1 = int(max(0, y - hh)), int(min(HEIGHT, max(0, y + hh)))
        if x1 > x0 and y1 > y0:
            area += (x1 - x0) * (y1 - y0)
            covered[y0:y1, x0:x1] = True
    share = covered.sum()
    return share / covered.size, (1 - share / area) if area else 0.0, float(np.median(sides))


def read_layout(bundle, entry, n):
    return np.fromfile(bundle / entry["path"], dtype="<f4").reshape(n, 3)[:, : entry["dims"]]


def quality(vectors, layout, labels, seed=0):
    sample = np.random.default_rng(seed).choice(len(vectors), size=min(5_000, len(vectors)), replace=False)
    trust = trustworthiness(vectors[sample], layout[sample], n_neighbors=15)
    _, neighbours = NearestNeighbors(n_neighbors=16).fit(layout).kneighbors(layout)
    votes = labels[neighbours[:, 1:]]
    return trust, float(np.mean([np.bincount(v).argmax() == l for v, l in zip(votes, labels)]))


def main():
    pixfly, shots = sys.argv[1], Path(sys.argv[2])
    screens, scores = [], []
    for named in sys.argv[3:]:
        name, bundle = named.split("=", 1)
        bundle = Path(bundle)
        manifest = json.loads((bundle / "manifest.json").read_text())
        n = manifest["image_count"]
        out = shots / name
        out.mkdir(parents=True, exist_ok=True)
        for entry in manifest["layouts"]:
            covered, hidden, side = coverage(screenshot(pixfly, bundle, entry["name"], out))
            screens.append((name, n, entry["name"], covered, hidden, side))
            print(f"{name}: {entry['name']} covers {covered:.1%}, {hidden:.1%} hidden, median {side:.1f} px", flush=True)
        categories = [image.get("metadata", {}).get("category") for image in manifest["images"]]
        if None in categories:
            continue
        names = sorted(set(categories))
        labels = np.array([names.index(c) for c in categories])
        vectors = np.load(bundle / manifest["embedding"]["path"])
        layouts = {e["name"]: e for e in manifest["layouts"]}
        for layout in ("umap2d", "spread2d", "similarity-grid"):
            trust, accuracy = quality(vectors, read_layout(bundle, layouts[layout], n), labels)
            scores.append((name, n, len(names), layout, trust, accuracy))
            print(f"{name}: {layout} trustworthiness {trust:.4f}, 15-NN category accuracy {accuracy:.3f}", flush=True)

    print("\n| collection | layout | covered | hidden | median side |\n|---|---|---|---|---|")
    for name, n, layout, covered, hidden, side in screens:
        print(f"| {name} ({n:,}) | `{layout}` | {covered:.1%} | {hidden:.1%} | {side:.1f} px |")
    print("\n| collection | layout | trustworthiness (k = 15) | 15-NN category accuracy |\n|---|---|---|---|")
    base = {name: (trust, accuracy) for name, _, _, layout, trust, accuracy in scores if layout == "umap2d"}
    for name, n, classes, layout, trust, accuracy in scores:
        t0, a0 = base[name]
        print(f"| {name} ({n:,}, {classes} categories) | `{layout}` | {trust:.4f} ({trust - t0:+.4f}) | {accuracy:.3f} ({accuracy - a0:+.3f}) |")


if __name__ == "__main__":
    main()
