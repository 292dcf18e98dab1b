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
# A poster of the collection (a window on a desktop; Xvfb and Mesa's CPU Vulkan without one).
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    cargo run --release --locked -- view bundles/stellarium --screenshot bundles/stellarium-poster.png
else
    scripts/install-viewer-deps.sh
    WGPU_BACKEND=vulkan VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json \
        xvfb-run -a -s "-screen 0 1920x1080x24" \
        cargo run --release --locked -- view bundles/stellarium --screenshot bundles/stellarium-poster.png --size 1920x1080
fi
echo "poster: bundles/stellarium-poster.png; fly through it with: target/release/pixfly view bundles/stellarium"
