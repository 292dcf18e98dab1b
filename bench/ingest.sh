#!/usr/bin/env bash
# Benchmark: pixfly's ingest + atlas throughput on the default collection against Pillow doing
# the same work (single process and multiprocessing), in one run. Figures go in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
collection=$(scripts/fetch-demo-collection.sh)
venv="$PIXFLY_CACHE/bench-venv"
ensure_venv "$venv" pillow==12.3.0
cargo build --release --locked
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
"$venv/bin/python" bench/ingest_vs_pillow.py "$target_dir/release/pixfly" "$collection" "$@"
