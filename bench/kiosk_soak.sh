#!/usr/bin/env bash
# A kiosk left alone: `pixfly kiosk` on the default collection through a simulated day (the
# clock advanced --step seconds a frame) of attract tours, random visitors and idle resets.
# Reports resident and texture memory at the end against after the first cycle (the first tour,
# visitor and idle reset, back home: goal within 5 %), also against after the first tour (before
# any visitor), and the errors logged (goal: none).
# Here (no GPU) it renders with Mesa's lavapipe; PIXFLY_BENCH_GPU=1 on a GPU machine.
#     bench/kiosk_soak.sh [HOURS] [BUNDLE]
set -euo pipefail
cd "$(dirname "$0")/.."
hours=${1:-24}
bundle=${2:-bundles/stellarium}
[ -f "$bundle/manifest.json" ] || { echo "no bundle at $bundle: run scripts/demo.sh first" >&2; exit 1; }
# PIXFLY_BENCH_PROFILE=dev uses the test build (dependencies optimised, pixfly itself not).
profile=${PIXFLY_BENCH_PROFILE:-release}
cargo build --profile "$profile" --locked -q
binary=target/$([ "$profile" = dev ] && echo debug || echo "$profile")/pixfly
[ -n "${CARGO_TARGET_DIR:-}" ] && binary=$CARGO_TARGET_DIR/${binary#target/}
work=${PIXFLY_BENCH_DIR:-/tmp/pixfly-bench-kiosk}
rm -rf "$work" && mkdir -p "$work"
if [ -z "${PIXFLY_BENCH_GPU:-}" ]; then
    export WGPU_BACKEND=vulkan VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
fi
run=("$binary")
command -v xvfb-run >/dev/null && [ -z "${DISPLAY:-}" ] && run=(xvfb-run -a -s "-screen 0 1920x1080x24" "${run[@]}")
start=$EPOCHREALTIME
"${run[@]}" kiosk "$bundle" --idle 90 --visitors-per-hour 6 --step "${PIXFLY_SOAK_STEP:-1}" \
    --after $((hours * 3600)) --size 960x540 --screenshot "$work/end.png" --report "$work/end.json" \
    2> "$work/log.txt"
wall=$(echo "$EPOCHREALTIME - $start" | bc)
python3 - "$work/end.json" "$hours" "$wall" <<'PY'
import json, sys
report, hours, wall = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3])
# Both at the same place in the tour (back at the whole view), so they compare.
tour, first, end = (report["memory_after_first_loop"], report["memory_after_first_cycle"],
                    report["memory_after_last_loop"])
print(f"kiosk soak: {hours:g} simulated hours in {wall:.0f} s, {report['loops']} tours, "
      f"{report['taps']} taps, {report['resets']} resets, {report['errors_logged']} errors logged")
for key, name in [("resident_bytes", "resident memory"), ("texture_bytes", "texture memory")]:
    ratio = end[key] / first[key]
    print(f"  {name}: {first[key] / 2**20:.1f} MiB after the first cycle, {end[key] / 2**20:.1f} MiB "
          f"after the last ({ratio:.3f}×; goal 0.95–1.05×); after the first tour "
          f"{tour[key] / 2**20:.1f} MiB ({end[key] / tour[key]:.3f}×)")
hourly = " ".join(f"{b / 2**20:.0f}" for b in report["resident_bytes_by_hour"])
print(f"  resident memory each hour (MiB): {hourly}")
print(f"  peak resident {report['peak_resident_bytes'] / 2**20:.1f} MiB; "
      f"{report['image_assets']} images, {report['mesh_assets']} meshes, {report['entities']} entities at the end")
PY
