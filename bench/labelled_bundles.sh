#!/usr/bin/env bash
# The three real collections the layout benchmarks measure, built end to end with the network
# (bench/first_view.sh, bench/umap_ablation.sh): the default one (Stellarium), Google's emoji
# (10 categories) and 10,000 Fashion-MNIST pictures (1,000 of each of 10 classes). Bundles go
# to $PIXFLY_CACHE/first-view (a rebuild redoes only what changed); prints that folder.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
stellarium=$(scripts/fetch-demo-collection.sh)
emoji=$(scripts/fetch-emoji.sh)
fashion=$(scripts/fetch-fashion-mnist.sh)

# 1,000 pictures of each class as PNGs (the first 1,000 in each class file), with their class.
pictures="$PIXFLY_CACHE/fashion-mnist-10k"
if [ ! -f "$pictures/.complete" ]; then
    rm -rf "$pictures" && mkdir -p "$pictures/png"
    python3 - "$fashion" "$pictures" <<'PY'
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

cargo build --locked --workspace >&2
pixfly="$CARGO_TARGET_DIR/debug/pixfly"
bundles="$PIXFLY_CACHE/first-view"
"$pixfly" build "$stellarium/nebulae" "$stellarium/skycultures" --metadata "$stellarium/metadata.csv" -o "$bundles/stellarium" >&2
"$pixfly" build "$emoji/64" --metadata "$emoji/categories.csv" -o "$bundles/emoji" >&2
"$pixfly" build "$pictures/png" --metadata "$pictures/categories.csv" -o "$bundles/fashion-mnist" >&2
echo "$bundles"
