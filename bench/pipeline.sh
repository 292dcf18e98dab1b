#!/usr/bin/env bash
# Benchmark: the whole job, folder → viewable result, `pixfly build` (its default int8 network, and
# float) against the usual Python way doing the same work (onnxruntime + Pillow + umap-learn +
# scikit-learn's HDBSCAN, as PixPlot does), with the 15-NN label accuracy of both sides' vectors
# (bench/pipeline_vs_python.py). On the default collection and the emoji set. Arguments go to the
# Python script (e.g. --repeat 1). Figures go in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
scripts/setup.sh
collection=$(scripts/fetch-demo-collection.sh)
emoji=$(scripts/fetch-emoji.sh)

venv="$PIXFLY_CACHE/pipeline-venv"
requirements=(umap-learn==0.5.12 pynndescent==0.7.0 numba==0.68.1 llvmlite==0.50.0 scikit-learn==1.9.1
    scipy==1.17.1 numpy==2.2.6 onnxruntime==1.31.1 pillow==12.3.0)
ensure_venv "$venv" "${requirements[@]}"

cargo build --release --locked
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
echo "== default collection"
"$venv/bin/python" bench/pipeline_vs_python.py "$target_dir/release/pixfly" "$collection" "$collection/metadata.csv" "$@"
echo "== emoji"
"$venv/bin/python" bench/pipeline_vs_python.py "$target_dir/release/pixfly" "$emoji/64" "$emoji/categories.csv" "$@"
