#!/usr/bin/env bash
# Benchmark: the first view of every layout (bench/first_view.py) on three real collections:
# the default one (Stellarium), Google's emoji (10 categories) and 10,000 Fashion-MNIST
# pictures (1,000 of each of 10 classes), each built end to end with the network. Prints how
# much of a 1600 × 900 screen each layout's first view fills, and what spreading UMAP 2D out
# costs in trustworthiness and 15-NN category accuracy; then the spread-out layouts' time
# against UMAP's at 100,000 points (bench/umap_vs_umap_learn.py, pixfly only). README figures.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
scripts/install-viewer-deps.sh
stellarium=$(scripts/fetch-demo-collection.sh)
emoji=$(scripts/fetch-emoji.sh)
fashion=$(scripts/fetch-fashion-mnist.sh)
venv="$PIXFLY_CACHE/layout-venv"
ensure_venv "$venv" scikit-learn==1.9.1 scipy==1.17.1 numpy==2.2.6

# 1,000 pictures of each class as PNGs (the first 1,000 in each class file), with their class.
pictures="$PIXFLY_CACHE/fashion-mnist-10k"
if [ ! -f "$pictures/.complete" ]; then
    rm -rf "$pictures" && mkdir -p "$pictures/png"
    "$venv/bin/python" - "$fashion" "$pictures" <<'PY'
import json, struct, sys, zlib
from pathlib import Path
source, out = Path(sys.argv[1]), Path(sys.argv[2])
names = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
def png(pixels):  # 28 × 28 grey, as PNG
    rows = b"".join(b"\0" + bytes(pixels[r * 28:(r + 1) * 28]) for r in range(28))
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
with open(out / "categories.csv", "w") as csv:
    csv.write("filename,category\n")
    for label, name in enumerate(names):
        rows = [r for r in json.loads((source / f"{label}.json").read_text())["data"] if len(r) == 784][:1000]
        for i, row in enumerate(rows):
            filename = f"{label}-{i:04d}.png"
            (out / "png" / filename).write_bytes(png(row))
            csv.write(f"{filename},{name}\n")
PY
    touch "$pictures/.complete"
fi

cargo build --locked --workspace
pixfly="$CARGO_TARGET_DIR/debug/pixfly"
bundles="$PIXFLY_CACHE/first-view"
"$pixfly" build "$stellarium/nebulae" "$stellarium/skycultures" --metadata "$stellarium/metadata.csv" -o "$bundles/stellarium"
"$pixfly" build "$emoji/64" --metadata "$emoji/categories.csv" -o "$bundles/emoji"
"$pixfly" build "$pictures/png" --metadata "$pictures/categories.csv" -o "$bundles/fashion-mnist"
"$venv/bin/python" bench/first_view.py "$pixfly" "$bundles/shots" \
    "stellarium=$bundles/stellarium" "emoji=$bundles/emoji" "fashion-mnist=$bundles/fashion-mnist"

# The spread-out layouts' time at 100,000 points, against UMAP's in the same run.
cargo bench -p pixfly-core --bench umap --locked --no-run
PIXFLY_BENCH_3D=1 "$venv/bin/python" bench/umap_vs_umap_learn.py "$fashion" --only gaussians-100k --pixfly-only
