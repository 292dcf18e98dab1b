#!/usr/bin/env bash
# Build the web viewer into web/dist: the viewer for wasm32 (profile `web`) twice, drawing with
# WebGL2 (pixfly_bg.wasm) and with WebGPU (pixfly-webgpu_bg.wasm; Bevy makes one or the other), their
# JavaScript glue from wasm-bindgen-cli (the exact version in Cargo.lock, built from crates.io),
# and the page, which loads the WebGPU build where the browser has WebGPU.
# Then `pixfly export-web BUNDLE -o SITE` puts it beside a bundle.
# No wasm-opt: measured on this viewer, -Oz took 4-7 minutes and cut the raw size by 17% but
# the gzipped size (what visitors download) by 0.1%. Instead the wasm is compressed once, at the
# highest settings, beside it (pixfly_bg.wasm.br and .gz) for hosts that serve such copies
# (`pixfly serve`, nginx's brotli_static / gzip_static, most CDNs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
target_dir="${CARGO_TARGET_DIR:-target}"
tools="${PIXFLY_TOOLS:-$HOME/.cache/pixfly/tools}"
out=web/dist

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
if ! "$tools/bin/wasm-bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
    echo "installing wasm-bindgen-cli $version into $tools" >&2
    cargo install --quiet wasm-bindgen-cli --version "$version" --root "$tools"
fi

mkdir -p "$out"
page=$(cat web/index.html)
kib() { echo $(($(stat -c %s "$1") / 1024)); }
# build NAME SIZE_ATTRIBUTE CARGO_FEATURE_ARGS...
build() {
    local name=$1 attribute=$2
    shift 2
    cargo build -p pixfly --target wasm32-unknown-unknown --profile web --locked "$@"
    "$tools/bin/wasm-bindgen" --target web --no-typescript --out-dir "$out" --out-name "$name" \
        "$target_dir/wasm32-unknown-unknown/web/pixfly.wasm"
    local wasm="$out/${name}_bg.wasm"
    # The page's progress bar counts the wasm's own bytes, whatever coding it travels in.
    page=$(sed "s/$attribute=\"[0-9]*\"/$attribute=\"$(stat -c %s "$wasm")\"/" <<<"$page")
    gzip -9 -n -c "$wasm" >"$wasm.gz"
    brotli_max "$wasm" >"$wasm.br"
    echo "web viewer in $out: ${name}_bg.wasm $(kib "$wasm") KiB ($(kib "$wasm.gz") KiB gzip, $(kib "$wasm.br") KiB brotli)" >&2
}
build pixfly data-wasm-bytes
build pixfly-webgpu data-webgpu-wasm-bytes --no-default-features --features webgpu
echo "$page" >"$out/index.html"
