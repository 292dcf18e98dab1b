#!/usr/bin/env bash
# Benchmark: where pixfly's UMAP and umap-learn's differ, stage by stage (bench/umap_ablation.py):
# each end to end, and hybrids taking the kNN graph, the fuzzy graph, the start or the SGD from
# the other, on Fashion-MNIST's 70,000 pictures (raw pixels, euclidean) and the network vectors
# of the emoji, 10,000 Fashion-MNIST pictures and the default collection (Stellarium; cosine),
# three seeds each. 15-NN label accuracy and trustworthiness against umap-learn's. Arguments go
# to the Python script (e.g. --seeds 42). Figures go in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
fashion=$(scripts/fetch-fashion-mnist.sh)
bundles=$(bench/labelled_bundles.sh)
venv="$PIXFLY_CACHE/umap-venv"
requirements=(umap-learn==0.5.12 pynndescent==0.7.0 numba==0.68.1 llvmlite==0.50.0 scikit-learn==1.9.1 scipy==1.17.1 numpy==2.2.6)
ensure_venv "$venv" "${requirements[@]}"
cargo bench -p pixfly-core --bench umap --locked --no-run
"$venv/bin/python" bench/umap_ablation.py --bundle "emoji=$bundles/emoji" \
    --bundle "fashion-mnist-vectors=$bundles/fashion-mnist" --bundle "stellarium=$bundles/stellarium" \
    --fashion-mnist "$fashion" "$@"
