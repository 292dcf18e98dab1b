#!/usr/bin/env bash
# Adding images to a bundle (placed among the old ones) against laying everything out afresh
# with warm caches, and how well the new images land (15-NN category accuracy in UMAP 2D):
# 2 % more Fashion-MNIST pictures (every 50th of 10,000 held back, then added), and one emoji
# category added to the others. Uses the bundles bench/first_view.sh built (their caches make
# decoding and the network free). README figures.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
bundles="$PIXFLY_CACHE/first-view"
for b in emoji fashion-mnist; do
    [ -f "$bundles/$b/manifest.json" ] || { echo "no $bundles/$b: run bench/first_view.sh first" >&2; exit 1; }
done
emoji=$(scripts/fetch-emoji.sh)
fashion="$PIXFLY_CACHE/fashion-mnist-10k"
cargo bench -p pixfly-core --bench update --locked --no-run
run() {
    PIXFLY_BENCH_FROM="$bundles/$1" PIXFLY_BENCH_IMAGES="$2" PIXFLY_BENCH_METADATA="$3" PIXFLY_BENCH_HOLD="$4" \
        cargo bench -p pixfly-core --bench update --locked -q 2>/dev/null | tail -1
}
echo "fashion-mnist 2%: $(run fashion-mnist "$fashion/png" "$fashion/categories.csv" every:50)"
echo "emoji + Food & Drink: $(run emoji "$emoji/64" "$emoji/categories.csv" "category:Food & Drink")"
