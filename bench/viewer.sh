#!/usr/bin/env bash
# Frame-time benchmark of the viewer: synthetic bundles of 10k, 100k and 1M images (random
# positions, the demo bundle's real atlases reused), each rendered by `pixfly view --screenshot`;
# prints time to the first images (the first atlas drawn) and to all of them, frame time and
# atlas texture memory, with frame time as a ratio to the 10k run of the same script. Here (no
# GPU) it measures Mesa's lavapipe; on a GPU machine run it without the lavapipe variables.
#     bench/viewer.sh [SOURCE_BUNDLE] [COUNTS...]
set -euo pipefail
cd "$(dirname "$0")/.."
source=${1:-bundles/stellarium}
shift || true
counts=("${@:-10000 100000 1000000}")
[ -f "$source/manifest.json" ] || { echo "no bundle at $source: run scripts/demo.sh first" >&2; exit 1; }
# PIXFLY_BENCH_PROFILE=dev uses the test build (dependencies optimised, pixfly itself not).
profile=${PIXFLY_BENCH_PROFILE:-release}
cargo build --profile "$profile" --locked -q
binary=target/$([ "$profile" = dev ] && echo debug || echo "$profile")/pixfly
work=${PIXFLY_BENCH_DIR:-/tmp/pixfly-bench-viewer}
mkdir -p "$work"
if [ -z "${PIXFLY_BENCH_GPU:-}" ]; then
    export WGPU_BACKEND=vulkan VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
fi
run=("$binary")
command -v xvfb-run >/dev/null && [ -z "${DISPLAY:-}" ] && run=(xvfb-run -a -s "-screen 0 1920x1080x24" "${run[@]}")
for n in ${counts[*]}; do
    python3 bench/synthetic_bundle.py "$source" "$work/b$n" "$n"
    for layout in ball square; do
        "${run[@]}" view "$work/b$n" --layout "$layout" --size 1280x720 --frames 12 \
            --screenshot "$work/b$n-$layout.png" --report "$work/b$n-$layout.json" 2>/dev/null
    done
done
python3 - "$work" ${counts[*]} <<'PY'
import json, statistics, sys
work, counts = sys.argv[1], sys.argv[2:]
print(f"{'images':>9} {'layout':>7} {'first images s':>14} {'all images s':>13} {'frame ms':>9} {'fps':>6} {'vs 10k':>7} {'atlas MiB':>10}")
reference = {}
for n in counts:
    for layout in ["ball", "square"]:
        r = json.load(open(f"{work}/b{n}-{layout}.json"))
        frame = statistics.median(r["frame_seconds"])
        reference.setdefault(layout, frame)
        print(f"{int(n):>9} {layout:>7} {r['first_images_after_seconds']:>14.2f} {r['ready_after_seconds']:>13.2f} {frame * 1000:>9.1f} {1 / frame:>6.1f}"
              f" {frame / reference[layout]:>6.2f}x {r['atlas_texture_bytes'] / 2**20:>10.0f}")
PY
