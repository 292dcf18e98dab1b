#!/usr/bin/env bash
# The main job on the default collection, no arguments: fetch Stellarium's ~1,280 astronomy
# photographs and star-atlas artworks (Debian's stellarium-data), then build bundles/stellarium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
collection=$(scripts/fetch-demo-collection.sh)
cargo run --release --locked -- build "$collection/nebulae" "$collection/skycultures" \
    --metadata "$collection/metadata.csv" -o bundles/stellarium
cargo run --release --locked -- info bundles/stellarium
