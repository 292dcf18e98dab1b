#!/usr/bin/env bash
# Benchmark: pixfly's UMAP against umap-learn on the same data in one run (bench/umap_vs_umap_learn.py):
# a 20,000 × 256 mixture of 20 Gaussians and Fashion-MNIST's 70,000 × 784 pictures. Wall time
# (umap-learn cold and warm), trustworthiness and 15-NN label accuracy for both. Arguments go
# to the Python script (e.g. --only fashion-mnist, --init pca). Figures go in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
fashion=$(scripts/fetch-fashion-mnist.sh)

venv="$PIXFLY_CACHE/umap-venv"
requirements=(umap-learn==0.5.12 pynndescent==0.7.0 numba==0.68.1 llvmlite==0.50.0 scikit-learn==1.9.1 scipy==1.17.1 numpy==2.2.6)
ensure_venv "$venv" "${requirements[@]}"

# Build once up front so the timed runs don't wait on the compiler.
cargo bench -p pixfly-core --bench umap --locked --no-run
"$venv/bin/python" bench/umap_vs_umap_learn.py "$fashion" "$@"
