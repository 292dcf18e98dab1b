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
        PIXFLY_BENCH_SEED="${5:-42}" cargo bench -p pixfly-core --bench update --locked -q 2>/dev/null | tail -1
}
echo "fashion-mnist 2%: $(run fashion-mnist "$fashion/png" "$fashion/categories.csv" every:50)"
# A whole category's placement varies with the layout's seed: three seeds, and their mean.
for seed in 42 7 1; do
    run emoji "$emoji/64" "$emoji/categories.csv" "category:Food & Drink" "$seed"
done | tee /dev/stderr | python3 -c '
import json, sys
runs = [json.loads(line) for line in sys.stdin]
ratio, placed, relaid = (sum(r[k] for r in runs) / len(runs) for k in ("ratio", "new_accuracy_placed", "new_accuracy_relayout"))
print(f"emoji + Food & Drink, mean of {len(runs)} seeds: add / relayout {ratio:.3f}, new images accuracy placed {placed:.3f} vs relayout {relaid:.3f} ({placed - relaid:+.3f})")'
