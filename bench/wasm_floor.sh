#!/usr/bin/env bash
# The smallest wasm the design's stack makes: Bevy (the viewer's features and `web` profile),
# bevy_egui and bevy_panorbit_camera at the versions in Cargo.lock, in an app that shows one egui
# window (and, with bevy_pbr, one cube with Bevy's standard material) and nothing of pixfly. Its
# size beside the viewer's says how much of the viewer's download is pixfly's own code.
#     bench/wasm_floor.sh        (two builds of ~5 minutes each with a warm target folder)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
root=$PWD
target_dir="${CARGO_TARGET_DIR:-$root/target}"
tools="${PIXFLY_TOOLS:-$HOME/.cache/pixfly/tools}"
work=${PIXFLY_BENCH_DIR:-/tmp/pixfly-wasm-floor}
[ -x "$tools/bin/wasm-bindgen" ] || scripts/build-web.sh
mkdir -p "$work/src"
cp Cargo.lock "$work/"
bevy_features=$(sed -n 's/^bevy = .*features = \[\(.*\)\] }$/\1/p' Cargo.toml | sed 's/"bevy_pbr", //')
cat >"$work/Cargo.toml" <<EOF
[package]
name = "pixfly-wasm-floor"
version = "0.1.0"
edition = "2024"

[dependencies]
bevy = { version = "=0.19.1", default-features = false, features = [$bevy_features, "webgl2"] }
$(grep -E '^bevy_(egui|panorbit_camera) = ' Cargo.toml)

[features]
pbr = ["bevy/bevy_pbr"]

$(sed -n '/^\[profile.web\]/,/^panic/p' Cargo.toml)
EOF
cat >"$work/src/main.rs" <<'EOF'
use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass, egui};
use bevy_panorbit_camera::{PanOrbitCamera, PanOrbitCameraPlugin};

fn main() {
    let window = Window { canvas: Some("#pixfly".into()), fit_canvas_to_parent: true, ..default() };
    App::new()
        .add_plugins(DefaultPlugins.set(WindowPlugin { primary_window: Some(window), ..default() }))
        .add_plugins((EguiPlugin::default(), PanOrbitCameraPlugin))
        .add_systems(Startup, setup)
        .add_systems(EguiPrimaryContextPass, panel)
        .run();
}

fn setup(mut commands: Commands, #[cfg(feature = "pbr")] mut meshes: ResMut<Assets<Mesh>>,
         #[cfg(feature = "pbr")] mut materials: ResMut<Assets<StandardMaterial>>) {
    commands.spawn((Camera3d::default(), Transform::from_xyz(0.0, 0.0, 5.0), PanOrbitCamera::default()));
    #[cfg(feature = "pbr")]
    commands.spawn((Mesh3d(meshes.add(Cuboid::default())), MeshMaterial3d(materials.add(Color::WHITE))));
}

fn panel(mut contexts: EguiContexts) -> Result {
    egui::Window::new("pixfly").show(contexts.ctx_mut()?, |ui| ui.label("hello"));
    Ok(())
}
EOF
sizes() {
    printf '%10.2f %10.2f %10.2f\n' "$(stat -c %s "$1")e-6" "$(gzip -9 -n -c "$1" | wc -c)e-6" \
        "$(brotli_max "$1" | wc -c)e-6"
}
printf '%-40s %10s %10s %10s\n' "build" "raw MB" "gzip MB" "brotli MB"
for variant in "" pbr; do
    (cd "$work" && CARGO_TARGET_DIR="$target_dir" cargo build -q --profile web --target wasm32-unknown-unknown \
        ${variant:+--features $variant})
    "$tools/bin/wasm-bindgen" --target web --no-typescript --out-dir "$work/out" \
        "$target_dir/wasm32-unknown-unknown/web/pixfly-wasm-floor.wasm" 2>/dev/null
    printf '%-40s ' "Bevy + egui + panorbit${variant:+ + bevy_pbr}"
    sizes "$work/out/pixfly-wasm-floor_bg.wasm"
done
for wasm in web/dist/pixfly_bg.wasm web/dist/pixfly-webgpu_bg.wasm; do
    if [ -f "$wasm" ]; then
        printf '%-40s ' "pixfly's viewer: $(basename "$wasm")"
        sizes "$wasm"
    fi
done
