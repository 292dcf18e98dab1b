#!/usr/bin/env bash
# The web viewer's budgets: wasm size (raw and gzipped), time from opening the page to the first
# frame with images (the first atlas drawn) and to the complete picture, the longest the page was
# stuck meanwhile (its longest task), and frame time in headless Chromium (SwiftShader here, no
# GPU), with WebGL2 and with WebGPU, for synthetic bundles (the demo bundle's atlases reused),
# with ratios to the first row. Each page is loaded $PIXFLY_BENCH_LOADS times (3) per API and the
# median reported: single loads here vary by ±20%.
#     bench/web.sh [SOURCE_BUNDLE] [COUNTS...]      (default: bundles/stellarium 500 5000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
source=${1:-bundles/stellarium}
shift || true
counts=("${@:-500 5000 10000}")
[ -f "$source/manifest.json" ] || { echo "no bundle at $source: run scripts/demo.sh first" >&2; exit 1; }
[ -f web/dist/pixfly_bg.wasm ] || scripts/build-web.sh
cargo build --release --locked -q
work=${PIXFLY_BENCH_DIR:-/tmp/pixfly-bench-web}
mkdir -p "$work"
for wasm in web/dist/pixfly_bg.wasm web/dist/pixfly-webgpu_bg.wasm; do
    printf '%s: %.1f MB raw, %.1f MB gzipped\n' "$wasm" "$(stat -c %s $wasm)e-6" "$(gzip -9 -c $wasm | wc -c)e-6"
done
for n in ${counts[*]}; do
    python3 bench/synthetic_bundle.py "$source" "$work/b$n" "$n"
    target/release/pixfly export-web "$work/b$n" -o "$work/site$n" 2>/dev/null
    target/release/pixfly serve "$work/site$n" --port 0 >"$work/serve$n.txt" 2>/dev/null &
    server=$!
    sleep 1
    url=$(sed -n 's/.* at \(http[^ ]*\) .*/\1/p' "$work/serve$n.txt")
    rm -f "$work/b$n"-*.json
    for load in $(seq "${PIXFLY_BENCH_LOADS:-3}"); do
        for api in webgl2 webgpu; do
            # The browser offers WebGPU only when asked; the page then loads the WebGPU build.
            node web/tests/browser.mjs "${url}?layout=ball" "$work/b$n-$api.png" --size 1280x720 --frames 30 \
                $([ $api = webgpu ] && echo --webgpu) >"$work/b$n-$api-$load.json"
        done
    done
    kill $server
done
python3 - "$work" ${counts[*]} <<'PY'
import glob, json, statistics, sys
work, counts = sys.argv[1], sys.argv[2:]
print(f"{'images':>9} {'API':>7} {'first images s':>15} {'complete s':>11} {'vs first':>9} {'longest task ms':>16} {'frame ms':>9} {'fps':>6} {'vs first':>9}  loads")
base = None
for n in counts:
    for api in ["webgl2", "webgpu"]:
        loads = [json.load(open(f)) for f in sorted(glob.glob(f"{work}/b{n}-{api}-*.json"))]
        failed = [r["error"] for r in loads if r.get("error")]
        if failed:
            print(f"{n:>9} {api:>7} failed {len(failed)} of {len(loads)} loads: {failed[0]}")
            continue
        first = statistics.median(r["first_images_ms"] for r in loads) / 1000
        ready = statistics.median(r["complete_ms"] for r in loads) / 1000
        stuck = statistics.median(r["longest_task_while_loading_ms"] for r in loads)
        frame = statistics.median(t for r in loads for t in r["frame_ms"])
        base = base or (ready, frame)
        print(f"{int(n):>9} {api:>7} {first:>15.2f} {ready:>11.2f} {ready / base[0]:>8.2f}x {stuck:>16.0f} {frame:>9.1f} {1000 / frame:>6.1f} {frame / base[1]:>8.2f}x  {len(loads)}")
PY
