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
fashion=$(scripts/fetch-fashion-mnist.sh)
venv="$PIXFLY_CACHE/layout-venv"
ensure_venv "$venv" scikit-learn==1.9.1 scipy==1.17.1 numpy==2.2.6

bundles=$(bench/labelled_bundles.sh)
pixfly="$CARGO_TARGET_DIR/debug/pixfly"
"$venv/bin/python" bench/first_view.py "$pixfly" "$bundles/shots" \
    "stellarium=$bundles/stellarium" "emoji=$bundles/emoji" "fashion-mnist=$bundles/fashion-mnist"

# The spread-out layouts' time at 100,000 points, against UMAP's in the same run.
cargo bench -p pixfly-core --bench umap --locked --no-run
PIXFLY_BENCH_3D=1 "$venv/bin/python" bench/umap_vs_umap_learn.py "$fashion" --only gaussians-100k --pixfly-only
