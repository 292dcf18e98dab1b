#!/usr/bin/env bash
# Benchmark: the embedding stage on the default collection, in one run.
#  1. cargo bench --bench embed: the network alone, int8 ÷ float (and lite2 int8 ÷ lite0 float);
#     build end to end, cold cache, int8 ÷ float; pipeline efficiency (build ÷ network alone).
#  2. bench/ort_session_options.py: ONNX Runtime's session options one at a time against pixfly's
#     (batch size, sessions × threads, pinning, spinning, graph optimization), float and int8.
#  3. bench/embed_vs_python.py: `pixfly build` against the usual Python way of embedding a folder
#     with the same model (onnxruntime + Pillow + numpy, sequential and with decoding threads),
#     and a check that the Python vectors and top classes agree with the bundle's.
# Arguments go to embed_vs_python.py (e.g. --repeat 2). Figures go in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
scripts/setup.sh
collection=$(scripts/fetch-demo-collection.sh)

# The bench venv is shared with bench/ingest.sh (which needs only Pillow): add what this needs.
venv="$PIXFLY_CACHE/bench-venv"
requirements=(pillow==12.3.0 onnxruntime==1.31.1 numpy==2.4.6)
ensure_venv "$venv" "${requirements[@]}"

cargo build --release --locked
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
echo "== cargo bench -p pixfly-core --bench embed"
PIXFLY_BENCH_COLLECTION="$collection" cargo bench -p pixfly-core --bench embed --locked
echo "== bench/ort_session_options.py"
"$PIXFLY_CACHE/model-venv/bin/python" -W ignore bench/ort_session_options.py "$collection/nebulae"
echo "== bench/embed_vs_python.py"
"$venv/bin/python" bench/embed_vs_python.py "$target_dir/release/pixfly" "$collection" "$@"
