#!/usr/bin/env bash
# What watching a folder assemble costs (`pixfly open`), on the default collection, as ratios
# against runs in this same script:
#   - time to the first images on screen after the app starts (cold: an empty bundle folder);
#   - `pixfly open` to a complete bundle ÷ `pixfly build` of the same folder (both cold), run in
#     turns PIXFLY_BENCH_REPEATS times (default 2: one run of each varies by ±10 % here);
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

builds=() opens=()
for turn in $(seq "${PIXFLY_BENCH_REPEATS:-2}"); do
    builds+=("$(seconds "$binary" build "${inputs[@]}" -o "$work/built$turn")")
    opens+=("$(seconds "${run[@]}" open "${inputs[@]}" -o "$work/opened$turn" --size 1280x720 \
        --screenshot "$work/opened$turn.png" --report "$work/opened$turn.json")")
done
first=$("${run[@]}" open "${inputs[@]}" -o "$work/first" --size 1280x720 --at images=1 \
    --screenshot "$work/first.png" --report "$work/first.json" >/dev/null 2>&1 && echo ok)
"${run[@]}" view "$work/opened1" --size 1280x720 --frames 60 --screenshot "$work/idle.png" \
    --report "$work/idle.json" >/dev/null 2>&1
cmp -s "$work/built1/manifest.json" "$work/opened1/manifest.json" && same=yes || same=NO
python3 - "$work" "$same" "${builds[*]}" "${opens[*]}" <<'PY'
import json, statistics, sys
work, same = sys.argv[1], sys.argv[2]
builds, opens = ([float(s) for s in arg.split()] for arg in sys.argv[3:5])
first = json.load(open(f"{work}/first.json"))
idle = statistics.median(json.load(open(f"{work}/idle.json"))["frame_seconds"])
assembling = [seconds for turn in range(1, len(opens) + 1)
              for seconds in json.load(open(f"{work}/opened{turn}.json"))["assembly"]["frame_seconds_while_assembling"]]
busy = statistics.median(assembling)
print(f"first images on screen      {first['first_images_after_seconds']:.2f} s after the app started (goal <= 1 s)")
turns = ", ".join(f"{o:.1f}/{b:.1f} s = {o / b:.2f}" for b, o in zip(builds, opens))
print(f"pixfly open ÷ build         {sum(opens) / sum(builds):.2f} over {len(builds)} turns ({turns}; goal <= 1.15); same manifest: {same}")
print(f"frame while assembling      {busy * 1000:.1f} ms median, {statistics.quantiles(assembling, n=20)[-1] * 1000:.1f} ms p95 over {len(assembling)} frames")
print(f"frame idle (view)           {idle * 1000:.1f} ms = {busy / idle:.2f}x idle (goal <= 1.5 on a GPU)")
PY
