#!/usr/bin/env bash
# What watching a folder assemble costs (`pixfly open`), on the default collection, as ratios
# against runs in this same script:
#   - time to the first images on screen after the app starts (cold: an empty bundle folder);
#   - `pixfly open` to a complete bundle ÷ `pixfly build` of the same folder (both cold);
#   - frame time while assembling ÷ frame time idle (`pixfly view` of the bundle it made).
# Here (no GPU) it renders with Mesa's lavapipe; PIXFLY_BENCH_GPU=1 on a GPU machine.
#     bench/open.sh [COLLECTION]
set -euo pipefail
cd "$(dirname "$0")/.."
collection=${1:-$(scripts/fetch-demo-collection.sh)}
inputs=("$collection/nebulae" "$collection/skycultures" --metadata "$collection/metadata.csv")
# PIXFLY_BENCH_PROFILE=dev uses the test build (dependencies optimised, pixfly itself not), built
# as `cargo test` builds it: `cargo build` would unify other features and build Bevy a second time.
profile=${PIXFLY_BENCH_PROFILE:-release}
if [ "$profile" = dev ]; then
    cargo test --workspace --locked --no-run -q
    binary=target/debug/pixfly
else
    cargo build --profile "$profile" --locked -q
    binary=target/$profile/pixfly
fi
[ -n "${CARGO_TARGET_DIR:-}" ] && binary=$CARGO_TARGET_DIR/${binary#target/}
work=${PIXFLY_BENCH_DIR:-/tmp/pixfly-bench-open}
rm -rf "$work" && mkdir -p "$work"
if [ -z "${PIXFLY_BENCH_GPU:-}" ]; then
    export WGPU_BACKEND=vulkan VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
fi
run=("$binary")
command -v xvfb-run >/dev/null && [ -z "${DISPLAY:-}" ] && run=(xvfb-run -a -s "-screen 0 1920x1080x24" "${run[@]}")
seconds() { local start=$EPOCHREALTIME; "$@" >/dev/null 2>&1; echo "$EPOCHREALTIME - $start" | bc; }

build_s=$(seconds "$binary" build "${inputs[@]}" -o "$work/built")
open_s=$(seconds "${run[@]}" open "${inputs[@]}" -o "$work/opened" --size 1280x720 \
    --screenshot "$work/opened.png" --report "$work/opened.json")
first=$("${run[@]}" open "${inputs[@]}" -o "$work/first" --size 1280x720 --at images=1 \
    --screenshot "$work/first.png" --report "$work/first.json" >/dev/null 2>&1 && echo ok)
"${run[@]}" view "$work/opened" --size 1280x720 --frames 60 --screenshot "$work/idle.png" \
    --report "$work/idle.json" >/dev/null 2>&1
cmp -s "$work/built/manifest.json" "$work/opened/manifest.json" && same=yes || same=NO
python3 - "$work" "$build_s" "$open_s" "$same" <<'PY'
import json, statistics, sys
work, build_s, open_s, same = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
first = json.load(open(f"{work}/first.json"))
opened = json.load(open(f"{work}/opened.json"))
idle = statistics.median(json.load(open(f"{work}/idle.json"))["frame_seconds"])
assembling = opened["assembly"]["frame_seconds_while_assembling"]
busy = statistics.median(assembling)
print(f"first images on screen      {first['first_images_after_seconds']:.2f} s after the app started (goal <= 1 s)")
print(f"pixfly build                {build_s:.1f} s")
print(f"pixfly open to the bundle   {open_s:.1f} s = {open_s / build_s:.2f}x build (goal <= 1.15); same manifest: {same}")
print(f"frame while assembling      {busy * 1000:.1f} ms median, {statistics.quantiles(assembling, n=20)[-1] * 1000:.1f} ms p95 over {len(assembling)} frames")
print(f"frame idle (view)           {idle * 1000:.1f} ms = {busy / idle:.2f}x idle (goal <= 1.5 on a GPU)")
PY
